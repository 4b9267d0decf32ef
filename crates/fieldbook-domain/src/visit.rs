//! The facts a technician records on a visit. Every record is append-only with a client-made
//! id; a correction is a new record that names the one it supersedes. Once the customer signs,
//! the visit is locked and its canonical content hash identifies it for good.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checklist::{Answer, Assessment, ChecklistTemplate, ItemKind};
use crate::error::InvalidInput;
use crate::hlc::Hlc;
use crate::ids::{BlobId, FaultRecordId, NoteId, PartUsageId, ResultId, SignOffId, UserId, WorkOrderId};
use crate::text::{optional_text, required_text};
use crate::work_order::{WorkOrder, WorkOrderKind};

/// Longest free text accepted in one field.
pub const MAX_TEXT: usize = 4000;

/// One answer to one checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectionResult {
    pub id: ResultId,
    pub work_order_id: WorkOrderId,
    pub item_key: String,
    pub answer: Answer,
    pub assessment: Assessment,
    pub note: String,
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub recorded_at: DateTime<Utc>,
    /// The hybrid logical clock stamp of the answer (docs/sync.md, "Clock stamps"): of two
    /// answers to the same item, the one with the later stamp is in force.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hlc: Hlc,
    pub supersedes: Option<ResultId>,
}

/// 故障处理记录.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaultRecord {
    pub id: FaultRecordId,
    pub work_order_id: WorkOrderId,
    pub symptom: String,
    pub cause: String,
    pub action: String,
    pub result: String,
    pub category: String,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// When a loaner unit (备机) was put in place, if one was.
    pub loaner_provided_at: Option<DateTime<Utc>>,
    pub recorded_at: DateTime<Utc>,
    pub supersedes: Option<FaultRecordId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PartBilling {
    Warranty,
    Contract,
    /// Charged at cost, never above the quoted price; cents (分) of the local currency.
    Paid {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        unit_price_cents: i64,
    },
}

impl PartBilling {
    pub fn name(self) -> &'static str {
        match self {
            PartBilling::Warranty => "warranty",
            PartBilling::Contract => "contract",
            PartBilling::Paid { .. } => "paid",
        }
    }
}

/// 备品备件 used on a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartUsage {
    pub id: PartUsageId,
    pub work_order_id: WorkOrderId,
    pub part_number: String,
    pub name: String,
    pub quantity: u32,
    pub serial: String,
    pub billing: PartBilling,
    pub old_part_returned: bool,
    pub needs_customer_approval: bool,
    pub recorded_at: DateTime<Utc>,
    pub supersedes: Option<PartUsageId>,
    /// Why the billing differs from what the equipment's warranty and the contract propose,
    /// when it does (the technician's words, kept with the part it explains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub billing_reason: Option<String>,
}

/// 满意度, 1 (very unsatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "number"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = u8))]
#[serde(try_from = "i64", into = "u8")]
pub struct Satisfaction(u8);

impl Satisfaction {
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Satisfaction {
    type Error = InvalidInput;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        match value {
            1..=5 => Ok(Satisfaction(value as u8)),
            _ => Err(InvalidInput::SatisfactionOutOfRange(value)),
        }
    }
}

impl From<Satisfaction> for u8 {
    fn from(value: Satisfaction) -> Self {
        value.0
    }
}

/// 用户签字确认: the customer's signature, opinion and rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOff {
    pub id: SignOffId,
    pub work_order_id: WorkOrderId,
    pub signer_name: String,
    pub opinion: String,
    pub satisfaction: Satisfaction,
    pub signature: BlobId,
    /// The pen strokes the signature was drawn with (vector data, JSON), when the pad gave them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub strokes: Option<BlobId>,
    pub signed_at: DateTime<Utc>,
}

/// A photo attached to the visit, optionally to one checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Photo {
    pub blob: BlobId,
    pub work_order_id: WorkOrderId,
    pub item_key: Option<String>,
    pub caption: String,
    pub taken_at: DateTime<Utc>,
}

/// Notes are an append-only list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: NoteId,
    pub work_order_id: WorkOrderId,
    pub author: Option<UserId>,
    pub text: String,
    pub written_at: DateTime<Utc>,
}

