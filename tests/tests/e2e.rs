//! End-to-end: the real Fieldbook binary, driven through tauri-driver and WebKitWebDriver
//! under Xvfb, on a real store file. Run by `./dev test` (feature `e2e`).

use std::sync::Arc;

use fantoccini::Locator;
use fieldbook_app::{App, SystemClock, WorkOrderQuery, WorkOrderSummary};
use fieldbook_domain::FaultLevel;
// The order the list groups statuses in: the store's.
use fieldbook_store::LIST_ORDER as GROUP_ORDER;
use fieldbook_tests::demo_device;
use fieldbook_tests::e2e::{Error, Session};

fn level_label(level: FaultLevel, zh: bool) -> &'static str {
    match (level, zh) {
        (FaultLevel::Critical, true) => "一级",
        (FaultLevel::Major, true) => "二级",
        (FaultLevel::Minor, true) => "三级",
        (FaultLevel::Critical, false) => "Critical",
        (FaultLevel::Major, false) => "Major",
        (FaultLevel::Minor, false) => "Minor",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_order_list_and_detail_in_chinese_and_english() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    demo_device(dir.path(), 60, "zh-CN");
    // What the list must show, read through the app API from the same file.
    let (expected, total) = {
        let app = App::open(dir.path(), Arc::new(SystemClock))?;
        let list = app.list_work_orders(WorkOrderQuery::default())?;
        let mut items = list.items.clone();
        items.sort_by_key(|i| GROUP_ORDER.iter().position(|s| *s == i.status));
        (items, list.total)
    };
    let first: &WorkOrderSummary = &expected[0];
    let detail = App::open(dir.path(), Arc::new(SystemClock))?.work_order_detail(&first.id)?;

    let session = Session::start(dir.path()).await?;
    // --- zh-CN, the stored language ---
    session.wait_for_text("[data-testid=app-name]", |t| t == "现场服务记录").await?;
    assert_eq!(session.eval("return document.documentElement.lang").await?, "zh-CN");
    session.wait_for("[data-testid=wo-row]").await?;
    let count = session.wait_for_text("[data-testid=list-count]", |t| t.contains(&total.to_string())).await?;
    assert!(count.contains('张'), "the count is in Chinese: {count}");
    let first_row = session.client.find(Locator::Css("[data-testid=wo-row]")).await?;
    assert_eq!(
        first_row.attr("data-number").await?.as_deref(),
        Some(first.number.as_str()),
        "most urgent of the first group first"
    );
    // textContent, not the rendered text: WebKitWebDriver leaves out text in clipped
    // (ellipsis) boxes.
    let row_text = first_row.prop("textContent").await?.unwrap_or_default();
    assert!(row_text.contains(&first.customer_name), "{row_text}");
    assert!(row_text.contains(level_label(first.fault_level, true)), "{row_text}");
    let groups = session.texts("[data-testid=wo-group]").await?;
    assert!(groups[0].contains("在现场"), "{groups:?}");
    let time_left = session.texts("[data-testid=time-left]").await?;
    assert!(time_left[0].chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{time_left:?}");

    first_row.click().await?;
    session.wait_for("[data-testid=wo-detail]").await?;
    session.wait_for_text("[data-testid=detail-number]", |t| t.contains(&first.number)).await?;
    let customer = session.wait_for_text("[data-testid=detail-customer]", |t| !t.is_empty()).await?;
    assert!(customer.contains(&first.customer_name), "{customer}");
    let phone = session.wait_for_text("[data-testid=detail-contact-phone]", |t| !t.is_empty()).await?;
    assert!(phone.contains(&detail.contact_phone), "{phone}");
    let symptom = session.wait_for_text("[data-testid=detail-symptom]", |t| !t.is_empty()).await?;
    assert!(symptom.contains(&detail.summary.symptom), "{symptom}");
    let status = session.wait_for_text("[data-testid=detail-status]", |t| !t.is_empty()).await?;
    assert!(status.contains("在现场"), "{status}");
    if let Some(template) = &detail.template {
        let items = session.texts("[data-testid=checklist-item]").await?;
        assert_eq!(items.len(), template.items.len());
        assert!(items[0].contains(&template.items[0].label.zh), "{}", items[0]);
    }

    // --- switch to English: every screen follows ---
    session.client.find(Locator::Css("[data-testid=lang-en]")).await?.click().await?;
    session.wait_for_text("[data-testid=app-name]", |t| t == "Fieldbook").await?;
    assert_eq!(session.eval("return document.documentElement.lang").await?, "en");
    session.wait_for_text("[data-testid=detail-status]", |t| t.contains("On site")).await?;
    let badge = session.wait_for_text("[data-testid=wo-detail] [data-testid=level-badge]", |t| !t.is_empty()).await?;
    assert!(badge.to_lowercase().contains(&level_label(first.fault_level, false).to_lowercase()), "{badge}");
    if let Some(template) = &detail.template {
        let items = session.texts("[data-testid=checklist-item]").await?;
        assert!(items[0].contains(&template.items[0].label.en), "{}", items[0]);
    }
    session.client.find(Locator::Css("[data-testid=back]")).await?.click().await?;
    session.wait_for("[data-testid=wo-list]").await?;
    session.wait_for_text("[data-testid=wo-group]", |t| t.contains("On site")).await?;
    session.wait_for_text("[data-testid=list-count]", |t| t.starts_with("Work orders")).await?;

    // Search narrows the list to the matching work order.
    let search = session.client.find(Locator::Css("[data-testid=search]")).await?;
    search.send_keys(&first.number).await?;
    session.wait_for_text("[data-testid=list-count]", |t| t.trim_end().ends_with(": 1")).await?;
    let numbers: Vec<Option<String>> = {
        let mut numbers = Vec::new();
        for row in session.client.find_all(Locator::Css("[data-testid=wo-row]")).await? {
            numbers.push(row.attr("data-number").await?);
        }
        numbers
    };
    assert_eq!(numbers, vec![Some(first.number.clone())]);
    session.stop().await;

    // The language choice survives a restart.
    let session = Session::start(dir.path()).await?;
    session.wait_for_text("[data-testid=app-name]", |t| t == "Fieldbook").await?;
    session.stop().await;
    Ok(())
}

/// The app started as `./dev run` starts it: signed in to a running server, it fetches its
/// technician's work from there and shows that it is synced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_signs_in_to_the_server_and_shows_its_work() -> Result<(), Error> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("server.sqlite");
    {
        let db = fieldbook_server_sqlite::SqliteDatabase::open(&db_path)?;
        fieldbook_server::demo::load(&db, 90, "e2e-password", chrono::Utc::now()).await?;
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_fieldbook-test-server"))
        .arg(&db_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("piped")).read_line(&mut line)?;
    let base = format!("http://127.0.0.1:{}", line.trim().trim_start_matches("listening "));
    let expected = {
        use fieldbook_server_db::Database;
        let db = fieldbook_server_sqlite::SqliteDatabase::open(&db_path)?;
        let tech1 = db.user_by_username("tech1").await?.expect("demo account").info.id;
        let filter = fieldbook_protocol::WorkOrderFilter { assignee: Some(tech1), ..Default::default() };
        db.work_orders(&filter, None).await?.len()
    };
    let device = dir.path().join("device");
    let env =
        [("FIELDBOOK_SERVER", base.as_str()), ("FIELDBOOK_USERNAME", "tech1"), ("FIELDBOOK_PASSWORD", "e2e-password")];
    let result = async {
        let session = Session::start_with_env(&device, &env).await?;
        session.wait_for_text("[data-testid=list-count]", |t| t.contains(&expected.to_string())).await?;
        session.wait_for("[data-testid=sync-badge][data-state=online]").await?;
        session.stop().await;
        Ok::<(), Error>(())
    }
    .await;
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// A list longer than one page: the first answer gives the whole height and the group headers,
/// and the rows further down are read as they scroll into view, in the store's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_reads_its_rows_as_they_scroll_into_view() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    demo_device(dir.path(), 1500, "en");
    let list = App::open(dir.path(), Arc::new(SystemClock))?
        .list_work_orders(WorkOrderQuery { limit: Some(20_000), ..WorkOrderQuery::default() })?;
    assert!(list.total > 300, "{} work orders is not several pages", list.total);
    let (middle, last) = (&list.items[list.items.len() / 2], list.items.last().expect("rows"));

    let session = Session::start(dir.path()).await?;
    session.wait_for("[data-testid=wo-row]").await?;
    let digits = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
    session.wait_for_text("[data-testid=list-count]", |t| digits(t) == list.total.to_string()).await?;
    let headers = session.texts("[data-testid=wo-group]").await?;
    assert!(!headers.is_empty(), "the first page's group headers are drawn");
    // Only the rows in view are in the page, far fewer than the list holds.
    let drawn = session.client.find_all(Locator::Css("[data-testid=wo-row]")).await?.len();
    assert!(drawn > 3 && drawn < 60, "{drawn} rows drawn");
    for target in [middle, last] {
        let script = format!(
            "const v = document.querySelector('[data-testid=wo-list] .viewport');
             v.scrollTop = {fraction} * (v.scrollHeight - v.clientHeight);",
            fraction = if std::ptr::eq(target, last) { 1.0 } else { 0.5 },
        );
        session.eval(&script).await?;
        let row = session.wait_for(&format!("[data-testid=wo-row][data-number='{}']", target.number)).await?;
        assert_eq!(row.attr("data-id").await?.as_deref(), Some(target.id.as_str()));
    }
    // The last row of the list is the store's last work order, with nothing pending around it.
    let numbers: Vec<String> = {
        let mut numbers = Vec::new();
        for row in session.client.find_all(Locator::Css("[data-testid=wo-row]")).await? {
            numbers.push(row.attr("data-number").await?.unwrap_or_default());
        }
        numbers
    };
    assert_eq!(numbers.last(), Some(&last.number), "{numbers:?}");
    assert!(session.client.find_all(Locator::Css("[data-testid=wo-row-pending]")).await?.is_empty());
    session.stop().await;
    Ok(())
}
