//! `lastQualificationTime`: the version of a (profile, audience) membership.
//!
//! AEP sends it in several forms (`Z`, `+0000`, `+00:00`, milli- or microseconds, or a space-separated form
//! with no zone, which is UTC). All of them become one integer of microseconds since the Unix epoch, so
//! "newer" is plain integer comparison and equal instants in different spellings are equal.
//!
//! Only instants of years 0000-9999 in UTC exist: PX takes nothing else as ISO-8601, so a later year reached
//! through a negative offset (`9999-12-31T23:59:59-01:00`) is refused here rather than by PX at delivery.

use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// An instant in UTC, microsecond precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualificationTime(i64);

/// Why a timestamp was refused. Carries no input text beyond its length: a malformed field could hold anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "timestamp is not of the form YYYY-MM-DD[T| ]hh:mm:ss[.fraction][Z|±hh:mm|±hhmm] ({0})"
    )]
    Malformed(&'static str),
    #[error("timestamp names a date or time that does not exist")]
    OutOfRange,
    #[error("timestamp falls outside years 0000-9999 once converted to UTC")]
    OutsideIsoYears,
}

impl QualificationTime {
    /// 0000-01-01T00:00:00Z.
    pub const MIN: Self = Self(-62_167_219_200_000_000);
    /// 9999-12-31T23:59:59.999999Z.
    pub const MAX: Self = Self(253_402_300_799_999_999);

    /// A value read back from a store this service wrote, where only parsed instants were ever put.
    /// Out-of-range values saturate at `MIN`/`MAX` instead of failing: order is kept, and the value still
    /// prints as ISO-8601. Input from elsewhere goes through [`Self::try_from_micros`].
    pub fn from_micros(micros: i64) -> Self {
        Self(micros.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// A value from outside (the changes topic, a request), refused when outside years 0000-9999.
    pub fn try_from_micros(micros: i64) -> Result<Self, TimeError> {
        if (Self::MIN.0..=Self::MAX.0).contains(&micros) {
            Ok(Self(micros))
        } else {
            Err(TimeError::OutsideIsoYears)
        }
    }

    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// Parses every form AEP is known to send. A missing zone means UTC.
    pub fn parse(input: &str) -> Result<Self, TimeError> {
        let mut cursor = Cursor { rest: input.trim() };
        let year = cursor.digits(4, "year")?;
        cursor.expect(b'-', "date separator")?;
        let month = cursor.digits(2, "month")?;
        cursor.expect(b'-', "date separator")?;
        let day = cursor.digits(2, "day")?;
        if !(cursor.eat(b'T') || cursor.eat(b't') || cursor.eat(b' ')) {
            return Err(TimeError::Malformed("date and time separator"));
        }
        let hour = cursor.digits(2, "hour")?;
        cursor.expect(b':', "time separator")?;
        let minute = cursor.digits(2, "minute")?;
        cursor.expect(b':', "time separator")?;
        let second = cursor.digits(2, "second")?;
        let micros = if cursor.eat(b'.') {
            cursor.fraction_micros()?
        } else {
            0
        };
        let offset_seconds = cursor.zone()?;
        if !cursor.rest.is_empty() {
            return Err(TimeError::Malformed("trailing characters"));
        }

        let month = Month::try_from(u8::try_from(month).map_err(|_| TimeError::OutOfRange)?)
            .map_err(|_| TimeError::OutOfRange)?;
        let date = Date::from_calendar_date(year as i32, month, day as u8)
            .map_err(|_| TimeError::OutOfRange)?;
        let time = Time::from_hms_micro(hour as u8, minute as u8, second as u8, micros)
            .map_err(|_| TimeError::OutOfRange)?;
        let offset =
            UtcOffset::from_whole_seconds(offset_seconds).map_err(|_| TimeError::OutOfRange)?;
        let instant = PrimitiveDateTime::new(date, time).assume_offset(offset);
        // Both bounds are far inside i64, so a value that does not fit is outside them too.
        let micros = i64::try_from(instant.unix_timestamp_nanos() / 1_000)
            .map_err(|_| TimeError::OutsideIsoYears)?;
        Self::try_from_micros(micros)
    }

    fn to_datetime(self) -> OffsetDateTime {
        // Every constructor keeps the value within years 0000-9999, inside what `time` represents, so the
        // fallback is never taken; it exists so printing can never panic.
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// ISO-8601 in UTC with `Z`, keeping only the precision the value needs (none, milli or micro), which is the
/// form sent to PX.
impl fmt::Display for QualificationTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )?;
        let micros = dt.microsecond();
        if !micros.is_multiple_of(1_000) {
            write!(f, ".{micros:06}")?;
        } else if micros != 0 {
            write!(f, ".{:03}", micros / 1_000)?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for QualificationTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QualificationTime({self})")
    }
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn eat(&mut self, byte: u8) -> bool {
        if self.rest.as_bytes().first() == Some(&byte) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), TimeError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(TimeError::Malformed(what))
        }
    }

    fn digits(&mut self, count: usize, what: &'static str) -> Result<u32, TimeError> {
        let bytes = self.rest.as_bytes();
        if bytes.len() < count || !bytes[..count].iter().all(u8::is_ascii_digit) {
            return Err(TimeError::Malformed(what));
        }
        let value = bytes[..count]
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
        self.rest = &self.rest[count..];
        Ok(value)
    }

