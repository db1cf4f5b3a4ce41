//! What a client writes comes back as written: altitude, and no location at all.

use super::*;

/// The incidents layer with the geometry rules of `geometry` (empty: any, and `null`).
fn config_with_geometry(dir: &Path, geometry: &str) -> RawConfig {
    let mut raw = raw_config(dir);
    for layer in raw.layers.iter_mut().filter(|l| l.id == "incidents") {
        layer.write.geometry = serde_json::from_str(geometry).expect("geometry rules in the test");
        layer.write.max_vertices = None;
    }
    raw
}

async fn get_json<S, B>(app: &S, uri: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = call(app, req(Method::GET, uri)).await;
    assert_eq!(r.status, 200, "{uri}: {}", r.text());
    r.json()
}

#[actix_web::test]
async fn altitude_survives_create_replace_listing_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    let mut body = incident("With an altitude");
    body["geometry"]["coordinates"] = json!([69.1723, 34.5281, 1791.5]);
    let r = call(&app, post(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["geometry"], body["geometry"]);
    let item = local(r.header("location").unwrap());
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(get_json(&app, &item).await["geometry"], body["geometry"]);

    // Queries use the 2-D position: a 1 km radius around it finds it, with its altitude.
    let near = get_json(
        &app,
        "/collections/incidents/radius?coords=POINT(69.1723%2034.5281)&within=1&within-units=km",
    )
    .await;
    let found: Vec<&Value> = near["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == created["id"])
        .collect();
    assert_eq!(found.len(), 1, "{near}");
    assert_eq!(found[0]["geometry"], body["geometry"]);

    let mut edit = body.clone();
    edit["geometry"]["coordinates"] = json!([69.18, 34.53, -12]);
    let r = call(
        &app,
        req(Method::PUT, &item)
            .auth()
            .header("If-Match", &etag)
            .body(edit.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["geometry"], edit["geometry"]);
    drop(app);

    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    assert_eq!(
        get_json(&app, &item).await["geometry"],
        edit["geometry"],
        "the store keeps the altitude across a restart"
    );
}

#[actix_web::test]
async fn a_feature_without_location_is_kept_where_the_layer_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points");
    let app = test::init_service(http::app(common::open_writable(config_with_geometry(
        &points,
        r#"["Point"]"#,
    ))))
    .await;
    let mut body = incident("Place not reported");
    body["geometry"] = Value::Null;
    let r = call(&app, post(&body)).await;
    assert_eq!(r.status, 400, "a layer of points needs a location");
    assert!(r.problem().contains("geometry"), "{}", r.text());
    drop(app);

    let any = dir.path().join("any");
    let state = common::open_writable(config_with_geometry(&any, "[]"));
    let app = test::init_service(http::app(state.clone())).await;
    let before = get_json(&app, "/collections/incidents/items?limit=1").await["numberMatched"]
        .as_u64()
        .unwrap();
    let r = call(&app, post(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["geometry"], Value::Null);
    let item = local(r.header("location").unwrap());
    assert_eq!(get_json(&app, &item).await["geometry"], Value::Null);
    let after = get_json(&app, "/collections/incidents/items?limit=1").await["numberMatched"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before + 1, "listed and counted");
    let spatial = get_json(
        &app,
        "/collections/incidents/items?bbox=-180,-90,180,90&limit=1",
    )
    .await["numberMatched"]
        .as_u64()
        .unwrap();
    assert_eq!(spatial, before, "in no spatial query");
    drop(app);
    drop(state);

    let app = test::init_service(http::app(common::open_writable(config_with_geometry(
        &any, "[]",
    ))))
    .await;
    assert_eq!(get_json(&app, &item).await["geometry"], Value::Null);
}

/// The coordinates of a served point feature, each read from its text by the standard
/// library (not by the serde_json that wrote or read them on the server).
fn coordinates_of(body: &[u8]) -> Vec<f64> {
    let point = common::point_text(body);
    point
        .coordinates
        .iter()
        .map(|t| common::number(t))
        .collect()
}

#[actix_web::test]
async fn coordinates_at_full_precision_survive_create_reading_and_a_restart() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(4326);
    let dir = tempfile::tempdir().unwrap();
    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    let mut written = Vec::new();
    for i in 0..40 {
        let (lon, lat): (f64, f64) = (rng.gen_range(61.0..71.0), rng.gen_range(29.0..38.0));
        // The shortest text that reads back as the double, or 17 decimals.
        let texts = if i % 2 == 0 {
            [format!("{lon:?}"), format!("{lat:?}")]
        } else {
            [format!("{lon:.17}"), format!("{lat:.17}")]
        };
        let body = incident(&format!("Precise {i}"))
            .to_string()
            .replace("[69.1723,34.5281]", &format!("[{},{}]", texts[0], texts[1]));
        assert!(body.contains(&texts[0]), "{body}");
        let r = call(&app, post_text(body)).await;
        assert_eq!(r.status, 201, "{}", r.text());
        let expected: Vec<f64> = texts.iter().map(|t| common::number(t)).collect();
        assert_eq!(coordinates_of(&r.body), expected, "{} {texts:?}", r.text());
        written.push((local(r.header("location").unwrap()), expected));
    }
    for (item, expected) in &written {
        let r = call(&app, req(Method::GET, item)).await;
        assert_eq!(r.status, 200, "{item}: {}", r.text());
        assert_eq!(coordinates_of(&r.body), *expected, "{item}: {}", r.text());
    }
    drop(app);

    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    for (item, expected) in &written {
        let r = call(&app, req(Method::GET, item)).await;
        assert_eq!(r.status, 200, "{item}: {}", r.text());
        assert_eq!(
            coordinates_of(&r.body),
            *expected,
            "after a restart, {item}: {}",
            r.text()
        );
    }
}
