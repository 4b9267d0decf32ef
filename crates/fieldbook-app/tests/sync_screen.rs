//! What the screens show of sync, against the real server on a loopback port: per-record
//! state, the pending and conflicts lists with both values, progress events, sign-out that
//! will not silently drop unsent work, the offline demo, and noticing the network's return.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldbook_app::{App, ErrorCode, RecordState, SyncState, SyncStatus, SystemClock, WorkOrderQuery};
use fieldbook_domain::{StatusAction, WorkOrderStatus};
use fieldbook_server::{AppState, Config};
use fieldbook_server_db::{Database, SupervisorChange};

const PASSWORD: &str = "app-screen-pw-1";

struct Server {
    base: String,
    db: Arc<dyn Database>,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve_on(listener: tokio::net::TcpListener, db: Arc<dyn Database>) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db, Arc::new(fieldbook_server::SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    stop
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> =
        Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 40, PASSWORD, chrono::Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = serve_on(listener, db.clone()).await;
    Server { base, db, _dir: dir, stop }
}

async fn enrolled_app(server: &Server) -> (Arc<App>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(App::open(dir.path(), Arc::new(SystemClock)).unwrap());
    app.enroll(&server.base, "tech1", PASSWORD, "平板").await.unwrap();
    app.sync_now().await.unwrap();
    (app, dir)
}

fn assigned(app: &App) -> Vec<String> {
    let list = app.list_work_orders(WorkOrderQuery { statuses: vec![WorkOrderStatus::Assigned], ..Default::default() });
    list.unwrap().items.into_iter().map(|w| w.id).collect()
}

#[tokio::test]
async fn each_record_shows_local_then_confirmed_and_a_refused_one_shows_both_values() {
    let server = server().await;
    let (app, _dir) = enrolled_app(&server).await;
    let statuses = Arc::new(Mutex::new(Vec::<SyncStatus>::new()));
    let seen = statuses.clone();
    app.on_sync_status(move |status| seen.lock().unwrap().push(status));
    let ids = assigned(&app);
    let (noted, cancelled) = (ids[0].clone(), ids[1].clone());

    let note = app.add_note(&noted, "带梯子").unwrap();
    let detail = app.work_order_detail(&noted).unwrap();
    assert_eq!(detail.record_states.len(), 1);
    assert_eq!(detail.record_states[0].entity_id, note.id.to_string());
    assert_eq!(detail.record_states[0].state, RecordState::LocalOnly);
    let overview = app.sync_overview().unwrap();
    assert_eq!(overview.pending.len(), 1);
    assert_eq!(overview.pending[0].state, RecordState::LocalOnly);
    assert_eq!(overview.pending[0].work_order_number.as_deref(), Some(detail.summary.number.as_str()));
    assert_eq!(overview.pending[0].value["text"], "带梯子");

    // Offline, the technician sets off for a visit the supervisor cancels meanwhile.
    app.change_status(&cancelled, StatusAction::SetOff).unwrap();
    server
        .db
        .change_work_order(
            cancelled.parse().unwrap(),
            SupervisorChange::Cancel { reason: "客户取消".into() },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    app.sync_now().await.unwrap();

    assert!(app.work_order_detail(&noted).unwrap().record_states.is_empty(), "the note is confirmed");
    let detail = app.work_order_detail(&cancelled).unwrap();
    assert_eq!(detail.summary.status, WorkOrderStatus::Cancelled, "the supervisor's cancel won");
    assert_eq!(detail.record_states.len(), 1);
    assert_eq!(detail.record_states[0].state, RecordState::Conflicted);
    assert_eq!(detail.conflicts.len(), 1);
    let conflict = &detail.conflicts[0];
    assert_eq!(conflict.local_value["action"], "set_off", "the device's side");
    assert_eq!(conflict.server_status, Some(WorkOrderStatus::Cancelled), "the server's side");
    assert!(!conflict.message.is_empty());
    let overview = app.sync_overview().unwrap();
    assert!(overview.pending.is_empty());
    assert_eq!(overview.conflicts.len(), 1);
    assert_eq!(overview.status.conflicts, 1);

    // The supervisor sees the same conflict on the server.
    let on_server = server.db.conflicts(None, None, &Default::default()).await.unwrap();
    assert_eq!(on_server.len(), 1);
    assert_eq!(on_server[0].work_order_id.to_string(), cancelled);

    // The screens were told as sync went: it started, sent, received, and ended online.
    let statuses = statuses.lock().unwrap();
    assert!(statuses.iter().any(|s| s.state == SyncState::Syncing));
    let phases: Vec<&str> = statuses.iter().filter_map(|s| s.progress.as_ref()).map(|p| p.phase.as_str()).collect();
    assert!(phases.contains(&"sending") && phases.contains(&"receiving"), "{phases:?}");
    let last = statuses.last().unwrap();
    assert_eq!((last.state, last.progress.is_none()), (SyncState::Online, true));
}

#[tokio::test]
async fn signing_out_with_unsent_work_asks_first_and_then_leaves_nothing_behind() {
    let server = server().await;
    let (app, _dir) = enrolled_app(&server).await;
    let id = assigned(&app)[0].clone();
    let _ = server.stop.send(());
    app.change_status(&id, StatusAction::SetOff).unwrap();
    app.change_status(&id, StatusAction::Arrive).unwrap();
    app.add_note(&id, "还没发送").unwrap();
    let mut photo = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([x as u8, y as u8, 60])))
        .write_to(&mut photo, image::ImageFormat::Jpeg)
        .unwrap();
    let photo = app.attach_photo(&id, None, "现场", photo.get_ref()).unwrap();
    let kept = app.blob(photo.blob.as_str()).unwrap().len() as u64;
    assert_eq!(app.sync_status().unwrap().pending_blob_bytes, kept);