    /// Any number of fraction digits; precision beyond microseconds is truncated, not rounded, so a
    /// nanosecond form never sorts after the same instant written in microseconds.
    fn fraction_micros(&mut self) -> Result<u32, TimeError> {
        let len = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(TimeError::Malformed("fraction"));
        }
        let digits = &self.rest.as_bytes()[..len];
        let mut micros = 0u32;
        for i in 0..6 {
            micros = micros * 10 + digits.get(i).map_or(0, |b| u32::from(b - b'0'));
        }
        self.rest = &self.rest[len..];
        Ok(micros)
    }

    fn zone(&mut self) -> Result<i32, TimeError> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        if self.eat(b'Z') || self.eat(b'z') {
            return Ok(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return Err(TimeError::Malformed("zone"));
        };
        let hours = self.digits(2, "zone hours")?;
        self.eat(b':');
        let minutes = if self.rest.is_empty() {
            0
        } else {
            self.digits(2, "zone minutes")?
        };
        if hours > 23 || minutes > 59 {
            return Err(TimeError::OutOfRange);
        }
        Ok(sign * (hours * 3600 + minutes * 60) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> QualificationTime {
        QualificationTime::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_form_aep_sends_names_the_same_instant() {
        let base = parse("2026-11-30T08:15:02Z");
        for form in [
            "2026-11-30T08:15:02+0000",
            "2026-11-30T08:15:02+00:00",
            "2026-11-30 08:15:02",
            "2026-11-30T08:15:02",
            "2026-11-30T09:15:02+01:00",
            "2026-11-30T03:15:02-0500",
        ] {
            assert_eq!(parse(form), base, "{form}");
        }
    }

    #[test]
    fn milliseconds_and_microseconds_are_kept() {
        let millis = parse("2026-11-30T08:15:02.117Z");
        let micros = parse("2026-11-30T08:15:02.117123+0000");
        assert_eq!(millis.as_micros() % 1_000_000, 117_000);
        assert_eq!(micros.as_micros() % 1_000_000, 117_123);
        assert!(micros > millis);
    }

    #[test]
    fn nanoseconds_truncate_to_microseconds() {
        assert_eq!(
            parse("2026-11-30T08:15:02.117123999Z"),
            parse("2026-11-30T08:15:02.117123Z")
        );
    }

    #[test]
    fn display_is_utc_iso_8601_with_only_the_needed_precision() {
        assert_eq!(
            parse("2026-11-30 08:15:02").to_string(),
            "2026-11-30T08:15:02Z"
        );
        assert_eq!(
            parse("2026-11-30T08:15:02.117+0000").to_string(),
            "2026-11-30T08:15:02.117Z"
        );
        assert_eq!(
            parse("2026-11-30T08:15:02.000042Z").to_string(),
            "2026-11-30T08:15:02.000042Z"
        );
    }

    #[test]
    fn display_round_trips_through_parse() {
        let t = parse("2026-11-30T10:15:02.5+02:00");
        assert_eq!(parse(&t.to_string()), t);
    }

    #[test]
    fn instants_beyond_year_9999_or_before_year_0000_in_utc_are_refused() {
        for outside in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:30:00+01:00"] {
            assert_eq!(
                QualificationTime::parse(outside),
                Err(TimeError::OutsideIsoYears),
                "{outside}"
            );
        }
    }

    #[test]
    fn the_first_and_last_instants_of_years_0000_to_9999_are_accepted_and_print_as_iso_8601() {
        let first = parse("0000-01-01T01:00:00+01:00");
        let last = parse("9999-12-31T22:59:59.999999-01:00");
        assert_eq!(first, QualificationTime::MIN);
        assert_eq!(last, QualificationTime::MAX);
        assert_eq!(first.to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999999Z");
        assert_eq!(parse(&last.to_string()), last);
    }

    #[test]
    fn every_value_that_can_exist_prints_as_iso_8601_in_utc() {
        assert_eq!(
            QualificationTime::from_micros(i64::MAX).to_string(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            QualificationTime::from_micros(i64::MIN).to_string(),
            "0000-01-01T00:00:00Z"
        );
        assert!(QualificationTime::from_micros(i64::MIN) < QualificationTime::from_micros(0));
    }

    #[test]
    fn micros_from_outside_are_refused_beyond_the_iso_years() {
        assert_eq!(
            QualificationTime::try_from_micros(QualificationTime::MAX.as_micros() + 1),
            Err(TimeError::OutsideIsoYears)
        );
        assert_eq!(
            QualificationTime::try_from_micros(QualificationTime::MIN.as_micros() - 1),
            Err(TimeError::OutsideIsoYears)
        );
        assert_eq!(
            QualificationTime::try_from_micros(0).map(|t| t.to_string()),
            Ok("1970-01-01T00:00:00Z".to_owned())
        );
    }

    #[test]
    fn malformed_timestamps_are_typed_errors() {
        for bad in [
            "",
            "yesterday",
            "2026-11-30",
            "2026/11/30T08:15:02Z",
            "2026-11-30T08:15Z",
            "2026-11-30T08:15:02.Z",
            "2026-11-30T08:15:02Zjunk",
            "1764489600000",
        ] {
            assert!(
                matches!(QualificationTime::parse(bad), Err(TimeError::Malformed(_))),
                "{bad}"
            );
        }
        for impossible in [
            "2026-02-30T08:15:02Z",
            "2026-11-30T25:15:02Z",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(
                QualificationTime::parse(impossible),
                Err(TimeError::OutOfRange),
                "{impossible}"
            );
        }
    }
}
