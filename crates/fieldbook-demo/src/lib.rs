//! A demo data set that looks like a real after-sales service company's: Chinese and English
//! customers, their sites and installed equipment, three technicians and a supervisor, and work
//! orders of every kind, fault level and status. Generation is deterministic for a seed, so
//! tests and benchmarks see the same data every run.

pub mod month;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fieldbook_domain::{
    Answer, Asset, AssetId, BillingBasis, BlobId, CheckOutcome, ChecklistTemplate, Contact, Customer, CustomerId,
    FaultLevel, FaultRecord, FaultRecordId, InspectionResult, ItemKind, PartBilling, PartUsage, PartUsageId, PolicyId,
    ResultId, Role, Satisfaction, ServicePolicy, SignOff, SignOffId, Site, SiteId, User, UserId, WorkOrder,
    WorkOrderId, WorkOrderKind, WorkOrderStatus, templates,
};
use fieldbook_store::ImportBatch;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng, seq::IndexedRandom};

/// A small drawn signature (240×80, dark ink on transparent): the stand-in signature image of
/// demo visits that were signed before the device had them. It was a 1×1 PNG with a broken
/// checksum until the visit report, which decodes it, refused it.
pub const DEMO_SIGNATURE_PNG: &[u8] = include_bytes!("../assets/demo-signature.png");

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub work_orders: usize,
    pub seed: u64,
    /// "Now" for the data set: open work orders were reported shortly before it.
    pub now: DateTime<Utc>,
    /// Closed work orders this recent (newest first) carry full visit records.
    pub detailed_history: usize,
}

impl DemoOptions {
    pub fn new(work_orders: usize, now: DateTime<Utc>) -> Self {
        // Up to 100,000 work orders for each of the three technicians.
        DemoOptions { work_orders: work_orders.clamp(1, 300_000), seed: 20261122, now, detailed_history: 200 }
    }
}

/// The generated set.
#[derive(Debug, Clone)]
pub struct DemoData {
    pub technicians: Vec<User>,
    pub supervisor: User,
    pub batch: ImportBatch,
}

impl DemoData {
    /// What one technician's device holds: the shared reference data and their own work.
    pub fn for_technician(&self, technician: UserId) -> ImportBatch {
        let mut batch = self.batch.clone();
        batch.work_orders.retain(|w| w.assignee == Some(technician));
        let kept: std::collections::HashSet<WorkOrderId> = batch.work_orders.iter().map(|w| w.id).collect();
        batch.results.retain(|r| kept.contains(&r.work_order_id));
        batch.faults.retain(|r| kept.contains(&r.work_order_id));
        batch.parts.retain(|r| kept.contains(&r.work_order_id));
        batch.sign_offs.retain(|r| kept.contains(&r.work_order_id));
        batch.notes.retain(|r| kept.contains(&r.work_order_id));
        batch.photos.retain(|r| kept.contains(&r.work_order_id));
        batch
    }
}

const CUSTOMERS: &[(&str, &str)] = &[
    ("深圳市南山区人民医院", "深圳市南山区桃园路89号"),
    ("上海浦江商业广场物业管理有限公司", "上海市闵行区浦江镇江月路1800号"),
    ("北京中关村软件园管理中心", "北京市海淀区东北旺西路8号"),
    ("广州白云国际会议中心", "广州市白云区白云大道南1号"),
    ("杭州西溪湿地公园管理处", "杭州市西湖区天目山路518号"),
    ("成都天府软件园运营有限公司", "成都市高新区天府大道中段1268号"),
    ("武汉光谷第一小学", "武汉市东湖高新区光谷大道77号"),
    ("Harbour View Hotel", "88 Zhongshan East Road, Huangpu, Shanghai"),
    ("Pearl River Logistics Co., Ltd.", "Building 3, Nansha Port Logistics Park, Guangzhou"),
    ("Greenfield International School", "16 Xiangjiang Road, Suzhou Industrial Park"),
    ("Lakeside Data Centre", "2 Taihu Avenue, Wuxi"),
    ("Northgate Shopping Mall", "500 Jiefang Road North, Tianjin"),
];

