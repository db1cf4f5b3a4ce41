//! One incident's life: create, read, replace and delete with ETags, joins and a restart; an
//! idempotency key replays the first result.

use super::*;

#[actix_web::test]
async fn create_read_replace_delete_with_etags_joins_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let kabul = incident_count(&state, "Kabul");
    let generation = state
        .catalog
        .get("incidents")
        .unwrap()
        .snapshot()
        .generation;
    let app = test::init_service(http::app(state.clone())).await;

    // Create: 201, Location, ETag; the server sets id, join properties and timestamps.
    let r = call(&app, post(&incident("Created in a test"))).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(GEOJSON));
    let created = r.json();
    let id = created["id"].as_u64().unwrap();
    assert!(id < 1 << 32, "new ids are small: {id}");
    let location = r.header("location").unwrap().to_owned();
    assert!(
        location.ends_with(&format!("/collections/incidents/items/{id}")),
        "{location}"
    );
    let etag = r.header("etag").unwrap().to_owned();
    let props = &created["properties"];
    assert_eq!(props["title"], "Created in a test");
    assert_eq!(props["province"], "Kabul", "the join ran");
    assert!(props["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(props["created"], props["updated"]);
    assert!(props.get("id").is_none());
    assert_eq!(
        incident_count(&state, "Kabul"),
        kabul + 1,
        "province counts follow"
    );
    assert!(
        state
            .catalog
            .get("incidents")
            .unwrap()
            .snapshot()
            .generation
            > generation,
        "new generation: tile caches drop the layer"
    );

    // Read it back: the same feature and the same ETag.
    let r = call(&app, req(Method::GET, &local(&location))).await;
    assert_eq!(r.status, 200);
    assert_eq!(without_links(r.json()), created);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let page = call(
        &app,
        req(
            Method::GET,
            "/collections/incidents/items?title=Created%20in%20a%20test",
        ),
    )
    .await;
    assert_eq!(page.json()["numberMatched"], 1, "{}", page.text());

    // Replace: a stale If-Match is 412; the current one succeeds with a new ETag.
    let mut edit = incident("Edited in a test");
    edit["properties"]["deaths"] = json!(5);
    let put = |tag: &str| {
        req(Method::PUT, &local(&location))
            .auth()
            .header("If-Match", tag)
            .body(edit.to_string())
    };
    let r = call(&app, put("\"stale\"")).await;
    assert_eq!(r.status, 412, "{}", r.text());
    assert!(r.problem().contains(&etag), "the 412 says the current ETag");
    let r = call(&app, put(&format!("W/{etag}"))).await;
    assert_eq!(r.status, 412, "weak tags never match If-Match");
    let r = call(&app, put(&etag)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let replaced = r.json();
    let etag2 = r.header("etag").unwrap().to_owned();
    assert_ne!(etag2, etag);
    assert_eq!(replaced["id"], id);
    assert_eq!(replaced["properties"]["deaths"], 5);
    assert_eq!(
        replaced["properties"]["created"], created["properties"]["created"],
        "created is kept"
    );
    let r = call(&app, put(&etag)).await;
    assert_eq!(r.status, 412, "the old ETag is stale now");

    // Edit a shipped incident by sending back what GET returned (links, joined and
    // server-owned properties included); its source id property is kept.
    let r = call(
        &app,
        req(Method::GET, "/collections/incidents/items/iskp-002"),
    )
    .await;
    let shipped_etag = r.header("etag").unwrap().to_owned();
    let mut shipped = r.json();
    shipped["properties"]["deaths"] = json!(1000);
    let r = call(
        &app,
        req(Method::PUT, "/collections/incidents/items/iskp-002")
            .auth()
            .header("If-Match", &shipped_etag)
            .body(shipped.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let edited_shipped = r.json();
    assert_eq!(edited_shipped["properties"]["deaths"], 1000);
    assert_eq!(edited_shipped["properties"]["id"], "iskp-002");

    // Delete a shipped incident: If-Match * passes; then it is gone.
    let r = call(
        &app,
        req(Method::DELETE, "/collections/incidents/items/iskp-003")
            .auth()
            .header("If-Match", "*"),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        call(
            &app,
            req(Method::GET, "/collections/incidents/items/iskp-003")
        )
        .await
        .status,
        404
    );
    let r = call(
        &app,
        req(Method::DELETE, "/collections/incidents/items/iskp-003").auth(),
    )
    .await;
    assert_eq!(r.status, 404);

    // Delete the created one with a stale, then the current ETag.
    let del = |tag: &str| {
        req(Method::DELETE, &local(&location))
            .auth()
            .header("If-Match", tag)
    };
    assert_eq!(call(&app, del(&etag)).await.status, 412);
    assert_eq!(call(&app, del(&etag2)).await.status, 204);
    assert_eq!(
        incident_count(&state, "Kabul"),
        kabul,
        "counts follow deletes"
    );

    // A new create never reuses the deleted id.
    let r = call(&app, post(&incident("After the delete"))).await;
    let id2 = r.json()["id"].as_u64().unwrap();
    assert!(id2 > id, "{id2} after {id}");
    let after_body = r.json();

    // Restart on the same store: everything acknowledged is there, byte for byte.
    drop(app);
    let body_of = |state: &AppState, fid: &str| {
        let layer = state.catalog.get("incidents").unwrap().snapshot();
        layer
            .find(fid)
            .map(|f| khorasan_atlas::store::feature_body(&layer, f))
    };
    let before_restart = (
        body_of(&state, "iskp-002"),
        body_of(&state, &id2.to_string()),
    );
    drop(state);
    let state = common::open_writable(raw_config(dir.path()));
    assert_eq!(
        body_of(&state, "iskp-003"),
        None,
        "an acknowledged delete stays deleted"
    );
    assert_eq!(body_of(&state, &id.to_string()), None);
    assert_eq!(
        (
            body_of(&state, "iskp-002"),
            body_of(&state, &id2.to_string())
        ),
        before_restart
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body_of(&state, &id2.to_string()).unwrap()).unwrap(),
        after_body
    );
    let app = test::init_service(http::app(state.clone())).await;
    let r = call(&app, post(&incident("After the restart"))).await;
    assert!(
        r.json()["id"].as_u64().unwrap() > id2,
        "ids are not reused after a restart"
    );
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state.clone())).await;
    let before = live_incidents(&state);
    let body = incident("Idempotent");
    let first = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
    assert_eq!(first.status, 201);
    let again = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(live_incidents(&state), before + 1);
    // The same key with another body is a conflict; another key is another feature.
    let r = call(
        &app,
        post(&incident("Something else")).header("Idempotency-Key", "key-1"),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.problem().contains("Idempotency-Key"));
    // Concurrent retries of one key: one feature.
    let app = std::rc::Rc::new(app);
    let tries = (0..8).map(|_| {
        let app = app.clone();
        let body = incident("Concurrent");
        async move { call(&*app, post(&body).header("Idempotency-Key", "key-2")).await }
    });
    let replies = futures_util::future::join_all(tries).await;
    let ids: std::collections::HashSet<u64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(live_incidents(&state), before + 2);
    // And after a restart the key still replays.
    drop(app);
    drop(state);
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state.clone())).await;
    let r = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
    assert_eq!((r.status, r.body.clone()), (201, first.body));
    assert_eq!(live_incidents(&state), before + 2);
}

