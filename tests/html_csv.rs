//! The HTML and CSV faces through the real router: escaping of user values, formula
//! injection, and the CSV read back with the `csv` crate against the GeoJSON.
#![allow(clippy::unwrap_used)]

mod common;

use common::get_with;
use serde_json::Value;

fn fixture() -> (std::path::PathBuf, khorasan_atlas::http::AppState) {
    let dir = std::env::temp_dir().join(format!("atlas-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.geojson");
    let doc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a\"<>&", "geometry": {"type": "Point", "coordinates": [66.5, 34.25]},
         "properties": {"name": "<script>alert(1)</script>", "n": -3.5, "tags": ["x", "y"]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [67.0, 35.0]},
         "properties": {"name": "=HYPERLINK(\"http://e\")", "n": 2}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [68.0, 36.0]},
         "properties": {"name": "-x", "n": 1}},
    ]});
    std::fs::write(&file, doc.to_string()).unwrap();
    let state = common::state_from_toml(&format!(
        "[[layers]]\nid = \"x\"\nfile = {:?}\n",
        file.display().to_string()
    ));
    (dir, state)
}

#[actix_web::test]
async fn html_pages_escape_user_values() {
    let (dir, state) = fixture();
    for uri in [
        "/collections/x/items?f=html",
        "/collections/x/items?limit=1",
    ] {
        let reply = get_with(&state, uri, &[("accept", "text/html")]).await;
        assert_eq!(reply.status, 200, "{uri}");
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let html = reply.text();
        assert!(!html.contains("<script>alert"), "{uri}: {html}");
        if uri.contains("f=html") {
            assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
        }
    }
    let json = get_with(&state, "/collections/x/items", &[]).await;
    assert!(json.header("content-type").unwrap().contains("json"));
    let bad = get_with(&state, "/collections/x/items?f=xml", &[]).await;
    assert_eq!(bad.status, 400);
    std::fs::remove_dir_all(&dir).ok();
}

#[actix_web::test]
async fn csv_reads_back_as_the_geojson_with_formulas_defused() {
    let (dir, state) = fixture();
    let geo = get_with(&state, "/collections/x/items", &[]).await.json();
    let reply = get_with(&state, "/collections/x/items?f=csv", &[]).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        reply.header("ogc-numbermatched"),
        Some(geo["numberMatched"].to_string().as_str())
    );
    let mut rd = csv::Reader::from_reader(reply.body.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header.first().map(String::as_str), Some("id"));
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(rows.len(), features.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, f) in rows.iter().zip(features) {
        let id = f["id"]
            .as_str()
            .map_or_else(|| f["id"].to_string(), str::to_owned);
        assert_eq!(row[col("id")], id);
        let name = f["properties"]["name"].as_str().unwrap();
        let expected = if name.starts_with(['=', '+', '-', '@']) {
            format!("'{name}")
        } else {
            name.to_owned()
        };
        assert_eq!(row[col("name")], expected);
        let n: f64 = row[col("n")].parse().unwrap();
        assert_eq!(Value::from(n).as_f64(), f["properties"]["n"].as_f64());
        let c = &f["geometry"]["coordinates"];
        assert_eq!(
            row[col("lon")].parse::<f64>().unwrap(),
            c[0].as_f64().unwrap()
        );
        assert_eq!(
            row[col("lat")].parse::<f64>().unwrap(),
            c[1].as_f64().unwrap()
        );
        assert!(row[col("geometry")].starts_with("POINT"));
    }
    let paged = get_with(&state, "/collections/x/items?f=csv&limit=1", &[]).await;
    assert!(paged.header("link").unwrap().contains("rel=\"next\""));
    std::fs::remove_dir_all(&dir).ok();
}