const SITES: &[&str] = &[
    "A座中心机房",
    "地下停车场",
    "北门岗亭",
    "3号楼配电房",
    "监控中心",
    "Main lobby",
    "Server room B2",
    "Loading dock",
];

/// (model, kind of equipment, template to use for patrols)
const EQUIPMENT: &[(&str, u8)] = &[
    ("海康威视 DS-2CD3T46WDV3-I3 网络摄像机", 1),
    ("海康威视 DS-9632NI-I8 网络硬盘录像机", 1),
    ("大华 DH-SD6C3432XA-HNR 球机", 1),
    ("山特 C10KS UPS 不间断电源", 0),
    ("GGD 低压配电柜", 0),
    ("HP LaserJet Enterprise M607dn", 2),
    ("Canon imageRUNNER ADVANCE DX C3826", 2),
    ("ZKTeco inBio460 access controller", 0),
    ("Schneider Electric Galaxy VS 20 kVA UPS", 0),
];

const LOCATIONS: &[&str] =
    &["机柜 R03 第2层", "停车场入口立杆", "二楼走廊东侧", "配电房 2#柜", "Reception desk", "Rack B2-07", "屋顶东北角"];

const SYMPTOMS: &[(&str, FaultLevel)] = &[
    ("监控中心全部画面无图像,录像中断", FaultLevel::Critical),
    ("UPS 报警并切换旁路,机房供电存在中断风险", FaultLevel::Critical),
    ("All cameras on floor 3 offline, recording stopped", FaultLevel::Critical),
    ("4 路摄像机画面出现雪花和条纹", FaultLevel::Major),
    ("云台无法左右转动,预置位失效", FaultLevel::Major),
    ("Access controller rejects all cards at the north gate", FaultLevel::Major),
    ("配电柜有焦糊味,指示灯异常", FaultLevel::Major),
    ("打印机卡纸频繁,打印有横纹", FaultLevel::Minor),
    ("Printer shows toner low warning and faint prints", FaultLevel::Minor),
    ("室外机箱门锁损坏,密封条老化", FaultLevel::Minor),
    ("夜间画面偏暗,红外灯不亮", FaultLevel::Minor),
];

const TECHNICIANS: &[(&str, &str)] = &[("张伟", "FB-T001"), ("李娜", "FB-T002"), ("陈刚", "FB-T003")];

const PARTS: &[(&str, &str, bool, i64)] = &[
    ("HK-PSU-12V2A", "12V 2A 摄像机电源适配器", false, 4500),
    ("HK-HDD-4T", "4TB 监控级硬盘", true, 68000),
    ("SANTAK-BAT-12V9", "12V 9Ah 蓄电池", true, 22000),
    ("HP-CF237A", "HP 37A 原装硒鼓", false, 89000),
    ("HP-RM2-5452", "HP pick-up roller kit", false, 16000),
    ("GGD-MCB-C32", "C32 微型断路器", false, 3800),
    ("ZK-READER-KR600", "ZKTeco KR600 card reader", false, 32000),
    ("DH-PTZ-MOTOR", "大华球机云台电机", true, 45000),
];

fn fixed_user(n: u128) -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 | n))
}

