//! Kill -9 at random moments while the app writes: every acknowledged write must be there
//! afterwards, the database must be intact, and the outbox must hold exactly one row per write.
//!
//! `FIELDBOOK_CRASH_ITERATIONS` raises the number of kills (default 200).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fieldbook_app::{App, WorkOrderQuery};
use fieldbook_domain::{FixedClock, StatusAction, WorkOrderStatus};
use fieldbook_store::Store;
use rand::{Rng, SeedableRng};

#[test]
fn acknowledged_writes_survive_sigkill() {
    let iterations: u32 = std::env::var("FIELDBOOK_CRASH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let data = fieldbook_demo::generate(&fieldbook_demo::DemoOptions::new(60, now));
    let technician = data.technicians[0].id;
    let work_order = {
        let mut store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
        store.import(&data.for_technician(technician)).unwrap();
        let app = App::with_store(store, Arc::new(FixedClock(now)));
        app.sign_in_as(technician).unwrap();
        let list = app
            .list_work_orders(WorkOrderQuery { statuses: vec![WorkOrderStatus::Assigned], ..Default::default() })
            .unwrap();
        let id = list
            .items
            .iter()
            .map(|s| app.work_order_detail(&s.id).unwrap())
            .find(|d| d.template.is_some())
            .expect("an assigned work order with a checklist")
            .summary
            .id;
        app.change_status(&id, StatusAction::SetOff).unwrap();
        app.change_status(&id, StatusAction::Arrive).unwrap();
        id
    };

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut acknowledged: Vec<String> = Vec::new();
    let mut killed_mid_run = 0;
    for i in 0..iterations {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook-crash-writer"))
            .args([dir.path().to_str().unwrap(), &work_order, &i.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Killed at a random moment after the app is open: among the writes.
        assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"), "the writer started");
        let reader = std::thread::spawn(move || {
            lines.map_while(Result::ok).filter_map(|l| l.strip_prefix("ack ").map(str::to_owned)).collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_micros(rng.random_range(1_000..40_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer never stops by itself; it must have been killed");
        let acks = reader.join().unwrap();
        if !acks.is_empty() {
            killed_mid_run += 1;
        }
        acknowledged.extend(acks);
    }
    assert!(killed_mid_run >= iterations / 2, "most kills should land while writing ({killed_mid_run}/{iterations})");

    let store = Store::open(dir.path().join("fieldbook.sqlite")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let stored: HashSet<String> = {
        let visit = store.visit(work_order.parse().unwrap()).unwrap();
        visit.results.iter().map(|r| r.id.to_string()).collect()
    };
    let missing: Vec<_> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
    // Exactly one outbox row per stored answer (acknowledged or committed just before a kill),
    // and none for an answer that is not stored.
    let outbox = store.outbox(u32::MAX).unwrap();
    let queued: Vec<&str> =
        outbox.iter().filter(|e| e.entity == "inspection_result").map(|e| e.entity_id.as_str()).collect();
    assert_eq!(queued.len(), stored.len(), "one outbox row per write");
    assert_eq!(queued.iter().copied().collect::<HashSet<_>>(), stored.iter().map(String::as_str).collect());
    eprintln!(
        "{iterations} kills, {} acknowledged writes, {} stored (the rest committed just before a kill)",
        acknowledged.len(),
        stored.len()
    );
}
