//! GeoJSON output (RFC 7946) of features, written straight from the in-memory model.
//!
//! Owns: [`GeometryJson`] and [`FeatureJson`], `Serialize` views that need no intermediate
//! JSON tree. Coordinates are written as stored (lon, lat); a geometry the 2-D model cannot
//! give back (`null`, or positions with an altitude) is written as the source wrote it.
//! Feature ids are written as the source gave them ([`super::model::ApiId`]).

use geo::{Coord, Geometry, LineString, Polygon};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::model::{Feature, Layer, PropertiesView};

/// A geometry as a GeoJSON geometry object.
pub struct GeometryJson<'a>(pub &'a Geometry<f64>);

struct Position(Coord<f64>);
struct Positions<'a>(&'a LineString<f64>);
struct Rings<'a>(&'a Polygon<f64>);

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.0.x)?;
        seq.serialize_element(&self.0.y)?;
        seq.end()
    }
}

impl Serialize for Positions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.0.iter().map(|c| Position(*c)))
    }
}

impl Serialize for Rings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            std::iter::once(self.0.exterior())
                .chain(self.0.interiors())
                .map(Positions),
        )
    }
}

impl Serialize for GeometryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self.0 {
            Geometry::Point(p) => {
                map.serialize_entry("type", "Point")?;
                map.serialize_entry("coordinates", &Position(p.0))?;
            }
            Geometry::MultiPoint(mp) => {
                map.serialize_entry("type", "MultiPoint")?;
                let v: Vec<Position> = mp.iter().map(|p| Position(p.0)).collect();
                map.serialize_entry("coordinates", &v)?;
            }
            Geometry::Line(l) => {
                map.serialize_entry("type", "LineString")?;
                map.serialize_entry("coordinates", &[Position(l.start), Position(l.end)])?;
            }
            Geometry::LineString(ls) => {
                map.serialize_entry("type", "LineString")?;
                map.serialize_entry("coordinates", &Positions(ls))?;
            }
            Geometry::MultiLineString(mls) => {
                map.serialize_entry("type", "MultiLineString")?;
                let v: Vec<Positions> = mls.iter().map(Positions).collect();
                map.serialize_entry("coordinates", &v)?;
            }
            Geometry::Polygon(p) => {
                map.serialize_entry("type", "Polygon")?;
                map.serialize_entry("coordinates", &Rings(p))?;
            }
            Geometry::MultiPolygon(mp) => {
                map.serialize_entry("type", "MultiPolygon")?;
                let v: Vec<Rings> = mp.iter().map(Rings).collect();
                map.serialize_entry("coordinates", &v)?;
            }
            Geometry::Rect(r) => {
                let p = r.to_polygon();
                map.serialize_entry("type", "Polygon")?;
                map.serialize_entry("coordinates", &Rings(&p))?;
            }
            Geometry::Triangle(t) => {
                let p = t.to_polygon();
                map.serialize_entry("type", "Polygon")?;
                map.serialize_entry("coordinates", &Rings(&p))?;
            }
            Geometry::GeometryCollection(gc) => {
                map.serialize_entry("type", "GeometryCollection")?;
                let v: Vec<GeometryJson> = gc.iter().map(GeometryJson).collect();
                map.serialize_entry("geometries", &v)?;
            }
        }
        map.end()
    }
}

/// A feature as a GeoJSON Feature, optionally with selected properties, an extra numeric
/// property (such as `distance_m`) and `links`.
pub struct FeatureJson<'a> {
    pub layer: &'a Layer,
    pub feature: &'a Feature,
    pub select: Option<&'a [usize]>,
    pub extra: Option<(&'a str, f64)>,
    pub links: Option<serde_json::Value>,
}

impl<'a> FeatureJson<'a> {
    /// The whole feature.
    pub fn new(layer: &'a Layer, feature: &'a Feature) -> Self {
        Self {
            layer,
            feature,
            select: None,
            extra: None,
            links: None,
        }
    }
}

impl Serialize for FeatureJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "Feature")?;
        map.serialize_entry("id", &self.layer.api_id(self.feature.id))?;
        match &self.feature.source_geometry {
            Some(source) => map.serialize_entry("geometry", source)?,
            None => map.serialize_entry("geometry", &GeometryJson(&self.feature.geometry.get()))?,
        }
        map.serialize_entry(
            "properties",
            &PropertiesView {
                fields: &self.layer.fields,
                feature: self.feature,
                select: self.select,
                extra: self.extra,
            },
        )?;
        if let Some(links) = &self.links {
            map.serialize_entry("links", links)?;
        }
        map.end()
    }
}
