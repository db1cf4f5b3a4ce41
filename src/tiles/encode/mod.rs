//! Encoding candidates as MVT features.
//!
//! Owns: the properties a tile feature carries (a feature's own, or a cluster's from
//! [`Cluster::properties`], plus `represents` when the budget thinned the layer) as MVT
//! values. The wire format itself is [`mvt`]; the values of a layer encoded once per
//! layer snapshot, for its tiles to copy, are [`values`] (their ids per feature kept in
//! [`rows`]). Also the bytes a point of a layer takes in a tile, estimated once per layer
//! from a sample of its points ([`point_bytes`]), from which the budget thins a dense
//! point tile at once.

pub mod mvt;
pub mod rows;
pub mod values;
mod wire;

use super::cluster::{Cluster, ClusterValue, Item};
use super::gather::Candidate;
use super::settings::TileLayerConfig;
use crate::catalog::{Feature, GeometryKind, Layer, Prop};
use mvt::{LayerEncoder, TileGeometry, TileValue};

/// Points of a layer encoded to estimate the bytes of one ([`point_bytes`]).
pub const POINT_SAMPLE: usize = 4096;

/// The bytes one point of `layer` takes in a tile layer of at most [`POINT_SAMPLE`] of
/// them, with its properties and a `represents` count, as a thinned tile writes them
/// (rounded up): the points are spread evenly over the layer's positions, so their values
/// repeat about as often as those of the first few hundred points of a tile; placed
/// mid-tile, as a tile of the default extent places them. `None` for a layer that is not
/// of points or has no single point among those sampled.
pub fn point_bytes(layer: &Layer) -> Option<usize> {
    if layer.geometry_kind != GeometryKind::Point {
        return None;
    }
    let slots = layer.features.slots();
    let n = slots.min(POINT_SAMPLE);
    let extent = TileLayerConfig::default().extent;
    let mut encoder = LayerEncoder::new(layer.id(), extent);
    let middle = i32::try_from(extent / 2).unwrap_or(i32::MAX);
    let geometry = TileGeometry::Point([middle, middle]);
    for i in 0..n {
        let Some(f) = layer.features.get(i * slots / n) else {
            continue;
        };
        if f.geometry.point().is_none() {
            continue;
        }
        let represents = ("represents", TileValue::Int(1));
        encoder.add_feature(
            Some(f.id),
            feature_values(layer, f).chain([represents]),
            &geometry,
        );
    }
    let written = encoder.len();
    (written > 0).then(|| encoder.size().div_ceil(written))
}

/// Adds one candidate to `encoder`. `represents` is how many candidates the feature stands
/// for, when the layer was thinned.
pub fn write_candidate(
    encoder: &mut LayerEncoder,
    layer: &Layer,
    cfg: &TileLayerConfig,
    c: &Candidate,
    represents: Option<u32>,
) {
    let extra = represents.map(|n| ("represents", TileValue::Int(i64::from(n))));
    match &c.what {
        Item::Point(pos) => {
            let Some(f) = layer.features.get(*pos) else {
                return;
            };
            encoder.add_feature(
                Some(f.id),
                feature_values(layer, f).chain(extra),
                &c.geometry,
            );
        }
        Item::Cluster(cl) => {
            encoder.add_feature(
                Some(cl.id),
                cluster_values(cl, &cfg.cluster.sum).chain(extra),
                &c.geometry,
            );
        }
    }
}

/// The properties of a feature of `layer` as MVT values, by field name; missing and null
/// ones are left out.
fn feature_values<'a>(
    layer: &'a Layer,
    feature: &'a Feature,
) -> impl Iterator<Item = (&'a str, TileValue<'a>)> + 'a {
    layer
        .fields
        .iter()
        .zip(feature.props.iter())
        .filter_map(|(field, p)| prop_value(p).map(|v| (field.name.as_str(), v)))
}

/// The properties of a cluster as MVT values; sums no member has are left out.
fn cluster_values<'a>(
    cluster: &'a Cluster,
    sums: &'a [String],
) -> impl Iterator<Item = (&'a str, TileValue<'a>)> + 'a {
    cluster.properties(sums).filter_map(|(name, v)| {
        let v = match v? {
            ClusterValue::Bool(b) => TileValue::Bool(b),
            ClusterValue::Int(i) => TileValue::Int(i),
            ClusterValue::Float(f) => TileValue::Double(f),
        };
        Some((name, v))
    })
}

fn prop_value(p: &Prop) -> Option<TileValue<'_>> {
    Some(match p {
        Prop::Absent | Prop::Null => return None,
        Prop::Bool(b) => TileValue::Bool(*b),
        Prop::Int(i) => TileValue::Int(*i),
        Prop::Float(f) if f.is_finite() => TileValue::Double(*f),
        Prop::Float(_) => return None,
        Prop::Str(s) => TileValue::Shared(s),
        Prop::Json(v) => TileValue::Json(v),
        Prop::Raw(r) => TileValue::Str(r.get()),
    })
}
