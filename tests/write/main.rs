//! Writes through the real router: auth, validation, idempotency, ETag/If-Match, 405s,
//! live events, durability across a restart, and the merge rule with changed geodata.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
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
    post_text(body.to_string())
}

/// A create of the body `text` as it stands (its numbers' digits, its bytes).
fn post_text(text: impl Into<String>) -> Req {
    req(Method::POST, "/collections/incidents/items")
        .auth()
        .body(text)
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

/// How many incidents the layer holds now.
fn live_incidents(state: &AppState) -> usize {
    state
        .catalog
        .get("incidents")
        .unwrap()
        .snapshot()
        .features
        .live()
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

mod as_written;
mod auth;
mod byte_equal;
mod events;
mod joins;
mod lifecycle;
mod merge_rule;
mod switched_off;
mod validation;
