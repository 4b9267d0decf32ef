//! The app syncing with the real server on a loopback port: enrollment, the background loop,
//! the status the screens show, and a server that goes away.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldbook_app::{App, ErrorCode, SyncState, SystemClock, WorkOrderQuery};
use fieldbook_server::{AppState, Config};

const PASSWORD: &str = "app-sync-pw-1";

async fn server() -> (String, tempfile::TempDir, tokio::sync::oneshot::Sender<()>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 60, PASSWORD, chrono::Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db, Arc::new(fieldbook_server::SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    (base, dir, stop)
}

#[tokio::test]
async fn an_enrolled_app_syncs_in_the_background_and_reports_its_state() {
    let (base, _server_dir, stop) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(App::open(dir.path(), Arc::new(SystemClock)).unwrap());
    assert_eq!(app.sync_status().unwrap().state, SyncState::NotEnrolled);
    let refreshed = Arc::new(Mutex::new(0));
    let counter = refreshed.clone();
    app.on_change(move |_| *counter.lock().unwrap() += 1);

    let err = app.enroll(&base, "tech1", "wrong password", "平板").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSignedIn, "{}", err.message);
    let err = app.enroll("ftp://server", "tech1", PASSWORD, "平板").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    app.enroll(&base, "tech1", PASSWORD, "张伟的平板").await.unwrap();

    // The background loop syncs at once: the work orders arrive and the screens are told.
    tokio::spawn(fieldbook_app::sync::run(app.clone()));
    let mut list = app.list_work_orders(WorkOrderQuery::default()).unwrap();
    for _ in 0..100 {
        if list.total > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        list = app.list_work_orders(WorkOrderQuery::default()).unwrap();
    }
    assert!(list.total > 0, "work orders arrived from the server");
    assert!(*refreshed.lock().unwrap() > 0, "the screens were told to refresh");
    let status = app.sync_status().unwrap();
    assert_eq!(status.state, SyncState::Online);
    assert!(status.last_success.is_some());
    assert_eq!(status.pending, 0);

    // A change is sent shortly after it is made, without anyone asking.
    let id = list.items[0].id.clone();
    app.add_note(&id, "客户要求下周复查").unwrap();
    assert_eq!(app.sync_status().unwrap().pending, 1);
    let mut pending = 1;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        pending = app.sync_status().unwrap().pending;
        if pending == 0 {
            break;
        }
    }
    assert_eq!(pending, 0, "sent within the debounce");

    // The server goes away: the state says so in plain words and the work waits.
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.add_note(&id, "离线时写的").unwrap();
    let err = app.sync_now().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Offline);
    let status = app.sync_status().unwrap();
    assert_eq!(status.state, SyncState::Offline);
    assert_eq!(status.pending, 1);
    assert!(status.last_error.unwrap().contains("safe on this device"));
}
