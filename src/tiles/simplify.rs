//! Per-zoom simplification, prepared once per layer snapshot.
//!
//! Owns: projecting line and polygon geometry to normalized Mercator once ([`PreparedLayer`],
//! kept between requests by the tile cache), and giving each
//! vertex a Douglas-Peucker *importance* (the squared distance, in normalized Mercator
//! units², at which Douglas-Peucker would drop it, capped by its parent's so that the
//! hierarchy is exact). A tile at zoom `z` then keeps the vertices whose importance exceeds
//! `(tolerance / (extent * 2^z))²`: the same vertices in every tile of that zoom, so
//! neighbouring tiles agree on shared edges, and no simplification work per request.
//!
//! The tolerance is in tile units (1/extent of a tile side). Points are not prepared: they
//! are projected per tile, which is cheaper than storing them twice.
//!
//! Borders shared by polygons (two countries, two provinces) are simplified the same way in
//! both, so that no sliver opens between neighbours ([`prepare_layer`]): as in TopoJSON, a
//! vertex where rings meet or part (a *junction*) is always kept, and Douglas-Peucker runs on
//! each chain between two junctions, which is the same chain, reversed, in the neighbour.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use geo::{Geometry, LineString, Polygon};

use super::encode::values::ValueTable;
use super::pyramid::Pyramid;
use crate::catalog::{GeometryKind, Layer};
use crate::geom::mercator::lonlat_to_merc;

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

/// The geometry of an empty slot: prepared as nothing.
static EMPTY: Geometry<f64> = Geometry::GeometryCollection(geo::GeometryCollection(Vec::new()));

/// What a layer keeps for tiling between requests: the simplification-ready geometry of
/// its lines and polygons (empty for point layers), the [`Pyramid`] of a layer of points,
/// and its encoded property values ([`ValueTable`]). Tied to one layer generation.
#[derive(Debug)]
pub struct PreparedLayer {
    pub generation: u64,
    geoms: Vec<Prepared>,
    pyramid: Option<Pyramid>,
    values: Option<ValueTable>,
    point_bytes: Option<usize>,
}

/// Features of a layer of points from which its pyramid and values are made on two
/// threads.
const PARALLEL_PREPARATION: usize = 50_000;

impl PreparedLayer {
    /// Projects the layer's lines and polygons and computes vertex importances, or makes
    /// the pyramid of a layer of points; encodes the layer's property values.
    pub fn new(layer: &Layer) -> Self {
        let points = layer.geometry_kind == GeometryKind::Point;
        let geoms = if points {
            Vec::new()
        } else {
            prepare_layer(
                layer
                    .features
                    .by_slot()
                    .map(|f| f.map_or(Cow::Borrowed(&EMPTY), |f| f.geometry.get())),
            )
        };
        let values = || {
            ValueTable::new(layer).inspect(|v| {
                tracing::debug!(layer = %layer.id(), values = v.values(), bytes = v.heap_bytes(),
                    "tile property values encoded");
            })
        };
        // The pyramid and the values read the layer apart: a large layer makes them on two
        // threads.
        let (pyramid, values) = match points {
            false => (None, values()),
            true if layer.features.live() < PARALLEL_PREPARATION => (Pyramid::new(layer), values()),
            true => std::thread::scope(|scope| {
                let pyramid = scope.spawn(|| Pyramid::new(layer));
                let values = values();
                let pyramid = pyramid
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (pyramid, values)
            }),
        };
        Self {
            generation: layer.generation,
            geoms,
            pyramid,
            values,
            point_bytes: super::encode::point_bytes(layer),
        }
    }

    /// [`Self::new`] without the point pyramid and the encoded values: its tiles gather
    /// their points from the layer's index and encode their properties one by one (see
    /// [`super::cache::Tiler::prepared`]).
    pub fn without_pyramid(layer: &Layer) -> Self {
        if layer.geometry_kind != GeometryKind::Point {
            return Self::new(layer);
        }
        Self {
            generation: layer.generation,
            geoms: Vec::new(),
            pyramid: None,
            values: None,
            point_bytes: super::encode::point_bytes(layer),
        }
    }

    /// The point pyramid, for a layer of single points.
    pub fn pyramid(&self) -> Option<&Pyramid> {
        self.pyramid.as_ref()
    }

    /// The encoded property values, when made.
    pub fn values(&self) -> Option<&ValueTable> {
        self.values.as_ref()
    }

    /// The bytes a point of the layer takes in a tile, estimated from a sample
    /// ([`super::encode::point_bytes`]); `None` unless the layer is all single points.
    pub fn point_bytes(&self) -> Option<usize> {
        self.point_bytes
    }

