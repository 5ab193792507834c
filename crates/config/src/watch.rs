//! A source's watch settings: its cadence (`quiet_after`) and the hours it
//! is expected to push in (`active_hours`, in a time zone).

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::time::Duration;

/// How a source is watched for silence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceWatch {
    /// Quiet once no webhook was accepted for this long (counting only
    /// active hours when they are set); `None`: the learned baseline judges.
    pub quiet_after: Option<Duration>,
    /// When the source is expected to push; outside, it is never quiet.
    pub active_hours: Option<ActiveHours>,
}

/// Hours of the week a source pushes in, in its own time zone (a store's
/// opening hours). `to` before `from` spans midnight (22:00 to 02:00).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveHours {
    /// IANA time zone (America/Sao_Paulo).
    pub time_zone: Tz,
    /// Opening, local time.
    pub from: NaiveTime,
    /// Closing, local time.
    pub to: NaiveTime,
    /// The days a span starts on (all when the file lists none).
    pub days: Vec<Weekday>,
}

/// `active_hours = { time_zone = "...", from = "10:00", to = "23:00", days = ["mon", ...] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActiveHoursFile {
    time_zone: String,
    from: String,
    to: String,
    #[serde(default)]
    days: Vec<String>,
}

impl ActiveHoursFile {
    pub(crate) fn build(self) -> Result<ActiveHours, String> {
        let time_zone: Tz = self.time_zone.parse().map_err(|_| {
            format!(
                "unknown time zone {:?} (an IANA name like America/Sao_Paulo)",
                self.time_zone
            )
        })?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| format!("expected a local time like \"10:00\", got {s:?}"))
        };
        let (from, to) = (time(&self.from)?, time(&self.to)?);
        if from == to {
            return Err("from and to must differ (leave active_hours out for all day)".to_owned());
        }
        let mut days = Vec::new();
        for d in &self.days {
            let day: Weekday = d
                .parse()
                .map_err(|_| format!("unknown day {d:?} (mon, tue, wed, thu, fri, sat, sun)"))?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        if days.is_empty() {
            days = vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ];
        }
        Ok(ActiveHours {
            time_zone,
            from,
            to,
            days,
        })
    }
}

/// A duration as people write it: `90s`, `15m`, `2h`, `1h30m`, `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like \"15m\", \"2h\" or \"1h30m\", got {text:?}");
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "15", "m", "0m", "15x", "-5m", "1h 30m"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn active_hours_name_a_real_zone_and_times() {
        let ok = ActiveHoursFile {
            time_zone: "America/Sao_Paulo".into(),
            from: "22:00".into(),
            to: "02:00".into(),
            days: vec!["fri".into(), "sat".into()],
        }
        .build()
        .unwrap();
        assert_eq!(ok.days, vec![Weekday::Fri, Weekday::Sat]);
        let bad_zone = ActiveHoursFile {
            time_zone: "Mars/Olympus".into(),
            from: "10:00".into(),
            to: "23:00".into(),
            days: vec![],
        };
        assert!(bad_zone.build().unwrap_err().contains("time zone"));
    }
}
