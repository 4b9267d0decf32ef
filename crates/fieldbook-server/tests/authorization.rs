//! The authorization matrix: every endpoint, called by every role, as owner and not owner,
//! over HTTP. Each refusal is proven (403, or 401 without a valid token), and each allowed call
//! gets past authorization.

mod support;

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::{Mutation, MutationOp, ResolvedBody};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Client, Server};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// tech1: the assignee of the work order under test.
    Owner,
    /// tech2: a technician of the same team, not the assignee.
    OtherTechnician,
    /// supervisor: the team's supervisor.
    TeamSupervisor,
    /// supervisor2: a supervisor of another team.
    OtherSupervisor,
    Admin,
    /// A revoked device's token.
    Revoked,
    /// No token at all.
    Anonymous,
}

const EVERYONE: [Who; 7] = [
    Who::Owner,
    Who::OtherTechnician,
    Who::TeamSupervisor,
    Who::OtherSupervisor,
    Who::Admin,
    Who::Revoked,
    Who::Anonymous,
];

struct World {
    server: Server,
    clients: Vec<(Who, Client)>,
    /// A work order assigned to tech1, with a photo stored on it.
    work_order: WorkOrderId,
    photo: BlobId,
    tech1: UserId,
    template: ChecklistTemplate,
    /// The hash of a signed report of another work order of tech1's.
    report: String,
}