/// A corrective work order the technician asks for from what they found on a visit (usually
/// an abnormal checklist item), drafted on the device, offline if need be. The server turns it
/// into a new work order at the same site and equipment, waiting for a supervisor to dispatch;
/// its id is the new work order's id, so a retried push cannot make two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectiveRequest {
    pub id: WorkOrderId,
    /// The visit it came from.
    pub work_order_id: WorkOrderId,
    pub item_key: Option<String>,
    pub fault_level: crate::work_order::FaultLevel,
    /// What needs putting right, in the technician's words.
    pub symptom: String,
    pub requested_by: Option<UserId>,
    pub requested_at: DateTime<Utc>,
}

impl CorrectiveRequest {
    pub fn new(
        parent: &WorkOrder,
        item_key: Option<&str>,
        fault_level: crate::work_order::FaultLevel,
        symptom: &str,
        requested_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<Self, InvalidInput> {
        Ok(CorrectiveRequest {
            id: WorkOrderId::new(),
            work_order_id: parent.id,
            item_key: item_key.map(str::to_owned),
            fault_level,
            symptom: required_text("symptom", symptom, 4000)?,
            requested_by,
            requested_at: now,
        })
    }

    /// The work order it becomes: the parent's customer, site, equipment, contact and billing,
    /// reported by the technician when they asked, unassigned until a supervisor dispatches it.
    pub fn work_order(&self, parent: &WorkOrder, policy: &crate::ServicePolicy, requested_by: &str) -> WorkOrder {
        let origin = match &self.item_key {
            Some(key) => format!("{} · {key}", parent.number),
            None => parent.number.clone(),
        };
        WorkOrder {
            id: self.id,
            number: crate::work_order::first_number("WO", self.id, self.requested_at),
            customer_id: parent.customer_id,
            site_id: parent.site_id,
            asset_id: parent.asset_id,
            contact: parent.contact.clone(),
            kind: WorkOrderKind::Repair,
            fault_level: self.fault_level,
            symptom: self.symptom.clone(),
            reported_by: requested_by.to_owned(),
            reported_at: self.requested_at,
            assignee: None,
            scheduled_for: None,
            billing: parent.billing,
            status: crate::work_order::WorkOrderStatus::New,
            instructions: origin,
            template_id: None,
            deadlines: policy.deadlines(self.fault_level, self.requested_at),
            responded_at: None,
            arrived_at: None,
            completed_at: None,
            status_note: None,
            visit_version: 0,
        }
    }
}

/// What a part-usage form holds before it is checked. Numbers arrive as the user typed them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartDraft {
    pub part_number: String,
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub quantity: i64,
    pub serial: String,
    pub billing: PartBilling,
    pub old_part_returned: bool,
    pub needs_customer_approval: bool,
    pub supersedes: Option<PartUsageId>,
    /// Required by the form when the billing chosen is not the one proposed.
    #[serde(default)]
    pub billing_reason: Option<String>,
}

