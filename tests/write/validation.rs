//! Bad writes get a 4xx naming the bad field, and change nothing.

use super::*;

#[actix_web::test]
async fn every_rejection_is_a_4xx_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let before = live_incidents(&state);
    let app = test::init_service(http::app(state.clone())).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = incident("v");
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "body"),
        (
            r#"{"type":"FeatureCollection","features":[]}"#.into(),
            "type",
        ),
        (with(&|v| v["geometry"] = Value::Null), "geometry"),
        (
            with(&|v| v["geometry"] = json!({"type":"LineString","coordinates":[[69,34],[70,35]]})),
            "geometry.type",
        ),
        (
            with(&|v| v["geometry"] = json!({"type":"Point","coordinates":[190,34]})),
            "geometry",
        ),
        (
            with(&|v| v["geometry"] = json!({"type":"Point","coordinates":[69]})),
            "geometry",
        ),
        (
            with(&|v| v["properties"]["date"] = json!("2026-13-01")),
            "properties.date",
        ),
        (
            with(&|v| v["properties"]["date"] = json!(20260203)),
            "properties.date",
        ),
        (
            with(&|v| {
                v["properties"].as_object_mut().unwrap().remove("date");
            }),
            "properties.date",
        ),
        (
            with(&|v| v["properties"]["deaths"] = json!(-1)),
            "properties.deaths",
        ),
        (
            with(&|v| v["properties"]["deaths"] = json!(2.5)),
            "properties.deaths",
        ),
        (
            with(&|v| {
                v["properties"].as_object_mut().unwrap().remove("deaths");
            }),
            "properties.deaths",
        ),
        (
            with(&|v| v["properties"]["injuries"] = json!("many")),
            "properties.injuries",
        ),
        (
            with(&|v| v["properties"]["sources"] = json!([])),
            "properties.sources",
        ),
        (
            with(&|v| v["properties"]["sources"] = json!("https://example.org")),
            "properties.sources",
        ),
        (
            with(&|v| {
                v["properties"]["sources"] = json!(["https://example.org", "file:///etc/passwd"])
            }),
            "properties.sources[1]",
        ),
        (
            with(&|v| v["properties"]["title"] = json!("")),
            "properties.title",
        ),
        (
            with(&|v| v["properties"]["responsibility"] = json!("rumoured")),
            "properties.responsibility",
        ),
        (
            with(&|v| v["properties"]["country_iso_a2"] = json!("AFG")),
            "properties.country_iso_a2",
        ),
        // Server-owned: the id, the source id property, joined and timestamp properties.
        (with(&|v| v["id"] = json!(123)), "id"),
        (
            with(&|v| v["properties"]["id"] = json!("iskp-999")),
            "properties.id",
        ),
        (
            with(&|v| v["properties"]["province"] = json!("Kabul")),
            "properties.province",
        ),
        (
            with(&|v| v["properties"]["created"] = json!("2020-01-01T00:00:00Z")),
            "properties.created",
        ),
        (
            with(&|v| v["properties"]["updated"] = json!("2020-01-01T00:00:00Z")),
            "properties.updated",
        ),
        (with(&|v| v["colour"] = json!("red")), "colour"),
    ];
    for (body, field) in &cases {
        let r = call(&app, post_text(body.clone())).await;
        assert_eq!(r.status, 400, "{field}: {}", r.text());
        let detail = r.problem();
        assert!(
            detail.contains(&format!(" {field}: ")),
            "{field} not named in {detail:?}"
        );
    }
    // Too large: 413, whether announced or streamed.
    let big = with(&|v| v["properties"]["notes"] = json!("x".repeat(9000)));
    let r = call(&app, post_text(big)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    r.problem();
    // Not GeoJSON by media type.
    let r = call(
        &app,
        req(Method::POST, "/collections/incidents/items")
            .auth()
            .body(incident("t").to_string())
            .header("Content-Type", "text/plain"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.problem().contains("Content-Type"));
    // A bad Idempotency-Key.
    let r = call(&app, post(&incident("k")).header("Idempotency-Key", "")).await;
    assert_eq!(r.status, 400);
    assert!(r.problem().contains("Idempotency-Key"));
    // PUT: an id member that is not the feature's, and a changed server-owned value.
    let mut v = incident("p");
    v["id"] = json!(12345);
    let r = call(
        &app,
        req(Method::PUT, "/collections/incidents/items/iskp-001")
            .auth()
            .body(v.to_string()),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.problem().contains(" id: "));
    let mut v = incident("p");
    v["properties"]["id"] = json!("iskp-777");
    let r = call(
        &app,
        req(Method::PUT, "/collections/incidents/items/iskp-001")
            .auth()
            .body(v.to_string()),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.problem().contains("properties.id"));
    let r = call(
        &app,
        req(Method::PUT, "/collections/incidents/items/999999")
            .auth()
            .body(incident("p").to_string()),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        &app,
        req(Method::DELETE, "/collections/incidents/items/999999").auth(),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        live_incidents(&state),
        before,
        "no rejected write changed anything"
    );
}
