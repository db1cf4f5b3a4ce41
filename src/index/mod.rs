//! The spatial index of a layer: which positions a spatial query needs to look at.
//!
//! Owns: two packed static R-trees ([`packed`]: flat arrays sorted along a Hilbert curve),
//! built from the geometries in layer order, and kept private:
//! - the lon/lat bounding box of every geometry, for `bbox` queries, tiles and joins;
//! - every point vertex of point geometries as a unit normal vector in 3-D, for radius and
//!   nearest queries; see [`geodesic`] for why its chord prefilter is exact.
//!
//! A write batch does not rebuild them: [`SpatialIndex::updated`] keeps the packed trees
//! (shared between snapshots) and adds the changed positions to a small edit part
//! ([`edits`]: levels of small packed trees that merge like a counter), which every query
//! reads alongside the packed trees minus the positions it supersedes. The owner rebuilds
//! the whole index now and then ([`SpatialIndex::edits`] says how much has changed).
//!
//! Geometries without a position (empty collections, which is also how a feature without a
//! geometry is held) are in neither tree, so no spatial query, cluster or tile meets them.
//!
//! Lines and polygons have no normals; distance queries list them as candidates every time
//! (such layers are small: provinces, countries). The index yields candidates only: exact
//! tests and distances are the caller's ([`crate::query`]). It knows nothing of features or
//! properties.

mod count;
mod edits;
pub mod geodesic;
pub mod packed;
mod part;

use std::borrow::Borrow;
use std::collections::HashSet;
use std::sync::Arc;

use geo::{Geometry, Point};

use edits::{Edits, Level, merge_ascending};
use packed::min_distance_2;
use packed::multi::nearest_many;
use part::Part;

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

/// Fewest edits at which an index is built packed again (see
/// [`SpatialIndex::edits_to_pack`]).
pub const MIN_EDITS_TO_PACK: usize = 4096;

/// The spatial index of one layer snapshot: a packed part and an edit part.
#[derive(Debug, Clone, Default)]
pub struct SpatialIndex {
    /// The trees built over the whole layer, shared by the snapshots edited since.
    base: Arc<Part>,
    /// What changed since `base` was built.
    edits: Edits,
}

impl SpatialIndex {
    /// Builds the trees; a geometry's position is its place in `geometries` (positions
    /// must fit in `u32`).
    pub fn build<G: Borrow<Geometry<f64>>>(geometries: impl IntoIterator<Item = G>) -> Self {
        Self::build_slots(geometries.into_iter().map(Some))
    }

    /// Builds the trees from optional geometries: a position is its place in `geometries`,
    /// and `None` (an empty slot) is in no tree, like an empty geometry.
    pub fn build_slots<G: Borrow<Geometry<f64>>>(
        geometries: impl IntoIterator<Item = Option<G>>,
    ) -> Self {
        let mut slots = 0;
        let base = Part::build(
            geometries
                .into_iter()
                .inspect(|_| slots += 1)
                .enumerate()
                .filter_map(|(pos, g)| Some((u32::try_from(pos).unwrap_or(u32::MAX), g?))),
        );
        Self {
            base: Arc::new(base),
            edits: Edits::none(slots),
        }
    }

    /// The index of the next snapshot, leaving `self` as it is: the layer now has `slots`
    /// positions, and at each position of `changed` the geometry differs from the one this
    /// index knew (or the position is new, or now empty: `geometry` gives `None`); every
    /// other position is unchanged. Positions past `slots` are gone.
    ///
    /// Costs about `O(changed · log n)` (amortised over calls; now and then a call rebuilds
    /// a larger level of the edit part), and rebuilds everything from `geometry(0..slots)`
    /// only when a geometry that is not a single point comes into an index of points.
    pub fn updated<G: Borrow<Geometry<f64>>>(
        &self,
        slots: usize,
        changed: &[usize],
        geometry: impl Fn(usize) -> Option<G>,
    ) -> Self {
        match self.edits.updated(&self.base, slots, changed, &geometry) {
            Some(edits) => Self {
                base: Arc::clone(&self.base),
                edits,
            },
            None => Self::build_slots((0..slots).map(geometry)),
        }
    }

    /// The number of edits at which an index of `slots` positions is better built packed
    /// again: [`MIN_EDITS_TO_PACK`], or a 32nd of the slots (a full build costs O(n), so it
    /// is paid once per O(n) edits).
    pub fn edits_to_pack(slots: usize) -> usize {
        MIN_EDITS_TO_PACK.max(slots / 32)
    }

