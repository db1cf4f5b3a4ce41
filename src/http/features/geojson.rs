//! The features of a listing page written as GeoJSON straight into the page's buffer: the
//! same document as [`crate::catalog::output::FeatureJson`] (members in its order), with the
//! property names escaped once per page instead of once per feature, a point written
//! without going through a map serializer, and string and integer values written directly.

use crate::catalog::output::GeometryJson;
use crate::catalog::{ApiId, Feature, Layer, Prop, Shape};

/// Writes the features of one page of `layer`.
pub(super) struct FeatureWriter<'a> {
    layer: &'a Layer,
    /// `"name":` of each field, escaped.
    keys: Vec<Vec<u8>>,
    select: Option<&'a [usize]>,
}

impl<'a> FeatureWriter<'a> {
    pub fn new(layer: &'a Layer, select: Option<&'a [usize]>) -> serde_json::Result<Self> {
        let keys = layer
            .fields
            .iter()
            .map(|f| {
                let mut key = serde_json::to_vec(&f.name)?;
                key.push(b':');
                Ok(key)
            })
            .collect::<serde_json::Result<_>>()?;
        Ok(Self {
            layer,
            keys,
            select,
        })
    }

    /// Appends `feature` to `out`, with `extra` (such as `distance_m`) as its last property.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        feature: &Feature,
        extra: Option<(&str, f64)>,
    ) -> serde_json::Result<()> {
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        match self.layer.api_id(feature.id) {
            ApiId::Number(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            ApiId::Text(s) => json_escape_simd::escape_into(s, out),
        }
        out.extend_from_slice(br#","geometry":"#);
        match (&feature.source_geometry, &feature.geometry) {
            (Some(source), _) => serde_json::to_writer(&mut *out, source)?,
            (None, Shape::Point(p)) => {
                out.extend_from_slice(br#"{"type":"Point","coordinates":["#);
                serde_json::to_writer(&mut *out, &p.x())?;
                out.push(b',');
                serde_json::to_writer(&mut *out, &p.y())?;
                out.extend_from_slice(b"]}");
            }
            (None, Shape::Other(geometry)) => {
                serde_json::to_writer(&mut *out, &GeometryJson(geometry))?;
            }
        }
        out.extend_from_slice(br#","properties":{"#);
        let mut first = true;
        let mut emit = |out: &mut Vec<u8>, i: usize| -> serde_json::Result<()> {
            match (feature.props.get(i), self.keys.get(i)) {
                (None | Some(Prop::Absent), _) | (_, None) => Ok(()),
                (Some(value), Some(key)) => {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    out.extend_from_slice(key);
                    write_prop(out, value)
                }
            }
        };
        match self.select {
            Some(select) => {
                for &i in select {
                    emit(out, i)?;
                }
            }
            None => {
                for i in 0..self.keys.len() {
                    emit(out, i)?;
                }
            }
        }
        if let Some((name, value)) = extra {
            if !first {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, name)?;
            out.push(b':');
            serde_json::to_writer(&mut *out, &value)?;
        }
        out.extend_from_slice(b"}}");
        Ok(())
    }
}

/// Writes `value` as JSON, byte for byte as `serde_json` writes it: strings (escaped by
/// `json_escape_simd`, whose escapes are serde_json's) and integers directly, the rest
/// through `serde_json`, whose escaping writes a string in three appends with a table
/// lookup per byte (about a seventh of a page of names and dates).
fn write_prop(out: &mut Vec<u8>, value: &Prop) -> serde_json::Result<()> {
    match value {
        Prop::Str(s) => {
            json_escape_simd::escape_into(&**s, out);
            Ok(())
        }
        Prop::Int(i) => {
            out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes());
            Ok(())
        }
        other => serde_json::to_writer(&mut *out, other),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use geo::{Geometry, Point, Rect};
    use serde_json::value::RawValue;

    use super::*;
    use crate::catalog::output::FeatureJson;
    use crate::catalog::{Field, FieldKind, Time};

    fn field(name: &str, kind: Option<FieldKind>) -> Field {
        Field {
            name: name.into(),
            kind,
        }
    }

    /// Features of every shape the page writer treats apart: points, a polygon, a null
    /// geometry, a string id, and values absent, null, not finite, escaped and nested.
    fn layer() -> Layer {
        let fields = vec![
            field("name \"quoted\"\n", Some(FieldKind::String)),
            field("deaths", Some(FieldKind::Integer)),
            field("score", Some(FieldKind::Number)),
            field("tags", None),
            field("ünï", Some(FieldKind::Boolean)),
        ];
        let props = |i: i64| -> Box<[Prop]> {
            Box::new([
                Prop::Str(format!("Kabul \\ \"{i}\" \u{1}").as_str().into()),
                if i % 2 == 0 {
                    Prop::Int(i)
                } else {
                    Prop::Absent
                },
                Prop::Float(if i == 3 { f64::NAN } else { 0.1 * i as f64 }),
                Prop::Json(Box::new(serde_json::json!({ "a": [i, "x"] }))),
                if i == 1 {
                    Prop::Null
                } else {
                    Prop::Bool(i > 2)
                },
            ])
        };
        let geometries = [
            (Geometry::Point(Point::new(69.123_456_789, -34.5)), None),
            (Geometry::Point(Point::new(-180.0, 90.0)), None),
            (
                Geometry::Polygon(
                    Rect::new(
                        geo::coord! { x: 60.0, y: 30.0 },
                        geo::coord! { x: 61.5, y: 31.0 },
                    )
                    .to_polygon(),
                ),
                None,
            ),
            (
                Geometry::GeometryCollection(geo::GeometryCollection::default()),
                Some(Box::new(RawValue::from_string("null".into()).unwrap())),
            ),
        ];
        let features = geometries
            .into_iter()
            .enumerate()
            .map(|(i, (geometry, source_geometry))| Feature {
                id: i as u64 + 1,
                geometry: geometry.into(),
                source_geometry,
                props: props(i as i64),
                time: Time::NONE,
            })
            .collect();
        let source_ids = [("iskp-\"2\"".into(), 2)].into_iter().collect();
        Layer::build(Arc::new(Default::default()), fields, features, source_ids)
    }

    #[test]
    fn features_are_written_as_the_feature_serializer_writes_them() {
        let layer = layer();
        let selections: [Option<&[usize]>; 4] = [None, Some(&[3, 0]), Some(&[1]), Some(&[])];
        for select in selections {
            let writer = FeatureWriter::new(&layer, select).unwrap();
            for (_, feature) in layer.features.iter() {
                for extra in [None, Some(("distance_m", 12.345)), Some(("d", f64::NAN))] {
                    let mut got = Vec::new();
                    writer.write(&mut got, feature, extra).unwrap();
                    let want = serde_json::to_vec(&FeatureJson {
                        layer: &layer,
                        feature,
                        select,
                        extra,
                        links: None,
                    })
                    .unwrap();
                    assert_eq!(
                        String::from_utf8(got).unwrap(),
                        String::from_utf8(want).unwrap()
                    );
                }
            }
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let mut values: Vec<Prop> = (0u32..0x800)
            .chain([0xFFFD, 0x1F389])
            .filter_map(char::from_u32)
            .map(|c| Prop::Str(format!("a{c}b").as_str().into()))
            .collect();
        // Runs longer than a vector register, of escapes and of plain text.
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 64, 100] {
            values.push(Prop::Str("\u{1f}\"".repeat(len).as_str().into()));
            values.push(Prop::Str(format!("{}\n", "x".repeat(len)).as_str().into()));
        }
        values.extend([i64::MIN, -1, 0, 9, 10, i64::MAX].map(Prop::Int));
        values.extend([
            Prop::Float(0.1),
            Prop::Float(f64::INFINITY),
            Prop::Bool(true),
            Prop::Null,
            Prop::Json(Box::new(serde_json::json!(["\u{7f}", {"k": 1}]))),
        ]);
        for value in &values {
            let mut got = b"[".to_vec();
            write_prop(&mut got, value).unwrap();
            let mut want = b"[".to_vec();
            serde_json::to_writer(&mut want, value).unwrap();
            assert_eq!(got, want, "{value:?}");
        }
    }
}
