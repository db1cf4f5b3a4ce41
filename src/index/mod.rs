//! The spatial index of a layer: which positions a spatial query needs to look at.
//!
//! Owns: two R-trees (rstar), bulk-loaded once per layer snapshot from the geometries in
//! layer order, and kept private:
//! - the lon/lat bounding box of every geometry, for `bbox` queries, tiles and joins;
//! - every point vertex of point geometries as a unit normal vector in 3-D, for radius and
//!   nearest queries; see [`geodesic`] for why its chord prefilter is exact.
//!
//! Geometries without a position (empty collections, which is also how a feature without a
//! geometry is held) are in neither tree, so no spatial query, cluster or tile meets them.
//!
//! Lines and polygons have no normals; distance queries list them as candidates every time
//! (such layers are small: provinces, countries). The index yields candidates only: exact
//! tests and distances are the caller's ([`crate::query`]). It knows nothing of features or
//! properties.

pub mod geodesic;

use std::collections::HashSet;

use geo::{BoundingRect, Geometry, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// Metres taken off every distance bound so that floating-point rounding can never drop a
/// hit (at the poles, cos 90° is 6e-17).
const ROUNDING_SLACK_M: f64 = 0.001;

/// A geometry envelope in lon/lat degrees with the geometry's position.
type EnvelopeEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;
/// A point's unit normal with the geometry's position.
type NormalEntry = GeomWithData<[f64; 3], u32>;

/// The R-trees of one layer snapshot.
#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    envelopes: RTree<EnvelopeEntry>,
    normals: RTree<NormalEntry>,
    /// Positions of geometries that are not points (candidates of every distance query).
    non_points: Vec<u32>,
    /// Whether every geometry is a single point, so that an envelope hit is an exact hit.
    points_only: bool,
}

impl SpatialIndex {
    /// Bulk-loads the trees; a geometry's position is its place in `geometries` (positions
    /// must fit in `u32`).
    pub fn build<'a>(geometries: impl IntoIterator<Item = &'a Geometry<f64>>) -> Self {
        let mut envelopes = Vec::new();
        let mut normals = Vec::new();
        let mut non_points = Vec::new();
        let mut points_only = true;
        for (pos, geometry) in geometries.into_iter().enumerate() {
            let pos = u32::try_from(pos).unwrap_or(u32::MAX);
            let Some(r) = geometry.bounding_rect() else {
                continue;
            };
            let (min, max) = (r.min(), r.max());
            envelopes.push(GeomWithData::new(
                Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                pos,
            ));
            points_only &= matches!(geometry, Geometry::Point(_));
            match geometry {
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

    /// Whether every geometry is a single point: then an envelope hit is an exact bbox hit
    /// and no position is listed twice by [`Self::within`] or [`Self::nearest`].
    pub fn points_only(&self) -> bool {
        self.points_only
    }

    /// `[west, south, east, north]` bounding every geometry; `None` when there is none.
    pub fn extent(&self) -> Option<[f64; 4]> {
        (self.envelopes.size() > 0).then(|| {
            let root = self.envelopes.root().envelope();
            let (lower, upper) = (root.lower(), root.upper());
            [lower[0], lower[1], upper[0], upper[1]]
        })
    }

    /// Positions of geometries whose envelope intersects `[west, south, east, north]`
    /// (one envelope; split antimeridian boxes first). Unsorted.
    pub fn in_envelope(&self, w: f64, s: f64, e: f64, n: f64) -> impl Iterator<Item = usize> + '_ {
        let envelope = AABB::from_corners([w, s], [e, n]);
        self.envelopes
            .locate_in_envelope_intersecting(envelope)
            .map(|entry| entry.data as usize)
    }

    /// Positions that may lie within `metres` (geodesic) of `center`: every point geometry
    /// with a vertex that close, then every geometry that is not a point. Each position
    /// once; unsorted. The caller measures the exact distance.
    pub fn within(&self, center: Point<f64>, metres: f64) -> impl Iterator<Item = usize> + '_ {
        let chord = geodesic::chord_for_distance(metres + ROUNDING_SLACK_M);
        let mut seen = HashSet::new();
        self.normals
            .locate_within_distance(unit(center), chord * chord)
            .map(|entry| entry.data as usize)
            // A MultiPoint has one entry per point; a single-point layer needs no dedup.
            .filter(move |&pos| self.points_only || seen.insert(pos))
            .chain(self.non_points())
    }

    /// Point geometries by increasing distance from `center`, each once, with a lower bound
    /// in metres of its distance: once the bound passes the distance the caller needs, no
    /// later position is closer. Lines and polygons are not listed; see
    /// [`Self::non_points`].
    pub fn nearest(&self, center: Point<f64>) -> impl Iterator<Item = (usize, f64)> + '_ {
        let mut seen = HashSet::new();
        self.normals
            .nearest_neighbor_iter_with_distance_2(unit(center))
            .map(|(entry, d2)| {
                let bound = geodesic::distance_lower_bound(d2.sqrt()) - ROUNDING_SLACK_M;
                (entry.data as usize, bound)
            })
            .filter(move |&(pos, _)| self.points_only || seen.insert(pos))
    }

    /// Positions of the geometries that are not points, in layer order.
    pub fn non_points(&self) -> impl Iterator<Item = usize> + '_ {
        self.non_points.iter().map(|&pos| pos as usize)
    }
}

fn unit(p: Point<f64>) -> [f64; 3] {
    geodesic::unit_vector(p.x(), p.y())
}
