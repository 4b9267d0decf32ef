//! The device killed with SIGKILL in the middle of syncing, many times: between a local commit
//! and its push, during a push, between the server's answer and the outbox acknowledgement,
//! between a pulled page and its cursor. After a restart and one sync, the server holds every
//! note the device acknowledged, each exactly once.
//!
//! `FIELDBOOK_SYNC_KILLS` sets the number of kills (default 60).

use fieldbook_domain::evidence::DeviceKey;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use fieldbook_store::{ListQuery, Store};
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};
use rand::{Rng, SeedableRng};

const PASSWORD: &str = "crash-pw-1234";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_while_syncing_loses_and_duplicates_nothing() {
    let kills: usize = std::env::var("FIELDBOOK_SYNC_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = fieldbook_server_sqlite::SqliteDatabase::open(&db_path).unwrap();
        fieldbook_server::demo::load(&db, 60, PASSWORD, Utc::now()).await.unwrap();
    }
    let mut server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_fieldbook-test-server"))
            .arg(&db_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = format!("http://127.0.0.1:{}", line.trim().strip_prefix("listening ").unwrap());

    let device_path = dir.path().join("device.sqlite");
    let (client, enrolled) =
        SyncClient::enroll(&base, "tech1", PASSWORD, "crashing tablet", &DeviceKey::generate().public_key())
            .await
            .unwrap();
    {
        let store = Mutex::new(Store::open(&device_path).unwrap());
        remember_enrollment(&store, &base, &enrolled).unwrap();
        sync_once(&store, &client, Utc::now()).await.unwrap();
    }

    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut acknowledged = Vec::new();
    for _ in 0..kills {
        let mut victim = Command::new(env!("CARGO_BIN_EXE_fieldbook-sync-victim"))
            .args([device_path.to_str().unwrap(), &base, &enrolled.token])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = victim.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ack ").map(str::to_owned))
                .collect::<Vec<_>>()
        });
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..200))).await;
        victim.kill().unwrap(); // SIGKILL
        victim.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());
    }
    assert!(acknowledged.len() > kills, "the victim wrote between kills ({} notes)", acknowledged.len());

    // Restarted, the device syncs once more.
    let store = Mutex::new(Store::open(&device_path).unwrap());
    assert_eq!(store.lock().unwrap().integrity_check().unwrap(), "ok");
    sync_once(&store, &client, Utc::now()).await.unwrap();
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 0);
    assert!(store.lock().unwrap().conflicts().unwrap().is_empty());

    // A fresh device sees every acknowledged note exactly once, and nothing the device lacks.
    let fresh = Mutex::new(Store::open(dir.path().join("fresh.sqlite")).unwrap());
    let fresh_key = fresh.lock().unwrap().device_key().unwrap().public_key();
    let (fresh_client, fresh_enrolled) =
        SyncClient::enroll(&base, "tech1", PASSWORD, "fresh", &fresh_key).await.unwrap();
    remember_enrollment(&fresh, &base, &fresh_enrolled).unwrap();
    sync_once(&fresh, &fresh_client, Utc::now()).await.unwrap();
    let notes = |store: &Mutex<Store>| -> Vec<String> {
        let s = store.lock().unwrap();
        let (rows, _) = s.list_work_orders(&ListQuery { limit: 1000, ..Default::default() }).unwrap();
        rows.iter().flat_map(|r| s.visit(r.work_order.id).unwrap().notes).map(|n| n.id.to_string()).collect()
    };
    let on_server = notes(&fresh);
    let on_device = notes(&store);
    let unique: HashSet<&String> = on_server.iter().collect();
    assert_eq!(unique.len(), on_server.len(), "no note twice");
    assert_eq!(on_server.iter().collect::<HashSet<_>>(), on_device.iter().collect::<HashSet<_>>());
    let missing: Vec<_> = acknowledged.iter().filter(|id| !unique.contains(id)).collect();
    assert!(missing.is_empty(), "{} acknowledged notes never reached the server", missing.len());
    eprintln!("{kills} kills, {} acknowledged notes, {} on the server", acknowledged.len(), on_server.len());
}

/// Stops a child process however the test ends, so no orphan holds the test's pipes.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
