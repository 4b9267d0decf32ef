//! A real server on a loopback port with the demo data set, and devices enrolled with it, each
//! with its own store file.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use chrono::Utc;
use fieldbook_domain::*;
use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;
use fieldbook_store::{ListQuery, Store};
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};

pub const PASSWORD: &str = "sync-test-pw";

pub struct Server {
    pub base: String,
    pub db: Arc<dyn Database>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn server() -> Server {
    server_with(Config::default(), Streams::Served).await
}

/// Whether the server answers pull streams, or is one from before them.
#[derive(Clone, Copy, PartialEq)]
pub enum Streams {
    Served,
    Unknown,
}

/// A server with `config`; with `Streams::Unknown` it answers `/v1/sync/pull/stream` with 404,
/// as a server from before streams does.
pub async fn server_with(config: Config, streams: Streams) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 60, PASSWORD, Utc::now()).await.unwrap();
    serve(dir, db, config, streams).await
}

impl Server {
    /// A copy of the server's database as it stands, as a backup taken now would hold it: the
    /// database file with its write-ahead log, taken while nothing writes.
    pub fn backup(&self) -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        for name in ["server.sqlite", "server.sqlite-wal"] {
            let from = self._dir.path().join(name);
            if from.exists() {
                std::fs::copy(&from, copy.path().join(name)).unwrap();
            }
        }
        copy
    }
}

/// A server started on a backup made by [`Server::backup`]: a server restored from it.
pub async fn restored(backup: tempfile::TempDir) -> Server {
    let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(backup.path().join("server.sqlite")).unwrap());
    serve(backup, db, Config::default(), Streams::Served).await
}

async fn serve(dir: tempfile::TempDir, db: Arc<dyn Database>, config: Config, streams: Streams) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db.clone(), Arc::new(SystemClock), config);
    let shutdown = async move {
        let _ = stopped.await;
    };
    if streams == Streams::Served {
        tokio::spawn(fieldbook_server::serve(listener, state, shutdown));
    } else {
        let app = fieldbook_server::router(state).layer(axum::middleware::from_fn(
            |request: axum::extract::Request, next: axum::middleware::Next| async move {
                if request.uri().path() == "/v1/sync/pull/stream" {
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                }
                next.run(request).await
            },
        ));
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await });
    }
    Server { base, db, _dir: dir, _stop: stop }
}

pub struct Device {
    pub store: Mutex<Store>,
    pub client: SyncClient,
    pub user: UserId,
    _dir: tempfile::TempDir,
}

pub async fn device(server: &Server, username: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = Mutex::new(Store::open(dir.path().join("device.sqlite")).unwrap());
    let store_key = store.lock().unwrap().device_key().unwrap().public_key();
    let (client, enrolled) =
        SyncClient::enroll(&server.base, username, PASSWORD, "测试平板", &store_key).await.unwrap();
    remember_enrollment(&store, &server.base, &enrolled).unwrap();
    Device { store, client, user: enrolled.user.id, _dir: dir }
}

impl Device {
    pub async fn sync(&self) -> fieldbook_sync::SyncReport {
        sync_once(&self.store, &self.client, Utc::now()).await.unwrap()
    }

    pub fn work_orders(&self) -> Vec<WorkOrder> {
        let store = self.store.lock().unwrap();
        let (rows, _) = store.list_work_orders(&ListQuery { limit: 10_000, ..Default::default() }).unwrap();
        rows.into_iter().map(|r| r.work_order).collect()
    }

    pub fn assigned_with_checklist(&self) -> WorkOrder {
        self.work_orders()
            .into_iter()
            .find(|w| w.status == WorkOrderStatus::Assigned && w.template_id.is_some())
            .unwrap()
    }
}
