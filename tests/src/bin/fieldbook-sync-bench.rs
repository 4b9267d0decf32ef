//! Fieldbook's first sync of a technician's whole workload against PouchDB replication of the
//! same documents, and against bulk-loading them straight into SQLite (the limit), on
//! loopback in one run. Prints wall time and bytes on the wire, and their ratios.
//!
//! `cargo run --release -p fieldbook-tests --bin fieldbook-sync-bench -- [WORK_ORDERS]`
//! (default 10,000; needs Node and `npm ci --prefix bench/pouchdb`; `./dev bench-sync` does
//! both). Not part of CI.
//!
//! Each side runs `FIELDBOOK_BENCH_RUNS` times (default 5), one round after another: Fieldbook's
//! first sync to a fresh device, the bulk load into a fresh file, and PouchDB's replication
//! into a fresh pouchdb-server and client. Each round is printed, then the medians and their
//! ratios.
//!
//! For working on Fieldbook's side alone: `FIELDBOOK_BENCH_FIELDBOOK_ONLY=1` runs only
//! Fieldbook's syncs; `FIELDBOOK_BENCH_DUMP=DIR` (with `FIELDBOOK_BENCH_DUMP_PAGE=N`, default
//! the client's page) writes the pull pages as the server sends them (before compression) to
//! DIR; `FIELDBOOK_BENCH_APPLY=DIR` parses and applies such pages to a fresh store three
//! times and prints the time of each step, with no server.

use fieldbook_domain::evidence::DeviceKey;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::{User, WorkOrderStatus};
use fieldbook_protocol::{ChangeBody, Mutation, MutationOp, UserInfo};
use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_db::{Database, ReferenceBatch, UserRecord};
use fieldbook_server_sqlite::SqliteDatabase;
use fieldbook_store::Store;
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "bench-password";

/// A loopback TCP proxy that counts the bytes each way.
struct Counter {
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
}

async fn counting_proxy(target: String) -> (String, Arc<Counter>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let counter = Arc::new(Counter { up: 0.into(), down: 0.into(), connections: 0.into() });
    let counts = counter.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            counts.connections.fetch_add(1, Ordering::Relaxed);
            let server = tokio::net::TcpStream::connect(&target).await.unwrap();
            // As the PouchDB side's proxy does (bench/pouchdb/replicate.mjs): without it,
            // Nagle's algorithm holds back a response's last partial segment until the
            // receiver's delayed acknowledgement, adding up to 40 ms to a page.
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let (up, down) = (counts.clone(), counts.clone());
            tokio::spawn(async move { pump(&mut client_read, &mut server_write, &up.up).await });
            tokio::spawn(async move { pump(&mut server_read, &mut client_write, &down.down).await });
        }
    });
    (address, counter)
}

