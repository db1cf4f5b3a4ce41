//! CQL2 `filter` through the HTTP routes: items, radius, nearest, tiles and clusters. The
//! reference is the same route without the filter, filtered here on the returned JSON, or
//! the source GeoJSON read with serde_json.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{atlas, get, get_with};
use serde_json::Value;

/// `filter` URL-encoded.
fn enc(filter: &str) -> String {
    form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

/// The feature ids of a collection, as JSON text (ids are strings or numbers as the source
/// gave them).
fn ids(doc: &Value) -> Vec<String> {
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].to_string())
        .collect()
}

fn deaths_over(f: &Value, n: i64) -> bool {
    f["properties"]["deaths"].as_i64().is_some_and(|d| d > n)
}

#[actix_web::test]
async fn conformance_and_queryables_announce_the_filter() {
    let c = get("/conformance").await.json();
    let classes: Vec<&str> = c["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for class in [
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    ] {
        assert!(classes.contains(&class), "{class}");
    }
    let q = get("/collections/incidents/queryables").await.json();
    assert_eq!(q["properties"]["geometry"]["format"], "geometry-any");
    assert_eq!(q["properties"]["sources"]["type"], "array");
    // Every listed queryable can be named in a filter.
    for name in q["properties"].as_object().unwrap().keys() {
        let f = if name == "geometry" {
            "S_INTERSECTS(geometry, BBOX(60, 25, 75, 38))".to_owned()
        } else if name == "sources" {
            "A_OVERLAPS(sources, ('x'))".to_owned()
        } else {
            format!("{name} IS NULL")
        };
        let r = get(&format!("/collections/incidents/items?filter={}", enc(&f))).await;
        assert_eq!(r.status, 200, "{f}: {}", r.text());
    }
}

#[actix_web::test]
async fn items_match_the_source_file() {
    let text = std::fs::read_to_string("geodata/incidents.geojson").unwrap();
    let source: Value = serde_json::from_str(&text).unwrap();
    let want: BTreeSet<String> = source["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| deaths_over(f, 20) && f["properties"]["country_iso_a2"] == "AF")
        .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
        .collect();
    for (filter, lang) in [
        ("deaths > 20 AND country_iso_a2 = 'AF'", "cql2-text"),
        (
            r#"{"op":"and","args":[{"op":">","args":[{"property":"deaths"},20]},{"op":"=","args":[{"property":"country_iso_a2"},"AF"]}]}"#,
            "cql2-json",
        ),
    ] {
        let doc = get(&format!(
            "/collections/incidents/items?limit=1000&filter-lang={lang}&filter={}",
            enc(filter)
        ))
        .await
        .json();
        let got: BTreeSet<String> = doc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want, "{filter}");
        assert_eq!(doc["numberMatched"].as_u64(), Some(want.len() as u64));
    }
}

#[actix_web::test]
async fn radius_and_nearest_apply_the_filter() {
    let centre = "coords=POINT(69.17%2034.53)";
    let all = get(&format!(
        "/collections/incidents/radius?{centre}&within=300&limit=1000"
    ))
    .await
    .json();
    let want: Vec<String> = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| deaths_over(f, 10))
        .map(|f| f["id"].to_string())
        .collect();
    let filter = enc("deaths > 10");
    let got = get(&format!(
        "/collections/incidents/radius?{centre}&within=300&limit=1000&filter={filter}"
    ))
    .await
    .json();
    assert_eq!(ids(&got), want);
    let nearest = get(&format!(
        "/collections/incidents/nearest?{centre}&limit=3&filter={filter}"
    ))
    .await
    .json();
    assert_eq!(ids(&nearest), want[..3].to_vec());
}

#[actix_web::test]
async fn filtered_tiles_keep_the_matching_features_and_their_own_etag() {
    let state = atlas();
    let filter = enc("deaths > 20");
    // z10 over Kabul: past the cluster max zoom, so the unfiltered tile has every point.
    let plain = get_with(&state, "/tiles/incidents/10/708/407", &[]).await;
    let filtered = get_with(
        &state,
        &format!("/tiles/incidents/10/708/407?filter={filter}"),
        &[],
    )
    .await;
    assert_eq!(plain.status, 200);
    assert_eq!(filtered.status, 200, "{}", filtered.text());
    assert_ne!(plain.header("etag"), filtered.header("etag"));
    let again = get_with(
        &state,
        &format!("/tiles/incidents/10/708/407?filter={filter}"),
        &[],
    )
    .await;
    assert_eq!(again.header("x-tile-cache"), Some("hit"));
    assert_eq!(again.header("etag"), filtered.header("etag"));
    let tile_ids = |body: &[u8]| -> BTreeSet<u64> {
        let reader = mvt_reader::Reader::new(body.to_vec()).unwrap();
        reader
            .get_features_as::<f64>(0)
            .unwrap()
            .iter()
            .map(|f| f.id.unwrap())
            .collect()
    };
    // Each feature of the plain tile, found by its tile key (`/items/{key}`).
    let mut want = BTreeSet::new();
    for key in tile_ids(&plain.body) {
        let f = get_with(&state, &format!("/collections/incidents/items/{key}"), &[]).await;
        assert_eq!(f.status, 200, "tile key {key}");
        if deaths_over(&f.json(), 20) {
            want.insert(key);
        }
    }
    assert!(!want.is_empty());
    assert_eq!(tile_ids(&filtered.body), want);
    // The OGC route takes the filter too (row before column).
    let ogc = get_with(
        &state,
        &format!("/collections/incidents/tiles/WebMercatorQuad/10/407/708?filter={filter}"),
        &[],
    )
    .await;
    assert_eq!(ogc.header("etag"), filtered.header("etag"));
}

