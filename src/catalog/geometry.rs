//! GeoJSON geometry objects into `geo` geometries, with the checks of loading.
//!
//! Owns: reading a geometry object's `coordinates` (positions with an optional altitude,
//! which the 2-D geometry leaves out and [`source_form`] keeps for output), the coordinate checks (finite, lon in [-180, 180], lat in [-90, 90],
//! rings closed with at least 4 positions) and geo's validity rules. It does not read
//! features or properties; see [`super::load`].

use std::fmt;

use geo::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
    Validation,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Parses one GeoJSON geometry object, with the same checks as loading.
pub fn parse_geometry(json: &str) -> std::result::Result<Geometry<f64>, String> {
    parse_source_geometry(json).map(|(g, _)| g)
}

/// Parses one GeoJSON geometry object, with the same checks as loading, and says whether
/// any position has more than two members (an altitude), which the 2-D geometry drops.
pub fn parse_source_geometry(json: &str) -> std::result::Result<(Geometry<f64>, bool), String> {
    let raw: RawGeometry<'_> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut altitude = false;
    let geometry = convert_geometry(&raw, &mut altitude)?;
    check_validity(&geometry)?;
    Ok((geometry, altitude))
}

/// Parses a geometry member already read as JSON (a stored or written feature's), with the
/// same checks as loading. `null` gives an empty collection. The second value is the form
/// to serve when the 2-D geometry cannot give the member back ([`source_form`]).
pub fn parse_geometry_value(
    value: &serde_json::Value,
) -> std::result::Result<(Geometry<f64>, Option<Box<RawValue>>), String> {
    if value.is_null() {
        return Ok((
            Geometry::GeometryCollection(geo::GeometryCollection::default()),
            source_form(value),
        ));
    }
    let (geometry, _) = parse_source_geometry(&value.to_string())?;
    Ok((geometry, source_form(value)))
}

/// The geometry member as it must be served when the 2-D geometry cannot give it back: a
/// `null` geometry, or one whose positions carry an altitude. `None` otherwise.
pub fn source_form(value: &serde_json::Value) -> Option<Box<RawValue>> {
    if value.is_null() || has_altitude(value) {
        serde_json::value::to_raw_value(value).ok()
    } else {
        None
    }
}

/// Whether any position of a geometry object has more than two members.
fn has_altitude(geometry: &serde_json::Value) -> bool {
    fn positions(v: &serde_json::Value) -> bool {
        match v.as_array() {
            Some(a) if a.first().is_some_and(serde_json::Value::is_number) => a.len() > 2,
            Some(a) => a.iter().any(positions),
            None => false,
        }
    }
    geometry.get("coordinates").is_some_and(positions)
        || geometry
            .get("geometries")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|members| members.iter().any(has_altitude))
}

#[derive(Deserialize)]
pub(super) struct RawGeometry<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'a str,
    #[serde(borrow, default)]
    coordinates: Option<&'a RawValue>,
    #[serde(borrow, default)]
    geometries: Option<Vec<RawGeometry<'a>>>,
}

/// One position; extra members (altitude) are not part of it, but their presence is noted.
struct Pos(f64, f64, bool);

impl<'de> Deserialize<'de> for Pos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a position [lon, lat]")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Pos, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let mut extra = false;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    extra = true;
                }
                Ok(Pos(x, y, extra))
            }
        }
        d.deserialize_seq(V)
    }
}

fn coords<'a, T: Deserialize<'a>>(raw: &RawGeometry<'a>) -> std::result::Result<T, String> {
    let c = raw
        .coordinates
        .ok_or_else(|| format!("{} has no coordinates", raw.kind))?;
    serde_json::from_str(c.get()).map_err(|e| format!("{} coordinates: {e}", raw.kind))
}

/// The point at `x`, `y` when it passes the checks of loading (finite, in range), as
/// [`parse_source_geometry`] reads a `Point` without altitude; `None` otherwise.
pub(super) fn plain_point(x: f64, y: f64) -> Option<Geometry<f64>> {
    coord(&Pos(x, y, false))
        .ok()
        .map(|c| Geometry::Point(Point(c)))
}

