//! Load benchmark of the server on loopback, with simulated devices:
//!
//! 1. ingest: devices push batches of 500 notes on their technicians' work orders; records
//!    stored per second (goal ≥ 10,000/s on 2 cores);
//! 2. idle sync: 2,000 devices that are up to date each pull their stream; the round trip
//!    (an upper bound of the server's time) p50 / p99 and the response size (goal: one round
//!    trip, < 1 KB, p99 < 5 ms).
//!
//! Run with `cargo bench -p fieldbook-server --bench load`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fieldbook_domain::{MutationId, Note, NoteId, WorkOrderId};
use fieldbook_protocol::{ChangeBody, Mutation, MutationOp, PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse};
use fieldbook_server::{AppState, Config, SystemClock, auth};
use fieldbook_server_db::{Database, NewDevice};
use fieldbook_server_sqlite::SqliteDatabase;

const DEVICES: usize = 2000;
const INGEST_DEVICES: usize = 12;
const BATCH: usize = 500;
const BATCHES_PER_DEVICE: usize = 10;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(dir.path().join("load.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 300, "load-test-pw", Utc::now()).await.unwrap();
    let technicians: Vec<_> =
        db.users().await.unwrap().into_iter().filter(|u| u.role == fieldbook_domain::Role::Technician).collect();
    // Devices are enrolled straight into storage: 2,000 argon2 sign-ins would measure argon2.
    let mut tokens = Vec::new();
    for i in 0..DEVICES {
        let token = auth::new_token();
        let user = &technicians[i % technicians.len()];
        db.create_device(NewDevice {
            id: format!("device-{i:05}"),
            user_id: user.id,
            name: format!("simulated tablet {i}"),
            token_hash: auth::token_hash(&token),
            enrolled_at: Utc::now(),
            public_key: None,
        })
        .await
        .unwrap();
        tokens.push((token, user.id));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Arc::new(SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();

    // Each technician's work orders, from their stream.
    let mut work_orders: Vec<(fieldbook_domain::UserId, Vec<WorkOrderId>)> = Vec::new();
    for user in &technicians {
        let (token, _) = tokens.iter().find(|(_, u)| *u == user.id).unwrap();
        let page: PullResponse = http
            .get(format!("{base}/v1/sync/pull?after=0&limit=1000"))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids = page
            .changes
            .iter()
            .filter_map(|c| match &c.body {
                ChangeBody::WorkOrder { work_order } => Some(work_order.id),
                _ => None,
            })
            .collect();
        work_orders.push((user.id, ids));
    }

    // 1. Ingest.
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (token, user) in tokens.iter().take(INGEST_DEVICES).cloned() {
        let http = http.clone();
        let base = base.clone();
        let ids = work_orders.iter().find(|(u, _)| *u == user).unwrap().1.clone();
        tasks.push(tokio::spawn(async move {
            let mut seq = 0;
            for _ in 0..BATCHES_PER_DEVICE {
                let mutations: Vec<Mutation> = (0..BATCH)
                    .map(|i| {
                        seq += 1;
                        let note = Note {
                            id: NoteId::new(),
                            work_order_id: ids[i % ids.len()],
                            author: Some(user),
                            text: format!("巡检记录 {seq}: 设备运行正常"),
                            written_at: Utc::now(),
                        };
                        Mutation {
                            seq,
                            id: MutationId::new(),
                            hlc: fieldbook_domain::Hlc::at(seq as i64),
                            op: MutationOp::Note(note),
                        }
                    })
                    .collect();
                let response = http
                    .post(format!("{base}/v1/sync/push"))
                    .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "mutations": mutations }))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.text().await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let took = start.elapsed();
    let records = INGEST_DEVICES * BATCH * BATCHES_PER_DEVICE;
    println!(
        "ingest: {records} records from {INGEST_DEVICES} devices in batches of {BATCH}: {:.2} s",
        took.as_secs_f64()
    );
    println!("ingest rate: {:.0} records/s (goal >= 10,000/s)", records as f64 / took.as_secs_f64());

    // 2. Idle sync: catch every device up, then time one pull each, several rounds.
    let mut cursors = std::collections::HashMap::new();
    for user in &technicians {
        let (token, _) = tokens.iter().find(|(_, u)| *u == user.id).unwrap();
        let mut after = 0;
        loop {
            let page: PullResponse = http
                .get(format!("{base}/v1/sync/pull?after={after}&limit=1000"))
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            after = page.cursor;
            if !page.more {
                break;
            }
        }
        cursors.insert(user.id, after);
    }
    println!();
    for concurrency in [1, 32] {
        let mut samples = Vec::new();
        let mut max_bytes = 0usize;
        let start = Instant::now();
        for chunk in tokens.chunks(concurrency) {
            let mut batch = Vec::new();
            for (token, user) in chunk.iter().cloned() {
                let http = http.clone();
                let url = format!("{base}/v1/sync/pull?after={}", cursors[&user]);
                batch.push(tokio::spawn(async move {
                    let start = Instant::now();
                    let response = http
                        .get(url)
                        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    let body = response.bytes().await.unwrap();
                    (start.elapsed(), body.len())
                }));
            }
            for task in batch {
                let (took, bytes) = task.await.unwrap();
                samples.push(took);
                max_bytes = max_bytes.max(bytes);
            }
        }
        let wall = start.elapsed();
        samples.sort();
        println!(
            "idle sync, {DEVICES} up-to-date devices, {concurrency} at a time: round trip p50 {}  p99 {}  max {}; {:.0} syncs/s; body <= {max_bytes} bytes",
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99)),
            ms(*samples.last().unwrap()),
            samples.len() as f64 / wall.as_secs_f64(),
        );
    }
    println!("(one request per sync; goals: body < 1 KB, p99 < 5 ms)");
}