/// Generates the data set.
pub fn generate(options: &DemoOptions) -> DemoData {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let now = options.now;
    let technicians: Vec<User> = TECHNICIANS
        .iter()
        .enumerate()
        .map(|(i, (name, staff_no))| User {
            id: fixed_user(i as u128 + 1),
            name: (*name).to_owned(),
            staff_no: (*staff_no).to_owned(),
            role: Role::Technician,
        })
        .collect();
    let supervisor =
        User { id: fixed_user(100), name: "刘洋".into(), staff_no: "FB-S001".into(), role: Role::Supervisor };
    let mut batch = ImportBatch::default();
    batch.users.extend(technicians.iter().cloned());
    batch.users.push(supervisor.clone());
    let templates = templates::builtin();
    batch.templates = templates.clone();

    let standard =
        ServicePolicy::standard(PolicyId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0002_0001)));
    let mut premium =
        ServicePolicy::standard(PolicyId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0002_0002)));
    premium.name = fieldbook_domain::Bilingual::new("金牌服务协议(1小时到场)", "Gold agreement (on site within 1 h)");
    premium.critical.arrive = fieldbook_domain::Allowance::Minutes { minutes: 60 };
    batch.policies = vec![standard.clone(), premium.clone()];

    for (i, (name, address)) in CUSTOMERS.iter().enumerate() {
        let customer = Customer {
            id: CustomerId::new(),
            name: (*name).to_owned(),
            address: (*address).to_owned(),
            policy_id: if i % 3 == 0 { premium.id } else { standard.id },
        };
        for s in 0..(1 + i % 3) {
            let site = Site {
                id: SiteId::new(),
                customer_id: customer.id,
                name: SITES[(i + s * 3) % SITES.len()].to_owned(),
                address: (*address).to_owned(),
            };
            for e in 0..3 {
                let (model, _) = EQUIPMENT[(i * 2 + s + e * 4) % EQUIPMENT.len()];
                let warranty_end = NaiveDate::from_ymd_opt(2025 + ((i + e) % 3) as i32, 1 + ((s + e) % 12) as u32, 28);
                batch.assets.push(Asset {
                    id: AssetId::new(),
                    site_id: site.id,
                    model: model.to_owned(),
                    serial: format!("SN{:02}{:02}{:05}", i, s, rng.random_range(10000..99999)),
                    location: LOCATIONS[(i + e) % LOCATIONS.len()].to_owned(),
                    warranty_end,
                });
            }
            batch.sites.push(site);
        }
        batch.customers.push(customer);
    }
    batch.parts_catalog = PARTS.iter().map(|(n, name, a, p)| ((*n).to_owned(), (*name).to_owned(), *a, *p)).collect();

    let policies = [standard, premium];
    let mut detailed = 0;
    for n in 0..options.work_orders {
        let asset = batch.assets.choose(&mut rng).expect("assets exist").clone();
        let site = batch.sites.iter().find(|s| s.id == asset.site_id).expect("asset's site").clone();
        let customer = batch.customers.iter().find(|c| c.id == site.customer_id).expect("site's customer").clone();
        let policy = policies.iter().find(|p| p.id == customer.policy_id).expect("customer's policy");
        let equipment_kind = EQUIPMENT.iter().find(|(m, _)| *m == asset.model).map_or(0, |(_, k)| *k);
        let kind = match rng.random_range(0..10) {
            0..=4 => WorkOrderKind::Repair,
            5..=6 => WorkOrderKind::Patrol,
            7 => WorkOrderKind::Maintenance,
            8 => WorkOrderKind::Installation,
            _ => WorkOrderKind::ReturnVisit,
        };
        let (symptom, level) = match kind {
            WorkOrderKind::Repair => {
                let (s, l) = SYMPTOMS.choose(&mut rng).expect("symptoms exist");
                ((*s).to_owned(), *l)
            }
            WorkOrderKind::Patrol => ("月度例行巡检(听、摸、视、嗅、验)".to_owned(), FaultLevel::Minor),
            WorkOrderKind::Maintenance => ("Quarterly preventive maintenance".to_owned(), FaultLevel::Minor),
            WorkOrderKind::Installation => ("新增设备安装调试及验收".to_owned(), FaultLevel::Major),
            WorkOrderKind::ReturnVisit => ("保修期回访,了解设备使用情况".to_owned(), FaultLevel::Minor),
        };
        let template = match kind {
            WorkOrderKind::Patrol | WorkOrderKind::Maintenance | WorkOrderKind::Installation => {
                Some(&templates[usize::from(equipment_kind).min(templates.len() - 1)])
            }
            _ => None,
        };
        // The first dozen are open and urgent (each technician gets every open status), so every
        // demo shows live deadlines; the rest follow a realistic mix, older ones mostly closed.
        let status = if n < 12 {
            [WorkOrderStatus::Assigned, WorkOrderStatus::EnRoute, WorkOrderStatus::OnSite][(n / 3) % 3]
        } else {
            match rng.random_range(0..100) {
                0..=29 => WorkOrderStatus::Assigned,
                30..=34 => WorkOrderStatus::EnRoute,
                35..=39 => WorkOrderStatus::OnSite,
                40..=59 => WorkOrderStatus::Completed,
                60..=89 => WorkOrderStatus::Approved,
                90..=92 => WorkOrderStatus::Returned,
                _ => WorkOrderStatus::Cancelled,
            }
        };
        let reported_at = if status.is_open() {
            let window = if level == FaultLevel::Minor { 3 * 24 * 60 } else { 5 * 60 };
            now - Duration::minutes(rng.random_range(5..window))
        } else {
            now - Duration::minutes(rng.random_range(24 * 60..120 * 24 * 60))
        };
        let deadlines = policy.deadlines(level, reported_at);
        let progressed = !matches!(status, WorkOrderStatus::Assigned | WorkOrderStatus::Cancelled);
        let responded_at = progressed.then(|| reported_at + Duration::minutes(rng.random_range(5..50)));
        let on_site = progressed && status != WorkOrderStatus::EnRoute;
        let arrived_at =
            on_site.then(|| responded_at.unwrap_or(reported_at) + Duration::minutes(rng.random_range(20..150)));
        let closed =
            matches!(status, WorkOrderStatus::Completed | WorkOrderStatus::Approved | WorkOrderStatus::Returned);
        let completed_at =
            closed.then(|| arrived_at.unwrap_or(reported_at) + Duration::minutes(rng.random_range(30..300)));
        let contact_names = ["王经理", "赵主任", "Ms. Chen", "孙工", "Mr. Li"];
        let work_order = WorkOrder {
            id: WorkOrderId::new(),
            number: format!("WO-{}-{:05}", reported_at.format("%Y%m%d"), n + 1),
            customer_id: customer.id,
            site_id: site.id,
            asset_id: Some(asset.id),
            contact: Contact {
                name: (*contact_names.choose(&mut rng).expect("names exist")).to_owned(),
                phone: format!("13{}{:08}", rng.random_range(0..10), rng.random_range(0..100_000_000u32)),
            },
            kind,
            fault_level: level,
            symptom,
            reported_by: "客服热线 400-800-1234".into(),
            reported_at,
            assignee: Some(technicians[n % technicians.len()].id),
            // Planned work is booked with the customer: an appointment one to three days after it
            // was raised (from `n`, so the random sequence and the rest of the data stay as they were).
            scheduled_for: (status.is_open() && matches!(kind, WorkOrderKind::Patrol | WorkOrderKind::Maintenance))
                .then(|| reported_at + Duration::hours(24 + (n % 48) as i64)),
            billing: if asset.in_warranty_on(reported_at.date_naive()) {
                BillingBasis::Warranty
            } else if n % 2 == 0 {
                BillingBasis::Contract
            } else {
                BillingBasis::Paid
            },
            status,
            instructions: if level == FaultLevel::Critical {
                "重大故障:到场后5分钟内向调度汇报;如5小时内无法修复,提供备机。".into()
            } else {
                String::new()
            },
            template_id: template.map(|t| t.id),
            deadlines,
            responded_at,
            arrived_at,
            completed_at,
            status_note: (status == WorkOrderStatus::Returned).then(|| "缺少现场全景照片,请补拍后重新提交".to_owned()),
            visit_version: 0,
        };
        if closed && detailed < options.detailed_history {
            detailed += 1;
            add_visit_records(&mut batch, &mut rng, &work_order, template);
        }
        batch.work_orders.push(work_order);
    }
    DemoData { technicians, supervisor, batch }
}

