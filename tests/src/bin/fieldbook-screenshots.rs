//! Takes screenshots of every screen of the technician app in both languages at tablet sizes
//! (landscape 1280×800 and portrait 800×1280), from the real app under Xvfb, into the folder
//! given (default `docs/screenshots`). Run with `./dev screenshots`.
//!
//! Two devices: an empty one for the sign-in screen, and one with technician 1's demo work
//! where, before the app starts, a visit is prepared in progress (answers with an abnormal
//! check and an out-of-range reading, a fault record, a part), another is completed and
//! locked, and one change was refused by the server (a conflict). The screens are then
//! visited as a technician would; the customer's signature is drawn with pointer actions.
//!
//! Then a supervisor's device, signed in to a real server (in this process, on a loopback
//! port, with the demo data): the deadline board, the team's devices, a call being recorded
//! with its deadlines, the dispatch and review panels, the schedules, checklists, parts and the monthly fault report. `fieldbook-screenshots <dir> supervisor` takes only
//! these.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fieldbook_app::{App, SignOffInput, SystemClock};
use fieldbook_domain::{
    Answer, CheckOutcome, ChecklistTemplate, FaultDraft, ItemKind, PartBilling, PartDraft, StatusAction, WorkOrder,
    WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_store::{Acknowledgement, Store};
use fieldbook_tests::e2e::{Error, Session};

const SIZES: [(&str, u32, u32); 2] = [("landscape", 1280, 800), ("portrait", 800, 1280)];
/// WebDriver's screenshot never answers when WebKit draws without compositing, which the app
/// chooses on a machine without a GPU (src-tauri `draw_on_the_cpu_without_a_gpu`); the
/// screenshots are taken with compositing on, through software GL.
const COMPOSITED: &[(&str, &str)] = &[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")];
const LOCALES: [(&str, &str); 2] = [("zh-CN", "lang-zh"), ("en", "lang-en")];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| fieldbook_tests::workspace_root().join("docs/screenshots"));
    std::fs::create_dir_all(&out)?;
    let only_supervisor = std::env::args().nth(2).as_deref() == Some("supervisor");
    if !only_supervisor {
        shoot_technician(&out).await?;
    }
    shoot_supervisor(&out).await?;
    println!("screenshots written to {}", out.display());
    Ok(())
}

