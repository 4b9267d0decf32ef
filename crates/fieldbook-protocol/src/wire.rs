//! How a pull page travels (protocol 3). The Rust value is [`PullResponse`] as before; on the
//! wire it is laid out to be small after compression and quick to parse:
//!
//! - each change's version is left out when it is one after the previous change's (`v` is
//!   sent otherwise, always for the first change of a page);
//! - consecutive checklist results of one work order with consecutive versions travel as one
//!   run, `{"r": work_order_id, "results": [...]}`, without their `work_order_id`;
//! - a work order's other times travel as whole milliseconds after its `reported_at`, a
//!   result's `recorded_at` as whole milliseconds after the previous result's in its run, and
//!   a time that is not a whole number of milliseconds away as the full RFC 3339 text;
//! - a result's clock stamp is left out when it is `(recorded_at's millisecond, 0, the node of
//!   the run's previous stamp, or 0)`, which is what a device stamps;
//! - empty texts, absent values and a zero visit version are left out.
//!
//! Nothing is lost: reading a page back gives exactly the changes that were written, in the
//! same order, with the same versions (tests below). Other records (fault records, parts,
//! photos, notes, sign-offs, corrective requests) travel as in protocol 2 (`{"op": ...}`), a
//! removal as `{"x": work_order_id}` and a work order as `{"w": ...}`. The tagged and
//! flattened layout of protocol 2 made the parser buffer every change before reading it.

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    Answer, Assessment, AssetId, BillingBasis, Contact, CustomerId, Deadlines, FaultLevel, Hlc, InspectionResult,
    ResultId, SiteId, TemplateId, UserId, WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Change, ChangeBody, MutationOp, PullResponse, ReferenceData};

/// A time on the wire: whole milliseconds after a base, or the time itself.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    After(i64),
    At(DateTime<Utc>),
}

impl Stamp {
    fn of(at: DateTime<Utc>, base: Option<DateTime<Utc>>) -> Stamp {
        if let Some(base) = base
            && let Some(nanos) = (at - base).num_nanoseconds()
            && nanos % 1_000_000 == 0
        {
            return Stamp::After(nanos / 1_000_000);
        }
        Stamp::At(at)
    }

    fn resolve(self, base: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, String> {
        match (self, base) {
            (Stamp::At(at), _) => Ok(at),
            (Stamp::After(ms), Some(base)) => base
                .checked_add_signed(chrono::Duration::milliseconds(ms))
                .ok_or_else(|| format!("a time {ms} ms after {base} is out of range")),
            (Stamp::After(ms), None) => Err(format!("a time given as {ms} ms after nothing")),
        }
    }
}

/// On the wire: whole milliseconds after the base time the field names, or the time itself.
impl utoipa::PartialSchema for Stamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .description(Some("whole milliseconds after the field's base time")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    .description(Some(
                        "the time itself (RFC 3339), when it is not a whole number of milliseconds away",
                    )),
            )
            .into()
    }
}

