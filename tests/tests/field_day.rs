//! A technician's field day, end to end: the real app (tauri-driver, WebKitWebDriver, Xvfb)
//! signs in to a real server, and a whole visit is done offline through the UI — checklist with
//! an abnormal item with its photo and a corrective work order asked for from it, an
//! out-of-limits reading, the fault record, two parts, the customer's drawn signature — and
//! reaches the server exactly once when it comes back. And
//! the app killed with SIGKILL mid-visit loses no answer. Run by `./dev test` (feature `e2e`).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::Element;
use fieldbook_app::{App, SystemClock, WorkOrderQuery};
use fieldbook_domain::{
    Answer, Assessment, BlobId, CheckOutcome, ChecklistItem, ChecklistTemplate, FaultLevel, ItemKind, PartBilling,
    WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_protocol::{ChangeBody, ConflictFilter, MutationOp, WorkOrderFilter};
use fieldbook_server_db::Database;
use fieldbook_server_sqlite::SqliteDatabase;
use fieldbook_tests::demo_device;
use fieldbook_tests::e2e::{Error, Session};

const PASSWORD: &str = "field-day-password";

// -------------------------------------------------------------------------------------------
// The journey, in English and in Chinese.

/// The words each screen must show, from ui/src/lib/i18n/{en,zh-CN}.ts.
struct Words {
    lang: &'static str,
    app_name: &'static str,
    enroll_title: &'static str,
    list_count_word: &'static str,
    assigned_group: &'static str,
    start_visit: &'static str,
    /// The step bar, in order.
    steps: [&'static str; 7],
    set_off: &'static str,
    arrive: &'static str,
    inspection_heading: &'static str,
    fault_heading: &'static str,
    parts_heading: &'static str,
    sign_heading: &'static str,
    sign_submit: &'static str,
    locked: &'static str,
    offline: &'static str,
    offline_hint: &'static str,
    synced: &'static str,
    abnormal: &'static str,
    /// The abnormal item's button, and the title of the form it opens.
    corrective_create: &'static str,
    corrective_title: &'static str,
    /// What the signed-report card says once the server's ledger found the report intact.
    ledger_intact: &'static str,
    /// The exported PDF's title.
    report_title: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    app_name: "Fieldbook",
    enroll_title: "Connect to your Fieldbook server",
    list_count_word: "Work orders",
    assigned_group: "Assigned",
    start_visit: "Start visit",
    steps: ["En route", "Arrived", "Inspection", "Fault record", "Parts", "Sign-off", "Completed"],
    set_off: "Set off",
    arrive: "Arrived",
    inspection_heading: "Inspection",
    fault_heading: "Fault handling",
    parts_heading: "Parts used",
    sign_heading: "Customer sign-off",
    sign_submit: "Sign and complete",
    locked: "Completed — locked",
    offline: "Offline",
    offline_hint: "Work is kept on this device until the network returns",
    synced: "Synced",
    abnormal: "Abnormal",
    corrective_create: "Create corrective work order",
    corrective_title: "Corrective work order",
    ledger_intact: "Server ledger: intact",
    report_title: "Field service report",
};

const CHINESE: Words = Words {
    lang: "zh-CN",
    app_name: "现场服务记录",
    enroll_title: "连接现场服务服务器",
    list_count_word: "张工单",
    assigned_group: "已派单",
    start_visit: "开始服务",
    steps: ["出发", "到场", "检查", "故障记录", "备件", "客户签字", "完成"],
    set_off: "出发",
    arrive: "已到场",
    inspection_heading: "检查",
    fault_heading: "故障处理记录",
    parts_heading: "备品备件",
    sign_heading: "用户签字确认",
    sign_submit: "签字并完成",
    locked: "已完成——已锁定",
    offline: "离线",
    offline_hint: "记录已保存在本机，联网后自动上传",
    synced: "已同步",
    abnormal: "异常",
    corrective_create: "生成整改工单",
    corrective_title: "整改工单",
    ledger_intact: "服务器台账：完好",
    report_title: "现场服务报告",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_does_a_whole_visit_offline_and_the_server_gets_it_once() -> Result<(), Error> {
    field_day(&ENGLISH).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_does_a_whole_visit_offline_in_chinese_and_the_server_gets_it_once() -> Result<(), Error> {
    field_day(&CHINESE).await
}

/// What the technician did on the visit, to compare with what the server stored.
struct Done {
    target: WorkOrder,
    template: ChecklistTemplate,
    abnormal_key: String,
    /// The corrective work order asked for from the abnormal item: its level and symptom.
    corrective: (FaultLevel, String),
    low_reading: (String, f64),
    answers: BTreeMap<String, Answer>,
    fault: [&'static str; 5],
    /// (part number, billing type, whether the billing overrode the proposal)
    parts: Vec<(&'static str, &'static str, bool)>,
    signer: &'static str,
    /// The signed report's hash, and the PDF the app exported of it.
    report_hash: String,
    report_pdf: PathBuf,
    /// What went wrong without stopping the journey.
    findings: Vec<String>,
}

async fn field_day(words: &Words) -> Result<(), Error> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDatabase::open(&db_path)?;
        // 300 work orders, 100 of them tech1's: enough for several to compete for "most urgent".
        fieldbook_server::demo::load(&db, 300, PASSWORD, chrono::Utc::now()).await?;
    }
    // What the server says tech1 has, and the most urgent work order with a checklist that a
    // visit can start on.
    let (total, assigned, candidates, templates, existing) = {
        let db = SqliteDatabase::open(&db_path)?;
        let existing = all_work_orders(&db).await?;
        let tech1 = db.user_by_username("tech1").await?.expect("demo account").info.id;
        let mine = db.work_orders(&WorkOrderFilter { assignee: Some(tech1), ..Default::default() }, None).await?;
        let mut assigned: Vec<WorkOrder> =
            mine.iter().filter(|w| w.status == WorkOrderStatus::Assigned).cloned().collect();
        assigned.sort_by_key(urgency);
        let candidates: Vec<WorkOrder> = assigned.iter().filter(|w| w.template_id.is_some()).cloned().collect();
        assert!(candidates.len() >= 2, "several assigned work orders with a checklist compete: {}", candidates.len());
        (mine.len(), assigned, candidates, db.templates().await?, existing)
    };
    // Their kinds are exactly those with checklists in the demo; the list filters by them.
    let mut kinds: Vec<WorkOrderKind> = Vec::new();
    for kind in candidates.iter().map(|w| w.kind) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    for template in &templates {
        assert!(
            template.items.iter().any(|i| matches!(i.kind, ItemKind::Reading { .. }))
                && template.items.iter().any(|i| matches!(i.kind, ItemKind::Check)),
            "{}: the checklist has a reading and a check",
            template.code
        );
    }
    let photo_path = dir.path().join("cabinet.jpg");
    make_photo(&photo_path)?;

    let mut server = TestServer::start(&db_path, None)?;
    let scenario = Scenario {
        words,
        address: format!("http://127.0.0.1:{}", server.port),
        total,
        assigned,
        candidates,
        kinds,
        templates,
        photo_path,
        device: dir.path().join("device"),
    };
    let result = async {
        let exports = dir.path().join("exports");
        let session =
            Session::start_with_env(&scenario.device, &[("FIELDBOOK_EXPORT_DIR", exports.to_str().unwrap())]).await?;
        let done = visit_offline(&session, &scenario, &mut server).await;
        let done = match done {
            Ok(done) => done,
            Err(err) => {
                dump_screen(&session, words).await;
                session.stop().await;
                return Err(err);
            }
        };
        session.stop().await;
        Ok::<Done, Error>(done)
    }
    .await;
    server.stop();
    let done = result?;
    eprintln!("[{}] the journey took {:.1} s", words.lang, started.elapsed().as_secs_f64());

    // The device has nothing left to send and no conflict.
    let corrective_id = {
        let app = App::open(&scenario.device, Arc::new(SystemClock))?;
        assert_eq!(app.pending_changes()?, 0, "the device sent everything");
        assert_eq!(app.sync_status()?.conflicts, 0);
        let detail = app.work_order_detail(&done.target.id.to_string())?;
        assert_eq!(detail.summary.status, WorkOrderStatus::Completed);
        assert_eq!(detail.corrective_requests.len(), 1, "{:#?}", detail.corrective_requests);
        let request = &detail.corrective_requests[0];
        assert_eq!(request.item_key.as_deref(), Some(done.abnormal_key.as_str()));
        assert_eq!((request.fault_level, request.symptom.clone()), done.corrective);
        request.id
    };
    server_holds_the_visit_once(&db_path, &done).await?;
    server_made_the_corrective_work_order(&db_path, &done, &existing, corrective_id).await?;
    the_exported_report_verifies(&db_path, &done, words).await?;
    eprintln!("[{}] field day done in {:.1} s", words.lang, started.elapsed().as_secs_f64());
    if !done.findings.is_empty() {
        return Err(format!("[{}] the visit went through, but:\n- {}", words.lang, done.findings.join("\n- ")).into());
    }
    Ok(())
}

/// What the journey starts from: the server's view of tech1's work, and where things are.
struct Scenario<'w> {
    words: &'w Words,
    address: String,
    /// How many work orders tech1 has.
    total: usize,
    /// tech1's assigned work orders, most urgent first.
    assigned: Vec<WorkOrder>,
    /// Those with a checklist; the first is the one visited.
    candidates: Vec<WorkOrder>,
    kinds: Vec<WorkOrderKind>,
    templates: Vec<ChecklistTemplate>,
    photo_path: PathBuf,
    /// The app's data folder (empty at start).
    device: PathBuf,
}

async fn visit_offline(session: &Session, scenario: &Scenario<'_>, server: &mut TestServer) -> Result<Done, Error> {
    let Scenario { words, address, total, assigned, candidates, kinds, templates, photo_path, device: _ } = scenario;
    let (words, total) = (*words, *total);
    let zh = words.lang == "zh-CN";
    // Failures found on the way that do not stop the journey; the test fails with them at the
    // end, after everything else was checked.
    let mut findings: Vec<String> = Vec::new();
    // --- First run: no server, no work: the sign-in screen opens by itself. ---
    session.wait_for("[data-testid=enroll-screen]").await?;
    if !zh {
        session.click("[data-testid=lang-en]").await?;
    }
    session.wait_for_text("[data-testid=app-name]", |t| t == words.app_name).await?;
    assert_eq!(session.eval("return document.documentElement.lang").await?, words.lang);
    session.wait_for_text("[data-testid=enroll-screen] h2", |t| t == words.enroll_title).await?;
    session.type_into("[data-testid=enroll-server]", address).await?;
    session.type_into("[data-testid=enroll-username]", "tech1").await?;
    session.type_into("[data-testid=enroll-password]", PASSWORD).await?;
    session.click("[data-testid=enroll-submit]").await?;

    // --- Sync brings tech1's work orders. ---
    session.wait_for("[data-testid=wo-list]").await?;
    let count = session.wait_for_text("[data-testid=list-count]", |t| first_number(t) == Some(total)).await?;
    assert!(count.contains(words.list_count_word), "{count}");
    session.wait_for("[data-testid=sync-badge][data-state=online]").await?;

    // --- The most urgent assigned work order with a checklist, picked in the list. ---
    session.click("[data-testid=status-chip][data-status=assigned]").await?;
    session.wait_for_text("[data-testid=list-count]", |t| first_number(t) == Some(assigned.len())).await?;
    // The list's order is the server's urgency order (as far as the list shows rows; work
    // orders equally urgent may come in either order).
    let mut shown = Vec::new();
    let mut numbers = Vec::new();
    for row in session.client.find_all(Locator::Css("[data-testid=wo-row]")).await? {
        let number = row.attr("data-number").await?.unwrap_or_default();
        let order = assigned.iter().find(|w| w.number == number).ok_or(format!("{number} is not assigned to tech1"))?;
        shown.push(urgency(order));
        numbers.push(number);
    }
    let expected: Vec<_> = assigned.iter().take(shown.len()).map(urgency).collect();
    let expected_numbers: Vec<&str> = assigned.iter().take(shown.len()).map(|w| w.number.as_str()).collect();
    assert!(shown.len() >= 3, "{numbers:?}");
    assert!(
        shown == expected,
        "assigned work orders, most urgent first: the list shows {numbers:?}, the server's order is {expected_numbers:?}"
    );
    for kind in kinds {
        session.click(&format!("[data-testid=kind-chip][data-kind={}]", kind_name(*kind))).await?;
    }
    session.wait_for_text("[data-testid=list-count]", |t| first_number(t) == Some(candidates.len())).await?;
    let group = session.wait_for_text("[data-testid=wo-group]", |t| !t.is_empty()).await?;
    assert!(group.contains(words.assigned_group), "{group}");
    let first_row = session.wait_for("[data-testid=wo-row]").await?;
    let number = first_row.attr("data-number").await?.unwrap_or_default();
    let target = candidates.iter().find(|w| w.number == number).ok_or(format!("{number} is not a candidate"))?;
    assert_eq!(
        urgency(target),
        urgency(&candidates[0]),
        "the list puts the server's most urgent assigned work order with a checklist first"
    );
    let template = templates.iter().find(|t| Some(t.id) == target.template_id).expect("its checklist");
    first_row.click().await?;
    session.wait_for(&format!("[data-testid=wo-detail][data-id='{}']", target.id)).await?;
    let start = session.wait_for_text("[data-testid=start-visit]", |t| !t.is_empty()).await?;
    assert!(start.contains(words.start_visit), "{start}");
    session.click("[data-testid=start-visit]").await?;

    // --- The visit: set off, arrive. ---
    session.wait_for("[data-testid=visit][data-status=assigned]").await?;
    assert_eq!(session.eval("return location.hash").await?, format!("#/wo/{}/visit", target.id));
    let steps = session.texts("[data-testid=visit-step] .name").await?;
    assert_eq!(steps, words.steps, "the step bar");
    // Not started: the first step is current, nothing is inspected, and nothing claims the
    // visit could be completed.
    session.wait_for("[data-testid=visit-step][data-step=en_route][data-state=current]").await?;
    session.wait_for("[data-testid=visit-step][data-step=inspection][data-state=todo]").await?;
    assert!(session.client.find_all(Locator::Css("[data-testid=visit-missing]")).await?.is_empty());
    let set_off = session.wait_for_text("[data-testid=set-off]", |t| !t.is_empty()).await?;
    assert_eq!(set_off, words.set_off);
    // A status button ignores taps while the previous step is still saving (aria-disabled).
    session.click("[data-testid=set-off][aria-disabled=false]").await?;
    session.wait_for("[data-testid=visit][data-status=en_route]").await?;
    session.wait_for("[data-testid=visit-step][data-step=en_route][data-state=done]").await?;
    let arrive = session.wait_for_text("[data-testid=arrive]", |t| !t.is_empty()).await?;
    assert_eq!(arrive, words.arrive);
    session.click("[data-testid=arrive][aria-disabled=false]").await?;
    session.wait_for("[data-testid=visit][data-status=on_site]").await?;
    session.wait_for("[data-testid=arrived-at]").await?;
    session.wait_for("[data-testid=visit-step][data-step=arrived][data-state=done]").await?;
    session.wait_for("[data-testid=visit-step][data-step=inspection][data-state=current]").await?;
    let missing = session.client.find_all(Locator::Css("[data-testid=missing-entry][data-type=required_item]")).await?;
    let required = template.items.iter().filter(|i| i.required && !matches!(i.kind, ItemKind::Photo)).count();
    assert_eq!(missing.len(), required, "every required item is listed as missing");
    for (testid, heading) in [
        ("visit-inspection", words.inspection_heading),
        ("visit-fault", words.fault_heading),
        ("visit-parts", words.parts_heading),
        ("visit-sign-off", words.sign_heading),
    ] {
        let text = session.wait_for_text(&format!("[data-testid={testid}] h3"), |t| !t.is_empty()).await?;
        assert!(text.starts_with(heading), "{testid}: {text}");
    }

    // The status steps reached the server; from here on the visit happens offline.
    session
        .wait_for_within("[data-testid=sync-badge][data-state=online][data-pending='0']", Duration::from_secs(20))
        .await?;
    server.stop();

    // --- Every checklist item. ---
    let abnormal_key = template
        .items
        .iter()
        .find(|i| matches!(i.kind, ItemKind::Check) && i.photo_required)
        .or_else(|| template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)))
        .expect("a check item")
        .key
        .clone();
    let mut answers = BTreeMap::new();
    let mut low_reading = None;
    let mut corrective = None;
    let mut thumbnails = Vec::new();
    for item in &template.items {
        let css = item_css(&item.key);
        let row = session.wait_for(&css).await?;
        assert_eq!(row.attr("data-assessment").await?.as_deref(), Some("unanswered"), "{}", item.key);
        let label = row.find(Locator::Css(".label")).await?.text().await?;
        assert_eq!(label, if zh { item.label.zh.as_str() } else { item.label.en.as_str() });
        match &item.kind {
            ItemKind::Check if item.key == abnormal_key => {
                let button = row.find(Locator::Css("[data-testid=answer-abnormal]")).await?;
                assert_eq!(button.text().await?, words.abnormal);
                button.click().await?;
                session.wait_for(&format!("{css}[data-assessment=abnormal]")).await?;
                answers.insert(item.key.clone(), Answer::Check(CheckOutcome::Abnormal));
                corrective = Some(ask_for_corrective(session, words, &css, &label).await?);
            }
            ItemKind::Check => {
                row.find(Locator::Css("[data-testid=answer-normal]")).await?.click().await?;
                session.wait_for(&format!("{css}[data-assessment=normal]")).await?;
                answers.insert(item.key.clone(), Answer::Check(CheckOutcome::Normal));
            }
            ItemKind::Reading { min, max, .. } => {
                let input = row.find(Locator::Css("[data-testid=answer-reading]")).await?;
                if low_reading.is_none() {
                    // Out of limits: below the minimum, or above the maximum.
                    let value = match (min, max) {
                        (Some(min), _) => min - 5.0,
                        (None, Some(max)) => max + 5.0,
                        (None, None) => unreachable!("a reading without limits cannot be out of them"),
                    };
                    input.send_keys(&format!("{value}\u{E007}")).await?;
                    let flag = session.wait_for(&format!("{css} [data-testid=reading-flag]")).await?;
                    assert_eq!(
                        flag.attr("data-flag").await?.as_deref(),
                        Some(if min.is_some() { "below" } else { "above" })
                    );
                    session.wait_for(&format!("{css}[data-assessment=abnormal]")).await?;
                    // Still flagged once saved (the backend's assessment).
                    session.wait_for(&format!("{css} [data-testid=reading-flag]")).await?;
                    low_reading = Some((item.key.clone(), value));
                    answers.insert(item.key.clone(), Answer::Reading(value));
                } else {
                    let value = match (min, max) {
                        (Some(min), Some(max)) => ((min + max) / 2.0).round(),
                        (Some(min), None) => min + 10.0,
                        (None, Some(max)) => max - 1.0,
                        (None, None) => 42.0,
                    };
                    input.send_keys(&format!("{value}\u{E007}")).await?;
                    session.wait_for(&format!("{css}[data-assessment=normal]")).await?;
                    assert!(row.find_all(Locator::Css("[data-testid=reading-flag]")).await?.is_empty());
                    answers.insert(item.key.clone(), Answer::Reading(value));
                }
            }
            ItemKind::Text => {
                let text = format!("{} OK", item.key);
                // Typed, then Tab: the answer is saved when the field loses focus.
                row.find(Locator::Css("[data-testid=answer-text]"))
                    .await?
                    .send_keys(&format!("{text}\u{E004}"))
                    .await?;
                session.wait_for(&format!("{css}:not([data-assessment=unanswered])")).await?;
                answers.insert(item.key.clone(), Answer::Text(text));
            }
            ItemKind::Photo => {
                thumbnails.push(attach_photo(session, &row, &css, photo_path).await?);
                session.wait_for(&format!("{css}:not([data-assessment=unanswered])")).await?;
                answers.insert(item.key.clone(), Answer::PhotoAttached);
            }
        }
        if item.key == abnormal_key || (item.photo_required && !matches!(item.kind, ItemKind::Photo)) {
            thumbnails.push(attach_photo(session, &row, &css, photo_path).await?);
        }
    }
    let low_reading = low_reading.expect("a reading was answered");
    let corrective = corrective.expect("a corrective work order was asked for");
    session.wait_for("[data-testid=visit-step][data-step=inspection][data-state=done]").await?;
    // Offline now: the badge says so, and the answers wait on the device.
    let badge =
        session.wait_for_within("[data-testid=sync-badge][data-state=offline]", Duration::from_secs(20)).await?;
    let text = badge.text().await?;
    assert!(text.contains(words.offline), "the sync badge reads {text:?}");
    // In the user's words, not the network error (that stays in the tooltip).
    session.wait_for_content("[data-testid=sync-line]", |t| t == words.offline_hint).await?;

    // --- The fault record. ---
    let fault = ["Cabinet fan stalled", "Bearing worn", "Replaced the fan and the PSU", "Running normally", "cooling"];
    session.type_into("[data-testid=fault-symptom]", fault[0]).await?;
    session.type_into("[data-testid=fault-cause]", fault[1]).await?;
    session.type_into("[data-testid=fault-action]", fault[2]).await?;
    session.type_into("[data-testid=fault-result]", fault[3]).await?;
    session.type_into("[data-testid=fault-category]", fault[4]).await?;
    let arrived = chrono::Local::now();
    set_datetime(session, "[data-testid=fault-started]", arrived - chrono::Duration::hours(3)).await?;
    set_datetime(session, "[data-testid=fault-ended]", arrived - chrono::Duration::minutes(5)).await?;
    session.click("[data-testid=fault-save]").await?;
    let rows = session.wait_for_count("[data-testid=fault-row]", 1).await?;
    assert!(rows[0].text().await?.contains(fault[0]));
    session.wait_for("[data-testid=visit-step][data-step=fault][data-state=done]").await?;

    // --- Two parts: one under warranty, one paid. ---
    let mut parts = Vec::new();
    for (search, number, billing) in [("HK-PSU", "HK-PSU-12V2A", "warranty"), ("GGD-MCB", "GGD-MCB-C32", "paid")] {
        session.type_into("[data-testid=part-search]", search).await?;
        let option = format!("[data-testid=part-option][data-part-number='{number}']");
        session.wait_for(&format!("{option}, [data-testid=part-no-results]")).await?;
        // The catalogue the technician chooses from came with the sync at sign-in.
        if session.client.find_all(Locator::Css(&option)).await?.is_empty() {
            return Err(format!(
                "the parts catalogue is not on the device after sync: searching {search:?} finds nothing"
            )
            .into());
        }
        session.click(&option).await?;
        session.wait_for(&format!("[data-testid=part-chosen][data-part-number='{number}']")).await?;
        session.type_into("[data-testid=part-serial]", &format!("NEW-{number}")).await?;
        let proposed = session.attr("[data-testid=part-proposal]", "data-billing").await?;
        session.wait_for("[data-testid=part-billing]").await?.select_by_value(billing).await?;
        let overridden = proposed.as_deref() != Some(billing);
        if overridden {
            // Not what was proposed: the reason is required, and kept with the part.
            session.type_into("[data-testid=part-override-reason]", "Agreed with the customer on site").await?;
        } else {
            assert!(session.client.find_all(Locator::Css("[data-testid=part-override-reason]")).await?.is_empty());
        }
        session.click("[data-testid=part-save]").await?;
        session.wait_for_count("[data-testid=part-row]", parts.len() + 1).await?;
        session.wait_for(&format!("[data-testid=part-row][data-billing={billing}]")).await?;
        parts.push((number, billing, overridden));
    }
    session.wait_for("[data-testid=visit-step][data-step=parts][data-state=done]").await?;
    // The saves since did not re-create (refetch and flash) the photos' thumbnails.
    for img in &thumbnails {
        let connected = img.prop("isConnected").await.map_err(|e| format!("a photo thumbnail was re-created: {e}"))?;
        assert_eq!(connected.as_deref(), Some("true"), "a photo thumbnail was replaced by a later save");
    }

    // --- The customer signs; signing completes the visit. ---
    let signer = "Wang Fang";
    session.type_into("[data-testid=signer-name]", signer).await?;
    session.type_into("[data-testid=sign-opinion]", "Quick and tidy").await?;
    session.click("[data-testid=satisfaction-5]").await?;
    let canvas = session.wait_for("[data-testid=signature-canvas]").await?;
    session.draw_signature(&canvas).await?;
    let submit = session.wait_for("[data-testid=sign-submit]").await?;
    assert_eq!(submit.attr("disabled").await?, None, "nothing blocks the sign-off");
    assert_eq!(submit.text().await?, words.sign_submit);
    submit.click().await?;
    let locked = session.wait_for_text("[data-testid=visit-locked]", |t| !t.is_empty()).await?;
    assert!(locked.starts_with(words.locked), "{locked}");
    session.wait_for("[data-testid=visit][data-status=completed]").await?;
    session.wait_for_text("[data-testid=signed-by]", |t| t == signer).await?;
    session.wait_for("[data-testid=visit-step][data-step=completed][data-state=done]").await?;
    // Locked: no control to record anything is left.
    assert!(session.client.find_all(Locator::Css("[data-testid=answer-normal]:not([disabled])")).await?.is_empty());
    assert!(session.client.find_all(Locator::Css("[data-testid=photo-input]")).await?.is_empty());

    // Everything waits on the device, and says so: the server never answered, so no record
    // may claim to be on the server ("sent", awaiting confirmation) or confirmed.
    let badge = session.wait_for("[data-testid=sync-badge][data-state=offline]").await?;
    let pending: u64 = badge.attr("data-pending").await?.unwrap_or_default().parse()?;
    assert!(pending >= template.items.len() as u64 + 5, "answers, photo, fault, parts and sign-off wait: {pending}");
    let states = record_states(session).await?;
    assert!(states.len() > template.items.len() + 4, "every record shows where it stands: {states:?}");
    let claimed: Vec<&String> = states.iter().filter(|s| *s != "local_only").collect();
    if !claimed.is_empty() {
        findings.push(format!(
            "{} of the {} records made with the server down show {:?} (\"on the server, awaiting \
             confirmation\") rather than \"local_only\" (backend: fieldbook-sync marks a batch sent \
             before a push that then cannot connect)",
            claimed.len(),
            states.len(),
            claimed[0]
        ));
    }

    // --- The server comes back on the same address; the app notices by itself. ---
    server.restart()?;
    let badge = session
        .wait_for_within("[data-testid=sync-badge][data-state=online][data-pending='0']", Duration::from_secs(30))
        .await?;
    assert!(badge.text().await?.contains(words.synced));
    // Every record of the visit now shows as confirmed by the server.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let states = record_states(session).await?;
        if !states.is_empty() && states.iter().all(|s| s == "confirmed") {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the visit's records never all showed as confirmed: {states:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(badge.attr("data-conflicts").await?.as_deref(), Some("0"));

    // --- The signed report: in the server's ledger, verified, exported to PDF. ---
    session.eval(&format!("location.hash = '#/wo/{}'", target.id)).await?;
    let version = session.wait_for("[data-testid=report-version][data-intact=true][data-ledger=confirmed]").await?;
    let report_hash = version.attr("data-hash").await?.unwrap_or_default();
    let code = session.wait_for_text("[data-testid=report-code] b", |t| !t.is_empty()).await?;
    assert_eq!(code, fieldbook_domain::evidence::short_code(&report_hash));
    session.click("[data-testid=verify-report]").await?;
    session
        .wait_for("[data-testid=report-version][data-server=intact] [data-testid=report-server][data-verdict=intact]")
        .await?;
    let verified = session.wait_for_text("[data-testid=report-server]", |t| !t.is_empty()).await?;
    assert!(verified.contains(words.ledger_intact), "{verified}");
    session.click("[data-testid=export-report]").await?;
    let exported = session.wait_for("[data-testid=exported-report]").await?;
    let report_pdf = PathBuf::from(exported.attr("data-path").await?.unwrap_or_default());
    Ok(Done {
        target: target.clone(),
        template: template.clone(),
        abnormal_key,
        corrective,
        low_reading,
        answers,
        fault,
        parts,
        signer,
        report_hash,
        report_pdf,
        findings,
    })
}

/// The PDF the app exported: in the journey's language, naming the customer and the visit's
/// check code, and `fieldbook-server verify` finds it intact in the ledger.
async fn the_exported_report_verifies(db_path: &Path, done: &Done, words: &Words) -> Result<(), Error> {
    assert_eq!(done.report_pdf.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()), Some("exports"));
    let pdf = std::fs::read(&done.report_pdf)?;
    let carried = fieldbook_report::signed_report_in_pdf(&pdf)?.expect("the PDF carries its signed report");
    assert_eq!(carried.hash, done.report_hash);
    let text = std::process::Command::new("pdftotext").arg(&done.report_pdf).arg("-").output()?;
    let text = String::from_utf8(text.stdout)?;
    assert!(text.contains(&done.target.number), "{text}");
    assert!(text.contains(&fieldbook_domain::evidence::short_code(&done.report_hash)), "the footer's code");
    assert!(text.contains(words.report_title), "the report is in {}: {text}", words.lang);
    let db = SqliteDatabase::open(db_path)?;
    let intact = fieldbook_server::verify::run(&db, done.report_pdf.to_str().unwrap(), true).await?;
    assert!(intact, "fieldbook-server verify finds the exported report intact");
    Ok(())
}