#[actix_web::test]
async fn clusters_count_only_matching_points() {
    let filter = enc("responsibility = 'claimed'");
    let doc = get(&format!(
        "/tiles/incidents/clusters?zoom=3&bbox=60,20,80,40&filter={filter}"
    ))
    .await
    .json();
    let items = get(&format!(
        "/collections/incidents/items?limit=1000&bbox=60,20,80,40&filter={filter}"
    ))
    .await
    .json();
    assert_eq!(doc["pointCount"], items["numberMatched"]);
}

#[actix_web::test]
async fn bad_filters_are_400_problems_naming_the_failure() {
    let cases = [
        ("deaths > 3 AND AND x < 2", "filter"),
        ("nope = 1", "nope"),
        ("S_INTERSECTS(geometry, POINT(1))", "filter"),
    ];
    for (filter, needle) in cases {
        for route in [
            "/collections/incidents/items?",
            "/collections/incidents/radius?coords=POINT(69%2034)&within=10&",
            "/tiles/incidents/5/22/12?",
            "/tiles/incidents/clusters?zoom=3&",
        ] {
            let r = get(&format!("{route}filter={}", enc(filter))).await;
            assert_eq!(r.status, 400, "{route} {filter}");
            let detail = r.problem();
            assert!(detail.contains(needle), "{route} {filter}: {detail}");
        }
    }
    // filter-lang or filter-crs without a filter is a 400 too, on every route.
    for route in [
        "/collections/incidents/items?",
        "/tiles/incidents/5/22/12?",
        "/collections/incidents/tiles/WebMercatorQuad/5/12/22?",
        "/tiles/incidents/clusters?zoom=3&",
    ] {
        for extra in ["filter-lang=AAA", "filter-lang=cql2-text", "filter-crs=x"] {
            let r = get(&format!("{route}{extra}")).await;
            assert_eq!(r.status, 400, "{route}{extra}");
            assert!(r.problem().contains("filter-"), "{route}{extra}");
        }
    }
    let crs = get("/collections/incidents/items?filter=deaths%3E1&filter-crs=EPSG:4326").await;
    assert_eq!(crs.status, 400);
    assert!(crs.problem().contains("filter-crs"));
}

#[actix_web::test]
async fn api_documents_the_filter_on_every_route_that_takes_it() {
    let api = get("/api").await.json();
    for path in [
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/radius",
        "/collections/{collectionId}/nearest",
        "/tiles/{tilesetId}/{z}/{x}/{y}",
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/tiles/{collectionId}/clusters",
        "/tiles/{collectionId}/clusters/{clusterId}/leaves",
    ] {
        let names: Vec<&str> = api["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has no parameters"))
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for name in ["filter", "filter-lang", "filter-crs"] {
            assert!(names.contains(&name), "{path} lacks {name}: {names:?}");
        }
    }
}

#[actix_web::test]
async fn csv_and_html_items_honour_the_filter() {
    let filter = enc("deaths > 20");
    let json = get(&format!(
        "/collections/incidents/items?limit=1000&filter={filter}"
    ))
    .await
    .json();
    let want = json["features"].as_array().unwrap().len();
    assert!(want > 0);
    let csv = get(&format!(
        "/collections/incidents/items?limit=1000&f=csv&filter={filter}"
    ))
    .await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    assert_eq!(reader.records().count(), want);
    let html = get(&format!(
        "/collections/incidents/items?limit=1000&f=html&filter={filter}"
    ))
    .await;
    assert_eq!(html.status, 200);
    for f in json["features"].as_array().unwrap() {
        let title = f["properties"]["title"].as_str().unwrap();
        let first_word = title.split(['<', '&', '"', '\'']).next().unwrap();
        assert!(html.text().contains(first_word), "{title}");
    }
    // The paging links keep the filter.
    let page = get(&format!(
        "/collections/incidents/items?limit=2&filter={filter}"
    ))
    .await
    .json();
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(next["href"].as_str().unwrap().contains("filter="), "{next}");
}

#[actix_web::test]
async fn items_link_header_names_the_formats_and_the_queryables() {
    let r = get("/collections/incidents/items?bbox=60,20,80,40&filter=deaths%3E1").await;
    let link = r.header("link").unwrap().to_owned();
    assert!(
        link.contains("/collections/incidents/queryables>; rel=\"http://www.opengis.net/def/rel/ogc/1.0/queryables\""),
        "{link}"
    );
    assert!(
        link.contains("rel=\"self\"; type=\"application/geo+json\""),
        "{link}"
    );
    assert!(
        link.contains("rel=\"alternate\"; type=\"text/csv\""),
        "{link}"
    );
    // Links are split at commas: the bbox's commas are percent-encoded, and each link keeps
    // the filter.
    let links: Vec<&str> = link.split(", ").collect();
    assert_eq!(links.len(), 4, "{link}");
    for l in &links[..3] {
        assert!(
            l.contains("bbox=60%2C20%2C80%2C40") && l.contains("filter="),
            "{l}"
        );
    }
}
