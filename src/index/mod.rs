//! The spatial index of a layer: which positions a spatial query needs to look at.
//!
//! Owns: two packed static R-trees ([`packed`]: flat arrays sorted along a Hilbert curve),
//! built once per layer snapshot from the geometries in layer order, and kept private:
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
pub mod packed;

use std::collections::HashSet;

use geo::{BoundingRect, Geometry, Point};

use packed::{PackedTree, hilbert_keys, min_distance_2};

/// Metres taken off every distance bound so that floating-point rounding can never drop a
/// hit (at the poles, cos 90° is 6e-17).
const ROUNDING_SLACK_M: f64 = 0.001;

/// A candidate of a distance query: a position and bounds of its distance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub pos: usize,
    pub lower_m: f64,
    pub upper_m: f64,
}

impl Candidate {
    fn unbounded(pos: usize) -> Self {
        Self {
            pos,
            lower_m: 0.0,
            upper_m: f64::INFINITY,
        }
    }
}

/// The packed trees of one layer snapshot.
#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    /// Geometry envelopes in lon/lat degrees (points when every geometry is one).
    envelopes: PackedTree<2>,
    /// Unit normals of point vertices.
    normals: PackedTree<3>,
    /// Positions of geometries that are not points (candidates of every distance query).
    non_points: Vec<u32>,
    /// Whether every geometry is a single point, so that an envelope hit is an exact hit.
    points_only: bool,
}

