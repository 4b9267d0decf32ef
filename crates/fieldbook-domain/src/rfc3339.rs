//! Reading times from JSON quickly. A server answering a first sync of 10,000 work orders
//! reads about 120,000 stored times; chrono's own reader (which takes every RFC 3339 variant)
//! was a seventh of that work. [`utc`] and [`utc_option`] read the one form Fieldbook writes,
//! `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, directly, and hand anything else to chrono, so they
//! accept exactly what chrono's `Deserialize` accepts and read it to the same time.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserializer;
use serde::de::{Error, Visitor};

/// As chrono's `Deserialize for DateTime<Utc>`: an RFC 3339 text, in any offset.
pub fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match written(text.as_bytes()) {
        Some(at) => Ok(at),
        None => text.parse::<DateTime<FixedOffset>>().map(|at| at.with_timezone(&Utc)),
    }
}

/// The form Fieldbook (and chrono's `Serialize`) writes, or `None` for anything else.
fn written(text: &[u8]) -> Option<DateTime<Utc>> {
    fn number(digits: &[u8]) -> Option<u32> {
        digits.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    }
    if text.len() < 20 || text[4] != b'-' || text[7] != b'-' || text[10] != b'T' || text[13] != b':' || text[16] != b':'
    {
        return None;
    }
    let (last, rest) = text[19..].split_last()?;
    if *last != b'Z' {
        return None;
    }
    let nanos = match rest {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let (hour, minute, second) = (number(&text[11..13])?, number(&text[14..16])?, number(&text[17..19])?);
    // A leap second (60) is left to chrono.
    if second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(number(&text[0..4])? as i32, number(&text[5..7])?, number(&text[8..10])?)?;
    Some(date.and_hms_nano_opt(hour, minute, second, nanos)?.and_utc())
}

struct Text;

impl Visitor<'_> for Text {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<DateTime<Utc>, E> {
        parse(text).map_err(E::custom)
    }
}

/// `#[serde(deserialize_with = "crate::rfc3339::utc")]`
pub fn utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Text)
}

/// `#[serde(default, deserialize_with = "crate::rfc3339::utc_option")]` (`default`: an absent
/// field is `None`, as for any `Option` field).
pub fn utc_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Maybe;
    impl<'de> Visitor<'de> for Maybe {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string or null")
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            utc(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(Maybe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono_reads(json: &str) -> Option<DateTime<Utc>> {
        serde_json::from_str::<DateTime<Utc>>(json).ok()
    }

    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(deserialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "utc_option")]
        maybe: Option<DateTime<Utc>>,
    }

    fn ours(json: &str) -> Option<DateTime<Utc>> {
        serde_json::from_str::<Fields>(&format!(r#"{{"at": {json}, "maybe": {json}}}"#)).ok().map(|f| {
            assert_eq!(f.maybe, Some(f.at));
            f.at
        })
    }

    proptest! {
        /// Every time chrono writes reads back the same through the fast path.
        #[test]
        fn what_chrono_writes_reads_back(
            seconds in -70_000_000_000i64..300_000_000_000,
            nanos in prop_oneof![Just(0u32), (0u32..1000).prop_map(|n| n * 1_000_000), (0u32..1_000_000).prop_map(|n| n * 1000), 0u32..2_000_000_000],
        ) {
            let Some(at) = DateTime::from_timestamp(seconds, nanos) else { return Ok(()) };
            let json = serde_json::to_string(&at).unwrap();
            prop_assert_eq!(ours(&json), Some(at));
        }

        /// Near-misses of the written form (other offsets, lower case, a space, short or long
        /// fractions, out-of-range fields, stray characters) are read exactly as chrono reads
        /// them, or refused as chrono refuses them.
        #[test]
        fn anything_else_is_read_as_chrono_reads_it(
            year in prop_oneof![Just("2026".to_owned()), "[0-9]{4}", "[0-9+-]{1,6}"],
            month in prop_oneof![Just("12".to_owned()), "[0-9]{1,3}"],
            day in prop_oneof![Just("07".to_owned()), "[0-9]{1,3}"],
            t in prop_oneof![Just("T"), Just("t"), Just(" "), Just("_")],
            hms in prop_oneof![Just("10:42:12".to_owned()), "[0-9]{2}:[0-9]{2}:[0-9]{2}", "[0-9:]{6,9}"],
            fraction in prop_oneof![Just(String::new()), "\\.[0-9]{1,12}", "\\.", "[.,][0-9a-z]{1,3}"],
            zone in prop_oneof![Just("Z"), Just("z"), Just("+08:00"), Just("-00:30"), Just(""), Just("+0800"), Just("ZZ")],
        ) {
            let json = format!("\"{year}-{month}-{day}{t}{hms}{fraction}{zone}\"");
            prop_assert_eq!(ours(&json), chrono_reads(&json), "{}", json);
        }
    }

    #[test]
    fn null_and_absent_are_none_and_a_number_is_refused() {
        let f: Fields = serde_json::from_str(r#"{"at": "2026-12-07T10:42:12Z", "maybe": null}"#).unwrap();
        assert_eq!(f.maybe, None);
        let f: Fields = serde_json::from_str(r#"{"at": "2026-12-07T10:42:12.5Z"}"#).unwrap();
        assert_eq!(f.maybe, None);
        assert_eq!(f.at, chrono_reads(r#""2026-12-07T10:42:12.500Z""#).unwrap());
        assert!(serde_json::from_str::<Fields>(r#"{"at": 1765104132}"#).is_err());
        assert!(serde_json::from_str::<Fields>(r#"{"at": "2026-02-30T10:42:12Z"}"#).is_err());
    }
}
