//! Renders the tiles of a request list in process, once each, and prints per zoom the
//! tiles, the CPU time per tile, the bytes per tile and the features kept: the tile
//! rendering alone, without HTTP, for profiling (`perf record`, `valgrind --tool=callgrind`).
//!
//! ```text
//! cargo run --release --example tile_list -- benches/data/dense/points_1000000.geojson \
//!     benches/data/dense/urls_tiles.txt [ROUNDS]
//! ```
//!
//! The list holds paths ending in `{z}/{x}/{y}` (the request lists of `../shared/bench`).
//! `MAX_FEATURES=N` sets the layer's feature budget (default 20,000).

#[path = "../benches/support/setup.rs"]
#[expect(dead_code, reason = "the benches' setup, of which this uses the layer")]
mod setup;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use khorasan_atlas::catalog::load::{LoadOptions, load_file};
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::tiles::{PreparedLayer, TileLayerConfig, render_prepared};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The resident set of this process in MB (0 when /proc is not there).
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb / 1024)
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(list)) = (args.next(), args.next()) else {
        return Err("usage: tile_list FILE.geojson PATHS.txt [ROUNDS]".into());
    };
    let rounds: usize = args.next().map_or(Ok(1), |r| r.parse())?;
    let loaded = load_file(Path::new(&data), &LoadOptions::default())?;
    let layer = setup::layer("points", loaded);
    let started = Instant::now();
    let before = rss_mb();
    let prepared = PreparedLayer::new(&layer);
    println!(
        "prepared in {:.1?}, RSS {before} -> {} MB; pyramid {} KB, values {} KB, {} B a point",
        started.elapsed(),
        rss_mb(),
        prepared.pyramid().map_or(0, |p| p.heap_bytes() / 1024),
        prepared.values().map_or(0, |v| v.heap_bytes() / 1024),
        prepared.point_bytes().unwrap_or(0),
    );
    // MAX_FEATURES=N renders with another feature budget, to compare.
    let mut cfg = TileLayerConfig::default();
    if let Some(n) = std::env::var("MAX_FEATURES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        cfg.max_features = n;
    }
    let sources = [(&layer, &cfg, &prepared)];
    let tiles: Vec<TileCoord> = std::fs::read_to_string(&list)?
        .lines()
        .filter_map(|line| {
            let mut parts = line.trim().rsplit('/');
            let y = parts.next()?.parse().ok()?;
            let x = parts.next()?.parse().ok()?;
            let z = parts.next()?.parse().ok()?;
            TileCoord::new(z, x, y, 22).ok()
        })
        .collect();
    // zoom -> (tiles, time, bytes, features)
    let mut by_zoom: BTreeMap<u8, (usize, Duration, usize, usize)> = BTreeMap::new();
    for _ in 0..rounds {
        for &t in &tiles {
            let began = Instant::now();
            let tile = render_prepared(&sources, t)?;
            let took = began.elapsed();
            let row = by_zoom.entry(t.z).or_default();
            row.0 += 1;
            row.1 += took;
            row.2 += tile.mvt.len();
            row.3 += tile.layers.iter().map(|l| l.features).sum::<usize>();
        }
    }
    let mut all = (0, Duration::ZERO, 0);
    for (z, (n, took, bytes, features)) in &by_zoom {
        println!(
            "z{z}: {n} tiles, {:.0} us/tile, {} B/tile, {} features/tile",
            took.as_secs_f64() * 1e6 / *n as f64,
            bytes / n,
            features / n
        );
        all = (all.0 + n, all.1 + *took, all.2 + bytes);
    }
    println!(
        "all: {} tiles, {:.0} us/tile, {} B/tile",
        all.0,
        all.1.as_secs_f64() * 1e6 / all.0.max(1) as f64,
        all.2 / all.0.max(1)
    );
    Ok(())
}
