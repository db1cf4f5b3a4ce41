use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn hilbert_visits_each_cell_of_a_corner_square_once_through_neighbours() {
    // The first 4^8 steps of the order-16 curve fill a 256 x 256 corner square.
    let mut cell_at = vec![None; 1 << 16];
    for x in 0..256_u32 {
        for y in 0..256_u32 {
            let d = hilbert(x, y) as usize;
            assert!(d < 1 << 16, "({x}, {y}) -> {d}");
            assert!(cell_at[d].replace((x, y)).is_none(), "{d} twice");
        }
    }
    let cells: Vec<(u32, u32)> = cell_at.into_iter().map(Option::unwrap_or_default).collect();
    for pair in cells.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        assert_eq!(x0.abs_diff(x1) + y0.abs_diff(y1), 1, "{pair:?}");
    }
}

fn random_boxes(rng: &mut StdRng, n: usize) -> Vec<([f64; 2], [f64; 2])> {
    (0..n)
        .map(|_| {
            let (x, y) = (rng.gen_range(-180.0..180.0), rng.gen_range(-90.0..90.0));
            let (w, h) = (rng.gen_range(0.0..5.0), rng.gen_range(0.0..5.0));
            ([x, y], [x + w, y + h])
        })
        .collect()
}

fn intersects(a: &[f64; 2], b: &[f64; 2], lo: &[f64; 2], hi: &[f64; 2]) -> bool {
    a[0] <= hi[0] && b[0] >= lo[0] && a[1] <= hi[1] && b[1] >= lo[1]
}

#[test]
fn search_finds_what_a_scan_finds() {
    let mut rng = StdRng::seed_from_u64(7);
    for n in [0, 1, 15, 16, 17, 257, 5000] {
        let boxes = random_boxes(&mut rng, n);
        let keys = hilbert_keys(
            boxes
                .iter()
                .map(|(a, b)| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]),
        );
        let tree = PackedTree::build(
            boxes.iter().map(|b| b.0).collect(),
            Some(boxes.iter().map(|b| b.1).collect()),
            (0..n as u32).collect(),
            &keys,
        );
        assert_eq!(tree.len(), n);
        for _ in 0..50 {
            let lo = [rng.gen_range(-180.0..180.0), rng.gen_range(-90.0..90.0)];
            let hi = [
                lo[0] + rng.gen_range(0.0..60.0),
                lo[1] + rng.gen_range(0.0..30.0),
            ];
            let mut got: Vec<usize> = tree
                .search(|a, b| intersects(a, b, &lo, &hi))
                .map(|i| tree.id(i))
                .collect();
            got.sort_unstable();
            let want: Vec<usize> = (0..n)
                .filter(|&i| intersects(&boxes[i].0, &boxes[i].1, &lo, &hi))
                .collect();
            assert_eq!(got, want, "n = {n}");
        }
        if n > 0 {
            let (lo, hi) = tree.bounds().unwrap_or_default();
            let fold =
                |f: fn(f64, f64) -> f64, init: f64, pick: fn(&([f64; 2], [f64; 2])) -> f64| {
                    boxes.iter().map(pick).fold(init, f)
                };
            assert_eq!(lo[0], fold(f64::min, f64::INFINITY, |b| b.0[0]));
            assert_eq!(hi[1], fold(f64::max, f64::NEG_INFINITY, |b| b.1[1]));
        } else {
            assert!(tree.bounds().is_none());
        }
    }
}

#[test]
fn nearest_lists_every_point_in_the_order_of_a_sorted_scan() {
    let mut rng = StdRng::seed_from_u64(11);
    for n in [0, 1, 16, 300, 4000] {
        let points: Vec<[f64; 3]> = (0..n)
            .map(|_| {
                [
                    rng.gen_range(-1.0..1.0),
                    rng.gen_range(-1.0..1.0),
                    rng.gen_range(-1.0..1.0),
                ]
            })
            .collect();
        let keys = hilbert_keys(points.iter().map(|p| [p[0], p[1]]));
        let tree = PackedTree::build(points.clone(), None, (0..n as u32).collect(), &keys);
        let q = [0.1, -0.2, 0.3];
        let d2 = |p: &[f64; 3]| (0..3).map(|d| (p[d] - q[d]).powi(2)).sum::<f64>();
        let got: Vec<(usize, f64)> = tree.nearest(q).collect();
        assert_eq!(got.len(), n);
        let mut want: Vec<f64> = points.iter().map(d2).collect();
        want.sort_by(f64::total_cmp);
        let got_d: Vec<f64> = got
            .iter()
            .map(|&(i, d)| {
                assert_eq!(d, d2(&points[i]));
                d
            })
            .collect();
        assert_eq!(got_d, want);
        let mut ids: Vec<usize> = got.iter().map(|&(i, _)| i).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        // Within a radius: the same set as a scan.
        let r2 = 0.2;
        let mut within: Vec<usize> = tree
            .search(|lo, hi| min_distance_2(&q, lo, hi) <= r2)
            .map(|i| tree.id(i))
            .collect();
        within.sort_unstable();
        let want: Vec<usize> = (0..n).filter(|&i| d2(&points[i]) <= r2).collect();
        assert_eq!(within, want);
    }
}
