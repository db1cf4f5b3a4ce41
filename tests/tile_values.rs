//! Tiles whose properties come from the layer's encoded values (`ValueTable`) hold what the
//! layer holds: on a point layer with strings, integers (small, negative, beyond `i64`),
//! doubles, booleans, arrays, objects, nulls and missing properties, repeated and unique
//! values, every tile of zooms 0 to 9 under several budgets (thinned by count, by bytes, not
//! at all) is rendered through the table and through the per-feature encoder, and
//! - the two encodings are the same bytes;
//! - decoded, every feature carries exactly its source properties (read from the source
//!   file with serde_json), arrays and objects as their JSON text, plus `represents` when
//!   the layer was thinned, whose counts add up to the layer's candidates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::state_from_toml;
use khorasan_atlas::catalog::Layer;
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::tiles::budget::{
    Pool, Precomputed, encode_pool_within_budget, encode_within_budget,
};
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::tiles::encode::values::ValueTable;
use khorasan_atlas::tiles::{LayerReport, PreparedLayer, TileLayerConfig, gather, render_prepared};
use mvt_reader::Reader;
use mvt_reader::feature::Value as MvtValue;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// `n` points in three towns and around them, with properties of every kind.
fn write_layer(dir: &Path, n: usize) -> String {
    let mut rng = StdRng::seed_from_u64(7);
    let towns = [(66.0, 33.0, 0.05), (69.2, 34.5, 0.3), (71.5, 30.2, 1.5)];
    let features: Vec<Value> = (0..n)
        .map(|i| {
            let (x, y, sd) = towns[i % towns.len()];
            let lon = x + sd * (rng.r#gen::<f64>() - 0.5);
            let lat = y + sd * (rng.r#gen::<f64>() - 0.5);
            let mut props = serde_json::Map::new();
            props.insert("key".into(), json!(i));
            props.insert("category".into(), json!(["a", "bb", "ccc", ""][i % 4]));
            props.insert("name".into(), json!(format!("place {}", i % 997)));
            props.insert(
                "unique".into(),
                json!(format!("u-{i}-{}", "x".repeat(i % 150))),
            );
            props.insert("small".into(), json!(i % 5));
            props.insert("negative".into(), json!(-(i64::try_from(i % 300).unwrap())));
            props.insert(
                "big".into(),
                json!(i64::MAX - i64::try_from(i % 3).unwrap()),
            );
            props.insert(
                "double".into(),
                json!(f64::from(u32::try_from(i % 9).unwrap()) / 4.0),
            );
            props.insert("flag".into(), json!(i % 3 == 0));
            match i % 5 {
                0 => {}
                1 => {
                    props.insert("maybe".into(), Value::Null);
                }
                2 => {
                    props.insert("maybe".into(), json!([1, "two", i % 4]));
                }
                3 => {
                    props.insert("maybe".into(), json!({"k": i % 6, "s": "v"}));
                }
                _ => {
                    props.insert("maybe".into(), json!(i % 6));
                }
            }
            if i % 11 == 0 {
                // Beyond i64: kept as its source text.
                props.insert(
                    "huge".into(),
                    serde_json::from_str("18446744073709551616").unwrap(),
                );
            }
            json!({"type": "Feature", "id": i + 1, "geometry": {"type": "Point",
                "coordinates": [lon, lat]}, "properties": props})
        })
        .collect();
    let path = dir.join("values.geojson");
    std::fs::write(
        &path,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    path.display().to_string()
}

/// The source properties by feature id, read with serde_json (raw text kept for numbers
/// serde_json would change).
fn source_properties(path: &str) -> HashMap<u64, serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_u64().unwrap(),
                f["properties"].as_object().unwrap().clone(),
            )
        })
        .collect()
}

/// Whether a decoded MVT value is the source value `v`.
fn same(v: &Value, got: &MvtValue) -> bool {
    match (v, got) {
        (Value::String(s), MvtValue::String(t)) => s == t,
        (Value::Bool(a), MvtValue::Bool(b)) => a == b,
        (Value::Number(n), MvtValue::UInt(u)) => n.as_u64() == Some(*u),
        (Value::Number(n), MvtValue::SInt(i) | MvtValue::Int(i)) => n.as_i64() == Some(*i),
        (Value::Number(n), MvtValue::Double(d)) => n.as_f64() == Some(*d) && !n.is_i64(),
        (Value::Number(n), MvtValue::String(t)) => n.to_string() == *t,
        (Value::Array(_) | Value::Object(_), MvtValue::String(t)) => {
            serde_json::from_str::<Value>(t).ok().as_ref() == Some(v)
        }
        _ => false,
    }
}

