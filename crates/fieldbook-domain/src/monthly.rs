//! 设备故障月报表: the monthly fault report a supervisor gives a customer.
//!
//! The rules, stated once here and shown under the report:
//! - **The month's faults** are the customer's repair work orders whose report time (接报时间)
//!   falls in the calendar month in the customer's time zone. Cancelled ones are counted apart
//!   and left out of every other figure.
//! - **Category** is the one named by the visit's fault record in force (the latest one that no
//!   correction supersedes); a fault without a record is "uncategorised".
//! - **Times** count from the report: respond to the response, arrive to the arrival on site,
//!   repair to the completion of the visit (the same span as the resolve deadline). Mean and
//!   90th percentile (nearest rank) in minutes, over the work orders that reached that step.
//! - **A deadline is breached** when its step happened after it, or has not happened and the
//!   deadline passed before the report was drawn up.
//! - **First-time fix**: of the faults resolved (signed), those never returned for rework and not
//!   followed, within 7 days of completion, by another fault on the same equipment.
//! - **Repeat faults**: equipment with two or more faults in the month.
//! - **Parts** by billing (warranty, contract, paid) from the records in force; paid lines carry
//!   their amount. **Satisfaction** is the average of the resolved visits' ratings (the sign-off
//!   of the version in force), with every non-empty opinion listed; a returned visit's rating
//!   waits for its next signature.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::visit::current;
use crate::{Asset, AssetId, FaultLevel, InvalidInput, PartBilling, Visit, WorkOrderKind, WorkOrderStatus};

/// Days after a completed repair within which another fault on the same equipment means the
/// first visit did not fix it.
pub const REPEAT_WINDOW_DAYS: i64 = 7;

