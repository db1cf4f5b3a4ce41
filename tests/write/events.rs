//! Live events: subscribers receive the creates, updates and deletes of their collection, shipped
//! features named by their source id.

use super::*;

async fn next_chunk<B: MessageBody + Unpin>(body: &mut B) -> String {
    let chunk = tokio::time::timeout(
        Duration::from_secs(10),
        std::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)),
    )
    .await
    .expect("an event within 10 s")
    .expect("the stream is open");
    let bytes = chunk.map_err(|_| "body error").unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn data(chunk: &str) -> Value {
    let line = chunk
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    serde_json::from_str(line).unwrap()
}

#[actix_web::test]
async fn subscribers_receive_creates_updates_and_deletes_of_their_collection() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let app = test::init_service(http::app(state.clone())).await;
    let resp = test::call_service(
        &app,
        req(Method::GET, "/collections/incidents/events")
            .header("Accept-Encoding", "gzip")
            .build(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut body = resp.into_body();
    assert!(next_chunk(&mut body).await.starts_with("retry: "));
    let other = test::call_service(
        &app,
        req(Method::GET, "/collections/provinces/events").build(),
    )
    .await;
    let mut other = other.into_body();
    next_chunk(&mut other).await;

    let created = call(&app, post(&incident("Live"))).await.json();
    let event = data(&next_chunk(&mut body).await);
    assert_eq!(event["type"], "create");
    assert_eq!(event["id"], created["id"]);
    assert_eq!(event["feature"], created);

    let uri = format!("/collections/incidents/items/{}", created["id"]);
    let updated = call(
        &app,
        req(Method::PUT, &uri)
            .auth()
            .body(incident("Live, edited").to_string()),
    )
    .await
    .json();
    let event = data(&next_chunk(&mut body).await);
    assert_eq!(
        (event["type"].as_str(), &event["feature"]),
        (Some("update"), &updated)
    );

    assert_eq!(
        call(&app, req(Method::DELETE, &uri).auth()).await.status,
        204
    );
    let event = data(&next_chunk(&mut body).await);
    assert_eq!(event, json!({"type": "delete", "id": created["id"]}));

    // The provinces stream saw none of it.
    let quiet = tokio::time::timeout(
        Duration::from_millis(200),
        std::future::poll_fn(|cx| Pin::new(&mut other).poll_next(cx)),
    )
    .await;
    assert!(quiet.is_err(), "no event for another collection");
    let r = call(&app, req(Method::GET, "/collections/nowhere/events")).await;
    assert_eq!(r.status, 404);
}

#[actix_web::test]
async fn events_name_a_shipped_feature_by_its_source_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    let resp = test::call_service(
        &app,
        req(Method::GET, "/collections/incidents/events").build(),
    )
    .await;
    let mut body = resp.into_body();
    next_chunk(&mut body).await;
    let uri = "/collections/incidents/items/iskp-002";
    let updated = call(
        &app,
        req(Method::PUT, uri)
            .auth()
            .body(incident("A shipped incident, corrected").to_string()),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["id"], "iskp-002");
    let event = data(&next_chunk(&mut body).await);
    assert_eq!(event["id"], "iskp-002", "{event}");
    assert_eq!(event["feature"]["id"], "iskp-002");
    assert_eq!(
        call(&app, req(Method::DELETE, uri).auth()).await.status,
        204
    );
    let event = data(&next_chunk(&mut body).await);
    assert_eq!(event, json!({"type": "delete", "id": "iskp-002"}));
}
