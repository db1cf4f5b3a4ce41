//! Random layers and random chains of edits: after every call each query of the index is
//! compared with a brute-force scan of the current geometries.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use geo::{BoundingRect, Geometry, LineString, MultiPoint, Point, Rect};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::index::SpatialIndex;
use crate::index::geodesic::distance_to_geometry_m;

/// Where the random geometries of a layer go.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Dense regional points (Afghanistan and Pakistan).
    Regional,
    /// Points around the poles and on both sides of the antimeridian.
    Edges,
    /// Points, small polygons, multipoints, lines and empty geometries.
    Mixed,
}

fn wrap(lon: f64) -> f64 {
    if lon > 180.0 {
        lon - 360.0
    } else if lon < -180.0 {
        lon + 360.0
    } else {
        lon
    }
}

fn random_point(rng: &mut StdRng, kind: Kind) -> Point<f64> {
    match kind {
        Kind::Regional | Kind::Mixed => {
            Point::new(rng.gen_range(60.0..75.0), rng.gen_range(24.0..38.0))
        }
        Kind::Edges => {
            let spots = [(0.0, 89.9), (120.0, -89.9), (180.0, 10.0), (-180.0, -35.0)];
            let (x, y) = spots[rng.gen_range(0..spots.len())];
            let lat: f64 = y + rng.gen_range(-1.0..1.0);
            Point::new(wrap(x + rng.gen_range(-2.0..2.0)), lat.clamp(-90.0, 90.0))
        }
    }
}

fn random_geometry(rng: &mut StdRng, kind: Kind) -> Geometry<f64> {
    let p = random_point(rng, kind);
    if !matches!(kind, Kind::Mixed) {
        return Geometry::Point(p);
    }
    match rng.gen_range(0..10) {
        0 => {
            let (w, h) = (rng.gen_range(0.01..1.0), rng.gen_range(0.01..1.0));
            Geometry::Polygon(
                Rect::new(p.0, geo::coord! { x: p.x() + w, y: p.y() + h }).to_polygon(),
            )
        }
        1 => Geometry::MultiPoint(MultiPoint::new(
            (0..rng.gen_range(1..4))
                .map(|_| Point::new(p.x() + rng.gen_range(0.0..0.5), p.y()))
                .collect(),
        )),
        2 => Geometry::LineString(LineString::from(vec![
            (p.x(), p.y()),
            (p.x() + rng.gen_range(0.0..0.5), p.y() + 0.1),
        ])),
        3 => Geometry::GeometryCollection(geo::GeometryCollection::default()),
        _ => Geometry::Point(p),
    }
}

/// The current geometries, and the positions changed since the index's packed part.
struct Model {
    slots: Vec<Option<Geometry<f64>>>,
    kind: Kind,
}

impl Model {
    fn new(rng: &mut StdRng, kind: Kind, n: usize) -> Self {
        let slots = (0..n)
            .map(|_| rng.gen_bool(0.97).then(|| random_geometry(rng, kind)))
            .collect();
        Self { slots, kind }
    }

    fn build(&self) -> SpatialIndex {
        SpatialIndex::build_slots(self.slots.iter().map(Option::as_ref))
    }

    /// A random batch of edits (replace nearby, move far, delete, append); the positions.
    fn edit(&mut self, rng: &mut StdRng, size: usize) -> Vec<usize> {
        let mut changed = Vec::new();
        for _ in 0..size {
            let n = self.slots.len();
            let op = rng.gen_range(0..10);
            if op < 2 || n == 0 {
                self.slots.push(Some(random_geometry(rng, self.kind)));
                changed.push(n);
                continue;
            }
            let pos = rng.gen_range(0..n);
            self.slots[pos] = match op {
                2 | 3 => None,
                4 | 5 => Some(random_geometry(rng, self.kind)),
                // Far away: another part of the world.
                6 => Some(Geometry::Point(random_point(
                    rng,
                    if matches!(self.kind, Kind::Edges) {
                        Kind::Regional
                    } else {
                        Kind::Edges
                    },
                ))),
                _ => match &self.slots[pos] {
                    Some(Geometry::Point(p)) => Some(Geometry::Point(Point::new(
                        wrap(p.x() + rng.gen_range(-0.01..0.01)),
                        (p.y() + rng.gen_range(-0.01..0.01)).clamp(-90.0, 90.0),
                    ))),
                    _ => Some(random_geometry(rng, self.kind)),
                },
            };
            changed.push(pos);
        }
        changed
    }