impl utoipa::ToSchema for Stamp {
    fn name() -> std::borrow::Cow<'static, str> {
        "WireTime".into()
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Stamp::After(ms) => serializer.serialize_i64(*ms),
            Stamp::At(at) => at.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Stamp, D::Error> {
        struct StampVisitor;
        impl Visitor<'_> for StampVisitor {
            type Value = Stamp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("milliseconds or an RFC 3339 time")
            }
            fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Stamp, E> {
                Ok(Stamp::After(ms))
            }
            fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Stamp, E> {
                i64::try_from(ms).map(Stamp::After).map_err(|_| E::custom("milliseconds out of range"))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Stamp, E> {
                DateTime::parse_from_rfc3339(text).map(|t| Stamp::At(t.with_timezone(&Utc))).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(StampVisitor)
    }
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// A work order on the wire: as `WorkOrder`, with its deadlines (`respond_by`, `arrive_by`,
/// `resolve_by`, `loaner_by`) flattened, and every time but `reported_at` as milliseconds after
/// `reported_at`; empty texts, absent values and a zero `visit_version` left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
struct WireWorkOrder {
    id: WorkOrderId,
    number: String,
    customer_id: CustomerId,
    site_id: SiteId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset_id: Option<AssetId>,
    contact: Contact,
    kind: WorkOrderKind,
    fault_level: FaultLevel,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    symptom: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    reported_by: String,
    reported_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignee: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scheduled_for: Option<Stamp>,
    billing: BillingBasis,
    status: WorkOrderStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    instructions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template_id: Option<TemplateId>,
    respond_by: Stamp,
    arrive_by: Stamp,
    resolve_by: Stamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    loaner_by: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    responded_at: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arrived_at: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    completed_at: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_note: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    visit_version: u32,
}

impl WireWorkOrder {
    fn of(w: &WorkOrder) -> WireWorkOrder {
        let base = Some(w.reported_at);
        let stamp = |at: DateTime<Utc>| Stamp::of(at, base);
        WireWorkOrder {
            id: w.id,
            number: w.number.clone(),
            customer_id: w.customer_id,
            site_id: w.site_id,
            asset_id: w.asset_id,
            contact: w.contact.clone(),
            kind: w.kind,
            fault_level: w.fault_level,
            symptom: w.symptom.clone(),
            reported_by: w.reported_by.clone(),
            reported_at: w.reported_at,
            assignee: w.assignee,
            scheduled_for: w.scheduled_for.map(stamp),
            billing: w.billing,
            status: w.status,
            instructions: w.instructions.clone(),
            template_id: w.template_id,
            respond_by: stamp(w.deadlines.respond_by),
            arrive_by: stamp(w.deadlines.arrive_by),
            resolve_by: stamp(w.deadlines.resolve_by),
            loaner_by: w.deadlines.loaner_by.map(stamp),
            responded_at: w.responded_at.map(stamp),
            arrived_at: w.arrived_at.map(stamp),
            completed_at: w.completed_at.map(stamp),
            status_note: w.status_note.clone(),
            visit_version: w.visit_version,
        }
    }

    fn into_work_order(self) -> Result<WorkOrder, String> {
        let base = Some(self.reported_at);
        let at = |s: Stamp| s.resolve(base);
        let opt = |s: Option<Stamp>| s.map(|s| s.resolve(base)).transpose();
        Ok(WorkOrder {
            id: self.id,
            number: self.number,
            customer_id: self.customer_id,
            site_id: self.site_id,
            asset_id: self.asset_id,
            contact: self.contact,
            kind: self.kind,
            fault_level: self.fault_level,
            symptom: self.symptom,
            reported_by: self.reported_by,
            reported_at: self.reported_at,
            assignee: self.assignee,
            scheduled_for: opt(self.scheduled_for)?,
            billing: self.billing,
            status: self.status,
            instructions: self.instructions,
            template_id: self.template_id,
            deadlines: Deadlines {
                respond_by: at(self.respond_by)?,
                arrive_by: at(self.arrive_by)?,
                resolve_by: at(self.resolve_by)?,
                loaner_by: opt(self.loaner_by)?,
            },
            responded_at: opt(self.responded_at)?,
            arrived_at: opt(self.arrived_at)?,
            completed_at: opt(self.completed_at)?,
            status_note: self.status_note,
            visit_version: self.visit_version,
        })
    }
}

/// One checklist result of a run, without its work order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
struct WireResult {
    id: ResultId,
    item_key: String,
    answer: Answer,
    assessment: Assessment,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
    /// `recorded_at`, after the previous result's of the run.
    t: Stamp,
    /// The clock stamp, left out when it is (`t` in whole milliseconds, counter 0, the node of
    /// the run's previous stamp, or 0 for the first) — what a device stamps (docs/sync.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    hlc: Option<Hlc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supersedes: Option<ResultId>,
}

/// One entry of a page: exactly one of `w` (a work order as it now stands), `r` with `results`
/// (a run of checklist results of that work order, one change each, with consecutive
/// versions), `op` (another visit record, as pushed) or `x` (a work order no longer the
/// caller's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
struct WireEntry {
    /// The version of the entry's (first) change, when it is not one after the previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<Box<WireWorkOrder>>,
    /// The work order of a run of checklist results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<WorkOrderId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    results: Vec<WireResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<MutationOp>,
    /// A work order no longer the caller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<WorkOrderId>,
}

/// A pull page as it travels (protocol 3): see docs/sync.md for how it reads back.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PullPage)]
pub(crate) struct WirePage {
    changes: Vec<WireEntry>,
    #[serde(default, skip_serializing_if = "ReferenceData::is_empty")]
    reference: ReferenceData,
    cursor: u64,
    more: bool,
}

/// The stamp a device gives a result recorded at `at` on clock node `node`.
fn device_stamp(at: DateTime<Utc>, node: u64) -> Hlc {
    Hlc { millis: at.timestamp_millis(), counter: 0, node }
}

impl From<&PullResponse> for WirePage {
    fn from(page: &PullResponse) -> WirePage {
        let mut entries: Vec<WireEntry> = Vec::with_capacity(page.changes.len());
        let mut previous: Option<u64> = None;
        // The open run of results: its work order, last time and last clock node.
        let mut run: Option<(WorkOrderId, DateTime<Utc>, u64)> = None;
        for change in &page.changes {
            let follows = previous.is_some_and(|p| p.checked_add(1) == Some(change.version));
            let v = if follows { None } else { Some(change.version) };
            previous = Some(change.version);
            if let ChangeBody::Record { op: MutationOp::InspectionResult(r) } = &change.body {
                let (base, node) = match run {
                    Some((work_order, at, node)) if follows && work_order == r.work_order_id => (Some(at), node),
                    _ => {
                        entries.push(WireEntry { v, r: Some(r.work_order_id), ..WireEntry::default() });
                        (None, 0)
                    }
                };
                let hlc = (r.hlc != device_stamp(r.recorded_at, node)).then_some(r.hlc);
                entries.last_mut().expect("a run was opened").results.push(WireResult {
                    id: r.id,
                    item_key: r.item_key.clone(),
                    answer: r.answer.clone(),
                    assessment: r.assessment,
                    note: r.note.clone(),
                    t: Stamp::of(r.recorded_at, base),
                    hlc,
                    supersedes: r.supersedes,
                });
                run = Some((r.work_order_id, r.recorded_at, r.hlc.node));
                continue;
            }
            run = None;
            let mut entry = WireEntry { v, ..WireEntry::default() };
            match &change.body {
                ChangeBody::WorkOrder { work_order } => entry.w = Some(Box::new(WireWorkOrder::of(work_order))),
                ChangeBody::Record { op } => entry.op = Some(op.clone()),
                ChangeBody::Removed { work_order_id } => entry.x = Some(*work_order_id),
            }
            entries.push(entry);
        }
        WirePage { changes: entries, reference: page.reference.clone(), cursor: page.cursor, more: page.more }
    }
}

impl TryFrom<WirePage> for PullResponse {
    type Error = String;

    fn try_from(page: WirePage) -> Result<PullResponse, String> {
        let mut changes = Vec::with_capacity(page.changes.len());
        let mut previous: Option<u64> = None;
        let mut next_version = |v: Option<u64>| -> Result<u64, String> {
            let version = match (v, previous) {
                (Some(v), _) => v,
                (None, Some(p)) => p.checked_add(1).ok_or("a version out of range")?,
                (None, None) => return Err("the first change of a page has no version".into()),
            };
            previous = Some(version);
            Ok(version)
        };
        for entry in page.changes {
            let kinds = usize::from(entry.w.is_some())
                + usize::from(entry.r.is_some())
                + usize::from(entry.op.is_some())
                + usize::from(entry.x.is_some());
            if kinds != 1 {
                return Err("a change must be exactly one of w, r, op and x".into());
            }
            if let Some(work_order_id) = entry.r {
                if entry.results.is_empty() {
                    return Err("a run of results without results".into());
                }
                let (mut base, mut node) = (None, 0);
                let mut v = entry.v;
                for result in entry.results {
                    let recorded_at = result.t.resolve(base)?;
                    let hlc = result.hlc.unwrap_or_else(|| device_stamp(recorded_at, node));
                    (base, node) = (Some(recorded_at), hlc.node);
                    let version = next_version(v.take())?;
                    let record = InspectionResult {
                        id: result.id,
                        work_order_id,
                        item_key: result.item_key,
                        answer: result.answer,
                        assessment: result.assessment,
                        note: result.note,
                        recorded_at,
                        hlc,
                        supersedes: result.supersedes,
                    };
                    changes.push(Change {
                        version,
                        body: ChangeBody::Record { op: MutationOp::InspectionResult(record) },
                    });
                }
                continue;
            }
            let version = next_version(entry.v)?;
            let body = if let Some(w) = entry.w {
                ChangeBody::WorkOrder { work_order: Box::new(w.into_work_order()?) }
            } else if let Some(op) = entry.op {
                ChangeBody::Record { op }
            } else if let Some(work_order_id) = entry.x {
                ChangeBody::Removed { work_order_id }
            } else {
                unreachable!("exactly one kind was checked above")
            };
            changes.push(Change { version, body });
        }
        Ok(PullResponse { changes, reference: page.reference, cursor: page.cursor, more: page.more })
    }
}

impl Serialize for PullResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WirePage::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PullResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PullResponse, D::Error> {
        PullResponse::try_from(WirePage::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use fieldbook_domain::{CheckOutcome, Note, NoteId};

    fn work_order(reported_at: DateTime<Utc>) -> WorkOrder {
        WorkOrder {
            id: WorkOrderId::new(),
            number: "WO-1".into(),
            customer_id: CustomerId::new(),
            site_id: SiteId::new(),
            asset_id: None,
            contact: Contact { name: "王经理".into(), phone: "135".into() },
            kind: WorkOrderKind::Repair,
            fault_level: FaultLevel::Minor,
            symptom: String::new(),
            reported_by: "客服".into(),
            reported_at,
            assignee: Some(UserId::new()),
            scheduled_for: Some(reported_at + Duration::nanoseconds(1)),
            billing: BillingBasis::Contract,
            status: WorkOrderStatus::Assigned,
            instructions: String::new(),
            template_id: None,
            deadlines: Deadlines {
                respond_by: reported_at + Duration::hours(1),
                arrive_by: Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap(),
                resolve_by: reported_at - Duration::days(3),
                loaner_by: Some(reported_at + Duration::milliseconds(1)),
            },
            responded_at: None,
            arrived_at: Some(reported_at + Duration::minutes(5)),
            completed_at: None,
            status_note: Some(String::new()),
            visit_version: 2,
        }
    }

    fn result(work_order_id: WorkOrderId, recorded_at: DateTime<Utc>, hlc: Hlc) -> Change {
        Change {
            version: 0,
            body: ChangeBody::Record {
                op: MutationOp::InspectionResult(InspectionResult {
                    id: ResultId::new(),
                    work_order_id,
                    item_key: "look.a".into(),
                    answer: Answer::Check(CheckOutcome::Normal),
                    assessment: Assessment::Normal,
                    note: String::new(),
                    recorded_at,
                    hlc,
                    supersedes: None,
                }),
            },
        }
    }

    #[test]
    fn a_page_reads_back_exactly_as_written() {
        let base = Utc::now();
        let a = work_order(base);
        let b = work_order(base - Duration::days(400));
        let t = base + Duration::nanoseconds(123);
        let mut changes = vec![
            Change { version: 0, body: ChangeBody::WorkOrder { work_order: Box::new(a.clone()) } },
            // A run of a device's stamps, one with a counter, one of another node.
            result(a.id, t, Hlc { millis: t.timestamp_millis(), counter: 0, node: 9 }),
            result(
                a.id,
                t + Duration::minutes(1),
                Hlc { millis: (t + Duration::minutes(1)).timestamp_millis(), counter: 0, node: 9 },
            ),
            result(
                a.id,
                t + Duration::minutes(1),
                Hlc { millis: (t + Duration::minutes(1)).timestamp_millis(), counter: 1, node: 9 },
            ),
            result(a.id, t - Duration::nanoseconds(5), Hlc { millis: 1, counter: 0, node: 3 }),
            // Another work order's results, then a gap in versions inside a run.
            result(b.id, t, Hlc::at(t.timestamp_millis())),
            result(b.id, t, Hlc::at(t.timestamp_millis())),
            result(b.id, t, Hlc::at(t.timestamp_millis())),
            Change {
                version: 0,
                body: ChangeBody::Record {
                    op: MutationOp::Note(Note {
                        id: NoteId::new(),
                        work_order_id: a.id,
                        author: None,
                        text: "复查".into(),
                        written_at: base,
                    }),
                },
            },
            result(a.id, t, Hlc::at(t.timestamp_millis())),
            Change { version: 0, body: ChangeBody::Removed { work_order_id: b.id } },
            Change { version: 0, body: ChangeBody::WorkOrder { work_order: Box::new(b) } },
        ];
        let versions = [7, 8, 9, 10, 11, 12, 13, 20, 21, 22, 23, 30];
        for (change, version) in changes.iter_mut().zip(versions) {
            change.version = version;
        }
        let page = PullResponse { changes, reference: ReferenceData::default(), cursor: 30, more: true };
        let json = serde_json::to_string(&page).unwrap();
        let back: PullResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, page);
        let wire: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(wire["changes"][0]["v"], 7, "the first version is given");
        assert!(wire["changes"][1].get("v").is_none(), "a following version is not");
        assert_eq!(wire["changes"][1]["results"].as_array().unwrap().len(), 4, "one run of four");
        assert!(wire["changes"][1]["results"][1].get("hlc").is_none(), "a device's stamp is left out");
        assert_eq!(wire["changes"][1]["results"][1]["t"], 60_000);
        assert_eq!(wire["changes"][0]["w"]["respond_by"], 3_600_000);
        let empty = PullResponse { changes: vec![], reference: ReferenceData::default(), cursor: 4, more: false };
        assert_eq!(serde_json::from_str::<PullResponse>(&serde_json::to_string(&empty).unwrap()).unwrap(), empty);
    }

    #[test]
    fn a_malformed_page_is_refused() {
        for bad in [
            r#"{"changes":[{"x":"01900000-0000-7000-8000-000000010001"}],"cursor":1,"more":false}"#,
            r#"{"changes":[{"v":1}],"cursor":1,"more":false}"#,
            r#"{"changes":[{"v":1,"r":"01900000-0000-7000-8000-000000010001"}],"cursor":1,"more":false}"#,
        ] {
            assert!(serde_json::from_str::<PullResponse>(bad).is_err(), "{bad}");
        }
    }
}
