//! Geodesic distances on the WGS84 ellipsoid, and the exact chord prefilter.
//!
//! # Units
//! Longitudes and latitudes in degrees (EPSG:4326); distances in metres along the WGS84
//! ellipsoid: Vincenty's inverse formulae (geo's `VincentyDistance`) for points at most
//! [`VINCENTY_MAX_DEG`] apart in latitude and in longitude, Karney's algorithm (geo's
//! `Geodesic`) for the others and wherever Vincenty's iteration does not converge.
//!
//! # Why two algorithms
//! Karney's algorithm is exact to nanometres for any two points, Vincenty's fails to
//! converge near the antipode; on the short lines that a radius or a nearest query
//! measures, Vincenty's takes under half of Karney's instructions and agrees with it to
//! about 7 µm (the tolerance of its iteration; a unit test checks 10 µm against Karney on
//! random lines of every length up to the bound, near the poles and across the
//! antimeridian), well inside the [`crate::index::count`] bounds' 1 mm slack, so counts and
//! pages stay consistent.
//!
//! # Why the prefilter is exact
//! A point is indexed by its surface normal as a unit vector. Along any curve on the
//! ellipsoid the normal turns by at most `ds / R_MIN`, where [`R_MIN`] is the smallest
//! radius of curvature of the ellipsoid (the meridional radius at the equator). So two
//! points whose normals are `θ` radians apart are at least `θ * R_MIN` metres apart, and a
//! search radius of `d` metres never needs normals more than `d / R_MIN` apart: the chord
//! [`chord_for_distance`] bounds every answer, at the poles and across the antimeridian alike.

use geo::{Contains, Distance, Geodesic, Geometry, Line, Point, Polygon, VincentyDistance};

/// WGS84 semi-major axis, metres.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// Smallest radius of curvature of WGS84, `a (1 - e²)`, metres.
pub const R_MIN: f64 = WGS84_A * (1.0 - (2.0 * WGS84_F - WGS84_F * WGS84_F));
/// Largest radius of curvature of WGS84, `a / sqrt(1 - e²)` (both radii at the poles),
/// metres: two points whose normals are `θ` radians apart are at most `θ * R_MAX` apart.
pub const R_MAX: f64 = WGS84_A / WGS84_B_OVER_A;
/// `sqrt(1 - e²)`, the ratio of the polar to the equatorial radius.
const WGS84_B_OVER_A: f64 = 1.0 - WGS84_F;
/// Half the equatorial circumference, `π a`, metres: the largest radius a query may use.
pub const HALF_CIRCUMFERENCE_M: f64 = std::f64::consts::PI * WGS84_A;