    let err = app.sign_out(false).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsynced, "{}", err.message);
    assert!(err.message.contains('4'), "says how many: {}", err.message);
    assert!(app.list_work_orders(WorkOrderQuery::default()).unwrap().total > 0, "nothing was removed");

    let status = app.sign_out(true).unwrap();
    assert_eq!((status.state, status.pending, status.pending_blob_bytes), (SyncState::NotEnrolled, 0, 0));
    assert_eq!(app.list_work_orders(WorkOrderQuery::default()).unwrap().total, 0);
    assert!(app.current_user().unwrap().is_none());
}

#[tokio::test]
async fn the_offline_demo_fills_a_new_device_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path(), Arc::new(SystemClock)).unwrap();
    let status = app.open_offline_demo().unwrap();
    assert_eq!(status.state, SyncState::NotEnrolled);
    let list = app.list_work_orders(WorkOrderQuery::default()).unwrap();
    assert!(list.total > 10);
    // The demo technician can work: their work order accepts a note.
    let mine = list.items.iter().find(|w| w.status == WorkOrderStatus::Assigned).unwrap();
    app.add_note(&mine.id, "演示").unwrap();
    assert_eq!(app.open_offline_demo().unwrap_err().code, ErrorCode::RuleViolation);
}

#[tokio::test]
async fn an_offline_device_notices_the_server_is_back_within_seconds_not_after_its_backoff() {
    let server = server().await;
    let (app, _dir) = enrolled_app(&server).await;
    let id = assigned(&app)[0].clone();
    let address = server.base.trim_start_matches("http://").to_owned();
    let _ = server.stop.send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Several failures in a row: the next attempt would wait 40 s or more (see `backoff`).
    for _ in 0..3 {
        assert_eq!(app.sync_now().await.unwrap_err().code, ErrorCode::Offline);
    }
    app.add_note(&id, "网络恢复后发送").unwrap();
    tokio::spawn(fieldbook_app::sync::run(app.clone()));
    // The loop tries at once and again after the note's debounce (2 s), failing both times;
    // it now waits out a backoff of a minute or more.
    tokio::time::sleep(fieldbook_app::sync::DEBOUNCE + Duration::from_secs(1)).await;
    assert_eq!(app.sync_status().unwrap().state, SyncState::Offline);
    assert_eq!(app.sync_status().unwrap().pending, 1);
    assert!(fieldbook_app::sync::backoff(5, 0.0) >= Duration::from_secs(60));

    // The network returns: the same server, same address.
    let back = Instant::now();
    let listener = tokio::net::TcpListener::bind(&address).await.unwrap();
    let _stop = serve_on(listener, server.db.clone()).await;
    while app.sync_status().unwrap().pending > 0 {
        assert!(back.elapsed() < Duration::from_secs(20), "still waiting after {:?}", back.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.sync_status().unwrap().state, SyncState::Online);
}
