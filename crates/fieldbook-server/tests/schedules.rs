//! Periodic duties against the real server on a loopback port: a schedule makes its work
//! orders ahead of time, once each however often or concurrently the schedules run, across a
//! restart; they reach the technician by sync; pausing stops them and resuming catches up; a
//! supervisor manages only their team's, and bad schedules are refused and change nothing.

mod support;

use chrono::{DateTime, Duration, Utc};
use fieldbook_domain::schedule::PatrolSchedule;
use fieldbook_domain::{WorkOrder, WorkOrderKind, WorkOrderStatus};
use fieldbook_protocol::{ResolvedBody, ScheduleResult};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Client, Server};

/// A customer's site with a piece of equipment on it, and another site's equipment.
async fn place(server: &Server) -> (String, String, String, String) {
    let reference = server.db.dispatch_reference(None).await.unwrap();
    let asset = &reference.assets[0];
    let site = reference.sites.iter().find(|s| s.id == asset.site_id).unwrap();
    let elsewhere = reference.assets.iter().find(|a| a.site_id != site.id).unwrap();
    (site.customer_id.to_string(), site.id.to_string(), asset.id.to_string(), elsewhere.id.to_string())
}

fn body(place: &(String, String, String, String), assignee: Option<&Client>, first_due: DateTime<Utc>) -> Value {
    json!({
        "id": fieldbook_domain::ScheduleId::new(),
        "customer_id": place.0,
        "site_id": place.1,
        "asset_id": place.2,
        "kind": "patrol",
        "template_id": null,
        "every": "quarterly",
        "first_due": first_due,
        "lead_days": 14,
        "assignee": assignee.map(|c| c.user.id),
        "contact": {"name": "物业值班室", "phone": "0574-86000000"},
        "instructions": "按季度巡检表逐项检查，四无六不漏",
    })
}

async fn scheduled(db: &dyn Database, schedule: &PatrolSchedule) -> Vec<WorkOrder> {
    let all = db.work_orders(&Default::default(), None).await.unwrap();
    let mut made: Vec<WorkOrder> =
        all.into_iter().filter(|w| w.reported_by == format!("schedule {}", schedule.id)).collect();
    made.sort_by_key(|w| w.reported_at);
    made
}

