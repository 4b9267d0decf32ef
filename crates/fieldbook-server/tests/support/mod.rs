//! A real server on a loopback port over a temporary SQLite file, loaded with the demo data,
//! and HTTP clients signed in as its accounts.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use fieldbook_protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse, ResolvedChange as Change, UserInfo};
use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PASSWORD: &str = "fieldbook-test-pw";

pub struct Server {
    pub base: String,
    pub db_path: PathBuf,
    pub db: Arc<dyn Database>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Demo data (60 work orders over tech1..tech3 of `supervisor`), plus `admin`, a second
    /// supervisor `supervisor2` with no team, all with [`PASSWORD`].
    pub async fn start() -> Server {
        Self::start_with(Config::default()).await
    }

    pub async fn start_with(mut config: Config) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("server.sqlite");
        config.database = db_path.clone();
        let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(&db_path).unwrap());
        fieldbook_server::demo::load(db.as_ref(), 60, PASSWORD, chrono::Utc::now()).await.unwrap();
        let state = AppState::new(db.clone(), Arc::new(SystemClock), config);
        for (username, role) in [("admin", "admin"), ("supervisor2", "supervisor")] {
            let request = fieldbook_protocol::CreateUser {
                username: username.into(),
                password: PASSWORD.into(),
                name: format!("{username} 测试"),
                staff_no: username.to_uppercase(),
                role: role.parse().unwrap(),
                supervisor_id: None,
            };
            let record = fieldbook_server::new_user_record(&state, request).await.unwrap();
            db.create_user(record).await.unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(fieldbook_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Server { base, db_path, db, shutdown: Some(tx), task: Some(task), _dir: dir }
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub fn http() -> reqwest::Client {
        reqwest::Client::builder().build().unwrap()
    }

    /// A valid report-signing public key, for enrollments made by hand.
    pub fn public_key() -> String {
        fieldbook_domain::evidence::DeviceKey::generate().public_key()
    }

    /// Enrolls a device for `username`.
    pub async fn client(&self, username: &str) -> Client {
        let key = fieldbook_domain::evidence::DeviceKey::generate();
        let (status, body) = Client::anonymous(&self.base)
            .send(
                reqwest::Method::POST,
                "/v1/enroll",
                Some(json!({"username": username, "password": PASSWORD, "device_name": format!("{username} 的平板"),
                    "public_key": key.public_key()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "enroll {username}: {body}");
        Client {
            http: Self::http(),
            base: self.base.clone(),
            token: Some(body["token"].as_str().unwrap().to_owned()),
            user: serde_json::from_value(body["user"].clone()).unwrap(),
            device_id: body["device_id"].as_str().unwrap().to_owned(),
            key_secret: key.secret(),
        }
    }

    /// Every row of every table but `devices` (whose last-sync time moves with each request),
    /// to compare the database before and after.
    pub fn dump(&self) -> Vec<String> {
        let conn =
            rusqlite::Connection::open_with_flags(&self.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('devices') AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut out = Vec::new();
        for table in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    Ok((0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect::<Vec<_>>().join("|"))
                })
                .unwrap()
                .map(|r| format!("{table}: {}", r.unwrap()))
                .collect();
            rows.sort();
            out.extend(rows);
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    pub user: UserInfo,
    pub device_id: String,
    /// The secret of the report-signing key the device enrolled with.
    pub key_secret: [u8; 32],
}

impl Client {
    pub fn anonymous(base: &str) -> Client {
        Client {
            http: Server::http(),
            base: base.to_owned(),
            token: None,
            user: UserInfo {
                id: fieldbook_domain::UserId::new(),
                username: String::new(),
                name: String::new(),
                staff_no: String::new(),
                role: fieldbook_domain::Role::Technician,
                supervisor_id: None,
                disabled: false,
            },
            device_id: String::new(),
            key_secret: [0; 32],
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// Sends JSON (or nothing) and returns the status and the JSON body (Null when not JSON).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Pulls the whole stream, page by page, checking that versions never skip or repeat.
    pub async fn pull_all(&self) -> Vec<Change> {
        let mut after = 0;
        let mut changes = Vec::new();
        loop {
            let (status, body) = self.get(&format!("/v1/sync/pull?after={after}&limit=7")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: PullResponse = serde_json::from_value(body).unwrap();
            for change in &page.changes {
                assert_eq!(change.version, after + 1, "versions follow one another");
                after = change.version;
            }
            assert_eq!(page.cursor, after);
            changes.extend(page.resolved());
            if !page.more {
                return changes;
            }
        }
    }
}

/// A signed visit as a device makes it: what [`Client::sign_visit`] pushed.
pub struct SignedVisit {
    pub visit: fieldbook_domain::Visit,
    pub report: fieldbook_domain::evidence::SignedReport,
    /// The next free mutation number of the device.
    pub next_seq: u64,
}

impl Client {
    /// Uploads a blob.
    pub async fn upload(&self, bytes: &[u8]) -> fieldbook_domain::BlobId {
        let id = fieldbook_domain::BlobId::of_bytes(bytes);
        let response = self
            .request(reqwest::Method::PUT, &format!("/v1/blobs/{id}?offset=0&total={}", bytes.len()))
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        id
    }

    /// Pushes `ops` numbered from `seq`; returns each outcome as JSON.
    pub async fn push_ops(&self, seq: u64, ops: Vec<fieldbook_protocol::MutationOp>) -> Vec<Value> {
        let mutations: Vec<fieldbook_protocol::Mutation> = ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| fieldbook_protocol::Mutation {
                seq: seq + i as u64,
                id: fieldbook_domain::MutationId::new(),
                hlc: fieldbook_domain::Hlc::default(),
                op,
            })
            .collect();
        let (status, body) = self.post("/v1/sync/push", json!({"mutations": mutations})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["outcomes"].as_array().unwrap().clone()
    }

    /// Takes an assigned work order of this technician through `steps` (set off and arrive,
    /// or reopen), a photo, the customer's sign-off and completion, as a device would
    /// (mutations from `seq`); every step must be accepted. `earlier` is the visit as last
    /// signed, for a reopened one (its records stay part of the visit). Returns the visit as
    /// signed and the next free mutation number.
    pub async fn sign_off_visit(
        &self,
        work_order_id: fieldbook_domain::WorkOrderId,
        seq: u64,
        steps: &[fieldbook_domain::StatusAction],
        earlier: Option<&fieldbook_domain::Visit>,
    ) -> (fieldbook_domain::Visit, u64) {
        use fieldbook_domain::*;
        use fieldbook_protocol::{MutationOp, StatusStep};
        let now = chrono::Utc::now();
        let photo = self.upload(format!("photo of {work_order_id} {seq}").as_bytes()).await;
        let signature = self.upload(format!("signature on {work_order_id} {seq}").as_bytes()).await;
        let step = |action| MutationOp::Status(StatusStep { work_order_id, action, at: now });
        let photo = Photo { blob: photo, work_order_id, item_key: None, caption: "现场".into(), taken_at: now };
        let draft = SignOffDraft {
            signer_name: "王经理".into(),
            opinion: "满意".into(),
            satisfaction: 5,
            signature: signature.clone(),
            strokes: None,
        };
        let sign_off = SignOff::from_draft(work_order_id, &draft, now).unwrap();
        let mut ops: Vec<MutationOp> = steps.iter().map(|a| step(*a)).collect();
        ops.extend([
            MutationOp::Photo(photo.clone()),
            MutationOp::SignOff(sign_off.clone()),
            step(StatusAction::Complete),
        ]);
        let n = ops.len() as u64;
        for outcome in self.push_ops(seq, ops).await {
            assert_eq!(outcome["outcome"], "applied", "{outcome}");
        }
        let (_, work_order) = self.get(&format!("/v1/work-orders/{work_order_id}")).await;
        let work_order: WorkOrder = serde_json::from_value(work_order).unwrap();
        let visit = Visit {
            work_order,
            template: None,
            results: vec![],
            faults: vec![],
            parts: vec![],
            photos: earlier.map(|v| v.photos.clone()).unwrap_or_default().into_iter().chain([photo]).collect(),
            sign_off: Some(sign_off),
            notes: vec![],
        };
        (visit, seq + n)
    }

    /// The report of `visit`, signed now with this device's key, amending `previous`.
    pub fn sign_report(
        &self,
        visit: &fieldbook_domain::Visit,
        previous: Option<String>,
    ) -> fieldbook_domain::evidence::SignedReport {
        use fieldbook_domain::evidence::{DeviceKey, ReportDocument, ReportSigner};
        let signer =
            ReportSigner { id: self.user.id, name: self.user.name.clone(), staff_no: self.user.staff_no.clone() };
        DeviceKey::from_secret(self.key_secret).sign(ReportDocument::of_visit(
            visit.clone(),
            signer,
            &self.device_id,
            chrono::Utc::now(),
            previous,
        ))
    }

    /// Pushes one signed report as mutation `seq`; returns its outcome.
    pub async fn push_report(&self, seq: u64, report: &fieldbook_domain::evidence::SignedReport) -> Value {
        let op = fieldbook_protocol::MutationOp::Report(Box::new(report.clone()));
        self.push_ops(seq, vec![op]).await.remove(0)
    }

    /// A visit taken from setting off to a signed report in the ledger (mutations from `seq`).
    pub async fn sign_visit(&self, work_order_id: fieldbook_domain::WorkOrderId, seq: u64) -> SignedVisit {
        use fieldbook_domain::StatusAction::{Arrive, SetOff};
        let (visit, seq) = self.sign_off_visit(work_order_id, seq, &[SetOff, Arrive], None).await;
        let report = self.sign_report(&visit, None);
        let outcome = self.push_report(seq, &report).await;
        assert_eq!(outcome["outcome"], "applied", "{outcome}");
        SignedVisit { visit, report, next_seq: seq + 1 }
    }
}
