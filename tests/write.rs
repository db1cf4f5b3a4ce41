//! Writes through the real router: auth, validation, idempotency, ETag/If-Match, 405s,
//! live events, durability across a restart, and the merge rule with changed geodata.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use common::Reply;
use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::{self, AppState};
use khorasan_atlas::store::access::hash_token_hex;
use serde_json::{Value, json};

const TOKEN: &str = "test-token-0123456789";
const GEOJSON: &str = "application/geo+json";

/// The writable atlas of the tests (`common::writable_config`) with this file's token.
fn raw_config(dir: &Path) -> RawConfig {
    common::writable_config(dir, TOKEN, 8192)
}

/// A request builder: method, uri, optional token, headers, body.
struct Req {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    peer: Option<SocketAddr>,
}

fn req(method: Method, uri: &str) -> Req {
    Req {
        method,
        uri: uri.to_owned(),
        headers: Vec::new(),
        body: None,
        peer: None,
    }
}

impl Req {
    fn auth(self) -> Self {
        self.header("Authorization", &format!("Bearer {TOKEN}"))
    }
    fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
    fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self.header("Content-Type", GEOJSON)
    }
    fn peer(mut self, addr: &str) -> Self {
        self.peer = Some(addr.parse().unwrap());
        self
    }
    fn build(self) -> actix_http::Request {
        let mut r = TestRequest::default().method(self.method).uri(&self.uri);
        for (k, v) in self.headers {
            r = r.insert_header((k, v));
        }
        if let Some(p) = self.peer {
            r = r.peer_addr(p);
        }
        if let Some(b) = self.body {
            r = r.set_payload(b);
        }
        r.to_request()
    }
}

async fn call<S, B>(app: &S, r: Req) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    common::reply(app, r.build()).await
}

fn incident(title: &str) -> Value {
    json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [69.1723, 34.5281]},
        "properties": {
            "date": "2026-02-03",
            "title": title,
            "place": "Kabul",
            "deaths": 2,
            "injuries": null,
            "sources": ["https://example.org/report/1"],
            "responsibility": "claimed",
        }
    })
}

fn post(body: &Value) -> Req {
    req(Method::POST, "/collections/incidents/items")
        .auth()
        .body(body.to_string())
}

/// Path of an absolute URL.
fn local(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

fn without_links(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("links");
    v
}

fn incident_count(state: &AppState, province: &str) -> i64 {
    let layer = state.catalog.get("provinces").unwrap().snapshot();
    let name = layer.field_index("name").unwrap();
    let count = layer.field_index("incident_count").unwrap();
    let f = layer
        .features
        .iter()
        .map(|(_, f)| f)
        .find(|f| f.props[name].to_json() == json!(province))
        .unwrap();
    f.props[count].to_json().as_i64().unwrap()
}

mod switched_off {
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
        let app =
            test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
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
}

mod auth {
    use super::*;

    #[actix_web::test]
    async fn missing_wrong_and_misplaced_tokens_get_the_same_401() {
        let dir = tempfile::tempdir().unwrap();
        let app =
            test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
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
}

mod validation {
    use super::*;

    #[actix_web::test]
    async fn every_rejection_is_a_4xx_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let state = common::open_writable(raw_config(dir.path()));
        let before = state
            .catalog
            .get("incidents")
            .unwrap()
            .snapshot()
            .features
            .live();
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
                with(&|v| {
                    v["geometry"] = json!({"type":"LineString","coordinates":[[69,34],[70,35]]})
                }),
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
                    v["properties"]["sources"] =
                        json!(["https://example.org", "file:///etc/passwd"])
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
            let r = call(
                &app,
                req(Method::POST, "/collections/incidents/items")
                    .auth()
                    .body(body.clone()),
            )
            .await;
            assert_eq!(r.status, 400, "{field}: {}", r.text());
            let detail = r.problem();
            assert!(
                detail.contains(&format!(" {field}: ")),
                "{field} not named in {detail:?}"
            );
        }
        // Too large: 413, whether announced or streamed.
        let big = with(&|v| v["properties"]["notes"] = json!("x".repeat(9000)));
        let r = call(
            &app,
            req(Method::POST, "/collections/incidents/items")
                .auth()
                .body(big),
        )
        .await;
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
            state
                .catalog
                .get("incidents")
                .unwrap()
                .snapshot()
                .features
                .live(),
            before,
            "no rejected write changed anything"
        );
    }
}

