//! The CSV import over a real SQLite file loaded with the demo reference data (policies,
//! customers, parts, the accounts supervisor and tech1..tech3).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fieldbook_domain::{BillingBasis, FaultLevel, WorkOrder, WorkOrderKind, WorkOrderStatus};
use fieldbook_protocol::{ResolvedBody, WorkOrderFilter};
use fieldbook_server::import::{Counts, ImportFailure, ImportFiles, ImportReport, WORK_ORDERS_HEADER, import_csv};
use fieldbook_server_db::{Database, SupervisorChange};
use fieldbook_server_sqlite::SqliteDatabase;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// A Sunday morning in Beijing.
fn now() -> DateTime<Utc> {
    at("2026-11-22T10:00:00+08:00")
}

struct Setup {
    db: Arc<dyn Database>,
    dir: tempfile::TempDir,
}

/// A fresh database file with the demo data (30 work orders) loaded.
async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 30, "pw-123456", now()).await.unwrap();
    Setup { db, dir }
}

fn fixture(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(set)
}

/// The files of `dir` that exist.
fn files_in(dir: &Path) -> ImportFiles {
    let file = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
    ImportFiles {
        customers: file("customers.csv"),
        sites: file("sites.csv"),
        assets: file("assets.csv"),
        work_orders: file("work_orders.csv"),
        parts: file("parts.csv"),
    }
}

/// The good set copied into `to`, with `replace` (file name, contents) written over it.
fn good_set_with(to: &Path, replace: &[(&str, &str)]) -> ImportFiles {
    let dir = to.join("set");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(fixture("good")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    for (name, text) in replace {
        std::fs::write(dir.join(name), text).unwrap();
    }
    files_in(&dir)
}

/// (file, line, column) of every error.
fn places(failure: &ImportFailure) -> Vec<(String, u64, String)> {
    failure.errors.iter().map(|e| (e.file.clone(), e.line, e.column.clone())).collect()
}

fn place(file: &str, line: u64, column: &str) -> (String, u64, String) {
    (file.to_owned(), line, column.to_owned())
}

fn message<'a>(failure: &'a ImportFailure, file: &str, line: u64, column: &str) -> &'a str {
    &failure
        .errors
        .iter()
        .find(|e| e.file == file && e.line == line && e.column == column)
        .unwrap_or_else(|| panic!("no error at {file} line {line}, {column}: {failure}"))
        .message
}

async fn all_work_orders(db: &dyn Database) -> Vec<WorkOrder> {
    db.work_orders(&WorkOrderFilter { limit: Some(5000), ..Default::default() }, None).await.unwrap()
}

/// Everything an import could write.
#[derive(Debug, PartialEq)]
struct Snapshot {
    customers: Vec<fieldbook_domain::Customer>,
    parts: Vec<fieldbook_protocol::PartCatalogEntry>,
    work_orders: Vec<WorkOrder>,
}

async fn snapshot(db: &dyn Database) -> Snapshot {
    Snapshot {
        customers: db.customers().await.unwrap(),
        parts: db.parts().await.unwrap(),
        work_orders: all_work_orders(db).await,
    }
}

fn by_symptom<'a>(work_orders: &'a [WorkOrder], symptom: &str) -> &'a WorkOrder {
    work_orders.iter().find(|w| w.symptom == symptom).unwrap_or_else(|| panic!("no work order '{symptom}'"))
}

const ICU: &str = "ICU 监控室全部画面无图像,录像中断";

fn good_report() -> ImportReport {
    ImportReport {
        customers: Counts { created: 3, updated: 0, unchanged: 0 },
        sites: Counts { created: 5, updated: 0, unchanged: 0 },
        assets: Counts { created: 6, updated: 0, unchanged: 0 },
        parts: Counts { created: 5, updated: 1, unchanged: 0 },
        work_orders: Counts { created: 6, updated: 0, unchanged: 0 },
    }
}