fn add_visit_records(
    batch: &mut ImportBatch,
    rng: &mut StdRng,
    work_order: &WorkOrder,
    template: Option<&ChecklistTemplate>,
) {
    let at = work_order.arrived_at.unwrap_or(work_order.reported_at);
    if let Some(template) = template {
        for (i, item) in template.items.iter().enumerate() {
            let answer = match &item.kind {
                ItemKind::Check => Answer::Check(if rng.random_range(0..20) == 0 {
                    CheckOutcome::Abnormal
                } else {
                    CheckOutcome::Normal
                }),
                ItemKind::Reading { min, max, .. } => {
                    let low = min.unwrap_or(0.0);
                    let high = max.unwrap_or(low + 100.0);
                    Answer::Reading(((low + high) / 2.0 * 10.0).round() / 10.0)
                }
                ItemKind::Text => Answer::Text("正常 / normal".into()),
                ItemKind::Photo => Answer::PhotoAttached,
            };
            let assessment = template.assess(&item.key, &answer).expect("demo answers fit their items");
            batch.results.push(InspectionResult {
                id: ResultId::new(),
                work_order_id: work_order.id,
                item_key: item.key.clone(),
                answer,
                assessment,
                note: String::new(),
                recorded_at: at + Duration::minutes(i as i64),
                hlc: fieldbook_domain::Hlc::at((at + Duration::minutes(i as i64)).timestamp_millis()),
                supersedes: None,
            });
        }
    }
    if work_order.kind == WorkOrderKind::Repair {
        batch.faults.push(FaultRecord {
            id: FaultRecordId::new(),
            work_order_id: work_order.id,
            symptom: work_order.symptom.clone(),
            cause: "电源适配器老化,输出电压不足".into(),
            action: "更换电源适配器并重新固定接线".into(),
            result: "设备恢复正常,录像连续".into(),
            category: "power".into(),
            started_at: Some(work_order.reported_at),
            ended_at: work_order.completed_at,
            loaner_provided_at: None,
            recorded_at: at + Duration::minutes(30),
            supersedes: None,
        });
        let (number, name, approval, price) = PARTS[rng.random_range(0..PARTS.len())];
        batch.parts.push(PartUsage {
            id: PartUsageId::new(),
            work_order_id: work_order.id,
            part_number: number.into(),
            name: name.into(),
            quantity: 1,
            serial: format!("NP{}", rng.random_range(100000..999999)),
            billing: match work_order.billing {
                BillingBasis::Warranty => PartBilling::Warranty,
                BillingBasis::Contract => PartBilling::Contract,
                BillingBasis::Paid => PartBilling::Paid { unit_price_cents: price },
            },
            old_part_returned: true,
            needs_customer_approval: approval,
            recorded_at: at + Duration::minutes(35),
            supersedes: None,
            billing_reason: None,
        });
    }
    let signature = BlobId::of_bytes(DEMO_SIGNATURE_PNG);
    if !batch.blobs.iter().any(|(id, _)| *id == signature) {
        batch.blobs.push((signature.clone(), DEMO_SIGNATURE_PNG.to_vec()));
    }
    batch.sign_offs.push(SignOff {
        id: SignOffId::new(),
        work_order_id: work_order.id,
        signer_name: work_order.contact.name.clone(),
        opinion: ["服务及时,处理专业。", "Quick and tidy work, thank you.", "满意"][rng.random_range(0..3)].into(),
        satisfaction: Satisfaction::try_from(rng.random_range(3..=5)).expect("3..=5 is in range"),
        signature,
        strokes: None,
        signed_at: work_order.completed_at.unwrap_or(at),
    });
}
