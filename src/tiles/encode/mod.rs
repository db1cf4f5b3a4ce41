//! Encoding candidates as MVT features.
//!
//! Owns: the properties a tile feature carries (a feature's own, or a cluster's from
//! [`Cluster::properties`], plus `represents` when the budget thinned the layer) as MVT
//! values. The wire format itself is [`mvt`]; the values of a layer encoded once per
//! layer snapshot, for its tiles to copy, are [`values`] (their ids per feature kept in
//! [`rows`]).

pub mod mvt;
pub mod rows;
pub mod values;
mod wire;

use super::cluster::{Cluster, ClusterValue, Item};
use super::gather::Candidate;
use super::settings::TileLayerConfig;
use crate::catalog::{Layer, Prop};
use mvt::{LayerEncoder, TileValue};

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
            let props = layer
                .fields
                .iter()
                .zip(f.props.iter())
                .filter_map(|(field, p)| prop_value(p).map(|v| (field.name.as_str(), v)));
            encoder.add_feature(Some(f.id), props.chain(extra), &c.geometry);
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