    /// A random batch of `size` edits, and the index updated for it.
    fn step(&mut self, index: &SpatialIndex, rng: &mut StdRng, size: usize) -> SpatialIndex {
        let changed = self.edit(rng, size);
        self.updated(index, &changed)
    }

    fn updated(&self, index: &SpatialIndex, changed: &[usize]) -> SpatialIndex {
        index.updated(self.slots.len(), changed, |pos| {
            self.slots.get(pos).and_then(Option::as_ref)
        })
    }

    fn present(&self) -> impl Iterator<Item = (usize, &Geometry<f64>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(pos, g)| Some((pos, g.as_ref()?)))
            .filter(|(_, g)| g.bounding_rect().is_some())
    }

    fn check(&self, index: &SpatialIndex, rng: &mut StdRng) {
        if index.points_only() {
            assert!(self.present().all(|(_, g)| matches!(g, Geometry::Point(_))));
        }
        self.check_envelopes(index, rng);
        for _ in 0..4 {
            let center = self.center(rng);
            let metres = [1_000.0, 50_000.0, 400_000.0][rng.gen_range(0..3)];
            self.check_within(index, center, metres);
            self.check_nearest(index, center);
        }
        let want: Vec<usize> = self
            .present()
            .filter(|(_, g)| !matches!(g, Geometry::Point(_) | Geometry::MultiPoint(_)))
            .map(|(pos, _)| pos)
            .collect();
        assert_eq!(index.non_points().collect::<Vec<_>>(), want);
    }

    /// Near an existing geometry, or anywhere.
    fn center(&self, rng: &mut StdRng) -> Point<f64> {
        let any: Vec<Point<f64>> = self
            .present()
            .filter_map(|(_, g)| match g {
                Geometry::Point(p) => Some(*p),
                _ => None,
            })
            .take(50)
            .collect();
        if any.is_empty() || rng.gen_bool(0.3) {
            let kind = [Kind::Regional, Kind::Edges][rng.gen_range(0..2)];
            random_point(rng, kind)
        } else {
            any[rng.gen_range(0..any.len())]
        }
    }

    fn check_envelopes(&self, index: &SpatialIndex, rng: &mut StdRng) {
        let mut boxes = vec![[-180.0, -90.0, 180.0, 90.0], [179.0, 5.0, 180.0, 15.0]];
        for _ in 0..6 {
            let c = self.center(rng);
            let (w, h) = (rng.gen_range(0.0..3.0), rng.gen_range(0.0..3.0));
            boxes.push([c.x() - w, c.y() - h, c.x() + w, c.y() + h]);
        }
        for [w, s, e, n] in boxes {
            let mut got: Vec<usize> = index.in_envelope(w, s, e, n).collect();
            got.sort_unstable();
            let want: Vec<usize> = self
                .present()
                .filter(|(_, g)| {
                    let r = g.bounding_rect().unwrap();
                    r.min().x <= e && r.max().x >= w && r.min().y <= n && r.max().y >= s
                })
                .map(|(pos, _)| pos)
                .collect();
            assert_eq!(got, want, "box {w} {s} {e} {n}");
            assert_eq!(index.count_in_envelope(w, s, e, n), want.len());
            let first = index.first_in_envelope(w, s, e, n, 5);
            assert_eq!(first, want[..want.len().min(5)], "box {w} {s} {e} {n}");
        }
        let extent = index.extent();
        for (_, g) in self.present() {
            let r = g.bounding_rect().unwrap();
            let [w, s, e, n] = extent.unwrap();
            assert!(w <= r.min().x && s <= r.min().y && e >= r.max().x && n >= r.max().y);
        }
    }

    fn check_within(&self, index: &SpatialIndex, center: Point<f64>, metres: f64) {
        let mut seen = HashSet::new();
        for c in index.within_bounds(center, metres) {
            assert!(seen.insert(c.pos), "{} twice", c.pos);
            let g = self.slots[c.pos].as_ref().unwrap();
            let d = distance_to_geometry_m(center, g);
            assert!(c.lower_m <= d && d <= c.upper_m, "{c:?} at {d} m");
        }
        for (pos, g) in self.present() {
            if distance_to_geometry_m(center, g) <= metres {
                assert!(seen.contains(&pos), "{pos} missing within {metres} m");
            }
        }
        let plain: HashSet<usize> = index.within(center, metres).collect();
        assert_eq!(plain, seen);
        let inside = self
            .present()
            .filter(|(_, g)| distance_to_geometry_m(center, g) <= metres)
            .count();
        let counted = index.count_within(center, metres);
        assert_eq!(counted, index.points_only().then_some(inside), "{metres} m");
    }

    fn check_nearest(&self, index: &SpatialIndex, center: Point<f64>) {
        let got: Vec<(usize, f64)> = index.nearest(center).collect();
        let mut seen = HashSet::new();
        for pair in got.windows(2) {
            assert!(pair[0].1 <= pair[1].1, "{pair:?} out of order");
        }
        for &(pos, bound) in &got {
            assert!(seen.insert(pos), "{pos} twice");
            let d = distance_to_geometry_m(center, self.slots[pos].as_ref().unwrap());
            assert!(bound <= d, "{pos}: bound {bound} over {d}");
        }
        let mut want: Vec<(f64, usize)> = self
            .present()
            .filter(|(_, g)| matches!(g, Geometry::Point(_) | Geometry::MultiPoint(_)))
            .map(|(pos, g)| (distance_to_geometry_m(center, g), pos))
            .collect();
        assert_eq!(seen.len(), want.len());
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The caller's k nearest: measure in bound order until the bound passes the k-th.
        let k = 10.min(want.len());
        let mut best: Vec<f64> = Vec::new();
        for &(pos, bound) in &got {
            if best.len() == k && bound > best[k - 1] {
                break;
            }
            best.push(distance_to_geometry_m(
                center,
                self.slots[pos].as_ref().unwrap(),
            ));
            best.sort_by(f64::total_cmp);
            best.truncate(k);
        }
        let want_k: Vec<f64> = want.iter().take(k).map(|w| w.0).collect();
        assert_eq!(best, want_k);
        if let Some(points) = index.nearest_points(center) {
            // The same walk, each point with its coordinates.
            let listed: Vec<(usize, f64)> = points
                .map(|(pos, bound, p)| {
                    assert_eq!(self.slots[pos], Some(Geometry::Point(p)));
                    (pos, bound)
                })
                .collect();
            assert_eq!(listed.len(), got.len());
            let mut sorted = listed.clone();
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let mut want_sorted = got;
            want_sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            assert_eq!(sorted, want_sorted);
        }
    }
}

