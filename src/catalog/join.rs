//! Spatial joins between layers ([`JoinConfig`]): points take attributes of the polygon that
//! contains them, and polygons count the points inside.
//!
//! Owns: where a geometry is placed ([`join_point`], [`polygon_containing`]), the full join
//! ([`apply`], [`apply_all`]) and the incremental join after a write of some points
//! ([`apply_incremental`]), which gives the same values as a full join. It does not decide
//! which joins a write touches; the store does.
//!
//! A point (or the first point of a multipoint) on a shared border belongs to the first
//! polygon (in layer order) that contains or touches it; a point in no polygon gets `null`
//! for the copied properties. Lines and polygons of the point layer are never placed.

use std::collections::{BTreeMap, HashSet};

use geo::{Geometry, Intersects, Point};

use super::model::{FieldKind, Layer, Prop};
use super::schema::{pad, widen};
use super::settings::JoinConfig;
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

/// For each slot of the point layer, the position of the polygon feature containing it.
pub fn containing_polygons(points: &Layer, polygons: &Layer) -> Vec<Option<usize>> {
    points
        .features
        .by_slot()
        .map(|f| polygon_containing(polygons, join_point(&f?.geometry.get())?))
        .collect()
}

/// The point a join places for a geometry: a point, or the first point of a multipoint.
pub fn join_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        Geometry::MultiPoint(mp) => mp.0.first().copied(),
        _ => None,
    }
}

/// The first polygon (in layer order) containing or touching `p`.
pub fn polygon_containing(polygons: &Layer, p: Point<f64>) -> Option<usize> {
    let mut hits: Vec<usize> = polygons
        .index
        .in_envelope(p.x(), p.y(), p.x(), p.y())
        .filter(|&i| {
            polygons
                .features
                .get(i)
                .is_some_and(|f| f.geometry.get().intersects(&p))
        })
        .collect();
    hits.sort_unstable();
    hits.first().copied()
}

fn ensure_field(layer: &mut Layer, name: &str) -> usize {
    if let Some(i) = layer.field_index(name) {
        return i;
    }
    let mut schema = super::schema::Schema::from_fields(std::mem::take(&mut layer.fields));
    let pos = schema.position(name);
    layer.fields = schema.into_fields();
    for (_, f) in layer.features.iter_mut() {
        pad(&mut f.props, layer.fields.len());
    }
    pos
}

/// Applies one join in place and bumps both generations.
pub fn apply(points: &mut Layer, polygons: &mut Layer, join: &JoinConfig) {
    let owners = containing_polygons(points, polygons);
    for (target, source) in &join.copy {
        let t = ensure_field(points, target);
        let s = polygons.field_index(source);
        points.fields[t].kind = None;
        for (pos, feature) in points.features.iter_mut() {
            let owner = owners.get(pos).copied().flatten();
            let value = copied_value(polygons, owner, s);
            widen(&mut points.fields[t], &value);
            feature.props[t] = value;
        }
    }
    if let Some(count_property) = &join.count_property {
        let c = ensure_field(polygons, count_property);
        let mut counts = vec![0_i64; polygons.features.slots()];
        for &o in owners.iter().flatten() {
            counts[o] += 1;
        }
        for (pos, feature) in polygons.features.iter_mut() {
            feature.props[c] = Prop::Int(counts[pos]);
        }
        polygons.fields[c].kind = Some(FieldKind::Integer);
    }
    points.generation = super::next_generation();
    polygons.generation = super::next_generation();
}

/// The value a point takes from property `source` of polygon `owner`: `null` when there is
/// no owner, no such property, or the polygon lacks it.
fn copied_value(polygons: &Layer, owner: Option<usize>, source: Option<usize>) -> Prop {
    match (owner, source) {
        (Some(o), Some(s)) => match polygons.features.get(o).and_then(|f| f.props.get(s)) {
            None | Some(Prop::Absent) => Prop::Null,
            Some(v) => v.clone(),
        },
        _ => Prop::Null,
    }
}

