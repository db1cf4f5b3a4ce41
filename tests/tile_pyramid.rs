//! The point pyramid thins a tile exactly as the budget thins the tile's gathered
//! candidates: for dense point layers, several budgets and buffers, every tile of the data
//! at zooms 0 to 10 is rendered both ways and the encoded layers must be the same bytes,
//! with the same report (`represents` counts included, since they are in the bytes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::state_from_toml;
use khorasan_atlas::catalog::Layer;
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::http::AppState;
use khorasan_atlas::tiles::budget::{
    Pool, Precomputed, encode_pool_within_budget, encode_within_budget,
};
use khorasan_atlas::tiles::cluster::Item;
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::tiles::encode::point_bytes;
use khorasan_atlas::tiles::gather;
use khorasan_atlas::tiles::grid::{morton, quantize};
use khorasan_atlas::tiles::pyramid::{Kept, Pyramid, Thinning};
use khorasan_atlas::tiles::render_prepared;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A thinning read in part (its first points in order) made whole: its head, then its
/// rest taken from the pyramid and put in order. Checks that the head is in order and that
/// every point of the rest comes after it.
fn made_whole(pyramid: &Pyramid, mut part: Thinning) -> Vec<Kept> {
    assert!(part.head.windows(2).all(|w| w[0].pos < w[1].pos));
    let mut rest = pyramid.take_rest(&mut part);
    let last = part.head.last().map(|k| k.pos);
    assert!(rest.iter().all(|k| Some(k.pos) > last));
    rest.sort_by_key(|k| k.pos);
    let mut whole = part.head;
    whole.append(&mut rest);
    assert_eq!(whole.len(), part.total);
    whole
}

/// About normal (sum of uniforms).
fn gauss(rng: &mut StdRng) -> f64 {
    (0..4).map(|_| rng.r#gen::<f64>()).sum::<f64>() - 2.0
}

/// `n` points: 70% in a few Gaussian towns, the rest uniform over lon 60..75, lat 24..38;
/// with `ids`, ids that do not follow the points' order (else none: each feature's id is
/// its position in the file).
fn write_layer(dir: &Path, n: usize, ids: bool) -> String {
    let mut rng = StdRng::seed_from_u64(42);
    let towns: Vec<(f64, f64, f64)> = (0..8)
        .map(|_| {
            (
                60.0 + 15.0 * rng.r#gen::<f64>(),
                24.0 + 14.0 * rng.r#gen::<f64>(),
                0.02 + 0.4 * rng.r#gen::<f64>(),
            )
        })
        .collect();
    let mut last = (0.0, 0.0);
    let features: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            // Every 50th point repeats the one before: tiles holding such a pair list
            // their points from the index, the others from the pyramid.
            let (lon, lat) = if i % 50 == 49 {
                last
            } else if rng.r#gen::<f64>() < 0.7 {
                let (x, y, sd) = towns[i % towns.len()];
                (x + sd * gauss(&mut rng), y + sd * gauss(&mut rng))
            } else {
                (60.0 + 15.0 * rng.r#gen::<f64>(), 24.0 + 14.0 * rng.r#gen::<f64>())
            };
            last = (lon, lat);
            let mut feature = serde_json::json!({"type": "Feature", "geometry": {"type": "Point",
                "coordinates": [lon, lat]}, "properties": {"n": i % 13, "tag": format!("t{}", i % 7)}});
            if ids {
                feature["id"] = serde_json::json!(3 * (n - i));
            }
            feature
        })
        .collect();
    let path = dir.join(if ids {
        "dense_ids.geojson"
    } else {
        "dense.geojson"
    });
    std::fs::write(
        &path,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    path.display().to_string()
}

/// A server of the layer at `path` as `dense`, with the tile settings `budget`.
fn dense_state(path: &str, budget: &str) -> AppState {
    state_from_toml(&format!(
        "[[layers]]\nid='dense'\nfile='{path}'\n[layers.tiles]\n{budget}"
    ))
}

/// The code of the quantized position of the point at `pos`, computed from its lon/lat.
fn code_of(layer: &Layer, pos: usize) -> u64 {
    let feature = layer.features.get(pos).expect("a feature");
    let Some(p) = feature.geometry.point() else {
        panic!("not a point");
    };
    let [x, y] = lonlat_to_merc(p.x(), p.y());
    morton(quantize(x), quantize(y))
}