impl World {
    async fn new() -> World {
        let server = Server::start().await;
        let owner = server.client("tech1").await;
        let revoked = server.client("tech1").await;
        let admin = server.client("admin").await;
        assert_eq!(admin.post(&format!("/v1/devices/{}/revoke", revoked.device_id), json!({})).await.0, StatusCode::OK);
        let bundle = owner
            .pull_all()
            .await
            .into_iter()
            .filter_map(|c| match c.body {
                ResolvedBody::WorkOrder { bundle } => Some(*bundle),
                _ => None,
            })
            .find(|b| b.work_order.status == WorkOrderStatus::Assigned)
            .unwrap();
        let work_order = bundle.work_order.id;
        // Owner sets off, arrives and attaches a photo.
        let photo_bytes = b"a photo of the control room".to_vec();
        let photo = BlobId::of_bytes(&photo_bytes);
        let response = owner
            .request(Method::PUT, &format!("/v1/blobs/{photo}?offset=0&total={}", photo_bytes.len()))
            .body(photo_bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mutations = vec![
            Mutation {
                seq: 1,
                id: MutationId::new(),
                hlc: fieldbook_domain::Hlc::default(),
                op: MutationOp::Status(fieldbook_protocol::StatusStep {
                    work_order_id: work_order,
                    action: StatusAction::SetOff,
                    at: Utc::now(),
                }),
            },
            Mutation {
                seq: 2,
                id: MutationId::new(),
                hlc: fieldbook_domain::Hlc::default(),
                op: MutationOp::Status(fieldbook_protocol::StatusStep {
                    work_order_id: work_order,
                    action: StatusAction::Arrive,
                    at: Utc::now(),
                }),
            },
            Mutation {
                seq: 3,
                id: MutationId::new(),
                hlc: fieldbook_domain::Hlc::default(),
                op: MutationOp::Photo(Photo {
                    blob: photo.clone(),
                    work_order_id: work_order,
                    item_key: None,
                    caption: String::new(),
                    taken_at: Utc::now(),
                }),
            },
            // Arriving twice is refused: the one conflict of this world.
            Mutation {
                seq: 4,
                id: MutationId::new(),
                hlc: fieldbook_domain::Hlc::default(),
                op: MutationOp::Status(fieldbook_protocol::StatusStep {
                    work_order_id: work_order,
                    action: StatusAction::Arrive,
                    at: Utc::now(),
                }),
            },
        ];
        let (status, body) = owner.post("/v1/sync/push", json!({"mutations": mutations})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let tech1 = owner.user.id;
        let clients = vec![
            (Who::Owner, owner),
            (Who::OtherTechnician, server.client("tech2").await),
            (Who::TeamSupervisor, server.client("supervisor").await),
            (Who::OtherSupervisor, server.client("supervisor2").await),
            (Who::Admin, admin),
            (Who::Revoked, revoked),
            (Who::Anonymous, Client::anonymous(&server.base)),
        ];
        let mut world = World {
            server,
            clients,
            work_order,
            photo,
            tech1,
            template: templates::printer_office(),
            report: String::new(),
        };
        let signed_on: WorkOrderId = world.fresh_work_order().await.parse().unwrap();
        world.report = world.client(Who::Owner).sign_visit(signed_on, 5).await.report.hash;
        world
    }

    fn client(&self, who: Who) -> &Client {
        &self.clients.iter().find(|(w, _)| *w == who).unwrap().1
    }

    /// A new-work-order request at the test work order's site, assigned to tech1.
    async fn new_work_order_request(&self) -> Value {
        let (_, existing) = self.client(Who::TeamSupervisor).get(&format!("/v1/work-orders/{}", self.work_order)).await;
        json!({
            "customer_id": existing["customer_id"], "site_id": existing["site_id"], "asset_id": null,
            "contact": {"name": "王经理", "phone": "13800000000"}, "kind": "repair", "fault_level": "major",
            "symptom": "无图像", "reported_by": "电话", "assignee": self.tech1, "billing": "contract",
            "scheduled_for": null, "template_id": null, "reported_at": null
        })
    }

    /// A fresh work order assigned to tech1, made by the team's supervisor.
    async fn fresh_work_order(&self) -> String {
        let request = self.new_work_order_request().await;
        let (status, created) = self.client(Who::TeamSupervisor).post("/v1/work-orders", request).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }
}

/// Calls one endpoint as `who`; returns the status.
type Call = for<'a> fn(&'a World, Who) -> std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + 'a>>;

/// Endpoints whose refusal must look like a missing thing (404), so that it tells nobody
/// whether the thing exists: a photo or signature by its hash.
const REFUSED_AS_MISSING: &[&str] = &["GET /v1/blobs/{id}"];

struct Row {
    endpoint: &'static str,
    allowed: &'static [Who],
    call: Call,
}

/// A new quarterly patrol of the work order's site, for tech1.
async fn schedule_body(world: &World) -> Value {
    let work_order = world.server.db.work_order(world.work_order).await.unwrap().unwrap();
    json!({
        "id": fieldbook_domain::ScheduleId::new(),
        "customer_id": work_order.customer_id,
        "site_id": work_order.site_id,
        "asset_id": null,
        "kind": "patrol",
        "template_id": null,
        "every": "quarterly",
        "first_due": chrono::Utc::now() + chrono::Duration::days(60),
        "lead_days": 14,
        "assignee": world.tech1,
        "contact": {"name": "值班室", "phone": "0574-1"},
        "instructions": "",
    })
}

async fn send(world: &World, who: Who, method: Method, path: String, body: Option<Value>) -> StatusCode {
    world.client(who).send(method, &path, body).await.0
}

fn rows() -> Vec<Row> {
    use Who::*;
    vec![
        Row {
            endpoint: "GET /v1/work-orders",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/work-orders".into(), None)),
        },
        Row {
            endpoint: "GET /v1/work-orders/{id}",
            allowed: &[Owner, TeamSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, format!("/v1/work-orders/{}", w.work_order), None)),
        },
        Row {
            endpoint: "GET /v1/work-orders/{id}/reports",
            allowed: &[Owner, TeamSupervisor, Admin],
            call: |w, who| {
                Box::pin(send(w, who, Method::GET, format!("/v1/work-orders/{}/reports", w.work_order), None))
            },
        },
        Row {
            endpoint: "GET /v1/reports/{hash}",
            allowed: &[Owner, TeamSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, format!("/v1/reports/{}", w.report), None)),
        },
        Row {
            endpoint: "POST /v1/work-orders",
            allowed: &[TeamSupervisor],
            call: |w, who| {
                Box::pin(async move {
                    let request = w.new_work_order_request().await;
                    send(w, who, Method::POST, "/v1/work-orders".into(), Some(request)).await
                })
            },
        },
        Row {
            endpoint: "PATCH /v1/work-orders/{id}",
            allowed: &[TeamSupervisor],
            call: |w, who| {
                Box::pin(async move {
                    let id = w.fresh_work_order().await;
                    send(
                        w,
                        who,
                        Method::PATCH,
                        format!("/v1/work-orders/{id}"),
                        Some(json!({"instructions": "带梯子"})),
                    )
                    .await
                })
            },
        },
        Row {
            endpoint: "POST /v1/work-orders/{id}/assign",
            allowed: &[TeamSupervisor],
            call: |w, who| {
                Box::pin(async move {
                    let id = w.fresh_work_order().await;
                    send(
                        w,
                        who,
                        Method::POST,
                        format!("/v1/work-orders/{id}/assign"),
                        Some(json!({"assignee": w.tech1})),
                    )
                    .await
                })
            },
        },
        Row {
            endpoint: "POST /v1/work-orders/{id}/cancel",
            allowed: &[TeamSupervisor],
            call: |w, who| {
                Box::pin(async move {
                    let id = w.fresh_work_order().await;
                    send(
                        w,
                        who,
                        Method::POST,
                        format!("/v1/work-orders/{id}/cancel"),
                        Some(json!({"reason": "重复报修"})),
                    )
                    .await
                })
            },
        },
        // Review of a visit still on site: allowed callers pass authorization and meet the
        // state machine (409); the others are refused first.
        Row {
            endpoint: "POST /v1/work-orders/{id}/review",
            allowed: &[TeamSupervisor],
            call: |w, who| {
                Box::pin(send(
                    w,
                    who,
                    Method::POST,
                    format!("/v1/work-orders/{}/review", w.work_order),
                    Some(json!({"decision": "approve"})),
                ))
            },
        },
        Row {
            endpoint: "POST /v1/sync/push",
            // A supervisor's device pushes too (dispatch steps); each mutation is then checked
            // on its own and a foreign one is kept as a refused conflict.
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor],
            call: |w, who| {
                Box::pin(async move {
                    let (_, devices) = w.client(Admin).get("/v1/devices").await;
                    let me = &w.client(who).device_id;
                    let last = devices
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|d| d["id"] == me.as_str())
                        .map_or(0, |d| d["last_seq"].as_u64().unwrap());
                    let note = Note {
                        id: NoteId::new(),
                        work_order_id: w.work_order,
                        author: None,
                        text: "x".into(),
                        written_at: Utc::now(),
                    };
                    let m = Mutation {
                        seq: last + 1,
                        id: MutationId::new(),
                        hlc: fieldbook_domain::Hlc::default(),
                        op: MutationOp::Note(note),
                    };
                    send(w, who, Method::POST, "/v1/sync/push".into(), Some(json!({"mutations": [m]}))).await
                })
            },
        },
        Row {
            endpoint: "GET /v1/sync/pull",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/sync/pull".into(), None)),
        },
        Row {
            endpoint: "GET /v1/sync/pull/stream",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/sync/pull/stream".into(), None)),
        },
        Row {
            endpoint: "POST /v1/blobs/missing",
            allowed: &[Owner, OtherTechnician],
            call: |w, who| {
                Box::pin(send(w, who, Method::POST, "/v1/blobs/missing".into(), Some(json!({"ids": [w.photo]}))))
            },
        },
        Row {
            endpoint: "PUT /v1/blobs/{id}",
            allowed: &[Owner, OtherTechnician],
            call: |w, who| {
                Box::pin(async move {
                    let bytes = format!("chunk from {who:?}").into_bytes();
                    let id = BlobId::of_bytes(&bytes);
                    w.client(who)
                        .request(Method::PUT, &format!("/v1/blobs/{id}?offset=0&total={}", bytes.len()))
                        .body(bytes)
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            },
        },
        Row {
            endpoint: "GET /v1/blobs/{id}/status",
            allowed: &[Owner, OtherTechnician],
            call: |w, who| Box::pin(send(w, who, Method::GET, format!("/v1/blobs/{}/status", w.photo), None)),
        },
        Row {
            endpoint: "GET /v1/blobs/{id}",
            allowed: &[Owner, TeamSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, format!("/v1/blobs/{}", w.photo), None)),
        },
        Row {
            endpoint: "GET /v1/templates",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/templates".into(), None)),
        },
        Row {
            endpoint: "POST /v1/templates",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let mut t = w.template.clone();
                    t.id = TemplateId::new();
                    t.version = 100 + who as u32;
                    send(w, who, Method::POST, "/v1/templates".into(), Some(serde_json::to_value(&t).unwrap())).await
                })
            },
        },
        Row {
            endpoint: "GET /v1/parts",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/parts".into(), None)),
        },
        Row {
            endpoint: "PUT /v1/parts",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(send(
                    w,
                    who,
                    Method::PUT,
                    "/v1/parts".into(),
                    Some(
                        json!({"part_number": "P-1", "name": "保险丝", "needs_customer_approval": false, "unit_price_cents": 100}),
                    ),
                ))
            },
        },
        Row {
            endpoint: "GET /v1/policies",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/policies".into(), None)),
        },
        Row {
            endpoint: "POST /v1/policies",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(send(
                    w,
                    who,
                    Method::POST,
                    "/v1/policies".into(),
                    Some(serde_json::to_value(ServicePolicy::standard(PolicyId::new())).unwrap()),
                ))
            },
        },
        Row {
            endpoint: "GET /v1/schedules",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/schedules".into(), None)),
        },
        Row {
            // Assigned to tech1: their supervisor and an admin only.
            endpoint: "POST /v1/schedules",
            allowed: &[TeamSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let body = schedule_body(w).await;
                    send(w, who, Method::POST, "/v1/schedules".into(), Some(body)).await
                })
            },
        },
        Row {
            endpoint: "PUT /v1/schedules/{id}/active",
            allowed: &[TeamSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let body = schedule_body(w).await;
                    let (status, made) = w.client(Who::Admin).post("/v1/schedules", body).await;
                    assert_eq!(status, StatusCode::CREATED, "{made}");
                    let path = format!("/v1/schedules/{}/active", made["schedule"]["id"].as_str().unwrap());
                    send(w, who, Method::PUT, path, Some(json!({"active": false}))).await
                })
            },
        },
        Row {
            endpoint: "GET /v1/dispatch/reference",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/dispatch/reference".into(), None)),
        },
        Row {
            endpoint: "GET /v1/customers",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/customers".into(), None)),
        },
        Row {
            endpoint: "POST /v1/customers",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let policy = w.server.db.policies().await.unwrap()[0].id;
                    send(
                        w,
                        who,
                        Method::POST,
                        "/v1/customers".into(),
                        Some(json!({"name": "新客户", "address": "地址", "policy_id": policy})),
                    )
                    .await
                })
            },
        },
        Row {
            endpoint: "POST /v1/sites",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let customer = w.server.db.customers().await.unwrap()[0].id;
                    send(
                        w,
                        who,
                        Method::POST,
                        "/v1/sites".into(),
                        Some(json!({"customer_id": customer, "name": "新现场", "address": ""})),
                    )
                    .await
                })
            },
        },
        Row {
            endpoint: "POST /v1/assets",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let (_, wo) = w.client(TeamSupervisor).get(&format!("/v1/work-orders/{}", w.work_order)).await;
                    send(w, who, Method::POST, "/v1/assets".into(), Some(json!({"site_id": wo["site_id"], "model": "UPS", "serial": "", "location": "", "warranty_end": null}))).await
                })
            },
        },
        Row {
            endpoint: "GET /v1/users",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/users".into(), None)),
        },
        Row {
            endpoint: "POST /v1/users",
            allowed: &[Admin],
            call: |w, who| {
                Box::pin(send(
                    w,
                    who,
                    Method::POST,
                    "/v1/users".into(),
                    Some(
                        json!({"username": format!("u{}", who as u8), "password": "long enough pw", "name": "新人", "staff_no": "N1", "role": "technician", "supervisor_id": null}),
                    ),
                ))
            },
        },
        Row {
            endpoint: "POST /v1/users/{id}/disable",
            allowed: &[Admin],
            call: |w, who| {
                Box::pin(async move {
                    let (_, user) = w.client(Admin).post("/v1/users", json!({"username": format!("d{}", who as u8), "password": "long enough pw", "name": "临时", "staff_no": "D", "role": "technician", "supervisor_id": null})).await;
                    send(
                        w,
                        who,
                        Method::POST,
                        format!("/v1/users/{}/disable", user["id"].as_str().unwrap()),
                        Some(json!({})),
                    )
                    .await
                })
            },
        },
        Row {
            endpoint: "POST /v1/users/{id}/enable",
            allowed: &[Admin],
            call: |w, who| {
                Box::pin(send(w, who, Method::POST, format!("/v1/users/{}/enable", w.tech1), Some(json!({}))))
            },
        },
        Row {
            endpoint: "GET /v1/conflicts",
            allowed: &[Owner, OtherTechnician, TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/conflicts".into(), None)),
        },
        Row {
            endpoint: "POST /v1/conflicts/{id}/resolve",
            allowed: &[TeamSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    // A conflict of tech1's, whom the team's supervisor supervises.
                    let (_, all) = w.client(Admin).get("/v1/conflicts").await;
                    let tech1 = w.tech1.to_string();
                    let of_tech1 = all.as_array().unwrap().iter().find(|c| c["user_id"] == tech1.as_str());
                    let id = of_tech1.and_then(|c| c["id"].as_i64()).expect("the world holds a conflict of tech1's");
                    send(w, who, Method::POST, format!("/v1/conflicts/{id}/resolve"), Some(json!({}))).await
                })
            },
        },
        Row {
            endpoint: "GET /v1/devices",
            allowed: &[TeamSupervisor, OtherSupervisor, Admin],
            call: |w, who| Box::pin(send(w, who, Method::GET, "/v1/devices".into(), None)),
        },
        Row {
            endpoint: "POST /v1/devices/{id}/revoke",
            // tech3's lost tablet: their supervisor or an admin.
            allowed: &[TeamSupervisor, Admin],
            call: |w, who| {
                Box::pin(async move {
                    let victim = w.server.client("tech3").await;
                    send(w, who, Method::POST, format!("/v1/devices/{}/revoke", victim.device_id), Some(json!({})))
                        .await
                })
            },
        },
    ]
}

