//! Vector tiles through the real router, decoded with an independent MVT decoder
//! (`mvt-reader`): geometry where the features are, valid and clockwise polygons, buffers
//! shared by neighbours, exact cluster counts, ids of the feature API, errors and caching.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod budget;
#[path = "../common/mod.rs"]
mod common;
mod points;
mod polygons;
mod serving;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use common::{Reply, atlas, get, get_with, state_from_toml};
use geo::{Geometry, Validation};
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::http::AppState;
use mvt_reader::Reader;
use mvt_reader::feature::{Feature, Value};

/// Decoded layers of a tile: name -> features (coordinates in tile units, f64).
fn decode(body: &[u8]) -> HashMap<String, Vec<Feature<f64>>> {
    let reader = Reader::new(body.to_vec()).expect("a valid MVT");
    let names = reader.get_layer_names().unwrap();
    let meta = reader.get_layer_metadata().unwrap();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            assert_eq!(meta[i].extent, 4096);
            (name, reader.get_features_as::<f64>(i).unwrap())
        })
        .collect()
}

async fn tile(state: &AppState, uri: &str) -> HashMap<String, Vec<Feature<f64>>> {
    let r = get_with(state, uri, &[]).await;
    match r.status {
        200 => {
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.mapbox-vector-tile")
            );
            decode(&r.body)
        }
        204 => HashMap::new(),
        s => panic!("{uri}: status {s}: {}", String::from_utf8_lossy(&r.body)),
    }
}

/// Tile units of a lon/lat point in tile z/x/y.
fn tile_units(lon: f64, lat: f64, z: u8, x: u32, y: u32) -> [f64; 2] {
    let [mx, my] = lonlat_to_merc(lon, lat);
    let n = f64::from(1u32 << z);
    [
        (mx * n - f64::from(x)) * 4096.0,
        (my * n - f64::from(y)) * 4096.0,
    ]
}

/// The tile containing a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let [mx, my] = lonlat_to_merc(lon, lat);
    let n = f64::from(1u32 << z);
    ((mx * n).floor() as u32, (my * n).floor() as u32)
}

fn points(f: &Feature<f64>) -> Vec<[f64; 2]> {
    match &f.geometry {
        Geometry::MultiPoint(mp) => mp.iter().map(|p| [p.x(), p.y()]).collect(),
        Geometry::Point(p) => vec![[p.x(), p.y()]],
        g => panic!("not a point: {g:?}"),
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i) | Value::SInt(i)) => *i,
        Some(Value::UInt(u)) => i64::try_from(*u).unwrap(),
        other => panic!("not an integer: {other:?}"),
    }
}

fn prop<'a>(f: &'a Feature<f64>, k: &str) -> Option<&'a Value> {
    f.properties.as_ref().and_then(|p| p.get(k))
}

/// Shoelace area in tile units (y down): positive = clockwise on screen.
fn shoelace(ring: &geo::LineString<f64>) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

/// A deterministic generator (64-bit LCG), so that tests need no committed data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Writes a GeoJSON FeatureCollection of points (with `deaths`) and returns its path.
fn write_points(dir: &Path, name: &str, pts: &[(f64, f64, i64)]) -> String {
    let features: Vec<serde_json::Value> = pts
        .iter()
        .map(|(lon, lat, d)| {
            serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"deaths": d, "name": format!("p{lon:.3}")}})
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    path.display().to_string()
}

/// Every leaf of cluster `id` of `layer`, as the GeoJSON endpoint gives them.
async fn all_leaves(
    state: &AppState,
    layer: &str,
    id: impl std::fmt::Display,
) -> serde_json::Value {
    get_with(
        state,
        &format!("/tiles/{layer}/clusters/{id}/leaves?limit=10000"),
        &[],
    )
    .await
    .json()
}
