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

    /// Moves the clock forward by `by`, unless the offset would then exceed `max_offset`, and
    /// returns the new offset. Concurrent calls cannot together pass the bound.
    pub fn advance_within(&self, by: Duration, max_offset: Duration) -> Result<Duration, Duration> {
        let by_millis = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        let max_millis = i64::try_from(max_offset.whole_milliseconds()).unwrap_or(i64::MAX);
        let result =
            self.offset_millis
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                    current
                        .checked_add(by_millis)
                        .filter(|offset| *offset <= max_millis)
                });
        match result {
            Ok(previous) => Ok(Duration::milliseconds(previous + by_millis)),
            Err(current) => Err(Duration::milliseconds(current)),
        }
    }
}

/// The largest total offset `POST /_ecrlab/clock/advance` accepts: 3,650 days (10 years).
///
/// Lifecycle rules count days since a push, so drills may need a year or more, while much
/// larger offsets would only bring the mock's dates near the limits of its date types.
pub const MAX_ADVANCE_OFFSET: Duration = Duration::days(3650);

/// The units a duration may use, largest first, with their length in seconds.
const DURATION_UNITS: [(char, i64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// A duration text that [`parse_duration`] rejects. Each message names the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("the duration is empty: give one such as 13h, 90m, 1d, 45s or 1h30m")]
    Empty,
    #[error(
        "invalid duration '{0}': the clock only moves forward, so give a positive duration such as 13h"
    )]
    Negative(String),
    #[error(
        "invalid duration '{0}': use whole numbers each followed by d, h, m or s, largest unit first and each unit once, such as 13h, 90m, 1d, 45s or 1h30m"
    )]
    Malformed(String),
    #[error(
        "invalid duration '{0}': it is zero, so the clock would not move; give a positive duration such as 13h"
    )]
    Zero(String),
    #[error(
        "invalid duration '{text}': it is longer than the maximum of {} days",
        max.whole_days()
    )]
    TooLong { text: String, max: Duration },
}

/// Parses a duration such as `45s`, `90m`, `13h`, `1d` or `1h30m`: whole numbers, each followed
/// by a unit (`d`, `h`, `m` or `s`, in either case), largest unit first and each unit at most
/// once. Rejects zero, negative and malformed texts, and durations over
/// [`MAX_ADVANCE_OFFSET`].
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative(trimmed.to_owned()));
    }
    let malformed = || DurationError::Malformed(trimmed.to_owned());
    let too_long = || DurationError::TooLong {
        text: trimmed.to_owned(),
        max: MAX_ADVANCE_OFFSET,
    };

    let mut seconds: i64 = 0;
    let mut next_unit = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(malformed)?;
        if digits_end == 0 {
            return Err(malformed());
        }
        let (digits, after) = rest.split_at(digits_end);
        let mut chars = after.chars();
        let unit = chars.next().ok_or_else(malformed)?.to_ascii_lowercase();
        let position = DURATION_UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(malformed)?;
        let unit_seconds = DURATION_UNITS[next_unit + position].1;
        next_unit += position + 1;

        // A number too large for i64 is far over the maximum, not malformed.
        let number: i64 = digits.parse().map_err(|_| too_long())?;
        seconds = number
            .checked_mul(unit_seconds)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(too_long)?;
        rest = chars.as_str();
    }

    if seconds == 0 {
        return Err(DurationError::Zero(trimmed.to_owned()));
    }
    let duration = Duration::seconds(seconds);
    if duration > MAX_ADVANCE_OFFSET {
        return Err(too_long());
    }
    Ok(duration)
}

/// Formats a duration in the form [`parse_duration`] reads, such as `1d1h30m` or `0s`, dropping
/// milliseconds. A negative duration gets a leading `-`.
pub fn format_duration(duration: Duration) -> String {
    let mut remaining = duration.whole_seconds().unsigned_abs();
    let mut text = String::new();
    if duration.is_negative() && remaining > 0 {
        text.push('-');
    }
    for (unit, unit_seconds) in DURATION_UNITS {
        let unit_seconds = unit_seconds.unsigned_abs();
        let count = remaining / unit_seconds;
        if count > 0 {
            text.push_str(&format!("{count}{unit}"));
            remaining -= count * unit_seconds;
        }
    }
    if text.is_empty() || text == "-" {
        return "0s".to_owned();
    }
    text
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
    fn durations_parse() {
        let cases = [
            ("45s", Duration::seconds(45)),
            ("90m", Duration::minutes(90)),
            ("13h", Duration::hours(13)),
            ("1d", Duration::days(1)),
            ("1h30m", Duration::minutes(90)),
            ("1d2h3m4s", Duration::seconds(93_784)),
            (" 13H ", Duration::hours(13)),
            ("0h30m", Duration::minutes(30)),
            ("3650d", MAX_ADVANCE_OFFSET),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn durations_rejected() {
        let malformed = |text: &str| DurationError::Malformed(text.to_owned());
        let too_long = |text: &str| DurationError::TooLong {
            text: text.to_owned(),
            max: MAX_ADVANCE_OFFSET,
        };
        let cases = [
            ("", DurationError::Empty),
            ("  ", DurationError::Empty),
            ("-1h", DurationError::Negative("-1h".to_owned())),
            ("0s", DurationError::Zero("0s".to_owned())),
            ("0h0m", DurationError::Zero("0h0m".to_owned())),
            ("13", malformed("13")),
            ("h", malformed("h")),
            ("13x", malformed("13x")),
            ("1.5h", malformed("1.5h")),
            ("30m1h", malformed("30m1h")),
            ("1h1h", malformed("1h1h")),
            ("13 h", malformed("13 h")),
            ("13hours", malformed("13hours")),
            ("+13h", malformed("+13h")),
            ("3651d", too_long("3651d")),
            ("99999999999999999999h", too_long("99999999999999999999h")),
            ("9223372036854775807d", too_long("9223372036854775807d")),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn rejected_duration_message_names_value() {
        let message = parse_duration("13x").unwrap_err().to_string();
        assert!(message.contains("'13x'"), "{message}");
    }

    #[test]
    fn durations_format() {
        assert_eq!(format_duration(Duration::hours(13)), "13h");
        assert_eq!(format_duration(Duration::minutes(90)), "1h30m");
        assert_eq!(format_duration(Duration::seconds(93_784)), "1d2h3m4s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::milliseconds(1500)), "1s");
        assert_eq!(format_duration(Duration::hours(-2)), "-2h");
    }

    #[test]
    fn advance_within_stops_at_bound() {
        let clock = Clock::fixed(datetime!(2026-01-02 03:04:05 UTC));
        let max = Duration::days(2);
        assert_eq!(
            clock.advance_within(Duration::days(1), max),
            Ok(Duration::days(1))
        );
        assert_eq!(clock.advance_within(Duration::days(1), max), Ok(max));
        assert_eq!(clock.advance_within(Duration::seconds(1), max), Err(max));
        assert_eq!(clock.offset(), max);
    }

    #[test]
    fn unix_millis_round_trips() {
        let at = datetime!(2026-12-04 16:00:00.250 UTC);
        assert_eq!(from_unix_millis(unix_millis(at)), at);
    }
}
