//! Rendering of `lastQualificationTime` in every form AEP is known to send.
//!
//! Times are kept internally as microseconds since the Unix epoch (UTC). Forms without a fraction
//! truncate to the second, which is why the generator keeps distinct changes of one (profile, audience)
//! at least a minute apart: truncation can then never reorder them.

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

pub const MICROS_PER_SEC: Micros = 1_000_000;

/// The textual forms of a timestamp, all meaning UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeForm {
    /// `2026-11-30T08:15:02Z`
    Zulu,
    /// `2026-11-30T08:15:02.117Z`
    ZuluMillis,
    /// `2026-11-30T08:15:02.117482Z`
    ZuluMicros,
    /// `2026-11-30T08:15:02.117+0000`
    MillisOffsetNoColon,
    /// `2026-11-30T08:15:02+00:00`
    OffsetColon,
    /// `2026-11-30 08:15:02` (no zone: UTC by convention)
    SpaceNoZone,
}

impl TimeForm {
    pub const ALL: [TimeForm; 6] = [
        TimeForm::Zulu,
        TimeForm::ZuluMillis,
        TimeForm::ZuluMicros,
        TimeForm::MillisOffsetNoColon,
        TimeForm::OffsetColon,
        TimeForm::SpaceNoZone,
    ];

    /// Renders `t` in this form.
    pub fn render(self, t: Micros) -> String {
        let secs = t.div_euclid(MICROS_PER_SEC);
        let micros = t.rem_euclid(MICROS_PER_SEC);
        let (y, mo, d, h, mi, s) = civil(secs);
        let date = format!("{y:04}-{mo:02}-{d:02}");
        let clock = format!("{h:02}:{mi:02}:{s:02}");
        match self {
            TimeForm::Zulu => format!("{date}T{clock}Z"),
            TimeForm::ZuluMillis => format!("{date}T{clock}.{:03}Z", micros / 1000),
            TimeForm::ZuluMicros => format!("{date}T{clock}.{micros:06}Z"),
            TimeForm::MillisOffsetNoColon => format!("{date}T{clock}.{:03}+0000", micros / 1000),
            TimeForm::OffsetColon => format!("{date}T{clock}+00:00"),
            TimeForm::SpaceNoZone => format!("{date} {clock}"),
        }
    }
}

/// Days since the epoch for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch for a UTC wall-clock time.
pub fn utc_micros(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Micros {
    let secs = days_from_civil(y, mo, d) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(s);
    secs * MICROS_PER_SEC
}

/// Epoch milliseconds, the unit of the `createdAt`/`updatedAt` extras.
pub fn epoch_millis(t: Micros) -> i64 {
    t.div_euclid(1000)
}

fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (sod / 3600) as u32,
        ((sod % 3600) / 60) as u32,
        (sod % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_epoch_is_where_the_calendar_says() {
        assert_eq!(
            utc_micros(2026, 11, 30, 8, 0, 0),
            1_796_025_600 * MICROS_PER_SEC
        );
        assert_eq!(utc_micros(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(
            utc_micros(2024, 2, 29, 12, 0, 0) / MICROS_PER_SEC,
            1_709_208_000
        );
    }

    #[test]
    fn every_form_renders_like_aep_sends_it() {
        let t = utc_micros(2026, 11, 30, 8, 15, 2) + 117_482;
        let rendered: Vec<String> = TimeForm::ALL.iter().map(|f| f.render(t)).collect();
        assert_eq!(
            rendered,
            [
                "2026-11-30T08:15:02Z",
                "2026-11-30T08:15:02.117Z",
                "2026-11-30T08:15:02.117482Z",
                "2026-11-30T08:15:02.117+0000",
                "2026-11-30T08:15:02+00:00",
                "2026-11-30 08:15:02",
            ]
        );
    }

    #[test]
    fn rendering_crosses_month_and_year_boundaries() {
        let t = utc_micros(2026, 12, 31, 23, 59, 59) + MICROS_PER_SEC;
        assert_eq!(TimeForm::Zulu.render(t), "2027-01-01T00:00:00Z");
    }
}
