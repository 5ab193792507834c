//! When a failure that repeats (Redis unreachable, the broker down) is worth
//! logging again: at once, then after 1, 2, 4 … 60 s while it goes on,
//! with how many were not logged meanwhile; at once again after a success.
//! The relay retries every poll interval, so logging each failure would
//! write a line twice a second for as long as an outage lasts.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct State {
    /// When the next failure is logged (`None`: not failing).
    next: Option<Instant>,
    /// The wait after that one.
    wait: Duration,
    /// Failures not logged since the last line.
    quiet: u64,
}

/// A repeating failure's log throttle.
#[derive(Debug, Default)]
pub(crate) struct LogBackoff(Mutex<State>);

impl LogBackoff {
    /// A failure at `now`: `Some(n)` when it should be logged (`n` failures
    /// were not logged since the last line), `None` to stay quiet.
    pub(crate) fn failed_at(&self, now: Instant) -> Option<u64> {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match s.next {
            Some(next) if now < next => {
                s.quiet += 1;
                None
            }
            _ => {
                let wait = if s.next.is_none() {
                    FIRST
                } else {
                    (s.wait * 2).min(LONGEST)
                };
                s.next = Some(now + wait);
                s.wait = wait;
                Some(std::mem::take(&mut s.quiet))
            }
        }
    }

    /// A failure now (see [`LogBackoff::failed_at`]).
    pub(crate) fn failed(&self) -> Option<u64> {
        self.failed_at(Instant::now())
    }

    /// A success: `true` when it ends a failure (worth one line).
    pub(crate) fn succeeded(&self) -> bool {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let was = s.next.is_some();
        *s = State::default();
        was
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_at_once_then_ever_more_rarely_and_again_after_a_success() {
        let b = LogBackoff::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(b.failed_at(at(0)), Some(0));
        assert_eq!(b.failed_at(at(500)), None);
        assert_eq!(b.failed_at(at(1_000)), Some(1), "after 1 s, with one left unlogged");
        assert_eq!(b.failed_at(at(2_000)), None);
        assert_eq!(b.failed_at(at(2_500)), None);
        assert_eq!(b.failed_at(at(3_000)), Some(2), "then after 2 s");
        // Twice a second for ten minutes: a few lines, not 1,200.
        let lines = (7..1_200u64).filter(|i| b.failed_at(at(i * 500)).is_some()).count();
        assert!(lines <= 14, "{lines} lines");
        assert!(b.succeeded());
        assert!(!b.succeeded());
        assert_eq!(b.failed_at(at(700_000)), Some(0), "a new failure is logged at once");
    }
}