async fn pump(from: &mut (impl AsyncReadExt + Unpin), to: &mut (impl AsyncWriteExt + Unpin), count: &AtomicU64) {
    let mut buffer = vec![0; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 || to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}

fn account(user: &User, username: &str, hash: &str, supervisor: Option<&User>) -> UserRecord {
    UserRecord {
        info: UserInfo {
            id: user.id,
            username: username.to_owned(),
            name: user.name.clone(),
            staff_no: user.staff_no.clone(),
            role: user.role,
            supervisor_id: supervisor.map(|s| s.id),
            disabled: false,
        },
        password_hash: hash.to_owned(),
    }
}

/// The server holding `work_orders` work orders of tech1, with the checklist results of every
/// visit that has them (pushed by a seeding device, as a real device would have).
async fn seeded_server(dir: &Path, work_orders: usize) -> (String, Arc<dyn Database>) {
    let now = Utc::now();
    let mut options = DemoOptions::new(work_orders * 3, now);
    options.detailed_history = usize::MAX;
    let data = generate(&options);
    let technician = data.technicians[0].clone();
    let mut batch = data.for_technician(technician.id);
    // Visits with results are on site on the server, so the results are accepted as pushed.
    let with_results: std::collections::HashSet<_> = batch.results.iter().map(|r| r.work_order_id).collect();
    for work_order in &mut batch.work_orders {
        if with_results.contains(&work_order.id) {
            work_order.status = WorkOrderStatus::OnSite;
            work_order.completed_at = None;
        }
    }
    let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(dir.join("server.sqlite")).unwrap());
    let hash = fieldbook_server::auth::hash_password(PASSWORD);
    db.create_user(account(&data.supervisor, "supervisor", &hash, None)).await.unwrap();
    db.create_user(account(&technician, "tech1", &hash, Some(&data.supervisor))).await.unwrap();
    db.import(ReferenceBatch {
        policies: batch.policies.clone(),
        customers: batch.customers.clone(),
        sites: batch.sites.clone(),
        assets: batch.assets.clone(),
        templates: batch.templates.clone(),
        parts: Vec::new(),
        work_orders: batch.work_orders.clone(),
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Arc::new(SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    // The seeding device pushes every result.
    let (seeder, _) =
        SyncClient::enroll(&base, "tech1", PASSWORD, "seeder", &DeviceKey::generate().public_key()).await.unwrap();
    for (chunk_no, chunk) in batch.results.chunks(1000).enumerate() {
        let mutations: Vec<Mutation> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| Mutation {
                seq: (chunk_no * 1000 + i + 1) as u64,
                id: fieldbook_domain::MutationId::new(),
                hlc: r.hlc,
                op: MutationOp::InspectionResult(r.clone()),
            })
            .collect();
        let response = seeder.push(&mutations).await.unwrap();
        assert!(response.outcomes.iter().all(|o| matches!(o.outcome, fieldbook_protocol::Outcome::Applied)));
    }
    eprintln!("server: {} work orders of tech1, {} checklist results", batch.work_orders.len(), batch.results.len());
    (base, db)
}

/// Rows of the data set: reference documents (customers, sites, assets, templates, policies,
/// users) and work orders with their results.
struct Rows {
    reference: Vec<(String, String)>,
    work_orders: Vec<(String, String, Vec<String>)>,
}

/// The same data as PouchDB documents, modelled as a CouchDB user would: one document per
/// work order with its checklist results embedded, and one per customer, site, asset,
/// template, policy and user, which the work orders name by id. Nothing is repeated.
async fn documents(base: &str, out: &Path) -> (usize, Rows) {
    let (client, _) =
        SyncClient::enroll(base, "tech1", PASSWORD, "exporter", &DeviceKey::generate().public_key()).await.unwrap();
    let mut work_orders: BTreeMap<String, (serde_json::Value, Vec<serde_json::Value>)> = BTreeMap::new();
    let mut reference: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = client.pull(after, 1000).await.unwrap();
        let r = &page.reference;
        let mut add = |kind: &str, id: String, value: serde_json::Value| {
            reference.insert(format!("{kind}:{id}"), value);
        };
        r.policies.iter().for_each(|x| add("policy", x.id.to_string(), serde_json::to_value(x).unwrap()));
        r.customers.iter().for_each(|x| add("customer", x.id.to_string(), serde_json::to_value(x).unwrap()));
        r.sites.iter().for_each(|x| add("site", x.id.to_string(), serde_json::to_value(x).unwrap()));
        r.assets.iter().for_each(|x| add("asset", x.id.to_string(), serde_json::to_value(x).unwrap()));
        r.templates.iter().for_each(|x| add("template", x.id.to_string(), serde_json::to_value(x).unwrap()));
        r.users.iter().for_each(|x| add("user", x.id.to_string(), serde_json::to_value(x).unwrap()));
        for change in page.changes {
            match change.body {
                ChangeBody::WorkOrder { work_order } => {
                    work_orders.entry(work_order.id.to_string()).or_default().0 =
                        serde_json::to_value(&work_order).unwrap()
                }
                ChangeBody::Record { op: MutationOp::InspectionResult(r) } => work_orders
                    .entry(r.work_order_id.to_string())
                    .or_default()
                    .1
                    .push(serde_json::to_value(&r).unwrap()),
                _ => {}
            }
        }
        after = page.cursor;
        if !page.more {
            break;
        }
    }
    let mut lines = String::new();
    let mut rows = Rows { reference: Vec::new(), work_orders: Vec::new() };
    for (id, value) in &reference {
        lines.push_str(&serde_json::json!({"_id": id, "doc": value}).to_string());
        lines.push('\n');
        rows.reference.push((id.clone(), value.to_string()));
    }
    for (id, (work_order, results)) in &work_orders {
        let doc = serde_json::json!({"_id": id, "work_order": work_order, "results": results});
        lines.push_str(&doc.to_string());
        lines.push('\n');
        rows.work_orders.push((id.clone(), work_order.to_string(), results.iter().map(|r| r.to_string()).collect()));
    }
    std::fs::write(out, lines).unwrap();
    (work_orders.len(), rows)
}

/// The limit: the same rows written straight into a fresh SQLite file with the device's
/// durability settings, in one transaction.
fn bulk_load(dir: &Path, rows: &Rows, run: usize) -> f64 {
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(dir.join(format!("bulk-{run}.sqlite"))).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE reference (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT;
         CREATE TABLE work_orders (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT;
         CREATE TABLE results (work_order_id TEXT NOT NULL, body TEXT NOT NULL) STRICT;",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut reference = tx.prepare("INSERT INTO reference (id, body) VALUES (?1, ?2)").unwrap();
        for (id, body) in &rows.reference {
            reference.execute([id, body]).unwrap();
        }
        let mut work_order = tx.prepare("INSERT INTO work_orders (id, body) VALUES (?1, ?2)").unwrap();
        let mut result = tx.prepare("INSERT INTO results (work_order_id, body) VALUES (?1, ?2)").unwrap();
        for (id, body, results) in &rows.work_orders {
            work_order.execute([id, body]).unwrap();
            for r in results {
                result.execute([id, r]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    started.elapsed().as_secs_f64()
}

/// Applies pages dumped by `FIELDBOOK_BENCH_DUMP` to a fresh store, timing parsing (with
/// making each page ready to write) and applying apart (for profiling the device's side alone).
fn apply_dumped(pages: &Path) {
    let mut files: Vec<_> = std::fs::read_dir(pages).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let texts: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("device.sqlite")).unwrap();
        let (mut parse, mut apply) = (0.0, 0.0);
        store.set_bulk_pull(true).unwrap();
        for text in &texts {
            // Parsing and making the page ready, as the task reading a pull stream does.
            let started = Instant::now();
            let page: fieldbook_protocol::PullResponse = serde_json::from_slice(text).unwrap();
            let page = fieldbook_sync::ReadyPage::of(page);
            parse += started.elapsed().as_secs_f64();
            let started = Instant::now();
            page.apply(&mut store, Utc::now()).unwrap();
            apply += started.elapsed().as_secs_f64();
        }
        let started = Instant::now();
        store.set_bulk_pull(false).unwrap();
        let indexes = started.elapsed().as_secs_f64();
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
        println!(
            "round {round}: parse {parse:.3} s, apply {apply:.3} s, indexes {indexes:.3} s; store file {} bytes, WAL {} bytes",
            size("device.sqlite"),
            size("device.sqlite-wal")
        );
    }
}

/// One fresh device's first sync through the counting proxy: (seconds, bytes up, bytes down,
/// changes pulled, checklist results on the device).
async fn fieldbook_first_sync(dir: &Path, proxied: &str, counter: &Counter, run: usize) -> (f64, u64, u64, usize, i64) {
    let device = std::sync::Mutex::new(Store::open(dir.join(format!("device-{run}.sqlite"))).unwrap());
    let device_key = device.lock().unwrap().device_key().unwrap().public_key();
    let (client, enrolled) =
        SyncClient::enroll(proxied, "tech1", PASSWORD, &format!("bench tablet {run}"), &device_key).await.unwrap();
    remember_enrollment(&device, proxied, &enrolled).unwrap();
    let before = (counter.up.load(Ordering::Relaxed), counter.down.load(Ordering::Relaxed));
    let started = Instant::now();
    let report = sync_once(&device, &client, Utc::now()).await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let up = counter.up.load(Ordering::Relaxed) - before.0;
    let down = counter.down.load(Ordering::Relaxed) - before.1;
    let results = device.lock().unwrap().count("SELECT COUNT(*) FROM inspection_results").unwrap();
    if run == 0
        && let Ok(out) = std::env::var("FIELDBOOK_BENCH_DUMP")
    {
        // The pages as the server serialises them, for looking at the wire format.
        let mut after = 0;
        for n in 0.. {
            let size =
                std::env::var("FIELDBOOK_BENCH_DUMP_PAGE").map_or(fieldbook_sync::PULL_PAGE, |v| v.parse().unwrap());
            let page = client.pull(after, size).await.unwrap();
            std::fs::write(format!("{out}/page{n:02}.json"), serde_json::to_string(&page).unwrap()).unwrap();
            after = page.cursor;
            if !page.more {
                break;
            }
        }
    }
    (seconds, up, down, report.pulled, results)
}

/// PouchDB's one-shot replication of the same documents, in a fresh pouchdb-server and client:
/// (seconds, bytes on the wire, connections, client description).
fn pouchdb_replication(docs: &Path, workdir: &Path) -> (f64, u64, serde_json::Value, serde_json::Value) {
    std::fs::create_dir_all(workdir).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = std::process::Command::new("node")
        .arg(root.join("bench/pouchdb/replicate.mjs"))
        .arg("--docs")
        .arg(docs)
        .arg("--workdir")
        .arg(workdir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("node runs (install bench/pouchdb with npm ci first)");
    assert!(output.status.success(), "the PouchDB side failed");
    let pouch: serde_json::Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap()).unwrap();
    let bytes = pouch["bytes_server_to_client"].as_u64().unwrap() + pouch["bytes_client_to_server"].as_u64().unwrap();
    (pouch["seconds"].as_f64().unwrap(), bytes, pouch["connections"].clone(), pouch["client_adapter"].clone())
}

/// Writes every dirty page of every file to disk, so that no side's measured syncs also pay for
/// flushing what the previous step left behind (on ext4 an fsync can wait for other files'
/// data: the 23 MB of documents written just before made a bulk load 0.21 s instead of 0.145).
fn settle() {
    let status = std::process::Command::new("sync").status().expect("sync runs");
    assert!(status.success(), "sync failed");
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::main]
async fn main() {
    if let Ok(pages) = std::env::var("FIELDBOOK_BENCH_APPLY") {
        apply_dumped(Path::new(&pages));
        return;
    }
    let work_orders: usize = std::env::args().nth(1).map(|n| n.parse().expect("a number")).unwrap_or(10_000);
    // Rounds of the whole comparison, each side once per round, side by side: a 2-core
    // machine's noise moves any single run by a fifth, so the medians are compared.
    let runs: usize = std::env::var("FIELDBOOK_BENCH_RUNS").map_or(5, |v| v.parse().expect("a number of runs"));
    assert!(runs >= 1, "FIELDBOOK_BENCH_RUNS must be at least 1");
    let dir = tempfile::tempdir().unwrap();
    let (base, _db) = seeded_server(dir.path(), work_orders).await;
    let (proxied, counter) = counting_proxy(base.trim_start_matches("http://").to_owned()).await;

    if std::env::var_os("FIELDBOOK_BENCH_FIELDBOOK_ONLY").is_some() {
        // For iterating on Fieldbook's side alone.
        for run in 0..runs {
            settle();
            let (seconds, up, down, pulled, results) = fieldbook_first_sync(dir.path(), &proxied, &counter, run).await;
            println!(
                "Fieldbook first sync: {seconds:.3} s, {} bytes on the wire ({down} down, {up} up), {pulled} changes pulled, {results} results",
                up + down
            );
        }
        return;
    }
    // The same documents for PouchDB, and the bulk-load limit.
    let docs_path = dir.path().join("docs.jsonl");
    let (doc_count, rows) = documents(&base, &docs_path).await;
    let json_bytes = std::fs::metadata(&docs_path).unwrap().len();
    println!(
        "data set: {doc_count} work orders of one technician, {} reference documents ({:.1} MB as JSON documents); {runs} rounds",
        rows.reference.len(),
        json_bytes as f64 / 1e6
    );
    let (mut fieldbook, mut pouch, mut bulk) = (Vec::new(), Vec::new(), Vec::new());
    let (mut fieldbook_bytes, mut pouch_bytes) = (Vec::new(), Vec::new());
    for run in 0..runs {
        settle();
        let (seconds, up, down, pulled, results) = fieldbook_first_sync(dir.path(), &proxied, &counter, run).await;
        settle();
        let bulk_seconds = bulk_load(dir.path(), &rows, run);
        settle();
        let (pouch_seconds, bytes, connections, client) =
            pouchdb_replication(&docs_path, &dir.path().join(format!("pouch-{run}")));
        println!(
            "round {}: Fieldbook first sync {seconds:.3} s, {} bytes ({down} down, {up} up), {pulled} changes pulled, {results} results | PouchDB {pouch_seconds:.3} s, {bytes} bytes, {connections} connections, client {client} | SQLite bulk load {bulk_seconds:.3} s | {:.1}x PouchDB, {:.2}x bulk load",
            run + 1,
            up + down,
            pouch_seconds / seconds,
            seconds / bulk_seconds
        );
        fieldbook.push(seconds);
        fieldbook_bytes.push((up + down) as f64);
        bulk.push(bulk_seconds);
        pouch.push(pouch_seconds);
        pouch_bytes.push(bytes as f64);
    }
    let (f, p, b) = (median(&fieldbook), median(&pouch), median(&bulk));
    let (fb, pb) = (median(&fieldbook_bytes), median(&pouch_bytes));
    println!("medians of {runs} rounds:");
    println!("Fieldbook first sync: {f:.3} s, {fb:.0} bytes on the wire");
    println!("PouchDB replication:  {p:.3} s, {pb:.0} bytes on the wire");
    println!("SQLite bulk load:     {b:.3} s (same rows, one transaction, WAL, synchronous=FULL)");
    println!(
        "ratios: PouchDB time / Fieldbook time = {:.1}x (goal >= 10x); Fieldbook bytes / PouchDB bytes = {:.2}x (goal <= 0.3x); Fieldbook time / bulk load = {:.2}x (goal <= 2x)",
        p / f,
        fb / pb,
        f / b
    );
}
