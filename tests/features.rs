//! OGC API - Features behaviour of the default atlas, through the real router.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{atlas, get, get_with, request};
use serde_json::Value;

/// The ids of a page as JSON text (a string id keeps its quotes).
fn ids(page: &Value) -> Vec<String> {
    page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["id"].is_string() || f["id"].is_u64(), "{}", f["id"]);
            f["id"].to_string()
        })
        .collect()
}

fn next_link(page: &Value) -> Option<String> {
    page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .map(|l| l["href"].as_str().unwrap().to_owned())
}

/// Path and query of an absolute link.
fn local(href: &str) -> String {
    let rest = href.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

fn source_features(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("geodata/{file}")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["features"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn landing_conformance_and_collections_describe_the_atlas() {
    let landing = get("/").await;
    assert_eq!(landing.status, 200);
    let rels: Vec<String> = landing.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap().to_owned())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(
            rels.contains(&rel.to_owned()),
            "{rel} missing from {rels:?}"
        );
    }
    let conf = get("/conformance").await.json();
    assert!(conf["conformsTo"].as_array().unwrap().iter().any(|c| {
        c.as_str()
            .unwrap()
            .ends_with("ogcapi-features-1/1.0/conf/core")
    }));
    let cols = get("/collections").await.json();
    let ids: Vec<&str> = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "incidents",
            "provinces",
            "khorasan",
            "wilayat_khorasan",
            "operating_provinces",
            "countries",
            "countries_region",
            "places"
        ]
    );
    let incidents = get("/collections/incidents").await.json();
    let interval = &incidents["extent"]["temporal"]["interval"][0];
    // The extent is that of the source file's dates (whole days).
    let mut dates: Vec<String> = source_features("incidents.geojson")
        .iter()
        .map(|f| f["properties"]["date"].as_str().unwrap().to_owned())
        .collect();
    dates.sort();
    assert_eq!(interval[0], format!("{}T00:00:00Z", dates[0]));
    assert_eq!(interval[1], format!("{}T23:59:59Z", dates[dates.len() - 1]));
    let bbox = incidents["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap();
    assert_eq!(bbox.len(), 4);
}

#[actix_web::test]
async fn paging_follows_next_links_to_every_feature_exactly_once() {
    let incidents = source_features("incidents.geojson").len();
    for (layer, expected) in [
        ("incidents", incidents),
        ("places", 1027),
        ("countries", 251),
    ] {
        let mut seen = HashSet::new();
        let mut uri = format!("/collections/{layer}/items?limit=40");
        let mut pages = 0;
        loop {
            let page = get(&uri).await.json();
            assert_eq!(page["numberMatched"], expected, "{layer}");
            assert_eq!(
                page["numberReturned"].as_u64().unwrap() as usize,
                page["features"].as_array().unwrap().len()
            );
            for id in ids(&page) {
                assert!(seen.insert(id.clone()), "{layer}: id {id} returned twice");
            }
            pages += 1;
            match next_link(&page) {
                Some(href) => uri = local(&href),
                None => break,
            }
        }
        assert_eq!(seen.len(), expected, "{layer}");
        assert_eq!(pages, expected.div_ceil(40), "{layer}");
    }
}

#[actix_web::test]
async fn default_and_maximum_limits() {
    let page = get("/collections/places/items").await.json();
    assert_eq!(page["numberReturned"], 10);
    let page = get("/collections/places/items?limit=10000").await.json();
    assert_eq!(page["numberReturned"], 1027);
    assert!(next_link(&page).is_none());
}

#[actix_web::test]
async fn datetime_filters_match_a_scan_of_the_source_file() {
    let source = source_features("incidents.geojson");
    let count = |pred: &dyn Fn(&str) -> bool| {
        source
            .iter()
            .filter(|f| pred(f["properties"]["date"].as_str().unwrap()))
            .count()
    };
    let cases: Vec<(&str, usize)> = vec![
        ("2021-08-26", count(&|d| d == "2021-08-26")),
        ("2022-01-01/2022-12-31", count(&|d| d.starts_with("2022"))),
        ("../2016-12-31", count(&|d| d <= "2016-12-31")),
        ("2024-01-01/..", count(&|d| d >= "2024-01-01")),
        (
            "2021-08-26T10:00:00Z/2021-08-26T11:00:00Z",
            count(&|d| d == "2021-08-26"),
        ),
    ];
    for (datetime, expected) in cases {
        assert!(expected > 0, "{datetime}: fixture should match something");
        let page = get(&format!(
            "/collections/incidents/items?limit=1000&datetime={datetime}"
        ))
        .await
        .json();
        assert_eq!(
            page["numberMatched"].as_u64().unwrap() as usize,
            expected,
            "{datetime}"
        );
    }
}

