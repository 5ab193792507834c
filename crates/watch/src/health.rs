//! Is a source quiet? By its configured cadence (`quiet_after`, counted in
//! its active hours only) or, without one, by its learned baseline: the
//! median of its accepted webhooks in the same hour of the week over the
//! last weeks, summed over the silence into the number of webhooks that
//! "should" have arrived since the last one.

use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveDate, TimeZone, Timelike, Utc};
use hookgate_config::{ActiveHours, SourceWatch, WatchSettings};
use serde::Serialize;
use std::collections::HashMap;

/// Hours in a week.
pub const WEEK_HOURS: usize = 168;

/// What is known about one source.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    /// The last accepted webhook (new or duplicate).
    pub last_accepted: Option<DateTime<Utc>>,
    /// The first hour the rollup has any traffic of the source in.
    pub first_seen: Option<DateTime<Utc>>,
    /// Accepted webhooks per hour (start of the hour), as far back as kept.
    pub hourly_accepted: HashMap<DateTime<Utc>, i64>,
}

/// How a source's silence is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judge {
    /// By its `quiet_after`.
    Cadence,
    /// By its learned baseline.
    Baseline,
    /// Not yet: its baseline needs more history.
    Learning,
    /// Not now: outside its active hours.
    OutsideHours,
}

/// A source's silence, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Silence {
    /// Quiet now.
    pub quiet: bool,
    /// How it was judged.
    pub judged_by: Judge,
    /// Seconds since the last accepted webhook (since `since` when none).
    pub seconds_since_accepted: f64,
    /// Webhooks the baseline expected since the last one (baseline only).
    pub expected: Option<f64>,
    /// The rule, in words ("quiet after 15m of active hours").
    pub rule: String,
}