/// The server's own records of the visit: each once, complete.
async fn server_holds_the_visit_once(db_path: &Path, done: &Done) -> Result<(), Error> {
    let (target, template) = (&done.target, &done.template);
    let db = SqliteDatabase::open(db_path)?;
    let tech1 = db.user_by_username("tech1").await?.expect("demo account").info.id;
    let stored = db.work_order(target.id).await?.expect("the work order");
    assert_eq!(stored.status, WorkOrderStatus::Completed);
    assert!(stored.responded_at.is_some() && stored.arrived_at.is_some() && stored.completed_at.is_some());

    // Every record of this work order in tech1's change stream.
    let mut ops = Vec::new();
    let mut cursor = 0;
    loop {
        let page = db.pull(tech1, cursor, 1000).await?;
        for change in page.changes {
            if let ChangeBody::Record { op } = change.body
                && op.work_order_id() == target.id
            {
                ops.push(op);
            }
        }
        if !page.more {
            break;
        }
        cursor = page.cursor;
    }
    let mut results = Vec::new();
    let (mut photos, mut faults, mut parts, mut sign_offs, mut notes) = (vec![], vec![], vec![], vec![], vec![]);
    let mut correctives = Vec::new();
    for op in &ops {
        match op {
            MutationOp::InspectionResult(r) => results.push(r.clone()),
            MutationOp::Photo(p) => photos.push(p.clone()),
            MutationOp::FaultRecord(f) => faults.push(f.clone()),
            MutationOp::PartUsage(p) => parts.push(p.clone()),
            MutationOp::SignOff(s) => sign_offs.push(s.clone()),
            MutationOp::Note(n) => notes.push(n.clone()),
            MutationOp::CorrectiveRequest(c) => correctives.push(c.clone()),
            MutationOp::Status(_) => {}
            // The ledger's reports are streamed once accepted; they are checked below.
            MutationOp::Report(_) => {}
            MutationOp::Dispatch(_) => panic!("a dispatch step reaches devices as the work order, never as a record"),
        }
    }
    // One signed report in the ledger: the visit as signed, every answer in it.
    let ledger = db.reports(target.id).await?;
    assert_eq!(ledger.len(), 1, "{ledger:#?}");
    assert_eq!(ledger[0].hash, done.report_hash);
    let check = db.check_report(&done.report_hash).await?.expect("in the ledger");
    assert!(check.verdict.is_intact(), "{:?}", check.verdict);
    assert_eq!(check.report.document.visit.results.len(), template.items.len());

    // Every answer, once.
    let ids: HashSet<_> = results.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), results.len(), "no answer stored twice");
    assert_eq!(results.len(), template.items.len(), "one answer per item: {results:#?}");
    for item in &template.items {
        let answers: Vec<_> = results.iter().filter(|r| r.item_key == item.key).collect();
        assert_eq!(answers.len(), 1, "{}", item.key);
        let answer = answers[0];
        assert_eq!(Some(&answer.answer), done.answers.get(&item.key), "{}", item.key);
        assert!(answer.supersedes.is_none());
        let expected = if item.key == done.abnormal_key || item.key == done.low_reading.0 {
            Assessment::Abnormal
        } else {
            Assessment::Normal
        };
        assert_eq!(answer.assessment, expected, "{}", item.key);
    }

    // The photo, with its bytes.
    let photo_items: Vec<&ChecklistItem> = template
        .items
        .iter()
        .filter(|i| i.key == done.abnormal_key || i.photo_required || matches!(i.kind, ItemKind::Photo))
        .collect();
    assert_eq!(photos.len(), photo_items.len(), "{photos:#?}");
    let photo = photos.iter().find(|p| p.item_key.as_deref() == Some(done.abnormal_key.as_str())).expect("the photo");
    let bytes = db.blob(&photo.blob).await?.expect("the photo's bytes reached the server");
    assert_eq!(BlobId::of_bytes(&bytes), photo.blob, "the bytes are the photo's");
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)?;
    assert_eq!((image.width(), image.height()), (1200, 900), "a 1200×900 photo is stored neither enlarged nor cut");

    // The fault record.
    assert_eq!(faults.len(), 1, "{faults:#?}");
    let fault = &faults[0];
    assert_eq!(
        [&fault.symptom, &fault.cause, &fault.action, &fault.result, &fault.category].map(|s| s.as_str()),
        done.fault
    );
    let (Some(fault_start), Some(fault_end)) = (fault.started_at, fault.ended_at) else {
        panic!("the fault's start and end were recorded: {fault:#?}");
    };
    assert!(fault_start < fault_end);

    // Both parts with their billing, and a note for each billing override.
    assert_eq!(parts.len(), 2, "{parts:#?}");
    for (number, billing, _) in &done.parts {
        let part = parts.iter().find(|p| p.part_number == *number).expect("the part");
        assert_eq!(part.quantity, 1);
        assert_eq!(part.serial, format!("NEW-{number}"));
        match (*billing, &part.billing) {
            ("warranty", PartBilling::Warranty) => {}
            ("paid", PartBilling::Paid { unit_price_cents }) => assert!(*unit_price_cents > 0),
            (expected, stored) => panic!("{number}: billed {stored:?}, not {expected}"),
        }
    }
    // A billing override carries its reason on the part itself; no note is written for it.
    for (number, _, overridden) in &done.parts {
        let part = parts.iter().find(|p| p.part_number == *number).expect("the part");
        match (overridden, part.billing_reason.as_deref()) {
            (true, Some(reason)) => assert_eq!(reason, "Agreed with the customer on site"),
            (false, None) => {}
            (_, reason) => panic!("{number}: overridden {overridden}, reason {reason:?}"),
        }
    }
    assert!(notes.is_empty(), "no notes were written on this visit: {notes:#?}");

    // One sign-off, with its signature.
    assert_eq!(sign_offs.len(), 1, "{sign_offs:#?}");
    let sign_off = &sign_offs[0];
    assert_eq!(sign_off.signer_name, done.signer);
    assert_eq!(sign_off.opinion, "Quick and tidy");
    assert_eq!(u8::from(sign_off.satisfaction), 5);
    let signature = db.blob(&sign_off.signature).await?.expect("the signature reached the server");
    let signature = image::load_from_memory_with_format(&signature, image::ImageFormat::Png)?.to_luma8();
    assert!(signature.pixels().any(|p| p.0[0] < 128), "the signature has ink");
    // And the pen strokes it was drawn with, as vector data.
    let strokes = sign_off.strokes.as_ref().expect("the sign-off keeps the pen strokes");
    let strokes = db.blob(strokes).await?.expect("the strokes reached the server");
    let strokes: fieldbook_media::SignatureStrokes = serde_json::from_slice(&strokes)?;
    assert!(!strokes.strokes.is_empty() && strokes.width > 0, "{strokes:?}");

    // The corrective work order asked for, once, from the abnormal item.
    assert_eq!(correctives.len(), 1, "{correctives:#?}");
    assert_eq!(correctives[0].item_key.as_deref(), Some(done.abnormal_key.as_str()));
    assert_eq!((correctives[0].fault_level, correctives[0].symptom.clone()), done.corrective);

    let conflicts =
        db.conflicts(Some(tech1), None, &ConflictFilter { work_order: Some(target.id), ..Default::default() }).await?;
    assert!(conflicts.is_empty(), "{conflicts:#?}");
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Killed mid-visit.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_app_mid_visit_loses_no_answer() -> Result<(), Error> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    demo_device(dir.path(), 60, "en");
    let (target, template) = {
        let app = App::open(dir.path(), Arc::new(SystemClock))?;
        let list = app.list_work_orders(WorkOrderQuery {
            statuses: vec![WorkOrderStatus::Assigned],
            ..WorkOrderQuery::default()
        })?;
        let target = list
            .items
            .iter()
            .find_map(|w| {
                let detail = app.work_order_detail(&w.id.to_string()).ok()?;
                detail.template.is_some().then_some(detail)
            })
            .expect("an assigned work order with a checklist");
        let template = target.template.clone().expect("found with one");
        (target, template)
    };
    let id = target.summary.id.to_string();
    let checks: Vec<&ChecklistItem> =
        template.items.iter().filter(|i| matches!(i.kind, ItemKind::Check)).take(3).collect();
    let reading = template.items.iter().find(|i| matches!(i.kind, ItemKind::Reading { .. })).expect("a reading");
    let text = template.items.iter().find(|i| matches!(i.kind, ItemKind::Text));
    let note = "Fan bearing noisy, watch next time";

    let session = Session::start(dir.path()).await?;
    let killed = async {
        session.wait_for("[data-testid=wo-list]").await?;
        session.eval(&format!("location.hash = '#/wo/{id}'; return null")).await?;
        session.click("[data-testid=start-visit]").await?;
        session.click("[data-testid=set-off][aria-disabled=false]").await?;
        session.click("[data-testid=arrive][aria-disabled=false]").await?;
        session.wait_for("[data-testid=visit][data-status=on_site]").await?;
        let outcomes = ["answer-normal", "answer-abnormal", "answer-na"];
        for (item, outcome) in checks.iter().zip(outcomes) {
            let css = item_css(&item.key);
            session.click(&format!("{css} [data-testid={outcome}]")).await?;
            session.wait_for(&format!("{css}:not([data-assessment=unanswered])")).await?;
        }
        let css = item_css(&reading.key);
        session.type_into(&format!("{css} [data-testid=answer-reading]"), "37.5\u{E007}").await?;
        session.wait_for(&format!("{css}:not([data-assessment=unanswered])")).await?;
        if let Some(text) = text {
            let css = item_css(&text.key);
            session.type_into(&format!("{css} [data-testid=answer-text]"), "12345 kWh\u{E004}").await?;
            session.wait_for(&format!("{css}:not([data-assessment=unanswered])")).await?;
        }
        // A note on the first answer: saved with it as a new answer that supersedes it.
        let css = item_css(&checks[0].key);
        let before = session.attr(&css, "data-answer-id").await?.expect("answered");
        session.type_into(&format!("{css} [data-testid=item-note]"), &format!("{note}\u{E007}")).await?;
        session.wait_for(&format!("{css}:not([data-answer-id='{before}'])")).await?;
        // Acknowledged on screen: now pull the plug.
        session.kill_app().await
    }
    .await;
    session.stop().await;
    let pid = killed?;
    eprintln!("killed the app (pid {pid}) with SIGKILL");

    // What the store holds, read through the app API from the same file.
    {
        let app = App::open(dir.path(), Arc::new(SystemClock))?;
        let detail = app.work_order_detail(&id)?;
        assert_eq!(detail.summary.status, WorkOrderStatus::OnSite);
        let answer = |key: &str| detail.current_results.iter().find(|r| r.item_key == key).map(|r| r.answer.clone());
        let outcomes = [CheckOutcome::Normal, CheckOutcome::Abnormal, CheckOutcome::NotApplicable];
        for (item, outcome) in checks.iter().zip(outcomes) {
            assert_eq!(answer(&item.key), Some(Answer::Check(outcome)), "{}", item.key);
        }
        assert_eq!(answer(&reading.key), Some(Answer::Reading(37.5)));
        if let Some(text) = text {
            assert_eq!(answer(&text.key), Some(Answer::Text("12345 kWh".into())));
        }
        let first = detail.current_results.iter().find(|r| r.item_key == checks[0].key).expect("answered");
        assert_eq!(first.note, note);
        // Each acknowledged write waits in the outbox exactly once: two status steps, the
        // answers, and the answer that carries the note.
        let answers = checks.len() + 1 + usize::from(text.is_some()) + 1;
        assert_eq!(app.pending_changes()?, (2 + answers) as u64);
    }

    // And what the restarted app shows.
    let session = Session::start(dir.path()).await?;
    let shown = async {
        session.wait_for("[data-testid=wo-list]").await?;
        session.eval(&format!("location.hash = '#/wo/{id}/visit'; return null")).await?;
        session.wait_for("[data-testid=visit][data-status=on_site]").await?;
        let outcomes = ["answer-normal", "answer-abnormal", "answer-na"];
        for (item, outcome) in checks.iter().zip(outcomes) {
            session.wait_for(&format!("{} [data-testid={outcome}][aria-pressed=true]", item_css(&item.key))).await?;
        }
        let css = item_css(&reading.key);
        let value = session.wait_for(&format!("{css} [data-testid=answer-reading]")).await?.prop("value").await?;
        assert_eq!(value.as_deref(), Some("37.5"));
        if let Some(text) = text {
            let css = item_css(&text.key);
            let value = session.wait_for(&format!("{css} [data-testid=answer-text]")).await?.prop("value").await?;
            assert_eq!(value.as_deref(), Some("12345 kWh"));
        }
        let css = item_css(&checks[0].key);
        let value = session.wait_for(&format!("{css} [data-testid=item-note]")).await?.prop("value").await?;
        assert_eq!(value.as_deref(), Some(note));
        Ok::<(), Error>(())
    }
    .await;
    session.stop().await;
    shown?;
    eprintln!("kill mid-visit passed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Helpers.

/// Every work order the server holds, by id.
async fn all_work_orders(db: &SqliteDatabase) -> Result<HashSet<WorkOrderId>, Error> {
    let all = db.work_orders(&WorkOrderFilter { limit: Some(5000), ..Default::default() }, None).await?;
    assert!(all.len() < 5000, "the list is not cut short");
    Ok(all.iter().map(|w| w.id).collect())
}

/// On the abnormal item: opens the corrective work order form, checks what it starts with,
/// raises the level to major, asks, and waits for the request to show on the item, kept on the
/// device (the server is down). Returns the level and symptom asked for.
async fn ask_for_corrective(
    session: &Session,
    words: &Words,
    css: &str,
    label: &str,
) -> Result<(FaultLevel, String), Error> {
    let button = session.wait_for(&format!("{css} [data-testid=corrective-wo]")).await?;
    assert_eq!(button.text().await?, words.corrective_create);
    assert_eq!(button.attr("aria-expanded").await?.as_deref(), Some("false"));
    button.click().await?;
    let form = format!("{css} [data-testid=corrective-form]");
    let title = session.wait_for_text(&format!("{form} h4"), |t| !t.is_empty()).await?;
    assert_eq!(title, words.corrective_title);
    // Prefilled with the item's label in the current language (the item has no note).
    let symptom = session.wait_for(&format!("{form} [data-testid=corrective-symptom]")).await?;
    assert_eq!(symptom.prop("value").await?.as_deref(), Some(label), "the symptom starts as the item's label");
    let minor = session.wait_for(&format!("{form} [data-testid=corrective-level][data-level=minor]")).await?;
    assert_eq!(minor.prop("checked").await?.as_deref(), Some("true"), "a request starts at the minor level");
    session.click(&format!("{form} [data-testid=corrective-level][data-level=major]")).await?;
    let major = session.wait_for(&format!("{form} [data-testid=corrective-level][data-level=major]")).await?;
    assert_eq!(major.prop("checked").await?.as_deref(), Some("true"));
    session.click(&format!("{form} [data-testid=corrective-submit]")).await?;
    let request = session.wait_for(&format!("{css} [data-testid=corrective-request][data-level=major]")).await?;
    let text = request.text().await?;
    assert!(text.contains(label), "the request shows its symptom: {text}");
    session
        .wait_for(&format!("{css} [data-testid=corrective-request] [data-testid=sync-state][data-state=local_only]"))
        .await?;
    // The form closed, and the keyboard is back on the button.
    session.wait_for_count(&form, 0).await?;
    let focused = session.eval("return document.activeElement?.dataset.testid ?? null").await?;
    assert_eq!(focused.as_str(), Some("corrective-wo"), "the focus goes back to the button");
    Ok((FaultLevel::Major, label.to_owned()))
}

/// The server made the corrective work order the device asked for: the only new work order,
/// with the request's id, waiting for dispatch at the visited site.
async fn server_made_the_corrective_work_order(
    db_path: &Path,
    done: &Done,
    existing: &HashSet<WorkOrderId>,
    request_id: WorkOrderId,
) -> Result<(), Error> {
    let db = SqliteDatabase::open(db_path)?;
    let now = all_work_orders(&db).await?;
    let new: Vec<&WorkOrderId> = now.difference(existing).collect();
    assert_eq!(new, vec![&request_id], "exactly one new work order, whose id is the request's");
    let made = db.work_order(request_id).await?.expect("the corrective work order");
    let target = &done.target;
    assert_eq!(made.status, WorkOrderStatus::New);
    assert_eq!(made.assignee, None, "waiting for a supervisor to dispatch it");
    assert_eq!(made.kind, WorkOrderKind::Repair);
    assert_eq!((made.customer_id, made.site_id, made.asset_id), (target.customer_id, target.site_id, target.asset_id));
    assert_eq!((made.fault_level, made.symptom.clone()), done.corrective);
    assert!(made.instructions.contains(&target.number), "{:?} names {}", made.instructions, target.number);
    Ok(())
}

/// The sync state every record of the visit shows (answers, photos, fault, parts, sign-off).
async fn record_states(session: &Session) -> Result<Vec<String>, Error> {
    let mut states = Vec::new();
    for badge in session.client.find_all(Locator::Css("[data-testid=visit] [data-testid=sync-state]")).await? {
        states.push(badge.attr("data-state").await?.unwrap_or_default());
    }
    Ok(states)
}

/// How urgent a work order is, as the device's list sorts it: nearest deadline first, then
/// the newest report.
fn urgency(
    w: &WorkOrder,
) -> (bool, Option<chrono::DateTime<chrono::Utc>>, std::cmp::Reverse<chrono::DateTime<chrono::Utc>>) {
    (w.next_due().is_none(), w.next_due(), std::cmp::Reverse(w.reported_at))
}

/// The first whole number in `text` ("Work orders: 42", "共 42 张工单").
fn first_number(text: &str) -> Option<usize> {
    let digits: String = text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

fn item_css(key: &str) -> String {
    format!("[data-testid=visit-item][data-key='{key}']")
}

fn kind_name(kind: WorkOrderKind) -> String {
    serde_json::to_value(kind).expect("a kind serialises").as_str().expect("as a string").to_owned()
}

/// A real JPEG, 1200×900, with a gradient (a camera photo's size class, not a solid block).
fn make_photo(path: &Path) -> Result<(), Error> {
    let image = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x * 255 / 1199) as u8, (y * 255 / 899) as u8, (255 - (x + y) * 255 / 2098) as u8])
    });
    image.save_with_format(path, image::ImageFormat::Jpeg)?;
    Ok(())
}