#[actix_web::test]
async fn equality_filters_sorting_and_property_selection() {
    let source = source_features("incidents.geojson");
    let attributed = source
        .iter()
        .filter(|f| f["properties"]["responsibility"] == "attributed")
        .count();
    let page = get("/collections/incidents/items?responsibility=attributed")
        .await
        .json();
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, attributed);

    let sorted =
        get("/collections/incidents/items?limit=1000&sortby=-deaths&properties=deaths,title")
            .await
            .json();
    let deaths: Vec<Option<i64>> = sorted["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["deaths"].as_i64())
        .collect();
    let known: Vec<i64> = deaths.iter().flatten().copied().collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "not descending");
    assert_eq!(deaths.last().unwrap(), &None, "nulls sort last");
    let props = sorted["features"][0]["properties"].as_object().unwrap();
    let keys: HashSet<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["deaths", "title"]));

    let kabul = get("/collections/incidents/items?limit=1000&province=Kabul")
        .await
        .json();
    let n = kabul["numberMatched"].as_u64().unwrap();
    assert!(n > 10, "Kabul province has many attacks, got {n}");
}

#[actix_web::test]
async fn bbox_filters_match_a_scan_of_the_source_file() {
    let source = source_features("populated_places.geojson");
    let (w, s, e, n) = (66.0, 32.0, 71.5, 36.0);
    let expected = source
        .iter()
        .filter(|f| {
            let c = &f["geometry"]["coordinates"];
            let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            (w..=e).contains(&x) && (s..=n).contains(&y)
        })
        .count();
    let page = get(&format!(
        "/collections/places/items?limit=10000&bbox={w},{s},{e},{n}"
    ))
    .await
    .json();
    assert_eq!(page["numberMatched"].as_u64().unwrap() as usize, expected);
    assert!(expected > 20);
}

