//! Timestamps travel as ISO-8601 UTC with exactly three fractional digits
//! (`2026-01-15T12:00:00.000Z`) and are stored as milliseconds since the Unix epoch.

use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_ms(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    pub const fn plus_ms(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Parses an RFC 3339 date-time with any precision and offset, as the events API accepts.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let ms = parsed.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms).ok().map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000_000;
        let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| fmt::Error)?;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_exactly_milliseconds() {
        assert_eq!(Timestamp::from_unix_ms(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_ms(1_768_478_400_007).to_string(), "2026-01-15T12:00:00.007Z");
    }

    #[test]
    fn parses_rfc3339_with_offsets_and_precision() {
        let a = Timestamp::parse_rfc3339("2026-01-15T12:00:00.007Z").unwrap();
        assert_eq!(a.unix_ms(), 1_768_478_400_007);
        let b = Timestamp::parse_rfc3339("2026-01-15T13:00:00.007123+01:00").unwrap();
        assert_eq!(a, b);
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
    }
}
