//! Tokens: a missing, wrong or misplaced token gets the same 401; the rate limit answers 429 with
//! `Retry-After`.

use super::*;

#[actix_web::test]
async fn missing_wrong_and_misplaced_tokens_get_the_same_401() {
    let dir = tempfile::tempdir().unwrap();
    let app = test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
    let body = incident("auth").to_string();
    let attempts = [
        req(Method::POST, "/collections/incidents/items").body(body.clone()),
        req(Method::POST, "/collections/incidents/items")
            .header("Authorization", "Bearer wrong-token")
            .body(body.clone()),
        req(Method::POST, "/collections/incidents/items")
            .header("Authorization", &format!("Bearer {TOKEN}x"))
            .body(body.clone()),
        req(Method::POST, "/collections/incidents/items")
            .header("Authorization", &format!("Basic {TOKEN}"))
            .body(body.clone()),
        req(Method::POST, "/collections/incidents/items")
            .header("Authorization", TOKEN)
            .body(body.clone()),
        req(
            Method::POST,
            &format!("/collections/incidents/items?access_token={TOKEN}"),
        )
        .body(body.clone()),
        req(Method::PUT, "/collections/incidents/items/iskp-001").body(body.clone()),
        req(Method::DELETE, "/collections/incidents/items/iskp-001"),
    ];
    let mut bodies = std::collections::HashSet::new();
    for a in attempts {
        let r = call(&app, a).await;
        assert_eq!(r.status, 401, "{}", r.text());
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"khorasan-atlas\"")
        );
        r.problem();
        bodies.insert(r.body);
    }
    assert_eq!(bodies.len(), 1, "one body for every failure");
    // A valid header with a token also in the query string: the query is refused.
    let r = call(
        &app,
        req(
            Method::POST,
            &format!("/collections/incidents/items?access_token={TOKEN}"),
        )
        .auth()
        .body(body),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.problem().contains("access_token"));
    let r = call(
        &app,
        req(Method::DELETE, "/collections/incidents/items/iskp-001"),
    )
    .await;
    assert_eq!(r.status, 401, "auth comes before existence checks");
    let r = call(
        &app,
        req(Method::GET, "/collections/incidents/items/iskp-001"),
    )
    .await;
    assert_eq!(r.status, 200, "reads stay public");
}

#[actix_web::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = raw_config(dir.path());
    raw.server.write_rate_per_minute = Some(1);
    raw.server.write_burst = Some(2);
    let app = test::init_service(http::app(common::open_writable(raw))).await;
    for i in 0..2 {
        let r = call(&app, post(&incident(&format!("r{i}")))).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = call(&app, post(&incident("r2"))).await;
    assert_eq!(r.status, 429, "{}", r.text());
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    r.problem();
    // Wrong tokens are limited per address: guessing is slowed down too.
    let guess = || {
        req(Method::DELETE, "/collections/incidents/items/1")
            .header("Authorization", "Bearer guess")
            .peer("10.9.8.7:5000")
    };
    assert_eq!(call(&app, guess()).await.status, 401);
    assert_eq!(call(&app, guess()).await.status, 401);
    assert_eq!(call(&app, guess()).await.status, 429);
    let other = req(Method::DELETE, "/collections/incidents/items/1")
        .header("Authorization", "Bearer guess")
        .peer("10.9.8.6:5000");
    assert_eq!(
        call(&app, other).await.status,
        401,
        "another address has its own bucket"
    );
}