/// The supervisor's screens, from a device signed in to a real server with the demo data.
async fn shoot_supervisor(out: &Path) -> Result<(), Error> {
    use fieldbook_server_db::Database;
    const PASSWORD: &str = "screenshots-password";
    let dir = tempfile::tempdir()?;
    let db = Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(dir.path().join("server.sqlite"))?);
    fieldbook_server::demo::load(db.as_ref(), 60, PASSWORD, chrono::Utc::now()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = fieldbook_server::AppState::new(
        db.clone(),
        Arc::new(fieldbook_server::SystemClock),
        fieldbook_server::Config::default(),
    );
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));
    // The team's tablets, for the devices screen; one synced and one lost and revoked.
    for (username, tablet) in [("tech1", "张伟的平板 · Galaxy Tab A8"), ("tech2", "李娜的平板 · MatePad SE")]
    {
        let key = fieldbook_domain::evidence::DeviceKey::generate().public_key();
        let (client, enrolled) = fieldbook_sync::SyncClient::enroll(&base, username, PASSWORD, tablet, &key).await?;
        if username == "tech1" {
            client.pull(0, 10).await?;
        } else {
            db.revoke_device(&enrolled.device_id, chrono::Utc::now()).await?;
        }
    }
    let mut env = COMPOSITED.to_vec();
    env.extend([
        ("FIELDBOOK_SERVER", base.as_str()),
        ("FIELDBOOK_USERNAME", "supervisor"),
        ("FIELDBOOK_PASSWORD", PASSWORD),
    ]);
    let session = Session::start_with_env(&dir.path().join("device"), &env).await?;
    session.wait_for_within("[data-testid=board] [data-testid=board-row]", Duration::from_secs(60)).await?;
    let filter = fieldbook_protocol::WorkOrderFilter::default();
    let all = db.work_orders(&filter, None).await?;
    let assigned = all.iter().find(|w| w.status == WorkOrderStatus::Assigned).ok_or("no assigned work order")?.id;
    let completed = all.iter().find(|w| w.status == WorkOrderStatus::Completed).map(|w| w.id);
    // The monthly report of the customer with the most repairs this month.
    let this_month = chrono::Local::now().format("%Y-%m").to_string();
    let mut repairs: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for w in all.iter().filter(|w| {
        w.kind == fieldbook_domain::WorkOrderKind::Repair
            && w.reported_at.with_timezone(&chrono::Local).format("%Y-%m").to_string() == this_month
    }) {
        *repairs.entry(w.customer_id.to_string()).or_default() += 1;
    }
    let busiest = repairs.into_iter().max_by_key(|(id, n)| (*n, id.clone())).map(|(id, _)| id);
    for (locale, lang_button) in LOCALES {
        switch_language(&session, lang_button).await?;
        for (orientation, width, height) in SIZES {
            let suffix = format!("{orientation}-{locale}");
            session.client.set_window_size(width, height).await?;
            go(&session, "#/").await?;
            session.wait_for("[data-testid=board-row]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-board-{suffix}.png")).await?;
            go(&session, "#/devices").await?;
            session.wait_for("[data-testid=device-row]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-devices-{suffix}.png")).await?;
            go(&session, "#/templates").await?;
            session.click("[data-testid=template-row][data-code='patrol.general'] [data-testid=template-edit]").await?;
            session.wait_for("[data-testid=template-editor]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-templates-{suffix}.png")).await?;
            go(&session, "#/parts").await?;
            session.wait_for("[data-testid=part-row]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-parts-{suffix}.png")).await?;
            go(&session, "#/schedules").await?;
            session.wait_for("[data-testid=schedule-row]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-schedules-{suffix}.png")).await?;
            if let Some(customer) = &busiest {
                go(&session, "#/monthly").await?;
                choose(&session, "[data-testid=monthly-customer]", customer).await?;
                session.wait_for("[data-testid=monthly-chart]").await?;
                settle().await;
                save(&session, out, &format!("supervisor-monthly-{suffix}.png")).await?;
            }
            go(&session, "#/new").await?;
            let customer = session
                .eval(
                    "return [...document.querySelectorAll('[data-testid=call-customer] option')].map(o => o.value).filter(v => v)[0]",
                )
                .await?;
            choose(&session, "[data-testid=call-customer]", customer.as_str().ok_or("no customer")?).await?;
            session.click("[data-testid=call-level-critical]").await?;
            session.wait_for("[data-testid=call-deadline-arrive]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-call-{suffix}.png")).await?;
            go(&session, &format!("#/wo/{assigned}")).await?;
            session.wait_for("[data-testid=dispatch-panel]").await?;
            settle().await;
            save(&session, out, &format!("supervisor-dispatch-{suffix}.png")).await?;
            if let Some(completed) = completed {
                go(&session, &format!("#/wo/{completed}")).await?;
                session.wait_for("[data-testid=dispatch-review]").await?;
                settle().await;
                save(&session, out, &format!("supervisor-review-{suffix}.png")).await?;
            }
        }
    }
    session.stop().await;
    Ok(())
}

/// Chooses `value` in the `<select>` matching `css`.
async fn choose(session: &Session, css: &str, value: &str) -> Result<(), Error> {
    session.wait_for(&format!("{css} option[value=\"{value}\"]")).await?;
    let script = format!(
        "const s = document.querySelector({css:?}); s.value = {value:?}; s.dispatchEvent(new Event('change', {{bubbles: true}})); return null;"
    );
    session.eval(&script).await?;
    Ok(())
}

