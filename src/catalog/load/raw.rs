//! One feature as the file gives it ([`RawFeature`]), and what can be read from it alone,
//! before the layer's state (ids seen, fields, shared strings) is consulted ([`Parsed`]).
//! This part may run on another thread than the one building the layer.

use geo::Geometry;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::parse_source_geometry;
use crate::catalog::model::{ArcStr, SourceGeometry};

/// A Feature object with its members borrowed from the text.
#[derive(Deserialize)]
pub struct RawFeature<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    /// `None` when the member is missing, `Some(None)` when it is `null`.
    #[serde(borrow, default, deserialize_with = "present")]
    pub geometry: Option<Option<&'a RawValue>>,
    #[serde(borrow, default)]
    pub properties: Option<&'a RawValue>,
}

/// The numeric id of an `id` member, and the string it was made from.
fn read_id(text: &str) -> std::result::Result<(Option<u64>, Option<ArcStr>), String> {
    // Only digits (the text is valid JSON: no sign, no leading zero) that fit: the number.
    if let Ok(n) = text.parse::<u64>() {
        return Ok((Some(n), None));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(id) => Ok((Some(id), None)),
            None => Err(format!("id {n} is not a non-negative integer")),
        },
        Ok(serde_json::Value::String(s)) => Ok((Some(super::string_id(&s)), Some(ArcStr::from(s)))),
        _ => Err(format!("id {text} is neither a string nor a number")),
    }
}

/// A member that may be `null`, distinguished from a missing one.
fn present<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<&'de RawValue>>, D::Error> {
    Option::<&'de RawValue>::deserialize(d).map(Some)
}

/// A `null` geometry: an empty collection, served as `null`.
pub fn null_geometry() -> (Geometry, Option<SourceGeometry>) {
    (
        Geometry::GeometryCollection(geo::GeometryCollection::default()),
        serde_json::from_str("null").ok().map(Box::new),
    )
}

/// The parts of a feature that depend on nothing but its own text.
#[derive(Debug)]
pub struct Parsed {
    pub geometry: Geometry,
    pub source_geometry: Option<SourceGeometry>,
    /// The numeric id; `None` when the feature has no `id` member (its position is used).
    pub id: Option<u64>,
    /// A string `id` member.
    pub source_id: Option<ArcStr>,
}

impl RawFeature<'_> {
    /// Checks the type, then reads the geometry, then the id, in that order (the first
    /// problem found is the reason the feature is refused).
    pub fn parse(&self) -> std::result::Result<Parsed, String> {
        if self.kind != "Feature" {
            return Err(format!("type is {:?}, expected \"Feature\"", self.kind));
        }
        let geometry_json = self.geometry.ok_or("geometry is missing")?;
        let (geometry, source_geometry) = match geometry_json {
            None => null_geometry(),
            Some(json) => {
                let (geometry, altitude) = parse_source_geometry(json.get())?;
                (geometry, altitude.then(|| Box::new(json.to_owned())))
            }
        };
        let (id, source_id) = match self.id {
            None => (None, None),
            Some(v) => read_id(v.get())?,
        };
        Ok(Parsed {
            geometry,
            source_geometry,
            id,
            source_id,
        })
    }

    /// The `properties` member, unless it is missing or `null`.
    pub fn properties(&self) -> Option<&str> {
        self.properties.map(RawValue::get).filter(|p| *p != "null")
    }
}
