//! The spatial index of a layer.
//!
//! Owns: two R-trees (rstar), bulk-loaded once per layer snapshot.
//! - `envelopes`: the lon/lat bounding box of every feature, for `bbox` queries and tiles.
//! - `normals`: every point vertex of point features as a unit normal vector in 3-D, for
//!   radius and nearest queries; see [`geodesic`] for why its chord prefilter is exact.
//!
//! Line and polygon features are not in `normals`; distance queries over them scan the
//! layer (such layers are small: provinces, countries). Entries hold the feature position.

pub mod geodesic;

use geo::{Geometry, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::catalog::Feature;

/// A feature envelope in lon/lat degrees with the feature's position.
pub type EnvelopeEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;
/// A point's unit normal with the feature's position.
pub type NormalEntry = GeomWithData<[f64; 3], u32>;

/// The R-trees of one layer snapshot.
#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    pub envelopes: RTree<EnvelopeEntry>,
    pub normals: RTree<NormalEntry>,
    /// Positions of features that are not points (scanned for distance queries).
    pub non_points: Vec<u32>,
    /// Whether every feature is a single point, so that an envelope hit is an exact hit.
    pub points_only: bool,
}

impl SpatialIndex {
    /// Bulk-loads the trees for `features` (positions must fit in `u32`).
    pub fn build(features: &[Feature]) -> Self {
        let mut envelopes = Vec::with_capacity(features.len());
        let mut normals = Vec::new();
        let mut non_points = Vec::new();
        let points_only = features
            .iter()
            .all(|f| matches!(f.geometry, Geometry::Point(_)));
        for (pos, feature) in features.iter().enumerate() {
            let pos = u32::try_from(pos).unwrap_or(u32::MAX);
            if let Some([w, s, e, n]) = feature.bbox() {
                envelopes.push(GeomWithData::new(
                    Rectangle::from_corners([w, s], [e, n]),
                    pos,
                ));
            }
            match &feature.geometry {
                Geometry::Point(p) => normals.push(GeomWithData::new(unit(*p), pos)),
                Geometry::MultiPoint(mp) => {
                    normals.extend(mp.iter().map(|p| GeomWithData::new(unit(*p), pos)));
                }
                _ => non_points.push(pos),
            }
        }
        Self {
            envelopes: RTree::bulk_load(envelopes),
            normals: RTree::bulk_load(normals),
            non_points,
            points_only,
        }
    }

    /// Positions of features whose envelope intersects `[west, south, east, north]`
    /// (one envelope; split antimeridian boxes first). Unsorted.
    pub fn in_envelope(&self, w: f64, s: f64, e: f64, n: f64) -> impl Iterator<Item = usize> + '_ {
        let envelope = AABB::from_corners([w, s], [e, n]);
        self.envelopes
            .locate_in_envelope_intersecting(envelope)
            .map(|entry| entry.data as usize)
    }
}

fn unit(p: Point<f64>) -> [f64; 3] {
    geodesic::unit_vector(p.x(), p.y())
}
