//! Per-zoom simplification, prepared once per layer snapshot.
//!
//! Owns: projecting line and polygon geometry to normalized Mercator once, and giving each
//! vertex a Douglas-Peucker *importance* (the squared distance, in normalized Mercator
//! units², at which Douglas-Peucker would drop it, capped by its parent's so that the
//! hierarchy is exact). A tile at zoom `z` then keeps the vertices whose importance exceeds
//! `(tolerance / (extent * 2^z))²`: the same vertices in every tile of that zoom, so
//! neighbouring tiles agree on shared edges, and no simplification work per request.
//!
//! The tolerance is in tile units (1/extent of a tile side). Points are not prepared: they
//! are projected per tile, which is cheaper than storing them twice.

use geo::{Geometry, LineString, Polygon};

use super::coord::lonlat_to_merc;

/// A line or a ring in normalized Mercator (`0..1`, y down) with vertex importances.
#[derive(Debug, Clone, Default)]
pub struct Path {
    pub points: Vec<[f64; 2]>,
    /// Squared normalized Mercator distance; `f64::INFINITY` for the end points.
    pub importance: Vec<f64>,
}

impl Path {
    /// Projects `line` and computes importances.
    pub fn new(line: &LineString<f64>) -> Self {
        let points: Vec<[f64; 2]> = line.0.iter().map(|c| lonlat_to_merc(c.x, c.y)).collect();
        let importance = importance(&points);
        Self { points, importance }
    }

    /// The vertices kept at squared tolerance `sq_tol`, in order.
    pub fn kept(&self, sq_tol: f64) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.points
            .iter()
            .zip(&self.importance)
            .filter(move |(_, imp)| **imp > sq_tol)
            .map(|(p, _)| *p)
    }
}

/// Line or polygon geometry of one feature, prepared for tiling.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Point and multipoint features: projected per tile.
    Points,
    /// Lines (all the lines of a feature).
    Lines(Vec<Path>),
    /// Polygons, each as rings (exterior first).
    Polygons(Vec<Vec<Path>>),
}

impl Prepared {
    /// Prepares one feature geometry (lon/lat degrees). Geometry collections keep their
    /// lines or their polygons, whichever come first.
    pub fn new(g: &Geometry<f64>) -> Self {
        match g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Self::Points,
            Geometry::Line(l) => {
                Self::Lines(vec![Path::new(&LineString::from(vec![l.start, l.end]))])
            }
            Geometry::LineString(l) => Self::Lines(vec![Path::new(l)]),
            Geometry::MultiLineString(ml) => Self::Lines(ml.iter().map(Path::new).collect()),
            Geometry::Polygon(p) => Self::Polygons(vec![polygon(p)]),
            Geometry::MultiPolygon(mp) => Self::Polygons(mp.iter().map(polygon).collect()),
            Geometry::Rect(r) => Self::Polygons(vec![polygon(&r.to_polygon())]),
            Geometry::Triangle(t) => Self::Polygons(vec![polygon(&t.to_polygon())]),
            Geometry::GeometryCollection(gc) => {
                let mut lines = Vec::new();
                let mut polys = Vec::new();
                for g in gc {
                    match Self::new(g) {
                        Self::Lines(l) => lines.extend(l),
                        Self::Polygons(p) => polys.extend(p),
                        Self::Points => {}
                    }
                }
                if polys.is_empty() && !lines.is_empty() {
                    Self::Lines(lines)
                } else if !polys.is_empty() {
                    Self::Polygons(polys)
                } else {
                    Self::Points
                }
            }
        }
    }
}

fn polygon(p: &Polygon<f64>) -> Vec<Path> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(Path::new)
        .collect()
}

/// Squared tolerance in normalized Mercator units² of `tolerance` tile units at zoom `z`.
pub fn sq_tolerance(tolerance: f64, extent: u32, z: u8) -> f64 {
    let t = tolerance / (f64::from(extent) * f64::from(1u32 << z.min(30)));
    t * t
}

/// Douglas-Peucker importances, computed without recursion.
fn importance(points: &[[f64; 2]]) -> Vec<f64> {
    let n = points.len();
    let mut imp = vec![0.0; n];
    if n == 0 {
        return imp;
    }
    imp[0] = f64::INFINITY;
    imp[n - 1] = f64::INFINITY;
    let mut stack = vec![(0usize, n - 1, f64::INFINITY)];
    while let Some((first, last, cap)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let (mut best, mut best_d) = (first, -1.0);
        for i in first + 1..last {
            let d = sq_seg_dist(points[i], points[first], points[last]);
            if d > best_d {
                best = i;
                best_d = d;
            }
        }
        let d = best_d.min(cap);
        imp[best] = d;
        stack.push((first, best, d));
        stack.push((best, last, d));
    }
    imp
}

/// Squared distance from `p` to the segment `a`-`b`.
fn sq_seg_dist(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (mut x, mut y) = (a[0], a[1]);
    let (dx, dy) = (b[0] - x, b[1] - y);
    if dx != 0.0 || dy != 0.0 {
        let t = ((p[0] - x) * dx + (p[1] - y) * dy) / (dx * dx + dy * dy);
        if t > 1.0 {
            x = b[0];
            y = b[1];
        } else if t > 0.0 {
            x += dx * t;
            y += dy * t;
        }
    }
    let (ex, ey) = (p[0] - x, p[1] - y);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importance_is_a_dp_hierarchy() {
        let pts = [
            [0.0, 0.0],
            [1.0, 0.1],
            [2.0, -0.1],
            [3.0, 5.0],
            [4.0, 6.0],
            [5.0, 7.0],
        ];
        let imp = importance(&pts);
        assert!(imp[0].is_infinite() && imp[5].is_infinite());
        // The vertex farthest from the first-last chord is the most important one.
        let far = (1..5)
            .max_by(|&a, &b| {
                sq_seg_dist(pts[a], pts[0], pts[5]).total_cmp(&sq_seg_dist(pts[b], pts[0], pts[5]))
            })
            .unwrap();
        let max = imp[1..5].iter().cloned().fold(0.0, f64::max);
        assert_eq!(max, imp[far]);
        // A tolerance above every interior importance keeps only the end points.
        let path = Path {
            points: pts.to_vec(),
            importance: imp.clone(),
        };
        assert_eq!(path.kept(max + 1.0).count(), 2);
        // Tolerance 0 drops only the collinear (4, 6).
        assert_eq!(path.kept(0.0).count(), 5);
        assert_eq!(path.kept(-1.0).count(), 6);
    }

    #[test]
    fn tolerance_halves_per_zoom() {
        let a = sq_tolerance(8.0, 4096, 3);
        let b = sq_tolerance(8.0, 4096, 4);
        assert!((a / b - 4.0).abs() < 1e-9);
    }
}
