//! `Clock`: where the client reads the time (and how it waits), so tests can drive time by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zoho_oauth_core::Instant;

/// Tells the client the time. Token expiry, refresh margins, backoff and the mint budget are all
/// measured with it.
pub trait Clock: Send + Sync {
    /// Now, in milliseconds since the Unix epoch.
    fn now(&self) -> Instant;

    /// Block the calling thread for `d` of this clock's time (used between retries inside one
    /// call). The default sleeps the thread.
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }

    /// Whether [`sleep`](Clock::sleep) moves this clock instead of waiting (a test clock): then
    /// an async face calls it inline; otherwise it waits with its runtime's own timer.
    fn sleep_is_virtual(&self) -> bool {
        false
    }
}

/// The operating system's wall clock (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64);
        Instant::from_millis(ms)
    }
}

/// A clock that moves only when told to, for tests: share it through an `Arc` (or clone it; clones
/// share the same time) and [`advance`](ManualClock::advance) it. Its [`Clock::sleep`] advances
/// the time instead of blocking, so retry loops run instantly.
#[derive(Clone, Debug)]
pub struct ManualClock {
    ms: std::sync::Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Instant) -> Self {
        Self {
            ms: std::sync::Arc::new(AtomicU64::new(start.as_millis())),
        }
    }

    /// Move the time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let add = d.as_millis().min(u128::from(u64::MAX)) as u64;
        self.ms.fetch_add(add, Ordering::SeqCst);
    }

    /// Set the time to `t` (backwards too).
    pub fn set(&self, t: Instant) {
        self.ms.store(t.as_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.ms.load(Ordering::SeqCst))
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }

    fn sleep_is_virtual(&self) -> bool {
        true
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }

    fn sleep(&self, d: Duration) {
        (**self).sleep(d);
    }

    fn sleep_is_virtual(&self) -> bool {
        (**self).sleep_is_virtual()
    }
}

/// `t` as a `SystemTime`.
pub(crate) fn to_system_time(t: Instant) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(t.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_the_time() {
        let c = ManualClock::new(Instant::from_millis(1_000));
        let shared = c.clone();
        assert_eq!(c.now(), Instant::from_millis(1_000));
        c.advance(Duration::from_secs(2));
        assert_eq!(shared.now(), Instant::from_millis(3_000));
        shared.sleep(Duration::from_millis(5));
        assert_eq!(c.now(), Instant::from_millis(3_005));
        c.set(Instant::from_millis(10));
        assert_eq!(shared.now(), Instant::from_millis(10));
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let now = SystemClock.now().as_millis();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(before <= now && now <= after);
    }
}