impl PartUsage {
    pub fn from_draft(work_order_id: WorkOrderId, draft: &PartDraft, now: DateTime<Utc>) -> Result<Self, InvalidInput> {
        if draft.quantity <= 0 {
            return Err(InvalidInput::QuantityNotPositive(draft.quantity));
        }
        let quantity = u32::try_from(draft.quantity)
            .map_err(|_| InvalidInput::NotANumber { field: "quantity", value: draft.quantity.to_string() })?;
        if let PartBilling::Paid { unit_price_cents } = draft.billing
            && unit_price_cents < 0
        {
            return Err(InvalidInput::NegativePrice(unit_price_cents));
        }
        Ok(PartUsage {
            id: PartUsageId::new(),
            work_order_id,
            part_number: required_text("part number", &draft.part_number, 64)?,
            name: required_text("part name", &draft.name, 200)?,
            quantity,
            serial: optional_text("serial", &draft.serial, 128)?,
            billing: draft.billing,
            old_part_returned: draft.old_part_returned,
            needs_customer_approval: draft.needs_customer_approval,
            recorded_at: now,
            supersedes: draft.supersedes,
            billing_reason: match draft.billing_reason.as_deref().map(str::trim) {
                Some(reason) if !reason.is_empty() => Some(optional_text("billing reason", reason, 500)?),
                _ => None,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaultDraft {
    pub symptom: String,
    pub cause: String,
    pub action: String,
    pub result: String,
    pub category: String,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub loaner_provided_at: Option<DateTime<Utc>>,
    pub supersedes: Option<FaultRecordId>,
}

impl FaultRecord {
    pub fn from_draft(
        work_order_id: WorkOrderId,
        draft: &FaultDraft,
        now: DateTime<Utc>,
    ) -> Result<Self, InvalidInput> {
        if let (Some(start), Some(end)) = (draft.started_at, draft.ended_at)
            && end < start
        {
            return Err(InvalidInput::EndBeforeStart {
                field: "fault time",
                start: start.to_rfc3339(),
                end: end.to_rfc3339(),
            });
        }
        Ok(FaultRecord {
            id: FaultRecordId::new(),
            work_order_id,
            symptom: required_text("symptom", &draft.symptom, MAX_TEXT)?,
            cause: optional_text("cause", &draft.cause, MAX_TEXT)?,
            action: required_text("action taken", &draft.action, MAX_TEXT)?,
            result: optional_text("result", &draft.result, MAX_TEXT)?,
            category: optional_text("category", &draft.category, 100)?,
            started_at: draft.started_at,
            ended_at: draft.ended_at,
            loaner_provided_at: draft.loaner_provided_at,
            recorded_at: now,
            supersedes: draft.supersedes,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOffDraft {
    pub signer_name: String,
    pub opinion: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub satisfaction: i64,
    pub signature: BlobId,
    #[serde(default)]
    pub strokes: Option<BlobId>,
}

impl SignOff {
    pub fn from_draft(
        work_order_id: WorkOrderId,
        draft: &SignOffDraft,
        now: DateTime<Utc>,
    ) -> Result<Self, InvalidInput> {
        Ok(SignOff {
            id: SignOffId::new(),
            work_order_id,
            signer_name: required_text("signer name", &draft.signer_name, 100)?,
            opinion: optional_text("opinion", &draft.opinion, MAX_TEXT)?,
            satisfaction: Satisfaction::try_from(draft.satisfaction)?,
            signature: draft.signature.clone(),
            strokes: draft.strokes.clone(),
            signed_at: now,
        })
    }
}

/// Something that still blocks completing a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Missing {
    RequiredItem {
        key: String,
    },
    PhotoForItem {
        key: String,
    },
    /// A repair needs its fault record (故障处理记录).
    FaultRecord,
    SignOff,
}
impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::RequiredItem { key } => write!(f, "answer required item '{key}'"),
            Missing::PhotoForItem { key } => write!(f, "attach a photo to item '{key}'"),
            Missing::FaultRecord => f.write_str("record the fault: symptom, cause and action taken"),
            Missing::SignOff => f.write_str("get the customer's sign-off"),
        }
    }
}

/// Everything recorded on one work order's visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub work_order: WorkOrder,
    pub template: Option<ChecklistTemplate>,
    pub results: Vec<InspectionResult>,
    pub faults: Vec<FaultRecord>,
    pub parts: Vec<PartUsage>,
    pub photos: Vec<Photo>,
    pub sign_off: Option<SignOff>,
    pub notes: Vec<Note>,
}

/// The records of a list that no later record supersedes, in recorded order.
pub fn current<'a, T, Id: Eq + std::hash::Hash + 'a>(
    records: &'a [T],
    id: impl Fn(&T) -> Id,
    supersedes: impl Fn(&T) -> Option<Id>,
) -> Vec<&'a T> {
    let replaced: HashSet<Id> = records.iter().filter_map(&supersedes).collect();
    records.iter().filter(|record| !replaced.contains(&id(record))).collect()
}

impl Visit {
    /// The answer in force for each item: of those that nothing supersedes, the one with the
    /// latest clock stamp (ties, which only a broken device makes, go to the larger id). The
    /// devices' wall clocks (`recorded_at`) never decide.
    pub fn current_results(&self) -> BTreeMap<&str, &InspectionResult> {
        let mut by_item = BTreeMap::new();
        for result in current(&self.results, |r| r.id, |r| r.supersedes) {
            let entry = by_item.entry(result.item_key.as_str()).or_insert(result);
            if (result.hlc, result.id) >= (entry.hlc, entry.id) {
                *entry = result;
            }
        }
        by_item
    }

    pub fn current_parts(&self) -> Vec<&PartUsage> {
        current(&self.parts, |p| p.id, |p| p.supersedes)
    }

    pub fn current_faults(&self) -> Vec<&FaultRecord> {
        current(&self.faults, |f| f.id, |f| f.supersedes)
    }

    /// What still blocks completion, in checklist order. Empty means the visit may complete.
    pub fn missing_for_completion(&self) -> Vec<Missing> {
        let mut missing = Vec::new();
        if let Some(template) = &self.template {
            let answered = self.current_results();
            for item in &template.items {
                let has_photo = self.photos.iter().any(|p| p.item_key.as_deref() == Some(item.key.as_str()));
                let needs_answer = item.required && !matches!(item.kind, ItemKind::Photo);
                if needs_answer && !answered.contains_key(item.key.as_str()) {
                    missing.push(Missing::RequiredItem { key: item.key.clone() });
                }
                let photo_item_required = matches!(item.kind, ItemKind::Photo) && item.required;
                if (item.photo_required || photo_item_required) && !has_photo {
                    missing.push(Missing::PhotoForItem { key: item.key.clone() });
                }
            }
        }
        if self.work_order.kind == WorkOrderKind::Repair && self.current_faults().is_empty() {
            missing.push(Missing::FaultRecord);
        }
        if self.sign_off.is_none() {
            missing.push(Missing::SignOff);
        }
        missing
    }

    /// The canonical document of the visit: RFC 8785 canonical JSON (keys sorted, numbers
    /// and strings in one form, no insignificant white space), so the same visit always gives
    /// the same bytes on every device.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(self).expect("visit records serialise to JSON")
    }

    /// SHA-256 of the canonical document, lowercase hex. This is what the signed report names.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::CheckOutcome;
    use crate::ids::*;
    use crate::policy::ServicePolicy;
    use crate::templates;
    use crate::work_order::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn visit() -> Visit {
        let reported_at = at("2026-11-20T09:00:00+08:00");
        let template = templates::general_patrol();
        let work_order = WorkOrder {
            id: WorkOrderId::new(),
            number: "WO-20261120-0001".into(),
            customer_id: CustomerId::new(),
            site_id: SiteId::new(),
            asset_id: None,
            contact: Contact { name: "王经理".into(), phone: "13800000000".into() },
            kind: WorkOrderKind::Patrol,
            fault_level: FaultLevel::Minor,
            symptom: "月度巡检".into(),
            reported_by: "调度".into(),
            reported_at,
            assignee: Some(UserId::new()),
            scheduled_for: None,
            billing: BillingBasis::Contract,
            status: WorkOrderStatus::OnSite,
            instructions: String::new(),
            template_id: Some(template.id),
            deadlines: ServicePolicy::standard(PolicyId::new()).deadlines(FaultLevel::Minor, reported_at),
            responded_at: Some(reported_at),
            arrived_at: Some(reported_at),
            completed_at: None,
            status_note: None,
            visit_version: 0,
        };
        Visit {
            work_order,
            template: Some(template),
            results: vec![],
            faults: vec![],
            parts: vec![],
            photos: vec![],
            sign_off: None,
            notes: vec![],
        }
    }

    fn answer(visit: &Visit, key: &str, answer: Answer, when: &str, supersedes: Option<ResultId>) -> InspectionResult {
        let assessment = visit.template.as_ref().unwrap().assess(key, &answer).unwrap();
        InspectionResult {
            id: ResultId::new(),
            work_order_id: visit.work_order.id,
            item_key: key.into(),
            answer,
            assessment,
            note: String::new(),
            recorded_at: at(when),
            hlc: Hlc::at(at(when).timestamp_millis()),
            supersedes,
        }
    }

    fn answer_everything(visit: &mut Visit) {
        let template = visit.template.clone().unwrap();
        for item in &template.items {
            let a = match &item.kind {
                ItemKind::Check => Answer::Check(CheckOutcome::Normal),
                ItemKind::Reading { min, .. } => Answer::Reading(min.unwrap_or(0.0)),
                ItemKind::Text => Answer::Text("ok".into()),
                ItemKind::Photo => Answer::PhotoAttached,
            };
            let result = answer(visit, &item.key, a, "2026-11-20T10:00:00+08:00", None);
            visit.results.push(result);
            if item.photo_required || matches!(item.kind, ItemKind::Photo) {
                visit.photos.push(Photo {
                    blob: BlobId::of_bytes(item.key.as_bytes()),
                    work_order_id: visit.work_order.id,
                    item_key: Some(item.key.clone()),
                    caption: String::new(),
                    taken_at: at("2026-11-20T10:00:00+08:00"),
                });
            }
        }
    }

    fn sign(visit: &mut Visit) {
        let draft = SignOffDraft {
            signer_name: "王经理".into(),
            opinion: "满意".into(),
            satisfaction: 5,
            signature: BlobId::of_bytes(b"signature"),
            strokes: None,
        };
        visit.sign_off =
            Some(SignOff::from_draft(visit.work_order.id, &draft, at("2026-11-20T11:00:00+08:00")).unwrap());
    }

    #[test]
    fn an_unanswered_required_item_blocks_completion() {
        let mut v = visit();
        answer_everything(&mut v);
        sign(&mut v);
        assert_eq!(v.missing_for_completion(), vec![]);
        let removed = v.results.remove(0);
        assert_eq!(v.missing_for_completion(), vec![Missing::RequiredItem { key: removed.item_key }]);
    }

    #[test]
    fn a_missing_photo_and_sign_off_block_completion() {
        let mut v = visit();
        answer_everything(&mut v);
        let photo = v.photos.remove(0);
        let missing = v.missing_for_completion();
        assert!(missing.contains(&Missing::PhotoForItem { key: photo.item_key.unwrap() }));
        assert!(missing.contains(&Missing::SignOff));
    }

    #[test]
    fn a_repair_needs_its_fault_record() {
        let mut v = visit();
        v.work_order.kind = WorkOrderKind::Repair;
        answer_everything(&mut v);
        sign(&mut v);
        assert_eq!(v.missing_for_completion(), vec![Missing::FaultRecord]);
        let draft = FaultDraft {
            symptom: "无图像".into(),
            cause: "电源老化".into(),
            action: "更换电源".into(),
            result: "恢复".into(),
            category: "power".into(),
            started_at: None,
            ended_at: None,
            loaner_provided_at: None,
            supersedes: None,
        };
        v.faults.push(FaultRecord::from_draft(v.work_order.id, &draft, at("2026-11-20T10:30:00+08:00")).unwrap());
        assert_eq!(v.missing_for_completion(), vec![]);
    }

    #[test]
    fn a_correction_supersedes_the_earlier_answer() {
        let mut v = visit();
        let key = "look.four_no_dust";
        let first = answer(&v, key, Answer::Check(CheckOutcome::Abnormal), "2026-11-20T10:00:00+08:00", None);
        let fix = answer(&v, key, Answer::Check(CheckOutcome::Normal), "2026-11-20T10:05:00+08:00", Some(first.id));
        v.results = vec![first, fix.clone()];
        assert_eq!(v.current_results()[key], &fix);
        assert_eq!(v.results.len(), 2, "the original stays on record");
    }

    #[test]
    fn the_later_clock_stamp_wins_whatever_the_wall_clocks_say() {
        let mut v = visit();
        let key = "look.four_no_dust";
        // Two devices of one technician answer offline; the second device's wall clock runs an
        // hour behind, but it had seen the first answer, so its stamp is later.
        let mut first = answer(&v, key, Answer::Check(CheckOutcome::Abnormal), "2026-11-20T11:00:00+08:00", None);
        first.hlc = Hlc::tick(None, first.recorded_at.timestamp_millis(), 1);
        let mut second = answer(&v, key, Answer::Check(CheckOutcome::Normal), "2026-11-20T10:00:00+08:00", None);
        let seen = Hlc::observe(None, first.hlc, second.recorded_at.timestamp_millis(), 2);
        second.hlc = Hlc::tick(Some(seen), second.recorded_at.timestamp_millis(), 2);
        v.results = vec![second.clone(), first.clone()];
        assert_eq!(v.current_results()[key], &second);
        v.results = vec![first, second.clone()];
        assert_eq!(v.current_results()[key], &second, "the order records arrive in does not matter");
    }

    #[test]
    fn a_completed_visit_refuses_new_records() {
        let mut v = visit();
        assert!(v.work_order.ensure_accepts_visit_records().is_ok());
        v.work_order.status = v.work_order.status.apply(StatusAction::Complete).unwrap();
        let err = v.work_order.ensure_accepts_visit_records().unwrap_err();
        assert!(matches!(err, crate::error::RuleViolation::VisitLocked(WorkOrderStatus::Completed)));
        v.work_order.status = WorkOrderStatus::Approved;
        assert!(v.work_order.ensure_accepts_visit_records().is_err());
    }

    #[test]
    fn the_content_hash_is_stable_and_sees_every_change() {
        let mut v = visit();
        answer_everything(&mut v);
        sign(&mut v);
        let hash = v.content_hash();
        assert_eq!(hash, v.clone().content_hash());
        assert_eq!(hash.len(), 64);
        let mut changed = v.clone();
        changed.sign_off.as_mut().unwrap().opinion.push('!');
        assert_ne!(changed.content_hash(), hash);
        let mut changed = v.clone();
        changed.photos[0].blob = BlobId::of_bytes(b"another photo");
        assert_ne!(changed.content_hash(), hash);
        let json = String::from_utf8(v.canonical_json()).unwrap();
        assert!(json.starts_with("{\"faults\":"), "keys are sorted: {}", &json[..40]);
        assert!(json.contains("王经理"), "text is kept as UTF-8, not escaped");
    }

    #[test]
    fn a_billing_reason_is_kept_with_its_part_trimmed_and_bounded() {
        let wo = WorkOrderId::new();
        let now = at("2026-11-20T10:00:00Z");
        let draft = PartDraft {
            part_number: "HK-PSU-12V".into(),
            name: "电源".into(),
            quantity: 1,
            serial: String::new(),
            billing: PartBilling::Paid { unit_price_cents: 8800 },
            old_part_returned: false,
            needs_customer_approval: false,
            supersedes: None,
            billing_reason: Some("  人为损坏,不在保修范围 ".into()),
        };
        let part = PartUsage::from_draft(wo, &draft, now).unwrap();
        assert_eq!(part.billing_reason.as_deref(), Some("人为损坏,不在保修范围"));
        let blank = PartDraft { billing_reason: Some("   ".into()), ..draft.clone() };
        assert_eq!(PartUsage::from_draft(wo, &blank, now).unwrap().billing_reason, None);
        let long = PartDraft { billing_reason: Some("长".repeat(501)), ..draft };
        assert!(PartUsage::from_draft(wo, &long, now).is_err());
        // A part recorded before the field existed reads as having none.
        let mut json = serde_json::to_value(&part).unwrap();
        json.as_object_mut().unwrap().remove("billing_reason");
        assert_eq!(serde_json::from_value::<PartUsage>(json).unwrap().billing_reason, None);
    }

    #[test]
    fn drafts_refuse_bad_input() {
        let wo = WorkOrderId::new();
        let now = at("2026-11-20T10:00:00Z");
        let part = PartDraft {
            part_number: "HK-PSU-12V".into(),
            name: "电源适配器".into(),
            quantity: 0,
            serial: String::new(),
            billing: PartBilling::Warranty,
            old_part_returned: true,
            needs_customer_approval: false,
            supersedes: None,
            billing_reason: None,
        };
        assert_eq!(PartUsage::from_draft(wo, &part, now), Err(InvalidInput::QuantityNotPositive(0)));
        let part = PartDraft { quantity: -2, ..part };
        assert_eq!(PartUsage::from_draft(wo, &part, now), Err(InvalidInput::QuantityNotPositive(-2)));
        let part = PartDraft { quantity: 1, billing: PartBilling::Paid { unit_price_cents: -1 }, ..part };
        assert_eq!(PartUsage::from_draft(wo, &part, now), Err(InvalidInput::NegativePrice(-1)));
        let part = PartDraft { billing: PartBilling::Paid { unit_price_cents: 8800 }, name: " ".into(), ..part };
        assert_eq!(PartUsage::from_draft(wo, &part, now), Err(InvalidInput::EmptyText { field: "part name" }));

        for bad in [0, 6, -1, 100] {
            let draft = SignOffDraft {
                signer_name: "Li".into(),
                opinion: String::new(),
                satisfaction: bad,
                signature: BlobId::of_bytes(b"s"),
                strokes: None,
            };
            let err = SignOff::from_draft(wo, &draft, now).unwrap_err();
            assert_eq!(err, InvalidInput::SatisfactionOutOfRange(bad));
            assert!(err.to_string().contains("1 to 5"));
        }

        let fault = FaultDraft {
            symptom: "无图像".into(),
            cause: String::new(),
            action: "更换电源".into(),
            result: String::new(),
            category: "power".into(),
            started_at: Some(at("2026-11-20T10:00:00Z")),
            ended_at: Some(at("2026-11-20T09:00:00Z")),
            loaner_provided_at: None,
            supersedes: None,
        };
        assert!(matches!(FaultRecord::from_draft(wo, &fault, now), Err(InvalidInput::EndBeforeStart { .. })));
    }

    #[test]
    fn satisfaction_deserialises_only_in_range() {
        assert!(serde_json::from_str::<Satisfaction>("3").is_ok());
        assert!(serde_json::from_str::<Satisfaction>("0").is_err());
        assert!(serde_json::from_str::<Satisfaction>("6").is_err());
    }
}
