//! Time as the caller passes it in: the state machines never read a clock.

use core::time::Duration;

/// A point in time, in milliseconds since an origin the caller picks (boot, test start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    millis: u64,
}

impl Instant {
    pub const ZERO: Instant = Instant { millis: 0 };

    pub const fn from_millis(millis: u64) -> Instant {
        Instant { millis }
    }

    pub const fn millis(self) -> u64 {
        self.millis
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later (a clock must not go back,
    /// but a caller bug must not panic here).
    pub fn since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.millis.saturating_sub(earlier.millis))
    }
}

/// Saturates at the end of time instead of overflowing.
impl core::ops::Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Instant {
            millis: self.millis.saturating_add(millis),
        }
    }
}
