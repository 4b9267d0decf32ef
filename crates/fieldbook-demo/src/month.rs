//! A month of one customer's fault work, generated for the monthly fault report's tests and
//! sample pages: repairs of every level and state from the 2nd to the 28th of the month (away
//! from its edges, so no device's time zone moves them), some patrols, some cancelled calls,
//! repairs the month before and early the month after, and another customer's repairs.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use fieldbook_domain::{
    Asset, AssetId, BillingBasis, BlobId, Contact, Customer, CustomerId, FaultLevel, FaultRecord, FaultRecordId,
    PartBilling, PartUsage, PartUsageId, PolicyId, Role, Satisfaction, ServicePolicy, SignOff, SignOffId, Site, SiteId,
    User, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use fieldbook_store::ImportBatch;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fault categories as technicians write them.
const CATEGORIES: &[&str] = &["电源", "网络", "硬盘", "Mechanical", "软件"];
const OPINIONS: &[&str] = &["处理及时,非常满意", "", "Engineer was polite and quick", "希望下次提前电话联系", ""];

/// The generated month.
pub struct MonthOfFaults {
    pub batch: ImportBatch,
    /// The customer the month is about.
    pub customer: CustomerId,
    pub supervisor: UserId,
    pub technician: UserId,
}

/// November 2026 (as `year`/`month` say) of one customer, deterministic for `seed`.
pub fn month_of_faults(seed: u64, year: i32, month: u32) -> MonthOfFaults {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut batch = ImportBatch::default();
    let policy = ServicePolicy::standard(PolicyId::new());
    batch.policies.push(policy.clone());
    let supervisor =
        User { id: UserId::new(), name: "刘洋".into(), staff_no: "FB-S001".into(), role: Role::Supervisor };
    let technician =
        User { id: UserId::new(), name: "张伟".into(), staff_no: "FB-T001".into(), role: Role::Technician };
    batch.users = vec![supervisor.clone(), technician.clone()];
    let signature = BlobId::of_bytes(crate::DEMO_SIGNATURE_PNG);
    batch.blobs.push((signature.clone(), crate::DEMO_SIGNATURE_PNG.to_vec()));
    let mut customers = Vec::new();
    for name in ["宁波港集团信息中心", "Other Customer Ltd."] {
        let customer =
            Customer {
                id: CustomerId::new(), name: name.into(), address: "宁波市北仑区".into(), policy_id: policy.id
            };
        let site =
            Site { id: SiteId::new(), customer_id: customer.id, name: "调度大楼".into(), address: "1号".into() };
        let assets: Vec<Asset> = (0..24)
            .map(|i| Asset {
                id: AssetId::new(),
                site_id: site.id,
                model: format!("海康威视 DS-96{}4NI 录像机", i % 4),
                serial: format!("SN-{seed}-{i:02}"),
                location: format!("机柜 R{:02}", i / 2),
                warranty_end: None,
            })
            .collect();
        batch.customers.push(customer.clone());
        batch.sites.push(site.clone());
        batch.assets.extend(assets.iter().cloned());
        customers.push((customer, site, assets));
    }
    let mut n = 0;
    let mut add = |batch: &mut ImportBatch, rng: &mut StdRng, which: usize, reported_at: DateTime<Utc>, kind| {
        n += 1;
        let (customer, site, assets) = &customers[which];
        let level = [FaultLevel::Critical, FaultLevel::Major, FaultLevel::Minor][rng.random_range(0..3)];
        let status = [
            WorkOrderStatus::Approved,
            WorkOrderStatus::Approved,
            WorkOrderStatus::Completed,
            WorkOrderStatus::Completed,
            WorkOrderStatus::OnSite,
            WorkOrderStatus::Assigned,
            WorkOrderStatus::Returned,
            WorkOrderStatus::Cancelled,
        ][rng.random_range(0..8)];
        let responded = (status != WorkOrderStatus::Assigned || rng.random_bool(0.5))
            .then(|| reported_at + Duration::minutes(rng.random_range(3..150)));
        let arrived = responded
            .filter(|_| status != WorkOrderStatus::Assigned)
            .map(|r| r + Duration::minutes(rng.random_range(20..600)));
        let done = matches!(status, WorkOrderStatus::Completed | WorkOrderStatus::Approved | WorkOrderStatus::Returned);
        let completed = arrived.filter(|_| done).map(|a| a + Duration::minutes(rng.random_range(15..900)));
        let version = if done { rng.random_range(0..2) } else { 0 };
        let work_order = WorkOrder {
            id: WorkOrderId::new(),
            number: format!("WO-{seed}-{n:04}"),
            customer_id: customer.id,
            site_id: site.id,
            asset_id: rng.random_bool(0.9).then(|| assets[rng.random_range(0..assets.len())].id),
            contact: Contact { name: "王工".into(), phone: "0574-86000000".into() },
            kind,
            fault_level: level,
            symptom: "录像中断".into(),
            reported_by: "值班室".into(),
            reported_at,
            assignee: Some(technician.id),
            scheduled_for: None,
            billing: BillingBasis::Contract,
            status,
            instructions: String::new(),
            template_id: None,
            deadlines: policy.deadlines(level, reported_at),
            responded_at: responded,
            arrived_at: arrived,
            completed_at: completed,
            status_note: None,
            visit_version: version,
        };
        let at = arrived.unwrap_or(reported_at);
        if arrived.is_some() && rng.random_bool(0.85) {
            let first = FaultRecordId::new();
            let record = |id, category: &str, minutes, supersedes| FaultRecord {
                id,
                work_order_id: work_order.id,
                symptom: "录像中断".into(),
                cause: "硬盘故障".into(),
                action: "更换硬盘".into(),
                result: "恢复".into(),
                category: category.into(),
                started_at: None,
                ended_at: None,
                loaner_provided_at: None,
                recorded_at: at + Duration::minutes(minutes),
                supersedes,
            };
            batch.faults.push(record(first, CATEGORIES[rng.random_range(0..CATEGORIES.len())], 5, None));
            if rng.random_bool(0.3) {
                batch.faults.push(record(
                    FaultRecordId::new(),
                    CATEGORIES[rng.random_range(0..CATEGORIES.len())],
                    9,
                    Some(first),
                ));
            }
        }
        for p in 0..if arrived.is_some() { rng.random_range(0..4) } else { 0 } {
            let billing = match rng.random_range(0..3) {
                0 => PartBilling::Warranty,
                1 => PartBilling::Contract,
                _ => PartBilling::Paid { unit_price_cents: rng.random_range(1..2000) * 50 },
            };
            let part = PartUsage {
                id: PartUsageId::new(),
                work_order_id: work_order.id,
                part_number: format!("P-{p}"),
                name: "4TB 监控级硬盘".into(),
                quantity: rng.random_range(1..4),
                serial: String::new(),
                billing,
                old_part_returned: true,
                needs_customer_approval: false,
                recorded_at: at + Duration::minutes(10 + p),
                supersedes: None,
                billing_reason: None,
            };
            if rng.random_bool(0.2) {
                // Corrected: the first line is superseded by one with another quantity.
                let correction = PartUsage {
                    id: PartUsageId::new(),
                    quantity: part.quantity + 1,
                    supersedes: Some(part.id),
                    recorded_at: part.recorded_at + Duration::minutes(1),
                    ..part.clone()
                };
                batch.parts.push(part);
                batch.parts.push(correction);
            } else {
                batch.parts.push(part);
            }
        }
        // One sign-off per signed version: version v is signed by the (v+1)-th.
        let signatures = match status {
            WorkOrderStatus::Completed | WorkOrderStatus::Approved => version + 1,
            WorkOrderStatus::Returned => version + 1,
            _ => 0,
        };
        for v in 0..signatures {
            batch.sign_offs.push(SignOff {
                id: SignOffId::new(),
                work_order_id: work_order.id,
                signer_name: format!("签字人{v}"),
                opinion: OPINIONS[rng.random_range(0..OPINIONS.len())].into(),
                satisfaction: Satisfaction::try_from(rng.random_range(1..=5)).unwrap(),
                signature: signature.clone(),
                strokes: None,
                signed_at: completed.unwrap_or(at) - Duration::minutes(i64::from(signatures - v)),
            });
        }
        batch.work_orders.push(work_order);
    };
    let november = |rng: &mut StdRng| {
        Utc.with_ymd_and_hms(year, month, rng.random_range(2..=28), rng.random_range(0..24), rng.random_range(0..60), 0)
            .unwrap()
    };
    for _ in 0..70 {
        let at = november(&mut rng);
        add(&mut batch, &mut rng, 0, at, WorkOrderKind::Repair);
    }
    for _ in 0..6 {
        let at = november(&mut rng);
        add(&mut batch, &mut rng, 0, at, WorkOrderKind::Patrol);
        let at = november(&mut rng);
        add(&mut batch, &mut rng, 1, at, WorkOrderKind::Repair);
    }
    let first = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().expect("a valid month");
    let before = first - Duration::days(30);
    let after = first + Duration::days(32);
    let after = Utc.with_ymd_and_hms(after.year(), after.month(), 1, 12, 0, 0).unwrap();
    for day in [11, 19, 24] {
        add(&mut batch, &mut rng, 0, before + Duration::days(day), WorkOrderKind::Repair);
    }
    for day in [1, 3] {
        add(&mut batch, &mut rng, 0, after + Duration::days(day), WorkOrderKind::Repair);
    }
    MonthOfFaults { batch, customer: customers[0].0.id, supervisor: supervisor.id, technician: technician.id }
}