/// The tile's gathered candidates encoded through the table and through the per-feature
/// encoder: the two layers' bytes (empty for an empty layer) and the report, which must be
/// the same both ways.
fn both_ways(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    table: &ValueTable,
    coord: TileCoord,
    at: &str,
) -> (Vec<u8>, Vec<u8>, LayerReport) {
    let gathered = gather::candidates(layer, cfg, prepared, coord, None);
    let from_table = Precomputed {
        values: Some(table),
        point_bytes: prepared.point_bytes(),
    };
    let (by_table, report) =
        encode_pool_within_budget(layer, cfg, Pool::Gathered(gathered), coord, from_table);
    let gathered = gather::candidates(layer, cfg, prepared, coord, None);
    let (by_feature, expected) = encode_within_budget(layer, cfg, gathered, coord);
    assert_eq!(report, expected, "{at}");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    if !by_table.is_empty() {
        by_table.finish(&mut a);
    }
    if !by_feature.is_empty() {
        by_feature.finish(&mut b);
    }
    (a, b, expected)
}

#[test]
fn table_encoded_tiles_hold_the_source_properties() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_layer(dir.path(), 6_000);
    let source = source_properties(&path);
    let budgets = [
        "",
        "max_features=150\n",
        "max_bytes=30000\n",
        "max_features=0\n",
    ];
    let (mut thinned, mut whole) = (0, 0);
    for budget in budgets {
        let state = state_from_toml(&format!(
            "[[layers]]\nid='v'\nfile='{path}'\n[layers.tiles]\n{budget}"
        ));
        let layer = state.catalog.get("v").unwrap().snapshot();
        let cfg = state.tiler.layer_config("v");
        let prepared = state.tiler.prepared(&layer);
        let table = prepared
            .values()
            .expect("a loaded layer has its values encoded");
        for z in 0..=9u8 {
            let n = f64::from(1u32 << z);
            let [x0, y0] = lonlat_to_merc(65.0, 36.0);
            let [x1, y1] = lonlat_to_merc(73.0, 29.0);
            let (tx0, ty0) = ((x0 * n) as u32, (y0 * n) as u32);
            let (tx1, ty1) = ((x1 * n) as u32, (y1 * n) as u32);
            for tx in tx0..=tx1 {
                for ty in ty0..=ty1 {
                    let coord = TileCoord { z, x: tx, y: ty };
                    let at = format!("z{z}/{tx}/{ty} {budget:?}");
                    let rendered = render_prepared(&[(&layer, cfg, &prepared)], coord).unwrap();
                    let (a, b, expected) = both_ways(&layer, cfg, &prepared, table, coord, &at);
                    assert_eq!(rendered.layers[0], expected, "{at}");
                    assert!(a == b, "{at}: the table's bytes differ");
                    assert!(rendered.mvt == b, "{at}: the rendered bytes differ");
                    if rendered.mvt.is_empty() {
                        continue;
                    }
                    if expected.thinned {
                        thinned += 1;
                    } else {
                        whole += 1;
                    }
                    let reader = Reader::new(rendered.mvt.to_vec()).unwrap();
                    let features = reader.get_features(0).unwrap();
                    assert_eq!(features.len(), expected.features, "{at}");
                    let mut represented = 0u64;
                    for f in &features {
                        let id = f.id.expect("features keep their id");
                        let mut props = f.properties.clone().unwrap_or_default();
                        match props.remove("represents") {
                            Some(MvtValue::UInt(count)) => {
                                assert!(expected.thinned, "{at}: represents on a whole tile");
                                represented += count;
                            }
                            None => assert!(!expected.thinned, "{at}: no represents"),
                            Some(other) => panic!("{at}: represents {other:?}"),
                        }
                        let own = &source[&id];
                        let present: HashMap<&String, &Value> =
                            own.iter().filter(|(_, v)| !v.is_null()).collect();
                        assert_eq!(props.len(), present.len(), "{at} feature {id}: {props:?}");
                        for (k, v) in present {
                            let got = props.get(k.as_str());
                            assert!(
                                got.is_some_and(|g| same(v, g)),
                                "{at} feature {id}: {k} is {got:?}, source {v}"
                            );
                        }
                    }
                    if expected.thinned {
                        assert_eq!(represented as usize, expected.candidates, "{at}");
                    }
                }
            }
        }
    }
    assert!(
        thinned > 10 && whole > 10,
        "thinned {thinned}, whole {whole}"
    );
}

/// A field with more distinct values than a row's two-byte index holds is stored as plain
/// ids, and one repeating the feature's id is not stored: on 70,000 points with unique
/// strings, unique integers beyond the inline range, unique inline integers, a copy of the
/// feature id and gaps, tiles through the table are the per-feature encoder's bytes,
/// thinned and whole.
#[test]
fn fields_of_unique_values_encode_as_the_features_do() {
    encodes_as_the_features_do(11, |i| {
        let mut props = serde_json::Map::new();
        if i % 7 != 0 {
            props.insert("code".into(), json!(format!("c{i}")));
        }
        if i % 11 != 0 {
            props.insert("uid".into(), json!((1u64 << 40) + i));
        }
        props.insert("key".into(), json!(i));
        if i % 3 != 0 {
            props.insert("kind".into(), json!(["x", "y"][(i % 2) as usize]));
        }
        props.insert("count".into(), json!(i % 4));
        props.insert("ref".into(), json!(i + 1));
        props
    });
}

