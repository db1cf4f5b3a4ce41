//! Query-string values, decoded and parsed into types.
//!
//! Owns: the decoded query string ([`Params`]: every parameter known, none repeated, `f`
//! asking for JSON) and the parsers of `datetime`, `coords` (WKT point), `within` +
//! `within-units`, `limit`, `offset`, `sortby` and equality filter values. Each parser names
//! the parameter and the bad value in its error. `bbox` is [`crate::geom::bbox::BBox`]. Which
//! parameters a request takes is [`super::request`]'s business.
//!
//! OGC API - Features asks servers to reject unknown parameters, so each endpoint lists what
//! it accepts; property names that are queryables of the layer are accepted as equality
//! filters where the endpoint allows them.

use std::collections::BTreeMap;

use geo::Point;

pub use crate::geom::bbox::BBox;

use crate::catalog::time::parse_time;
use crate::catalog::{FieldKind, Layer, Prop, TimeSpan};
use crate::error::{Error, Result};
use crate::index::geodesic::HALF_CIRCUMFERENCE_M;

/// The decoded parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Decodes `query`, rejecting repeated parameters and those for which `known` is false.
    pub fn parse(query: &str, known: impl Fn(&str) -> bool) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if !known(&k) {
                return Err(Error::UnknownParameter(k.into_owned()));
            }
            if values
                .insert(k.clone().into_owned(), v.into_owned())
                .is_some()
            {
                return Err(Error::RepeatedParameter(k.into_owned()));
            }
        }
        Ok(Self { values })
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// All parameters, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Checks `f` of a feature listing: JSON, HTML or CSV (which media type each is, the
    /// HTTP layer decides).
    pub fn check_listing_format(&self) -> Result<()> {
        match self.get("f") {
            Some("html" | "text/html" | "csv" | "text/csv") => Ok(()),
            _ => self.check_format(),
        }
    }

    /// Checks `f` (output format): only JSON is served by the API endpoints.
    pub fn check_format(&self) -> Result<()> {
        match self.get("f") {
            None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
            Some(other) => Err(Error::bad_param("f", other, "supported formats: json")),
        }
    }
}

/// A `datetime` filter: a half-open span in ms, either end open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Interval {
    /// Parses an instant (`2021-08-26`, `2021-08-26T12:00:00Z`) or an interval
    /// (`start/end`, either end `..` or empty for open, not both; see [`super::datetime`]). Dates cover whole days, so
    /// `2021-01-01/2021-12-31` includes all of 31 December.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: String| Error::bad_param("datetime", text, reason);
        let (a, b) = super::datetime::split(text).map_err(bad)?;
        let start = a.map(|s| parse_time(s).map_err(bad)).transpose()?;
        let end = b.map(|s| parse_time(s).map_err(bad)).transpose()?;
        let (start, end) = (start.map(|t| t.0), end.map(|t| t.1));
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(bad("the interval ends before it starts".to_owned()));
        }
        Ok(Self { start, end })
    }

    /// Whether a feature time overlaps the interval. Features without time match only
    /// intervals open at both ends.
    pub fn matches(&self, time: Option<TimeSpan>) -> bool {
        match time {
            None => self.start.is_none() && self.end.is_none(),
            Some((s, e)) => self.start.is_none_or(|q| e > q) && self.end.is_none_or(|q| s < q),
        }
    }
}

/// Parses `POINT(lon lat)` (WKT, case-insensitive) into a point in degrees.
pub fn parse_coords(text: &str) -> Result<Point<f64>> {
    let bad = |reason: &str| Error::bad_param("coords", text, reason);
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let inner = upper
        .strip_prefix("POINT")
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad("expected POINT(lon lat)"))?;
    let nums: Vec<f64> = inner
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad("expected two numbers: POINT(lon lat)"))?;
    let [lon, lat] = nums[..] else {
        return Err(bad("expected two numbers: POINT(lon lat)"));
    };
    if !lon.is_finite() || !lat.is_finite() {
        return Err(bad("numbers must be finite"));
    }
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(bad("lon must be in [-180, 180] and lat in [-90, 90]"));
    }
    Ok(Point::new(lon, lat))
}

