//! Inspection checklists: templates of items grouped by the 听摸视嗅验 method, and the
//! validation of an answer against its item.

use serde::{Deserialize, Serialize};

use crate::error::{InvalidInput, RuleViolation};
use crate::ids::TemplateId;
use crate::text::Bilingual;
use crate::work_order::named_enum;

/// 听、摸、视、嗅、验: how an item is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 听: running sound.
    Listen,
    /// 摸: temperature, vibration, looseness.
    Touch,
    /// 视: visual.
    Look,
    /// 嗅: burning, odours.
    Smell,
    /// 验: measured with instruments.
    Test,
}
named_enum!(Method, "inspection method" { Listen = "listen", Touch = "touch", Look = "look", Smell = "smell", Test = "test" });

/// The standard an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    /// 四无: no dust, no debris, no looseness, no oil stains.
    FourNo,
    /// 六不漏: no leak of air, gas, ash, electricity, water, oil.
    SixNoLeak,
}

/// What kind of answer an item takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ItemKind {
    /// Normal / abnormal / not applicable.
    Check,
    /// A measured number; outside the limits it is abnormal.
    Reading { unit: String, min: Option<f64>, max: Option<f64> },
    /// Free text (e.g. a meter reading at start).
    Text,
    /// Only a photo answers it.
    Photo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    /// Stable key, unique in its template (e.g. `look.cabinet_seal`).
    pub key: String,
    pub method: Method,
    pub standard: Option<Standard>,
    pub label: Bilingual,
    pub kind: ItemKind,
    pub required: bool,
    /// A photo must be attached to this item before the visit can be completed.
    pub photo_required: bool,
}

/// A versioned checklist. A template in use is never edited: a change is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistTemplate {
    pub id: TemplateId,
    /// Stable code shared by all versions, e.g. `patrol.general`.
    pub code: String,
    pub version: u32,
    pub name: Bilingual,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Normal,
    Abnormal,
    NotApplicable,
}
named_enum!(CheckOutcome, "check outcome" { Normal = "normal", Abnormal = "abnormal", NotApplicable = "not_applicable" });

/// A technician's answer to one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Answer {
    Check(CheckOutcome),
    Reading(f64),
    Text(String),
    /// The item is answered by its attached photos.
    PhotoAttached,
}

impl Answer {
    fn kind_name(&self) -> &'static str {
        match self {
            Answer::Check(_) => "a normal / abnormal / n.a. check",
            Answer::Reading(_) => "a numeric reading",
            Answer::Text(_) => "text",
            Answer::PhotoAttached => "a photo",
        }
    }
}

/// How an answered item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Assessment {
    Normal,
    Abnormal,
    NotApplicable,
}
named_enum!(Assessment, "assessment" { Normal = "normal", Abnormal = "abnormal", NotApplicable = "not_applicable" });

impl ItemKind {
    fn expected_name(&self) -> &'static str {
        match self {
            ItemKind::Check => "a normal / abnormal / n.a. check",
            ItemKind::Reading { .. } => "a numeric reading",
            ItemKind::Text => "text",
            ItemKind::Photo => "a photo",
        }
    }
}

impl ChecklistTemplate {
    pub fn item(&self, key: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|item| item.key == key)
    }

    /// Checks an answer against its item and says whether it is normal. A reading outside the
    /// item's limits is abnormal, whatever the technician thought.
    pub fn assess(&self, key: &str, answer: &Answer) -> Result<Assessment, AnswerError> {
        let item = self.item(key).ok_or_else(|| RuleViolation::UnknownChecklistItem(key.to_owned()))?;
        let mismatch = || RuleViolation::AnswerKindMismatch {
            item: key.to_owned(),
            expected: item.kind.expected_name(),
            given: answer.kind_name(),
        };
        let assessment = match (&item.kind, answer) {
            (ItemKind::Check, Answer::Check(outcome)) => match outcome {
                CheckOutcome::Normal => Assessment::Normal,
                CheckOutcome::Abnormal => Assessment::Abnormal,
                CheckOutcome::NotApplicable => Assessment::NotApplicable,
            },
            (ItemKind::Reading { min, max, .. }, Answer::Reading(value)) => {
                if !value.is_finite() {
                    return Err(InvalidInput::NotANumber { field: "reading", value: value.to_string() }.into());
                }
                let below = min.is_some_and(|min| *value < min);
                let above = max.is_some_and(|max| *value > max);
                if below || above { Assessment::Abnormal } else { Assessment::Normal }
            }
            (ItemKind::Text, Answer::Text(text)) => {
                crate::text::required_text("answer", text, 2000)?;
                Assessment::Normal
            }
            (ItemKind::Photo, Answer::PhotoAttached) => Assessment::Normal,
            _ => return Err(mismatch().into()),
        };
        Ok(assessment)
    }

    /// Refuses a template that could not be answered consistently.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for item in &self.items {
            if !seen.insert(item.key.as_str()) {
                return Err(format!("item key '{}' appears twice in template '{}'", item.key, self.code));
            }
            if let ItemKind::Reading { min: Some(min), max: Some(max), .. } = item.kind
                && min > max
            {
                return Err(format!("item '{}' has min {min} above max {max}", item.key));
            }
        }
        Ok(())
    }
}

/// Either kind of refusal an answer can get.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates;

    fn general() -> ChecklistTemplate {
        templates::general_patrol()
    }

    #[test]
    fn a_reading_out_of_limits_is_abnormal() {
        let t = general();
        // test.cabinet_temp: 0..=45 °C
        assert_eq!(t.assess("test.cabinet_temp", &Answer::Reading(30.0)), Ok(Assessment::Normal));
        assert_eq!(t.assess("test.cabinet_temp", &Answer::Reading(45.0)), Ok(Assessment::Normal));
        assert_eq!(t.assess("test.cabinet_temp", &Answer::Reading(58.5)), Ok(Assessment::Abnormal));
        assert_eq!(t.assess("test.cabinet_temp", &Answer::Reading(-3.0)), Ok(Assessment::Abnormal));
        assert!(matches!(
            t.assess("test.cabinet_temp", &Answer::Reading(f64::NAN)),
            Err(AnswerError::Invalid(InvalidInput::NotANumber { .. }))
        ));
    }

    #[test]
    fn answers_to_unknown_items_or_of_the_wrong_kind_are_refused() {
        let t = general();
        let err = t.assess("look.no_such_item", &Answer::Check(CheckOutcome::Normal)).unwrap_err();
        assert_eq!(err, AnswerError::Rule(RuleViolation::UnknownChecklistItem("look.no_such_item".into())));
        let err = t.assess("test.cabinet_temp", &Answer::Check(CheckOutcome::Normal)).unwrap_err();
        assert!(err.to_string().contains("numeric reading"), "{err}");
    }

    #[test]
    fn check_outcomes_map_to_assessments() {
        let t = general();
        let key = "look.four_no_dust";
        assert_eq!(t.assess(key, &Answer::Check(CheckOutcome::Abnormal)), Ok(Assessment::Abnormal));
        assert_eq!(t.assess(key, &Answer::Check(CheckOutcome::NotApplicable)), Ok(Assessment::NotApplicable));
    }

    #[test]
    fn blank_text_answers_are_refused() {
        let t = general();
        assert!(t.assess("test.meter_start", &Answer::Text("  ".into())).is_err());
        assert_eq!(t.assess("test.meter_start", &Answer::Text("12345.6 kWh".into())), Ok(Assessment::Normal));
    }
}