/// Feature ids beyond the small integers, in a layer whose only other integers are rare:
/// the ids are written without a lookup until a later property equals one of them
/// (`prev`, the id of the feature before), which must then find it. The tiles through
/// the table are the per-feature encoder's bytes.
#[test]
fn feature_ids_met_again_as_values_are_found() {
    encodes_as_the_features_do(12, |i| {
        let mut props = serde_json::Map::new();
        props.insert("name".into(), json!(format!("n{}", i % 500)));
        if i % 97 == 0 {
            props.insert("prev".into(), json!(i));
        }
        props.insert("id".into(), json!(i + 1));
        props
    });
}

/// Large integers equal to feature ids met before and after those features: `next`
/// holds the id of a feature 39 positions on, so written later in the same tile when both
/// are in it (which must then find the value rather than add it again), `prev` one 500
/// positions back, `far` one 65,536 on (past the layer's 70,000 ids for most features,
/// another tile's feature for the rest). The tiles through the table are the per-feature
/// encoder's bytes.
#[test]
fn values_equal_to_feature_ids_before_and_after_them_are_found() {
    encodes_as_the_features_do(14, |i| {
        let mut props = serde_json::Map::new();
        if i % 13 == 0 {
            props.insert("next".into(), json!(i + 40));
        }
        if i % 29 == 0 {
            props.insert("prev".into(), json!(i.saturating_sub(500)));
        }
        if i % 31 == 0 {
            props.insert("far".into(), json!(i + 65_536));
        }
        props.insert("id".into(), json!(i + 1));
        props
    });
}

/// Strings shared between two fields (`from`, `to`) beside a field no other holds
/// (`only`) and one whose values are also counts (`n`): a field is added without a lookup
/// only when no other field can hold its values. The tiles through the table are the
/// per-feature encoder's bytes.
#[test]
fn values_shared_between_fields_are_found() {
    encodes_as_the_features_do(13, |i| {
        let mut props = serde_json::Map::new();
        props.insert("from".into(), json!(format!("t{}", i % 300)));
        props.insert("to".into(), json!(format!("t{}", (i * 7) % 400)));
        props.insert("only".into(), json!(format!("o{}", i % 50)));
        props.insert("n".into(), json!(i % 9));
        props
    });
}

/// Tiles of a layer of 70,000 points around 69E 34.5N (placed by a generator seeded with
/// `seed`, feature `i` with id `i + 1` and the properties `props(i)`), thinned and whole,
/// encoded through the layer's value table are the per-feature encoder's bytes.
fn encodes_as_the_features_do(seed: u64, props: impl Fn(u64) -> serde_json::Map<String, Value>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let features: Vec<Value> = (0..70_000u64)
        .map(|i| {
            let lon = 69.0 + 0.4 * (rng.r#gen::<f64>() - 0.5);
            let lat = 34.5 + 0.4 * (rng.r#gen::<f64>() - 0.5);
            json!({"type": "Feature", "id": i + 1,
                "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props(i)})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unique.geojson");
    std::fs::write(
        &path,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let path = path.display().to_string();
    let (mut thinned, mut whole) = (0, 0);
    for budget in ["", "max_features=0\nmax_bytes=0\n"] {
        let state = state_from_toml(&format!(
            "[[layers]]\nid='u'\nfile='{path}'\n[layers.tiles]\n{budget}"
        ));
        let layer = state.catalog.get("u").unwrap().snapshot();
        let cfg = state.tiler.layer_config("u");
        let prepared = state.tiler.prepared(&layer);
        let table = prepared.values().expect("values encoded");
        for (z, x, y) in [
            (0, 0, 0),
            (4, 11, 6),
            (8, 177, 101),
            (9, 354, 203),
            (12, 2833, 1629),
        ] {
            let coord = TileCoord { z, x, y };
            let at = format!("z{z}/{x}/{y} {budget:?}");
            let (a, b, expected) = both_ways(&layer, cfg, &prepared, table, coord, &at);
            if b.is_empty() {
                continue;
            }
            assert!(a == b, "{at}: the table's bytes differ");
            let rendered = render_prepared(&[(&layer, cfg, &prepared)], coord).unwrap();
            assert!(rendered.mvt == b, "{at}: the rendered bytes differ");
            if expected.thinned {
                thinned += 1;
            } else {
                whole += 1;
            }
        }
    }
    assert!(
        thinned >= 2 && whole >= 3,
        "thinned {thinned}, whole {whole}"
    );
}