#[tokio::test]
async fn a_good_set_lands_completely_with_the_policys_deadlines() {
    let Setup { db, dir: _dir } = setup().await;
    let before = snapshot(db.as_ref()).await;
    let customers_csv = std::fs::read(fixture("good/customers.csv")).unwrap();
    assert!(customers_csv.starts_with(b"\xEF\xBB\xBF"), "the fixture keeps Excel's byte-order mark");

    let report = import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    assert_eq!(report, good_report(), "{report}");

    // Customers, with Chinese text intact and the key column found behind the BOM.
    let customers = db.customers().await.unwrap();
    assert_eq!(customers.len(), before.customers.len() + 3);
    let policies = db.policies().await.unwrap();
    let named = |name: &str| customers.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no customer {name}"));
    let futian = named("深圳市福田区第二人民医院");
    assert_eq!(futian.address, "深圳市福田区笋岗西路3002号");
    assert_eq!(policies.iter().find(|p| p.id == futian.policy_id).unwrap().name.zh, "标准服务协议");
    let riverside = named("Riverside Tower Property Management Co., Ltd.");
    assert_eq!(
        policies.iter().find(|p| p.id == riverside.policy_id).unwrap().name.en,
        "Gold agreement (on site within 1 h)"
    );
    assert_eq!(named("杭州市滨江区实验小学").policy_id, policies[0].id, "an empty policy is the first policy");

    // Parts: 是/否 and yuan → fen; an existing part number is updated.
    let parts = db.parts().await.unwrap();
    let part = |number: &str| parts.iter().find(|p| p.part_number == number).unwrap().clone();
    assert_eq!(part("HK-PSU-12V2A-B").unit_price_cents, 4850);
    assert_eq!(part("HK-PSU-12V2A-B").name, "12V 2A 摄像机电源适配器(加强型)");
    assert!(!part("HK-PSU-12V2A-B").needs_customer_approval);
    assert!(part("DH-IR-LED-BOARD").needs_customer_approval);
    assert_eq!(part("DH-IR-LED-BOARD").unit_price_cents, 12000);
    assert_eq!(part("RJ45-CAT6-100").unit_price_cents, 3580);
    assert_eq!(part("GGD-MCB-C32").unit_price_cents, 4200, "was 38.00 in the demo catalog");
    assert_eq!(parts.len(), before.parts.len() + 5);

    // Work orders: local times in the customer's zone, deadlines from the customer's policy.
    let work_orders = all_work_orders(db.as_ref()).await;
    assert_eq!(work_orders.len(), before.work_orders.len() + 6);
    let icu = by_symptom(&work_orders, ICU);
    assert_eq!(icu.reported_at, at("2026-11-22T08:15:00+08:00"));
    assert_eq!(icu.customer_id, futian.id);
    assert_eq!(
        (icu.kind, icu.fault_level, icu.billing),
        (WorkOrderKind::Repair, FaultLevel::Critical, BillingBasis::Warranty)
    );
    assert_eq!(icu.contact.name, "王主任");
    assert_eq!(icu.instructions, "到场后5分钟内向调度汇报;如4小时内无法修复,提供备机。");
    let tech1 = db.user_by_username("tech1").await.unwrap().unwrap().info;
    assert_eq!((icu.status, icu.assignee), (WorkOrderStatus::Assigned, Some(tech1.id)));
    let policy = db.policy(futian.policy_id).await.unwrap().unwrap();
    assert_eq!(icu.deadlines, policy.deadlines(FaultLevel::Critical, icu.reported_at));
    assert_eq!(icu.deadlines.arrive_by, at("2026-11-22T10:15:00+08:00"), "standard: on site within 2 h");
    assert_eq!(icu.deadlines.loaner_by, Some(at("2026-11-22T16:15:00+08:00")));
    assert!(icu.number.starts_with("WO-20261122-"), "{}", icu.number);
    let site = db.site(icu.site_id).await.unwrap().unwrap();
    assert_eq!((site.name.as_str(), site.customer_id), ("住院部3楼 ICU 监控室", futian.id));
    let asset = db.asset(icu.asset_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(asset.model, "海康威视 DS-9632NI-I8 网络硬盘录像机");
    assert_eq!(asset.warranty_end, chrono::NaiveDate::from_ymd_opt(2027, 3, 31));

    let ups = by_symptom(&work_orders, "UPS alarm, switched to bypass; B2 racks at risk of power loss");
    assert_eq!(ups.deadlines.arrive_by, at("2026-11-22T10:40:00+08:00"), "gold: on site within 1 h");

    // Unassigned → new; minor on a Saturday night → on site Monday 18:00.
    let dark = by_symptom(&work_orders, "夜间画面偏暗,红外灯不亮");
    assert_eq!((dark.status, dark.assignee), (WorkOrderStatus::New, None));
    assert_eq!(dark.deadlines.arrive_by, at("2026-11-23T18:00:00+08:00"));

    // A site of an existing (demo) customer, by its exact name; Excel's 2025/9/30 date.
    let demo_customer = named("深圳市南山区人民医院");
    let install = by_symptom(&work_orders, "新增 UPS 安装调试及验收");
    assert_eq!(install.customer_id, demo_customer.id);
    assert_eq!(db.site(install.site_id).await.unwrap().unwrap().customer_id, demo_customer.id);
    assert_eq!(install.kind, WorkOrderKind::Installation);
    let patrol = by_symptom(&work_orders, "月度例行巡检:校门门禁及岗亭监控");
    assert_eq!((patrol.kind, patrol.asset_id), (WorkOrderKind::Patrol, None));
}

#[tokio::test]
async fn imported_work_orders_reach_the_assignees_devices() {
    let Setup { db, dir: _dir } = setup().await;
    import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    let icu = by_symptom(&all_work_orders(db.as_ref()).await, ICU).clone();
    let tech1 = db.user_by_username("tech1").await.unwrap().unwrap().info;
    let mut cursor = 0;
    let mut found = None;
    loop {
        let page = db.pull(tech1.id, cursor, 1000).await.unwrap();
        for bundle in page.resolved().into_iter().filter_map(|c| match c.body {
            ResolvedBody::WorkOrder { bundle } => Some(bundle),
            _ => None,
        }) {
            if bundle.work_order.id == icu.id {
                found = Some(bundle);
            }
        }
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let bundle = found.expect("tech1's stream carries the imported work order");
    assert_eq!(bundle.customer.name, "深圳市福田区第二人民医院");
    assert_eq!(bundle.asset.unwrap().serial, "NVR9632-20240315-0012");
}

#[tokio::test]
async fn a_bad_set_reports_every_problem_and_writes_nothing() {
    let Setup { db, dir: _dir } = setup().await;
    let before = snapshot(db.as_ref()).await;
    let failure = import_csv(db.as_ref(), &files_in(&fixture("bad")), now()).await.unwrap_err();
    assert!(failure.storage.is_none());
    assert_eq!(
        places(&failure),
        vec![
            place("customers.csv", 3, "name"),
            place("customers.csv", 4, "key"),
            place("customers.csv", 5, "policy"),
            place("sites.csv", 3, "customer"),
            place("assets.csv", 2, "warranty_end"),
            place("assets.csv", 3, "site"),
            place("parts.csv", 2, "unit_price"),
            place("parts.csv", 3, "needs_customer_approval"),
            place("parts.csv", 4, "part_number"),
            place("parts.csv", 5, "unit_price"),
            // Line 2's instructions run over two lines, so the next row is line 4.
            place("work_orders.csv", 4, "fault_level"),
            place("work_orders.csv", 5, "kind"),
            place("work_orders.csv", 5, "assignee"),
            place("work_orders.csv", 6, "site"),
            place("work_orders.csv", 6, "reported_at"),
            place("work_orders.csv", 7, "contact_name"),
            place("work_orders.csv", 7, "assignee"),
            place("work_orders.csv", 8, "reported_at"),
            place("work_orders.csv", 9, ""),
        ],
        "{failure}"
    );
    let text = failure.to_string();
    assert!(text.starts_with("nothing was imported: 19 problems"), "{text}");
    assert!(
        text.contains("work_orders.csv line 4, fault_level: '四级' is not a fault level; use 一级/二级/三级 or critical/major/minor"),
        "{text}"
    );
    assert!(message(&failure, "customers.csv", 4, "key").contains("line 2"));
    assert!(message(&failure, "customers.csv", 5, "policy").contains("标准服务协议"), "lists the policies");
    assert!(message(&failure, "parts.csv", 2, "unit_price").contains("negative"));
    assert!(message(&failure, "parts.csv", 5, "unit_price").contains("two decimals"));
    assert!(message(&failure, "work_orders.csv", 6, "site").contains("not a site of customer 'C-01'"));
    assert!(message(&failure, "work_orders.csv", 8, "reported_at").contains("future"));
    assert!(message(&failure, "work_orders.csv", 9, "").contains("14 cells"));
    assert_eq!(snapshot(db.as_ref()).await, before, "nothing was written");
}

#[tokio::test]
async fn an_unknown_or_wrong_assignee_is_refused() {
    let Setup { db, dir } = setup().await;
    let before = snapshot(db.as_ref()).await;
    let rows = format!(
        "{WORK_ORDERS_HEADER}\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面卡顿,客服热线,2026-11-22 08:15,tech9,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面花屏,客服热线,2026-11-22 08:20,supervisor,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面黑屏,客服热线,2026-11-22 08:25,tech2,合同,\n"
    );
    let files = good_set_with(dir.path(), &[("work_orders.csv", &rows)]);
    let failure = import_csv(db.as_ref(), &files, now()).await.unwrap_err();
    assert_eq!(
        places(&failure),
        vec![place("work_orders.csv", 2, "assignee"), place("work_orders.csv", 3, "assignee")]
    );
    assert!(message(&failure, "work_orders.csv", 2, "assignee").contains("no user 'tech9'"));
    assert!(message(&failure, "work_orders.csv", 3, "assignee").contains("not a technician"));
    assert_eq!(snapshot(db.as_ref()).await, before);
}

#[tokio::test]
async fn an_unresolved_site_key_is_refused_where_it_is_used() {
    let Setup { db, dir } = setup().await;
    let assets = "key,site,model,serial,location,warranty_end\nA-1,S-SZ-ICUU,海康威视 网络摄像机,SN1,走廊,\n";
    let rows = format!(
        "{WORK_ORDERS_HEADER}\n\
         C-SZ-01,S-SZ-ICU2,,王主任,13812345678,维修,二级,画面卡顿,客服热线,2026-11-22 08:15,,合同,\n\
         C-SH-02,S-SZ-ICU,,Ms. Chen,13812345678,repair,major,No picture,Hotline,2026-11-22 08:15,,contract,\n"
    );
    let files = good_set_with(dir.path(), &[("assets.csv", assets), ("work_orders.csv", &rows)]);
    let failure = import_csv(db.as_ref(), &files, now()).await.unwrap_err();
    assert_eq!(
        places(&failure),
        vec![place("assets.csv", 2, "site"), place("work_orders.csv", 2, "site"), place("work_orders.csv", 3, "site")],
        "{failure}"
    );
    assert!(message(&failure, "assets.csv", 2, "site").contains("'S-SZ-ICUU' is not a key of sites.csv"));
    assert!(message(&failure, "work_orders.csv", 3, "site").contains("not a site of customer 'C-SH-02'"));
}

#[tokio::test]
async fn bad_dates_and_times_are_refused_with_the_format_to_use() {
    let Setup { db, dir } = setup().await;
    let assets = "key,site,model,serial,location,warranty_end\n\
                  A-1,S-SZ-ICU,海康威视 网络摄像机,SN1,走廊,2027-02-30\n\
                  A-2,S-SZ-ICU,海康威视 网络摄像机,SN2,走廊,31/12/2027\n\
                  A-3,S-SZ-ICU,海康威视 网络摄像机,SN3,走廊,2027/12/31\n";
    let rows = format!(
        "{WORK_ORDERS_HEADER}\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面卡顿,客服热线,2026-11-31 09:00,,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面花屏,客服热线,22/11/2026 09:00,,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,画面黑屏,客服热线,2026-11-22 25:00,,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,无录像,客服热线,,,合同,\n\
         C-SZ-01,S-SZ-ICU,,王主任,13812345678,维修,二级,无声音,客服热线,2026/11/22 9:05,,合同,\n"
    );
    let files = good_set_with(dir.path(), &[("assets.csv", assets), ("work_orders.csv", &rows)]);
    let failure = import_csv(db.as_ref(), &files, now()).await.unwrap_err();
    assert_eq!(
        places(&failure),
        vec![
            place("assets.csv", 2, "warranty_end"),
            place("assets.csv", 3, "warranty_end"),
            place("work_orders.csv", 2, "reported_at"),
            place("work_orders.csv", 3, "reported_at"),
            place("work_orders.csv", 4, "reported_at"),
            place("work_orders.csv", 5, "reported_at"),
        ],
        "{failure}"
    );
    assert!(message(&failure, "assets.csv", 2, "warranty_end").contains("use YYYY-MM-DD"));
    let bad_time = message(&failure, "work_orders.csv", 2, "reported_at");
    assert!(bad_time.contains("'2026-11-31 09:00'") && bad_time.contains("UTC+08:00"), "{bad_time}");
    assert!(message(&failure, "work_orders.csv", 5, "reported_at").contains("required"));
}

#[tokio::test]
async fn duplicate_keys_part_numbers_and_calls_are_refused() {
    let Setup { db, dir } = setup().await;
    let customers = "key,name,address,policy\n\
                     C-1,宁波港集团信息中心,宁波市,\n\
                     C-1,宁波舟山港股份有限公司,宁波市,\n";
    let sites = "key,customer,name,address\nS-1,C-1,机房,\nS-1,C-1,调度大厅,\n";
    let assets = "key,site,model,serial,location,warranty_end\nA-1,S-1,交换机,SN1,,\nA-1,S-1,路由器,SN2,,\n";
    let parts = "part_number,name,needs_customer_approval,unit_price\nP-1,光模块,否,30\nP-1,光模块,否,30\n";
    let rows = format!(
        "{WORK_ORDERS_HEADER}\n\
         C-1,S-1,A-1,周工,13700001111,维修,一级,核心交换机宕机,网管中心,2026-11-22 07:30,tech1,合同,\n\
         C-1,S-1,A-1,周工,13700001111,维修,一级,核心交换机宕机,网管中心,2026-11-22T07:30:00+08:00,tech2,合同,再次来电\n"
    );
    let files = good_set_with(
        dir.path(),
        &[
            ("customers.csv", customers),
            ("sites.csv", sites),
            ("assets.csv", assets),
            ("parts.csv", parts),
            ("work_orders.csv", &rows),
        ],
    );
    let failure = import_csv(db.as_ref(), &files, now()).await.unwrap_err();
    assert_eq!(
        places(&failure),
        vec![
            place("customers.csv", 3, "key"),
            place("sites.csv", 3, "key"),
            place("assets.csv", 3, "key"),
            place("parts.csv", 3, "part_number"),
            place("work_orders.csv", 3, ""),
        ],
        "{failure}"
    );
    assert!(
        message(&failure, "customers.csv", 3, "key").contains("'C-1' is already the key of the customer on line 2")
    );
    assert!(message(&failure, "work_orders.csv", 3, "").contains("the same call as line 2"));
}

#[tokio::test]
async fn importing_the_same_set_again_changes_nothing() {
    let Setup { db, dir: _dir } = setup().await;
    let first = import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    assert_eq!(first, good_report());
    let after_first = snapshot(db.as_ref()).await;

    let again = import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    let unchanged = |n| Counts { created: 0, updated: 0, unchanged: n };
    assert_eq!(
        again,
        ImportReport {
            customers: unchanged(3),
            sites: unchanged(5),
            assets: unchanged(6),
            parts: unchanged(6),
            work_orders: unchanged(6),
        },
        "{again}"
    );
    assert_eq!(snapshot(db.as_ref()).await, after_first, "same ids, same records, no duplicates");
}

#[tokio::test]
async fn a_changed_row_updates_reference_data_but_never_work_in_progress() {
    let Setup { db, dir } = setup().await;
    import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    // Meanwhile the supervisor reassigns the ICU call to tech2.
    let icu = by_symptom(&all_work_orders(db.as_ref()).await, ICU).clone();
    let tech2 = db.user_by_username("tech2").await.unwrap().unwrap().info;
    db.change_work_order(icu.id, SupervisorChange::Assign(tech2.id), now()).await.unwrap();

    // The office fixes an address and a price and re-imports the whole set, ICU row unchanged
    // except for its instructions.
    let customers = std::fs::read_to_string(fixture("good/customers.csv"))
        .unwrap()
        .replace("深圳市福田区笋岗西路3002号", "深圳市福田区笋岗西路3002号(北院区)");
    let parts = std::fs::read_to_string(fixture("good/parts.csv")).unwrap().replace("48.50", "52.00");
    let work_orders = std::fs::read_to_string(fixture("good/work_orders.csv"))
        .unwrap()
        .replace("到场后5分钟内向调度汇报", "到场后立即向调度汇报");
    let files = good_set_with(
        dir.path(),
        &[("customers.csv", &customers), ("parts.csv", &parts), ("work_orders.csv", &work_orders)],
    );
    let report = import_csv(db.as_ref(), &files, now()).await.unwrap();
    assert_eq!(report.customers, Counts { created: 0, updated: 1, unchanged: 2 });
    assert_eq!(report.parts, Counts { created: 0, updated: 1, unchanged: 5 });
    assert_eq!(report.work_orders, Counts { created: 0, updated: 0, unchanged: 6 });

    let customer = db.customer(icu.customer_id).await.unwrap().unwrap();
    assert_eq!(customer.address, "深圳市福田区笋岗西路3002号(北院区)");
    let parts = db.parts().await.unwrap();
    assert_eq!(parts.iter().find(|p| p.part_number == "HK-PSU-12V2A-B").unwrap().unit_price_cents, 5200);
    let stored = db.work_order(icu.id).await.unwrap().unwrap();
    assert_eq!(stored.assignee, Some(tech2.id), "the supervisor's reassignment stands");
    assert_eq!(stored.instructions, icu.instructions, "an imported work order is never overwritten");
}

#[tokio::test]
async fn keys_imported_before_can_be_used_by_a_later_import() {
    let Setup { db, dir } = setup().await;
    import_csv(db.as_ref(), &files_in(&fixture("good")), now()).await.unwrap();
    let later = dir.path().join("later");
    std::fs::create_dir_all(&later).unwrap();
    std::fs::write(
        later.join("work_orders.csv"),
        // Columns in another order, optional ones left out.
        "reported_at,customer,site,contact_name,contact_phone,kind,fault_level,symptom,reported_by,billing\n\
         2026-11-22 09:55,C-HZ-03,S-HZ-GATE,孙老师,13588887777,维修,二级,门禁刷卡无反应,学校后勤处,合同\n",
    )
    .unwrap();
    let report = import_csv(db.as_ref(), &files_in(&later), now()).await.unwrap();
    assert_eq!(report.work_orders, Counts { created: 1, updated: 0, unchanged: 0 });
    let stored = by_symptom(&all_work_orders(db.as_ref()).await, "门禁刷卡无反应").clone();
    assert_eq!(stored.status, WorkOrderStatus::New);
    assert_eq!(stored.reported_at, at("2026-11-22T09:55:00+08:00"));
}

#[tokio::test]
async fn files_excel_gets_wrong_are_explained() {
    let Setup { db, dir } = setup().await;
    // Saved as "CSV (逗号分隔)" on a Chinese Windows: GBK, not UTF-8.
    let gbk = ImportFiles { customers: Some(fixture("gbk/customers.csv")), ..Default::default() };
    let failure = import_csv(db.as_ref(), &gbk, now()).await.unwrap_err();
    assert_eq!(places(&failure), vec![place("customers.csv", 2, "")]);
    assert!(failure.errors[0].message.contains("CSV UTF-8"), "{failure}");

    // A header with a misspelt column and one missing.
    let sites = "key,customer,nmae,address\nS-1,C-SZ-01,机房,\n";
    let files = good_set_with(dir.path(), &[("sites.csv", sites)]);
    let failure = import_csv(db.as_ref(), &files, now()).await.unwrap_err();
    // Only the header is reported: the rows that use its site keys are not blamed for it.
    assert_eq!(places(&failure), vec![place("sites.csv", 1, "nmae"), place("sites.csv", 1, "name")], "{failure}");

    // Missing files are reported, not panicked on.
    let missing = ImportFiles { parts: Some(dir.path().join("nope.csv")), ..Default::default() };
    let failure = import_csv(db.as_ref(), &missing, now()).await.unwrap_err();
    assert_eq!(places(&failure), vec![place("nope.csv", 0, "")]);
}