fn coord(p: &Pos) -> std::result::Result<Coord<f64>, String> {
    if !p.0.is_finite() || !p.1.is_finite() {
        return Err(format!("position [{}, {}] is not finite", p.0, p.1));
    }
    if !(-180.0..=180.0).contains(&p.0) {
        return Err(format!("longitude {} is outside [-180, 180]", p.0));
    }
    if !(-90.0..=90.0).contains(&p.1) {
        return Err(format!("latitude {} is outside [-90, 90]", p.1));
    }
    Ok(Coord { x: p.0, y: p.1 })
}

fn line(ps: &[Pos]) -> std::result::Result<LineString<f64>, String> {
    if ps.len() < 2 {
        return Err(format!(
            "a line needs at least 2 positions, got {}",
            ps.len()
        ));
    }
    ps.iter()
        .map(coord)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(LineString::new)
}

fn ring(ps: &[Pos]) -> std::result::Result<LineString<f64>, String> {
    if ps.len() < 4 {
        return Err(format!(
            "a ring needs at least 4 positions, got {}",
            ps.len()
        ));
    }
    let (first, last) = (&ps[0], &ps[ps.len() - 1]);
    #[expect(
        clippy::float_cmp,
        reason = "a closed ring repeats its first position exactly"
    )]
    let closed = first.0 == last.0 && first.1 == last.1;
    if !closed {
        return Err(format!(
            "ring is not closed: starts at [{}, {}], ends at [{}, {}]",
            first.0, first.1, last.0, last.1
        ));
    }
    line(ps)
}

fn polygon(rings: &[Vec<Pos>]) -> std::result::Result<Polygon<f64>, String> {
    let (exterior, holes) = rings
        .split_first()
        .ok_or("a polygon needs at least one ring")?;
    Ok(Polygon::new(
        ring(exterior)?,
        holes
            .iter()
            .map(|h| ring(h))
            .collect::<std::result::Result<_, _>>()?,
    ))
}

pub(super) fn convert_geometry(
    raw: &RawGeometry<'_>,
    altitude: &mut bool,
) -> std::result::Result<Geometry<f64>, String> {
    let mut note = |ps: &[Pos]| *altitude |= ps.iter().any(|p| p.2);
    Ok(match raw.kind {
        "Point" => {
            let p: Pos = coords(raw)?;
            note(std::slice::from_ref(&p));
            Geometry::Point(Point(coord(&p)?))
        }
        "MultiPoint" => {
            let ps: Vec<Pos> = coords(raw)?;
            note(&ps);
            Geometry::MultiPoint(MultiPoint::new(
                ps.iter()
                    .map(|p| coord(p).map(Point))
                    .collect::<std::result::Result<_, _>>()?,
            ))
        }
        "LineString" => {
            let ps: Vec<Pos> = coords(raw)?;
            note(&ps);
            Geometry::LineString(line(&ps)?)
        }
        "MultiLineString" => {
            let ls: Vec<Vec<Pos>> = coords(raw)?;
            ls.iter().for_each(|l| note(l));
            Geometry::MultiLineString(MultiLineString::new(
                ls.iter()
                    .map(|l| line(l))
                    .collect::<std::result::Result<_, _>>()?,
            ))
        }
        "Polygon" => {
            let rings: Vec<Vec<Pos>> = coords(raw)?;
            rings.iter().for_each(|r| note(r));
            Geometry::Polygon(polygon(&rings)?)
        }
        "MultiPolygon" => {
            let ps: Vec<Vec<Vec<Pos>>> = coords(raw)?;
            ps.iter().flatten().for_each(|r| note(r));
            Geometry::MultiPolygon(MultiPolygon::new(
                ps.iter()
                    .map(|p| polygon(p))
                    .collect::<std::result::Result<_, _>>()?,
            ))
        }
        "GeometryCollection" => {
            let gs = raw
                .geometries
                .as_ref()
                .ok_or("GeometryCollection has no geometries")?;
            Geometry::GeometryCollection(
                gs.iter()
                    .map(|g| convert_geometry(g, altitude))
                    .collect::<std::result::Result<_, _>>()?,
            )
        }
        other => return Err(format!("unknown geometry type {other:?}")),
    })
}

pub(super) fn check_validity(g: &Geometry<f64>) -> std::result::Result<(), String> {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => Ok(()),
        other => other
            .check_validation()
            .map_err(|e| format!("invalid geometry: {e}")),
    }
}
