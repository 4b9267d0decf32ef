//! The server over HTTP on a loopback port, with a real SQLite file: every endpoint's happy
//! path, the sync guarantees (idempotent pushes, gaps refused, ordered pulls, reassignment),
//! and bad input answered with `{code, message}` and no change.

mod support;

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_protocol::{Mutation, MutationOp, PROTOCOL_VERSION, ResolvedBody, StatusStep, WorkOrderBundle};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Client, Server};

/// The newest state of each work order in a pulled stream, minus removed ones.
fn current(changes: &[fieldbook_protocol::ResolvedChange]) -> std::collections::BTreeMap<WorkOrderId, WorkOrderBundle> {
    let mut map = std::collections::BTreeMap::new();
    for change in changes {
        match &change.body {
            ResolvedBody::WorkOrder { bundle } => {
                map.insert(bundle.work_order.id, (**bundle).clone());
            }
            ResolvedBody::Removed { work_order_id } => {
                map.remove(work_order_id);
            }
            ResolvedBody::Record { .. } => {}
        }
    }
    map
}

/// An assigned work order of `client` with a checklist.
async fn assigned_with_checklist(client: &Client) -> WorkOrderBundle {
    current(&client.pull_all().await)
        .into_values()
        .find(|b| b.work_order.status == WorkOrderStatus::Assigned && b.template.is_some())
        .expect("the demo gives each technician an assigned work order with a checklist")
}

fn step(seq: u64, work_order_id: WorkOrderId, action: StatusAction) -> Mutation {
    Mutation {
        seq,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::Status(StatusStep { work_order_id, action, at: Utc::now() }),
    }
}

fn note(seq: u64, work_order_id: WorkOrderId, text: &str) -> Mutation {
    Mutation {
        seq,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::Note(Note {
            id: NoteId::new(),
            work_order_id,
            author: None,
            text: text.into(),
            written_at: Utc::now(),
        }),
    }
}

fn answer(seq: u64, bundle: &WorkOrderBundle, item: &ChecklistItem) -> Mutation {
    let answer = match &item.kind {
        ItemKind::Check => Answer::Check(CheckOutcome::Normal),
        ItemKind::Reading { min, .. } => Answer::Reading(min.unwrap_or(1.0)),
        ItemKind::Text => Answer::Text("1234.5 kWh".into()),
        ItemKind::Photo => Answer::PhotoAttached,
    };
    let assessment = bundle.template.as_ref().unwrap().assess(&item.key, &answer).unwrap();
    Mutation {
        seq,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::InspectionResult(InspectionResult {
            id: ResultId::new(),
            work_order_id: bundle.work_order.id,
            item_key: item.key.clone(),
            answer,
            assessment,
            note: String::new(),
            recorded_at: Utc::now(),
            hlc: fieldbook_domain::Hlc::at(Utc::now().timestamp_millis()),
            supersedes: None,
        }),
    }
}

async fn push(client: &Client, mutations: &[Mutation]) -> (StatusCode, Value) {
    client.post("/v1/sync/push", json!({ "mutations": mutations })).await
}

async fn upload(client: &Client, bytes: &[u8], chunk: usize) -> BlobId {
    let id = BlobId::of_bytes(bytes);
    for (i, part) in bytes.chunks(chunk).enumerate() {
        let response = client
            .request(Method::PUT, &format!("/v1/blobs/{id}?offset={}&total={}", i * chunk, bytes.len()))
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    }
    id
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let server = Server::start().await;
    let anonymous = Client::anonymous(&server.base);
    let (status, body) = anonymous.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["protocol"], PROTOCOL_VERSION);
    let (status, doc) = anonymous.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/enroll",
        "/v1/sync/push",
        "/v1/sync/pull",
        "/v1/blobs/{id}",
        "/v1/work-orders/{id}/review",
        "/v1/devices/{id}/revoke",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let tech = server.client("tech1").await;
    tech.pull_all().await;
    let metrics = Server::http().get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("fieldbook_http_requests_total"), "{metrics}");
    assert!(metrics.contains("fieldbook_sync_pulls_total"));
}

