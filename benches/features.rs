//! Criterion benches of the feature core on generated points (in memory, no HTTP):
//! load + index, `items` with a bbox, `radius` (50 km) and `nearest` (k = 10).
//!
//! ```text
//! cargo bench --bench features                         # 100k points
//! KA_BENCH_POINTS=1000000 cargo bench --bench features # 1M points
//! ```
//!
//! The points come from `benches/support/points.rs` (the generator of
//! `examples/gen_points.rs`), so the figures match the load test of `benches/load.sh`.
//! Under `cargo test --all-targets` (no `--bench` flag) the benches run once each on 10k
//! points, as a smoke test.

#[allow(
    dead_code,
    reason = "shared with examples/gen_points.rs, which uses the rest"
)]
#[path = "support/points.rs"]
mod points;
#[path = "support/setup.rs"]
mod setup;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo::Point;
use khorasan_atlas::catalog::Layer;
use khorasan_atlas::catalog::load::{LoadOptions, Loaded, load_slice};
use khorasan_atlas::query::{self, BBox, Page, Selection};

fn label(n: usize) -> String {
    if n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn parse(bytes: &[u8]) -> Loaded {
    let config = setup::layer_config("points");
    let options = LoadOptions {
        on_invalid: config.on_invalid,
        time_property: config.time_property.clone(),
        time_end_property: None,
    };
    match load_slice(bytes, Path::new("points.geojson"), &options) {
        Ok(l) => l,
        Err(e) => panic!("generated points do not load: {e}"),
    }
}

fn build(bytes: &[u8]) -> Layer {
    setup::layer("points", parse(bytes))
}

fn benches(c: &mut Criterion) {
    let n = setup::point_count(100_000);
    let bytes = points::collection_bytes(n);
    let name = label(n);

    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 40 } else { 10 }));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::new("parse+index", &name), |b| {
        // The layer is dropped outside the timing; freed pages are reused from one
        // iteration to the next, so this is the warm figure (a cold start also faults in
        // fresh pages and reads the file: see benches/load.sh).
        b.iter_with_large_drop(|| build(black_box(&bytes)));
    });
    group.bench_function(BenchmarkId::new("parse", &name), |b| {
        b.iter_with_large_drop(|| parse(black_box(&bytes)));
    });
    group.throughput(Throughput::Elements(n as u64));
    let loaded = parse(&bytes);
    group.bench_function(BenchmarkId::new("index", &name), |b| {
        b.iter_batched(
            || Loaded {
                fields: loaded.fields.clone(),
                features: loaded.features.clone(),
                source_ids: loaded.source_ids.clone(),
                skipped: Vec::new(),
            },
            |l| setup::layer("points", l),
            BatchSize::LargeInput,
        );
    });
    group.finish();
    drop(loaded);

    let layer = build(&bytes);
    drop(bytes);
    let boxes = points::query_boxes(4096, 7);
    let centres_radius = points::query_points(4096, 8);
    let centres_nearest = points::query_points(4096, 9);
    let page = Page {
        limit: 100,
        offset: 0,
    };

    let mut group = c.benchmark_group("query");
    group.bench_function(BenchmarkId::new("items_bbox_limit100", &name), |b| {
        let mut i = 0;
        b.iter(|| {
            let [west, south, east, north] = boxes[i % boxes.len()];
            i += 1;
            let selection = Selection {
                bbox: Some(BBox {
                    west,
                    south,
                    east,
                    north,
                }),
                ..Selection::default()
            };
            query::items(&layer, &selection, &[], page)
        });
    });
    group.bench_function(BenchmarkId::new("radius_50km_limit100", &name), |b| {
        let mut i = 0;
        let selection = Selection::default();
        b.iter(|| {
            let (lon, lat) = centres_radius[i % centres_radius.len()];
            i += 1;
            query::radius(&layer, Point::new(lon, lat), 50_000.0, &selection, page)
        });
    });
    group.bench_function(BenchmarkId::new("nearest_k10", &name), |b| {
        let mut i = 0;
        let selection = Selection::default();
        b.iter(|| {
            let (lon, lat) = centres_nearest[i % centres_nearest.len()];
            i += 1;
            query::nearest(&layer, Point::new(lon, lat), 10, None, &selection)
        });
    });
    group.finish();
}

criterion_group!(features, benches);
criterion_main!(features);