/// Judges the silence of a source at `now`. `since` stands for the last
/// accepted webhook when there never was one (the process start).
pub fn judge(
    watch: &SourceWatch,
    facts: &SourceFacts,
    settings: &WatchSettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Silence {
    let last = facts.last_accepted.unwrap_or(since).min(now);
    let seconds_since_accepted = (now - last).num_milliseconds().max(0) as f64 / 1000.0;
    if let Some(hours) = &watch.active_hours {
        if !hours.contains(now) {
            return Silence {
                quiet: false,
                judged_by: Judge::OutsideHours,
                seconds_since_accepted,
                expected: None,
                rule: hours.describe(),
            };
        }
    }
    if let Some(after) = watch.quiet_after {
        let silent = match &watch.active_hours {
            Some(hours) => hours.active_seconds(last, now),
            None => seconds_since_accepted,
        };
        let after_secs = after.as_secs_f64();
        let mut rule = format!("quiet after {}", words(after.as_secs()));
        if let Some(hours) = &watch.active_hours {
            rule.push_str(&format!(" within {}", hours.describe()));
        }
        return Silence {
            quiet: silent >= after_secs,
            judged_by: Judge::Cadence,
            seconds_since_accepted,
            expected: None,
            rule,
        };
    }
    let history = Duration::days(i64::from(settings.baseline_min_history_days));
    let learning = facts.first_seen.is_none_or(|first| now - first < history);
    if learning {
        return Silence {
            quiet: false,
            judged_by: Judge::Learning,
            seconds_since_accepted,
            expected: None,
            rule: format!(
                "learning: the baseline judges after {} days of history",
                settings.baseline_min_history_days
            ),
        };
    }
    let rates = baseline(facts, settings.baseline_weeks, now);
    let expected = expected_between(&rates, last, now);
    Silence {
        quiet: expected >= settings.baseline_expected,
        judged_by: Judge::Baseline,
        seconds_since_accepted,
        expected: Some(expected),
        rule: format!(
            "quiet when the baseline ({}-week median per hour of the week) expected {} or more since the last",
            settings.baseline_weeks, settings.baseline_expected
        ),
    }
}

/// The hour of the week (0 = Monday 00:00 UTC) an instant falls in.
pub fn hour_of_week(t: DateTime<Utc>) -> usize {
    t.weekday().num_days_from_monday() as usize * 24 + t.hour() as usize
}

fn hour_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Per hour of the week, the median of the source's accepted webhooks in
/// that hour over the last `weeks` weeks (the hours before its first
/// traffic are not counted; an hour of the rollup with no row is 0).
pub fn baseline(facts: &SourceFacts, weeks: u32, now: DateTime<Utc>) -> [f64; WEEK_HOURS] {
    let mut samples: Vec<Vec<i64>> = vec![Vec::new(); WEEK_HOURS];
    let current = hour_start(now);
    let first = facts.first_seen.map(hour_start);
    for back in 1..=(weeks as i64 * WEEK_HOURS as i64) {
        let hour = current - Duration::hours(back);
        if first.is_some_and(|f| hour < f) {
            continue;
        }
        let count = facts.hourly_accepted.get(&hour).copied().unwrap_or(0);
        samples[hour_of_week(hour)].push(count);
    }
    let mut rates = [0.0; WEEK_HOURS];
    for (rate, mut s) in rates.iter_mut().zip(samples) {
        if s.is_empty() {
            continue;
        }
        s.sort_unstable();
        let n = s.len();
        *rate = if n % 2 == 1 {
            s[n / 2] as f64
        } else {
            (s[n / 2 - 1] + s[n / 2]) as f64 / 2.0
        };
    }
    rates
}

/// Webhooks the rates expect in `(from, to]`, partial hours pro rata.
/// Looks back at most five weeks.
pub fn expected_between(rates: &[f64; WEEK_HOURS], from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let from = from.max(to - Duration::weeks(5));
    let mut total = 0.0;
    let mut hour = hour_start(from);
    while hour < to {
        let next = hour + Duration::hours(1);
        let start = from.max(hour);
        let end = to.min(next);
        if end > start {
            let fraction = (end - start).num_milliseconds() as f64 / 3_600_000.0;
            total += rates[hour_of_week(hour)] * fraction;
        }
        hour = next;
    }
    total
}

/// A number of seconds in words: 900 → "15m", 5400 → "1h30m".
pub fn words(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// Active hours as arithmetic on instants.
trait Spans {
    fn contains(&self, t: DateTime<Utc>) -> bool;
    fn active_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64;
    fn describe(&self) -> String;
}

impl Spans for ActiveHours {
    fn contains(&self, t: DateTime<Utc>) -> bool {
        self.active_seconds(t - Duration::seconds(1), t) > 0.0
    }

    /// Seconds of `(from, to]` inside the active spans (at most 60 days back).
    fn active_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let from = from.max(to - Duration::days(60));
        if to <= from {
            return 0.0;
        }
        let tz = self.time_zone;
        // A span starting the day before `from` may still be open (overnight).
        let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
        let last = to.with_timezone(&tz).date_naive();
        let mut total = 0.0;
        let mut day = first;
        while day <= last {
            if self.days.contains(&day.weekday()) {
                if let Some((start, end)) = span(self, day) {
                    let (s, e) = (start.max(from), end.min(to));
                    if e > s {
                        total += (e - s).num_milliseconds() as f64 / 1000.0;
                    }
                }
            }
            day += Duration::days(1);
        }
        total
    }

    fn describe(&self) -> String {
        let days: Vec<String> = self.days.iter().map(|d| d.to_string()).collect();
        format!(
            "{}-{} {} ({})",
            self.from.format("%H:%M"),
            self.to.format("%H:%M"),
            self.time_zone.name(),
            days.join(" ")
        )
    }
}

/// The span that opens on local `day`, as instants.
fn span(h: &ActiveHours, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let local = |date: NaiveDate, time| {
        let naive = date.and_time(time);
        // A time a clock change skips is taken an hour later.
        h.time_zone
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                h.time_zone
                    .from_local_datetime(&(naive + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    };
    let end_day = if h.to > h.from { day } else { day + Duration::days(1) };
    Some((local(day, h.from)?, local(end_day, h.to)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Weekday};

    fn settings() -> WatchSettings {
        WatchSettings {
            enabled: true,
            interval_secs: 15,
            baseline_weeks: 4,
            baseline_min_history_days: 14,
            baseline_expected: 5.0,
            rejection_spike: 20,
            rejection_window_secs: 900,
            parked_threshold: 1,
            outbox_age_secs: 300,
            relay_stall_secs: 120,
            tls_expiry_days: 14,
            notify_url: String::new(),
            notify_secret: None,
            notify_key: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cadence(after: u64, hours: Option<ActiveHours>) -> SourceWatch {
        SourceWatch {
            quiet_after: Some(std::time::Duration::from_secs(after)),
            active_hours: hours,
        }
    }

    fn store_hours() -> ActiveHours {
        ActiveHours {
            time_zone: "America/Sao_Paulo".parse().unwrap(),
            from: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
        }
    }

    #[test]
    fn a_cadence_calls_a_source_quiet_once_its_time_has_passed() {
        let now = at("2026-12-02T12:00:00Z");
        let facts = SourceFacts {
            last_accepted: Some(now - Duration::minutes(14)),
            ..Default::default()
        };
        let w = cadence(900, None);
        assert!(!judge(&w, &facts, &settings(), now, now).quiet);
        let later = now + Duration::minutes(2);
        let s = judge(&w, &facts, &settings(), now, later);
        assert!(s.quiet && s.judged_by == Judge::Cadence, "{s:?}");
        assert_eq!(s.seconds_since_accepted, 960.0);
        // Never accepted since the start: counted from the start.
        let none = SourceFacts::default();
        assert!(judge(&w, &none, &settings(), now - Duration::minutes(20), now).quiet);
        assert!(!judge(&w, &none, &settings(), now - Duration::minutes(5), now).quiet);
    }

    #[test]
    fn active_hours_count_only_opening_time() {
        // São Paulo is UTC-3: open 13:00-02:00 UTC, Monday to Friday.
        let w = cadence(900, Some(store_hours()));
        // Last webhook Tuesday 22:55 local (01:55Z Wed); Wednesday 10:05 local
        // (13:05Z): 5 + 5 active minutes, not quiet; 10:20 local: quiet.
        let facts = SourceFacts {
            last_accepted: Some(at("2026-12-02T01:55:00Z")),
            ..Default::default()
        };
        let s = judge(
            &w,
            &facts,
            &settings(),
            at("2026-12-01T00:00:00Z"),
            at("2026-12-02T13:05:00Z"),
        );
        assert!(!s.quiet, "{s:?}");
        assert!(
            judge(
                &w,
                &facts,
                &settings(),
                at("2026-12-01T00:00:00Z"),
                at("2026-12-02T13:20:00Z")
            )
            .quiet
        );
        // At night, closed: never quiet, whatever the silence.
        let s = judge(
            &w,
            &facts,
            &settings(),
            at("2026-12-01T00:00:00Z"),
            at("2026-12-02T08:00:00Z"),
        );
        assert_eq!(s.judged_by, Judge::OutsideHours);
        assert!(!s.quiet);
        // Saturday is not a listed day.
        let s = judge(
            &w,
            &facts,
            &settings(),
            at("2026-12-01T00:00:00Z"),
            at("2026-12-05T15:00:00Z"),
        );
        assert_eq!(s.judged_by, Judge::OutsideHours);
    }

    #[test]
    fn overnight_hours_span_midnight() {
        let hours = ActiveHours {
            time_zone: chrono_tz::UTC,
            from: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
            days: vec![Weekday::Fri],
        };
        assert!(hours.contains(at("2026-12-04T23:00:00Z")));
        assert!(
            hours.contains(at("2026-12-05T01:00:00Z")),
            "Friday's span goes on into Saturday"
        );
        assert!(!hours.contains(at("2026-12-05T23:00:00Z")));
        assert_eq!(
            hours.active_seconds(at("2026-12-04T00:00:00Z"), at("2026-12-06T00:00:00Z")),
            4.0 * 3600.0
        );
    }

    /// Four weeks of a source that gets 10 webhooks an hour from 08:00 to
    /// 20:00 UTC and none at night.
    fn daytime_source(now: DateTime<Utc>) -> SourceFacts {
        let mut hourly = HashMap::new();
        let start = hour_start(now) - Duration::weeks(5);
        let mut h = start;
        while h < hour_start(now) {
            if (8..20).contains(&h.hour()) {
                hourly.insert(h, 10);
            }
            h += Duration::hours(1);
        }
        SourceFacts {
            last_accepted: None,
            first_seen: Some(start),
            hourly_accepted: hourly,
        }
    }

    #[test]
    fn the_baseline_expects_traffic_only_when_it_usually_comes() {
        let now = at("2026-12-02T12:30:00Z");
        let mut facts = daytime_source(now);
        let w = SourceWatch::default();
        // 20 minutes of daytime silence: 3.3 expected, not yet quiet.
        facts.last_accepted = Some(now - Duration::minutes(20));
        let s = judge(&w, &facts, &settings(), now, now);
        assert_eq!(s.judged_by, Judge::Baseline);
        assert!(!s.quiet && (s.expected.unwrap() - 10.0 / 3.0).abs() < 1e-9, "{s:?}");
        // 40 minutes: 6.7 expected, quiet.
        facts.last_accepted = Some(now - Duration::minutes(40));
        assert!(judge(&w, &facts, &settings(), now, now).quiet);
        // The night is quiet by habit: last webhook at 19:59, now 03:00.
        let night = at("2026-12-03T03:00:00Z");
        facts.last_accepted = Some(at("2026-12-02T19:59:00Z"));
        let s = judge(&w, &facts, &settings(), now, night);
        assert!(!s.quiet && s.expected.unwrap() < 1.0, "{s:?}");
    }

    #[test]
    fn a_new_source_is_not_judged_by_a_baseline_it_does_not_have() {
        let now = at("2026-12-02T12:30:00Z");
        let mut facts = daytime_source(now);
        facts.first_seen = Some(now - Duration::days(3));
        facts.last_accepted = Some(now - Duration::hours(10));
        let s = judge(&SourceWatch::default(), &facts, &settings(), now, now);
        assert_eq!(s.judged_by, Judge::Learning);
        assert!(!s.quiet);
    }

    #[test]
    fn one_busy_week_does_not_move_the_median() {
        let now = at("2026-12-02T03:30:00Z");
        let mut facts = daytime_source(now);
        // One night with a burst, three without.
        facts.hourly_accepted.insert(hour_start(now) - Duration::weeks(1), 500);
        let rates = baseline(&facts, 4, now);
        assert_eq!(rates[hour_of_week(now)], 0.0);
        assert_eq!(words(5400), "1h30m");
    }
}