#[tokio::test]
async fn a_whole_visit_syncs_and_a_second_device_of_the_technician_receives_it() {
    let server = Server::start().await;
    let tablet = server.client("tech1").await;
    let bundle = assigned_with_checklist(&tablet).await;
    let template = bundle.template.clone().unwrap();
    let wo = bundle.work_order.id;
    let mut mutations = vec![step(1, wo, StatusAction::SetOff), step(2, wo, StatusAction::Arrive)];
    for item in &template.items {
        mutations.push(answer(mutations.len() as u64 + 1, &bundle, item));
    }
    let photo = b"\x89PNG photo bytes of the cabinet".repeat(100);
    let blob = upload(&tablet, &photo, 1000).await;
    let photo_item = template.items.iter().find(|i| i.photo_required).map(|i| i.key.clone());
    mutations.push(Mutation {
        seq: mutations.len() as u64 + 1,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::Photo(Photo {
            blob: blob.clone(),
            work_order_id: wo,
            item_key: photo_item,
            caption: "机柜 🔧".into(),
            taken_at: Utc::now(),
        }),
    });
    mutations.push(note(mutations.len() as u64 + 1, wo, "客户要求下周复查 👍"));
    let signature = b"signature png".to_vec();
    let signature_id = upload(&tablet, &signature, 5).await;
    mutations.push(Mutation {
        seq: mutations.len() as u64 + 1,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::SignOff(SignOff {
            id: SignOffId::new(),
            work_order_id: wo,
            signer_name: "王经理".into(),
            opinion: "满意 😊".into(),
            satisfaction: Satisfaction::try_from(5).unwrap(),
            signature: signature_id.clone(),
            strokes: None,
            signed_at: Utc::now(),
        }),
    });
    mutations.push(step(mutations.len() as u64 + 1, wo, StatusAction::Complete));
    let (status, body) = push(&tablet, &mutations).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["acked_through"], mutations.len());
    assert!(body["outcomes"].as_array().unwrap().iter().all(|o| o["outcome"] == "applied"), "{body}");

    // Another device of the same technician receives every record, text intact.
    let phone = server.client("tech1").await;
    let changes = phone.pull_all().await;
    let state = current(&changes);
    assert_eq!(state[&wo].work_order.status, WorkOrderStatus::Completed);
    let records: Vec<&MutationOp> = changes
        .iter()
        .filter_map(|c| match &c.body {
            ResolvedBody::Record { op } if op.work_order_id() == wo => Some(op),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), template.items.len() + 3, "answers, photo, note, sign-off");
    assert!(records.iter().any(|op| matches!(op, MutationOp::Note(n) if n.text == "客户要求下周复查 👍")));
    assert!(records.iter().any(|op| matches!(op, MutationOp::SignOff(s) if s.opinion == "满意 😊")));
    let bytes = phone.request(Method::GET, &format!("/v1/blobs/{blob}")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), photo.as_slice());

    // The supervisor sees it completed and returns it; the technician's stream carries the reason.
    let supervisor = server.client("supervisor").await;
    let (status, body) = supervisor
        .post(&format!("/v1/work-orders/{wo}/review"), json!({"decision": "return", "reason": "缺少全景照片"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "returned");
    let state = current(&phone.pull_all().await);
    assert_eq!(state[&wo].work_order.status_note.as_deref(), Some("缺少全景照片"));
    let (status, body) = supervisor.post(&format!("/v1/work-orders/{wo}/review"), json!({"decision": "approve"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a returned visit is not approved before it is completed again: {body}");
    assert_eq!(body["code"], "rule_violation");
}

#[tokio::test]
async fn the_same_push_twice_or_retried_after_a_lost_answer_stores_it_once() {
    let server = Server::start().await;
    let tablet = server.client("tech1").await;
    let wo = assigned_with_checklist(&tablet).await.work_order.id;
    let batch = vec![step(1, wo, StatusAction::SetOff), note(2, wo, "first"), note(3, wo, "second")];
    let (status, first) = push(&tablet, &batch).await;
    assert_eq!(status, StatusCode::OK);
    let after_one = server.dump();
    // The same batch again: as if the answer never arrived.
    let (status, again) = push(&tablet, &batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["acked_through"], 3);
    assert!(again["outcomes"].as_array().unwrap().iter().all(|o| o["outcome"] == "already_applied"), "{again}");
    assert_eq!(server.dump(), after_one, "the database is exactly as after one push");
    // A retry that overlaps: the first two again plus a new one.
    let overlap = vec![batch[1].clone(), batch[2].clone(), note(4, wo, "third")];
    let (status, body) = push(&tablet, &overlap).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcomes"][2]["outcome"], "applied");
    assert_eq!(body["outcomes"][0]["outcome"], "already_applied");
    assert_ne!(first, body);
    // A gap is refused and changes nothing.
    let before = server.dump();
    let (status, body) = push(&tablet, &[note(9, wo, "too far")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "sequence_gap");
    assert!(body["message"].as_str().unwrap().contains('5'), "{body}");
    assert_eq!(server.dump(), before);
}

#[tokio::test]
async fn reassignment_removes_the_work_order_from_the_old_technicians_stream() {
    let server = Server::start().await;
    let tech1 = server.client("tech1").await;
    let tech2 = server.client("tech2").await;
    let supervisor = server.client("supervisor").await;
    let wo = assigned_with_checklist(&tech1).await.work_order.id;
    let (status, body) =
        supervisor.post(&format!("/v1/work-orders/{wo}/assign"), json!({"assignee": tech2.user.id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!current(&tech1.pull_all().await).contains_key(&wo));
    assert!(current(&tech2.pull_all().await).contains_key(&wo));
    // tech1's device, still offline with the old assignment, pushes a note: kept as a conflict.
    let (status, body) = push(&tech1, &[note(1, wo, "offline note")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["outcomes"][0]["outcome"], "rejected");
    assert_eq!(body["outcomes"][0]["code"], "forbidden");
    // A cancel wins, and a later answer is refused as locked.
    let (status, _) = supervisor.post(&format!("/v1/work-orders/{wo}/cancel"), json!({"reason": "客户取消"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = push(&tech2, &[step(1, wo, StatusAction::SetOff)]).await;
    assert_eq!(body["outcomes"][0]["outcome"], "rejected", "{body}");
}

#[tokio::test]
async fn supervisors_create_assign_and_edit_work_and_reference_data() {
    let server = Server::start().await;
    let supervisor = server.client("supervisor").await;
    let tech3 = server.client("tech3").await;
    let (_, customers) = supervisor.get("/v1/customers").await;
    let customer = &customers[0];
    let (_, policies) = supervisor.get("/v1/policies").await;
    assert!(policies.as_array().unwrap().len() >= 2);
    let (status, site) = supervisor
        .post("/v1/sites", json!({"customer_id": customer["id"], "name": "新建监控室", "address": "同上"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    let (status, asset) = supervisor
        .post("/v1/assets", json!({"site_id": site["id"], "model": "海康 DS-7608", "serial": "NVR-001", "location": "机柜 R1", "warranty_end": "2027-06-30"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{asset}");
    let (status, created) = supervisor
        .post(
            "/v1/work-orders",
            json!({
                "customer_id": customer["id"], "site_id": site["id"], "asset_id": asset["id"],
                "contact": {"name": "赵主任", "phone": "13900000000"}, "kind": "repair", "fault_level": "critical",
                "symptom": "录像机无法开机", "reported_by": "客户电话", "assignee": tech3.user.id, "billing": "warranty",
                "scheduled_for": null, "template_id": null, "reported_at": null
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "assigned");
    let reported: chrono::DateTime<Utc> = created["reported_at"].as_str().unwrap().parse().unwrap();
    let arrive: chrono::DateTime<Utc> = created["deadlines"]["arrive_by"].as_str().unwrap().parse().unwrap();
    assert!(arrive - reported <= chrono::Duration::hours(2), "critical: on site within 2 h or less");
    let id = created["id"].as_str().unwrap();
    assert!(current(&tech3.pull_all().await).keys().any(|k| k.to_string() == id));
    let (status, updated) = supervisor
        .send(
            Method::PATCH,
            &format!("/v1/work-orders/{id}"),
            Some(json!({"fault_level": "minor", "instructions": "带备机"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["instructions"], "带备机");
    assert_ne!(updated["deadlines"]["arrive_by"], created["deadlines"]["arrive_by"], "deadlines follow the level");
    let (status, part) = supervisor.send(Method::PUT, "/v1/parts", Some(json!({"part_number": "NVR-PSU", "name": "录像机电源", "needs_customer_approval": true, "unit_price_cents": 25000}))).await;
    assert_eq!(status, StatusCode::OK, "{part}");
    let (_, parts) = tech3.get("/v1/parts").await;
    assert!(parts.as_array().unwrap().iter().any(|p| p["part_number"] == "NVR-PSU"));
    let mut template = templates::cctv_security();
    template.id = TemplateId::new();
    template.version = 2;
    let (status, body) = supervisor.post("/v1/templates", serde_json::to_value(&template).unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    template.items.pop();
    let (status, body) = supervisor.post("/v1/templates", serde_json::to_value(&template).unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "a version is never edited: {body}");
    let (status, devices) = supervisor.get("/v1/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        devices.as_array().unwrap().iter().any(|d| d["id"] == tech3.device_id.as_str() && !d["last_sync_at"].is_null())
    );
}

#[tokio::test]
async fn admins_manage_accounts_and_a_revoked_or_disabled_device_stops_at_once() {
    let server = Server::start().await;
    let admin = server.client("admin").await;
    let (status, user) = admin
        .post("/v1/users", json!({"username": "tech9", "password": support::PASSWORD, "name": "周杰", "staff_no": "FB-T009", "role": "technician", "supervisor_id": null}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, body) = admin
        .post("/v1/users", json!({"username": "tech9", "password": support::PASSWORD, "name": "x", "staff_no": "x", "role": "technician", "supervisor_id": null}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let tech9 = server.client("tech9").await;
    assert_eq!(tech9.get("/v1/sync/pull").await.0, StatusCode::OK);
    let (status, _) = admin.post(&format!("/v1/devices/{}/revoke", tech9.device_id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = tech9.get("/v1/sync/pull").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let tech9 = server.client("tech9").await;
    let (status, _) = admin.post(&format!("/v1/users/{}/disable", tech9.user.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tech9.get("/v1/sync/pull").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = Client::anonymous(&server.base)
        .post("/v1/enroll", json!({"username": "tech9", "password": support::PASSWORD, "device_name": "x", "public_key": Server::public_key()}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong_password = Client::anonymous(&server.base)
        .post("/v1/enroll", json!({"username": "tech1", "password": "wrong password", "device_name": "x", "public_key": Server::public_key()}))
        .await
        .1;
    let no_such_user = Client::anonymous(&server.base)
        .post("/v1/enroll", json!({"username": "nobody", "password": "wrong password", "device_name": "x", "public_key": Server::public_key()}))
        .await
        .1;
    assert_eq!(body, wrong_password, "every failed sign-in answers alike");
    assert_eq!(body, no_such_user);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited() {
    let server =
        Server::start_with(fieldbook_server::Config { login_attempts_per_minute: 3, ..Default::default() }).await;
    let anonymous = Client::anonymous(&server.base);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _) =
            anonymous.post("/v1/enroll", json!({"username": "tech2", "password": "guess", "device_name": "x", "public_key": Server::public_key()})).await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let wo = assigned_with_checklist(&tech).await.work_order.id;
    let before = server.dump();
    let raw = |body: &'static str| {
        tech.request(Method::POST, "/v1/sync/push").header("content-type", "application/json").body(body).send()
    };
    let expect = |status: StatusCode, body: &Value, want: StatusCode, code: &str| {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{body}");
    };
    let response = raw("{\"mutations\": [").await.unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::BAD_REQUEST, "invalid_json");
    let response = raw("{\"mutations\": 7}").await.unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    let big = format!("{{\"mutations\": [], \"pad\": \"{}\"}}", "x".repeat(9 * 1024 * 1024));
    let response = tech
        .request(Method::POST, "/v1/sync/push")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Unknown protocol versions and none at all.
    let response = Server::http()
        .get(format!("{}/v1/sync/pull", server.base))
        .header("fieldbook-protocol", (PROTOCOL_VERSION + 1).to_string())
        .bearer_auth(tech.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    expect(status, &body, StatusCode::UPGRADE_REQUIRED, "protocol_mismatch");
    let response = Server::http().get(format!("{}/v1/sync/pull", server.base)).send().await.unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::BAD_REQUEST, "protocol_missing");
    // Blob ids must be SHA-256 hex; path-like ids never reach storage.
    for id in ["../../etc/passwd", "ZZZ", "%2e%2e%2fsecret", &"A".repeat(64)] {
        let response =
            tech.request(Method::PUT, &format!("/v1/blobs/{id}?offset=0&total=3")).body("abc").send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND, "{id}: {status} {body}");
        assert!(body["code"].is_string(), "{id}: {body}");
    }
    // A wrong hash discards the upload; an out-of-order chunk is refused.
    let wrong = BlobId::of_bytes(b"something else");
    let response =
        tech.request(Method::PUT, &format!("/v1/blobs/{wrong}?offset=0&total=5")).body("hello").send().await.unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch");
    let bytes = b"0123456789";
    let id = BlobId::of_bytes(bytes);
    let put = |offset: usize, part: &'static [u8]| {
        tech.request(Method::PUT, &format!("/v1/blobs/{id}?offset={offset}&total=10")).body(part).send()
    };
    assert_eq!(put(0, b"0123").await.unwrap().status(), StatusCode::OK);
    let response = put(6, b"6789").await.unwrap();
    let status = response.status();
    expect(status, &response.json().await.unwrap(), StatusCode::CONFLICT, "wrong_offset");
    // A truncated chunk leaves the upload incomplete: nothing is stored until the rest comes.
    assert_eq!(put(4, b"45").await.unwrap().status(), StatusCode::OK);
    let (status, upload) = tech.get(&format!("/v1/blobs/{id}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((upload["received"].as_u64(), upload["complete"].as_bool()), (Some(6), Some(false)));
    let (_, missing) = tech.post("/v1/blobs/missing", json!({"ids": [id]})).await;
    assert_eq!(missing["missing"][0], id.to_string());
    // Malformed ids and unknown ids in paths.
    let supervisor = server.client("supervisor").await;
    let (status, body) = supervisor.get("/v1/work-orders/not-a-uuid").await;
    expect(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, body) = supervisor.get(&format!("/v1/work-orders/{}", WorkOrderId::new())).await;
    expect(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = supervisor.post(&format!("/v1/work-orders/{wo}/cancel"), json!({"reason": "   "})).await;
    expect(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, body) = supervisor.get("/v1/no-such-endpoint").await;
    expect(status, &body, StatusCode::NOT_FOUND, "not_found");
    // Wrong types in a well-formed body.
    let (status, body) = supervisor.post(&format!("/v1/work-orders/{wo}/assign"), json!({"assignee": 42})).await;
    expect(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_json");
    // Nothing of the above changed the database, except the upload in progress.
    let after: Vec<String> = server.dump().into_iter().filter(|row| !row.starts_with("blob_uploads")).collect();
    assert_eq!(after, before);
}

/// A device tells what it still holds with each pull; its supervisor sees it on the devices
/// list, and a pull that says nothing (an older app) leaves the figure as it was.
#[tokio::test]
async fn a_device_reports_its_waiting_changes_to_its_supervisor() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let boss = server.client("supervisor").await;
    let pending_of = |devices: &Value| {
        devices.as_array().unwrap().iter().find(|d| d["id"] == tech.device_id.as_str()).unwrap()["pending"].clone()
    };
    let (_, devices) = boss.get("/v1/devices").await;
    assert_eq!(pending_of(&devices), Value::Null, "never said");
    assert_eq!(tech.get("/v1/sync/pull?after=0&limit=5&pending=7").await.0, StatusCode::OK);
    let (_, devices) = boss.get("/v1/devices").await;
    assert_eq!(pending_of(&devices), json!(7));
    assert_eq!(tech.get("/v1/sync/pull?after=0&limit=5").await.0, StatusCode::OK);
    let (_, devices) = boss.get("/v1/devices").await;
    assert_eq!(pending_of(&devices), json!(7));
    let (status, _) = tech.get("/v1/sync/pull?after=0&limit=5&pending=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Enrols `username` by hand with `public_key`, as a device whose first answer was lost would
/// try again.
async fn enroll_with(server: &Server, username: &str, public_key: &str) -> Value {
    let (status, body) = Client::anonymous(&server.base)
        .post(
            "/v1/enroll",
            json!({"username": username, "password": support::PASSWORD, "device_name": "张伟的平板",
                "public_key": public_key}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn enrolling_again_with_the_same_key_is_the_same_device_with_a_new_token() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let wo = assigned_with_checklist(&tech).await.work_order.id;
    let key = Server::public_key();
    // The first answer is lost; the device asks again with the same key.
    let first = enroll_with(&server, "tech1", &key).await;
    let again = enroll_with(&server, "tech1", &key).await;
    assert_eq!(again["device_id"], first["device_id"], "no orphan device");
    assert_eq!(again["last_seq"], 0);
    assert_ne!(again["token"], first["token"]);
    let supervisor = server.client("supervisor").await;
    let (_, devices) = supervisor.get("/v1/devices").await;
    let with_id = |id: &Value| devices.as_array().unwrap().iter().filter(|d| d["id"] == *id).count();
    assert_eq!(with_id(&first["device_id"]), 1);
    // Only the newest token works: the one lost with the first answer is void.
    let as_token = |token: &Value| {
        let mut client = Client::anonymous(&server.base);
        client.token = Some(token.as_str().unwrap().to_owned());
        client
    };
    assert_eq!(as_token(&first["token"]).get("/v1/sync/pull").await.0, StatusCode::UNAUTHORIZED);
    let device = as_token(&again["token"]);
    let (status, body) = push(&device, &[note(1, wo, "第一条"), note(2, wo, "第二条")]).await;
    assert_eq!((status, body["acked_through"].as_u64()), (StatusCode::OK, Some(2)), "{body}");
    // Signed in again later, the device learns where its numbering stands.
    let later = enroll_with(&server, "tech1", &key).await;
    assert_eq!((later["device_id"].clone(), later["last_seq"].as_u64()), (first["device_id"].clone(), Some(2)));
    // Another key, or the same key after the device was revoked, is a new device.
    let other = enroll_with(&server, "tech1", &Server::public_key()).await;
    assert_ne!(other["device_id"], first["device_id"]);
    let id = first["device_id"].as_str().unwrap();
    assert_eq!(supervisor.post(&format!("/v1/devices/{id}/revoke"), json!({})).await.0, StatusCode::OK);
    let after_revoke = enroll_with(&server, "tech1", &key).await;
    assert_ne!(after_revoke["device_id"], first["device_id"]);
    assert_eq!(after_revoke["last_seq"], 0);
    // A key of small order would verify forged signatures: refused, and no device is made.
    let before = server.dump();
    for weak in ["0100000000000000000000000000000000000000000000000000000000000000", &"ff".repeat(32)] {
        let (status, body) = Client::anonymous(&server.base)
            .post(
                "/v1/enroll",
                json!({"username": "tech1", "password": support::PASSWORD, "device_name": "弱密钥", "public_key": weak}),
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{weak}: {body}");
    }
    assert_eq!(server.dump(), before);
}

#[tokio::test]
async fn conflicts_are_read_page_by_page_newest_first_each_once() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    // Notes on work orders that do not exist: each refused and kept as a conflict.
    let refused: Vec<Mutation> = (1..=7).map(|seq| note(seq, WorkOrderId::new(), &format!("第{seq}条"))).collect();
    let (status, body) = push(&tech, &refused).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut seen = Vec::new();
    let mut path = "/v1/conflicts?limit=3".to_owned();
    loop {
        let (status, page) = tech.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page = page.as_array().unwrap().clone();
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        if page.len() < 3 {
            break;
        }
        path = format!("/v1/conflicts?limit=3&before={}", page.last().unwrap()["id"]);
    }
    assert_eq!(seen.len(), 7, "every conflict once: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first: {seen:?}");
}

#[tokio::test]
async fn a_gap_names_the_number_to_resend_from_as_a_field_and_stores_nothing() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let wo = assigned_with_checklist(&tech).await.work_order.id;
    assert_eq!(push(&tech, &[note(1, wo, "一")]).await.0, StatusCode::OK);
    let before = server.dump();
    // Ahead of the server, and with a hole inside: both resend from 2, the server's next.
    for batch in [vec![note(3, wo, "三")], vec![note(2, wo, "二"), note(4, wo, "四")]] {
        let (status, body) = push(&tech, &batch).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("sequence_gap")), "{body}");
        assert_eq!(body["resend_from"], 2, "{body}");
    }
    // Number 0 is a malformed push.
    let (status, body) = push(&tech, &[note(0, wo, "零")]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{body}");
    assert_eq!(server.dump(), before);
    // A cursor past the stream's end is refused with its code, on both pull routes.
    for route in ["/v1/sync/pull", "/v1/sync/pull/stream"] {
        let (status, body) = tech.get(&format!("{route}?after=99999999")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("cursor_ahead")), "{route}: {body}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_every_declared_query_parameter_is_read() {
    let server = Server::start().await;
    let admin = server.client("admin").await;
    let (_, doc) = Client::anonymous(&server.base).get("/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            // Path parameters get a well-formed value no record has.
            let concrete = path.replace("{id}", &WorkOrderId::new().to_string()).replace("{hash}", &"ab".repeat(32));
            let response = admin.request(method.clone(), &concrete).send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let routed = !(status == StatusCode::METHOD_NOT_ALLOWED
                || body["message"].as_str().is_some_and(|m| m.starts_with("no such endpoint")));
            assert!(routed, "{method} {path} is documented but not routed: {status} {body}");
            // A declared query parameter is one the handler reads: a value of the wrong type
            // is refused as a bad query, not ignored.
            let declared = operation["parameters"].as_array().cloned().unwrap_or_default();
            for parameter in declared.iter().filter(|p| p["in"] == "query") {
                let name = parameter["name"].as_str().unwrap();
                let kind = parameter["schema"]["type"].clone();
                let numeric = kind == "integer" || kind.as_array().is_some_and(|t| t.contains(&json!("integer")));
                if !numeric {
                    continue;
                }
                let (status, body) = admin.send(method.clone(), &format!("{concrete}?{name}=not-a-number"), None).await;
                assert_eq!(
                    (status, body["code"].as_str()),
                    (StatusCode::BAD_REQUEST, Some("invalid_query")),
                    "{method} {path}?{name}: {body}"
                );
            }
            operations += 1;
        }
    }
    assert!(operations >= 40, "{operations} operations documented");
}

#[tokio::test]
async fn a_conflict_shows_the_work_order_only_to_whoever_may_read_it_now() {
    let server = Server::start().await;
    let tech1 = server.client("tech1").await;
    let tech2 = server.client("tech2").await;
    let supervisor = server.client("supervisor").await;
    let theirs = assigned_with_checklist(&tech2).await.work_order;
    let mine = assigned_with_checklist(&tech1).await.work_order;
    // tech1 pushes a change on tech2's work order, and one on its own that is then reassigned
    // to tech2 before the next change arrives: both refused and kept as tech1's conflicts.
    assert_eq!(push(&tech1, &[note(1, theirs.id, "不是我的工单")]).await.0, StatusCode::OK);
    let (status, _) =
        supervisor.post(&format!("/v1/work-orders/{}/assign", mine.id), json!({"assignee": tech2.user.id})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(push(&tech1, &[note(2, mine.id, "改派之后")]).await.0, StatusCode::OK);
    let before = server.dump();
    let (status, conflicts) = tech1.get("/v1/conflicts").await;
    assert_eq!(status, StatusCode::OK);
    let conflicts = conflicts.as_array().unwrap();
    assert_eq!(conflicts.len(), 2);
    for conflict in conflicts {
        assert!(conflict["server"].is_null(), "tech1 may not read {}: {conflict}", conflict["work_order_id"]);
        assert!(conflict["work_order_number"].is_null(), "{conflict}");
        assert!(conflict["local"].is_object(), "its own change it still sees: {conflict}");
    }
    // Their supervisor, who may read both, sees the work orders as they stand.
    let (_, seen) = supervisor.get("/v1/conflicts").await;
    let numbers: Vec<&str> = seen.as_array().unwrap().iter().filter_map(|c| c["work_order_number"].as_str()).collect();
    assert!(numbers.contains(&theirs.number.as_str()) && numbers.contains(&mine.number.as_str()), "{seen}");
    assert_eq!(server.dump(), before, "reading conflicts changes nothing");
}

#[tokio::test]
async fn a_photo_uploaded_by_someone_else_can_be_neither_named_nor_read_nor_seen_to_exist() {
    let server = Server::start().await;
    let tech1 = server.client("tech1").await;
    let tech2 = server.client("tech2").await;
    let secret = b"tech2's photo of another customer's cabinet";
    let id = upload(&tech2, secret, 16).await;
    let unknown = BlobId::of_bytes(b"never uploaded by anyone");
    // To tech1 it looks exactly like a hash nobody uploaded.
    for blob in [&id, &unknown] {
        let (_, missing) = tech1.post("/v1/blobs/missing", json!({"ids": [blob]})).await;
        assert_eq!(missing["missing"], json!([blob]), "{blob}");
        let (status, body) = tech1.get(&format!("/v1/blobs/{blob}/status")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{blob}");
    }
    // tech1 names it in a photo record on its own visit: refused, and it still cannot read it.
    let wo = assigned_with_checklist(&tech1).await.work_order.id;
    let photo = |seq: u64| Mutation {
        seq,
        id: MutationId::new(),
        hlc: fieldbook_domain::Hlc::default(),
        op: MutationOp::Photo(Photo {
            blob: id.clone(),
            work_order_id: wo,
            item_key: None,
            caption: "机柜内部".into(),
            taken_at: Utc::now(),
        }),
    };
    let steps = [step(1, wo, StatusAction::SetOff), step(2, wo, StatusAction::Arrive), photo(3)];
    let (status, answer) = push(&tech1, &steps).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcomes"][2]["outcome"], "rejected", "{answer}");
    assert_eq!(answer["outcomes"][2]["code"], "not_found", "{answer}");
    for blob in [&id, &unknown] {
        let response = tech1.request(Method::GET, &format!("/v1/blobs/{blob}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{blob}: missing and forbidden look alike");
    }
    // Once tech1 has uploaded the same bytes itself, the photo is its own to name.
    upload(&tech1, secret, 64).await;
    let (_, answer) = push(&tech1, &[photo(4)]).await;
    assert_eq!(answer["outcomes"][0]["outcome"], "applied", "{answer}");
    let bytes = tech1.request(Method::GET, &format!("/v1/blobs/{id}")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), secret.as_slice());
}

#[tokio::test]
async fn another_teams_supervisor_cannot_write_to_this_teams_streams_by_refused_steps() {
    let server = Server::start().await;
    let tech1 = server.client("tech1").await;
    let stranger = server.client("supervisor2").await;
    let wo = assigned_with_checklist(&tech1).await.work_order.id;
    let before = server.dump();
    let steps: Vec<Mutation> = (1..=20)
        .map(|seq| Mutation {
            seq,
            id: MutationId::new(),
            hlc: fieldbook_domain::Hlc::default(),
            op: MutationOp::Dispatch(Dispatch {
                work_order_id: wo,
                at: Utc::now(),
                action: DispatchAction::Cancel { reason: format!("第{seq}次") },
            }),
        })
        .collect();
    let (status, answer) = push(&stranger, &steps).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let codes: Vec<&str> = answer["outcomes"].as_array().unwrap().iter().filter_map(|o| o["code"].as_str()).collect();
    assert_eq!(codes, vec!["forbidden"; 20]);
    // Each refusal is the stranger's own conflict and mutation; nobody's stream changed.
    let theirs = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter().filter(|r| !r.starts_with("conflicts:") && !r.starts_with("mutations:")).collect()
    };
    assert_eq!(theirs(server.dump()), theirs(before));
}
