//! Clipping to the buffered tile, in tile units.
//!
//! Owns: cutting points, lines and polygons to the square `[-buffer, extent + buffer]²`
//! (tile units, y down) and snapping them to the integer grid, with the guarantees MVT
//! needs: lines keep at least two distinct points; polygons come out closed, valid
//! (OGC-valid rings: no self-intersection, no spikes, no repeated points) and wound
//! for MVT (exterior rings with positive shoelace area in tile units, that is clockwise on
//! screen; holes negative).
//!
//! How polygons are done: Sutherland-Hodgman per ring in floating point against the
//! (convex) square brings coordinates into range exactly; the rings are snapped to integers;
//! then `i_overlay` (the integer overlay engine behind `geo`'s boolean ops) intersects them
//! with the square in OGC mode, which removes the zero-width corridors Sutherland-Hodgman
//! leaves along the border and anything snapping broke. Rings smaller than `min_area`
//! tile units² are dropped.

use std::collections::HashMap;

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::Solver;
use i_overlay::i_float::int::point::IntPoint;

/// The clip square in tile units: `lo..=hi` on both axes.
#[derive(Debug, Clone, Copy)]
pub struct ClipBox {
    pub lo: i32,
    pub hi: i32,
}

impl ClipBox {
    /// The square of a tile of `extent` units grown by `buffer` units.
    pub fn new(extent: u32, buffer: u32) -> Self {
        let e = i32::try_from(extent).unwrap_or(i32::MAX / 4);
        let b = i32::try_from(buffer).unwrap_or(0).min(e);
        Self { lo: -b, hi: e + b }
    }

    /// Whether a floating point is inside (borders included).
    #[inline]
    pub fn contains(&self, p: [f64; 2]) -> bool {
        let (lo, hi) = (f64::from(self.lo), f64::from(self.hi));
        p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi
    }
}

/// Rounds a point already inside the clip box to integer tile units.
#[inline]
#[expect(
    clippy::cast_possible_truncation,
    reason = "callers pass points inside the clip box"
)]
pub fn snap(p: [f64; 2]) -> [i32; 2] {
    [p[0].round() as i32, p[1].round() as i32]
}

/// Clips one line (floating tile units) into pieces, snapped, with repeated points removed.
/// Pieces with fewer than two distinct points are dropped.
pub fn clip_line(line: &[[f64; 2]], clip: ClipBox, out: &mut Vec<Vec<[i32; 2]>>) {
    let (lo, hi) = (f64::from(clip.lo), f64::from(clip.hi));
    let mut current: Vec<[i32; 2]> = Vec::new();
    let flush = |current: &mut Vec<[i32; 2]>, out: &mut Vec<Vec<[i32; 2]>>| {
        if current.len() >= 2 {
            out.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], lo, hi) {
            Some((a, b, b_clipped)) => {
                let a = snap(a);
                if current.last() != Some(&a) {
                    if !current.is_empty() {
                        flush(&mut current, out);
                    }
                    current.push(a);
                }
                let b = snap(b);
                if current.last() != Some(&b) {
                    current.push(b);
                }
                if b_clipped {
                    flush(&mut current, out);
                }
            }
            None => flush(&mut current, out),
        }
    }
    flush(&mut current, out);
}

/// Liang-Barsky: the part of segment `a`-`b` inside the square, and whether `b` was cut.
fn clip_segment(a: [f64; 2], b: [f64; 2], lo: f64, hi: f64) -> Option<([f64; 2], [f64; 2], bool)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a[0] - lo),
        (dx, hi - a[0]),
        (-dy, a[1] - lo),
        (dy, hi - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let at = |t: f64| [a[0] + dx * t, a[1] + dy * t];
    Some((at(t0), at(t1), t1 < 1.0))
}

