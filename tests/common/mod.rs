//! Shared helpers for the integration tests: the default atlas, loaded once per test binary,
//! and requests against the real router.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::OnceLock;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::RawConfig;
use khorasan_atlas::http::{self, AppState};
use khorasan_atlas::store::access::hash_token_hex;

/// The default atlas of `geodata/atlas.toml`, loaded once.
pub fn atlas() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let raw = RawConfig::from_file(Path::new("geodata/atlas.toml")).unwrap();
            let config = raw.validate().unwrap();
            let catalog = Catalog::load(&config.catalog()).unwrap();
            AppState::new(config, catalog)
        })
        .clone()
}

/// A state from a TOML text (layer paths relative to the repository root).
pub fn state_from_toml(text: &str) -> AppState {
    let raw: RawConfig = toml::from_str(text).unwrap();
    let config = raw.validate().unwrap();
    let catalog = Catalog::load(&config.catalog()).unwrap();
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
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `detail` of a problem document, after checking its media type.
    pub fn problem(&self) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        self.json()["detail"].as_str().unwrap().to_owned()
    }
}

/// Sends `request` to `app` and collects the whole response.
pub async fn reply<S, B>(app: &S, request: actix_http::Request) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = test::call_service(app, request).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = test::read_body(resp).await.to_vec();
    Reply {
        status,
        headers,
        body,
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
    reply(&app, req.to_request()).await
}

/// GETs `uri` from the default atlas.
pub async fn get(uri: &str) -> Reply {
    get_with(&atlas(), uri, &[]).await
}

/// The default atlas reduced to incidents and provinces (with their join), with the write
/// rules of `geodata/atlas.toml`, a store in `data_dir`, the one write token `token`, no rate
/// limit and bodies of up to `max_body_bytes`.
pub fn writable_config(data_dir: &Path, token: &str, max_body_bytes: usize) -> RawConfig {
    let mut raw = RawConfig::from_file(Path::new("geodata/atlas.toml")).unwrap();
    raw.layers
        .retain(|l| l.id == "incidents" || l.id == "provinces");
    raw.joins.retain(|j| j.polygons == "provinces");
    raw.server.data_dir = Some(data_dir.to_owned());
    raw.server.write_tokens_sha256 = vec![hash_token_hex(token)];
    raw.server.write_rate_per_minute = Some(0);
    raw.server.max_body_bytes = Some(max_body_bytes);
    raw
}

/// A state with writes on (its store opened) from `raw`.
pub fn open_writable(raw: RawConfig) -> AppState {
    let config = raw.validate().unwrap();
    let catalog = Catalog::load(&config.catalog()).unwrap();
    AppState::open(config, catalog).unwrap()
}

/// A layer of `geometries` in that order, with ids 1, 2, ... and no properties or times.
pub fn layer_of(geometries: Vec<geo::Geometry<f64>>) -> khorasan_atlas::catalog::Layer {
    use khorasan_atlas::catalog::{Feature, Layer, LayerSettings, Time};
    let features = geometries
        .into_iter()
        .enumerate()
        .map(|(i, geometry)| Feature {
            id: i as u64 + 1,
            geometry: geometry.into(),
            source_geometry: None,
            props: Box::new([]),
            time: Time::NONE,
        })
        .collect();
    Layer::build(
        std::sync::Arc::new(LayerSettings::default()),
        Vec::new(),
        features,
        Default::default(),
    )
}

/// The numbers of one served point feature as the body wrote them (their text, not parsed
/// by serde_json), for comparing with an independent parse: `str::parse::<f64>`.
#[derive(Debug)]
pub struct PointTexts {
    pub coordinates: Vec<String>,
    /// Every property whose value is a number.
    pub numbers: std::collections::BTreeMap<String, String>,
}

/// [`PointTexts`] of every feature of a FeatureCollection body, in order.
pub fn point_texts(body: &[u8]) -> Vec<PointTexts> {
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        features: Vec<&'a RawValue>,
    }
    let page: Page<'_> = serde_json::from_slice(body).unwrap();
    page.features
        .iter()
        .map(|f| point_text(f.get().as_bytes()))
        .collect()
}

/// [`PointTexts`] of one served Feature.
pub fn point_text(feature: &[u8]) -> PointTexts {
    use std::collections::BTreeMap;

    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Point<'a> {
        #[serde(borrow)]
        coordinates: Vec<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Feature<'a> {
        #[serde(borrow)]
        geometry: Point<'a>,
        #[serde(borrow)]
        properties: BTreeMap<String, &'a RawValue>,
    }
    let f: Feature<'_> = serde_json::from_slice(feature).unwrap();
    let is_number = |t: &str| t.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    PointTexts {
        coordinates: f
            .geometry
            .coordinates
            .iter()
            .map(|c| c.get().to_owned())
            .collect(),
        numbers: f
            .properties
            .into_iter()
            .filter(|(_, v)| is_number(v.get()))
            .map(|(k, v)| (k, v.get().to_owned()))
            .collect(),
    }
}

/// The number a JSON number's text names, by the standard library's correctly rounded
/// parse.
pub fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|e| panic!("{text} is not a number: {e}"))
}
