//! Service-level policies (per customer contract) and the deadlines they set on a work order.
//!
//! Deadlines are computed once, from the report time, when the work order is recorded, and
//! stored with it: a later change of contract does not move the goalposts of work in progress.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::ids::PolicyId;
use crate::text::Bilingual;
use crate::work_order::FaultLevel;

/// Time comes from outside the domain, so every rule can be tested at any instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that always says the same time (tests, replays, benchmarks).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// How long a promise allows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Allowance {
    /// A fixed number of minutes after the report, day or night.
    Minutes { minutes: u32 },
    /// By a local hour on the next working day (Monday to Friday) after the report.
    NextWorkingDay { by_hour: u8 },
}

/// The promises for one fault level.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPromise {
    /// 接报响应: acknowledge the report.
    pub respond: Allowance,
    /// Engineer on site.
    pub arrive: Allowance,
    /// Fault resolved.
    pub resolve: Allowance,
    /// 备机: a loaner unit in place if not resolved.
    pub loaner: Option<Allowance>,
}

/// A contract's service-level policy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePolicy {
    pub id: PolicyId,
    pub name: Bilingual,
    /// The customer's local offset from UTC in minutes (China: +480); working days and local
    /// hours are counted in it.
    pub utc_offset_minutes: i32,
    pub critical: LevelPromise,
    pub major: LevelPromise,
    pub minor: LevelPromise,
}

/// The deadlines of one work order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadlines {
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub respond_by: DateTime<Utc>,
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub arrive_by: DateTime<Utc>,
    #[serde(deserialize_with = "crate::rfc3339::utc")]
    pub resolve_by: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::rfc3339::utc_option")]
    pub loaner_by: Option<DateTime<Utc>>,
}

impl ServicePolicy {
    /// The promises most contracts in the sources make: respond within 30 min / 1 h, on site
    /// within 2 h (critical), 4 h (major) or the next working day (minor); resolve critical
    /// within 4 h with a loaner unit within 8 h.
    pub fn standard(id: PolicyId) -> Self {
        let minutes = |minutes| Allowance::Minutes { minutes };
        ServicePolicy {
            id,
            name: Bilingual::new("标准服务协议", "Standard service agreement"),
            utc_offset_minutes: 8 * 60,
            critical: LevelPromise {
                respond: minutes(30),
                arrive: minutes(120),
                resolve: minutes(240),
                loaner: Some(minutes(480)),
            },
            major: LevelPromise { respond: minutes(60), arrive: minutes(240), resolve: minutes(24 * 60), loaner: None },
            minor: LevelPromise {
                respond: minutes(60),
                arrive: Allowance::NextWorkingDay { by_hour: 18 },
                resolve: minutes(3 * 24 * 60),
                loaner: None,
            },
        }
    }

    pub fn promise(&self, level: FaultLevel) -> &LevelPromise {
        match level {
            FaultLevel::Critical => &self.critical,
            FaultLevel::Major => &self.major,
            FaultLevel::Minor => &self.minor,
        }
    }

    /// The deadlines of a work order of this level reported at `reported_at`.
    pub fn deadlines(&self, level: FaultLevel, reported_at: DateTime<Utc>) -> Deadlines {
        let promise = self.promise(level);
        let due = |allowance| self.due(allowance, reported_at);
        Deadlines {
            respond_by: due(promise.respond),
            arrive_by: due(promise.arrive),
            resolve_by: due(promise.resolve),
            loaner_by: promise.loaner.map(due),
        }
    }

    fn due(&self, allowance: Allowance, reported_at: DateTime<Utc>) -> DateTime<Utc> {
        match allowance {
            Allowance::Minutes { minutes } => reported_at + Duration::minutes(i64::from(minutes)),
            Allowance::NextWorkingDay { by_hour } => {
                let zone = FixedOffset::east_opt(self.utc_offset_minutes * 60)
                    .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"));
                let mut day = reported_at.with_timezone(&zone).date_naive();
                loop {
                    day = day.succ_opt().expect("dates this far out are not reached");
                    if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                        break;
                    }
                }
                let time =
                    NaiveTime::from_hms_opt(u32::from(by_hour.min(23)), 0, 0).expect("hour is clamped to 0..=23");
                zone.from_local_datetime(&day.and_time(time))
                    .single()
                    .expect("a fixed offset has no gaps or folds")
                    .with_timezone(&Utc)
            }
        }
    }
}

/// How a deadline stands at some instant, for the list's colours and countdowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum DeadlineState {
    /// Done in time.
    Met,
    /// Done, but after the deadline.
    MetLate {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        late_by_seconds: i64,
    },
    /// Not done, plenty of time.
    OnTrack {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seconds_left: i64,
    },
    /// Not done, less than a quarter of the allowed time left (amber).
    DueSoon {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        seconds_left: i64,
    },
    /// Not done and past the deadline (red).
    Breached {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        overdue_by_seconds: i64,
    },
}

