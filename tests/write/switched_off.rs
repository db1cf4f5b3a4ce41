//! Where writing is off: with no token configured writes are 405 and no store is created; read-only
//! layers and unsupported methods are 405 with `Allow`.

use super::*;

#[actix_web::test]
async fn without_a_token_writes_are_405_and_no_store_is_created() {
    if std::env::var(khorasan_atlas::store::access::TOKEN_ENV).is_ok() {
        eprintln!("SKIPPED: KHORASAN_WRITE_TOKEN is set in this environment");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut raw = raw_config(&data);
    raw.server.write_tokens_sha256.clear();
    let state = common::open_writable(raw);
    assert!(!state.writes.enabled());
    let app = test::init_service(http::app(state)).await;
    let r = call(&app, post(&incident("x"))).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert!(r.problem().contains("no write token"), "{}", r.text());
    let r = call(
        &app,
        req(Method::DELETE, "/collections/incidents/items/iskp-001").auth(),
    )
    .await;
    assert_eq!(r.status, 405);
    assert!(!data.exists(), "no data directory without writes");
    assert_eq!(
        call(
            &app,
            req(Method::GET, "/collections/incidents/items/iskp-001")
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn read_only_layers_and_other_methods_are_405_with_allow() {
    let dir = tempfile::tempdir().unwrap();
    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    for r in [
        req(Method::POST, "/collections/provinces/items")
            .auth()
            .body("{}"),
        req(Method::PUT, "/collections/provinces/items/1")
            .auth()
            .body("{}"),
        req(Method::DELETE, "/collections/provinces/items/1").auth(),
    ] {
        let provinces = r.uri.contains("provinces");
        let reply = call(&app, r).await;
        if provinces {
            assert_eq!(reply.status, 405, "{}", reply.text());
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
            assert!(reply.problem().contains("read-only"));
        }
    }
    let r = call(
        &app,
        req(Method::PATCH, "/collections/incidents/items").auth(),
    )
    .await;
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, HEAD, POST"))
    );
    let r = call(
        &app,
        req(Method::PATCH, "/collections/incidents/items/iskp-001").auth(),
    )
    .await;
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, HEAD, PUT, DELETE"))
    );
    let r = call(&app, req(Method::PATCH, "/collections/provinces/items/1")).await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    // /api describes the writes, on the collections that take them only.
    let doc = call(&app, req(Method::GET, "/api")).await.json();
    let items = &doc["paths"]["/collections/{collectionId}/items"];
    let item = &doc["paths"]["/collections/{collectionId}/items/{featureId}"];
    for op in [&items["post"], &item["put"], &item["delete"]] {
        assert_eq!(
            op["parameters"][0]["schema"]["enum"],
            serde_json::json!(["incidents"])
        );
    }
    let r = call(
        &app,
        req(Method::POST, "/collections/nowhere/items")
            .auth()
            .body("{}"),
    )
    .await;
    assert_eq!(r.status, 404);
}