mod lifecycle {
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
        let count = |state: &AppState| {
            state
                .catalog
                .get("incidents")
                .unwrap()
                .snapshot()
                .features
                .live()
        };
        let before = count(&state);
        let body = incident("Idempotent");
        let first = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
        assert_eq!(first.status, 201);
        let again = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(count(&state), before + 1);
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
        assert_eq!(count(&state), before + 2);
        // And after a restart the key still replays.
        drop(app);
        drop(state);
        let state = common::open_writable(raw_config(dir.path()));
        let app = test::init_service(http::app(state.clone())).await;
        let r = call(&app, post(&body).header("Idempotency-Key", "key-1")).await;
        assert_eq!((r.status, r.body.clone()), (201, first.body));
        assert_eq!(count(&state), before + 2);
    }
}

mod byte_equal {
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
}

mod joins {
    use super::*;
    use khorasan_atlas::catalog::join;

    /// Writes update joins incrementally; the result equals a full recomputation.
    #[actix_web::test]
    async fn incremental_joins_equal_a_full_join() {
        let dir = tempfile::tempdir().unwrap();
        let state = common::open_writable(raw_config(dir.path()));
        let app = std::rc::Rc::new(test::init_service(http::app(state.clone())).await);
        let places = [
            [69.17, 34.53],
            [62.2, 34.35],
            [65.7, 31.6],
            [71.5, 34.0],
            [0.0, 0.0],
        ];
        let at = |i: usize, title: String| {
            let mut v = incident(&title);
            v["geometry"]["coordinates"] = json!(places[i % places.len()]);
            v.to_string()
        };
        let mut ids = Vec::new();
        for round in 0..4 {
            // Concurrent creates (batched together), then moves and deletes.
            let creates = (0..6).map(|i| {
                let app = app.clone();
                let body = at(i + round, format!("join r{round} i{i}"));
                async move {
                    call(
                        &*app,
                        req(Method::POST, "/collections/incidents/items")
                            .auth()
                            .body(body),
                    )
                    .await
                }
            });
            for r in futures_util::future::join_all(creates).await {
                assert_eq!(r.status, 201, "{}", r.text());
                ids.push(r.json()["id"].as_u64().unwrap());
            }
            let moved = ids[round * 2];
            let r = call(
                &*app,
                req(
                    Method::PUT,
                    &format!("/collections/incidents/items/{moved}"),
                )
                .auth()
                .body(at(round + 1, "moved".into())),
            )
            .await;
            assert_eq!(r.status, 200);
            let r = call(
                &*app,
                req(
                    Method::DELETE,
                    &format!("/collections/incidents/items/{}", ids[round * 2 + 1]),
                )
                .auth(),
            )
            .await;
            assert_eq!(r.status, 204);
            let r = call(
                &*app,
                req(Method::PUT, "/collections/incidents/items/iskp-004")
                    .auth()
                    .body(at(round, "shipped moved".into())),
            )
            .await;
            assert_eq!(r.status, 200);
        }
        let points = state.catalog.get("incidents").unwrap().snapshot();
        let polygons = state.catalog.get("provinces").unwrap().snapshot();
        let (mut full_points, mut full_polygons) = ((*points).clone(), (*polygons).clone());
        for j in &state.config.joins {
            join::apply(&mut full_points, &mut full_polygons, j);
        }
        assert_eq!(full_points.fields, points.fields);
        for ((_, a), (_, b)) in full_points.features.iter().zip(points.features.iter()) {
            assert_eq!(a.props, b.props, "feature {}", a.id);
        }
        for ((_, a), (_, b)) in full_polygons.features.iter().zip(polygons.features.iter()) {
            assert_eq!(a.props, b.props, "province {}", a.id);
        }
    }
}

mod events {
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
        let app =
            test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
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
}

mod merge_rule {
    use super::*;