/// A chain of `calls` random batches from a fresh index, checked after each; the index of
/// the call before is checked again for the geometries it was made for.
fn chain(seed: u64, kind: Kind, n: usize, calls: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Model::new(&mut rng, kind, n);
    let mut index = model.build();
    model.check(&index, &mut rng);
    let mut since_build: HashSet<usize> = HashSet::new();
    let mut most_levels = 0;
    for call in 0..calls {
        let size = match rng.gen_range(0..20) {
            0 => 600,
            1 => 0,
            2..=4 => 40,
            _ => rng.gen_range(1..9),
        };
        let before = model.slots.clone();
        let changed = model.edit(&mut rng, size);
        let next = model.updated(&index, &changed);
        since_build.extend(&changed);
        if next.points_only() == index.points_only() || index.points_only() {
            model.check(&next, &mut rng);
        }
        if next.edits() == 0 {
            since_build.clear();
        }
        assert_eq!(next.edits(), since_build.len(), "call {call}");
        // The previous snapshot's index still answers for its own geometries.
        if call % 10 == 0 {
            let current = std::mem::replace(&mut model.slots, before);
            model.check(&index, &mut rng);
            model.slots = current;
        }
        most_levels = most_levels.max(next.edits.levels().count());
        index = next;
    }
    assert!(most_levels >= 2, "only {most_levels} levels met");
}

#[test]
fn chains_of_point_edits_match_brute_force() {
    chain(1, Kind::Regional, 2000, 60);
}

#[test]
fn chains_of_edits_at_the_poles_and_antimeridian_match_brute_force() {
    chain(2, Kind::Edges, 1500, 60);
}

#[test]
fn chains_of_mixed_edits_match_brute_force() {
    chain(3, Kind::Mixed, 1500, 60);
}