/// Updates `join` for the points `ids` only: their copied properties in `new_points` (the
/// snapshot after the write), and the counts of `polygons`, by comparing where each point was
/// in `old_points` with where it is now. Returns `None` when the layers do not have the
/// join's fields yet (then only [`apply`] gives the join), `Some(None)` when the counts are
/// unchanged, and `Some(Some(polygons))`, with a new generation, when they changed.
pub fn apply_incremental(
    old_points: &Layer,
    new_points: &mut Layer,
    polygons: &Layer,
    join: &JoinConfig,
    ids: &[u64],
) -> Option<Option<Layer>> {
    let mut targets = Vec::with_capacity(join.copy.len());
    for (target, source) in &join.copy {
        targets.push((
            new_points.field_index(target)?,
            polygons.field_index(source),
        ));
    }
    let count = match &join.count_property {
        Some(c) => Some(polygons.field_index(c)?),
        None => None,
    };
    let owner = |layer: &Layer, id: u64| {
        polygon_containing(polygons, join_point(&layer.feature(id)?.geometry.get())?)
    };
    let mut delta: BTreeMap<usize, i64> = BTreeMap::new();
    let unique: HashSet<u64> = ids.iter().copied().collect();
    for &id in &unique {
        let before = owner(old_points, id);
        let after = owner(new_points, id);
        if let Some(p) = new_points.position(id) {
            for &(t, s) in &targets {
                let value = copied_value(polygons, after, s);
                widen(&mut new_points.fields[t], &value);
                if let Some(f) = new_points.features.get_mut(p) {
                    f.props[t] = value;
                }
            }
        }
        if count.is_some() && before != after {
            if let Some(b) = before {
                *delta.entry(b).or_default() -= 1;
            }
            if let Some(a) = after {
                *delta.entry(a).or_default() += 1;
            }
        }
    }
    let Some(c) = count.filter(|_| delta.values().any(|&d| d != 0)) else {
        return Some(None);
    };
    let mut counted = polygons.clone();
    for (o, d) in delta {
        if let Some(f) = counted.features.get_mut(o) {
            let n = match f.props[c] {
                Prop::Int(n) => n,
                _ => 0,
            };
            f.props[c] = Prop::Int(n + d);
        }
    }
    counted.generation = super::next_generation();
    Some(Some(counted))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use geo::{Geometry, MultiPoint, Point, Rect, coord};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::catalog::{Feature, Field, LayerSettings};

    fn layer(id: &str, fields: &[&str], features: Vec<Feature>) -> Layer {
        let fields = fields
            .iter()
            .map(|name| Field {
                name: (*name).to_owned(),
                kind: None,
            })
            .collect();
        let settings = LayerSettings {
            id: id.to_owned(),
            ..LayerSettings::default()
        };
        Layer::build(Arc::new(settings), fields, features, Default::default())
    }

    /// A 4 x 4 grid of unit squares over [0, 4]², with holes: squares whose name is
    /// missing, and squares left out, so that some points fall in no polygon.
    fn regions() -> Layer {
        let mut features = Vec::new();
        for i in 0..4 {
            for j in 0..4 {
                if (i + j) % 5 == 4 {
                    continue;
                }
                let (x, y) = (f64::from(i), f64::from(j));
                let rect = Rect::new(coord! { x: x, y: y }, coord! { x: x + 1.0, y: y + 1.0 });
                let name = if i == 2 && j == 1 {
                    Prop::Absent
                } else {
                    Prop::Str(format!("r{i}{j}").into())
                };
                features.push(Feature {
                    id: features.len() as u64 + 1,
                    geometry: Geometry::Polygon(rect.to_polygon()).into(),
                    source_geometry: None,
                    props: vec![name].into_boxed_slice(),
                    time: crate::catalog::Time::NONE,
                });
            }
        }
        layer("regions", &["name"], features)
    }

    fn random_geometry(rng: &mut StdRng) -> Geometry<f64> {
        // Some points on grid lines, to exercise the border rule.
        let coordinate = |rng: &mut StdRng| {
            if rng.gen_bool(0.2) {
                f64::from(rng.gen_range(-1..=5))
            } else {
                rng.gen_range(-0.5..4.5)
            }
        };
        let p = Point::new(coordinate(rng), coordinate(rng));
        if rng.gen_bool(0.15) {
            let q = Point::new(coordinate(rng), coordinate(rng));
            Geometry::MultiPoint(MultiPoint::new(vec![p, q]))
        } else {
            Geometry::Point(p)
        }
    }

    fn point(id: u64, geometry: Geometry<f64>, width: usize) -> Feature {
        let mut props = vec![Prop::Absent; width];
        props[0] = Prop::Int(id as i64);
        Feature {
            id,
            geometry: geometry.into(),
            source_geometry: None,
            props: props.into_boxed_slice(),
            time: crate::catalog::Time::NONE,
        }
    }

    fn join_config() -> JoinConfig {
        JoinConfig {
            points: "incidents".into(),
            polygons: "regions".into(),
            copy: [("region".to_owned(), "name".to_owned())].into(),
            count_property: Some("incidents".into()),
        }
    }

    fn values(layer: &Layer, name: &str) -> Vec<(u64, Prop)> {
        let i = layer.field_index(name).unwrap_or(usize::MAX);
        layer
            .features
            .iter()
            .map(|(_, f)| (f.id, f.props.get(i).cloned().unwrap_or(Prop::Absent)))
            .collect()
    }

    #[test]
    fn incremental_join_agrees_with_a_full_join_after_random_edits() {
        let join = join_config();
        for seed in 0..40 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut polygons = regions();
            let initial = (1..=rng.gen_range(0..30))
                .map(|id| point(id, random_geometry(&mut rng), 1))
                .collect();
            let mut points = layer("incidents", &["n"], initial);
            apply(&mut points, &mut polygons, &join);
            let mut next_id = points.features.live() as u64 + 1;
            for _ in 0..6 {
                let mut features: Vec<Feature> =
                    points.features.iter().map(|(_, f)| f.clone()).collect();
                let width = points.fields.len();
                let mut ids = Vec::new();
                for _ in 0..rng.gen_range(1..5) {
                    match rng.gen_range(0..3) {
                        0 if !features.is_empty() => {
                            let at = rng.gen_range(0..features.len());
                            ids.push(features.remove(at).id);
                        }
                        1 if !features.is_empty() => {
                            let at = rng.gen_range(0..features.len());
                            features[at].geometry = random_geometry(&mut rng).into();
                            ids.push(features[at].id);
                        }
                        _ => {
                            features.push(point(next_id, random_geometry(&mut rng), width));
                            ids.push(next_id);
                            next_id += 1;
                        }
                    }
                }
                let edited = points.with_features(points.fields.clone(), features);

                let mut incremental = edited.clone();
                let counted = apply_incremental(&points, &mut incremental, &polygons, &join, &ids)
                    .unwrap_or_else(|| panic!("seed {seed}: the join's fields exist"));
                let incremental_polygons = counted.unwrap_or_else(|| polygons.clone());

                let (mut full, mut full_polygons) = (edited, polygons.clone());
                apply(&mut full, &mut full_polygons, &join);

                assert_eq!(
                    values(&incremental, "region"),
                    values(&full, "region"),
                    "seed {seed}: copied values"
                );
                assert_eq!(
                    values(&incremental_polygons, "incidents"),
                    values(&full_polygons, "incidents"),
                    "seed {seed}: counts"
                );
                points = full;
                polygons = full_polygons;
            }
        }
    }

    #[test]
    fn join_point_is_the_point_or_the_first_of_a_multipoint() {
        let p = Point::new(1.0, 2.0);
        assert_eq!(join_point(&Geometry::Point(p)), Some(p));
        let mp = MultiPoint::new(vec![p, Point::new(3.0, 4.0)]);
        assert_eq!(join_point(&Geometry::MultiPoint(mp)), Some(p));
        assert_eq!(
            join_point(&Geometry::MultiPoint(MultiPoint::new(vec![]))),
            None
        );
        let square = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
        assert_eq!(join_point(&Geometry::Polygon(square.to_polygon())), None);
    }
}
