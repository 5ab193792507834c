//! How late each HTTP worker runs: the load-shedding signal for CPU
//! saturation. A worker is one thread with its own event loop; when it has
//! more to do than it can, requests wait in its sockets where no counter sees
//! them, and clients time out while their work is still done. A ticker on
//! each worker measures how much later than asked it wakes up; the handler
//! sheds (503 + `Retry-After`, before reading the body) while that lag is
//! above the configured bound, which costs far less than the full path.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How often the ticker wakes.
const TICK: Duration = Duration::from_millis(10);

thread_local! {
    /// The lag of this worker's event loop, in microseconds (decaying max).
    static LAG_MICROS: Cell<u64> = const { Cell::new(0) };
}

/// Folds one measured lateness into the decaying maximum: a spike counts at
/// once, and fades by half every tick once the worker keeps up again.
fn fold(previous: u64, measured: u64) -> u64 {
    measured.max(previous / 2)
}

/// Runs forever on the current worker (spawned once per worker).
pub(crate) async fn tick() {
    loop {
        let asked = Instant::now();
        tokio::time::sleep(TICK).await;
        let late = asked.elapsed().saturating_sub(TICK).as_micros();
        let late = u64::try_from(late).unwrap_or(u64::MAX);
        LAG_MICROS.with(|l| l.set(fold(l.get(), late)));
    }
}

/// The current worker's lag.
pub(crate) fn current() -> Duration {
    Duration::from_micros(LAG_MICROS.with(Cell::get))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_spike_counts_at_once_and_fades() {
        let mut lag = 0;
        lag = super::fold(lag, 400_000);
        assert_eq!(lag, 400_000);
        for _ in 0..5 {
            lag = super::fold(lag, 100);
        }
        assert_eq!(lag, 12_500);
        lag = super::fold(lag, 100);
        assert_eq!(lag, 6_250);
    }
}