/// The technician's screens, offline on demo data.
async fn shoot_technician(out: &Path) -> Result<(), Error> {
    let out = out.to_path_buf();

    // --- First run: an empty device opens on the sign-in screen. ---
    let empty = tempfile::tempdir()?;
    let session = Session::start_with_env(empty.path(), COMPOSITED).await?;
    session.wait_for("[data-testid=enroll-screen]").await?;
    for (locale, lang_button) in LOCALES {
        switch_language(&session, lang_button).await?;
        for (orientation, width, height) in SIZES {
            session.client.set_window_size(width, height).await?;
            settle().await;
            save(&session, &out, &format!("enroll-{orientation}-{locale}.png")).await?;
        }
    }
    session.stop().await;

    // --- A technician's device with work in every state. ---
    let dir = tempfile::tempdir()?;
    let data = fieldbook_tests::demo_device(dir.path(), 60, "zh-CN");
    let prepared = prepare(dir.path(), &data)?;
    let session = Session::start_with_env(dir.path(), COMPOSITED).await?;
    for (locale, lang_button) in LOCALES {
        switch_language(&session, lang_button).await?;
        for (orientation, width, height) in SIZES {
            session.client.set_window_size(width, height).await?;
            shoot_device(&session, &out, &prepared, &format!("{orientation}-{locale}")).await?;
        }
    }
    session.stop().await;
    Ok(())
}

/// The work orders the shots show.
struct Prepared {
    /// One with a checklist, for the checklist shot.
    with_checklist: WorkOrderId,
    /// A visit on site, part done: abnormal check, out-of-range reading, a fault, a part.
    in_progress: WorkOrderId,
    /// The first item answered abnormal, and the out-of-range reading, on `in_progress`.
    abnormal_key: String,
    reading_key: Option<String>,
    /// A completed, signed, locked visit.
    completed: WorkOrderId,
}

async fn shoot_device(session: &Session, out: &Path, prepared: &Prepared, suffix: &str) -> Result<(), Error> {
    // The list.
    go(session, "#/").await?;
    session.wait_for("[data-testid=wo-row]").await?;
    settle().await;
    save(session, out, &format!("list-{suffix}.png")).await?;
    // The detail of the most urgent work order.
    session.click("[data-testid=wo-row]").await?;
    session.wait_for("[data-testid=detail-checklist]").await?;
    settle().await;
    save(session, out, &format!("detail-{suffix}.png")).await?;
    // A checklist, further down a detail.
    go(session, &format!("#/wo/{}", prepared.with_checklist)).await?;
    session.wait_for("[data-testid=checklist-item]").await?;
    scroll_to(session, "[data-testid=detail-checklist]", "start").await?;
    settle().await;
    save(session, out, &format!("checklist-{suffix}.png")).await?;

    // The visit in progress: its head (steps, what is missing beside it in landscape).
    let visit = prepared.in_progress;
    go(session, &format!("#/wo/{visit}/visit")).await?;
    session.wait_for(&format!("[data-testid=visit][data-id='{visit}'][data-status=on_site]")).await?;
    session.wait_for("[data-testid=visit-missing]").await?;
    settle().await;
    save(session, out, &format!("visit-{suffix}.png")).await?;
    // The inspection, at the abnormal check (its photo and corrective work order) and the
    // out-of-range reading.
    let abnormal = format!("[data-testid=visit-item][data-key='{}']", prepared.abnormal_key);
    session.wait_for(&format!("{abnormal}[data-assessment=abnormal]")).await?;
    if let Some(key) = &prepared.reading_key {
        session.wait_for(&format!("[data-testid=visit-item][data-key='{key}'] [data-testid=reading-flag]")).await?;
    }
    scroll_to(session, &abnormal, "start").await?;
    settle().await;
    save(session, out, &format!("visit-inspection-{suffix}.png")).await?;
    if let Some(key) = &prepared.reading_key {
        scroll_to(session, &format!("[data-testid=visit-item][data-key='{key}']"), "center").await?;
        settle().await;
        save(session, out, &format!("visit-reading-{suffix}.png")).await?;
    }
    // What is missing: beside the work in landscape, above it in portrait.
    scroll_to(session, "[data-testid=visit-missing]", "start").await?;
    settle().await;
    save(session, out, &format!("missing-{suffix}.png")).await?;
    // The fault record and the parts.
    session.wait_for("[data-testid=fault-row]").await?;
    scroll_to(session, "[data-testid=visit-fault]", "start").await?;
    settle().await;
    save(session, out, &format!("visit-fault-{suffix}.png")).await?;
    session.wait_for("[data-testid=part-row]").await?;
    scroll_to(session, "[data-testid=visit-parts]", "start").await?;
    settle().await;
    save(session, out, &format!("visit-parts-{suffix}.png")).await?;
    // The sign-off, filled in and signed (not submitted: items are still missing).
    let name = if suffix.ends_with("zh-CN") { "王芳" } else { "Wang Fang" };
    let field = session.wait_for("[data-testid=signer-name]").await?;
    field.clear().await?;
    field.send_keys(name).await?;
    let opinion = session.wait_for("[data-testid=sign-opinion]").await?;
    opinion.clear().await?;
    opinion.send_keys(if suffix.ends_with("zh-CN") { "处理及时，现场整洁" } else { "Quick and tidy" }).await?;
    session.click("[data-testid=satisfaction-5]").await?;
    let canvas = session.wait_for("[data-testid=signature-canvas]").await?;
    session.draw_signature(&canvas).await?;
    scroll_to(session, "[data-testid=sign-form]", "end").await?;
    settle().await;
    save(session, out, &format!("visit-sign-off-{suffix}.png")).await?;

    // A completed visit: locked.
    let done = prepared.completed;
    go(session, &format!("#/wo/{done}/visit")).await?;
    session.wait_for(&format!("[data-testid=visit][data-id='{done}'][data-status=completed]")).await?;
    session.wait_for("[data-testid=visit-locked]").await?;
    // The screen keeps its scroll position from one visit to the next: back to the top.
    scroll_to(session, "[data-testid=visit-header]", "start").await?;
    settle().await;
    save(session, out, &format!("visit-locked-{suffix}.png")).await?;
    session.wait_for("[data-testid=signed-by]").await?;
    scroll_to(session, "[data-testid=visit-sign-off]", "start").await?;
    settle().await;
    save(session, out, &format!("visit-signed-{suffix}.png")).await?;

    // The sync screen: pending changes and a conflict.
    go(session, "#/sync").await?;
    session.wait_for("[data-testid=sync-screen]").await?;
    session.wait_for("[data-testid=conflict-row]").await?;
    session.wait_for("[data-testid=pending-row]").await?;
    settle().await;
    save(session, out, &format!("sync-{suffix}.png")).await?;
    scroll_to(session, "[data-testid=sync-pending-list]", "start").await?;
    settle().await;
    save(session, out, &format!("sync-pending-{suffix}.png")).await?;

    // Signing out asks first (and is cancelled).
    go(session, "#/").await?;
    session.wait_for("[data-testid=wo-row]").await?;
    session.click("[data-testid=sign-out]").await?;
    session.wait_for("[data-testid=sign-out-confirm]").await?;
    settle().await;
    save(session, out, &format!("sign-out-{suffix}.png")).await?;
    session.click("[data-testid=sign-out-cancel]").await?;
    Ok(())
}

