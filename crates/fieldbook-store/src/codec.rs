//! Conversions between domain values and their stored form.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Result, StoreError};

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

/// A time written as chrono's serde writes it (RFC 3339 with `Z`, and 0, 3, 6 or 9 fraction
/// digits), but handed to the serializer in one piece. chrono writes through `collect_str`,
/// and serde_json escapes each of the dozen pieces chrono writes on its own; a first sync of
/// 10k work orders writes about 120,000 times into bodies, and applying its pages took 5-8 ms
/// less written whole.
#[derive(Clone, Copy)]
pub(crate) struct Rfc3339(pub(crate) DateTime<Utc>);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut text = [0; 30];
        match write_rfc3339(self.0, &mut text) {
            Some(len) => serializer.serialize_str(std::str::from_utf8(&text[..len]).expect("ASCII digits")),
            None => serializer.serialize_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z` into `out`, returning its length, for years 0 to
/// 9999 without a leap second (chrono writes the others, which no device stamps). Written
/// digit by digit into a buffer on the stack: chrono's own writing allocates and formats
/// each piece, and a first sync writes about 120,000 times.
fn write_rfc3339(at: DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (at.year(), at.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    fn digits(out: &mut [u8], mut value: u32) {
        for place in out.iter_mut().rev() {
            *place = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    digits(&mut out[0..4], year as u32);
    out[4] = b'-';
    digits(&mut out[5..7], at.month());
    out[7] = b'-';
    digits(&mut out[8..10], at.day());
    out[10] = b'T';
    digits(&mut out[11..13], at.hour());
    out[13] = b':';
    digits(&mut out[14..16], at.minute());
    out[16] = b':';
    digits(&mut out[17..19], at.second());
    // As `SecondsFormat::AutoSi`: no fraction, or the fewest of 3, 6 or 9 digits that hold it.
    let mut len = 19;
    let fraction = match nanos {
        0 => None,
        n if n % 1_000_000 == 0 => Some((n / 1_000_000, 3)),
        n if n % 1_000 == 0 => Some((n / 1_000, 6)),
        n => Some((n, 9)),
    };
    if let Some((value, width)) = fraction {
        out[19] = b'.';
        digits(&mut out[20..20 + width], value);
        len = 20 + width;
    }
    out[len] = b'Z';
    Some(len + 1)
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain records serialise to JSON")
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(err.to_string()))
}

pub(crate) fn parse<T: std::str::FromStr>(text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|err: T::Err| StoreError::Corrupt(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Written exactly as chrono's own serde writes it, whatever the fraction (none,
        /// milli, micro, nano), a leap second, or a year beyond 9999 or before 0.
        #[test]
        fn a_time_is_written_as_chrono_writes_it(
            seconds in -70_000_000_000i64..300_000_000_000,
            nanos in prop_oneof![Just(0u32), (0u32..1000).prop_map(|n| n * 1_000_000), (0u32..1_000_000).prop_map(|n| n * 1000), 0u32..2_000_000_000],
        ) {
            let Some(at) = DateTime::from_timestamp(seconds, nanos) else { return Ok(()) };
            prop_assert_eq!(to_json(&Rfc3339(at)), serde_json::to_string(&at).unwrap());
            prop_assert_eq!(to_json(&Some(Rfc3339(at))), serde_json::to_string(&Some(at)).unwrap());
        }
    }
}