    /// How many positions changed since the packed part was built: the owner rebuilds the
    /// index with [`Self::build_slots`] when this grows (queries slow down slowly with it).
    pub fn edits(&self) -> usize {
        self.edits.changed()
    }

    /// Whether every geometry is a single point: then an envelope hit is an exact bbox hit
    /// and no position is listed twice by [`Self::within`] or [`Self::nearest`].
    pub fn points_only(&self) -> bool {
        self.base.points_only
    }

    /// The packed part and each level of the edit part, with the level (`None`: packed).
    fn parts(&self) -> impl Iterator<Item = (&Part, Option<&Level>)> {
        std::iter::once((&*self.base, None))
            .chain(self.edits.levels().map(|level| (&level.part, Some(level))))
    }

    /// `[west, south, east, north]` bounding every geometry; `None` when there is none.
    /// After edits that deleted or moved geometries it may be larger than the tightest such
    /// box (the packed part's box stays until the next full build), and may even be `Some`
    /// when every geometry has gone.
    pub fn extent(&self) -> Option<[f64; 4]> {
        self.parts()
            .filter_map(|(part, _)| part.envelopes.bounds())
            .reduce(|(lo, hi), (l, h)| {
                (
                    [lo[0].min(l[0]), lo[1].min(l[1])],
                    [hi[0].max(h[0]), hi[1].max(h[1])],
                )
            })
            .map(|(lower, upper)| [lower[0], lower[1], upper[0], upper[1]])
    }

    /// Positions of geometries whose envelope intersects `[west, south, east, north]`
    /// (one envelope; split antimeridian boxes first). Unsorted.
    pub fn in_envelope(&self, w: f64, s: f64, e: f64, n: f64) -> impl Iterator<Item = usize> + '_ {
        self.parts().flat_map(move |(part, level)| {
            let tree = &part.envelopes;
            tree.search(move |lo, hi| lo[0] <= e && hi[0] >= w && lo[1] <= n && hi[1] >= s)
                .map(move |i| (i, tree.id(i)))
                .filter(move |&(i, pos)| self.edits.live(level, Some(i), pos))
                .map(|(_, pos)| pos)
        })
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
        let points_only = self.points_only();
        self.parts()
            .flat_map(move |(part, level)| {
                let tree = &part.normals;
                tree.search(move |lo, hi| min_distance_2(&q, lo, hi) <= chord2)
                    .filter(move |&i| {
                        // The normals of points are in the envelopes' order.
                        self.edits.live(level, points_only.then_some(i), tree.id(i))
                    })
                    .map(move |i| (tree.id(i), tree.point(i)))
            })
            .filter_map(move |(pos, normal)| {
                if !points_only {
                    // A MultiPoint has one entry per point: list it once, unbounded.
                    return seen.insert(pos).then_some(Candidate::unbounded(pos));
                }
                let c = chord_between(normal, q);
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
        let points_only = self.points_only();
        let (trees, levels): (Vec<_>, Vec<_>) = self
            .parts()
            .map(|(part, level)| (&part.normals, level))
            .unzip();
        nearest_many(trees, unit(center))
            .filter(move |&(t, i, pos, _)| {
                self.edits.live(levels[t], points_only.then_some(i), pos)
            })
            .map(|(_, _, pos, d2)| {
                let bound = geodesic::distance_lower_bound(d2.sqrt()) - ROUNDING_SLACK_M;
                (pos, bound)
            })
            .filter(move |&(pos, _)| points_only || seen.insert(pos))
    }

    /// Positions of the geometries that are not points, in layer order.
    pub fn non_points(&self) -> impl Iterator<Item = usize> + '_ {
        let packed = self
            .base
            .non_points
            .iter()
            .map(|&pos| pos as usize)
            .filter(|&pos| self.edits.live(None, None, pos));
        let mut edited: Vec<usize> = self
            .edits
            .levels()
            .flat_map(|level| {
                level
                    .part
                    .non_points
                    .iter()
                    .map(|&pos| pos as usize)
                    .filter(|&pos| self.edits.live_in(level, pos))
            })
            .collect();
        edited.sort_unstable();
        merge_ascending(packed, edited.into_iter())
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