impl SpatialIndex {
    /// Builds the trees; a geometry's position is its place in `geometries` (positions
    /// must fit in `u32`).
    pub fn build<'a>(geometries: impl IntoIterator<Item = &'a Geometry<f64>>) -> Self {
        let mut lows = Vec::new();
        // Empty while every geometry is a point (its own highest corner).
        let mut highs = Vec::new();
        let mut ids = Vec::new();
        // Point vertices with their positions, once a geometry is not a single point.
        let mut vertices: Vec<([f64; 2], u32)> = Vec::new();
        let mut non_points = Vec::new();
        let mut points_only = true;
        for (pos, geometry) in geometries.into_iter().enumerate() {
            let pos = u32::try_from(pos).unwrap_or(u32::MAX);
            let Some(r) = geometry.bounding_rect() else {
                continue;
            };
            if points_only && !matches!(geometry, Geometry::Point(_)) {
                points_only = false;
                highs.clone_from(&lows);
                vertices.extend(lows.iter().copied().zip(ids.iter().copied()));
            }
            lows.push([r.min().x, r.min().y]);
            if !points_only {
                highs.push([r.max().x, r.max().y]);
            }
            ids.push(pos);
            match geometry {
                Geometry::Point(p) if !points_only => vertices.push(([p.x(), p.y()], pos)),
                Geometry::Point(_) => {}
                Geometry::MultiPoint(mp) => {
                    vertices.extend(mp.iter().map(|p| ([p.x(), p.y()], pos)))
                }
                _ => non_points.push(pos),
            }
        }
        if points_only {
            // One tree order serves both trees: the normals are the points, turned.
            let keys = hilbert_keys(lows.iter().copied());
            let envelopes = PackedTree::build(lows, None, ids, &keys);
            drop(keys);
            let normals = envelopes.map_points(|[x, y]| geodesic::unit_vector(x, y));
            return Self {
                envelopes,
                normals,
                non_points,
                points_only,
            };
        }
        let keys = hilbert_keys(
            lows.iter()
                .zip(&highs)
                .map(|(a, b)| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]),
        );
        let envelopes = PackedTree::build(lows, Some(highs), ids, &keys);
        let keys = hilbert_keys(vertices.iter().map(|(v, _)| *v));
        let normals = vertices
            .iter()
            .map(|&([x, y], _)| geodesic::unit_vector(x, y))
            .collect();
        let normal_ids = vertices.iter().map(|&(_, pos)| pos).collect();
        drop(vertices);
        Self {
            envelopes,
            normals: PackedTree::build(normals, None, normal_ids, &keys),
            non_points,
            points_only,
        }
    }

    /// Builds from optional geometries: a position is its place in `geometries`, and `None`
    /// (an empty slot) is in no tree, like an empty geometry.
    pub fn build_slots<'a>(
        geometries: impl IntoIterator<Item = Option<&'a Geometry<f64>>>,
    ) -> Self {
        let empty = Geometry::GeometryCollection(geo::GeometryCollection::default());
        let all: Vec<Geometry<f64>> = geometries
            .into_iter()
            .map(|g| g.cloned().unwrap_or_else(|| empty.clone()))
            .collect();
        Self::build(&all)
    }

    /// The index of the next snapshot, with `slots` positions of which those in `changed`
    /// differ from the ones this index knew (rebuilt in full).
    pub fn updated<'a>(
        &self,
        slots: usize,
        changed: &[usize],
        geometry: impl Fn(usize) -> Option<&'a Geometry<f64>>,
    ) -> Self {
        let _ = changed;
        Self::build_slots((0..slots).map(geometry))
    }

    /// How many positions changed since the packed trees were built.
    pub fn edits(&self) -> usize {
        0
    }

    /// Whether every geometry is a single point: then an envelope hit is an exact bbox hit
    /// and no position is listed twice by [`Self::within`] or [`Self::nearest`].
    pub fn points_only(&self) -> bool {
        self.points_only
    }

    /// `[west, south, east, north]` bounding every geometry; `None` when there is none.
    pub fn extent(&self) -> Option<[f64; 4]> {
        self.envelopes
            .bounds()
            .map(|(lower, upper)| [lower[0], lower[1], upper[0], upper[1]])
    }

    /// Positions of geometries whose envelope intersects `[west, south, east, north]`
    /// (one envelope; split antimeridian boxes first). Unsorted.
    pub fn in_envelope(&self, w: f64, s: f64, e: f64, n: f64) -> impl Iterator<Item = usize> + '_ {
        let tree = &self.envelopes;
        tree.search(move |lo, hi| lo[0] <= e && hi[0] >= w && lo[1] <= n && hi[1] >= s)
            .map(|i| tree.id(i))
    }

    /// Positions that may lie within `metres` (geodesic) of `center`: every point geometry
    /// with a vertex that close, then every geometry that is not a point. Each position
    /// once; unsorted. The caller measures the exact distance.
    pub fn within(&self, center: Point<f64>, metres: f64) -> impl Iterator<Item = usize> + '_ {
        self.within_bounds(center, metres).map(|c| c.pos)
    }

    /// [`Self::within`] with bounds of each candidate's geodesic distance from `center`:
    /// from the chord between the normals for the points of a single-point layer (see
    /// [`geodesic::distance_lower_bound`] and [`geodesic::distance_upper_bound`]), `0..∞`
    /// for every other geometry. A candidate whose upper bound is within `metres` is surely
    /// inside, one whose lower bound is beyond it surely outside; only the thin band
    /// between needs the exact distance.
    pub fn within_bounds(
        &self,
        center: Point<f64>,
        metres: f64,
    ) -> impl Iterator<Item = Candidate> + '_ {
        let q = unit(center);
        let chord = geodesic::chord_for_distance(metres + ROUNDING_SLACK_M);
        let mut seen = HashSet::new();
        let chord2 = chord * chord;
        self.normals
            .search(move |lo, hi| min_distance_2(&q, lo, hi) <= chord2)
            .filter_map(move |i| {
                let pos = self.normals.id(i);
                if !self.points_only {
                    // A MultiPoint has one entry per point: list it once, unbounded.
                    return seen.insert(pos).then_some(Candidate::unbounded(pos));
                }
                let c = chord_between(self.normals.point(i), q);
                Some(Candidate {
                    pos,
                    lower_m: (geodesic::distance_lower_bound(c) - ROUNDING_SLACK_M).max(0.0),
                    upper_m: geodesic::distance_upper_bound(c) + ROUNDING_SLACK_M,
                })
            })
            .chain(self.non_points().map(Candidate::unbounded))
    }

    /// Point geometries by increasing distance from `center`, each once, with a lower bound
    /// in metres of its distance: once the bound passes the distance the caller needs, no
    /// later position is closer. Lines and polygons are not listed; see
    /// [`Self::non_points`].
    pub fn nearest(&self, center: Point<f64>) -> impl Iterator<Item = (usize, f64)> + '_ {
        let mut seen = HashSet::new();
        self.normals
            .nearest(unit(center))
            .map(|(pos, d2)| {
                let bound = geodesic::distance_lower_bound(d2.sqrt()) - ROUNDING_SLACK_M;
                (pos, bound)
            })
            .filter(move |&(pos, _)| self.points_only || seen.insert(pos))
    }

    /// Positions of the geometries that are not points, in layer order.
    pub fn non_points(&self) -> impl Iterator<Item = usize> + '_ {
        self.non_points.iter().map(|&pos| pos as usize)
    }
}

/// The straight-line distance between two unit normals.
fn chord_between(a: [f64; 3], b: [f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

fn unit(p: Point<f64>) -> [f64; 3] {
    geodesic::unit_vector(p.x(), p.y())
}