/// Prepares the device's store before the app starts, through the same API the UI calls.
fn prepare(dir: &Path, data: &fieldbook_demo::DemoData) -> Result<Prepared, Error> {
    let technician = data.technicians[0].id;
    let mine: Vec<&WorkOrder> =
        data.batch.work_orders.iter().filter(|w| w.assignee == Some(technician) && w.template_id.is_some()).collect();
    let with_checklist = mine
        .iter()
        .find(|w| w.status == WorkOrderStatus::OnSite)
        .or_else(|| mine.first())
        .expect("the demo has work orders with checklists")
        .id;
    // Assigned work orders with a checklist: one for the visit in progress (a repair if there
    // is one, so the fault record is required), one to complete, one for the conflict.
    let assigned: Vec<&WorkOrder> = mine.iter().copied().filter(|w| w.status == WorkOrderStatus::Assigned).collect();
    assert!(assigned.len() >= 3, "the demo has three assigned work orders with checklists: {}", assigned.len());
    let in_progress = assigned.iter().find(|w| w.kind == WorkOrderKind::Repair).copied().unwrap_or(assigned[0]);
    let others: Vec<&WorkOrder> = assigned.iter().copied().filter(|w| w.id != in_progress.id).collect();
    let (completed, conflicted) = (others[0], others[1]);
    let template_of = |w: &WorkOrder| -> &ChecklistTemplate {
        data.batch.templates.iter().find(|t| Some(t.id) == w.template_id).expect("its checklist")
    };

    // The conflict first: a visit started and an answer the server refused (the work order
    // went to someone else meanwhile). Its set-off and arrival reached the server.
    {
        let app = App::open(dir, Arc::new(SystemClock))?;
        let id = conflicted.id.to_string();
        app.change_status(&id, StatusAction::SetOff)?;
        app.change_status(&id, StatusAction::Arrive)?;
        let item = template_of(conflicted).items.iter().find(|i| matches!(i.kind, ItemKind::Check)).expect("a check");
        app.record_answer(&id, &item.key, Answer::Check(CheckOutcome::Normal), "", None)?;
    }
    {
        let mut store = Store::open(dir.join("fieldbook.sqlite"))?;
        let outbox = store.outbox(100)?;
        let last = outbox.last().expect("the conflicted visit's changes wait").seq;
        let message = format!(
            "work order {} is not assigned to {}; the change was kept as a conflict",
            conflicted.number, data.technicians[0].name
        );
        store.acknowledge(
            last,
            &[(last, Acknowledgement::Refused { code: "forbidden".into(), message })],
            chrono::Utc::now(),
        )?;
    }

    let app = App::open(dir, Arc::new(SystemClock))?;
    let photo = photo_jpeg()?;

    // The visit in progress.
    let id = in_progress.id.to_string();
    app.change_status(&id, StatusAction::SetOff)?;
    app.change_status(&id, StatusAction::Arrive)?;
    let template = template_of(in_progress);
    let abnormal = template
        .items
        .iter()
        .find(|i| matches!(i.kind, ItemKind::Check) && i.photo_required)
        .or_else(|| template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)))
        .expect("a check item");
    app.record_answer(&id, &abnormal.key, Answer::Check(CheckOutcome::Abnormal), "", None)?;
    app.attach_photo(&id, Some(&abnormal.key), "", &photo)?;
    let mut reading_key = None;
    let mut normal_checks = 0;
    for item in &template.items {
        if item.key == abnormal.key {
            continue;
        }
        match &item.kind {
            ItemKind::Reading { min, max, .. } if reading_key.is_none() => {
                let value = match (min, max) {
                    (Some(min), _) => min - 5.0,
                    (None, Some(max)) => max + 5.0,
                    (None, None) => continue,
                };
                app.record_answer(&id, &item.key, Answer::Reading(value), "", None)?;
                reading_key = Some(item.key.clone());
            }
            // A few more answered; the rest stays missing.
            ItemKind::Check if normal_checks < 2 => {
                app.record_answer(&id, &item.key, Answer::Check(CheckOutcome::Normal), "", None)?;
                normal_checks += 1;
            }
            _ => {}
        }
    }
    let arrived = chrono::Utc::now() - chrono::Duration::minutes(40);
    app.record_fault(
        &id,
        &FaultDraft {
            symptom: "机柜风扇停转，设备过热报警 / Cabinet fan stalled, over-temperature alarm".into(),
            cause: "风扇轴承磨损 / Fan bearing worn".into(),
            action: "更换风扇，清理滤网 / Replaced the fan, cleaned the filter".into(),
            result: "运行正常 / Running normally".into(),
            category: "散热 / Cooling".into(),
            started_at: Some(arrived - chrono::Duration::hours(3)),
            ended_at: Some(arrived + chrono::Duration::minutes(30)),
            loaner_provided_at: None,
            supersedes: None,
        },
    )?;
    let (number, name, approval, price) = data.batch.parts_catalog.first().cloned().expect("a parts catalogue");
    app.record_part(
        &id,
        &PartDraft {
            part_number: number,
            name,
            quantity: 1,
            serial: "SN-2026-0042".into(),
            billing: PartBilling::Paid { unit_price_cents: price },
            old_part_returned: true,
            needs_customer_approval: approval,
            supersedes: None,
            billing_reason: None,
        },
    )?;

    // The completed visit: every item answered, photos where asked, a fault record for a
    // repair, and the customer's signature.
    let done = completed.id.to_string();
    app.change_status(&done, StatusAction::SetOff)?;
    app.change_status(&done, StatusAction::Arrive)?;
    for item in &template_of(completed).items {
        if item.photo_required || matches!(item.kind, ItemKind::Photo) {
            app.attach_photo(&done, Some(&item.key), "", &photo)?;
        }
        let answer = match &item.kind {
            ItemKind::Check => Answer::Check(CheckOutcome::Normal),
            ItemKind::Reading { min, max, .. } => Answer::Reading(match (min, max) {
                (Some(min), Some(max)) => ((min + max) / 2.0).round(),
                (Some(min), None) => min + 10.0,
                (None, Some(max)) => max - 1.0,
                (None, None) => 42.0,
            }),
            ItemKind::Text => Answer::Text("OK".into()),
            ItemKind::Photo => Answer::PhotoAttached,
        };
        let answered = app.work_order_detail(&done)?.current_results.iter().any(|r| r.item_key == item.key);
        if !answered {
            app.record_answer(&done, &item.key, answer, "", None)?;
        }
    }
    if completed.kind == WorkOrderKind::Repair {
        app.record_fault(
            &done,
            &FaultDraft {
                symptom: "打印偶发卡纸 / Occasional paper jam".into(),
                cause: "搓纸轮老化 / Pick-up roller worn".into(),
                action: "更换搓纸轮 / Replaced the pick-up roller".into(),
                result: "连续打印 200 张无卡纸 / 200 pages without a jam".into(),
                category: "进纸 / Paper feed".into(),
                started_at: None,
                ended_at: None,
                loaner_provided_at: None,
                supersedes: None,
            },
        )?;
    }
    let missing = app.work_order_detail(&done)?.missing;
    assert!(
        missing.len() == 1 && matches!(missing[0], fieldbook_domain::Missing::SignOff),
        "only the signature is missing on the visit to complete: {missing:?}"
    );
    app.sign(
        &done,
        &SignOffInput {
            signer_name: "李娜".into(), opinion: "服务很好 / Very good service".into(), satisfaction: 5
        },
        &signature_png()?,
        None,
    )?;
    Ok(Prepared {
        with_checklist,
        in_progress: in_progress.id,
        abnormal_key: abnormal.key.clone(),
        reading_key,
        completed: completed.id,
    })
}