/// The surface normal at `(lon, lat)` degrees as a unit vector (x towards 0°E, z north).
pub fn unit_vector(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// The longest chord between unit normals of two points at most `distance_m` metres apart.
pub fn chord_for_distance(distance_m: f64) -> f64 {
    let angle = (distance_m / R_MIN).clamp(0.0, std::f64::consts::PI);
    2.0 * (angle / 2.0).sin()
}

/// A lower bound, in metres, on the geodesic distance between points whose normals are
/// `chord` apart.
pub fn distance_lower_bound(chord: f64) -> f64 {
    2.0 * (chord / 2.0).clamp(0.0, 1.0).asin() * R_MIN
}

/// An upper bound, in metres, on the geodesic distance between points whose normals are
/// `chord` apart: the curve whose normals follow the great circle between the two normals
/// turns its normal by at least `ds / R_MAX` per metre, and the geodesic is no longer.
pub fn distance_upper_bound(chord: f64) -> f64 {
    2.0 * (chord / 2.0).clamp(0.0, 1.0).asin() * R_MAX
}

/// Geodesic distance in metres between two lon/lat points.
///
/// ```
/// use geo::Point;
/// use khorasan_atlas::index::geodesic::geodesic_m;
/// // Kabul to Herat: about 640 km.
/// let d = geodesic_m(Point::new(69.17, 34.53), Point::new(62.20, 34.35));
/// assert!((635_000.0..645_000.0).contains(&d));
/// ```
pub fn geodesic_m(a: Point<f64>, b: Point<f64>) -> f64 {
    let dlon = (b.x() - a.x()).abs();
    // A pole is one place whatever its longitude: Karney's measures every point there at
    // exactly the same distance (so that such points tie, and keep their order).
    let short = dlon.min(360.0 - dlon) <= VINCENTY_MAX_DEG
        && (b.y() - a.y()).abs() <= VINCENTY_MAX_DEG
        && a.y().abs() < 90.0
        && b.y().abs() < 90.0;
    match short.then(|| a.vincenty_distance(&b)) {
        Some(Ok(d)) if d.is_finite() => d,
        _ => Geodesic.distance(a, b),
    }
}

/// Largest difference of latitude and of longitude, in degrees, between two points that
/// [`geodesic_m`] measures by Vincenty's formulae (lines of up to about 1,570 km).
pub const VINCENTY_MAX_DEG: f64 = 10.0;

/// How far, in metres, [`geodesic_m`] may be from Karney's distance (Vincenty's on lines
/// within [`VINCENTY_MAX_DEG`]: about 7 µm, the tolerance of geo's iteration).
pub const KARNEY_TOLERANCE_M: f64 = 1e-5;

/// Geodesic distance in metres from a point to a geometry: to the nearest vertex of points,
/// to the nearest point of the segments of lines and polygon rings, and 0 inside a polygon.
///
/// Segments are the straight lines of GeoJSON in lon/lat for containment; for the distance to
/// a segment the closest point is taken on the great-circle arc between its ends, then
/// measured with the geodesic, so the result is the geodesic distance to a point of the
/// segment (within metres of the true minimum for segments of a few km).
pub fn distance_to_geometry_m(p: Point<f64>, geometry: &Geometry<f64>) -> f64 {
    match geometry {
        Geometry::Point(q) => geodesic_m(p, *q),
        Geometry::MultiPoint(mp) => mp
            .iter()
            .map(|q| geodesic_m(p, *q))
            .fold(f64::INFINITY, f64::min),
        Geometry::Line(l) => distance_to_segment_m(p, *l),
        Geometry::LineString(ls) => ls
            .lines()
            .map(|l| distance_to_segment_m(p, l))
            .fold(f64::INFINITY, f64::min),
        Geometry::MultiLineString(mls) => mls
            .iter()
            .flat_map(geo::LineString::lines)
            .map(|l| distance_to_segment_m(p, l))
            .fold(f64::INFINITY, f64::min),
        Geometry::Polygon(poly) => distance_to_polygon_m(p, poly),
        Geometry::MultiPolygon(mp) => mp
            .iter()
            .map(|poly| distance_to_polygon_m(p, poly))
            .fold(f64::INFINITY, f64::min),
        Geometry::Rect(r) => distance_to_polygon_m(p, &r.to_polygon()),
        Geometry::Triangle(t) => distance_to_polygon_m(p, &t.to_polygon()),
        Geometry::GeometryCollection(gc) => gc
            .iter()
            .map(|g| distance_to_geometry_m(p, g))
            .fold(f64::INFINITY, f64::min),
    }
}

fn distance_to_polygon_m(p: Point<f64>, poly: &Polygon<f64>) -> f64 {
    if poly.contains(&p) {
        return 0.0;
    }
    std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .flat_map(geo::LineString::lines)
        .map(|l| distance_to_segment_m(p, l))
        .fold(f64::INFINITY, f64::min)
}

/// Distance from `p` to the segment `l`, see [`distance_to_geometry_m`].
pub fn distance_to_segment_m(p: Point<f64>, l: Line<f64>) -> f64 {
    let a = unit_vector(l.start.x, l.start.y);
    let b = unit_vector(l.end.x, l.end.y);
    let q = unit_vector(p.x(), p.y());
    let ends = geodesic_m(p, l.start.into()).min(geodesic_m(p, l.end.into()));
    let n = cross(a, b);
    let n_len = norm(n);
    if n_len < 1e-15 {
        return ends;
    }
    let n = scale(n, 1.0 / n_len);
    // Project q onto the great-circle plane, then check it lies between a and b.
    let along = sub(q, scale(n, dot(q, n)));
    let along_len = norm(along);
    if along_len < 1e-15 {
        return ends;
    }
    let c = scale(along, 1.0 / along_len);
    let inside = dot(cross(a, c), n) >= 0.0 && dot(cross(c, b), n) >= 0.0;
    if !inside {
        return ends;
    }
    let lon = c[1].atan2(c[0]).to_degrees();
    let lat = c[2].clamp(-1.0, 1.0).asin().to_degrees();
    geodesic_m(p, Point::new(lon, lat)).min(ends)
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}
fn scale(a: [f64; 3], k: f64) -> [f64; 3] {
    [a[0] * k, a[1] * k, a[2] * k]
}
fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, polygon};

    /// Lines of every length up to the Vincenty bound and beyond it, anywhere (poles and
    /// antimeridian included), each measured by [`geodesic_m`] and by Karney's algorithm.
    #[test]
    fn geodesic_agrees_with_karney_on_lines_of_every_length() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut unit = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let wrap = |lon: f64| match lon {
            l if l > 180.0 => l - 360.0,
            l if l < -180.0 => l + 360.0,
            l => l,
        };
        // Lines where Vincenty's answer is not Karney's to the bit: those it measured.
        let mut vincenty_lines = 0;
        for span in [1e-6, 1e-3, 0.05, 0.5, 3.0, 9.99, 10.0, 30.0, 120.0] {
            for _ in 0..4_000 {
                let (lon, lat) = (unit() * 360.0 - 180.0, unit() * 180.0 - 90.0);
                let a = Point::new(lon, lat);
                let b = Point::new(
                    wrap(lon + (unit() - 0.5) * 2.0 * span),
                    (lat + (unit() - 0.5) * 2.0 * span).clamp(-90.0, 90.0),
                );
                let (ours, karney) = (geodesic_m(a, b), Geodesic.distance(a, b));
                assert!(
                    (ours - karney).abs() <= KARNEY_TOLERANCE_M,
                    "{a:?} {b:?}: {ours} against Karney's {karney}"
                );
                vincenty_lines += usize::from(ours.to_bits() != karney.to_bits());
            }
        }
        assert!(vincenty_lines > 20_000);
        // The same point, the antimeridian, a pole, and the antipode (Karney's).
        let kabul = Point::new(69.17, 34.53);
        assert_eq!(geodesic_m(kabul, kabul), 0.0);
        for (a, b) in [
            (Point::new(179.99, 10.0), Point::new(-179.99, 10.5)),
            (Point::new(0.0, 90.0), Point::new(45.0, 89.0)),
            (Point::new(0.0, 0.0), Point::new(180.0, 0.0)),
            (Point::new(10.0, 45.0), Point::new(-170.0, -45.0)),
        ] {
            let (ours, karney) = (geodesic_m(a, b), Geodesic.distance(a, b));
            assert!((ours - karney).abs() <= KARNEY_TOLERANCE_M, "{a:?} {b:?}");
        }
    }

    #[test]
    fn lower_bound_never_exceeds_geodesic() {
        // Pairs across the antimeridian, near the poles, antipodal and tiny.
        let pairs = [
            ((179.9, 10.0), (-179.9, 10.0)),
            ((0.0, 89.99), (180.0, 89.99)),
            ((0.0, 0.0), (179.5, 0.0)),
            ((10.0, 45.0), (10.000_001, 45.0)),
            ((-70.0, -60.0), (110.0, 60.0)),
        ];
        for ((x1, y1), (x2, y2)) in pairs {
            let (a, b) = (unit_vector(x1, y1), unit_vector(x2, y2));
            let chord = norm(sub(a, b));
            let d = geodesic_m(Point::new(x1, y1), Point::new(x2, y2));
            assert!(
                distance_lower_bound(chord) <= d * (1.0 + 1e-12),
                "{x1},{y1} {x2},{y2}"
            );
            assert!(chord <= chord_for_distance(d) + 1e-12);
        }
    }

    #[test]
    fn polygon_distance_is_zero_inside_and_matches_densified_edges_outside() {
        let poly = polygon![(x: 60.0, y: 30.0), (x: 62.0, y: 30.0), (x: 62.0, y: 32.0), (x: 60.0, y: 32.0), (x: 60.0, y: 30.0)];
        let g = Geometry::Polygon(poly.clone());
        assert_eq!(distance_to_geometry_m(Point::new(61.0, 31.0), &g), 0.0);
        // Brute force: densify the ring to ~100 m steps and take the nearest vertex.
        let p = Point::new(61.3, 33.1);
        let ring: &LineString<f64> = poly.exterior();
        let mut best = f64::INFINITY;
        for l in ring.lines() {
            for i in 0..=2000 {
                let t = f64::from(i) / 2000.0;
                let q = Point::new(
                    l.start.x + t * (l.end.x - l.start.x),
                    l.start.y + t * (l.end.y - l.start.y),
                );
                best = best.min(geodesic_m(p, q));
            }
        }
        let d = distance_to_geometry_m(p, &g);
        assert!((d - best).abs() < 0.005 * best, "{d} vs {best}");
    }
}
