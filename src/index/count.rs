//! Counting and ordered listing on the [`SpatialIndex`] without visiting every hit: a node
//! of the packed trees that lies wholly inside the query is counted whole (its item count
//! follows from its place in the tree), so counting a dense box or disc touches the nodes
//! along its edge, not the tens of thousands of points inside; and the first positions of a
//! box are found by skipping every node whose smallest position cannot be among them, so
//! the first page of a large answer needs no walk or sort of the whole answer.
//!
//! On an index that holds edits (a written layer, until its trees are re-packed) the walks
//! read the packed trees minus the superseded entries, plus each level of the edit part: a
//! node of the packed trees inside the query counts its items less the superseded ones
//! among them (their bits are contiguous, since a node covers a range of the tree order), a
//! node of a level counts its current entries.
//!
//! # Exact radius counts in the thin band
//! The chord between unit normals bounds a geodesic distance within about 1% (see
//! [`crate::index::geodesic`]). Points in that band are bounded again by their positions on the
//! ellipsoid (earth-centred coordinates): a geodesic is no shorter than the straight chord
//! `c` between its ends, and, since its curvature in space is a normal curvature of the
//! ellipsoid and so at most `1 / R_MIN`, Schur's comparison theorem (a space curve bent no
//! more than a circular arc of the same length has a chord no shorter than the arc's) gives
//! a length of at most `2 R_MIN asin(c / (2 R_MIN))`, which exceeds `c` by about
//! `c³ / (24 R_MIN²)`: 13 cm at 50 km. Only the points inside that gap need their geodesic
//! distance ([`geodesic::geodesic_m`]). Nodes are bounded the same way, through a box of
//! earth-centred coordinates holding every point whose normal is in the node's box, so that
//! only the nodes that the edge of the disc crosses are opened.

use std::ops::Range;

use geo::Point;

use crate::index::SpatialIndex;
use crate::index::edits::Level;
use crate::index::geodesic::{self, R_MAX, R_MIN, WGS84_A, WGS84_F};
use crate::index::packed::multi::nearest_many;
use crate::index::packed::{max_distance_2, min_distance_2};
use crate::index::part::Part;

/// Metres taken off (or added to) every bound, as in the rest of the index, so that
/// floating-point rounding can never move a point across the edge.
const SLACK_M: f64 = 0.001;
// The bounds decide for a point without measuring it only where `geodesic_m` could not
// decide otherwise: its error against the true distance stays inside the slack.
const _: () = assert!(geodesic::KARNEY_TOLERANCE_M < SLACK_M);

/// Largest radius for which the earth-centred upper bound is used (the bound needs the
/// geodesic to be shorter than half a circle of radius `R_MIN`; this leaves a wide margin).
const SCHUR_MAX_M: f64 = 1_000_000.0;

impl SpatialIndex {
    /// How many geometries have an envelope intersecting `[west, south, east, north]` (one
    /// envelope; split antimeridian boxes first): `in_envelope(..).count()`, without
    /// visiting the items of nodes inside the box.
    pub fn count_in_envelope(&self, w: f64, s: f64, e: f64, n: f64) -> usize {
        self.count_and_first_in_envelope(w, s, e, n, 0).0
    }

    /// [`Self::count_in_envelope`] and [`Self::first_in_envelope`] in one walk.
    pub fn count_and_first_in_envelope(
        &self,
        w: f64,
        s: f64,
        e: f64,
        n: f64,
        want: usize,
    ) -> (usize, Vec<usize>) {
        let b = [w, s, e, n];
        let mut count = 0;
        let mut first: Vec<usize> = Vec::new();
        for (part, level) in self.parts() {
            let tree = &part.envelopes;
            let (c, f) = tree.count_and_first(
                meets(b),
                holds(b),
                |i| self.edits.live(level, Some(i), tree.id(i)),
                |items| self.live_items(part, level, items),
                level.is_none() && self.edits() == 0,
                want,
            );
            count += c;
            first.extend(f);
        }
        if self.edits() > 0 {
            // Each part's smallest: a position is current in one part only.
            first.sort_unstable();
            first.truncate(want);
        }
        (count, first)
    }

    /// How many of the entries at the places `items` (in tree order, of the envelopes or,
    /// in a layer of points, the normals: one order) of `part` are current.
    fn live_items(&self, part: &Part, level: Option<&Level>, items: Range<usize>) -> usize {
        match level {
            None => items.len() - self.edits.superseded_in(items),
            Some(level) => items
                .filter(|&i| self.edits.live_in(level, part.envelopes.id(i)))
                .count(),
        }
    }

    /// The `want` smallest positions of [`Self::in_envelope`], in increasing order.
    pub fn first_in_envelope(&self, w: f64, s: f64, e: f64, n: f64, want: usize) -> Vec<usize> {
        self.count_and_first_in_envelope(w, s, e, n, want).1
    }

