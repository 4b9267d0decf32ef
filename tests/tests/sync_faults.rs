//! Sync under the failures a basement, a lift and a flaky 4G link produce. A fault-injecting
//! TCP proxy (in this test, on loopback) sits between a device and the real server running in
//! its own process. Each connection may be dropped before its request, dropped after the
//! request reached the server (which committed) but before the answer, cut mid-answer, delayed,
//! sent twice, or reset; now and then the server is killed with SIGKILL and started again on
//! the same file. After the sessions, one clean sync, then the oracle: the device sent
//! everything, the server holds every record exactly once, and a fresh device of the same
//! technician sees the very same visits.
//!
//! `FIELDBOOK_SYNC_SESSIONS` sets the number of faulty sessions (default 1000).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_server_db::Database;
use fieldbook_store::{ListQuery, NewAnswer, Store};
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "faults-pw-123";

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Pass,
    DropBeforeRequest,
    /// The server gets and commits the request; the device never hears back.
    DropAfterRequest,
    MidResponse,
    Delay,
    /// The request reaches the server twice; the device gets the second answer.
    Duplicate,
    Reset,
}

struct Proxy {
    addr: SocketAddr,
    upstream: Arc<Mutex<SocketAddr>>,
    fault_rate: Arc<Mutex<f64>>,
    seen: Arc<Mutex<Vec<Fault>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = Arc::new(Mutex::new(upstream));
        let fault_rate = Arc::new(Mutex::new(0.0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let (up, rate, log) = (upstream.clone(), fault_rate.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let fault = {
                    let mut rng = rng.lock().unwrap();
                    if rng.random_bool(*rate.lock().unwrap()) {
                        [
                            Fault::DropBeforeRequest,
                            Fault::DropAfterRequest,
                            Fault::MidResponse,
                            Fault::Delay,
                            Fault::Duplicate,
                            Fault::Reset,
                        ][rng.random_range(0..6)]
                    } else {
                        Fault::Pass
                    }
                };
                log.lock().unwrap().push(fault);
                let upstream = *up.lock().unwrap();
                tokio::spawn(async move {
                    let _ = handle(client, upstream, fault).await;
                });
            }
        });
        Proxy { addr, upstream, fault_rate, seen }
    }

    fn set_fault_rate(&self, rate: f64) {
        *self.fault_rate.lock().unwrap() = rate;
    }
}

/// Reads one HTTP/1.1 request (head and Content-Length body).
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap_or(0))
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    // One request per connection upstream: the server closes after answering.
    let line_end = buffer.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut request = buffer[..line_end].to_vec();
    request.extend_from_slice(b"connection: close\r\n");
    request.extend_from_slice(&buffer[line_end..]);
    Ok(request)
}

async fn forward(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    Ok(response)
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Fault) -> std::io::Result<()> {
    if fault == Fault::DropBeforeRequest {
        return Ok(());
    }
    let request = read_request(&mut client).await?;
    match fault {
        Fault::Reset => {
            // A zero linger makes the close an RST. (Deprecated because a non-zero linger
            // blocks the thread on drop; zero does not wait.)
            #[allow(deprecated)]
            client.set_linger(Some(Duration::ZERO))?;
            return Ok(());
        }
        Fault::Delay => tokio::time::sleep(Duration::from_millis(150)).await,
        _ => {}
    }
    let mut response = forward(upstream, &request).await?;
    if fault == Fault::Duplicate {
        response = forward(upstream, &request).await?;
    }
    match fault {
        Fault::DropAfterRequest => Ok(()),
        Fault::MidResponse => client.write_all(&response[..response.len() / 2]).await,
        _ => client.write_all(&response).await,
    }
}

