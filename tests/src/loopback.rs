//! A real server on a loopback port over a temporary SQLite file with the demo data, and
//! devices enrolled straight into its storage: the world of the property tests, where an
//! argon2 sign-in per case would only cost time.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use fieldbook_domain::{Role, UserId, WorkOrderId};
use fieldbook_protocol::{EnrollResponse, UserInfo};
use fieldbook_server::{AppState, Config, SystemClock, auth};
use fieldbook_server_db::{Database, NewDevice, UserRecord};
use fieldbook_store::Store;
use fieldbook_sync::{SyncClient, remember_enrollment};

pub struct LoopbackServer {
    pub base: String,
    pub db: Arc<dyn Database>,
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The server with the demo data set of `work_orders` work orders, serving until the runtime
/// ends.
pub async fn loopback_server(work_orders: usize) -> LoopbackServer {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db_path = dir.path().join("server.sqlite");
    let db: Arc<dyn Database> =
        Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(&db_path).expect("open the server database"));
    fieldbook_server::demo::load(db.as_ref(), work_orders, "loopback-pw", Utc::now()).await.expect("demo data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    let state = AppState::new(db.clone(), Arc::new(SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    LoopbackServer { base, db, db_path, _dir: dir }
}

/// A device enrolled for `user`, with its own store in memory.
pub struct EnrolledDevice {
    pub store: Mutex<Store>,
    pub client: SyncClient,
    pub user: UserInfo,
}

pub async fn enrolled_device(server: &LoopbackServer, user: &UserInfo) -> EnrolledDevice {
    let token = auth::new_token();
    let info = server
        .db
        .create_device(NewDevice {
            id: WorkOrderId::new().to_string(),
            user_id: user.id,
            name: "property device".into(),
            token_hash: auth::token_hash(&token),
            enrolled_at: Utc::now(),
            public_key: None,
        })
        .await
        .expect("enrol the device");
    let store = Mutex::new(Store::open_in_memory().expect("a store"));
    let enrolled =
        EnrollResponse { device_id: info.id, token: token.clone(), user: user.clone(), last_seq: info.last_seq };
    remember_enrollment(&store, &server.base, &enrolled).expect("remember the enrolment");
    EnrolledDevice { store, client: SyncClient::new(&server.base, &token), user: user.clone() }
}

/// New technicians of their own, in `supervisor`'s team when one is given, so that every case
/// starts with empty change streams.
pub async fn new_technicians(server: &LoopbackServer, supervisor: Option<UserId>, count: usize) -> Vec<UserInfo> {
    let mut made = Vec::new();
    for n in 0..count {
        let id = UserId::new();
        let info = UserInfo {
            id,
            username: format!("case-{id}"),
            name: format!("技术员{}", n + 1),
            staff_no: "P".into(),
            role: Role::Technician,
            supervisor_id: supervisor,
            disabled: false,
        };
        let record = UserRecord { info, password_hash: "not used: devices are enrolled directly".into() };
        made.push(server.db.create_user(record).await.expect("create a technician"));
    }
    made
}

/// Runs `case` against one world made by `world` for random inputs from `inputs`, on a runtime of
/// two threads (which `case` is given to block on): as many cases as the environment variable
/// `cases_from` says, else `default_cases`. A failing case panics with proptest's smallest
/// failing input.
pub fn run_property<W, S>(
    cases_from: &str,
    default_cases: u32,
    world: impl std::future::Future<Output = W>,
    inputs: S,
    case: impl Fn(&tokio::runtime::Runtime, &W, S::Value),
) where
    S: proptest::strategy::Strategy,
{
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var(cases_from).ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let world = runtime.block_on(world);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&inputs, |input| {
        case(&runtime, &world, input);
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