/// Parses `within` with `within-units` (`m` or `km`, default `km`) into metres, in
/// (0, half the Earth's equatorial circumference].
pub fn parse_within(within: &str, units: Option<&str>) -> Result<f64> {
    let factor = match units.unwrap_or("km") {
        "km" => 1000.0,
        "m" => 1.0,
        other => return Err(Error::bad_param("within-units", other, "expected m or km")),
    };
    let value: f64 = within
        .trim()
        .parse()
        .map_err(|_| Error::bad_param("within", within, "expected a number"))?;
    let metres = value * factor;
    if !metres.is_finite() || metres <= 0.0 {
        return Err(Error::bad_param("within", within, "must be greater than 0"));
    }
    if metres > HALF_CIRCUMFERENCE_M {
        return Err(Error::bad_param(
            "within",
            within,
            format!("must be at most half the Earth's circumference ({HALF_CIRCUMFERENCE_M:.0} m)"),
        ));
    }
    Ok(metres)
}

/// The `zoom` (required, at most `max_zoom`) and `bbox` (default: the world) of a cluster
/// listing.
///
/// # Errors
/// A 400 naming the missing or bad parameter.
pub fn cluster_zoom_and_bbox(p: &Params, max_zoom: u8) -> Result<(u8, BBox)> {
    let zoom_text = p
        .get("zoom")
        .ok_or_else(|| Error::bad_param("zoom", "", "zoom is required"))?;
    let zoom = parse_count("zoom", zoom_text, 0, usize::from(max_zoom))?;
    let bbox = p
        .get("bbox")
        .map(BBox::parse)
        .transpose()?
        .unwrap_or(BBox::WORLD);
    Ok((u8::try_from(zoom).unwrap_or(u8::MAX), bbox))
}

/// Parses a count parameter in `min..=max`.
pub fn parse_count(param: &str, text: &str, min: usize, max: usize) -> Result<usize> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| Error::bad_param(param, text, "expected a non-negative integer"))?;
    if n < min || n > max {
        return Err(Error::bad_param(
            param,
            text,
            format!("must be in {min}..={max}"),
        ));
    }
    Ok(n)
}

/// One `sortby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: usize,
    pub descending: bool,
}

/// Parses `sortby=+date,-deaths` against the layer's queryables.
pub fn parse_sortby(layer: &Layer, text: &str) -> Result<Vec<SortKey>> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (descending, name) = match part.as_bytes().first() {
                Some(b'-') => (true, &part[1..]),
                Some(b'+') => (false, &part[1..]),
                _ => (false, part),
            };
            let field = queryable(layer, "sortby", name)?;
            Ok(SortKey { field, descending })
        })
        .collect()
}

/// Position of a queryable property, or a 400 naming it.
pub fn queryable(layer: &Layer, param: &str, name: &str) -> Result<usize> {
    layer
        .queryables()
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| layer.field_index(&f.name))
        .ok_or_else(|| {
            Error::bad_param(
                param,
                name,
                format!("not a queryable property of '{}'", layer.id()),
            )
        })
}

