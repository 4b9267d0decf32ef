//! Hybrid logical clock stamps. Every change a device makes carries one; they order one
//! technician's changes across devices for the audit trail and break ties between answers to
//! the same checklist item, so a device whose wall clock runs fast or slow never decides a
//! winner on its own: a stamp is always later than every stamp its device has seen.
//!
//! A stamp is (wall milliseconds, counter, node). It prints as fixed-width lowercase hex,
//! `wwwwwwwwwwww-cccccccc-nnnnnnnnnnnnnnnn`, so the text sorts the way the stamps do (in SQL
//! too).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::InvalidInput;

/// How far ahead of the local wall clock a remote stamp may pull this clock. A stamp from
/// further ahead is stored as it is but not followed, so one device with a wildly wrong clock
/// cannot drag every other device's stamps into the future.
pub const MAX_FORWARD_DRIFT_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    pub millis: i64,
    pub counter: u32,
    pub node: u64,
}

impl Hlc {
    /// A stamp for a new local change, later than `last` (this device's previous stamp).
    pub fn tick(last: Option<Hlc>, now_millis: i64, node: u64) -> Hlc {
        match last {
            Some(last) if last.millis >= now_millis => {
                Hlc { millis: last.millis, counter: last.counter.saturating_add(1), node }
            }
            _ => Hlc { millis: now_millis, counter: 0, node },
        }
    }

    /// The device's clock after it has seen `remote`: the latest of its last stamp, the wall
    /// clock and `remote` (unless `remote` lies more than [`MAX_FORWARD_DRIFT_MS`] ahead of the
    /// wall clock, which is then ignored). The next [`Hlc::tick`] is later than all three.
    pub fn observe(last: Option<Hlc>, remote: Hlc, now_millis: i64, node: u64) -> Hlc {
        let wall = Hlc { millis: now_millis, counter: 0, node };
        let seen = last.map_or(wall, |last| last.max(wall));
        if remote.millis > now_millis.saturating_add(MAX_FORWARD_DRIFT_MS) {
            return seen;
        }
        seen.max(Hlc { node, ..remote })
    }

    /// A stamp for a record made before stamps existed, or on a server, at `millis`.
    pub fn at(millis: i64) -> Hlc {
        Hlc { millis, counter: 0, node: 0 }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Negative wall times cannot occur after 1970; clamp so the text stays fixed-width.
        write!(f, "{:012x}-{:08x}-{:016x}", self.millis.max(0), self.counter, self.node)
    }
}

impl FromStr for Hlc {
    type Err = InvalidInput;

    fn from_str(text: &str) -> Result<Hlc, InvalidInput> {
        let bad = || InvalidInput::MalformedId { what: "clock stamp", value: text.chars().take(60).collect() };
        let mut parts = text.split('-');
        let (Some(m), Some(c), Some(n), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if m.len() != 12 || c.len() != 8 || n.len() != 16 {
            return Err(bad());
        }
        Ok(Hlc {
            millis: i64::from_str_radix(m, 16).map_err(|_| bad())?,
            counter: u32::from_str_radix(c, 16).map_err(|_| bad())?,
            node: u64::from_str_radix(n, 16).map_err(|_| bad())?,
        })
    }
}

impl Hlc {
    /// The text form written straight into a buffer (a first sync writes tens of thousands of
    /// stamps; the formatting machinery took a few percent of it), or `None` when the wall
    /// time outgrows its twelve digits (after the year 10889), which `Display` then prints.
    fn fixed_text(&self) -> Option<[u8; 38]> {
        fn hex(out: &mut [u8], mut value: u64) {
            for digit in out.iter_mut().rev() {
                *digit = b"0123456789abcdef"[(value & 15) as usize];
                value >>= 4;
            }
        }
        let millis = self.millis.max(0) as u64;
        if millis >> 48 != 0 {
            return None;
        }
        let mut text = [b'-'; 38];
        hex(&mut text[..12], millis);
        hex(&mut text[13..21], u64::from(self.counter));
        hex(&mut text[22..], self.node);
        Some(text)
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.fixed_text() {
            Some(text) => serializer.serialize_str(std::str::from_utf8(&text).expect("hex digits and dashes")),
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hlc, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Hlc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a clock stamp")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Hlc, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_form_is_the_display_form() {
        let stamps = [
            Hlc::default(),
            Hlc { millis: 1_764_560_000_123, counter: 7, node: 0x0123_4567_89ab_cdef },
            Hlc { millis: -5, counter: u32::MAX, node: u64::MAX },
            Hlc { millis: (1 << 48) - 1, counter: 1, node: 1 },
            Hlc { millis: 1 << 48, counter: 1, node: 1 },
            Hlc { millis: i64::MAX, counter: 0, node: 0 },
        ];
        for stamp in stamps {
            let json = serde_json::to_string(&stamp).unwrap();
            assert_eq!(json, format!("\"{stamp}\""));
            // Stamps past the twelve digits never read back (as before); the rest do.
            if stamp.millis < 1 << 48 {
                let back: Hlc = serde_json::from_str(&json).unwrap();
                assert_eq!(back, Hlc { millis: stamp.millis.max(0), ..stamp });
            }
        }
        assert!(serde_json::from_str::<Hlc>("\"0-0\"").is_err());
        assert!(serde_json::from_str::<Hlc>("17").is_err());
    }

    #[test]
    fn ticks_move_forward_even_when_the_wall_clock_goes_back() {
        let a = Hlc::tick(None, 1_000, 7);
        let b = Hlc::tick(Some(a), 900, 7);
        let c = Hlc::tick(Some(b), 900, 7);
        let d = Hlc::tick(Some(c), 2_000, 7);
        assert!(a < b && b < c && c < d);
        assert_eq!((b.millis, b.counter), (1_000, 1));
        assert_eq!((d.millis, d.counter), (2_000, 0));
    }

    #[test]
    fn observing_a_later_stamp_makes_the_next_local_stamp_later_still() {
        // Device B's wall clock is ten minutes behind device A's.
        let from_a = Hlc::tick(None, 600_000, 1);
        let seen = Hlc::observe(None, from_a, 0, 2);
        let next_on_b = Hlc::tick(Some(seen), 1_000, 2);
        assert!(next_on_b > from_a, "B's correction must win over A's earlier answer");
    }

    #[test]
    fn a_stamp_from_far_in_the_future_is_not_followed() {
        let wild = Hlc::at(10 * MAX_FORWARD_DRIFT_MS);
        let seen = Hlc::observe(None, wild, 1_000, 3);
        assert_eq!(seen, Hlc { millis: 1_000, counter: 0, node: 3 });
    }

    #[test]
    fn text_sorts_like_the_stamps_and_round_trips() {
        let stamps = [
            Hlc::at(5),
            Hlc { millis: 5, counter: 1, node: 0 },
            Hlc { millis: 5, counter: 1, node: 9 },
            Hlc::at(1 << 40),
        ];
        let mut texts: Vec<String> = stamps.iter().map(Hlc::to_string).collect();
        let sorted = texts.clone();
        texts.sort();
        assert_eq!(texts, sorted);
        for stamp in stamps {
            assert_eq!(stamp.to_string().parse::<Hlc>().unwrap(), stamp);
            let json = serde_json::to_string(&stamp).unwrap();
            assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap(), stamp);
        }
        assert!("0-0-0".parse::<Hlc>().is_err());
        assert!("zzzzzzzzzzzz-00000000-0000000000000000".parse::<Hlc>().is_err());
    }
}
