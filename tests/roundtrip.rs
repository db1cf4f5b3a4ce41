//! What goes in comes out: every feature of `tests/fixtures/roundtrip.geojson` (every
//! RFC 7946 geometry type, null and empty geometries, altitudes, string and numeric ids,
//! numbers beyond 2^53) is served by `/items` and `/items/{id}` as the file wrote it. The
//! reference is the file read independently with serde_json.
#![allow(clippy::unwrap_used)]

mod common;

use common::{get_with, state_from_toml};
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/roundtrip.geojson";

/// The source features, read with serde_json (arbitrary numbers compared as text below).
fn source() -> Vec<Value> {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["features"].as_array().unwrap().clone()
}

/// The source text of every property value, as a JSON value re-read from its own text:
/// numbers compared by their decimal text where `f64` cannot hold them.
fn same_json(served: &Value, source: &Value) -> bool {
    match (served, source) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if a.is_f64() || b.is_f64() => x == y,
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => served == source,
    }
}

/// Path of `/items/{id}` for an id as the API shows it, percent-encoded.
fn item_path(id: &Value) -> String {
    let text = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
    let encoded: String = text
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/collections/rt/items/{encoded}")
}

fn check(served: &Value, source: &Value, position: usize) {
    match &source["id"] {
        Value::Null => assert_eq!(served["id"], position + 1, "generated id: {served}"),
        id => assert_eq!(&served["id"], id, "id of {source}"),
    }
    assert!(
        same_json(&served["geometry"], &source["geometry"]),
        "geometry: served {} source {}",
        served["geometry"],
        source["geometry"]
    );
    let empty = serde_json::json!({});
    let expected = if source["properties"].is_null() {
        &empty
    } else {
        &source["properties"]
    };
    assert!(
        same_json(&served["properties"], expected),
        "properties: served {} source {}",
        served["properties"],
        expected
    );
}

#[actix_web::test]
async fn every_feature_comes_back_as_the_file_wrote_it() {
    let state = state_from_toml(&format!("[[layers]]\nid = \"rt\"\nfile = {FIXTURE:?}\n"));
    let source = source();
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    for needle in ["12345678901234567890", "-9007199254740993", "1e-7"] {
        assert!(text.contains(needle), "the fixture holds {needle}");
    }

    let mut served = Vec::new();
    let mut uri = "/collections/rt/items?limit=4".to_owned();
    loop {
        let page = get_with(&state, &uri, &[]).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let body = page.json();
        assert_eq!(body["numberMatched"], source.len());
        served.extend(body["features"].as_array().unwrap().iter().cloned());
        // Big integers must come back as the same digits, not a rounded float.
        for needle in ["12345678901234567890", "123456789012345678901234567890"] {
            if page.text().contains("\"u64\"") {
                assert!(page.text().contains(needle), "{needle} in {}", page.text());
            }
        }
        let next = body["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_owned());
        match next {
            Some(href) => uri = href[href.find("/collections").unwrap()..].to_owned(),
            None => break,
        }
    }
    assert_eq!(served.len(), source.len(), "every feature is served once");
    for (i, (s, f)) in served.iter().zip(&source).enumerate() {
        check(s, f, i);
        let one = get_with(&state, &item_path(&s["id"]), &[]).await;
        assert_eq!(one.status, 200, "{} {}", item_path(&s["id"]), one.text());
        check(&one.json(), f, i);
    }

    // A numeric id is found by its decimal text; features without a geometry are in no
    // spatial answer.
    let seven = get_with(&state, "/collections/rt/items/7", &[])
        .await
        .json();
    assert_eq!(seven["id"], 7);
    let world = get_with(
        &state,
        "/collections/rt/items?bbox=-180,-90,180,90&limit=100",
        &[],
    )
    .await
    .json();
    let spatial = world["features"].as_array().unwrap();
    assert!(spatial.iter().all(|f| !f["geometry"].is_null()));
    let with_geometry = source
        .iter()
        .filter(|f| {
            let g = &f["geometry"];
            !g.is_null()
                && !g["coordinates"].as_array().is_some_and(Vec::is_empty)
                && !g["geometries"].as_array().is_some_and(Vec::is_empty)
        })
        .count();
    assert_eq!(spatial.len(), with_geometry);
}

/// A double's text in one of the forms files use: the shortest that reads back, 17
/// decimals, or exponent notation.
fn written(x: f64, form: usize) -> String {
    match form % 3 {
        0 => format!("{x:?}"),
        1 => format!("{x:.17}"),
        _ => format!("{x:e}"),
    }
}

#[actix_web::test]
async fn numbers_at_full_precision_come_back_as_the_same_doubles() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7946);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("precise.geojson");
    let mut written_texts = Vec::new();
    let mut features = Vec::new();
    for i in 0..600 {
        let texts: Vec<String> = [
            rng.gen_range(-180.0..180.0),
            rng.gen_range(-90.0..90.0),
            rng.gen_range(-500.0..9000.0),
            rng.gen_range(-1e6..1e6),
            rng.r#gen::<f64>(),
        ]
        .iter()
        .map(|&x| written(x, i))
        .collect();
        features.push(format!(
            r#"{{"type":"Feature","id":{},"geometry":{{"type":"Point","coordinates":[{},{},{}]}},"properties":{{"x":{},"y":{},"name":"f{i}"}}}}"#,
            i + 1,
            texts[0],
            texts[1],
            texts[2],
            texts[3],
            texts[4]
        ));
        written_texts.push(texts);
    }
    let doc = format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}",
        features.join(",\n")
    );
    std::fs::write(&path, doc).unwrap();
    let state = state_from_toml(&format!(
        "[server]\nmax_limit = 1000\n\n[[layers]]\nid = \"precise\"\nfile = {:?}\n",
        path.to_str().unwrap()
    ));
    let page = get_with(&state, "/collections/precise/items?limit=1000", &[]).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let served = common::point_texts(&page.body);
    assert_eq!(served.len(), written_texts.len());
    for (s, w) in served.iter().zip(&written_texts) {
        let coordinates: Vec<f64> = s.coordinates.iter().map(|t| common::number(t)).collect();
        let expected: Vec<f64> = w[..3].iter().map(|t| common::number(t)).collect();
        assert_eq!(coordinates, expected, "served {s:?}, written {w:?}");
        assert_eq!(
            common::number(&s.numbers["x"]),
            common::number(&w[3]),
            "{s:?} {w:?}"
        );
        assert_eq!(
            common::number(&s.numbers["y"]),
            common::number(&w[4]),
            "{s:?} {w:?}"
        );
    }
}
