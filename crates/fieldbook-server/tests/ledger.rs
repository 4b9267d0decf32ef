//! The report ledger through the real server: a signed report is checked on receipt and
//! chained in; a bad one is refused with a clear reason and changes nothing; an amendment names
//! the report before it; `fieldbook-server verify` says whether a report is intact, and finds
//! a ledger changed behind the server's back.

mod support;

use std::process::Command;

use fieldbook_domain::evidence::{DeviceKey, short_code};
use fieldbook_domain::{BlobId, StatusAction, WorkOrderId, WorkOrderStatus};
use fieldbook_protocol::{ReportCheck, ResolvedBody};
use fieldbook_server_db::rules::chain_hash;
use reqwest::StatusCode;
use serde_json::json;
use support::{Client, Server};

/// Work orders assigned to this technician and not yet started.
async fn assigned(client: &Client) -> Vec<WorkOrderId> {
    client
        .pull_all()
        .await
        .into_iter()
        .filter_map(|c| match c.body {
            ResolvedBody::WorkOrder { bundle } if bundle.work_order.status == WorkOrderStatus::Assigned => {
                Some(bundle.work_order.id)
            }
            _ => None,
        })
        .collect()
}

async fn ledger_of(client: &Client, id: WorkOrderId) -> Vec<serde_json::Value> {
    let (status, body) = client.get(&format!("/v1/work-orders/{id}/reports")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

async fn check(client: &Client, hash: &str) -> ReportCheck {
    let (status, body) = client.get(&format!("/v1/reports/{hash}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

fn verify_cli(server: &Server, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"))
        .arg("--database")
        .arg(&server.db_path)
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn a_signed_report_is_checked_on_receipt_and_chained_into_the_ledger() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let supervisor = server.client("supervisor").await;
    let ids = assigned(&tech).await;
    let first = tech.sign_visit(ids[0], 1).await;
    let second = tech.sign_visit(ids[1], first.next_seq).await;

    let entries = ledger_of(&supervisor, ids[0]).await;
    assert_eq!(entries.len(), 1);
    let checked = check(&supervisor, &first.report.hash).await;
    assert_eq!(checked.entry.seq, 1);
    assert_eq!(checked.entry.chain, chain_hash(None, &first.report.hash));
    assert_eq!(checked.report, first.report, "the ledger returns the report exactly as signed");
    match &checked.verdict {
        fieldbook_domain::evidence::Verdict::Intact { technician, device_id, code, .. } => {
            assert!(technician.contains(&tech.user.name), "{technician}");
            assert_eq!(device_id, &tech.device_id);
            assert_eq!(code, &short_code(&first.report.hash));
        }
        other => panic!("expected intact, got {other:?}"),
    }
    let checked = check(&supervisor, &short_code(&second.report.hash)).await;
    assert_eq!(checked.entry.seq, 2, "found by its short code");
    assert_eq!(checked.entry.chain, chain_hash(Some(&chain_hash(None, &first.report.hash)), &second.report.hash));

    // A retried push of the same report adds nothing.
    let outcome = tech.push_report(second.next_seq, &second.report).await;
    assert_eq!(outcome["outcome"], "applied", "{outcome}");
    assert_eq!(ledger_of(&tech, ids[1]).await.len(), 1);

    // Another technician may not read it; a malformed hash is a clear error.
    let other = server.client("tech2").await;
    assert_eq!(other.get(&format!("/v1/reports/{}", first.report.hash)).await.0, StatusCode::FORBIDDEN);
    let (status, body) = supervisor.get("/v1/reports/xyz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(supervisor.get("/v1/reports/0123456789abcdef").await.0, StatusCode::NOT_FOUND);

    // The command line says the same.
    let (ok, text) = verify_cli(&server, &[&first.report.hash, "--ledger"]);
    assert!(ok, "{text}");
    assert!(text.contains("INTACT") && text.contains(&tech.user.name) && text.contains(&tech.device_id), "{text}");
    assert!(text.contains("ledger: 2 entries, chain sound"), "{text}");

    // A revoked device's reports are flagged.
    let admin = server.client("admin").await;
    assert_eq!(admin.post(&format!("/v1/devices/{}/revoke", tech.device_id), json!({})).await.0, StatusCode::OK);
    let checked = check(&supervisor, &first.report.hash).await;
    assert!(
        matches!(checked.verdict, fieldbook_domain::evidence::Verdict::RevokedDevice { .. }),
        "{:?}",
        checked.verdict
    );
    let (ok, text) = verify_cli(&server, &[&first.report.hash]);
    assert!(!ok && text.contains("REVOKED"), "{text}");
}

#[tokio::test]
async fn a_bad_report_is_refused_with_its_reason_and_changes_nothing() {
    use fieldbook_domain::StatusAction::{Arrive, SetOff};
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let ids = assigned(&tech).await;
    let (visit, mut seq) = tech.sign_off_visit(ids[0], 1, &[SetOff, Arrive], None).await;
    let good = tech.sign_report(&visit, None);
    let before = server.dump();

    let mut refusals = Vec::new();
    // The document changed after signing.
    let mut changed = good.clone();
    changed.document.technician.name = "someone else".into();
    refusals.push(("changed after signing", changed, "report_tampered", "does not match its hash"));
    // Signed over a sign-off other than the one the server accepted.
    let mut other_words = visit.clone();
    other_words.sign_off.as_mut().unwrap().opinion = "不满意".into();
    refusals.push((
        "another opinion",
        tech.sign_report(&other_words, None),
        "report_invalid",
        "sign-off the server did not accept",
    ));
    // Signed with a key the device did not enroll with.
    let mut document = good.document.clone();
    document.signed_at = chrono::Utc::now();
    refusals.push(("another key", DeviceKey::generate().sign(document), "report_invalid", "did not enroll"));
    // In another technician's name.
    let mut document = good.document.clone();
    document.technician.id = fieldbook_domain::UserId::new();
    refusals.push((
        "another technician",
        DeviceKey::from_secret(tech.key_secret).sign(document),
        "forbidden",
        "own name",
    ));
    // A photo the server never accepted, or one photo left out.
    let mut with_other = visit.clone();
    with_other.photos[0].blob = BlobId::of_bytes(b"never uploaded");
    refusals.push(("another photo", tech.sign_report(&with_other, None), "report_invalid", "not the one the server"));
    let mut fewer = visit.clone();
    fewer.photos.clear();
    refusals.push(("a photo left out", tech.sign_report(&fewer, None), "report_invalid", "the server accepted 1"));
    // Another visit version than the server's.
    let mut later = visit.clone();
    later.work_order.visit_version += 1;
    refusals.push(("another visit version", tech.sign_report(&later, None), "report_invalid", "visit version"));
    // A sign-off the server does not hold.
    let mut unsigned = visit.clone();
    unsigned.sign_off.as_mut().unwrap().id = fieldbook_domain::SignOffId::new();
    refusals.push(("an unknown sign-off", tech.sign_report(&unsigned, None), "report_invalid", "sign-off"));
    // Amending a report the ledger does not hold.
    refusals.push((
        "an unknown predecessor",
        tech.sign_report(&visit, Some("ab".repeat(32))),
        "report_invalid",
        "does not hold",
    ));
    for (what, report, code, words) in refusals {
        let outcome = tech.push_report(seq, &report).await;
        seq += 1;
        assert_eq!(outcome["outcome"], "rejected", "{what}: {outcome}");
        assert_eq!(outcome["code"], code, "{what}: {outcome}");
        assert!(outcome["message"].as_str().unwrap().contains(words), "{what}: {outcome}");
        assert!(ledger_of(&tech, ids[0]).await.is_empty(), "{what}");
    }
    // Nothing but the refused mutations, their conflicts and the work order sent back to the
    // device (so it puts its copy right) was stored.
    let after = server.dump();
    let changed: Vec<_> = after.iter().filter(|row| !before.contains(row)).collect();
    assert!(!changed.is_empty());
    assert!(
        changed
            .iter()
            .all(|row| ["mutations: ", "conflicts: ", "changes: ", "streams: "].iter().any(|t| row.starts_with(t))),
        "{:?}",
        changed.iter().map(|row| row.split(':').next().unwrap()).collect::<Vec<_>>()
    );
    // The good report is still accepted. A second report over the same sign-off is refused,
    // whether it names the first or not: a new version needs the visit returned and signed again.
    assert_eq!(tech.push_report(seq, &good).await["outcome"], "applied");
    for (n, previous) in [None, Some(good.hash.clone())].into_iter().enumerate() {
        let again = tech.sign_report(&visit, previous);
        let outcome = tech.push_report(seq + 1 + n as u64, &again).await;
        assert_eq!(outcome["code"], "report_invalid", "{outcome}");
        assert!(outcome["message"].as_str().unwrap().contains("already has a signed report"), "{outcome}");
    }
    assert_eq!(ledger_of(&tech, ids[0]).await.len(), 1);
}

#[tokio::test]
async fn a_returned_visit_signed_again_is_an_amendment_naming_the_first_report() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let supervisor = server.client("supervisor").await;
    let id = assigned(&tech).await[0];
    let first = tech.sign_visit(id, 1).await;
    let (status, body) = supervisor
        .post(&format!("/v1/work-orders/{id}/review"), json!({"decision": "return", "reason": "缺少铭牌照片"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (visit, seq) = tech.sign_off_visit(id, first.next_seq, &[StatusAction::Reopen], Some(&first.visit)).await;
    assert_eq!(visit.work_order.visit_version, 1);
    let amendment = tech.sign_report(&visit, Some(first.report.hash.clone()));
    assert_eq!(tech.push_report(seq, &amendment).await["outcome"], "applied");

    let entries = ledger_of(&supervisor, id).await;
    assert_eq!(entries.len(), 2, "both versions are kept");
    assert_eq!(entries[0]["hash"], first.report.hash.as_str());
    assert_eq!(entries[1]["previous"], first.report.hash.as_str());
    assert_eq!(entries[1]["visit_version"], 1);
    let (ok, text) = verify_cli(&server, &[&amendment.hash]);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("amends report {}", short_code(&first.report.hash))), "{text}");
}

#[tokio::test]
async fn the_ledger_is_insert_only_and_a_change_behind_its_back_is_found() {
    let server = Server::start().await;
    let tech = server.client("tech1").await;
    let ids = assigned(&tech).await;
    let first = tech.sign_visit(ids[0], 1).await;
    let second = tech.sign_visit(ids[1], first.next_seq).await;

    let conn = rusqlite::Connection::open(&server.db_path).unwrap();
    let update = conn.execute("UPDATE report_ledger SET signature = 'x' WHERE seq = 1", []);
    assert!(update.unwrap_err().to_string().contains("insert-only"));
    let delete = conn.execute("DELETE FROM report_ledger WHERE seq = 2", []);
    assert!(delete.unwrap_err().to_string().contains("insert-only"));

    // Someone with the database file drops the guard and rewrites the first report.
    conn.execute_batch(
        "DROP TRIGGER report_ledger_is_insert_only_update;
         UPDATE report_ledger SET document = replace(document, '满意', '不满意') WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);
    let (ok, text) = verify_cli(&server, &[&first.report.hash, "--ledger"]);
    assert!(!ok, "{text}");
    assert!(text.contains("TAMPERED"), "{text}");
    assert!(text.contains("LEDGER BROKEN at entry 1"), "{text}");
    // The second report is itself unchanged, but the chain before it is broken.
    let (ok, text) = verify_cli(&server, &[&short_code(&second.report.hash), "--ledger"]);
    assert!(!ok, "{text}");
    assert!(text.contains("INTACT") && text.contains("LEDGER BROKEN at entry 1"), "{text}");
    // An unknown hash is not in the ledger.
    let (ok, text) = verify_cli(&server, &["0123456789abcdef"]);
    assert!(!ok && text.contains("NOT IN THE LEDGER"), "{text}");
}