/// The server in its own process, killed with SIGKILL on restart.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(db: &std::path::Path) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook-test-server"))
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port: u16 = line.trim().strip_prefix("listening ").unwrap().parse().unwrap();
        ServerProcess { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) }
    }

    fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn list(store: &Mutex<Store>) -> Vec<WorkOrder> {
    let store = store.lock().unwrap();
    let (rows, _) = store.list_work_orders(&ListQuery { limit: 10_000, ..Default::default() }).unwrap();
    rows.into_iter().map(|r| r.work_order).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_faulty_sync_sessions_lose_nothing_and_duplicate_nothing() {
    let sessions: usize = std::env::var("FIELDBOOK_SYNC_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = fieldbook_server_sqlite::SqliteDatabase::open(&db_path).unwrap();
        fieldbook_server::demo::load(&db, 180, PASSWORD, Utc::now()).await.unwrap();
    }
    let mut server = ServerProcess::start(&db_path);
    let proxy = Proxy::start(server.addr, 11).await;
    let direct = format!("http://{}", server.addr);
    let through_proxy = format!("http://{}", proxy.addr);

    let store = Mutex::new(Store::open(dir.path().join("device.sqlite")).unwrap());
    let store_key = store.lock().unwrap().device_key().unwrap().public_key();
    let (_, enrolled) = SyncClient::enroll(&direct, "tech1", PASSWORD, "faulty tablet", &store_key).await.unwrap();
    remember_enrollment(&store, &through_proxy, &enrolled).unwrap();
    let client = SyncClient::new(&through_proxy, &enrolled.token);
    sync_once(&store, &client, Utc::now()).await.unwrap();

    // Two visits under way, so answers as well as notes are written between sessions.
    let mine = list(&store);
    let visits: Vec<WorkOrder> = mine
        .iter()
        .filter(|w| w.status == WorkOrderStatus::Assigned && w.template_id.is_some())
        .take(2)
        .cloned()
        .collect();
    assert_eq!(visits.len(), 2);
    for wo in &visits {
        let mut s = store.lock().unwrap();
        s.change_status(wo.id, StatusAction::SetOff, Utc::now()).unwrap();
        s.change_status(wo.id, StatusAction::Arrive, Utc::now()).unwrap();
    }
    let items: Vec<ChecklistItem> = {
        let s = store.lock().unwrap();
        s.template(visits[0].template_id.unwrap()).unwrap().unwrap().items
    };

    let mut rng = StdRng::seed_from_u64(2026);
    let mut written = 0;
    let mut failed_sessions = 0;
    let mut restarts = 0;
    let mut correctives = Vec::new();
    proxy.set_fault_rate(0.5);
    for session in 0..sessions {
        for _ in 0..rng.random_range(0..3) {
            let mut s = store.lock().unwrap();
            let kind = rng.random_range(0..5);
            if kind < 2 {
                let wo = &mine[rng.random_range(0..mine.len())];
                s.add_note(wo.id, None, &format!("第 {session} 次同步前的记录 🔧"), Utc::now()).unwrap();
            } else if kind == 2 {
                // Each becomes a work order on the server, made once however often it is sent.
                let symptom = format!("第 {session} 次：滤网需更换");
                let request =
                    s.request_corrective(visits[1].id, None, FaultLevel::Minor, &symptom, None, Utc::now()).unwrap();
                correctives.push(request.id);
            } else {
                let item = items.iter().find(|i| matches!(i.kind, ItemKind::Check)).unwrap();
                let outcome = if rng.random_bool(0.5) { CheckOutcome::Normal } else { CheckOutcome::Abnormal };
                let new = NewAnswer {
                    work_order_id: visits[0].id,
                    item_key: item.key.clone(),
                    answer: Answer::Check(outcome),
                    note: format!("session {session}"),
                    supersedes: None,
                };
                s.record_answer(&new, Utc::now()).unwrap();
            }
            written += 1;
        }
        if session % 97 == 96 {
            server.kill();
            server = ServerProcess::start(&db_path);
            *proxy.upstream.lock().unwrap() = server.addr;
            restarts += 1;
        }
        // Now and then a shorter push first, as a device sends when its batch is cut short
        // by size: it follows whatever push before it was lost.
        if rng.random_bool(0.2) {
            let rows = rng.random_range(1..4);
            let mut report = fieldbook_sync::SyncReport::default();
            let _ = fieldbook_sync::push_waiting(&store, &client, rows, Utc::now(), &|_| {}, &mut report).await;
        }
        if sync_once(&store, &client, Utc::now()).await.is_err() {
            failed_sessions += 1;
        }
    }

    // The network heals; one clean sync settles everything.
    proxy.set_fault_rate(0.0);
    let report = sync_once(&store, &client, Utc::now()).await.unwrap();
    let faults = proxy.seen.lock().unwrap().clone();
    eprintln!(
        "{sessions} sessions ({failed_sessions} failed), {written} local writes, {restarts} server kills, {} connections, {} faulty; final sync {report:?}",
        faults.len(),
        faults.iter().filter(|f| **f != Fault::Pass).count()
    );
    for kind in [
        Fault::DropAfterRequest,
        Fault::MidResponse,
        Fault::Duplicate,
        Fault::Reset,
        Fault::DropBeforeRequest,
        Fault::Delay,
    ] {
        assert!(faults.contains(&kind), "{kind:?} was injected");
    }
    assert!(failed_sessions > sessions / 10, "faults made sessions fail ({failed_sessions})");

    // Oracle 1: everything was sent and nothing was refused.
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 0);
    assert!(store.lock().unwrap().conflicts().unwrap().is_empty());
    // Oracle 2: the server's view of this technician equals the device, record for record.
    let db = fieldbook_server_sqlite::SqliteDatabase::open(&db_path).unwrap();
    let on_server: BTreeSet<(WorkOrderId, WorkOrderStatus)> = db
        .work_orders(
            &fieldbook_protocol::WorkOrderFilter {
                assignee: Some(enrolled.user.id),
                limit: Some(5000),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.id, w.status))
        .collect();
    let on_device: BTreeSet<(WorkOrderId, WorkOrderStatus)> =
        list(&store).into_iter().map(|w| (w.id, w.status)).collect();
    assert_eq!(on_device, on_server);
    let fresh = Mutex::new(Store::open(dir.path().join("fresh.sqlite")).unwrap());
    let fresh_key = fresh.lock().unwrap().device_key().unwrap().public_key();
    let (fresh_client, fresh_enrolled) =
        SyncClient::enroll(&format!("http://{}", server.addr), "tech1", PASSWORD, "fresh", &fresh_key).await.unwrap();
    remember_enrollment(&fresh, "direct", &fresh_enrolled).unwrap();
    sync_once(&fresh, &fresh_client, Utc::now()).await.unwrap();
    let mut records = 0;
    for wo in list(&store) {
        let original = store.lock().unwrap().visit(wo.id).unwrap();
        let copy = fresh.lock().unwrap().visit(wo.id).unwrap();
        assert_eq!(copy.notes.len(), original.notes.len(), "{}: every note exactly once", wo.number);
        assert_eq!(copy.results.len(), original.results.len(), "{}: every answer exactly once", wo.number);
        assert_eq!(copy.content_hash(), original.content_hash(), "{}", wo.number);
        let asked = store.lock().unwrap().corrective_requests(wo.id).unwrap();
        assert_eq!(fresh.lock().unwrap().corrective_requests(wo.id).unwrap(), asked, "{}", wo.number);
        records += original.notes.len() + original.results.len() + asked.len();
    }
    assert_eq!(records, written, "every local write is on the server exactly once");
    // Every corrective request made its one work order.
    for id in &correctives {
        assert!(db.work_order(*id).await.unwrap().is_some(), "corrective work order {id}");
    }
    eprintln!("{} corrective work orders made", correctives.len());
}
