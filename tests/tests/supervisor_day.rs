//! A supervisor's day, end to end: the real app (tauri-driver, WebKitWebDriver, Xvfb) signed in
//! as a supervisor records a critical call and assigns it; the technician's device (a store
//! and a sync client driven by this test, against the same real server on a loopback port)
//! receives it and completes the visit; the supervisor sees it arrive on the board and returns
//! it with a reason; the technician reads the reason, reopens, amends and signs again; the
//! supervisor approves. The server's ledger holds both signed versions, the second naming the
//! first. Then a monthly patrol scheduled on the Schedules screen reaches the technician's
//! device, the general patrol checklist gets a second version and a new part its price, and
//! the month's fault report for the customer counts the call and exports a PDF with the
//! screen's totals. Run by `./dev test` (feature `e2e`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use fieldbook_domain::{
    BlobId, FaultDraft, FaultLevel, SignOffDraft, StatusAction, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;
use fieldbook_store::Store;
use fieldbook_sync::{SyncClient, remember_enrollment, sync_once};
use fieldbook_tests::e2e::{Error, Session};

const PASSWORD: &str = "supervisor-day-password";

/// The technician's device: a real store file and the real sync client.
struct Technician {
    store: Mutex<Store>,
    client: SyncClient,
}

impl Technician {
    async fn enroll(base: &str, dir: &std::path::Path) -> Result<Technician, Error> {
        let store = Mutex::new(Store::open(dir.join("tech1.sqlite"))?);
        let key = store.lock().unwrap().device_key()?.public_key();
        let (client, enrolled) = SyncClient::enroll(base, "tech1", PASSWORD, "tech1 平板", &key).await?;
        remember_enrollment(&store, base, &enrolled)?;
        Ok(Technician { store, client })
    }

    async fn sync(&self) -> Result<usize, Error> {
        Ok(sync_once(&self.store, &self.client, Utc::now()).await?.refused)
    }

    /// Sets off and arrives if not on site yet, records the fault and has the customer sign.
    fn visit(&self, id: WorkOrderId, action: &str) -> Result<(), Error> {
        let now = Utc::now();
        let mut store = self.store.lock().unwrap();
        if store.work_order(id)?.status == WorkOrderStatus::Assigned {
            store.change_status(id, StatusAction::SetOff, now)?;
            store.change_status(id, StatusAction::Arrive, now)?;
        }
        let fault = FaultDraft {
            symptom: "主机高压报警".into(),
            cause: "冷凝器脏堵".into(),
            action: action.into(),
            result: "运行正常".into(),
            category: "制冷".into(),
            started_at: None,
            ended_at: None,
            loaner_provided_at: None,
            supersedes: None,
        };
        store.record_fault(id, &fault, now)?;
        let signature = fieldbook_demo::DEMO_SIGNATURE_PNG;
        let draft = SignOffDraft {
            signer_name: "值班长".into(),
            opinion: "同意".into(),
            satisfaction: 5,
            signature: BlobId::of_bytes(signature),
            strokes: None,
        };
        store.sign_off(id, &draft, signature, None, now)?;
        Ok(())
    }
}

/// Chooses `value` in the `<select>` matching `css`, as a person picking an option does.
async fn choose(session: &Session, css: &str, value: &str) -> Result<(), Error> {
    session.wait_for(&format!("{css} option[value=\"{value}\"]")).await?;
    let script = format!(
        "const s = document.querySelector({css:?}); s.value = {value:?}; s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value;"
    );
    let chosen = session.eval(&script).await?;
    if chosen.as_str() != Some(value) {
        return Err(format!("{css} did not take {value}: {chosen}").into());
    }
    Ok(())
}

