//! Shared helpers for the integration tests: the default atlas, loaded once per test binary,
//! and requests against the real router.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::OnceLock;

use actix_web::test;
use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::{self, AppState};

/// The default atlas of `geodata/atlas.toml`, loaded once.
pub fn atlas() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let raw = RawConfig::from_file(Path::new("geodata/atlas.toml")).unwrap();
            let config = raw.validate().unwrap();
            let catalog = Catalog::load(&config).unwrap();
            AppState::new(config, catalog)
        })
        .clone()
}

/// A state from a TOML text (layer paths relative to the repository root).
pub fn state_from_toml(text: &str) -> AppState {
    let raw: RawConfig = toml::from_str(text).unwrap();
    let config = raw.validate().unwrap();
    let catalog = Catalog::load(&config).unwrap();
    AppState::new(config, catalog)
}

/// A response: status, headers and body.
pub struct Reply {
    pub status: u16,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// GETs `uri` from the real app built on `state`, with extra request headers.
pub async fn get_with(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> Reply {
    request(state, actix_web::http::Method::GET, uri, headers).await
}

/// Sends a bodiless `method` request for `uri` to the real app built on `state`.
pub async fn request(
    state: &AppState,
    method: actix_web::http::Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let app = test::init_service(http::app(state.clone())).await;
    let mut req = test::TestRequest::default().method(method).uri(uri);
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let resp = test::call_service(&app, req.to_request()).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = test::read_body(resp).await.to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// GETs `uri` from the default atlas.
pub async fn get(uri: &str) -> Reply {
    get_with(&atlas(), uri, &[]).await
}
