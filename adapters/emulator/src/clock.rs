//! The emulated clock: real time or frozen, plus an offset that tests advance instead of sleeping.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time every expiry and rolling window of the emulator is computed from, in milliseconds since
/// the Unix epoch.
///
/// It starts on real time (or frozen at a given instant) and can only move forward: advancing it by
/// ten minutes makes codes, access tokens and throttle windows behave as if ten minutes had passed,
/// without a test sleeping. Artificial latency and hangs are real time and ignore this clock.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    base: Base,
    offset_ms: u64,
}

#[derive(Debug, Clone, Copy)]
enum Base {
    Real,
    Frozen(u64),
}

impl Clock {
    /// A clock on real time, or frozen at `frozen_ms` when given.
    pub(crate) fn new(frozen_ms: Option<u64>) -> Self {
        Clock {
            base: frozen_ms.map_or(Base::Real, Base::Frozen),
            offset_ms: 0,
        }
    }

    /// Now, in milliseconds since the Unix epoch.
    pub(crate) fn now_ms(&self) -> u64 {
        let base = match self.base {
            Base::Real => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Base::Frozen(ms) => ms,
        };
        base.saturating_add(self.offset_ms)
    }

    /// Moves the clock forward by `by`.
    pub(crate) fn advance(&mut self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms = self.offset_ms.saturating_add(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_moves_only_when_advanced() {
        let mut clock = Clock::new(Some(1_000));
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(600));
        assert_eq!(clock.now_ms(), 601_000);
    }

    #[test]
    fn advancing_a_real_clock_adds_to_real_time() {
        let mut clock = Clock::new(None);
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() >= before + 3_600_000);
    }
}
