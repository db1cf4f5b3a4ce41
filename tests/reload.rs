//! Layers reload when their files change: the new data is served with new ETags and joins
//! re-run; a broken file keeps the old data serving and says why in `/health`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use khorasan_atlas::catalog::{Catalog, watch};
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::AppState;
use serde_json::{Value, json};

/// Rectangles: (name, west, south, east, north).
type Boxes<'a> = &'a [(&'a str, f64, f64, f64, f64)];

fn points_file(points: &[(&str, f64, f64)]) -> String {
    let features: Vec<Value> = points
        .iter()
        .map(|(id, x, y)| {
            json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [x, y]},
                   "properties": {"label": format!("point {id}")}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn areas_file(boxes: Boxes<'_>) -> String {
    let features: Vec<Value> = boxes
        .iter()
        .map(|(name, w, s, e, n)| {
            json!({"type": "Feature", "properties": {"name": name},
                   "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The box holding a point, computed here without the server's geometry code.
fn owner<'a>(boxes: Boxes<'a>, x: f64, y: f64) -> Option<&'a str> {
    boxes
        .iter()
        .find(|(_, w, s, e, n)| (*w..=*e).contains(&x) && (*s..=*n).contains(&y))
        .map(|b| b.0)
}

/// Replaces `path` atomically (write aside, then rename), as editors and `cp` scripts do.
fn replace_file(path: &Path, text: &str) {
    let aside = path.with_extension("tmp");
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

fn state_in(dir: &Path) -> AppState {
    let config = format!(
        r#"
[server]
watch_files = true

[[layers]]
id = "points"
file = "{dir}/points.geojson"

[[layers]]
id = "areas"
file = "{dir}/areas.geojson"

[[joins]]
points = "points"
polygons = "areas"
copy = {{ area = "name" }}
count_property = "points_inside"
"#,
        dir = dir.display()
    );
    let raw: RawConfig = toml::from_str(&config).unwrap();
    let config = raw.validate().unwrap();
    let catalog = Catalog::load(&config.catalog()).unwrap();
    AppState::new(config, catalog)
}

/// Items of `layer` by id, with the ETag of the page.
async fn items(state: &AppState, layer: &str) -> (Vec<Value>, String) {
    let r = common::get_with(
        state,
        &format!("/collections/{layer}/items?limit=1000"),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.header("etag").unwrap_or_default().to_owned();
    let body = r.json();
    assert_eq!(
        body["numberMatched"].as_u64().unwrap() as usize,
        body["features"].as_array().unwrap().len()
    );
    (body["features"].as_array().unwrap().clone(), etag)
}

/// Checks the served join against the rectangles: each point's `area`, each area's count.
async fn assert_joined(state: &AppState, points: &[(&str, f64, f64)], boxes: Boxes<'_>) {
    let (served, _) = items(state, "points").await;
    assert_eq!(served.len(), points.len());
    for (id, x, y) in points {
        let f = served.iter().find(|f| f["id"] == *id).unwrap();
        assert_eq!(f["properties"]["area"], json!(owner(boxes, *x, *y)), "{f}");
    }
    let (areas, _) = items(state, "areas").await;
    for (name, ..) in boxes {
        let f = areas
            .iter()
            .find(|f| f["properties"]["name"] == *name)
            .unwrap();
        let inside = points
            .iter()
            .filter(|(_, x, y)| owner(boxes, *x, *y) == Some(*name))
            .count();
        assert_eq!(f["properties"]["points_inside"], inside, "{f}");
    }
}

/// Waits (10 s at most) until `done` holds for the served state.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not within 10 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const BOXES: Boxes<'static> = &[
    ("west", 60.0, 30.0, 65.0, 35.0),
    ("east", 65.0, 30.0, 70.0, 35.0),
];
const MOVED: Boxes<'static> = &[
    ("west", 60.0, 30.0, 63.0, 35.0),
    ("east", 63.0, 30.0, 70.0, 35.0),
];
const FIRST: &[(&str, f64, f64)] = &[("a", 61.0, 31.0), ("b", 64.0, 32.0), ("c", 66.0, 33.0)];
const SECOND: &[(&str, f64, f64)] = &[
    ("a", 61.0, 31.0),
    ("b", 64.0, 32.0),
    ("d", 69.0, 34.0),
    ("e", 80.0, 10.0),
];

#[actix_web::test]
async fn a_reload_serves_the_new_file_with_joins_and_new_etags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("points.geojson"), points_file(FIRST)).unwrap();
    std::fs::write(dir.path().join("areas.geojson"), areas_file(BOXES)).unwrap();
    let state = state_in(dir.path());
    assert_joined(&state, FIRST, BOXES).await;
    let (_, etag) = items(&state, "points").await;
    let generation = state.catalog.get("points").unwrap().snapshot().generation;
    let tile = common::get_with(&state, "/tiles/points/0/0/0", &[]).await;
    assert_eq!(tile.status, 200);

    replace_file(&dir.path().join("points.geojson"), &points_file(SECOND));
    state.catalog.reload_layer("points").unwrap();
    assert_joined(&state, SECOND, BOXES).await;
    let (_, etag2) = items(&state, "points").await;
    assert_ne!(etag, etag2, "no ETag of the old data survives");
    let tile2 = common::get_with(&state, "/tiles/points/0/0/0", &[]).await;
    assert_ne!(
        tile.header("etag"),
        tile2.header("etag"),
        "nor a cached tile"
    );
    assert_ne!(tile.body, tile2.body);
    assert!(state.catalog.get("points").unwrap().snapshot().generation > generation);

    // The polygons change: the points take their new areas.
    replace_file(&dir.path().join("areas.geojson"), &areas_file(MOVED));
    state.catalog.reload_layer("areas").unwrap();
    assert_joined(&state, SECOND, MOVED).await;

    let health = common::get_with(&state, "/health", &[]).await.json();
    assert_eq!(health["reloads"]["points"]["reloads"], 1, "{health}");
    assert_eq!(health["reloads"]["areas"]["reloads"], 1, "{health}");
    assert_eq!(health["layers"]["points"], SECOND.len());
}

#[actix_web::test]
async fn a_broken_file_keeps_the_old_data_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.geojson");
    std::fs::write(&points, points_file(FIRST)).unwrap();
    std::fs::write(dir.path().join("areas.geojson"), areas_file(BOXES)).unwrap();
    let state = state_in(dir.path());

    let text = points_file(SECOND);
    std::fs::write(&points, &text[..text.len() / 2]).unwrap();
    assert!(state.catalog.reload_layer("points").is_err());
    assert_joined(&state, FIRST, BOXES).await;
    let health = common::get_with(&state, "/health", &[]).await.json();
    let error = health["reloads"]["points"]["error"].as_str().unwrap();
    assert!(error.contains("points.geojson"), "names the file: {error}");
    assert_eq!(health["reloads"]["points"]["reloads"], 0);

    std::fs::write(&points, &text).unwrap();
    state.catalog.reload_layer("points").unwrap();
    assert_joined(&state, SECOND, BOXES).await;
    let health = common::get_with(&state, "/health", &[]).await.json();
    assert!(health["reloads"]["points"]["error"].is_null(), "{health}");
}

#[actix_web::test]
async fn the_watcher_reloads_after_a_rename_and_after_an_in_place_write() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.geojson");
    std::fs::write(&points, points_file(FIRST)).unwrap();
    std::fs::write(dir.path().join("areas.geojson"), areas_file(BOXES)).unwrap();
    let state = state_in(dir.path());
    let _watcher = watch::watch(Arc::clone(&state.catalog), Duration::from_millis(100)).unwrap();

    replace_file(&points, &points_file(SECOND));
    eventually("the renamed file is served", || async {
        items(&state, "points").await.0.len() == SECOND.len()
    })
    .await;
    assert_joined(&state, SECOND, BOXES).await;

    std::fs::write(&points, points_file(FIRST)).unwrap();
    eventually("the file written in place is served", || async {
        items(&state, "points").await.0.len() == FIRST.len()
    })
    .await;
    assert_joined(&state, FIRST, BOXES).await;

    std::fs::write(&points, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    eventually("the broken file is reported", || async {
        let health = common::get_with(&state, "/health", &[]).await.json();
        health["reloads"]["points"]["error"].is_string()
    })
    .await;
    assert_joined(&state, FIRST, BOXES).await;
}