#[tokio::test]
async fn a_quarterly_patrol_is_made_ahead_once_and_reaches_its_technician() {
    let mut server = Server::start().await;
    let boss = server.client("supervisor").await;
    let tech = server.client("tech1").await;
    let place = place(&server).await;
    let now = Utc::now();
    let first_due = now + Duration::days(10);

    let request = body(&place, Some(&tech), first_due);
    let (status, made) = boss.post("/v1/schedules", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let made: ScheduleResult = serde_json::from_value(made).unwrap();
    // Due in 10 days with a 14-day lead: its first work order exists at once.
    assert_eq!(made.created.len(), 1);
    let first = &made.created[0];
    assert_eq!((first.kind, first.status), (WorkOrderKind::Patrol, WorkOrderStatus::Assigned));
    assert_eq!(first.assignee, Some(tech.user.id));
    assert_eq!(first.scheduled_for.map(|s| s.timestamp_millis()), Some(first_due.timestamp_millis()));
    assert!(first.number.starts_with("PM-"), "{}", first.number);
    assert!(first.symptom.contains("季度巡检"), "{}", first.symptom);

    // A retried request answers with the same schedule and makes nothing more.
    let (status, again) = boss.post("/v1/schedules", request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(serde_json::from_value::<ScheduleResult>(again).unwrap().created.len(), 0);
    let schedule = made.schedule.clone();
    assert_eq!(scheduled(server.db.as_ref(), &schedule).await.len(), 1);

    // The technician's device receives it by sync.
    let received = tech.pull_all().await.into_iter().any(|c| match c.body {
        ResolvedBody::WorkOrder { bundle } => bundle.work_order.id == first.id,
        _ => false,
    });
    assert!(received, "the scheduled patrol is in tech1's stream");

    // Running again now makes nothing; 90 days on, the next quarter is within its lead. (The
    // demo's own schedules make theirs too; only this schedule's are counted.)
    let mine = |made: Vec<WorkOrder>| {
        made.into_iter().filter(|w| w.reported_by == format!("schedule {}", schedule.id)).count()
    };
    assert_eq!(mine(server.db.run_schedules(now).await.unwrap()), 0);
    assert_eq!(mine(server.db.run_schedules(now + Duration::days(90)).await.unwrap()), 1);
    assert!(server.db.run_schedules(now + Duration::days(90)).await.unwrap().is_empty());
    // Two runs at once (two server processes, say) make the third quarter once.
    let later = now + Duration::days(182);
    let (a, b) = tokio::join!(server.db.run_schedules(later), server.db.run_schedules(later));
    assert_eq!(mine(a.unwrap()) + mine(b.unwrap()), 1);
    let made_so_far = scheduled(server.db.as_ref(), &schedule).await;
    assert_eq!(made_so_far.len(), 3);
    let dues: Vec<_> = made_so_far.iter().map(|w| w.reported_at).collect();
    assert!(dues.windows(2).all(|p| p[1] > p[0] + Duration::days(85)), "a quarter apart: {dues:?}");

    // Paused, a year passes and nothing is made; resumed, the missed quarters are caught up.
    let (status, paused) =
        boss.send(Method::PUT, &format!("/v1/schedules/{}/active", schedule.id), Some(json!({"active": false}))).await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(mine(server.db.run_schedules(now + Duration::days(540)).await.unwrap()), 0);
    let resumed = server.db.set_schedule_active(schedule.id, true, now + Duration::days(540)).await.unwrap();
    let expected = schedule.due_by(now + Duration::days(540)).len() - 3;
    assert_eq!(resumed.1.len(), expected);
    assert!(expected >= 3, "missed quarters: {expected}");

    // The schedule and its runs survive a restart: nothing is made twice.
    let path = server.db_path.clone();
    let total = scheduled(server.db.as_ref(), &schedule).await.len();
    server.stop().await;
    let reopened = SqliteDatabase::open(&path).unwrap();
    assert!(reopened.run_schedules(now + Duration::days(540)).await.unwrap().is_empty());
    assert_eq!(scheduled(&reopened, &schedule).await.len(), total);
    assert_eq!(reopened.schedule(schedule.id).await.unwrap().map(|s| s.active), Some(true));
}

#[tokio::test]
async fn only_the_team_manages_its_schedules_and_bad_ones_change_nothing() {
    let server = Server::start().await;
    let boss = server.client("supervisor").await;
    let other = server.client("supervisor2").await;
    let tech = server.client("tech1").await;
    let place = place(&server).await;
    let due = Utc::now() + Duration::days(40);

    let (status, made) = boss.post("/v1/schedules", body(&place, Some(&tech), due)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["schedule"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["created"].as_array().unwrap().len(), 0, "due beyond the lead: nothing yet");

    let before = server.dump();
    // Another team's supervisor and a technician may not touch it or make one for tech1.
    for who in [&other, &tech] {
        let (status, reply) = who.post("/v1/schedules", body(&place, Some(&tech), due)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
        let (status, reply) =
            who.send(Method::PUT, &format!("/v1/schedules/{id}/active"), Some(json!({"active": false}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    }
    let (status, listed) = other.get("/v1/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed.as_array().unwrap().iter().all(|s| s["id"] != id.as_str()), "not the other team's");
    let (status, _) = tech.get("/v1/schedules").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad schedules: a clear error each, and nothing stored.
    let mut repair = body(&place, None, due);
    repair["kind"] = json!("repair");
    let mut long_lead = body(&place, None, due);
    long_lead["lead_days"] = json!(200);
    let mut wrong_asset = body(&place, None, due);
    wrong_asset["asset_id"] = json!(place.3);
    let mut no_customer = body(&place, None, due);
    no_customer["customer_id"] = json!(fieldbook_domain::CustomerId::new());
    let mut no_contact = body(&place, None, due);
    no_contact["contact"]["name"] = json!("  ");
    let mut bad_every = body(&place, None, due);
    bad_every["every"] = json!("weekly");
    let mut same_id_other_site = body(&place, None, due);
    same_id_other_site["id"] = json!(id);
    for (what, request, expected) in [
        ("a repair", repair, StatusCode::BAD_REQUEST),
        ("a 200-day lead", long_lead, StatusCode::BAD_REQUEST),
        ("another site's equipment", wrong_asset, StatusCode::CONFLICT),
        ("an unknown customer", no_customer, StatusCode::NOT_FOUND),
        ("no contact", no_contact, StatusCode::BAD_REQUEST),
        ("weekly", bad_every, StatusCode::UNPROCESSABLE_ENTITY),
        ("an id in use with other details", same_id_other_site, StatusCode::CONFLICT),
    ] {
        let (status, reply) = boss.post("/v1/schedules", request).await;
        assert_eq!(status, expected, "{what}: {reply}");
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {reply}");
    }
    let (status, _) = boss.send(Method::PUT, "/v1/schedules/not-an-id/active", Some(json!({"active": false}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = boss
        .send(
            Method::PUT,
            &format!("/v1/schedules/{}/active", fieldbook_domain::ScheduleId::new()),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.dump(), before, "refused requests change nothing");
}