/// A calendar month, written `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Result<Month, InvalidInput> {
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first| Month { first })
            .ok_or_else(|| InvalidInput::Month(format!("{year}-{month:02}")))
    }

    pub fn parse(text: &str) -> Result<Month, InvalidInput> {
        let bad = || InvalidInput::Month(text.to_owned());
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let (Ok(year), Ok(month)) = (year.parse::<i32>(), month.parse::<u32>()) else { return Err(bad()) };
        if !(2000..=2200).contains(&year) {
            return Err(bad());
        }
        Month::new(year, month).map_err(|_| bad())
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn next(self) -> Month {
        Month { first: self.first.checked_add_months(chrono::Months::new(1)).expect("months within range") }
    }

    /// The month's first and the next month's first instant in `zone`, as UTC.
    pub fn bounds(self, zone: FixedOffset) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |day: NaiveDate| {
            zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
                .single()
                .expect("a fixed offset has one midnight")
                .with_timezone(&Utc)
        };
        (start(self.first), start(self.next().first))
    }

    pub fn contains(self, at: DateTime<Utc>, zone: FixedOffset) -> bool {
        let local = at.with_timezone(&zone).date_naive();
        local.year() == self.first.year() && local.month() == self.first.month()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// The monthly fault report of one customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MonthlyReport {
    pub customer_id: String,
    pub customer: String,
    /// `2026-11`.
    pub month: String,
    /// When the figures were drawn up: open deadlines are judged at this instant.
    pub as_of: DateTime<Utc>,
    /// Faults reported in the month, cancelled ones left out.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub faults: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub cancelled: u32,
    /// Faults still open (not signed) when the report was drawn up.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub open: u32,
    /// Critical, major, minor, always all three.
    pub by_level: Vec<Count>,
    /// Most frequent first, then by name.
    pub by_category: Vec<Count>,
    pub respond: TimeStats,
    pub arrive: TimeStats,
    pub repair: TimeStats,
    pub breaches: Breaches,
    pub first_time_fix: FirstTimeFix,
    /// Equipment with two or more faults, most faults first.
    pub repeat_assets: Vec<RepeatAsset>,
    /// Warranty, contract, paid, always all three.
    pub parts: Vec<PartsByBilling>,
    pub satisfaction: SatisfactionSummary,
    /// The customers' opinions, in order of signing.
    pub comments: Vec<Comment>,
    /// One line per fault, in report order: what every figure above is computed from.
    pub lines: Vec<FaultLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Count {
    /// A fault level code, or a category as the technicians wrote it ("" when none).
    pub key: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u32,
}

/// Minutes from the report to a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct TimeStats {
    /// Work orders that reached the step.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u32,
    pub mean_minutes: Option<f64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub p90_minutes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Breaches {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub respond: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub arrive: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub resolve: u32,
    /// Faults with at least one breached deadline.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub work_orders: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct FirstTimeFix {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub resolved: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub first_time: u32,
    /// `first_time / resolved`, none while nothing is resolved.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RepeatAsset {
    pub asset_id: String,
    pub model: String,
    pub serial: String,
    pub location: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub faults: u32,
    /// The work orders' numbers, in report order.
    pub work_orders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct PartsByBilling {
    /// `warranty`, `contract` or `paid`.
    pub billing: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub lines: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub quantity: u32,
    /// Sum of quantity × unit price, in cents (分); zero but for paid parts.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SatisfactionSummary {
    /// Signed visits with a rating.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rated: u32,
    pub average: Option<f64>,
    /// How many rated 1, 2, 3, 4 and 5.
    #[cfg_attr(feature = "ts", ts(type = "number[]"))]
    pub distribution: [u32; 5],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Comment {
    pub work_order: String,
    pub signer: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub satisfaction: u8,
    pub opinion: String,
    pub signed_at: DateTime<Utc>,
}

/// One fault of the month, as the figures see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct FaultLine {
    pub work_order: String,
    pub level: FaultLevel,
    pub category: String,
    pub asset: Option<String>,
    pub reported_at: DateTime<Utc>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub respond_minutes: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub arrive_minutes: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub repair_minutes: Option<i64>,
    /// Deadlines missed: any of `respond`, `arrive`, `resolve`.
    pub breached: Vec<String>,
    pub resolved: bool,
    pub first_time_fix: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub satisfaction: Option<u8>,
}

/// Draws up `customer`'s report for `month` from the visits given (any may be another
/// customer's or month's: they are filtered here), judging open deadlines at `as_of`.
pub fn compute(
    customer: &crate::Customer,
    month: Month,
    zone: FixedOffset,
    visits: &[Visit],
    assets: &[Asset],
    as_of: DateTime<Utc>,
) -> MonthlyReport {
    let assets: HashMap<AssetId, &Asset> = assets.iter().map(|a| (a.id, a)).collect();
    let mut in_month: Vec<&Visit> = visits
        .iter()
        .filter(|v| v.work_order.customer_id == customer.id)
        .filter(|v| v.work_order.kind == WorkOrderKind::Repair)
        .filter(|v| month.contains(v.work_order.reported_at, zone))
        .collect();
    in_month.sort_by_key(|v| (v.work_order.reported_at, v.work_order.number.clone()));
    let cancelled = in_month.iter().filter(|v| v.work_order.status == WorkOrderStatus::Cancelled).count() as u32;
    let faults: Vec<&Visit> =
        in_month.into_iter().filter(|v| v.work_order.status != WorkOrderStatus::Cancelled).collect();

    // Later faults on each piece of equipment, for the first-time-fix rule. Every repair of the
    // customer counts, not only this month's: a fault early next month undoes a fix late in this one.
    let mut repairs_by_asset: HashMap<AssetId, Vec<DateTime<Utc>>> = HashMap::new();
    for visit in visits
        .iter()
        .filter(|v| v.work_order.kind == WorkOrderKind::Repair && v.work_order.status != WorkOrderStatus::Cancelled)
    {
        if let Some(asset) = visit.work_order.asset_id {
            repairs_by_asset.entry(asset).or_default().push(visit.work_order.reported_at);
        }
    }

    let lines: Vec<FaultLine> = faults.iter().map(|v| line(v, &repairs_by_asset, &assets, as_of)).collect();

    let mut by_level: Vec<Count> =
        FaultLevel::ALL.iter().map(|level| Count { key: level.as_str().to_owned(), count: 0 }).collect();
    let mut categories: BTreeMap<String, u32> = BTreeMap::new();
    for line in &lines {
        by_level.iter_mut().find(|c| c.key == line.level.as_str()).expect("every level listed").count += 1;
        *categories.entry(line.category.clone()).or_default() += 1;
    }
    let mut by_category: Vec<Count> = categories.into_iter().map(|(key, count)| Count { key, count }).collect();
    by_category.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));

    let breached = |which: &str| lines.iter().filter(|l| l.breached.iter().any(|b| b == which)).count() as u32;
    let breaches = Breaches {
        respond: breached("respond"),
        arrive: breached("arrive"),
        resolve: breached("resolve"),
        work_orders: lines.iter().filter(|l| !l.breached.is_empty()).count() as u32,
    };

    let solved = lines.iter().filter(|l| l.resolved).count() as u32;
    let first_time = lines.iter().filter(|l| l.first_time_fix).count() as u32;
    let first_time_fix = FirstTimeFix {
        resolved: solved,
        first_time,
        rate: (solved > 0).then(|| f64::from(first_time) / f64::from(solved)),
    };

    let mut repeats: BTreeMap<AssetId, Vec<String>> = BTreeMap::new();
    for visit in &faults {
        if let Some(asset) = visit.work_order.asset_id {
            repeats.entry(asset).or_default().push(visit.work_order.number.clone());
        }
    }
    let mut repeat_assets: Vec<RepeatAsset> = repeats
        .into_iter()
        .filter(|(_, numbers)| numbers.len() >= 2)
        .map(|(id, work_orders)| {
            let asset = assets.get(&id);
            RepeatAsset {
                asset_id: id.to_string(),
                model: asset.map(|a| a.model.clone()).unwrap_or_default(),
                serial: asset.map(|a| a.serial.clone()).unwrap_or_default(),
                location: asset.map(|a| a.location.clone()).unwrap_or_default(),
                faults: work_orders.len() as u32,
                work_orders,
            }
        })
        .collect();
    repeat_assets.sort_by(|a, b| b.faults.cmp(&a.faults).then_with(|| a.work_orders.cmp(&b.work_orders)));

    let mut parts: Vec<PartsByBilling> = ["warranty", "contract", "paid"]
        .iter()
        .map(|billing| PartsByBilling { billing: (*billing).to_owned(), lines: 0, quantity: 0, amount_cents: 0 })
        .collect();
    for visit in &faults {
        for part in current(&visit.parts, |p| p.id, |p| p.supersedes) {
            let entry = parts.iter_mut().find(|p| p.billing == part.billing.name()).expect("every billing listed");
            entry.lines += 1;
            entry.quantity += part.quantity;
            if let PartBilling::Paid { unit_price_cents } = part.billing {
                entry.amount_cents += unit_price_cents * i64::from(part.quantity);
            }
        }
    }

    let mut distribution = [0u32; 5];
    let mut comments = Vec::new();
    for visit in faults.iter().filter(|v| resolved(v)) {
        if let Some(sign_off) = &visit.sign_off {
            distribution[usize::from(sign_off.satisfaction.get() - 1)] += 1;
            if !sign_off.opinion.trim().is_empty() {
                comments.push(Comment {
                    work_order: visit.work_order.number.clone(),
                    signer: sign_off.signer_name.clone(),
                    satisfaction: sign_off.satisfaction.get(),
                    opinion: sign_off.opinion.trim().to_owned(),
                    signed_at: sign_off.signed_at,
                });
            }
        }
    }
    comments.sort_by(|a, b| a.signed_at.cmp(&b.signed_at).then_with(|| a.work_order.cmp(&b.work_order)));
    let rated: u32 = distribution.iter().sum();
    let stars: u32 = distribution.iter().enumerate().map(|(i, n)| (i as u32 + 1) * n).sum();
    let satisfaction =
        SatisfactionSummary { rated, average: (rated > 0).then(|| f64::from(stars) / f64::from(rated)), distribution };

    MonthlyReport {
        customer_id: customer.id.to_string(),
        customer: customer.name.clone(),
        month: month.to_string(),
        as_of,
        faults: lines.len() as u32,
        cancelled,
        open: lines.iter().filter(|l| !l.resolved).count() as u32,
        by_level,
        by_category,
        respond: stats(lines.iter().filter_map(|l| l.respond_minutes)),
        arrive: stats(lines.iter().filter_map(|l| l.arrive_minutes)),
        repair: stats(lines.iter().filter_map(|l| l.repair_minutes)),
        breaches,
        first_time_fix,
        repeat_assets,
        parts,
        satisfaction,
        comments,
        lines,
    }
}