    fn fc(features: &[Value]) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn point(id: &str, name: &str, lon: f64) -> Value {
        json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, 10.0]}, "properties": {"name": name}})
    }

    fn config(dir: &Path, file: &Path) -> RawConfig {
        let text = format!(
            "[server]\ndata_dir = {:?}\nwrite_tokens_sha256 = [{:?}]\nwrite_rate_per_minute = 0\n\
             [[layers]]\nid = \"pts\"\nfile = {:?}\nwritable = true\n",
            dir.join("data"),
            hash_token_hex(TOKEN),
            file
        );
        toml::from_str(&text).unwrap()
    }

    fn names(state: &AppState) -> Vec<(String, String)> {
        let layer = state.catalog.get("pts").unwrap().snapshot();
        let name = layer.field_index("name").unwrap();
        layer
            .features
            .iter()
            .map(|(_, f)| {
                let sid = layer
                    .source_ids
                    .iter()
                    .find(|(_, v)| **v == f.id)
                    .map_or_else(|| f.id.to_string(), |(k, _)| k.to_string());
                (
                    sid,
                    f.props[name].to_json().as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// Edits survive a new version of the file: the stored change wins over the file, a
    /// deleted shipped feature stays deleted, new shipped features appear, ids stay stable.
    #[actix_web::test]
    async fn stored_changes_win_over_a_changed_geodata_file() {
        let dir = tempfile::tempdir().unwrap();
        let file: PathBuf = dir.path().join("pts.geojson");
        std::fs::write(
            &file,
            fc(&[
                point("a", "A", 1.0),
                point("b", "B", 2.0),
                point("c", "C", 3.0),
            ]),
        )
        .unwrap();
        let state = common::open_writable(config(dir.path(), &file));
        let app = test::init_service(http::app(state.clone())).await;
        let edit = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.5, 10.0]}, "properties": {"name": "A edited"}});
        assert_eq!(
            call(
                &app,
                req(Method::PUT, "/collections/pts/items/a")
                    .auth()
                    .body(edit.to_string())
            )
            .await
            .status,
            200
        );
        assert_eq!(
            call(&app, req(Method::DELETE, "/collections/pts/items/b").auth())
                .await
                .status,
            204
        );
        let new = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.0, 10.0]}, "properties": {"name": "N"}});
        let r = call(
            &app,
            req(Method::POST, "/collections/pts/items")
                .auth()
                .body(new.to_string()),
        )
        .await;
        assert_eq!(r.status, 201);
        let new_id = r.json()["id"].as_u64().unwrap();
        assert_eq!(new_id, 1, "string-id layers number new features from 1");
        drop(app);
        drop(state);

        // The file changes underneath: a and b are edited upstream, the order changes, d is new.
        std::fs::write(
            &file,
            fc(&[
                point("d", "D", 5.0),
                point("c", "C", 3.0),
                point("b", "B upstream", 2.0),
                point("a", "A upstream", 1.0),
            ]),
        )
        .unwrap();
        let state = common::open_writable(config(dir.path(), &file));
        assert_eq!(
            names(&state),
            vec![
                ("d".into(), "D".into()),
                ("c".into(), "C".into()),
                ("a".into(), "A edited".into()),
                ("1".into(), "N".into()),
            ]
        );
    }

    #[test]
    fn warnings_name_each_conflict() {
        use khorasan_atlas::store::merge::apply_records;
        use khorasan_atlas::store::{Record, StoredFeature};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pts.geojson");
        std::fs::write(&file, fc(&[point("a", "A", 1.0), point("b", "B", 2.0)])).unwrap();
        let config = config(dir.path(), &file).validate().unwrap();
        let catalog = Catalog::load(&config.catalog()).unwrap();
        let layer = catalog.get("pts").unwrap().snapshot();
        let a = layer.find("a").unwrap().id;
        let stored = StoredFeature {
            geometry: json!({"type": "Point", "coordinates": [0.0, 0.0]}),
            properties: json!({"name": "Z"}).as_object().unwrap().clone(),
        };
        let records = vec![
            Record {
                layer: "pts".into(),
                id: a,
                feature: Some(stored.clone()),
                base: Some("an older file".into()),
            },
            Record {
                layer: "pts".into(),
                id: 77,
                feature: Some(stored.clone()),
                base: Some("gone".into()),
            },
            Record {
                layer: "gone".into(),
                id: 1,
                feature: None,
                base: None,
            },
        ];
        let warnings = apply_records(&catalog, &[], &records).unwrap();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("pts/") && w.contains("the stored change wins"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("pts/77") && w.contains("no longer has"))
        );
        assert!(warnings.iter().any(|w| w.contains("\"gone\"")));
        assert_eq!(catalog.get("pts").unwrap().snapshot().features.live(), 3);
    }
}

/// What a client writes comes back as written: altitude, and no location at all.
mod as_written {
    use super::*;

    /// The incidents layer with the geometry rules of `geometry` (empty: any, and `null`).
    fn config_with_geometry(dir: &Path, geometry: &str) -> RawConfig {
        let mut raw = raw_config(dir);
        for layer in raw.layers.iter_mut().filter(|l| l.id == "incidents") {
            layer.write.geometry =
                serde_json::from_str(geometry).expect("geometry rules in the test");
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
        let app =
            test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
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

        let app =
            test::init_service(http::app(common::open_writable(raw_config(dir.path())))).await;
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
}
