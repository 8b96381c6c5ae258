//! The mock's clock: wall time plus an offset that tests and drills can move.
//!
//! Everything that depends on time (token expiry, upload timestamps, journal times) reads this
//! clock, never `SystemTime` directly, so token expiry can be tested by moving the clock 13
//! hours forward instead of waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

/// A shareable clock. Cloning shares the same offset.
#[derive(Debug, Clone)]
pub struct Clock {
    base: Base,
    offset_millis: Arc<AtomicI64>,
}

#[derive(Debug, Clone, Copy)]
enum Base {
    System,
    Fixed(OffsetDateTime),
}

impl Clock {
    /// Creates a clock that follows the system time.
    pub fn system() -> Self {
        Self {
            base: Base::System,
            offset_millis: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Creates a clock that stands still at `at` until advanced, for deterministic tests.
    pub fn fixed(at: OffsetDateTime) -> Self {
        Self {
            base: Base::Fixed(at),
            offset_millis: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Returns the current time in UTC, truncated to milliseconds as stored in the database.
    pub fn now(&self) -> OffsetDateTime {
        let base = match self.base {
            Base::System => OffsetDateTime::now_utc(),
            Base::Fixed(at) => at,
        };
        let now = base + Duration::milliseconds(self.offset_millis.load(Ordering::SeqCst));
        from_unix_millis(unix_millis(now))
    }

    /// Returns the time without the offset moved by [`Clock::advance`]: the wall time for a
    /// system clock, the fixed time for a fixed one. Checks of the client's own clock, such as
    /// the Signature V4 skew limit, use this, so a drill that moves the mock's clock by hours
    /// does not make every signed request look expired.
    pub fn unshifted_now(&self) -> OffsetDateTime {
        let base = match self.base {
            Base::System => OffsetDateTime::now_utc(),
            Base::Fixed(at) => at,
        };
        from_unix_millis(unix_millis(base))
    }

    /// Moves the clock forward (or back, for a negative duration) for every holder of a clone.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::SeqCst);
    }

    /// Returns how far the clock has been moved from its base, in milliseconds.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_millis.load(Ordering::SeqCst))
    }
}

/// Milliseconds since the Unix epoch, the unit of every time column in the database.
pub fn unix_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The inverse of [`unix_millis`]; out-of-range values clamp to the Unix epoch.
pub fn from_unix_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Formats a time as RFC 3339 in UTC with millisecond precision, as the journal stores it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_advances_for_all_clones() {
        let clock = Clock::fixed(datetime!(2026-01-02 03:04:05 UTC));
        let other = clock.clone();
        clock.advance(Duration::hours(13));
        assert_eq!(other.now(), datetime!(2026-01-02 16:04:05 UTC));
        assert_eq!(other.offset(), Duration::hours(13));
    }

    #[test]
    fn unshifted_time_ignores_advance() {
        let start = datetime!(2026-01-02 03:04:05 UTC);
        let clock = Clock::fixed(start);
        clock.advance(Duration::hours(13));
        assert_eq!(clock.unshifted_now(), start);
        assert_eq!(clock.now(), start + Duration::hours(13));
    }

    #[test]
    fn rfc3339_has_milliseconds_and_zulu() {
        let at = datetime!(2026-01-02 03:04:05.678 UTC);
        assert_eq!(rfc3339(at), "2026-01-02T03:04:05.678Z");
    }

    #[test]
    fn unix_millis_round_trips() {
        let at = datetime!(2026-12-04 16:00:00.250 UTC);
        assert_eq!(from_unix_millis(unix_millis(at)), at);
    }
}
