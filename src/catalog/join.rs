//! Spatial joins declared in config: points take attributes of the polygon that contains
//! them, and polygons count the points inside.
//!
//! A point on a shared border belongs to the first polygon (in file order) that contains or
//! touches it; a point in no polygon gets `null` for the copied properties. Joins are
//! recomputed from scratch, so they are correct after any write.

use geo::{Geometry, Intersects, Point};

use super::model::{Field, FieldKind, Layer, Prop};
use crate::config::JoinConfig;
use crate::error::{Error, Result};

/// Applies every join to `layers` (in place), in configuration order.
pub fn apply_all(layers: &mut [Layer], joins: &[JoinConfig]) -> Result<()> {
    for join in joins {
        let find = |id: &str| {
            layers
                .iter()
                .position(|l| l.config.id == id)
                .ok_or_else(|| Error::Config(format!("join names unknown layer {id:?}")))
        };
        let (p, q) = (find(&join.points)?, find(&join.polygons)?);
        if p == q {
            return Err(Error::Config(format!(
                "join of layer {:?} with itself",
                join.points
            )));
        }
        let (points, polygons) = if p < q {
            let (a, b) = layers.split_at_mut(q);
            (&mut a[p], &mut b[0])
        } else {
            let (a, b) = layers.split_at_mut(p);
            (&mut b[0], &mut a[q])
        };
        apply(points, polygons, join);
    }
    Ok(())
}

/// For each point feature, the position of the polygon feature containing it.
pub fn containing_polygons(points: &Layer, polygons: &Layer) -> Vec<Option<usize>> {
    points
        .features
        .iter()
        .map(|f| {
            let p = match &f.geometry {
                Geometry::Point(p) => *p,
                Geometry::MultiPoint(mp) => *mp.0.first()?,
                _ => return None,
            };
            polygon_containing(polygons, p)
        })
        .collect()
}

/// The first polygon (in layer order) containing or touching `p`.
pub fn polygon_containing(polygons: &Layer, p: Point<f64>) -> Option<usize> {
    let mut hits: Vec<usize> = polygons
        .index
        .in_envelope(p.x(), p.y(), p.x(), p.y())
        .filter(|&i| polygons.features[i].geometry.intersects(&p))
        .collect();
    hits.sort_unstable();
    hits.first().copied()
}

fn ensure_field(layer: &mut Layer, name: &str) -> usize {
    if let Some(i) = layer.field_index(name) {
        return i;
    }
    layer.fields.push(Field {
        name: name.to_owned(),
        kind: None,
    });
    let width = layer.fields.len();
    for f in &mut layer.features {
        let mut v = std::mem::take(&mut f.props).into_vec();
        v.resize(width, Prop::Absent);
        f.props = v.into_boxed_slice();
    }
    width - 1
}

/// Applies one join in place and bumps both generations.
pub fn apply(points: &mut Layer, polygons: &mut Layer, join: &JoinConfig) {
    let owners = containing_polygons(points, polygons);
    for (target, source) in &join.copy {
        let t = ensure_field(points, target);
        let s = polygons.field_index(source);
        let mut kind: Option<FieldKind> = None;
        for (feature, owner) in points.features.iter_mut().zip(&owners) {
            let value = match (owner, s) {
                (Some(o), Some(s)) => polygons.features[*o].props[s].clone(),
                _ => Prop::Null,
            };
            if let Some(k) = value.kind() {
                kind = Some(kind.map_or(k, |old| old.merge(k)));
            }
            feature.props[t] = match value {
                Prop::Absent => Prop::Null,
                v => v,
            };
        }
        points.fields[t].kind = kind;
    }
    if let Some(count_property) = &join.count_property {
        let c = ensure_field(polygons, count_property);
        let mut counts = vec![0_i64; polygons.features.len()];
        for o in owners.iter().flatten() {
            counts[*o] += 1;
        }
        for (feature, n) in polygons.features.iter_mut().zip(counts) {
            feature.props[c] = Prop::Int(n);
        }
        polygons.fields[c].kind = Some(FieldKind::Integer);
    }
    points.generation = super::next_generation();
    polygons.generation = super::next_generation();
}