fn line(
    visit: &Visit,
    repairs_by_asset: &HashMap<AssetId, Vec<DateTime<Utc>>>,
    assets: &HashMap<AssetId, &Asset>,
    as_of: DateTime<Utc>,
) -> FaultLine {
    let order = &visit.work_order;
    let minutes = |at: Option<DateTime<Utc>>| at.map(|at| (at - order.reported_at).num_minutes());
    let category = current(&visit.faults, |f| f.id, |f| f.supersedes)
        .into_iter()
        .max_by_key(|f| (f.recorded_at, f.id))
        .map(|f| f.category.trim().to_owned())
        .unwrap_or_default();
    let late = |done: Option<DateTime<Utc>>, due: DateTime<Utc>| done.unwrap_or(as_of) > due;
    let mut breached = Vec::new();
    if late(order.responded_at, order.deadlines.respond_by) {
        breached.push("respond".to_owned());
    }
    if late(order.arrived_at, order.deadlines.arrive_by) {
        breached.push("arrive".to_owned());
    }
    let resolved = resolved(visit);
    let completed_at = if resolved { order.completed_at } else { None };
    if late(completed_at, order.deadlines.resolve_by) {
        breached.push("resolve".to_owned());
    }
    let fixed_for_good = match (order.asset_id, completed_at) {
        (Some(asset), Some(done)) => !repairs_by_asset.get(&asset).is_some_and(|reports| {
            reports.iter().any(|at| *at > order.reported_at && *at <= done + chrono::Duration::days(REPEAT_WINDOW_DAYS))
        }),
        _ => true,
    };
    FaultLine {
        work_order: order.number.clone(),
        level: order.fault_level,
        category,
        asset: order.asset_id.and_then(|id| assets.get(&id)).map(|a| format!("{} {}", a.model, a.serial)),
        reported_at: order.reported_at,
        respond_minutes: minutes(order.responded_at),
        arrive_minutes: minutes(order.arrived_at),
        repair_minutes: minutes(completed_at),
        breached,
        resolved,
        first_time_fix: resolved && order.visit_version == 0 && fixed_for_good,
        satisfaction: visit.sign_off.as_ref().filter(|_| resolved).map(|s| s.satisfaction.get()),
    }
}

