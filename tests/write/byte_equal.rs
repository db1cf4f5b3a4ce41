//! A feature's fields come back in the same order whatever the history of writes.

use super::*;

/// A feature serializes to the same bytes after a restart whatever the order in which
/// writes introduced its fields (here `updated` before `created`).
#[actix_web::test]
async fn field_order_does_not_depend_on_the_history_of_writes() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state.clone())).await;
    let mut shipped = call(
        &app,
        req(Method::GET, "/collections/incidents/items/iskp-010"),
    )
    .await
    .json();
    shipped["properties"]["zz_note"] = json!("added first");
    let r = call(
        &app,
        req(Method::PUT, "/collections/incidents/items/iskp-010")
            .auth()
            .body(shipped.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut v = incident("Fields");
    v["properties"]["aa_note"] = json!("added later");
    v["properties"]["zz_note"] = json!("z");
    let created = call(&app, post(&v)).await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_u64().unwrap();
    let got = call(
        &app,
        req(Method::GET, &format!("/collections/incidents/items/{id}")),
    )
    .await
    .text();
    let edited = call(
        &app,
        req(Method::GET, "/collections/incidents/items/iskp-010"),
    )
    .await
    .text();
    drop(app);
    drop(state);
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state)).await;
    let again = call(
        &app,
        req(Method::GET, &format!("/collections/incidents/items/{id}")),
    )
    .await
    .text();
    assert_eq!(again, got);
    assert!(
        got.starts_with(&created.text()[..created.body.len() - 1]),
        "GET = ack + links"
    );
    let edited_again = call(
        &app,
        req(Method::GET, "/collections/incidents/items/iskp-010"),
    )
    .await
    .text();
    assert_eq!(edited_again, edited);
}
