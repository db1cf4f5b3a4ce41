//! Times of features and `datetime` parameters.
//!
//! Owns: parsing a time value into a [`TimeSpan`] in milliseconds since the Unix epoch (UTC).
//! A date `YYYY-MM-DD` is the whole UTC day; an RFC 3339 date-time is an instant.

use chrono::{DateTime, NaiveDate};

use super::model::TimeSpan;

const DAY_MS: i64 = 86_400_000;

/// Parses `YYYY-MM-DD` (a whole day) or an RFC 3339 date-time (an instant).
pub fn parse_time(text: &str) -> Result<TimeSpan, String> {
    if let Some(d) = parse_date(text) {
        let start = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| format!("{text:?} is not a date"))?;
        return Ok((start, start + DAY_MS));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| {
            let ms = t.timestamp_millis();
            (ms, ms + 1)
        })
        .map_err(|_| format!("{text:?} is neither YYYY-MM-DD nor an RFC 3339 date-time"))
}

/// A strict `YYYY-MM-DD` date (the common case, parsed without a format interpreter).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0_u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// Formats milliseconds since the epoch as RFC 3339 (UTC, `Z`).
pub fn format_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_and_datetimes_instants() {
        let (s, e) = parse_time("2021-08-26").unwrap();
        assert_eq!(e - s, DAY_MS);
        assert_eq!(format_ms(s), "2021-08-26T00:00:00Z");
        let (s2, e2) = parse_time("2021-08-26T17:50:00+04:30").unwrap();
        assert_eq!(e2 - s2, 1);
        assert_eq!(format_ms(s2), "2021-08-26T13:20:00Z");
        assert!(parse_time("2021-02-30").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