/// A fault is resolved once its visit is signed (and stays so when approved). A returned visit
/// is open again: its completion and its rating wait for the next signature.
fn resolved(visit: &Visit) -> bool {
    matches!(visit.work_order.status, WorkOrderStatus::Completed | WorkOrderStatus::Approved)
}

/// Mean and nearest-rank 90th percentile.
fn stats(values: impl Iterator<Item = i64>) -> TimeStats {
    let mut values: Vec<i64> = values.collect();
    values.sort_unstable();
    let count = values.len();
    if count == 0 {
        return TimeStats { count: 0, mean_minutes: None, p90_minutes: None };
    }
    let rank = (count * 9).div_ceil(10);
    TimeStats {
        count: count as u32,
        mean_minutes: Some(values.iter().sum::<i64>() as f64 / count as f64),
        p90_minutes: Some(values[rank - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound_in_the_customers_zone() {
        let month = Month::parse("2026-11").unwrap();
        assert_eq!(month.to_string(), "2026-11");
        assert_eq!(month.next().to_string(), "2026-12");
        assert_eq!(Month::parse("2026-12").unwrap().next().to_string(), "2027-01");
        let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
        let (start, end) = month.bounds(beijing);
        assert_eq!(start.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert!(month.contains(start, beijing));
        assert!(!month.contains(end, beijing));
        assert!(!month.contains(start - chrono::Duration::seconds(1), beijing));
        for bad in ["2026-13", "2026-0", "26-11", "2026/11", "", "abcd-ef", "1999-12"] {
            assert!(Month::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_90th_percentile_is_the_nearest_rank() {
        let p90 = |values: Vec<i64>| stats(values.into_iter()).p90_minutes;
        assert_eq!(p90(vec![]), None);
        assert_eq!(p90(vec![7]), Some(7));
        assert_eq!(p90((1..=10).collect()), Some(9));
        assert_eq!(p90((1..=11).rev().collect()), Some(10));
        assert_eq!(p90((1..=20).collect()), Some(18));
        assert_eq!(stats([10, 20, 60].into_iter()).mean_minutes, Some(30.0));
    }
}