#[test]
fn pyramid_thinning_is_the_budgets_thinning() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        (write_layer(dir.path(), 30_000, false), false),
        (write_layer(dir.path(), 30_000, true), true),
    ];
    let budgets = [
        "",
        "max_features=300\n",
        "max_features=2500\nbuffer=128\n",
        "max_features=700\nbuffer=0\n",
        "max_bytes=20000\n",
        "max_features=5000\nmax_bytes=60000\nbuffer=32\n",
        "max_features=1000\nbuffer=5\n",
    ];
    let mut from_pyramid = 0;
    // Tiles whose points the pyramid lists, and those of them with points sharing a place.
    let (mut listed, mut shared) = (0, 0);
    // The layer whose ids do not follow positions with a few of the budgets.
    let runs = paths.iter().flat_map(|(path, ids)| {
        let n = if *ids { 3 } else { budgets.len() };
        budgets
            .iter()
            .take(n)
            .map(move |budget| (path, *ids, budget))
    });
    for (path, ids, budget) in runs {
        let state = dense_state(path, budget);
        let layer = state.catalog.get("dense").unwrap().snapshot();
        let cfg = state.tiler.layer_config("dense");
        let prepared = state.tiler.prepared(&layer);
        let pyramid = prepared.pyramid().expect("a layer of points has a pyramid");
        // Ids read from positions only where they follow them.
        assert_eq!(pyramid.id_of(0).is_some(), !ids);
        for z in 0..=10u8 {
            let n = f64::from(1u32 << z);
            let [x0, y0] = lonlat_to_merc(59.0, 39.0);
            let [x1, y1] = lonlat_to_merc(76.0, 23.0);
            let (tx0, ty0) = ((x0 * n) as u32, (y0 * n) as u32);
            let (tx1, ty1) = ((x1 * n) as u32, (y1 * n) as u32);
            // At most about 40 tiles per zoom, spread over the data.
            let step = ((tx1 - tx0 + 1) * (ty1 - ty0 + 1) / 40).max(1);
            let mut i = 0;
            for tx in tx0..=tx1 {
                for ty in ty0..=ty1 {
                    i += 1;
                    if i % step != 0 {
                        continue;
                    }
                    let coord = TileCoord { z, x: tx, y: ty };
                    let rendered = render_prepared(&[(&layer, cfg, &prepared)], coord).unwrap();
                    let candidates = gather::candidates(&layer, cfg, &prepared, coord, None);
                    let (encoder, report) = encode_within_budget(&layer, cfg, candidates, coord);
                    let mut expected = Vec::new();
                    if !encoder.is_empty() {
                        encoder.finish(&mut expected);
                    }
                    assert_eq!(rendered.layers[0], report, "z{z}/{tx}/{ty} {budget:?}");
                    assert!(
                        rendered.mvt == expected,
                        "z{z}/{tx}/{ty} {budget:?}: bytes differ"
                    );
                    let limit = if cfg.max_features == 0 {
                        usize::MAX
                    } else {
                        cfg.max_features
                    };
                    if let Some(region) = pyramid.region(coord, cfg.extent, cfg.buffer) {
                        let mut gathered: Vec<usize> =
                            gather::candidates(&layer, cfg, &prepared, coord, None)
                                .iter()
                                .filter_map(|c| match c.what {
                                    Item::Point(pos) => Some(pos),
                                    Item::Cluster(_) => None,
                                })
                                .collect();
                        gathered.sort_unstable();
                        let all = pyramid.listed(&region, 0);
                        listed += 1;
                        assert_eq!(all.total, all.head.len());
                        let list: Vec<usize> = all
                            .head
                            .iter()
                            .map(|k| {
                                assert_eq!(k.count, 1);
                                assert_eq!(pyramid.code(k.finest), code_of(&layer, k.pos as usize));
                                k.pos as usize
                            })
                            .collect();
                        assert_eq!(list, gathered, "z{z}/{tx}/{ty} {budget:?}: listed");
                        let mut places: Vec<u32> = all.head.iter().map(|k| k.finest).collect();
                        places.sort_unstable();
                        places.dedup();
                        if places.len() < list.len() {
                            shared += 1;
                        }
                        for prefix in [1, 64, 256] {
                            // At least the first `prefix` in order (all of them when the
                            // listing is read in order from a bitmap of positions).
                            let part = pyramid.listed(&region, prefix);
                            let head = part.head.len();
                            assert!(
                                head == prefix.min(all.total) || head == all.total,
                                "{head} of {} in order for a prefix of {prefix}",
                                all.total
                            );
                            assert_eq!(made_whole(pyramid, part), all.head);
                        }
                        let points = pyramid.count(&region);
                        assert_eq!(points, report.candidates, "z{z}/{tx}/{ty} {budget:?}");
                        if points > limit
                            && let Some(kept) = pyramid.thin(&region, points, limit, cfg.extent)
                        {
                            from_pyramid += 1;
                            for prefix in [1, 64, 256] {
                                let part = pyramid
                                    .thin_partly(&region, points, limit, cfg.extent, prefix)
                                    .unwrap();
                                assert_eq!(made_whole(pyramid, part), kept);
                            }
                            for k in kept {
                                assert_eq!(
                                    pyramid.code(k.finest),
                                    code_of(&layer, k.pos as usize),
                                    "z{z}/{tx}/{ty} {budget:?}: the code of {}",
                                    k.pos
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        from_pyramid > 50,
        "only {from_pyramid} tiles thinned from the pyramid"
    );
    assert!(
        listed > 50 && shared > 50,
        "{listed} tiles listed from the pyramid, {shared} of them with points sharing a place"
    );
}

/// Tiles of many cells (the first points of their thinning chosen where they lie, the
/// others read again only if asked for): rendered both ways, and read in part then made
/// whole, under the default budget and one of few bytes.
#[test]
fn a_dense_tile_read_in_part_is_the_budgets_thinning() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_layer(dir.path(), 60_000, false);
    let mut many_cells = 0;
    for budget in ["", "max_bytes=20000\n"] {
        let state = dense_state(&path, budget);
        let layer = state.catalog.get("dense").unwrap().snapshot();
        let cfg = state.tiler.layer_config("dense");
        let prepared = state.tiler.prepared(&layer);
        let pyramid = prepared.pyramid().expect("a layer of points has a pyramid");
        for z in 0..=4u8 {
            let n = 1u32 << z;
            for (tx, ty) in (0..n).flat_map(|x| (0..n).map(move |y| (x, y))) {
                let coord = TileCoord { z, x: tx, y: ty };
                let Some(region) = pyramid.region(coord, cfg.extent, cfg.buffer) else {
                    continue;
                };
                let points = pyramid.count(&region);
                if points == 0 {
                    continue;
                }
                let rendered = render_prepared(&[(&layer, cfg, &prepared)], coord).unwrap();
                let candidates = gather::candidates(&layer, cfg, &prepared, coord, None);
                let (encoder, _) = encode_within_budget(&layer, cfg, candidates, coord);
                let mut expected = Vec::new();
                encoder.finish(&mut expected);
                assert!(
                    rendered.mvt == expected,
                    "z{z}/{tx}/{ty} {budget:?}: bytes differ"
                );
                let limit = cfg.max_features;
                let Some(kept) = pyramid.thin(&region, points, limit, cfg.extent) else {
                    continue;
                };
                let part = pyramid
                    .thin_partly(&region, points, limit, cfg.extent, 256)
                    .unwrap();
                many_cells += usize::from(part.total >= 8192);
                assert_eq!(made_whole(pyramid, part), kept, "z{z}/{tx}/{ty}");
            }
        }
    }
    assert!(
        many_cells >= 2,
        "only {many_cells} tiles of 8,192 cells or more"
    );
}

#[test]
fn a_new_layer_generation_gets_its_own_pyramid() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_layer(dir.path(), 3000, false);
    let state = state_from_toml(&format!(
        "[server.tiles]\ncache_mib=0\n[[layers]]\nid='dense'\nfile='{path}'\n[layers.tiles]\nmax_features=200\n"
    ));
    let handle = state.catalog.get("dense").unwrap();
    let coord = TileCoord { z: 3, x: 5, y: 3 };
    let represented = |layers: &[std::sync::Arc<khorasan_atlas::catalog::Layer>]| {
        let (tile, _) = state.tiler.tile(layers, coord).unwrap();
        let report = &tile.layers[0];
        assert!(report.thinned);
        report.candidates
    };
    let before = handle.snapshot();
    assert_eq!(represented(std::slice::from_ref(&before)), 3000);
    // Every point twice: the tile of the new snapshot counts them all.
    let mut features: Vec<_> = before.features.iter().map(|(_, f)| f.clone()).collect();
    let next_id = features.iter().map(|f| f.id).max().unwrap() + 1;
    features.extend(before.features.iter().map(|(i, f)| {
        let mut copy = f.clone();
        copy.id = next_id + i as u64;
        copy
    }));
    handle.replace(before.with_features(before.fields.clone(), features));
    let after = handle.snapshot();
    assert_ne!(after.generation, before.generation);
    assert_eq!(represented(&[after]), 6000);
    assert_eq!(represented(&[before]), 3000);
}

/// A dense point tile is thinned at once to the points its byte budget holds at the bytes a
/// point of its layer takes (estimated from a sample of the layer, see
/// `encode::point_bytes`): the estimate is close to what a point takes in a thinned tile,
/// and the tile keeps within its byte budget whatever the estimate, one far too low
/// included (the encoding stops when the bytes run over, and thins again).
#[test]
fn the_bytes_of_a_point_thin_a_dense_tile_within_its_byte_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_layer(dir.path(), 30_000, false);
    let max_bytes = 20_000;
    let state = dense_state(&path, &format!("max_bytes={max_bytes}\n"));
    let layer = state.catalog.get("dense").unwrap().snapshot();
    let cfg = state.tiler.layer_config("dense");
    let prepared = state.tiler.prepared(&layer);
    let estimate = prepared.point_bytes().expect("a layer of points");
    assert_eq!(Some(estimate), point_bytes(&layer));
    let mut probed = 0;
    // The layer of a tile from a pool under an estimate, checked against the budget.
    let encode = |coord: TileCoord, pool: Pool<'_>, point_bytes: Option<usize>| {
        let from = Precomputed {
            values: prepared.values(),
            point_bytes,
        };
        let (encoder, report) = encode_pool_within_budget(&layer, cfg, pool, coord, from);
        assert!(
            report.bytes <= max_bytes && report.features > 0,
            "{coord} with {point_bytes:?} bytes a point: {} bytes, {} features",
            report.bytes,
            report.features
        );
        // An estimate over the whole budget leaves room for one point only.
        if point_bytes == Some(2 * max_bytes) {
            assert_eq!(report.features, 1, "{coord} under {point_bytes:?}");
        }
        let mut bytes = Vec::new();
        encoder.finish(&mut bytes);
        (bytes, report)
    };
    for z in 0..=6u8 {
        let n = 1u32 << z;
        for (x, y) in (0..n).flat_map(|x| (0..n).map(move |y| (x, y))) {
            let coord = TileCoord { z, x, y };
            if gather::candidates(&layer, cfg, &prepared, coord, None).is_empty() {
                continue;
            }
            // No estimate, the layer's, one far too low, one far too high, and one larger
            // than the whole budget (a point that alone does not fit).
            for point_bytes in [
                None,
                Some(estimate),
                Some(1),
                Some(8 * estimate),
                Some(2 * max_bytes),
            ] {
                // From the gathered candidates and from the pool a render reads (the
                // pyramid's, where it answers the tile): the same layer.
                let candidates = gather::candidates(&layer, cfg, &prepared, coord, None);
                let (gathered, report) = encode(coord, Pool::Gathered(candidates), point_bytes);
                let pool = gather::pool(&layer, cfg, &prepared, coord, None);
                let (pyramid, _) = encode(coord, pool, point_bytes);
                assert!(
                    gathered == pyramid,
                    "z{z}/{x}/{y} with {point_bytes:?}: the pools differ"
                );
                // Thinned from the first features encoded (no estimate): the bytes a
                // point takes there.
                if point_bytes.is_none() && report.thinned && report.features >= 100 {
                    probed += 1;
                    let measured = report.bytes / report.features;
                    assert!(
                        estimate * 10 >= measured * 8 && estimate * 10 <= measured * 15,
                        "z{z}/{x}/{y}: {estimate} bytes a point estimated, {measured} measured"
                    );
                }
            }
        }
    }
    assert!(probed >= 10, "only {probed} tiles thinned by their bytes");
}