#[tokio::test]
async fn every_endpoint_refuses_everyone_it_should() {
    let world = World::new().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows() {
        for who in EVERYONE {
            let status = (row.call)(&world, who).await;
            let allowed = row.allowed.contains(&who);
            let expected_refusal = match who {
                Who::Revoked | Who::Anonymous => StatusCode::UNAUTHORIZED,
                _ if REFUSED_AS_MISSING.contains(&row.endpoint) => StatusCode::NOT_FOUND,
                _ => StatusCode::FORBIDDEN,
            };
            let ok = if allowed {
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && !status.is_server_error()
            } else {
                status == expected_refusal
            };
            if !ok {
                failures.push(format!("{} as {who:?}: {status} (allowed: {allowed})", row.endpoint));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    // Every documented /v1 operation is in the matrix.
    let doc = fieldbook_server::openapi();
    let mut documented = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() && path.starts_with("/v1/") && path != "/v1/enroll" {
                documented.push(format!("{method} {path}"));
            }
        }
    }
    let covered: Vec<&str> = rows().iter().map(|r| r.endpoint).collect();
    for endpoint in &documented {
        assert!(covered.contains(&endpoint.as_str()), "{endpoint} is missing from the authorization matrix");
    }
}

#[tokio::test]
async fn conflicts_are_shown_to_the_technician_and_their_supervisor_only() {
    let world = World::new().await;
    let count = |who: Who| {
        let world = &world;
        async move {
            let (status, body) = world.client(who).get("/v1/conflicts").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array().unwrap().clone()
        }
    };
    let own = count(Who::Owner).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["local"]["type"], "status");
    assert_eq!(own[0]["server"]["status"], "on_site", "the server's side is shown beside the device's");
    assert!(own[0]["resolved_at"].is_null());
    assert_eq!(count(Who::TeamSupervisor).await.len(), 1);
    assert_eq!(count(Who::Admin).await.len(), 1);
    assert!(count(Who::OtherTechnician).await.is_empty());
    assert!(count(Who::OtherSupervisor).await.is_empty());
    // The supervisor marks it dealt with; it stays on record, and leaves the unresolved list.
    let id = own[0]["id"].as_i64().unwrap();
    let (status, resolved) =
        world.client(Who::TeamSupervisor).post(&format!("/v1/conflicts/{id}/resolve"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert!(resolved["resolved_at"].is_string());
    let (_, open) = world.client(Who::Owner).get("/v1/conflicts?unresolved=true").await;
    assert!(open.as_array().unwrap().is_empty());
    assert_eq!(count(Who::Owner).await.len(), 1);
    let (status, _) = world.client(Who::TeamSupervisor).post("/v1/conflicts/999999/resolve", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listings_show_each_role_only_its_own_scope() {
    let world = World::new().await;
    let (_, own) = world.client(Who::Owner).get("/v1/work-orders").await;
    let own = own.as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own.iter().all(|w| w["assignee"] == world.tech1.to_string()));
    let (status, _) = world
        .client(Who::Owner)
        .get(&format!("/v1/work-orders?assignee={}", world.client(Who::OtherTechnician).user.id))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, team) = world.client(Who::TeamSupervisor).get("/v1/work-orders").await;
    assert!(team.as_array().unwrap().len() > own.len());
    let (_, other) = world.client(Who::OtherSupervisor).get("/v1/work-orders").await;
    assert!(
        other.as_array().unwrap().iter().all(|w| w["assignee"].is_null()),
        "another team's supervisor sees only unassigned work"
    );
    // Devices likewise: a supervisor sees their team's and their own, an admin every one.
    let tech1 = world.tech1.to_string();
    let (_, all) = world.client(Who::Admin).get("/v1/devices").await;
    let (_, team) = world.client(Who::TeamSupervisor).get("/v1/devices").await;
    let (_, other) = world.client(Who::OtherSupervisor).get("/v1/devices").await;
    let holds_tech1 =
        |list: &serde_json::Value| list.as_array().unwrap().iter().any(|d| d["user_id"] == tech1.as_str());
    assert!(holds_tech1(&all) && holds_tech1(&team) && !holds_tech1(&other));
    let other_id = world.client(Who::OtherSupervisor).user.id.to_string();
    assert!(other.as_array().unwrap().iter().all(|d| d["user_id"] == other_id.as_str()), "{other}");
}