/// A 1200×900 JPEG: a photo of sorts.
fn photo_jpeg() -> Result<Vec<u8>, Error> {
    let image = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(60 + x * 120 / 1199) as u8, (90 + y * 100 / 899) as u8, (160 - (x + y) * 80 / 2098) as u8])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Jpeg)?;
    Ok(bytes.into_inner())
}

/// A signature: a few dark loops on white.
fn signature_png() -> Result<Vec<u8>, Error> {
    let (width, height) = (600u32, 200u32);
    let mut image = image::RgbaImage::from_pixel(width, height, image::Rgba([255, 255, 255, 0]));
    for step in 0..4000 {
        let t = step as f64 / 4000.0;
        let x = 40.0 + t * 520.0;
        let y = 100.0 + 50.0 * (t * 18.0).sin() * (1.0 - t * 0.5) + 20.0 * (t * 5.0).cos();
        for dx in -2i64..=2 {
            for dy in -2i64..=2 {
                let (px, py) = (x as i64 + dx, y as i64 + dy);
                if px >= 0 && py >= 0 && (px as u32) < width && (py as u32) < height {
                    image.put_pixel(px as u32, py as u32, image::Rgba([20, 30, 60, 255]));
                }
            }
        }
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

async fn switch_language(session: &Session, lang_button: &str) -> Result<(), Error> {
    session.click(&format!("[data-testid={lang_button}]")).await?;
    session.wait_for(&format!("[data-testid={lang_button}][aria-pressed=true]")).await?;
    Ok(())
}

async fn go(session: &Session, hash: &str) -> Result<(), Error> {
    session.eval(&format!("location.hash = '{hash}'; return null")).await?;
    Ok(())
}

async fn scroll_to(session: &Session, css: &str, block: &str) -> Result<(), Error> {
    session.wait_for(css).await?;
    session
        .eval(&format!(
            "document.querySelector(\"{}\").scrollIntoView({{ block: '{block}' }}); return null",
            css.replace('"', "\\\"")
        ))
        .await?;
    Ok(())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn save(session: &Session, dir: &Path, name: &str) -> Result<(), Error> {
    let png = session.client.screenshot().await?;
    std::fs::write(dir.join(name), png)?;
    println!("{name}");
    Ok(())
}
