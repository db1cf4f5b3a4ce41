//! Criterion benches of tile rendering, cold (no cache): MVT encode of random tiles at
//! z4, z8 and z12 on generated points, with the default budget, raw (no budget, no
//! clustering: like for like with Martin) and clustered; and the world countries layer
//! (`geodata/countries_world.geojson`) at z0, z2 and z4.
//!
//! ```text
//! cargo bench --bench tiles                          # 1M points
//! KA_BENCH_POINTS=100000 cargo bench --bench tiles   # 100k points
//! ```
//!
//! Points come from `benches/support/points.rs` (the generator of `examples/gen_points.rs`
//! and `benches/load.sh`); the tiles are those containing points drawn from the same
//! distribution, so dense and sparse tiles come in realistic proportions. Under
//! `cargo test --all-targets` the benches run once each on 10k points, as a smoke test.

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

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use khorasan_atlas::catalog::Layer;
use khorasan_atlas::catalog::load::{LoadOptions, load_file, load_slice};
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::tiles::{ClusterConfig, PreparedLayer, TileLayerConfig, render_prepared};

/// `count` tiles at zoom `z` containing points of the benchmark distribution.
fn random_tiles(z: u8, count: usize, seed: u64) -> Vec<TileCoord> {
    let n = f64::from(1u32 << z);
    points::query_points(count, seed)
        .into_iter()
        .map(|(lon, lat)| {
            let [x, y] = lonlat_to_merc(lon, lat);
            let max = (1u64 << z) - 1;
            let tx = ((x * n).floor().max(0.0) as u64).min(max);
            let ty = ((y * n).floor().max(0.0) as u64).min(max);
            TileCoord::new(u64::from(z), tx, ty, 22).unwrap_or(TileCoord { z: 0, x: 0, y: 0 })
        })
        .collect()
}

/// Tile sets: one per zoom of `zooms`, and `z6-10` (a mix of zooms 6 to 10) when asked.
fn tile_sets(zooms: &[u8], mix: bool) -> Vec<(String, Vec<TileCoord>)> {
    let mut sets: Vec<(String, Vec<TileCoord>)> = zooms
        .iter()
        .map(|&z| (format!("z{z}"), random_tiles(z, 512, 11 + u64::from(z))))
        .collect();
    if mix {
        let per: Vec<Vec<TileCoord>> = (6..=10u8)
            .map(|z| random_tiles(z, 120, 101 + u64::from(z)))
            .collect();
        let mixed = (0..120)
            .flat_map(|i| per.iter().map(move |v| v[i]))
            .collect();
        sets.push(("z6-10".to_owned(), mixed));
    }
    sets
}

fn bench_layer(
    c: &mut Criterion,
    group: &str,
    layer: &Layer,
    configs: &[(&str, TileLayerConfig)],
    sets: &[(String, Vec<TileCoord>)],
) {
    let prepared = PreparedLayer::new(layer);
    let mut g = c.benchmark_group(group);
    g.sample_size(20);
    for (label, tiles) in sets {
        for (name, cfg) in configs {
            let sources = [(layer, cfg, &prepared)];
            g.bench_function(BenchmarkId::new(*name, label), |b| {
                let mut i = 0;
                b.iter(|| {
                    let t = tiles[i % tiles.len()];
                    i += 1;
                    black_box(
                        render_prepared(&sources, t)
                            .map(|r| r.mvt.len())
                            .unwrap_or(0),
                    )
                });
            });
        }
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let n = setup::point_count(1_000_000);
    let bytes = points::collection_bytes(n);
    let options = LoadOptions {
        on_invalid: khorasan_atlas::config::InvalidPolicy::Skip,
        time_property: None,
        time_end_property: None,
    };
    let loaded =
        load_slice(&bytes, Path::new("points.geojson"), &options).unwrap_or_else(|e| panic!("{e}"));
    drop(bytes);
    let layer = setup::layer("points", loaded);
    let raw = TileLayerConfig {
        max_features: 0,
        max_bytes: 0,
        ..TileLayerConfig::default()
    };
    let clustered = TileLayerConfig {
        cluster: ClusterConfig {
            enabled: true,
            max_zoom: 14,
            sum: vec!["value".to_owned()],
            ..ClusterConfig::default()
        },
        ..TileLayerConfig::default()
    };
    let label = if n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else {
        format!("{}k", n / 1000)
    };
    bench_layer(
        c,
        &format!("tile_cold_points_{label}"),
        &layer,
        &[
            ("default", TileLayerConfig::default()),
            ("raw", raw),
            ("clustered", clustered),
        ],
        &tile_sets(&[4, 8, 12], true),
    );
    drop(layer);

    let countries = load_file(Path::new("geodata/countries_world.geojson"), &options)
        .map(|l| setup::layer("countries", l))
        .unwrap_or_else(|e| panic!("{e}"));
    bench_layer(
        c,
        "tile_cold_countries",
        &countries,
        &[("default", TileLayerConfig::default())],
        &tile_sets(&[0, 2, 4], false),
    );
}

criterion_group!(tiles, benches);
criterion_main!(tiles);