impl DeadlineState {
    /// `window_start` is when the clock started (the report time), so "soon" scales with the
    /// promise: 7 minutes left of 30 is amber, 7 minutes left of a day is amber too.
    pub fn assess(
        due: DateTime<Utc>,
        done_at: Option<DateTime<Utc>>,
        window_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DeadlineState {
        if let Some(done) = done_at {
            let late = (done - due).num_seconds();
            return if late > 0 { DeadlineState::MetLate { late_by_seconds: late } } else { DeadlineState::Met };
        }
        let left = (due - now).num_seconds();
        if left < 0 {
            return DeadlineState::Breached { overdue_by_seconds: -left };
        }
        let window = (due - window_start).num_seconds().max(1);
        if left * 4 < window {
            DeadlineState::DueSoon { seconds_left: left }
        } else {
            DeadlineState::OnTrack { seconds_left: left }
        }
    }

    pub fn is_breach(self) -> bool {
        matches!(self, DeadlineState::Breached { .. } | DeadlineState::MetLate { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn policy() -> ServicePolicy {
        ServicePolicy::standard(PolicyId::new())
    }

    #[test]
    fn critical_deadlines_count_minutes_from_the_report() {
        let d = policy().deadlines(FaultLevel::Critical, at("2026-11-20T10:00:00+08:00"));
        assert_eq!(d.respond_by, at("2026-11-20T10:30:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-20T12:00:00+08:00"));
        assert_eq!(d.resolve_by, at("2026-11-20T14:00:00+08:00"));
        assert_eq!(d.loaner_by, Some(at("2026-11-20T18:00:00+08:00")));
    }

    #[test]
    fn major_deadlines_and_no_loaner() {
        let d = policy().deadlines(FaultLevel::Major, at("2026-11-20T10:00:00+08:00"));
        assert_eq!(d.respond_by, at("2026-11-20T11:00:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-20T14:00:00+08:00"));
        assert_eq!(d.resolve_by, at("2026-11-21T10:00:00+08:00"));
        assert_eq!(d.loaner_by, None);
    }

    #[test]
    fn critical_report_late_at_night_crosses_midnight() {
        let d = policy().deadlines(FaultLevel::Critical, at("2026-11-20T23:15:00+08:00"));
        assert_eq!(d.respond_by, at("2026-11-20T23:45:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-21T01:15:00+08:00"));
        assert_eq!(d.resolve_by, at("2026-11-21T03:15:00+08:00"));
    }

    #[test]
    fn minor_arrival_is_next_working_day_in_the_customers_zone() {
        // Friday 23:30 in Beijing is still Friday 15:30 UTC; the next working day is Monday.
        let d = policy().deadlines(FaultLevel::Minor, at("2026-11-20T23:30:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-23T18:00:00+08:00"));
        // Just after local midnight on Saturday: still Monday.
        let d = policy().deadlines(FaultLevel::Minor, at("2026-11-21T00:10:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-23T18:00:00+08:00"));
        // Tuesday morning: Wednesday.
        let d = policy().deadlines(FaultLevel::Minor, at("2026-11-24T09:00:00+08:00"));
        assert_eq!(d.arrive_by, at("2026-11-25T18:00:00+08:00"));
    }

    #[test]
    fn a_policy_of_three_hours_for_everything() {
        let three_hours = LevelPromise {
            respond: Allowance::Minutes { minutes: 60 },
            arrive: Allowance::Minutes { minutes: 180 },
            resolve: Allowance::Minutes { minutes: 480 },
            loaner: None,
        };
        let policy = ServicePolicy { critical: three_hours, major: three_hours, minor: three_hours, ..policy() };
        let reported = at("2026-11-20T16:00:00Z");
        for &level in FaultLevel::ALL {
            assert_eq!(policy.deadlines(level, reported).arrive_by, at("2026-11-20T19:00:00Z"));
        }
    }

    #[test]
    fn a_report_time_in_the_past_is_already_breached() {
        let reported = at("2026-11-01T08:00:00Z");
        let d = policy().deadlines(FaultLevel::Critical, reported);
        let now = at("2026-11-20T08:00:00Z");
        let state = DeadlineState::assess(d.arrive_by, None, reported, now);
        assert_eq!(state, DeadlineState::Breached { overdue_by_seconds: (now - d.arrive_by).num_seconds() });
        assert!(state.is_breach());
    }

    #[test]
    fn deadline_states_over_time() {
        let reported = at("2026-11-20T10:00:00Z");
        let due = at("2026-11-20T12:00:00Z");
        let assess = |now, done| DeadlineState::assess(due, done, reported, at(now));
        assert_eq!(assess("2026-11-20T10:30:00Z", None), DeadlineState::OnTrack { seconds_left: 5400 });
        assert_eq!(assess("2026-11-20T11:40:00Z", None), DeadlineState::DueSoon { seconds_left: 1200 });
        assert_eq!(assess("2026-11-20T12:00:01Z", None), DeadlineState::Breached { overdue_by_seconds: 1 });
        assert_eq!(assess("2026-11-20T13:00:00Z", Some(at("2026-11-20T11:00:00Z"))), DeadlineState::Met);
        assert_eq!(
            assess("2026-11-20T13:00:00Z", Some(at("2026-11-20T12:10:00Z"))),
            DeadlineState::MetLate { late_by_seconds: 600 }
        );
    }
}
