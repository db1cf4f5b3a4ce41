//! The index's counts and first positions (`SpatialIndex::count_in_envelope`,
//! `first_in_envelope`, `count_within`) and the `items` and `radius` answers built on
//! them, against brute-force scans: dense clusters, duplicate points, the poles, the
//! antimeridian, and radii that end exactly on a point.
#![allow(clippy::unwrap_used)]

mod common;

use common::layer_of;
use geo::{Distance, Geodesic, Geometry, Point, Rect, coord};
use khorasan_atlas::index::SpatialIndex;
use khorasan_atlas::index::geodesic::{KARNEY_TOLERANCE_M, geodesic_m};
use khorasan_atlas::query::{self, BBox, Page, Selection};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Points: half spread over the globe, half in tight clusters (one of exact duplicates),
/// some at the poles and on the antimeridian.
fn random_points(seed: u64, n: usize) -> Vec<Point<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters = [
        (69.17, 34.53, 0.3),
        (65.0, 31.0, 0.02),
        (180.0, -20.0, 1.0),
        (0.0, 89.99, 0.5),
        (72.0, 33.0, 0.0),
    ];
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let z: f64 = rng.gen_range(-1.0..1.0);
                Point::new(rng.gen_range(-180.0..=180.0), z.asin().to_degrees())
            } else {
                let (x, y, sd) = clusters[i % clusters.len()];
                let lon: f64 = x + rng.gen_range(-1.0..=1.0) * sd;
                let lon = if lon > 180.0 { lon - 360.0 } else { lon };
                let lat: f64 = (y + rng.gen_range(-1.0..=1.0) * sd).clamp(-90.0, 90.0);
                Point::new(lon, lat)
            }
        })
        .collect()
}

fn random_box(rng: &mut StdRng) -> [f64; 4] {
    let (x, y) = (rng.gen_range(-180.0..180.0), rng.gen_range(-90.0..90.0));
    let (w, h) = match rng.gen_range(0..3) {
        0 => (rng.gen_range(0.0..0.05), rng.gen_range(0.0..0.05)),
        1 => (rng.gen_range(0.0..3.0), rng.gen_range(0.0..3.0)),
        _ => (rng.gen_range(0.0..120.0), rng.gen_range(0.0..60.0)),
    };
    [x, y, (x + w).min(180.0), (y + h).min(90.0)]
}

/// Boxes around the clusters too, so that whole nodes fall inside.
fn boxes(rng: &mut StdRng) -> Vec<[f64; 4]> {
    let mut out: Vec<[f64; 4]> = (0..150).map(|_| random_box(rng)).collect();
    out.extend([
        [68.0, 33.0, 70.5, 35.5],
        [69.0, 34.4, 69.3, 34.6],
        [64.99, 30.99, 65.01, 31.01],
        [72.0, 33.0, 72.0, 33.0],
        [179.0, -21.0, 180.0, -19.0],
        [-180.0, -90.0, 180.0, 90.0],
        [-10.0, 89.5, 10.0, 90.0],
    ]);
    out
}

fn in_box(p: Point<f64>, [w, s, e, n]: [f64; 4]) -> bool {
    p.x() >= w && p.x() <= e && p.y() >= s && p.y() <= n
}

/// The count and the first positions of the box `b` are `expected`'s.
fn assert_box_answers(index: &SpatialIndex, b @ [w, s, e, n]: [f64; 4], expected: &[usize]) {
    assert_eq!(index.count_in_envelope(w, s, e, n), expected.len(), "{b:?}");
    for want in [0, 1, 7, 100, usize::MAX] {
        let got = index.first_in_envelope(w, s, e, n, want);
        assert_eq!(got, expected[..want.min(expected.len())], "{b:?} {want}");
    }
}

#[test]
fn envelope_counts_and_position_order_match_a_scan_of_points() {
    let mut rng = StdRng::seed_from_u64(3);
    for n in [0, 1, 16, 17, 300, 20_000] {
        let points = random_points(n as u64, n);
        let index = SpatialIndex::build(
            points
                .iter()
                .map(|p| Geometry::Point(*p))
                .collect::<Vec<_>>(),
        );
        for b in boxes(&mut rng) {
            let expected: Vec<usize> = (0..points.len())
                .filter(|&i| in_box(points[i], b))
                .collect();
            assert_box_answers(&index, b, &expected);
        }
    }
}