/// Sutherland-Hodgman of one ring (floating tile units, closed or not) against the square.
fn clip_ring(ring: &[[f64; 2]], clip: ClipBox) -> Vec<[f64; 2]> {
    let (lo, hi) = (f64::from(clip.lo), f64::from(clip.hi));
    let mut cur: Vec<[f64; 2]> = ring.to_vec();
    let mut next = Vec::with_capacity(cur.len() + 4);
    // (axis, bound, keep-if-greater)
    for (axis, bound, greater) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        next.clear();
        let inside = |p: &[f64; 2]| {
            if greater {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let Some(&last) = cur.last() else { break };
        let mut prev = last;
        for &p in &cur {
            let (pin, qin) = (inside(&p), inside(&prev));
            if pin != qin {
                let t = (bound - prev[axis]) / (p[axis] - prev[axis]);
                let mut x = [
                    prev[0] + (p[0] - prev[0]) * t,
                    prev[1] + (p[1] - prev[1]) * t,
                ];
                x[axis] = bound;
                next.push(x);
            }
            if pin {
                next.push(p);
            }
            prev = p;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    cur
}

/// Clips the rings of one polygon (floating tile units; exterior first, any winding) to the
/// square and makes them valid. Returns polygons (rings, exterior first, not closed,
/// exterior area positive) whose exterior area is at least `min_area` tile units².
pub fn clip_polygon(
    rings: &[Vec<[f64; 2]>],
    clip: ClipBox,
    min_area: f64,
) -> Vec<Vec<Vec<[i32; 2]>>> {
    let mut shape: Vec<Vec<IntPoint>> = Vec::with_capacity(rings.len());
    for ring in rings {
        let inside = ring.iter().all(|p| clip.contains(*p));
        let clipped;
        let ring = if inside {
            ring.as_slice()
        } else {
            clipped = clip_ring(ring, clip);
            clipped.as_slice()
        };
        let mut contour: Vec<IntPoint> = Vec::with_capacity(ring.len());
        for &p in ring {
            let [x, y] = snap(p);
            let q = IntPoint::new(x, y);
            if contour.last() != Some(&q) {
                contour.push(q);
            }
        }
        while contour.len() > 1 && contour.first() == contour.last() {
            contour.pop();
        }
        if contour.len() >= 3 {
            shape.push(contour);
        }
    }
    if shape.is_empty() {
        return Vec::new();
    }
    let square = vec![vec![
        IntPoint::new(clip.lo, clip.lo),
        IntPoint::new(clip.hi, clip.lo),
        IntPoint::new(clip.hi, clip.hi),
        IntPoint::new(clip.lo, clip.hi),
    ]];
    let shapes = Overlay::from_subj_and_clip_custom(
        &[shape],
        &[square],
        overlay_options(),
        Solver::default(),
    )
    .overlay(OverlayRule::Intersect, FillRule::EvenOdd);
    oriented(shapes, min_area)
}

/// Merges the polygons that one feature's parts became, so that the feature is a valid
/// multipolygon: simplification and snapping can make two parts overlap or share an edge,
/// and each part is made valid on its own. Polygons must come from [`clip_polygon`]
/// (exterior area positive, holes negative), which makes the non-zero fill rule their union.
pub fn merge_parts(parts: Vec<Vec<Vec<[i32; 2]>>>, min_area: f64) -> Vec<Vec<Vec<[i32; 2]>>> {
    if parts.len() < 2 {
        return parts;
    }
    let shapes: Vec<Vec<Vec<IntPoint>>> = parts
        .into_iter()
        .map(|rings| {
            rings
                .into_iter()
                .map(|ring| ring.into_iter().map(|[x, y]| IntPoint::new(x, y)).collect())
                .collect()
        })
        .collect();
    let no_clip: &[Vec<Vec<IntPoint>>] = &[];
    let merged =
        Overlay::from_subj_and_clip_custom(&shapes, no_clip, overlay_options(), Solver::default())
            .overlay(OverlayRule::Subject, FillRule::NonZero);
    oriented(merged, min_area)
}

/// OGC-valid output (no self-touching rings), exterior rings counter-clockwise in i_overlay's
/// y-up sense, which is clockwise on screen.
fn overlay_options() -> IntOverlayOptions<u64> {
    IntOverlayOptions {
        output_direction: ContourDirection::CounterClockwise,
        ..IntOverlayOptions::ogc()
    }
}

/// i_overlay's shapes as polygons (exterior first, area positive; holes negative), dropping
/// those whose exterior is under `min_area` tile units². A ring that passes through one
/// vertex twice (snapping can pinch a ring) is split there into simple rings: a pinched hole
/// into holes that touch at that point, a pinched exterior into polygons that touch there,
/// each with the holes inside it; a loop turning against its ring (the ring touched itself
/// from inside) is a hole of an exterior, an island of a hole.
fn oriented(shapes: Vec<Vec<Vec<IntPoint>>>, min_area: f64) -> Vec<Vec<Vec<[i32; 2]>>> {
    // A ring split at its pinches gives loops turning its way (touching rings of the same
    // kind) and, where it touched itself from inside, loops turning the other way: an
    // exterior's inner loop is a hole, a hole's inner loop an island (an exterior).
    let mut holes: Vec<Vec<[i32; 2]>> = Vec::new();
    let mut exteriors: Vec<Vec<[i32; 2]>> = Vec::new();
    let mut sort = |ring: Vec<[i32; 2]>, is_exterior: bool| {
        let turn = ring_area(&ring).signum();
        for mut loop_ in split_pinches(ring) {
            let area = ring_area(&loop_);
            if (area.signum() == turn) == is_exterior {
                if area < 0.0 {
                    loop_.reverse();
                }
                if area.abs() >= min_area.max(f64::MIN_POSITIVE) {
                    exteriors.push(loop_);
                }
            } else {
                if area > 0.0 {
                    loop_.reverse();
                }
                holes.push(loop_);
            }
        }
    };
    for shape in shapes {
        let mut contours = shape
            .into_iter()
            .map(|contour| contour.into_iter().map(|p| [p.x, p.y]).collect::<Vec<_>>());
        if let Some(exterior) = contours.next() {
            sort(exterior, true);
        }
        for hole in contours {
            sort(hole, false);
        }
    }
    // Each hole goes to the smallest exterior holding it, whichever shape the overlay gave
    // it with (its hole binding can name the wrong one), so that an island inside a hole of
    // a larger exterior keeps holes of its own.
    let mut polygons: Vec<(Bounds, f64, TilePolygon)> = exteriors
        .into_iter()
        .map(|ring| (Bounds::of(&ring), ring_area(&ring), vec![ring]))
        .collect();
    for hole in holes {
        let bounds = Bounds::of(&hole);
        let home = polygons
            .iter_mut()
            .filter(|(b, _, p)| b.contains(&bounds) && holds(&p[0], &hole))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((_, _, polygon)) = home {
            polygon.push(hole);
        }
    }
    polygons.into_iter().map(|(_, _, p)| p).collect()
}

/// A polygon in tile units: exterior first, then holes.
type TilePolygon = Vec<Vec<[i32; 2]>>;

/// The bounding box of a ring in tile units.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    min: [i32; 2],
    max: [i32; 2],
}

impl Bounds {
    fn of(ring: &[[i32; 2]]) -> Self {
        ring.iter().fold(
            Self {
                min: [i32::MAX; 2],
                max: [i32::MIN; 2],
            },
            |b, &[x, y]| Self {
                min: [b.min[0].min(x), b.min[1].min(y)],
                max: [b.max[0].max(x), b.max[1].max(y)],
            },
        )
    }

    fn contains(&self, other: &Self) -> bool {
        self.min[0] <= other.min[0]
            && self.min[1] <= other.min[1]
            && self.max[0] >= other.max[0]
            && self.max[1] >= other.max[1]
    }
}

/// The simple rings of a ring (not closed) that may pass through a vertex more than once,
/// cut at each such vertex; loops without area (spikes) are left out.
fn split_pinches(ring: Vec<[i32; 2]>) -> Vec<Vec<[i32; 2]>> {
    let mut out = Vec::new();
    let mut path: Vec<[i32; 2]> = Vec::with_capacity(ring.len());
    let mut at: HashMap<[i32; 2], usize> = HashMap::new();
    for p in ring {
        if let Some(&i) = at.get(&p) {
            let looped: Vec<[i32; 2]> = path.drain(i..).collect();
            for q in &looped {
                at.remove(q);
            }
            if looped.len() >= 3 && ring_area(&looped) != 0.0 {
                out.push(looped);
            }
        }
        at.insert(p, path.len());
        path.push(p);
    }
    if path.len() >= 3 && ring_area(&path) != 0.0 {
        out.push(path);
    }
    out
}

/// Whether `ring` holds `hole`: the first vertex of the hole (or, failing those, the first
/// midpoint of its edges) that is off the ring's boundary lies inside it (even-odd rule; holes
/// of a valid overlay lie wholly on one side). A hole drawn wholly on the ring counts as held.
fn holds(ring: &[[i32; 2]], hole: &[[i32; 2]]) -> bool {
    let vertices = hole.iter().map(|&[x, y]| (f64::from(x), f64::from(y)));
    let midpoints = hole.iter().zip(hole.iter().cycle().skip(1)).map(|(a, b)| {
        (
            (f64::from(a[0]) + f64::from(b[0])) / 2.0,
            (f64::from(a[1]) + f64::from(b[1])) / 2.0,
        )
    });
    let Some((x, y)) = vertices
        .chain(midpoints)
        .find(|&point| !on_boundary(ring, point))
    else {
        return true;
    };
    let mut inside = false;
    for ((ax, ay), (bx, by)) in edges(ring) {
        if (ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay) {
            inside = !inside;
        }
    }
    inside
}

/// The edges of a ring (not closed) as pairs of points.
fn edges(ring: &[[i32; 2]]) -> impl Iterator<Item = ((f64, f64), (f64, f64))> + '_ {
    let point = |p: &[i32; 2]| (f64::from(p[0]), f64::from(p[1]));
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(move |(a, b)| (point(a), point(b)))
}

/// Whether `(x, y)` lies on an edge of `ring` (exact: tile coordinates and their halves are
/// exact in `f64`, and so are the products below).
fn on_boundary(ring: &[[i32; 2]], (x, y): (f64, f64)) -> bool {
    edges(ring).any(|((ax, ay), (bx, by))| {
        let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
        cross == 0.0 && x >= ax.min(bx) && x <= ax.max(bx) && y >= ay.min(by) && y <= ay.max(by)
    })
}

/// Signed shoelace area in tile units² (positive = clockwise on screen, y down).
pub fn ring_area(ring: &[[i32; 2]]) -> f64 {
    let n = ring.len();
    let mut sum = 0i64;
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        sum += i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1]);
    }
    #[expect(clippy::cast_precision_loss, reason = "areas of tile rings")]
    let s = sum as f64;
    s / 2.0
}

#[cfg(test)]
mod tests;