/// Parses the value of an equality filter on `field` according to the field's type.
pub fn parse_filter_value(layer: &Layer, field: usize, text: &str) -> Result<Prop> {
    let f = &layer.fields[field];
    let bad = |what: &str| Error::bad_param(&f.name, text, format!("expected {what}"));
    if text == "null" {
        return Ok(Prop::Null);
    }
    Ok(match f.kind {
        Some(FieldKind::Integer) => Prop::Int(text.parse().map_err(|_| bad("an integer"))?),
        Some(FieldKind::Number) => {
            let v: f64 = text.parse().map_err(|_| bad("a number"))?;
            if !v.is_finite() {
                return Err(bad("a finite number"));
            }
            Prop::Float(v)
        }
        Some(FieldKind::Boolean) => Prop::Bool(text.parse().map_err(|_| bad("true or false"))?),
        _ => Prop::Str(text.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_overlap_open_and_closed_intervals() {
        use crate::catalog::time::period_span;
        let at = |s: &str| Interval::parse(s).unwrap();
        let year_2021 = period_span(Some("2021"), Some("2021")).unwrap();
        let open_2016 = period_span(Some("2016"), None).unwrap();
        let mar_2023 = period_span(Some("2023-03"), Some("2023")).unwrap();
        assert!(at("2021-12-31").matches(year_2021));
        assert!(at("2021-01-01").matches(year_2021));
        assert!(!at("2022-01-01").matches(year_2021));
        assert!(!at("../2020-12-31").matches(year_2021));
        assert!(at("2020-06-01/2021-01-01").matches(year_2021));
        assert!(at("2030-01-01").matches(open_2016));
        assert!(at("2025-01-01/..").matches(open_2016));
        assert!(!at("../2015-12-31").matches(open_2016));
        assert!(at("../2016-01-01").matches(open_2016));
        assert!(!at("2023-02-28").matches(mar_2023));
        assert!(at("2023-03-01").matches(mar_2023));
        assert!(at("2023-12-31T23:59:59Z").matches(mar_2023));
        assert!(!at("2024-01-01/..").matches(mar_2023));
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        let known = |k: &str| matches!(k, "limit" | "bbox");
        assert!(Params::parse("limit=1&bbox=1,2,3,4", known).is_ok());
        assert!(matches!(
            Params::parse("limt=1", known),
            Err(Error::UnknownParameter(_))
        ));
        assert!(matches!(
            Params::parse("limit=1&limit=2", known),
            Err(Error::RepeatedParameter(_))
        ));
        let p = Params::parse("bbox=1%2C2%2C3%2C4", known).unwrap();
        assert_eq!(p.get("bbox"), Some("1,2,3,4"));
    }

    #[test]
    fn datetime_instants_and_open_intervals() {
        let day = Interval::parse("2021-08-26").unwrap();
        let feature = parse_time("2021-08-26").unwrap();
        assert!(day.matches(Some(feature)));
        assert!(
            Interval::parse("../2021-08-26")
                .unwrap()
                .matches(Some(feature))
        );
        assert!(
            Interval::parse("2021-08-26/..")
                .unwrap()
                .matches(Some(feature))
        );
        assert!(
            !Interval::parse("2021-08-27/..")
                .unwrap()
                .matches(Some(feature))
        );
        assert!(Interval::parse("2021-08-27/2021-08-01").is_err());
        assert!(Interval::parse("../..").is_err());
        assert!(!day.matches(None));
    }

    #[test]
    fn coords_and_within() {
        assert_eq!(
            parse_coords("POINT(69.2 34.5)").unwrap(),
            Point::new(69.2, 34.5)
        );
        assert_eq!(
            parse_coords("point ( -179.5 -89 )").unwrap(),
            Point::new(-179.5, -89.0)
        );
        for bad in [
            "POINT(1)",
            "POINT(1 2 3)",
            "POINT(nan 1)",
            "1 2",
            "POINT(181 0)",
        ] {
            assert!(parse_coords(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_within("50", Some("km")).unwrap(), 50_000.0);
        assert_eq!(parse_within("50", Some("m")).unwrap(), 50.0);
        for bad in ["0", "-1", "abc", "20038", "inf"] {
            assert!(parse_within(bad, None).is_err(), "{bad}");
        }
        assert!(parse_within("1", Some("mi")).is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("limit", "10", 1, 100).unwrap(), 10);
        for bad in ["0", "-1", "abc", "1000000000", ""] {
            assert!(parse_count("limit", bad, 1, 10_000).is_err(), "{bad}");
        }
    }
}