#[actix_web::test]
async fn features_by_numeric_and_source_id() {
    let first = get("/collections/incidents/items/iskp-001").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("application/geo+json"));
    let f = first.json();
    assert_eq!(f["properties"]["id"], "iskp-001");
    assert_eq!(
        f["id"], "iskp-001",
        "a string id is served as the source gave it"
    );
    let key = khorasan_atlas::catalog::load::string_id("iskp-001");
    let again = get(&format!("/collections/incidents/items/{key}"))
        .await
        .json();
    assert_eq!(again["properties"]["title"], f["properties"]["title"]);
    assert_eq!(again["id"], "iskp-001");
    assert_eq!(
        get("/collections/incidents/items/999999999").await.status,
        404
    );
    assert_eq!(
        get("/collections/incidents/items/..%2F..%2Fetc%2Fpasswd")
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn joins_give_incidents_a_province_and_provinces_a_count() {
    let incidents = get("/collections/incidents/items?limit=1000").await.json();
    let with_province = incidents["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["province"].is_string())
        .count();
    let provinces = get("/collections/provinces/items?limit=1000").await.json();
    let total: u64 = provinces["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["incident_count"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, with_province);
    // Af + Pk incidents: every one should fall in a province (85 in the source).
    assert!(with_province >= 80, "{with_province}");
    let crocus = get("/collections/incidents/items?limit=10&country_iso_a3=RUS")
        .await
        .json();
    // The country join agrees with the country code the source records.
    let in_russia = source_features("incidents.geojson")
        .iter()
        .filter(|f| f["properties"]["country_iso_a2"] == "RU")
        .count();
    assert_eq!(
        crocus["numberMatched"].as_u64().unwrap() as usize,
        in_russia
    );
    assert_eq!(in_russia, 1);
}

#[actix_web::test]
async fn etags_compression_and_cors() {
    let first = get("/collections/incidents/items?limit=5").await;
    let etag = first.header("etag").unwrap().to_owned();
    assert!(first.header("cache-control").unwrap().contains("max-age"));
    let state = common::atlas();
    let again = get_with(
        &state,
        "/collections/incidents/items?limit=5",
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let gz = get_with(
        &state,
        "/collections/countries/items?limit=100",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let br = get_with(
        &state,
        "/collections/countries/items?limit=100",
        &[("Accept-Encoding", "br")],
    )
    .await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let cors = get_with(&state, "/collections", &[("Origin", "http://example.org")]).await;
    assert!(cors.header("access-control-allow-origin").is_some());
}

/// The request headers named by `Vary` in `reply`, lower-cased, from every `Vary` line.
fn vary_of(reply: &common::Reply) -> Vec<String> {
    reply
        .headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

#[actix_web::test]
async fn answers_vary_by_origin_and_coding_once_each() {
    let state = common::atlas();
    let preflight = common::request(
        &state,
        actix_web::http::Method::OPTIONS,
        "/collections/incidents/items",
        &[
            ("Origin", "http://example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    )
    .await;
    let cases = [
        // A compressed page, the same page as it is, a small document, an HTML page (which
        // varies by `Accept` too), a refusal, and a preflight.
        get_with(
            &state,
            "/collections/countries/items?limit=100",
            &[
                ("Accept-Encoding", "gzip"),
                ("Origin", "http://example.org"),
            ],
        )
        .await,
        get_with(&state, "/collections/countries/items?limit=100", &[]).await,
        get_with(&state, "/conformance", &[]).await,
        get_with(&state, "/collections", &[("Accept", "text/html")]).await,
        get_with(&state, "/collections/incidents/items?limit=x", &[]).await,
        preflight,
    ];
    for (i, reply) in cases.iter().enumerate() {
        let vary = vary_of(reply);
        for name in [
            "origin",
            "access-control-request-method",
            "access-control-request-headers",
        ] {
            let times = vary.iter().filter(|t| *t == name).count();
            assert_eq!(times, 1, "case {i}: {name} in {vary:?}");
        }
    }
    // Bodies the server may compress say so once, whether or not this one was.
    for reply in &cases[..2] {
        let vary = vary_of(reply);
        let times = vary.iter().filter(|t| *t == "accept-encoding").count();
        assert_eq!(times, 1, "{vary:?}");
    }
    assert_eq!(cases[0].header("content-encoding"), Some("gzip"));
    assert!(vary_of(&cases[3]).contains(&"accept".to_owned()));
}

#[actix_web::test]
async fn queryables_and_openapi_cover_the_routes() {
    let q = get("/collections/incidents/queryables").await.json();
    assert_eq!(q["properties"]["deaths"]["type"], "integer");
    assert_eq!(q["properties"]["responsibility"]["type"], "string");
    let api = get("/api").await;
    assert!(
        api.header("content-type")
            .unwrap()
            .starts_with("application/vnd.oai.openapi+json")
    );
    let doc = api.json();
    let routes = khorasan_atlas::http::ROUTES
        .iter()
        .chain(khorasan_atlas::http::tiles::TILE_ROUTES);
    for route in routes {
        assert!(
            doc["paths"].get(*route).is_some(),
            "route {route} is not in /api"
        );
    }
}

#[actix_web::test]
async fn bad_input_is_a_400_problem_naming_the_value() {
    let cases = [
        ("/collections/incidents/items?limit=0", "limit"),
        ("/collections/incidents/items?limit=-1", "limit"),
        ("/collections/incidents/items?limit=abc", "abc"),
        ("/collections/incidents/items?limit=1000000000", "limit"),
        ("/collections/incidents/items?offset=-3", "offset"),
        ("/collections/incidents/items?bbox=1,2,3", "bbox"),
        ("/collections/incidents/items?bbox=1,2,3,4,5", "bbox"),
        ("/collections/incidents/items?bbox=nan,0,1,1", "bbox"),
        ("/collections/incidents/items?bbox=inf,0,1,1", "bbox"),
        ("/collections/incidents/items?bbox=0,10,1,5", "south"),
        ("/collections/incidents/items?bbox=0,0,1,95", "bbox"),
        (
            "/collections/incidents/items?datetime=yesterday",
            "yesterday",
        ),
        (
            "/collections/incidents/items?datetime=2022-01-01/2021-01-01",
            "datetime",
        ),
        ("/collections/incidents/items?colour=red", "colour"),
        ("/collections/incidents/items?limit=1&limit=2", "limit"),
        ("/collections/incidents/items?deaths=many", "many"),
        ("/collections/incidents/items?sortby=nothing", "nothing"),
        ("/collections/incidents/items?properties=nothing", "nothing"),
        ("/collections/incidents/items?f=xml", "xml"),
        (
            "/collections/incidents/radius?coords=POINT(69)&within=5",
            "coords",
        ),
        (
            "/collections/incidents/radius?coords=69,34&within=5",
            "coords",
        ),
        (
            "/collections/incidents/radius?coords=POINT(69%2034)&within=0",
            "within",
        ),
        (
            "/collections/incidents/radius?coords=POINT(69%2034)&within=-5",
            "within",
        ),
        (
            "/collections/incidents/radius?coords=POINT(69%2034)&within=30000",
            "within",
        ),
        (
            "/collections/incidents/radius?coords=POINT(69%2034)&within=5&within-units=mi",
            "mi",
        ),
        (
            "/collections/incidents/radius?coords=POINT(69%2034)",
            "within",
        ),
        ("/collections/incidents/nearest?limit=3", "coords"),
        (
            "/collections/incidents/nearest?coords=POINT(69%2034)&limit=0",
            "limit",
        ),
    ];
    for (uri, needle) in cases {
        let r = get(uri).await;
        assert_eq!(r.status, 400, "{uri}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{uri}"
        );
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.contains(needle),
            "{uri}: {detail:?} should name {needle:?}"
        );
    }
    let unknown = get("/collections/nowhere/items").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(get("/no/such/path").await.status, 404);
    assert_eq!(get("/health").await.status, 200, "still serving");
}

#[actix_web::test]
async fn polygon_distances_are_zero_inside_and_positive_outside() {
    // Kabul city lies in Kabul province: distance 0, listed first.
    let page = get("/collections/provinces/radius?coords=POINT(69.17%2034.53)&within=100&limit=50")
        .await
        .json();
    let first = &page["features"][0];
    assert_eq!(first["properties"]["name"], "Kabul");
    assert_eq!(first["properties"]["distance_m"], 0.0);
    let d: Vec<f64> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]),
        "sorted nearest first: {d:?}"
    );
    assert!(d[1] > 0.0 && d.iter().all(|x| *x <= 100_000.0));
    // The nearest country to a point in the Arabian Sea is at a positive distance.
    let sea = get("/collections/countries/nearest?coords=POINT(64.0%2020.0)&limit=1")
        .await
        .json();
    let dist = sea["features"][0]["properties"]["distance_m"]
        .as_f64()
        .unwrap();
    assert!(dist > 50_000.0, "{dist}");
}

#[test]
fn feature_ids_are_stable_across_loads() {
    let load = || {
        let raw = khorasan_atlas::config::RawConfig::from_file(std::path::Path::new(
            "geodata/atlas.toml",
        ))
        .unwrap();
        let catalog =
            khorasan_atlas::catalog::Catalog::load(&raw.validate().unwrap().catalog()).unwrap();
        let ids: Vec<u64> = catalog
            .get("incidents")
            .unwrap()
            .snapshot()
            .features
            .iter()
            .map(|(_, f)| f.id)
            .collect();
        ids
    };
    let (a, b) = (load(), load());
    assert_eq!(a, b);
    assert_eq!(a[0], khorasan_atlas::catalog::load::string_id("iskp-001"));
}

#[actix_web::test]
async fn metrics_count_requests_and_layers() {
    let state = common::atlas();
    get_with(&state, "/collections/nowhere", &[]).await;
    let m = get_with(&state, "/metrics", &[]).await;
    assert_eq!(m.status, 200);
    let text = String::from_utf8(m.body).unwrap();
    let incidents = source_features("incidents.geojson").len();
    assert!(
        text.contains(&format!(
            "atlas_layer_features{{layer=\"incidents\"}} {incidents}"
        )),
        "{text}"
    );
    let fours: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("atlas_http_requests_total{class=\"4xx\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(fours >= 1);
}

#[actix_web::test]
async fn antimeridian_bbox_matches_points_on_both_sides() {
    let dir = std::env::temp_dir().join(format!("atlas-am-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("am.geojson");
    let point = |x: f64, y: f64| {
        format!(
            r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{x},{y}]}},"properties":{{}}}}"#
        )
    };
    let multi = r#"{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[170,30],[-170,30]]},"properties":{}}"#;
    let features = [
        point(179.5, 1.0),
        point(-179.5, -1.0),
        point(0.0, 0.0),
        point(175.0, 20.0),
        multi.to_owned(),
    ];
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let state = common::state_from_toml(&format!(
        "[[layers]]\nid = \"am\"\nfile = {:?}\n",
        file.display().to_string()
    ));
    let ids_in =
        |page: &Value| -> Vec<u64> { ids(page).iter().map(|s| s.parse().unwrap()).collect() };
    let page = get_with(&state, "/collections/am/items?bbox=179,-5,-179,5", &[])
        .await
        .json();
    assert_eq!(ids_in(&page), vec![1, 2]);
    // The MultiPoint's envelope spans the box, but none of its points is inside.
    let page = get_with(&state, "/collections/am/items?bbox=-10,25,10,35", &[])
        .await
        .json();
    assert_eq!(ids_in(&page), Vec::<u64>::new());
    let page = get_with(&state, "/collections/am/items?bbox=165,25,-165,35", &[])
        .await
        .json();
    assert_eq!(ids_in(&page), vec![5]);
    std::fs::remove_dir_all(&dir).ok();
}

#[actix_web::test]
async fn writable_layers_are_always_revalidated() {
    let incidents = get("/collections/incidents/items?limit=1").await;
    assert_eq!(incidents.header("cache-control"), Some("public, max-age=0"));
    let provinces = get("/collections/provinces/items?limit=1").await;
    assert_eq!(
        provinces.header("cache-control"),
        Some("public, max-age=0"),
        "counts change with incidents"
    );
    let places = get("/collections/places/items?limit=1").await;
    assert_eq!(places.header("cache-control"), Some("public, max-age=60"));
}

/// HEAD answers every read route with GET's status and headers (actix-http leaves the body
/// out on the wire; GDAL's /vsicurl/ depends on this, see tests/gdal/run.sh).
#[actix_web::test]
async fn head_has_the_headers_of_get() {
    let state = atlas();
    for uri in [
        "/",
        "/collections",
        "/collections/incidents",
        "/collections/incidents/items?limit=2",
        "/collections/incidents/items/iskp-001",
        "/tiles/countries",
        "/tiles/countries/0/0/0",
        "/collections/countries/tiles/WebMercatorQuad/0/0/0",
        "/tileMatrixSets/WebMercatorQuad",
        "/collections/nope",
        "/tiles/countries/40/0/0",
    ] {
        let got = get_with(&state, uri, &[]).await;
        let head = request(&state, actix_web::http::Method::HEAD, uri, &[]).await;
        assert_eq!(head.status, got.status, "HEAD {uri}");
        for name in ["content-type", "etag", "cache-control"] {
            assert_eq!(head.header(name), got.header(name), "HEAD {uri}: {name}");
        }
    }
    let patch = request(&state, actix_web::http::Method::PATCH, "/collections", &[]).await;
    assert!(
        patch.status >= 400,
        "PATCH /collections answered {}",
        patch.status
    );
}

#[actix_web::test]
async fn every_route_answers_an_undeclared_method_with_405_and_allow() {
    let state = atlas();
    let doc = get("/api").await.json();
    let routes = khorasan_atlas::http::ROUTES
        .iter()
        .chain(khorasan_atlas::http::tiles::TILE_ROUTES);
    for route in routes {
        // A concrete path of the route: every `{name}` becomes a collection id or a number.
        let path: String = route
            .split('/')
            .map(|seg| match seg {
                "{collectionId}" | "{tilesetId}" => "incidents",
                "{tileMatrixSetId}" => "WebMercatorQuad",
                s if s.starts_with('{') => "0",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let reply = request(&state, actix_web::http::Method::TRACE, &path, &[]).await;
        assert_eq!(reply.status, 405, "TRACE {path}");
        let allow = reply.header("allow").unwrap_or_default().to_owned();
        let declared: Vec<String> = doc["paths"][*route]
            .as_object()
            .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
            .unwrap_or_default();
        for method in declared.iter().map(String::as_str).chain(["HEAD"]) {
            assert!(
                allow.contains(method),
                "Allow of {path} is {allow:?}, not {method}"
            );
        }
    }
    let unknown = request(&state, actix_web::http::Method::TRACE, "/no/such/path", &[]).await;
    assert_eq!(unknown.status, 404);
    // Nor is a path under `/tiles` that no tile route has, whatever its method.
    for method in [actix_web::http::Method::GET, actix_web::http::Method::TRACE] {
        for path in ["/tiles/incidents/1/2/3/4", "/tiles/", "/tilesets"] {
            let reply = request(&state, method.clone(), path, &[]).await;
            assert_eq!(reply.status, 404, "{method} {path}");
        }
    }
    // Writes are off on the default atlas: /api describes no write operation.
    for item in doc["paths"].as_object().unwrap().values() {
        for method in ["post", "put", "delete", "patch"] {
            assert!(item.get(method).is_none());
        }
    }
}