/// Polls the server until `check` holds for the work order, or fails after 30 s.
async fn server_shows(
    db: &SqliteDatabase,
    id: WorkOrderId,
    what: &str,
    check: impl Fn(&fieldbook_domain::WorkOrder) -> bool,
) -> Result<fieldbook_domain::WorkOrder, Error> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(w) = db.work_order(id).await?
            && check(&w)
        {
            return Ok(w);
        }
        if Instant::now() > deadline {
            return Err(format!("the server never showed {what}: {:?}", db.work_order(id).await?).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asks the supervisor's app to sync now (what it brings is waited for by the caller).
async fn sync_now(session: &Session) -> Result<(), Error> {
    session.wait_for("[data-testid=sync-now]:not([disabled])").await?;
    session.click("[data-testid=sync-now]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_dispatches_a_critical_call_returns_the_visit_and_approves_the_amended_one() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let db = Arc::new(SqliteDatabase::open(dir.path().join("server.sqlite"))?);
    fieldbook_server::demo::load(db.as_ref(), 30, PASSWORD, Utc::now()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(db.clone(), Arc::new(SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    let tech = Technician::enroll(&base, dir.path()).await?;
    let tech1 = db.user_by_username("tech1").await?.expect("demo account").info.id;

    let exports = dir.path().join("exports");
    let session = Session::start_with_env(
        &dir.path().join("supervisor-device"),
        &[
            ("FIELDBOOK_SERVER", base.as_str()),
            ("FIELDBOOK_USERNAME", "supervisor"),
            ("FIELDBOOK_PASSWORD", PASSWORD),
            ("FIELDBOOK_EXPORT_DIR", exports.to_str().ok_or("a UTF-8 temporary path")?),
        ],
    )
    .await?;
    let result = journey(&session, &db, &tech, tech1, &exports).await;
    if result.is_err() {
        let text = session.eval("return document.body.innerText").await.unwrap_or_default();
        eprintln!("the screen when it failed:\n{}", text.as_str().unwrap_or_default());
    }
    session.stop().await;
    result
}

async fn journey(
    session: &Session,
    db: &SqliteDatabase,
    tech: &Technician,
    tech1: fieldbook_domain::UserId,
    exports: &std::path::Path,
) -> Result<(), Error> {
    session.click("[data-testid=lang-en]").await?;
    // Signed in as a supervisor, the app opens on the deadline board with the team's work.
    session.wait_for_within("[data-testid=board] [data-testid=board-row]", Duration::from_secs(60)).await?;
    session.wait_for_count("[data-testid=workload-row]", 3).await?;

    // A critical call, recorded and assigned to tech1; the deadlines show before it is saved.
    session.click("[data-testid=new-work-order]").await?;
    let sites = session
        .eval(
            "return [...document.querySelectorAll('[data-testid=call-customer] option')].map(o => o.value).filter(v => v)",
        )
        .await?;
    let customer = sites.as_array().and_then(|c| c.first()).and_then(|c| c.as_str()).ok_or("no customer to choose")?;
    choose(session, "[data-testid=call-customer]", customer).await?;
    let site = session
        .eval("return [...document.querySelectorAll('[data-testid=call-site] option')].map(o => o.value).filter(v => v)[0]")
        .await?;
    choose(session, "[data-testid=call-site]", site.as_str().ok_or("the customer has no site")?).await?;
    session.click("[data-testid=call-level-critical]").await?;
    let arrive = session.wait_for_text("[data-testid=call-deadline-arrive]", |t| !t.trim().is_empty()).await?;
    session
        .type_into("[data-testid=call-symptom]", "Chiller tripped on high pressure; the server room is warming")
        .await?;
    session.type_into("[data-testid=call-reported-by]", "Duty manager Li").await?;
    session.type_into("[data-testid=call-contact-name]", "Li Ming").await?;
    session.type_into("[data-testid=call-contact-phone]", "0571-88000000").await?;
    choose(session, "[data-testid=call-assignee]", &tech1.to_string()).await?;
    session.click("[data-testid=call-submit]").await?;
    let detail = session.wait_for("[data-testid=wo-detail]").await?;
    let id: WorkOrderId = detail.attr("data-id").await?.ok_or("the new work order has no id")?.parse()?;
    session.wait_for("[data-testid=dispatch-panel][data-status=assigned]").await?;

    // It reaches the server by sync, critical, assigned to tech1, with the deadlines shown.
    let created = server_shows(db, id, "the new work order", |_| true).await?;
    assert_eq!((created.fault_level, created.kind), (FaultLevel::Critical, WorkOrderKind::Repair));
    assert_eq!(created.assignee, Some(tech1));
    assert_eq!(created.status, WorkOrderStatus::Assigned);
    // The form showed the deadline for a call reported when it was shown, the moments before
    // the save: the same minute, or the one before when a minute turned meanwhile.
    let shown = |at: chrono::DateTime<Utc>| at.with_timezone(&chrono::Local).format("%H:%M").to_string();
    let arrive_by = created.deadlines.arrive_by;
    assert!(
        arrive.contains(&shown(arrive_by)) || arrive.contains(&shown(arrive_by - chrono::Duration::minutes(1))),
        "the form showed the arrival deadline {arrive:?}, the server has {arrive_by}"
    );

    // The technician's device receives it and completes the visit.
    assert_eq!(tech.sync().await?, 0);
    tech.visit(id, "清洗冷凝器")?;
    assert_eq!(tech.sync().await?, 0);
    assert_eq!(db.work_order(id).await?.unwrap().status, WorkOrderStatus::Completed);

    // The supervisor sees it arrive for review and returns it with a reason.
    session.eval("location.hash = '#/'").await?;
    sync_now(session).await?;
    let row = format!("[data-testid=review-row][data-id=\"{id}\"]");
    session.wait_for_within(&row, Duration::from_secs(30)).await?;
    session.click(&row).await?;
    session.wait_for("[data-testid=dispatch-panel][data-status=completed]").await?;
    let reason = "Say which refrigerant was topped up, and how much";
    session.type_into("[data-testid=return-reason]", reason).await?;
    session.click("[data-testid=review-return]").await?;
    session.wait_for_text("[data-testid=status-note]", |t| t.contains(reason)).await?;
    server_shows(db, id, "the return", |w| w.status == WorkOrderStatus::Returned).await?;

    // The technician reads the reason, reopens, amends and signs a second version.
    assert_eq!(tech.sync().await?, 0);
    let returned = tech.store.lock().unwrap().work_order(id)?;
    assert_eq!(returned.status_note.as_deref(), Some(reason));
    tech.store.lock().unwrap().change_status(id, StatusAction::Reopen, Utc::now())?;
    tech.visit(id, "补充 R134a 制冷剂 0.5 kg")?;
    assert_eq!(tech.sync().await?, 0);

    // The supervisor sees the second version arrive, checks it with the ledger and approves.
    sync_now(session).await?;
    session.wait_for_within("[data-testid=dispatch-panel][data-status=completed]", Duration::from_secs(30)).await?;
    session.click("[data-testid=verify-report]").await?;
    session.wait_for_count("[data-testid=report-version]", 2).await?;
    // The report is read in the app before approval: its pages, typeset as the PDF is.
    session.click("[data-testid=preview-report]").await?;
    session.wait_for_within("[data-testid=report-preview-page]", Duration::from_secs(30)).await?;
    let started = Instant::now();
    let width = loop {
        let width = session
            .eval("const p = document.querySelector('[data-testid=report-preview-page]'); return p.complete ? p.naturalWidth : 0")
            .await?
            .as_u64()
            .unwrap_or(0);
        if width > 0 || started.elapsed() > Duration::from_secs(10) {
            break width;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(width, 893, "an A4 page drawn at 1.5 px per point");
    session.click("[data-testid=review-approve]").await?;
    server_shows(db, id, "the approval", |w| w.status == WorkOrderStatus::Approved).await?;

    // The ledger holds both signed versions, the second naming the first.
    let ledger = db.reports(id).await?;
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert_eq!((ledger[0].visit_version, ledger[1].visit_version), (0, 1));
    assert_eq!(ledger[1].previous.as_deref(), Some(ledger[0].hash.as_str()));
    assert!(ledger.iter().all(|e| e.technician_id == tech1));

    // A monthly patrol of the same site for tech1, made on the Schedules screen: due in a week
    // with two weeks' lead, the server makes its first work order at once, and it reaches
    // the technician's device.
    session.eval("location.hash = '#/'").await?;
    session.click("[data-testid=board-schedules]").await?;
    session.wait_for("[data-testid=schedules-screen]").await?;
    // The demo's own schedules are listed first.
    session.wait_for("[data-testid=schedule-row]").await?;
    let before = session.eval("return document.querySelectorAll('[data-testid=schedule-row]').length").await?;
    let before = before.as_u64().ok_or("no count of schedules")? as usize;
    choose(session, "[data-testid=schedule-customer]", customer).await?;
    choose(session, "[data-testid=schedule-site]", &created.site_id.to_string()).await?;
    choose(session, "[data-testid=schedule-every]", "monthly").await?;
    choose(session, "[data-testid=schedule-assignee]", &tech1.to_string()).await?;
    session.type_into("[data-testid=schedule-contact-name]", "Li Ming").await?;
    session.type_into("[data-testid=schedule-contact-phone]", "0571-88000000").await?;
    session.click("[data-testid=schedule-submit]").await?;
    session.wait_for_count("[data-testid=schedule-row]", before + 1).await?;
    let patrol = db
        .work_orders(&Default::default(), None)
        .await?
        .into_iter()
        .find(|w| w.reported_by.starts_with("schedule ") && w.site_id == created.site_id)
        .ok_or("the schedule made no work order")?;
    assert_eq!((patrol.kind, patrol.assignee), (WorkOrderKind::Patrol, Some(tech1)));
    assert_eq!(tech.sync().await?, 0);
    assert_eq!(tech.store.lock().unwrap().work_order(patrol.id)?.number, patrol.number);

    // The general patrol checklist gets a second version with one item reworded; the first
    // version stays for the visits running on it. A new part gets its price.
    session.eval("location.hash = '#/templates'").await?;
    session.click("[data-testid=template-row][data-code='patrol.general'] [data-testid=template-edit]").await?;
    session.type_into("[data-testid=template-item]:first-child [data-testid=item-en]", " (earthing too)").await?;
    session.click("[data-testid=template-save]").await?;
    session.wait_for_text("[data-testid=templates-notice]", |t| t.contains('2')).await?;
    let versions: Vec<_> = db.templates().await?.into_iter().filter(|t| t.code == "patrol.general").collect();
    assert_eq!(versions.iter().map(|t| t.version).max(), Some(2));
    let second = versions.iter().find(|t| t.version == 2).ok_or("no version 2 on the server")?;
    assert!(second.items[0].label.en.ends_with("(earthing too)"), "{:?}", second.items[0].label);
    assert!(
        !versions.iter().find(|t| t.version == 1).ok_or("version 1 is gone")?.items[0].label.en.contains("earthing")
    );
    session.eval("location.hash = '#/parts'").await?;
    session.type_into("[data-testid=part-number]", "UPS-FAN-120").await?;
    session.type_into("[data-testid=part-name]", "UPS cooling fan 120 mm").await?;
    session.type_into("[data-testid=part-price]", "88.50").await?;
    session.click("[data-testid=part-save]").await?;
    session.wait_for("[data-testid=part-row][data-number='UPS-FAN-120']").await?;
    let part = db
        .parts()
        .await?
        .into_iter()
        .find(|p| p.part_number == "UPS-FAN-120")
        .ok_or("the part is not on the server")?;
    assert_eq!(part.unit_price_cents, 8850);

    // The month's fault report for the customer counts the call, draws its four charts, and
    // exports a PDF whose totals are the screen's.
    session.eval("location.hash = '#/'").await?;
    session.click("[data-testid=board-monthly]").await?;
    choose(session, "[data-testid=monthly-customer]", customer).await?;
    // The month of the call (the screen offers the month just ended during a month's first week).
    let this_month = created.reported_at.with_timezone(&chrono::Local).format("%Y-%m").to_string();
    choose(session, "[data-testid=monthly-month]", &this_month).await?;
    let shown = format!(
        "[data-testid=monthly-kpis][data-month='{this_month}'][data-customer='{customer}'] [data-testid=monthly-faults]"
    );
    let faults = session.wait_for_text(&shown, |t| t.trim().parse::<u32>().is_ok_and(|n| n >= 1)).await?;
    session.wait_for_count("[data-testid=monthly-chart]", 4).await?;
    session.click("[data-testid=monthly-export-pdf]").await?;
    session.wait_for_text("[data-testid=monthly-exported]", |t| t.contains(".pdf")).await?;
    let pdf = std::fs::read_dir(exports)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .ok_or("no PDF in the export folder")?;
    let text = std::process::Command::new("pdftotext").arg(&pdf).arg("-").output()?;
    let text: String = String::from_utf8_lossy(&text.stdout).chars().filter(|c| !c.is_whitespace()).collect();
    assert!(text.contains("Monthlyfaultreport"), "{text}");
    assert!(text.contains(&format!("Total{}100%", faults.trim())), "the screen's {faults} faults in:\n{text}");
    Ok(())
}