#[test]
fn a_polygon_into_a_layer_of_points_rebuilds_it() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut model = Model::new(&mut rng, Kind::Regional, 500);
    let index = model.build();
    assert!(index.points_only());
    let index = model.step(&index, &mut rng, 20);
    assert!(index.points_only() && index.edits() > 0);
    model.slots[7] = Some(Geometry::Polygon(
        Rect::new(
            geo::coord! { x: 61.0, y: 30.0 },
            geo::coord! { x: 62.0, y: 31.0 },
        )
        .to_polygon(),
    ));
    let index = model.updated(&index, &[7]);
    assert!(!index.points_only());
    assert_eq!(index.edits(), 0);
    model.check(&index, &mut rng);
}

#[test]
fn a_fresh_index_rebased_on_later_edits_matches_brute_force() {
    for (seed, kind) in [(5, Kind::Regional), (6, Kind::Mixed)] {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model = Model::new(&mut rng, kind, 2000);
        let mut index = model.build();
        for _ in 0..20 {
            index = model.step(&index, &mut rng, 30);
        }
        // Built in the background from this snapshot while the edits go on.
        let fresh = model.build();
        let mut since: Vec<usize> = Vec::new();
        for _ in 0..30 {
            let size = rng.gen_range(1..50);
            let changed = model.edit(&mut rng, size);
            index = model.updated(&index, &changed);
            since.extend(changed);
        }
        since.sort_unstable();
        since.dedup();
        let rebased = model.updated(&fresh, &since);
        assert_eq!(rebased.edits(), since.len());
        model.check(&rebased, &mut rng);
        model.check(&index, &mut rng);
        // More edits on top of the rebased index.
        let mut index = rebased;
        for _ in 0..20 {
            index = model.step(&index, &mut rng, 9);
            model.check(&index, &mut rng);
        }
    }
}

#[test]
fn a_shrunk_layer_drops_the_positions_past_its_end() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut model = Model::new(&mut rng, Kind::Mixed, 800);
    let index = model.build();
    let index = model.step(&index, &mut rng, 300);
    model.slots.truncate(500);
    let index = model.updated(&index, &[3]);
    model.check(&index, &mut rng);
    assert!(
        index
            .in_envelope(-180.0, -90.0, 180.0, 90.0)
            .all(|p| p < 500)
    );
}

#[test]
fn repeated_edits_of_one_position_keep_the_levels_small() {
    let mut rng = StdRng::seed_from_u64(9);
    let mut model = Model::new(&mut rng, Kind::Regional, 300);
    let mut index = model.build();
    for i in 0..2000 {
        model.slots[5] = Some(random_geometry(&mut rng, Kind::Regional));
        index = model.updated(&index, &[5]);
        if i % 100 == 0 {
            model.check(&index, &mut rng);
        }
    }
    assert_eq!(index.edits(), 1);
    assert!(
        index
            .edits
            .levels()
            .map(|l| l.part.envelopes.len())
            .sum::<usize>()
            <= 1
    );
}

#[test]
fn a_batch_larger_than_the_second_level_goes_to_the_third() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut model = Model::new(&mut rng, Kind::Regional, 1000);
    let index = model.build();
    let appended: Vec<usize> = (1000..35_000).collect();
    for _ in &appended {
        model
            .slots
            .push(Some(random_geometry(&mut rng, Kind::Regional)));
    }
    let index = model.updated(&index, &appended);
    assert_eq!(index.edits.levels().count(), 1);
    assert_eq!(index.edits(), appended.len());
    model.check(&index, &mut rng);
    let mut index = index;
    for _ in 0..3 {
        index = model.step(&index, &mut rng, 8);
    }
    assert_eq!(index.edits.levels().count(), 2);
    model.check(&index, &mut rng);
}

#[test]
fn counts_on_a_larger_layer_skip_unwritten_chunks_of_superseded_bits() {
    // 20,000 points: the bits of superseded entries span several chunks, most never written.
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = Model::new(&mut rng, Kind::Regional, 20_000);
    let mut index = model.build();
    for size in [3, 40, 600, 8] {
        index = model.step(&index, &mut rng, size);
        model.check(&index, &mut rng);
    }
    assert!(index.edits() > 600);
}
