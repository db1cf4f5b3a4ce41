//! Radius and nearest answers against a brute-force geodesic scan of random points,
//! anywhere on Earth: near the poles, across the antimeridian, tiny and continental radii.
#![allow(clippy::unwrap_used)]

mod common;

use geo::{Distance, Geodesic, Geometry, Point};
use khorasan_atlas::catalog::Layer;
use khorasan_atlas::index::geodesic::KARNEY_TOLERANCE_M;
use khorasan_atlas::query::{self, Page, Selection};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Random points: a uniform world-wide spread plus dense clusters at both poles, on the
/// antimeridian and around Kabul.
fn random_layer(seed: u64, n: usize) -> Layer {
    let mut rng = StdRng::seed_from_u64(seed);
    let hotspots = [
        (0.0, 89.9),
        (120.0, -89.9),
        (180.0, 10.0),
        (-180.0, -35.0),
        (69.17, 34.53),
    ];
    let geometries = (0..n)
        .map(|i| {
            let (lon, lat) = if i % 2 == 0 {
                let z: f64 = rng.gen_range(-1.0..1.0);
                (rng.gen_range(-180.0..=180.0), z.asin().to_degrees())
            } else {
                let (hx, hy) = hotspots[i % hotspots.len()];
                let lon: f64 = hx + rng.gen_range(-2.0..2.0);
                let lon = if lon > 180.0 {
                    lon - 360.0
                } else if lon < -180.0 {
                    lon + 360.0
                } else {
                    lon
                };
                let lat: f64 = (hy + rng.gen_range(-1.0..1.0_f64)).clamp(-90.0, 90.0);
                (lon, lat)
            };
            Geometry::Point(Point::new(lon, lat))
        })
        .collect();
    common::layer_of(geometries)
}