    /// The prepared geometry of the feature at `pos` (points when there is none).
    pub fn get(&self, pos: usize) -> &Prepared {
        self.geoms.get(pos).unwrap_or(&Prepared::Points)
    }
}

/// Most ring vertices of a layer for which shared borders are found (the vertex table takes
/// about 60 bytes a vertex while the layer is prepared); larger layers simplify each ring on
/// its own.
pub const SHARED_BORDER_VERTEX_LIMIT: usize = 5_000_000;

/// Prepares the geometry of every feature of a layer, with the rings of its polygons
/// simplified chain by chain between junctions, so that a border shared by two rings keeps
/// the same vertices in both at every zoom (for layers of up to
/// [`SHARED_BORDER_VERTEX_LIMIT`] ring vertices).
pub fn prepare_layer<G: Borrow<Geometry<f64>>>(
    geometries: impl Iterator<Item = G>,
) -> Vec<Prepared> {
    let mut prepared: Vec<Prepared> = geometries.map(|g| Prepared::new(g.borrow())).collect();
    let rings = || {
        prepared.iter().flat_map(|p| match p {
            Prepared::Polygons(polys) => polys.iter().flatten().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    let total: usize = rings().map(|r| r.points.len()).sum();
    if total > SHARED_BORDER_VERTEX_LIMIT {
        return prepared;
    }
    let vertices = VertexTable::new(rings().map(|r| r.points.as_slice()));
    if !vertices.any_shared {
        return prepared;
    }
    for p in &mut prepared {
        if let Prepared::Polygons(polys) = p {
            for ring in polys.iter_mut().flatten() {
                if let Some(importance) = shared_ring_importance(&ring.points, &vertices) {
                    ring.importance = importance;
                }
            }
        }
    }
    prepared
}

/// Exact identity of a projected vertex (the same lon/lat always projects the same).
type VertexKey = [u64; 2];

fn key(p: [f64; 2]) -> VertexKey {
    [p[0].to_bits(), p[1].to_bits()]
}

/// How each vertex of a layer's rings is used: in how many ring positions, and whether the
/// rings through it go different ways there (a junction).
struct VertexTable {
    uses: HashMap<VertexKey, VertexUse>,
    any_shared: bool,
}

struct VertexUse {
    count: u32,
    /// The unordered pair of neighbours at the first use.
    neighbours: [VertexKey; 2],
    junction: bool,
}

impl VertexTable {
    fn new<'a>(rings: impl Iterator<Item = &'a [[f64; 2]]>) -> Self {
        let mut uses: HashMap<VertexKey, VertexUse> = HashMap::new();
        let mut any_shared = false;
        for ring in rings {
            let open = open_ring(ring);
            let n = open.len();
            if n < 3 {
                continue;
            }
            for i in 0..n {
                let (prev, next) = (key(open[(i + n - 1) % n]), key(open[(i + 1) % n]));
                let pair = if prev <= next {
                    [prev, next]
                } else {
                    [next, prev]
                };
                uses.entry(key(open[i]))
                    .and_modify(|u| {
                        u.count += 1;
                        any_shared = true;
                        if u.neighbours != pair {
                            u.junction = true;
                        }
                    })
                    .or_insert(VertexUse {
                        count: 1,
                        neighbours: pair,
                        junction: false,
                    });
            }
        }
        Self { uses, any_shared }
    }

    fn get(&self, p: [f64; 2]) -> Option<&VertexUse> {
        self.uses.get(&key(p))
    }
}

/// The ring without its closing vertex (when it repeats the first).
fn open_ring(ring: &[[f64; 2]]) -> &[[f64; 2]] {
    match ring {
        [first, .., last] if key(*first) == key(*last) => &ring[..ring.len() - 1],
        _ => ring,
    }
}

/// Importances of a ring that shares vertices with another ring: junctions are kept at every
/// zoom and each chain between two junctions gets Douglas-Peucker importances of its own.
/// `None` for a ring that shares nothing (its plain importances stand).
fn shared_ring_importance(ring: &[[f64; 2]], vertices: &VertexTable) -> Option<Vec<f64>> {
    let open = open_ring(ring);
    let n = open.len();
    if n < 3 {
        return None;
    }
    let uses: Vec<Option<&VertexUse>> = open.iter().map(|p| vertices.get(*p)).collect();
    if uses.iter().all(|u| u.is_none_or(|u| u.count < 2)) {
        return None;
    }
    let mut junctions: Vec<usize> = (0..n)
        .filter(|&i| uses[i].is_some_and(|u| u.junction))
        .collect();
    if junctions.is_empty() {
        // A ring shared whole (an enclave and the hole around it): both start at the same
        // vertex, the smallest.
        let start = (0..n).min_by_key(|&i| key(open[i])).unwrap_or(0);
        junctions.push(start);
    }
    let mut importance = vec![0.0; n];
    for (j, &a) in junctions.iter().enumerate() {
        let b = junctions[(j + 1) % junctions.len()];
        let len = (b + n - a) % n;
        let len = if len == 0 { n } else { len };
        let chain: Vec<[f64; 2]> = (0..=len).map(|k| open[(a + k) % n]).collect();
        let chain_importance = importance_symmetric(&chain);
        for (k, imp) in chain_importance.into_iter().enumerate().take(len).skip(1) {
            importance[(a + k) % n] = imp;
        }
        importance[a] = f64::INFINITY;
    }
    if ring.len() > n {
        // The closing vertex repeats the first.
        importance.push(importance[0]);
    }
    Some(importance)
}

/// Douglas-Peucker importances that do not depend on the direction of the chain: ties
/// between equally distant vertices go to the smaller vertex, so a border walked the other
/// way by the neighbouring ring keeps the same vertices.
fn importance_symmetric(points: &[[f64; 2]]) -> Vec<f64> {
    importance_by(points, |a, b| key(a) < key(b))
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
    importance_by(points, |_, _| false)
}

/// Douglas-Peucker importances; `prefer(a, b)` breaks a tie in distance between a later
/// vertex `a` and the best so far `b`.
fn importance_by(points: &[[f64; 2]], prefer: impl Fn([f64; 2], [f64; 2]) -> bool) -> Vec<f64> {
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
            if d > best_d || (d == best_d && prefer(points[i], points[best])) {
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

    /// Two rings sharing a wiggly border, walked in opposite directions from different
    /// starts, keep the same border vertices at every tolerance.
    #[test]
    fn shared_borders_keep_the_same_vertices() {
        // The border from (0, 0) up to (0, 10), wiggling in x.
        let border: Vec<(f64, f64)> = (0..=40)
            .map(|i| {
                let y = f64::from(i) * 0.25;
                (
                    ((f64::from(i) * 1.7).sin() * 0.3 + (f64::from(i) * 0.31).cos() * 0.2),
                    y,
                )
            })
            .collect();
        let mut west: Vec<(f64, f64)> = border.clone();
        west.extend([(-5.0, 10.0), (-5.0, 0.0), border[0]]);
        let mut east: Vec<(f64, f64)> = border.iter().rev().copied().collect();
        east.extend([(5.0, 0.0), (5.0, 10.0)]);
        // Start the east ring somewhere else on the border.
        east.rotate_left(7);
        east.push(east[0]);
        let poly =
            |ring: Vec<(f64, f64)>| Geometry::Polygon(Polygon::new(LineString::from(ring), vec![]));
        let (w, e) = (poly(west), poly(east));
        let prepared = prepare_layer([&w, &e].into_iter());
        let rings: Vec<&Path> = prepared
            .iter()
            .map(|p| match p {
                Prepared::Polygons(polys) => &polys[0][0],
                _ => panic!("not a polygon"),
            })
            .collect();
        let on_border: Vec<[f64; 2]> = border.iter().map(|&(x, y)| lonlat_to_merc(x, y)).collect();
        let shared = |path: &Path, sq_tol: f64| {
            let mut kept: Vec<VertexKey> = path
                .kept(sq_tol)
                .filter(|p| on_border.iter().any(|b| key(*b) == key(*p)))
                .map(key)
                .collect();
            kept.sort_unstable();
            kept.dedup();
            kept
        };
        let mut distinct_counts = std::collections::BTreeSet::new();
        for e in 0..40 {
            let sq_tol = 10f64.powf(-2.0 - f64::from(e) * 0.15).powi(2);
            let (a, b) = (shared(rings[0], sq_tol), shared(rings[1], sq_tol));
            assert_eq!(a, b, "tolerance {sq_tol:e}");
            distinct_counts.insert(a.len());
        }
        // The tolerances range from keeping the two junctions only to keeping every vertex.
        assert!(distinct_counts.len() > 5, "{distinct_counts:?}");
        assert!(
            distinct_counts.contains(&2) && distinct_counts.contains(&41),
            "{distinct_counts:?}"
        );
    }

    #[test]
    fn tolerance_halves_per_zoom() {
        let a = sq_tolerance(8.0, 4096, 3);
        let b = sq_tolerance(8.0, 4096, 4);
        assert!((a / b - 4.0).abs() < 1e-9);
    }
}