/// Chooses the photo through the item's file input, waits until it shows, and returns its
/// thumbnail (the 256 px one the device made).
async fn attach_photo(session: &Session, row: &Element, css: &str, path: &Path) -> Result<Element, Error> {
    let before = row.find_all(Locator::Css("[data-testid=item-photo]")).await?.len();
    let input = row.find(Locator::Css("[data-testid=photo-input]")).await?;
    input.send_keys(path.to_str().expect("a UTF-8 path")).await?;
    session.wait_for_count(&format!("{css} [data-testid=item-photo]"), before + 1).await?;
    // The thumbnail shows the photo: the image decoded, at its size.
    let img = session.wait_for(&format!("{css} [data-testid=item-photo] img")).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let size = session
            .client
            .execute(
                "const i = arguments[0]; return [i.complete, i.naturalWidth, i.naturalHeight]",
                vec![serde_json::to_value(&img)?],
            )
            .await?;
        if size[0] == true && size[1].as_u64().unwrap_or(0) > 0 {
            // The device's 256 px thumbnail of the 1200×900 photo, not the photo shrunk.
            if (size[1].as_u64(), size[2].as_u64()) != (Some(256), Some(192)) {
                return Err(format!("the thumbnail is not the photo's 256 px thumbnail: {size}").into());
            }
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the photo's thumbnail never showed an image: {size}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(img)
}

/// Types a local date and time into a datetime-local input as a keyboard user does in
/// WebKitGTK: each part of the date and time, with Tab from one part to the next (typing the
/// digits alone leaves it empty). The parts come in the order of the WebView's locale, which
/// `Intl` reports (month, day, year, hour, minute under the C locale); a 24-hour clock is
/// assumed, and a field left otherwise fails the test with what it holds.
async fn set_datetime(session: &Session, css: &str, at: chrono::DateTime<chrono::Local>) -> Result<(), Error> {
    let wanted = at.format("%Y-%m-%dT%H:%M").to_string();
    let order = session
        .eval(
            "return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', \
             hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date()) \
             .map(p => p.type).filter(t => ['year', 'month', 'day', 'hour', 'minute'].includes(t))",
        )
        .await?;
    let parts: Vec<String> = order
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|part| match part.as_str()? {
                    "year" => Some(at.format("%Y").to_string()),
                    "month" => Some(at.format("%m").to_string()),
                    "day" => Some(at.format("%d").to_string()),
                    "hour" => Some(at.format("%H").to_string()),
                    "minute" => Some(at.format("%M").to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if parts.len() != 5 {
        return Err(format!("the WebView's date format has unexpected parts: {order}").into());
    }
    let input = session.wait_for(css).await?;
    input.send_keys(&parts.join("\u{E004}")).await?;
    let value = input.prop("value").await?.unwrap_or_default();
    if value == wanted {
        return Ok(());
    }
    Err(format!("{css} holds {value:?} after typing {parts:?} (in the order {order}), not {wanted:?}").into())
}

/// On failure: what the screen showed, to tell a UI problem from a test problem.
async fn dump_screen(session: &Session, words: &Words) {
    if let Ok(text) = session.eval("return document.body.innerText").await {
        let text = text.as_str().unwrap_or_default().to_owned();
        let tail: String = text.chars().rev().take(3000).collect::<Vec<_>>().into_iter().rev().collect();
        eprintln!("[{}] the screen when it failed (end):\n{tail}", words.lang);
    }
    if let Ok(png) = session.client.screenshot().await {
        let path = std::env::temp_dir().join(format!("field-day-failure-{}.png", words.lang));
        if std::fs::write(&path, png).is_ok() {
            eprintln!("[{}] screenshot: {}", words.lang, path.display());
        }
    }
}

/// The server in its own process (tests/src/bin/fieldbook-test-server.rs), killed with SIGKILL
/// and started again on the same port and file.
struct TestServer {
    db_path: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl TestServer {
    fn start(db_path: &Path, port: Option<u16>) -> Result<TestServer, Error> {
        let mut server = TestServer { db_path: db_path.to_owned(), port: port.unwrap_or(0), child: None };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), Error> {
        // A port just released can take a moment to be free again; try for a few seconds.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook-test-server"))
                .arg(&self.db_path)
                .arg(self.port.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
            if let Some(port) = line.trim().strip_prefix("listening ") {
                self.port = port.parse()?;
                self.child = Some(child);
                return Ok(());
            }
            let _ = child.kill();
            let _ = child.wait();
            if Instant::now() > deadline {
                return Err(format!("the test server did not start on port {}", self.port).into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILL: no goodbye to connected devices.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) -> Result<(), Error> {
        self.stop();
        self.spawn()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}
