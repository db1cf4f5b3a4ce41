//! Times of features and `datetime` parameters.
//!
//! Owns: parsing a time value into a [`TimeSpan`] in milliseconds since the Unix epoch (UTC).
//! A date `YYYY-MM-DD` is the whole UTC day; an RFC 3339 date-time is an instant.
//!
//! Periods (layers with a start and an end property, see [`period_span`]): each end may also be
//! a year `YYYY` (the whole UTC year) or a month `YYYY-MM` (the whole UTC month). The period
//! runs from the first instant of its start to the last instant of its end, so `"2021"` to
//! `"2021"` is all of 2021 and `"2023-03"` to `"2023"` is March to December 2023. A null or
//! absent end means the period is still open: it ends at [`OPEN_END`], after every instant, and
//! the collection's temporal extent then has an open (`null`) end.

use chrono::{DateTime, NaiveDate};

use super::model::TimeSpan;

const DAY_MS: i64 = 86_400_000;

/// The end of a period with no end: later than any time a request can name.
pub const OPEN_END: i64 = i64::MAX;

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

/// Parses a coarse time: `YYYY` (the whole year), `YYYY-MM` (the whole month), or anything
/// [`parse_time`] reads.
pub fn parse_coarse_time(text: &str) -> Result<TimeSpan, String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let month = match b.len() {
        4 if digits(0..4) => None,
        7 if digits(0..4) && b[4] == b'-' && digits(5..7) => text[5..7].parse::<u32>().ok(),
        _ => return parse_time(text),
    };
    let year: i32 = text[0..4]
        .parse()
        .map_err(|_| format!("{text:?} is not a year"))?;
    let first = |y: i32, m: u32| {
        NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| format!("{text:?} is not a year or a month"))
    };
    match month {
        None => Ok((first(year, 1)?, first(year + 1, 1)?)),
        Some(12) => Ok((first(year, 12)?, first(year + 1, 1)?)),
        Some(m) => Ok((first(year, m)?, first(year, m + 1)?)),
    }
}

/// The span of a period from its start and end values (see the module documentation): from the
/// start of `start` to the end of `end`, or to [`OPEN_END`] when `end` is `None`. `None` when
/// there is no start. An end before the start is an error.
pub fn period_span(start: Option<&str>, end: Option<&str>) -> Result<Option<TimeSpan>, String> {
    let Some(start) = start else {
        return Ok(None);
    };
    let (s, first_end) = parse_coarse_time(start)?;
    let e = match end {
        Some(end) => parse_coarse_time(end)?.1,
        None => OPEN_END,
    };
    if e < first_end {
        return Err(format!(
            "the period {start:?} to {end:?} ends before it starts"
        ));
    }
    Ok(Some((s, e)))
}

/// Formats the last instant of a span ending at `end` (exclusive); `None` for an open end.
pub fn format_end(end: i64) -> Option<String> {
    (end != OPEN_END).then(|| format_ms(end - 1))
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

    fn ms(text: &str) -> i64 {
        parse_time(text).unwrap().0
    }

    #[test]
    fn years_and_months_are_whole() {
        assert_eq!(
            parse_coarse_time("2021").unwrap(),
            (ms("2021-01-01"), ms("2022-01-01"))
        );
        assert_eq!(
            parse_coarse_time("2023-12").unwrap(),
            (ms("2023-12-01"), ms("2024-01-01"))
        );
        assert_eq!(
            parse_coarse_time("2024-02").unwrap(),
            (ms("2024-02-01"), ms("2024-03-01"))
        );
        assert_eq!(parse_coarse_time("2021-08-26"), parse_time("2021-08-26"));
        for bad in ["2021-13", "2021-00", "202", "21-01", "20x1", ""] {
            assert!(parse_coarse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn periods_run_from_the_start_of_start_to_the_end_of_end() {
        let p = |s: Option<&str>, e: Option<&str>| period_span(s, e).unwrap();
        assert_eq!(
            p(Some("2021"), Some("2021")),
            Some((ms("2021-01-01"), ms("2022-01-01")))
        );
        assert_eq!(
            p(Some("2023-03"), Some("2023")),
            Some((ms("2023-03-01"), ms("2024-01-01")))
        );
        assert_eq!(p(Some("2016"), None), Some((ms("2016-01-01"), OPEN_END)));
        assert_eq!(p(None, Some("2020")), None);
        assert!(period_span(Some("2020"), Some("2019-12")).is_err());
        assert!(period_span(Some("2020-13"), None).is_err());
        assert_eq!(format_end(OPEN_END), None);
        assert_eq!(
            format_end(ms("2022-01-01")).as_deref(),
            Some("2021-12-31T23:59:59Z")
        );
    }
}
