//! Times the spatial index under writes: `SpatialIndex::updated` with batches of 8 changed
//! positions after 0, 1k, 10k and 100k earlier edits, queries on the edited index against a
//! fresh build over the same geometries, and a full `build_slots`.
//!
//! ```text
//! python3 ../shared/bench/gen_data.py 1000000 scratch/points-1m.geojson
//! cargo run --release --example index_edits -- scratch/points-1m.geojson
//! # or, reusing the dev build (whose dependencies are already optimised):
//! CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo run --example index_edits -- scratch/points-1m.geojson
//! ```
//!
//! An edit replaces a point with a nearby one (half of them), moves it anywhere in the data's
//! extent, appends a point or deletes one; positions are drawn uniformly.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use geo::{Geometry, Point};
use khorasan_atlas::catalog::load::{LoadOptions, load_file};
use khorasan_atlas::index::SpatialIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// How many queries of each kind a figure averages.
const QUERIES: usize = 2000;
/// How many calls of `updated` a figure summarises.
const CALLS: usize = 400;
/// How many times each slice of queries runs (the fastest counts).
const ROUNDS: usize = 9;
/// Queries in a slice.
const SLICE: usize = 20;

fn main() -> Res<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: index_edits FILE.geojson")?;
    let started = Instant::now();
    let loaded = load_file(Path::new(&path), &LoadOptions::default())?;
    let mut slots: Vec<Option<Geometry<f64>>> = loaded
        .features
        .geometries()
        .map(|g| g.map(std::borrow::Cow::into_owned))
        .collect();
    println!(
        "loaded {} features in {:.1?}",
        slots.len(),
        started.elapsed()
    );

    let mut builds = Vec::new();
    let mut index = SpatialIndex::default();
    for _ in 0..3 {
        let t = Instant::now();
        index = SpatialIndex::build_slots(slots.iter().map(Option::as_ref));
        builds.push(t.elapsed());
    }
    builds.sort();
    println!("build_slots: {:.1?} (median of 3)", builds[1]);

    let mut rng = StdRng::seed_from_u64(13);
    let mut edits = Edits::default();
    for target in [0, 1_000, 10_000, 100_000] {
        while index.edits() < target {
            index = edits.call(&index, &mut slots, &mut rng);
        }
        if target != 1_000 {
            compare_queries(&index, &slots, &mut rng);
        }
        let before = index.edits();
        let mut times: Vec<Duration> = (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                index = edits.call(&index, &mut slots, &mut rng);
                t.elapsed()
            })
            .collect();
        let mean = times.iter().sum::<Duration>() / CALLS as u32;
        times.sort();
        println!(
            "updated, 8 changed, from {before} to {} edits: median {:.1?}, p99 {:.1?}, \
             max {:.1?}, mean {:.1?} over {CALLS} calls",
            index.edits(),
            times[CALLS / 2],
            times[CALLS * 99 / 100],
            times[CALLS - 1],
            mean,
        );
    }
    Ok(())
}

/// Queries around points of the layer on `index` and on a fresh build of the same
/// geometries, alternately.
fn compare_queries(index: &SpatialIndex, slots: &[Option<Geometry<f64>>], rng: &mut StdRng) {
    let fresh = SpatialIndex::build_slots(slots.iter().map(Option::as_ref));
    let centers: Vec<Point<f64>> = (0..QUERIES)
        .filter_map(|_| match &slots[rng.gen_range(0..slots.len())] {
            Some(Geometry::Point(p)) => Some(*p),
            _ => None,
        })
        .collect();
    type Query = fn(&SpatialIndex, Point<f64>) -> usize;
    let queries: [(&str, Query); 7] = [
        ("in_envelope 1°", |ix, c| {
            let (x, y) = (c.x(), c.y());
            ix.in_envelope(x - 0.5, y - 0.5, x + 0.5, y + 0.5).count()
        }),
        ("count_in_envelope 1°", |ix, c| {
            let (x, y) = (c.x(), c.y());
            ix.count_in_envelope(x - 0.5, y - 0.5, x + 0.5, y + 0.5)
        }),
        ("count_and_first_in_envelope 1° (100)", |ix, c| {
            let (x, y) = (c.x(), c.y());
            ix.count_and_first_in_envelope(x - 0.5, y - 0.5, x + 0.5, y + 0.5, 100)
                .0
        }),
        ("nearest k=10", |ix, c| ix.nearest(c).take(10).count()),
        ("nearest_points k=10", |ix, c| {
            ix.nearest_points(c).map_or(0, |n| n.take(10).count())
        }),
        ("within_bounds 50 km", |ix, c| {
            ix.within_bounds(c, 50_000.0).count()
        }),
        ("count_within 50 km", |ix, c| {
            ix.count_within(c, 50_000.0).unwrap_or(0)
        }),
    ];
    println!("queries with {} edits (edited / fresh):", index.edits());
    for (name, query) in queries {
        // The fastest of several runs of each small slice of queries, so that a slice the
        // scheduler interrupted does not count.
        let mut best = [Duration::ZERO; 2];
        let mut hits = [0; 2];
        for slice in centers.chunks(SLICE) {
            let mut fastest = [Duration::MAX; 2];
            for _ in 0..ROUNDS {
                for (i, ix) in [index, &fresh].into_iter().enumerate() {
                    let t = Instant::now();
                    let n = slice
                        .iter()
                        .map(|&c| black_box(query(ix, c)))
                        .sum::<usize>();
                    fastest[i] = fastest[i].min(t.elapsed());
                    hits[i] += n;
                }
            }
            for i in 0..2 {
                best[i] += fastest[i];
            }
        }
        let hits = hits.map(|h| h / ROUNDS);
        let each = |d: Duration| d / u32::try_from(centers.len()).unwrap_or(u32::MAX);
        println!(
            "  {name}: {:.1?} / {:.1?} ({:.2}x; {} / {} hits a query)",
            each(best[0]),
            each(best[1]),
            best[0].as_secs_f64() / best[1].as_secs_f64(),
            hits[0] / centers.len().max(1),
            hits[1] / centers.len().max(1),
        );
    }
}

/// Random batches of 8 edits.
#[derive(Default)]
struct Edits {
    changed: Vec<usize>,
}

impl Edits {
    fn call(
        &mut self,
        index: &SpatialIndex,
        slots: &mut Vec<Option<Geometry<f64>>>,
        rng: &mut StdRng,
    ) -> SpatialIndex {
        self.changed.clear();
        for _ in 0..8 {
            let pos = rng.gen_range(0..slots.len());
            let anywhere = Point::new(rng.gen_range(60.0..75.0), rng.gen_range(24.0..38.0));
            match rng.gen_range(0..10) {
                0..=4 => {
                    if let Some(Geometry::Point(p)) = &mut slots[pos] {
                        p.set_x(p.x() + rng.gen_range(-0.01..0.01));
                        p.set_y(p.y() + rng.gen_range(-0.01..0.01));
                    }
                    self.changed.push(pos);
                }
                5 | 6 => {
                    slots[pos] = Some(Geometry::Point(anywhere));
                    self.changed.push(pos);
                }
                7 | 8 => {
                    slots.push(Some(Geometry::Point(anywhere)));
                    self.changed.push(slots.len() - 1);
                }
                _ => {
                    slots[pos] = None;
                    self.changed.push(pos);
                }
            }
        }
        let slots = &*slots;
        index.updated(slots.len(), &self.changed, |pos| slots[pos].as_ref())
    }
}
