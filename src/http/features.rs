//! OGC API - Features (Part 1 core, GeoJSON, OpenAPI 3.0; Part 3 queryables) and the
//! radius and nearest queries, shaped like OGC API - EDR.
//!
//! Owns: the documents of the landing page, conformance, collections, queryables and
//! features, their links and their cache
//! lifetimes (a page of a listing is [`page`]'s). Which parameters a query takes and what they mean is
//! [`crate::query::request`]'s; entity tags and `304`s are [`super::respond`]'s.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::format::{self, Format};
use super::html::{self, Page};
use super::params;
use super::respond::{self, GEOJSON, JSON, Link, OPENAPI};
use super::state::AppState;
use crate::catalog::Layer;
use crate::catalog::output::FeatureJson;
use crate::catalog::time::{format_end, format_ms};
use crate::error::{Error, Result};
use crate::query::request::{DistanceRequest, ItemsRequest, PageLimits};

mod geojson;
mod page;
use page::respond_page;

/// Conformance classes this server passes.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    // CQL2 filtering (`query::filter`).
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
];

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn link(href: String, rel: &'static str, kind: &'static str, title: &'static str) -> Link {
    Link {
        href,
        rel,
        kind,
        title,
    }
}

/// `GET /` (JSON): the landing page.
pub async fn landing(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let params = params::format_only(req.query_string())?;
    let fmt = format::choose(&req, params.get("f"), format::DOCUMENT)?;
    // A browser opening `/` gets the map; `f=html` asks for the catalogue's landing page.
    if fmt == Format::Html && params.get("f").is_none() {
        return super::web_page::index(&state).await;
    }
    let base = respond::base_url(&req);
    let mut body = json!({
        "title": "khorasan-atlas",
        "description": "ISIS-K attacks (2015-2026) against the historical Khorasan region: OGC API - Features, vector tiles and geodesic spatial queries.",
        "links": [
            link(format!("{base}/"), "self", JSON, "This document"),
            link(format!("{base}/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(format!("{base}/conformance"), "conformance", JSON, "Conformance classes"),
            link(format!("{base}/collections"), "data", JSON, "Collections"),
            link(format!("{base}/tileMatrixSets"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", JSON, "Tile matrix sets"),
            link(format!("{base}/tiles"), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "Vector tilesets"),
        ]
    });
    // The map pages are linked only when they are built (`web/dist`), so that every link
    // of the landing page answers 200.
    if state.map_built
        && let Some(links) = body["links"].as_array_mut()
    {
        links.push(json!(link(
            format!("{base}/map"),
            "service-doc",
            "text/html",
            "The map",
        )));
        links.push(json!(link(
            format!("{base}/map/tiles.html"),
            "alternate",
            "text/html",
            "The vector tiles in MapLibre GL JS",
        )));
    }
    html::document(
        &req,
        fmt,
        Page::Landing,
        &body,
        JSON,
        state.config.cache_max_age,
    )
}

/// The conformance document, made once.
static CONFORMANCE_DOCUMENT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({ "title": "Conformance classes", "conformsTo": CONFORMANCE }),
);

/// `GET /conformance`.
pub async fn conformance(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let fmt = document_format(&req)?;
    html::document(
        &req,
        fmt,
        Page::Conformance,
        &*CONFORMANCE_DOCUMENT,
        JSON,
        state.config.cache_max_age,
    )
}

/// The format of a document whose route takes only `f` (JSON or HTML).
fn document_format(req: &HttpRequest) -> Result<Format> {
    let params = params::format_only(req.query_string())?;
    format::choose(req, params.get("f"), format::DOCUMENT)
}

/// The current snapshot of `collection`, for a route whose only parameter is `f`, and the
/// format asked for: an unknown collection is a 404 before any parameter is looked at.
fn doc_layer(
    state: &AppState,
    collection: &str,
    req: &HttpRequest,
) -> Result<(Arc<Layer>, Format)> {
    let layer = state.catalog.get(collection)?.snapshot();
    Ok((layer, document_format(req)?))
}

fn collection_json(base: &str, layer: &Layer) -> Value {
    let id = layer.id();
    let cfg = &layer.config;
    let mut extent = serde_json::Map::new();
    if let Some([w, s, e, n]) = layer.extent {
        extent.insert(
            "spatial".into(),
            json!({ "bbox": [[w, s, e, n]], "crs": CRS84 }),
        );
    }
    if let Some((start, end)) = layer.time_extent {
        extent.insert(
            "temporal".into(),
            json!({ "interval": [[format_ms(start), format_end(end)]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" }),
        );
    }
    let mut links = vec![
        link(
            format!("{base}/collections/{id}"),
            "self",
            JSON,
            "This collection",
        ),
        link(
            format!("{base}/collections/{id}/items"),
            "items",
            GEOJSON,
            "Features",
        ),
        link(
            format!("{base}/collections/{id}/queryables"),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
            "Queryable properties",
        ),
        link(
            format!("{base}/collections/{id}/tiles"),
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
            JSON,
            "Vector tilesets (OGC API - Tiles)",
        ),
        link(
            format!("{base}/tiles/{id}"),
            "describedby",
            JSON,
            "TileJSON",
        ),
    ];
    if cfg.writable {
        links.push(link(
            format!("{base}/collections/{id}/events"),
            "alternate",
            "text/event-stream",
            "Live changes (server-sent events)",
        ));
    }
    json!({
        "id": id,
        "title": cfg.title.clone().unwrap_or_else(|| id.to_owned()),
        "description": cfg.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "attribution": cfg.attribution,
        "geometryType": layer.geometry_kind.name(),
        "featureCount": layer.features.live(),
        "links": links,
    })
}

/// `GET /collections`.
pub async fn collections(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let fmt = document_format(&req)?;
    let base = respond::base_url(&req);
    let list: Vec<Value> = state
        .catalog
        .layers
        .iter()
        .map(|h| collection_json(&base, &h.snapshot()))
        .collect();
    let body = json!({
        "links": [link(format!("{base}/collections"), "self", JSON, "Collections")],
        "collections": list,
    });
    html::document(
        &req,
        fmt,
        Page::Collections,
        &body,
        JSON,
        state.config.cache_max_age,
    )
}

/// `GET /collections/{id}`.
pub async fn collection(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (layer, fmt) = doc_layer(&state, &path, &req)?;
    html::document(
        &req,
        fmt,
        Page::Collection,
        &collection_json(&respond::base_url(&req), &layer),
        JSON,
        state.config.cache_max_age,
    )
}

/// `GET /collections/{id}/queryables`: JSON Schema of the filterable properties.
pub async fn queryables(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (layer, fmt) = doc_layer(&state, &path, &req)?;
    let base = respond::base_url(&req);
    let properties = crate::query::filter::queryables_schema(&layer);
    let body = json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{base}/collections/{}/queryables", layer.id()),
        "type": "object",
        "title": layer.config.title.clone().unwrap_or_else(|| layer.id().to_owned()),
        "properties": properties,
        "additionalProperties": false,
        "links": [
            link(format!("{base}/collections/{}/queryables", layer.id()), "self", "application/schema+json", "Queryable properties"),
            link(format!("{base}/collections/{}", layer.id()), "collection", JSON, "The collection"),
        ],
    });
    html::document(
        &req,
        fmt,
        Page::Queryables,
        &body,
        "application/schema+json",
        state.config.cache_max_age,
    )
}

/// `Cache-Control` max-age for features of `layer`: 0 (always revalidate with the ETag) for
/// writable layers and the layers joined with them, so that maps see a write at once.
fn max_age(state: &AppState, layer: &Layer) -> u32 {
    let id = layer.id();
    let writable = |other: &str| state.config.layer(other).is_some_and(|l| l.writable);
    // Layers joined with a writable layer change with it (e.g. incident counts).
    let joined_to_writable = state.config.joins.iter().any(|j| {
        (j.polygons == id && writable(&j.points)) || (j.points == id && writable(&j.polygons))
    });
    if layer.config.writable || joined_to_writable {
        0
    } else {
        state.config.cache_max_age
    }
}

/// `GET /collections/{id}/items`.
pub async fn items(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let layer = state.catalog.get(&path)?.snapshot();
    let request = ItemsRequest::parse(
        &layer,
        req.query_string(),
        params::page_limits(&state.config),
    )?;
    let small = request.is_small(&layer);
    let (request, outcome) = off_worker(&layer, request, small, ItemsRequest::run).await?;
    let mut resp = respond_page(
        &req,
        &state,
        &layer,
        &request.listing,
        &outcome,
        true,
        false,
    )?;
    let served = format::choose(&req, request.listing.params.get("f"), format::LISTING)?;
    super::link_header::add(&req, &mut resp, layer.id(), served);
    Ok(resp)
}

/// Runs a query off the async workers ([`super::blocking::run`]), so that a query over a
/// large layer never holds an HTTP worker: other requests (`/health`) are answered meanwhile,
/// and a query whose client has gone is not run. A `small` query (a few index steps
/// whatever the data) runs here: cheaper than the hop to another thread.
async fn off_worker<R, O>(
    layer: &std::sync::Arc<Layer>,
    request: R,
    small: bool,
    run: fn(&R, &Layer) -> O,
) -> Result<(R, O)>
where
    R: Send + 'static,
    O: Send + 'static,
{
    if small {
        let outcome = run(&request, layer);
        return Ok((request, outcome));
    }
    let layer = std::sync::Arc::clone(layer);
    super::blocking::run(move |_| {
        let outcome = run(&request, &layer);
        (request, outcome)
    })
    .await
}

/// `GET /collections/{id}/items/{featureId}`.
pub async fn item(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let (id, fid) = path.into_inner();
    let (layer, fmt) = doc_layer(&state, &id, &req)?;
    let feature = layer.find(&fid).ok_or_else(|| Error::NotFound {
        kind: "feature",
        id: fid.clone(),
    })?;
    let base = respond::base_url(&req);
    let mut body = FeatureJson::new(&layer, feature);
    body.links = Some(json!([
        link(
            format!(
                "{base}/collections/{id}/items/{}",
                layer.api_id(feature.id).url_segment()
            ),
            "self",
            GEOJSON,
            "This feature"
        ),
        link(
            format!("{base}/collections/{id}"),
            "collection",
            JSON,
            "The collection"
        ),
    ]));
    if fmt == Format::Html {
        return html::document(
            &req,
            fmt,
            Page::Feature,
            &body,
            GEOJSON,
            max_age(&state, &layer),
        );
    }
    // The ETag names the feature's state, whatever the links: If-Match of PUT and DELETE
    // compares against it (see crate::store::feature_etag).
    let bytes = respond::json_bytes(&body)?;
    let etag = crate::store::feature_etag(&layer, feature)?;
    Ok(respond::cacheable_with_etag(
        &req,
        bytes,
        GEOJSON,
        max_age(&state, &layer),
        etag,
    ))
}

/// `GET /collections/{id}/radius?coords=POINT(lon lat)&within=50&within-units=km`.
pub async fn radius(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    distance(&req, &path, &state, DistanceRequest::parse_radius).await
}

/// `GET /collections/{id}/nearest?coords=POINT(lon lat)&limit=k`.
pub async fn nearest(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    distance(&req, &path, &state, DistanceRequest::parse_nearest).await
}

/// A distance query on `collection`, its request parsed by `parse`.
async fn distance(
    req: &HttpRequest,
    collection: &str,
    state: &AppState,
    parse: fn(&Layer, &str, PageLimits) -> Result<DistanceRequest>,
) -> Result<HttpResponse> {
    let layer = state.catalog.get(collection)?.snapshot();
    let request = parse(
        &layer,
        req.query_string(),
        params::page_limits(&state.config),
    )?;
    let small = request.is_small(&layer);
    let (request, outcome) = off_worker(&layer, request, small, DistanceRequest::run).await?;
    respond_page(
        req,
        state,
        &layer,
        &request.listing,
        &outcome,
        request.is_paged(),
        true,
    )
}

/// `GET /health`: the feature count of every layer, and, once a layer file has changed, what
/// its reloads did (`reloads`: count, time of the last, and the error while a file is broken),
/// what the tile cache holds (`tile_cache`, when it is on) and the store's state.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let layers: serde_json::Map<String, Value> = state
        .catalog
        .layers
        .iter()
        .map(|h| (h.id.clone(), json!(h.snapshot().features.live())))
        .collect();
    let mut body = json!({ "status": "ok", "layers": layers });
    let reloads = state.catalog.reloads.snapshot();
    if !reloads.is_empty() {
        body["reloads"] = json!(reloads);
    }
    if let Some(usage) = state.tiler.cache_usage() {
        body["tile_cache"] = json!(usage);
    }
    if let Some(store) = state.writes.status() {
        body["store"] = json!(store);
    }
    HttpResponse::Ok()
        .content_type(JSON)
        .insert_header(("Cache-Control", "no-store"))
        .body(body.to_string())
}
