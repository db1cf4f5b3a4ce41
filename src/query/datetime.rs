//! The grammar of the `datetime` parameter.
//!
//! Owns: the syntax check of a `datetime` value and the same grammar as a regular expression
//! for the API document ([`DATETIME_PATTERN`]). The values themselves (calendar dates, times,
//! offsets) are parsed by [`crate::catalog::time::parse_time`].
//!
//! OGC API - Features - Part 1: Core (17-069r4), 7.15.4, Requirement 14
//! `/req/core/fc-time-definition`, gives the grammar (ABNF):
//!
//! ```text
//! interval-closed     = date-time "/" date-time
//! interval-open-start = [".."] "/" date-time
//! interval-open-end   = date-time "/" [".."]
//! interval            = interval-closed / interval-open-start / interval-open-end
//! datetime            = date-time / interval
//! ```
//!
//! with `date-time` from RFC 3339, 5.6 (`T` and `Z` in either case, a numeric offset or `Z`,
//! optional fractional seconds). So an open end is `..` or nothing, and at least one end of an
//! interval is a date-time: `..`, `/`, `../..` and `/..` are refused. A `full-date` in place
//! of a date-time is accepted as well and stands for the whole UTC day.

/// A full-date with an optional RFC 3339 time and offset, as a regular expression.
macro_rules! instant {
    () => {
        concat!(
            "(?:(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
            "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))",
            "|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)",
            "(?:[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?",
            "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]))?)"
        )
    };
}

/// The grammar above as an ECMA-262 regular expression, calendar rules included (days per
/// month, 29 February in leap years only, second 60 as RFC 3339 allows for leap seconds), for the `pattern` of the parameter's schema.
pub const DATETIME_PATTERN: &str = concat!(
    "^(?:",
    instant!(),
    "(?:/(?:",
    instant!(),
    "|\\.\\.)?)?|(?:\\.\\.)?/",
    instant!(),
    ")$"
);

/// The two ends of a `datetime` value that follows the grammar: `(start, end)` for an
/// interval (`None` for an open end), or `(instant, instant)` for an instant. Every end that
/// is not open still has to be parsed as a time.
///
/// # Errors
/// A message saying which rule the value breaks.
pub fn split(text: &str) -> Result<(Option<&str>, Option<&str>), String> {
    let Some((a, b)) = text.split_once('/') else {
        check_instant(text)?;
        return Ok((Some(text), Some(text)));
    };
    let open = |s: &str| s.is_empty() || s == "..";
    match (open(a), open(b)) {
        (true, true) => Err(
            "an interval needs at least one date-time end (`..` and an empty end mean open)"
                .to_owned(),
        ),
        (true, false) => check_instant(b).map(|()| (None, Some(b))),
        (false, true) => check_instant(a).map(|()| (Some(a), None)),
        (false, false) => {
            check_instant(a)?;
            check_instant(b)?;
            Ok((Some(a), Some(b)))
        }
    }
}

/// Checks the shape of `YYYY-MM-DD` with an optional `THH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`.
fn check_instant(s: &str) -> Result<(), String> {
    let shape = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is neither an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac] with Z or \
                 +HH:MM) nor a date YYYY-MM-DD"
            ))
        }
    };
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let date = digits(0..4) && at(4, b"-") && digits(5..7) && at(7, b"-") && digits(8..10);
    if !date || b.len() == 10 {
        return shape(date);
    }
    let time = at(10, b"Tt")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !time {
        return shape(false);
    }
    let mut i = 19;
    if at(i, b".") {
        let frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return shape(false);
        }
        i += 1 + frac;
    }
    let offset = (at(i, b"Zz") && b.len() == i + 1)
        || (at(i, b"+-")
            && digits(i + 1..i + 3)
            && at(i + 3, b":")
            && digits(i + 4..i + 6)
            && b.len() == i + 6);
    shape(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_of_part_1() {
        let ok = [
            "2018-02-12T23:20:50Z",
            "2018-02-12t23:20:50.25z",
            "2018-02-12T23:20:50+04:30",
            "2018-02-12",
            "2018-02-12T00:00:00Z/2018-03-18T12:31:12Z",
            "../2018-03-18T12:31:12Z",
            "/2018-03-18",
            "2018-02-12T00:00:00Z/..",
            "2018-02-12/",
        ];
        for v in ok {
            assert!(split(v).is_ok(), "{v}");
        }
        let bad = [
            "",
            "..",
            "/",
            "../..",
            "/..",
            "../",
            "2018-02-12 23:20:50Z",
            "2018-02-12T23:20:50",
            "2018-02-12T23:20Z",
            "2018-2-12",
            "2018-02-12T23:20:50.Z",
            "2018-02-12/2018-02-13/",
            "2018-02-12T23:20:50+0430",
            "yesterday",
            "2018-02-12Z",
        ];
        for v in bad {
            assert!(split(v).is_err(), "{v}");
        }
    }
}
