//! Serving tiles: `/tiles/{layers}/{z}/{x}/{y}` and the OGC tile route (row before column).
//!
//! Owns: decoding the request into a tile of named layers, taking it from the tile cache or
//! rendering it off the async workers through [`blocking::run`] (a render whose client has
//! gone before it starts never starts, and one under way stops before its next layer), and
//! the response: `application/vnd.mapbox-vector-tile`,
//! strong `ETag` (of the uncompressed tile), `If-None-Match` -> 304,
//! `Cache-Control: public, max-age=<server.tiles.max_age>`, `Content-Encoding: gzip` when the
//! client accepts gzip. An empty tile (no feature of any requested layer) is always
//! `204 No Content`, with the same caching headers. `X-Tile-Cache: hit|miss` tells where a
//! tile came from; `X-Tile-Thinned` lists the layers the per-tile budget thinned as
//! `layer=kept/candidates`.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{check_tms, filter_params, layers_of, tile_filter};
use crate::error::Result;
use crate::http::{AppState, blocking, respond};
use crate::tiles::CachedTile;

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// `Cache-Control: max-age` of tiles.
fn max_age(state: &AppState) -> u32 {
    state.tiler.config.max_age
}

/// Whether the request accepts gzip (`Accept-Encoding: gzip` or `*`, not with `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(v) = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    v.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let zero = it.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !zero
    })
}

/// The response of a tile (see the module documentation for its headers and statuses).
fn tile_response(
    req: &HttpRequest,
    state: &AppState,
    tile: &CachedTile,
    hit: bool,
) -> HttpResponse {
    let cache_control = format!("public, max-age={}", max_age(state));
    let mut resp = if respond::not_modified(req, &tile.etag) {
        HttpResponse::NotModified()
    } else if tile.is_empty() {
        HttpResponse::NoContent()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, tile.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("X-Tile-Cache", if hit { "hit" } else { "miss" }));
    let thinned: Vec<String> = tile
        .layers
        .iter()
        .filter(|l| l.thinned)
        .map(|l| format!("{}={}/{}", l.id, l.features, l.candidates))
        .collect();
    if !thinned.is_empty() {
        resp.insert_header(("X-Tile-Thinned", thinned.join(",")));
    }
    if respond::not_modified(req, &tile.etag) || tile.is_empty() {
        return resp.finish();
    }
    resp.content_type(MVT);
    if accepts_gzip(req) {
        resp.insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(tile.gzip())
    } else {
        resp.body(tile.mvt.clone())
    }
}

/// Serves the tile `z/x/y` of the comma-separated `layers`.
async fn serve_tile(
    req: &HttpRequest,
    state: &AppState,
    layers: &str,
    z: &str,
    x: &str,
    y: &str,
) -> Result<HttpResponse> {
    let params = filter_params(req)?;
    let coord = state.tiler.parse_coord(z, x, y)?;
    let layers = layers_of(state, layers)?;
    let filter = tile_filter(&layers, &params)?;
    let tiler = Arc::clone(&state.tiler);
    // Rendering is CPU work: off the async workers, through the queue that drops the
    // renders of clients that have gone.
    let (tile, hit) = match tiler.cached_filtered(&layers, coord, filter.as_ref()) {
        Some(t) => (t, true),
        None => {
            blocking::run(move |cancel| {
                tiler.tile_cancellable(&layers, coord, filter.as_ref(), cancel)
            })
            .await??
        }
    };
    Ok(tile_response(req, state, &tile, hit))
}

pub(super) async fn tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse> {
    let (layers, z, x, y) = path.into_inner();
    serve_tile(&req, &state, &layers, &z, &x, &y).await
}

pub(super) async fn ogc_tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse> {
    let (id, tms, matrix, row, col) = path.into_inner();
    check_tms(&tms)?;
    // OGC orders row (y) before column (x).
    serve_tile(&req, &state, &id, &matrix, &col, &row).await
}