#[actix_web::test]
async fn writes_in_separate_batches_share_equal_string_values() {
    use khorasan_atlas::catalog::Prop;
    use khorasan_atlas::catalog::model::ArcStr;
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state.clone())).await;
    // Each create is acknowledged before the next is sent: two batches.
    let mut ids = Vec::new();
    for title in ["First of two", "Second of two"] {
        let r = call(&app, post(&incident(title))).await;
        assert_eq!(r.status, 201, "{}", r.text());
        ids.push(r.json()["id"].as_u64().unwrap());
    }
    let layer = state.catalog.get("incidents").unwrap().snapshot();
    let strings = |field: &str| -> Vec<ArcStr> {
        let at = layer.field_index(field).unwrap();
        ids.iter()
            .map(|&id| match &layer.feature(id).unwrap().props[at] {
                Prop::Str(s) => s.clone(),
                other => panic!("{field}: {other:?}"),
            })
            .collect()
    };
    for (field, value) in [("place", "Kabul"), ("responsibility", "claimed")] {
        let values = strings(field);
        assert_eq!(&*values[0], value);
        assert!(ArcStr::ptr_eq(&values[0], &values[1]), "{field}");
    }
    let titles = strings("title");
    assert_eq!(
        (&*titles[0], &*titles[1]),
        ("First of two", "Second of two")
    );
}