    /// [`Self::nearest`] on a layer of single points, each point with its coordinates as
    /// the index holds them (the geometry's own, read from arrays in tree order, where
    /// neighbours are near in memory too); `None` unless every geometry is a single point.
    pub fn nearest_points(
        &self,
        center: Point<f64>,
    ) -> Option<impl Iterator<Item = (usize, f64, Point<f64>)> + '_> {
        if !self.base.points_only {
            return None;
        }
        let q = geodesic::unit_vector(center.x(), center.y());
        let with_point = |part: &Part, i: usize, d2: f64| {
            let bound = geodesic::distance_lower_bound(d2.sqrt()) - SLACK_M;
            let [x, y] = part.envelopes.point(i);
            (part.normals.id(i), bound, Point::new(x, y))
        };
        let parts: Vec<(&Part, Option<&Level>)> = self.parts().collect();
        let trees = parts.iter().map(|(part, _)| &part.normals).collect();
        Some(nearest_many(trees, q).filter_map(move |(t, i, pos, d2)| {
            let (part, level) = parts[t];
            self.edits
                .live(level, Some(i), pos)
                .then(|| with_point(part, i, d2))
        }))
    }

    /// How many point geometries lie within `metres` (geodesic, WGS84) of `center`, exactly
    /// as [`geodesic::geodesic_m`] to each would say; `None` unless every geometry is a single
    /// point. See the module notes for the bounds that spare most distances.
    pub fn count_within(&self, center: Point<f64>, metres: f64) -> Option<usize> {
        if !self.base.points_only {
            return None;
        }
        let q = geodesic::unit_vector(center.x(), center.y());
        let chord_out = geodesic::chord_for_distance(metres + SLACK_M);
        let chord_out2 = chord_out * chord_out;
        // Normals this close are within `metres` by the largest radius of curvature.
        let angle_in = (metres - 2.0 * SLACK_M) / R_MAX;
        let chord_in = if angle_in <= 0.0 {
            0.0
        } else {
            2.0 * (angle_in.min(std::f64::consts::PI) / 2.0).sin()
        };
        let chord_in2 = chord_in * chord_in;
        let qe = earth_centred(q);
        let schur = metres <= SCHUR_MAX_M;
        let mut count = 0;
        for (part, level) in self.parts() {
            let (envelopes, normals) = (&part.envelopes, &part.normals);
            count += normals.count(
                |lo, hi| {
                    if min_distance_2(&q, lo, hi) > chord_out2 {
                        return false;
                    }
                    let (elo, ehi) = earth_centred_box(lo, hi);
                    min_distance_2(&qe, &elo, &ehi).sqrt() - SLACK_M <= metres
                },
                |lo, hi| {
                    max_distance_2(&q, lo, hi) < chord_in2
                        || schur && {
                            let (elo, ehi) = earth_centred_box(lo, hi);
                            schur_upper_bound(max_distance_2(&qe, &elo, &ehi).sqrt()) + SLACK_M
                                <= metres
                        }
                },
                |i| {
                    if !self.edits.live(level, Some(i), normals.id(i)) {
                        return false;
                    }
                    let n = normals.point(i);
                    let c2 = distance_2(&n, &q);
                    if c2 > chord_out2 {
                        return false;
                    }
                    if c2 < chord_in2 {
                        return true;
                    }
                    let straight = distance_2(&earth_centred(n), &qe).sqrt();
                    if straight - SLACK_M > metres {
                        return false;
                    }
                    if schur && schur_upper_bound(straight) + SLACK_M <= metres {
                        return true;
                    }
                    // Points of a single-point layer: the envelope tree holds them in the
                    // same order.
                    let [x, y] = envelopes.point(i);
                    geodesic::geodesic_m(center, Point::new(x, y)) <= metres
                },
                |items| self.live_items(part, level, items),
            );
        }
        Some(count)
    }
}

/// Whether a box meets `[west, south, east, north]`.
fn meets([w, s, e, n]: [f64; 4]) -> impl Fn(&[f64; 2], &[f64; 2]) -> bool + Copy {
    move |lo, hi| lo[0] <= e && hi[0] >= w && lo[1] <= n && hi[1] >= s
}

/// Whether a box lies inside `[west, south, east, north]`.
fn holds([w, s, e, n]: [f64; 4]) -> impl Fn(&[f64; 2], &[f64; 2]) -> bool + Copy {
    move |lo, hi| lo[0] >= w && hi[0] <= e && lo[1] >= s && hi[1] <= n
}

/// The point of the ellipsoid whose surface normal is `n`, in metres from the centre.
fn earth_centred(n: [f64; 3]) -> [f64; 3] {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let prime_vertical = WGS84_A / (1.0 - e2 * n[2] * n[2]).sqrt();
    [
        prime_vertical * n[0],
        prime_vertical * n[1],
        prime_vertical * (1.0 - e2) * n[2],
    ]
}

/// A box holding the points of the ellipsoid whose normals are in the box `(lo, hi)`:
/// each coordinate is the normal's times the prime vertical radius, which grows with the
/// normal's `|z|`.
fn earth_centred_box(lo: &[f64; 3], hi: &[f64; 3]) -> ([f64; 3], [f64; 3]) {
    let e2 = WGS84_F * (2.0 - WGS84_F);
    let z_far = lo[2].abs().max(hi[2].abs()).min(1.0);
    let z_near = if lo[2] <= 0.0 && hi[2] >= 0.0 {
        0.0
    } else {
        lo[2].abs().min(hi[2].abs())
    };
    let radius = |z: f64| WGS84_A / (1.0 - e2 * z * z).sqrt();
    let (r0, r1) = (radius(z_near), radius(z_far));
    let scale = [1.0, 1.0, 1.0 - e2];
    let mut out = ([0.0; 3], [0.0; 3]);
    for d in 0..3 {
        let products = [r0 * lo[d], r0 * hi[d], r1 * lo[d], r1 * hi[d]].map(|v| v * scale[d]);
        out.0[d] = products.iter().copied().fold(f64::INFINITY, f64::min);
        out.1[d] = products.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    out
}

/// The longest geodesic whose ends are `straight` metres apart (see the module notes).
fn schur_upper_bound(straight: f64) -> f64 {
    2.0 * R_MIN * (straight / (2.0 * R_MIN)).min(1.0).asin()
}

fn distance_2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}
