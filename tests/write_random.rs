//! A long random sequence of writes (create, replace, delete; string and numeric ids) gives
//! the same answers as the same features loaded fresh from a file, before and after a
//! restart: the items, each item by id, bbox, radius and nearest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::{self, AppState};
use khorasan_atlas::store::access::hash_token_hex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const TOKEN: &str = "random-writes-token-0123";

/// One feature of the reference: its API id, geometry and properties.
#[derive(Clone)]
struct Item {
    id: Value,
    geometry: Value,
    properties: Value,
}

fn random_item(rng: &mut StdRng, id: Value, n: i64) -> Item {
    // Coordinates with 4 decimals, in a box a few degrees wide, so that boxes and radii
    // hold some features and some fall exactly on shared places.
    let mut c = || f64::from(rng.gen_range(0..40_000)) / 10_000.0;
    let (x, y) = (66.0 + c(), 32.0 + c());
    Item {
        id,
        geometry: json!({"type": "Point", "coordinates": [x, y]}),
        properties: json!({"name": format!("f{n}"), "n": n}),
    }
}

fn collection(items: &[Item], with_ids: bool) -> String {
    let features: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut f =
                json!({"type": "Feature", "geometry": i.geometry, "properties": i.properties});
            if with_ids {
                f["id"] = i.id.clone();
            }
            f
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn config(dir: &Path, files: &[(&str, &Path)], writable: bool) -> RawConfig {
    let mut text = format!(
        "[server]\ndata_dir = {:?}\nwrite_tokens_sha256 = [{:?}]\nwrite_rate_per_minute = 0\n",
        dir.join("data"),
        hash_token_hex(TOKEN)
    );
    for (id, file) in files {
        text.push_str(&format!(
            "[[layers]]\nid = {id:?}\nfile = {file:?}\nwritable = {writable}\n"
        ));
    }
    toml::from_str(&text).unwrap()
}

fn open(raw: RawConfig) -> AppState {
    common::open_writable(raw)
}

async fn send(state: &AppState, method: Method, uri: &str, body: Option<Value>) -> common::Reply {
    let app = test::init_service(http::app(state.clone())).await;
    let mut r = TestRequest::default()
        .method(method)
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {TOKEN}")));
    if let Some(b) = body {
        r = r
            .insert_header(("Content-Type", "application/geo+json"))
            .set_payload(b.to_string());
    }
    common::reply(&app, r.to_request()).await
}

fn segment(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Random writes on layer `layer` of `state`, mirrored in `items` (in layer order).
async fn write_randomly(state: &AppState, layer: &str, items: &mut Vec<Item>, rng: &mut StdRng) {
    for step in 0..300 {
        let n = 1000 + step;
        match rng.gen_range(0..10) {
            0..=3 => {
                let item = random_item(rng, Value::Null, n);
                let body = json!({"type": "Feature", "geometry": item.geometry, "properties": item.properties});
                let r = send(
                    state,
                    Method::POST,
                    &format!("/collections/{layer}/items"),
                    Some(body),
                )
                .await;
                assert_eq!(r.status, 201, "{}", r.text());
                items.push(Item {
                    id: r.json()["id"].clone(),
                    ..item
                });
            }
            4..=6 if !items.is_empty() => {
                let at = rng.gen_range(0..items.len());
                let item = random_item(rng, items[at].id.clone(), n);
                let body = json!({"type": "Feature", "geometry": item.geometry, "properties": item.properties});
                let uri = format!("/collections/{layer}/items/{}", segment(&item.id));
                let r = send(state, Method::PUT, &uri, Some(body)).await;
                assert_eq!(r.status, 200, "{}", r.text());
                items[at] = item;
            }
            _ if !items.is_empty() => {
                let at = rng.gen_range(0..items.len());
                let uri = format!("/collections/{layer}/items/{}", segment(&items[at].id));
                let r = send(state, Method::DELETE, &uri, None).await;
                assert_eq!(r.status, 204, "{}", r.text());
                items.remove(at);
            }
            _ => {}
        }
    }
}

/// The read requests compared between the written layer and the fresh one.
fn reads(layer: &str, items: &[Item], rng: &mut StdRng) -> Vec<String> {
    let mut uris = vec![
        format!("/collections/{layer}/items?limit=10000"),
        format!("/collections/{layer}/items?limit=7&offset=13"),
        format!("/collections/{layer}/items/123456789"),
    ];
    uris.extend(
        items
            .iter()
            .map(|i| format!("/collections/{layer}/items/{}", segment(&i.id))),
    );
    for _ in 0..20 {
        let (x, y) = (rng.gen_range(65.5..70.5), rng.gen_range(31.5..36.5));
        let (w, h) = (rng.gen_range(0.1..2.0), rng.gen_range(0.1..2.0));
        uris.push(format!(
            "/collections/{layer}/items?bbox={x},{y},{},{}&limit=10000",
            x + w,
            y + h
        ));
        let km = rng.gen_range(1..120);
        uris.push(format!(
            "/collections/{layer}/radius?coords=POINT({x}%20{y})&within={km}&limit=10000"
        ));
        uris.push(format!(
            "/collections/{layer}/nearest?coords=POINT({x}%20{y})&limit=9"
        ));
    }
    uris
}

async fn assert_same(written: &AppState, fresh: &AppState, uris: &[String], when: &str) {
    for uri in uris {
        let (a, b) = (
            send(written, Method::GET, uri, None).await,
            send(fresh, Method::GET, uri, None).await,
        );
        assert_eq!(a.status, b.status, "{when}: {uri}");
        if a.status == 200 {
            assert_eq!(a.json(), b.json(), "{when}: {uri}");
        }
    }
}

#[actix_web::test]
async fn random_writes_answer_as_the_same_features_loaded_fresh() {
    let mut rng = StdRng::seed_from_u64(2026);
    let dir = tempfile::tempdir().unwrap();
    // `named`: string ids (a map of ids); `numbered`: ids 1, 2, 3, ... (ordinal).
    let mut named: Vec<Item> = (0..150)
        .map(|k| random_item(&mut rng, json!(format!("s-{k}")), k))
        .collect();
    let mut numbered: Vec<Item> = (1..=150)
        .map(|k| random_item(&mut rng, json!(k), k))
        .collect();
    let (named_file, numbered_file) = (
        dir.path().join("named.geojson"),
        dir.path().join("numbered.geojson"),
    );
    std::fs::write(&named_file, collection(&named, true)).unwrap();
    std::fs::write(&numbered_file, collection(&numbered, false)).unwrap();
    let files = [
        ("named", named_file.as_path()),
        ("numbered", numbered_file.as_path()),
    ];
    let written = open(config(dir.path(), &files, true));
    write_randomly(&written, "named", &mut named, &mut rng).await;
    write_randomly(&written, "numbered", &mut numbered, &mut rng).await;

    let fresh_dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        fresh_dir.path().join("named.geojson"),
        fresh_dir.path().join("numbered.geojson"),
    );
    std::fs::write(&a, collection(&named, true)).unwrap();
    std::fs::write(&b, collection(&numbered, true)).unwrap();
    let fresh = open(config(
        fresh_dir.path(),
        &[("named", a.as_path()), ("numbered", b.as_path())],
        true,
    ));

    let mut uris = reads("named", &named, &mut rng);
    uris.extend(reads("numbered", &numbered, &mut rng));
    assert_same(&written, &fresh, &uris, "live").await;
    drop(written);
    let restarted = open(config(dir.path(), &files, true));
    assert_same(&restarted, &fresh, &uris, "after a restart").await;
}
