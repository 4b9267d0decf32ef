//! Text that Fieldbook itself supplies (template items, policy names) in both languages it speaks.

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// A string in zh-CN and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: zh.into(), en: en.into() }
    }
}

/// Trims user text and refuses it when empty or too long.
pub fn required_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, InvalidInput> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(InvalidInput::EmptyText { field });
    }
    optional_text(field, trimmed, max_chars)
}

/// Trims user text that may be empty, refusing it only when too long.
pub fn optional_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, InvalidInput> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len > max_chars {
        return Err(InvalidInput::TextTooLong { field, len, max: max_chars });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_refused_when_blank() {
        assert_eq!(required_text("symptom", "  无图像 ", 100).unwrap(), "无图像");
        assert_eq!(required_text("symptom", " \t\n", 100), Err(InvalidInput::EmptyText { field: "symptom" }));
        assert!(matches!(
            required_text("symptom", &"长".repeat(101), 100),
            Err(InvalidInput::TextTooLong { len: 101, .. })
        ));
    }
}