#[test]
fn envelope_counts_and_position_order_match_the_search_for_boxes() {
    let mut rng = StdRng::seed_from_u64(4);
    let geometries: Vec<Geometry<f64>> = random_points(9, 5_000)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let size = [0.0, 0.01, 1.0, 20.0][i % 4];
            Geometry::Rect(Rect::new(
                coord! { x: p.x(), y: p.y() },
                coord! { x: (p.x() + size).min(180.0), y: (p.y() + size).min(90.0) },
            ))
        })
        .collect();
    let index = SpatialIndex::build(&geometries);
    for b @ [w, s, e, n] in boxes(&mut rng) {
        let mut expected: Vec<usize> = index.in_envelope(w, s, e, n).collect();
        expected.sort_unstable();
        assert_box_answers(&index, b, &expected);
    }
}

#[test]
fn items_in_a_bbox_match_a_scan() {
    let mut rng = StdRng::seed_from_u64(5);
    let points = random_points(5, 20_000);
    let layer = layer_of(points.iter().map(|p| Geometry::Point(*p)).collect());
    let mut bboxes: Vec<String> = boxes(&mut rng)
        .iter()
        .map(|[w, s, e, n]| format!("{w},{s},{e},{n}"))
        .collect();
    // Across the antimeridian.
    bboxes.extend([
        "179.5,-21,-179.5,-19".to_owned(),
        "100,-90,-100,90".to_owned(),
    ]);
    for text in bboxes {
        let bbox = BBox::parse(&text).unwrap();
        let expected: Vec<usize> = (0..points.len())
            .filter(|&i| bbox.envelopes().any(|b| in_box(points[i], b)))
            .collect();
        let selection = Selection {
            bbox: Some(bbox),
            ..Selection::default()
        };
        for (limit, offset) in [(100, 0), (10, 7), (1000, 0), (5, 100_000)] {
            let got = query::items(&layer, &selection, &[], Page { limit, offset });
            assert_eq!(got.matched, expected.len(), "{text}");
            let end = (offset + limit).min(expected.len());
            let page = expected.get(offset.min(end)..end).unwrap_or(&[]);
            let pos: Vec<usize> = got.hits.iter().map(|h| h.pos).collect();
            assert_eq!(pos, page, "{text} page {offset}+{limit}");
        }
    }
}

/// Counts and pages agree with the distance the server reports (`geodesic_m`: Vincenty's
/// formulae on short lines) even for radii ending exactly on a point, and that distance
/// with Karney's to 10 µm.
#[test]
fn radius_counts_match_the_geodesic_also_on_the_edge() {
    let mut rng = StdRng::seed_from_u64(6);
    let points = random_points(6, 20_000);
    let layer = layer_of(points.iter().map(|p| Geometry::Point(*p)).collect());
    let centers = [
        Point::new(69.17, 34.53),
        Point::new(65.0, 31.0),
        Point::new(72.0, 33.0),
        Point::new(180.0, -20.0),
        Point::new(-179.9, -20.5),
        Point::new(0.0, 90.0),
        Point::new(10.0, 0.0),
    ];
    for center in centers {
        let mut dist: Vec<(usize, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let d = geodesic_m(center, *p);
                let karney = Geodesic.distance(center, *p);
                assert!(
                    (d - karney).abs() <= KARNEY_TOLERANCE_M,
                    "{center:?} {p:?}: {d} {karney}"
                );
                (i, d)
            })
            .collect();
        dist.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        // Radii ending exactly on a point (and a hair before it), and round ones.
        let mut radii = vec![0.001, 50.0, 5_000.0, 50_000.0, 400_000.0, 3_000_000.0];
        for _ in 0..12 {
            let d = dist[rng.gen_range(0..dist.len().min(2_000))].1;
            radii.extend([d, d - 1e-6, d.next_up()]);
        }
        for within in radii.into_iter().filter(|w| *w > 0.0) {
            let expected = dist.iter().filter(|(_, d)| *d <= within).count();
            assert_eq!(
                layer.index.count_within(center, within),
                Some(expected),
                "{center:?} within {within}"
            );
            let got = query::radius(
                &layer,
                center,
                within,
                &Selection::default(),
                Page {
                    limit: 10,
                    offset: 3,
                },
            );
            assert_eq!(got.matched, expected, "{center:?} within {within}");
            let end = 13.min(expected);
            let page: Vec<(usize, f64)> = dist[3.min(end)..end].to_vec();
            let got: Vec<(usize, f64)> = got
                .hits
                .iter()
                .map(|h| (h.pos, h.distance_m.unwrap()))
                .collect();
            assert_eq!(got, page, "{center:?} within {within}");
        }
    }
}

#[test]
fn radius_count_is_none_for_layers_that_are_not_single_points() {
    let layer = layer_of(vec![
        Geometry::Point(Point::new(1.0, 1.0)),
        Geometry::Rect(Rect::new(
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 2.0, y: 2.0 },
        )),
    ]);
    assert_eq!(
        layer.index.count_within(Point::new(1.0, 1.0), 1_000.0),
        None
    );
}