fn brute_force(layer: &Layer, center: Point<f64>) -> Vec<(usize, f64)> {
    let mut all: Vec<(usize, f64)> = layer
        .features
        .iter()
        .map(|(i, f)| match *f.geometry.get() {
            Geometry::Point(p) => (i, Geodesic.distance(center, p)),
            _ => unreachable!(),
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all
}

const CENTERS: [(f64, f64); 8] = [
    (0.0, 90.0),
    (45.0, 89.95),
    (120.0, -89.95),
    (179.99, 10.0),
    (-179.99, -35.0),
    (69.17, 34.53),
    (-180.0, 0.0),
    (10.0, 0.0),
];

#[test]
fn radius_matches_brute_force_everywhere() {
    let layer = random_layer(7, 20_000);
    let everything = Page {
        limit: usize::MAX,
        offset: 0,
    };
    for (lon, lat) in CENTERS {
        let center = Point::new(lon, lat);
        let scan = brute_force(&layer, center);
        for within in [
            50.0,
            5_000.0,
            150_000.0,
            1_000_000.0,
            8_000_000.0,
            20_000_000.0,
        ] {
            let expected: Vec<usize> = scan
                .iter()
                .filter(|(_, d)| *d <= within)
                .map(|(i, _)| *i)
                .collect();
            let got = query::radius(&layer, center, within, &Selection::default(), everything);
            let got_pos: Vec<usize> = got.hits.iter().map(|h| h.pos).collect();
            assert_eq!(
                got.matched,
                expected.len(),
                "({lon},{lat}) within {within} m"
            );
            assert_eq!(
                got_pos, expected,
                "({lon},{lat}) within {within} m: order or members differ"
            );
        }
    }
}

#[test]
fn nearest_matches_brute_force_everywhere() {
    let layer = random_layer(11, 20_000);
    for (lon, lat) in CENTERS {
        let center = Point::new(lon, lat);
        let scan = brute_force(&layer, center);
        for k in [1, 7, 100] {
            let got = query::nearest(&layer, center, k, None, &Selection::default());
            let got_pos: Vec<usize> = got.hits.iter().map(|h| h.pos).collect();
            let expected_pos: Vec<usize> = scan[..k].iter().map(|(i, _)| *i).collect();
            assert_eq!(got_pos, expected_pos, "({lon},{lat}) k={k}");
            // The server measures short lines by Vincenty's formulae: within 10 µm of
            // Karney's.
            for (hit, (_, expected)) in got.hits.iter().zip(&scan) {
                let d = hit.distance_m.unwrap();
                assert!(
                    (d - expected).abs() <= KARNEY_TOLERANCE_M,
                    "({lon},{lat}) k={k}: {d} against {expected}"
                );
            }
        }
        let capped = query::nearest(&layer, center, 100, Some(1_000.0), &Selection::default());
        let expected = scan.iter().take(100).filter(|(_, d)| *d <= 1_000.0).count();
        assert_eq!(capped.hits.len(), expected);
    }
}

#[test]
fn radius_pages_are_slices_of_the_full_answer() {
    let layer = random_layer(3, 5_000);
    let center = Point::new(69.17, 34.53);
    let all = query::radius(
        &layer,
        center,
        300_000.0,
        &Selection::default(),
        Page {
            limit: usize::MAX,
            offset: 0,
        },
    );
    assert!(all.matched > 30);
    let page = query::radius(
        &layer,
        center,
        300_000.0,
        &Selection::default(),
        Page {
            limit: 10,
            offset: 20,
        },
    );
    assert_eq!(page.matched, all.matched);
    assert_eq!(page.hits, all.hits[20..30].to_vec());
}

#[test]
fn radius_first_pages_and_counts_match_brute_force() {
    let layer = random_layer(5, 20_000);
    for (lon, lat) in CENTERS {
        let center = Point::new(lon, lat);
        let scan = brute_force(&layer, center);
        for within in [5_000.0, 150_000.0, 1_000_000.0] {
            let inside: Vec<usize> = scan
                .iter()
                .filter(|(_, d)| *d <= within)
                .map(|(i, _)| *i)
                .collect();
            for (limit, offset) in [(10, 0), (7, 3), (100, 50)] {
                let got = query::radius(
                    &layer,
                    center,
                    within,
                    &Selection::default(),
                    Page { limit, offset },
                );
                assert_eq!(got.matched, inside.len(), "({lon},{lat}) within {within} m");
                let pos: Vec<usize> = got.hits.iter().map(|h| h.pos).collect();
                let end = (offset + limit).min(inside.len());
                let expected = inside.get(offset.min(end)..end).unwrap_or(&[]);
                assert_eq!(
                    pos, expected,
                    "({lon},{lat}) within {within} m page {offset}+{limit}"
                );
            }
        }
    }
}

#[test]
fn chord_bounds_hold_the_geodesic_distance() {
    use khorasan_atlas::index::geodesic::{
        distance_lower_bound, distance_upper_bound, unit_vector,
    };
    let mut rng = StdRng::seed_from_u64(17);
    for i in 0..20_000 {
        let a = Point::new(
            rng.gen_range(-180.0..=180.0),
            rng.gen_range(-90.0..=90.0_f64),
        );
        // Near pairs (the band of a radius query) and far ones, at the poles too.
        let spread = [0.001, 0.1, 2.0, 60.0][i % 4];
        let b = Point::new(
            (a.x() + rng.gen_range(-spread..=spread)).clamp(-180.0, 180.0),
            (a.y() + rng.gen_range(-spread..=spread)).clamp(-90.0, 90.0),
        );
        let (ua, ub) = (unit_vector(a.x(), a.y()), unit_vector(b.x(), b.y()));
        let chord =
            ((ua[0] - ub[0]).powi(2) + (ua[1] - ub[1]).powi(2) + (ua[2] - ub[2]).powi(2)).sqrt();
        let d = Geodesic.distance(a, b);
        assert!(distance_lower_bound(chord) <= d + 1e-3, "{a:?} {b:?}");
        assert!(
            distance_upper_bound(chord) >= d - 1e-3,
            "{a:?} {b:?}: {d} > {}",
            distance_upper_bound(chord)
        );
    }
}
