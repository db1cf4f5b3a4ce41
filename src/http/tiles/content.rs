//! Serving tiles: `/tiles/{layers}/{z}/{x}/{y}` and the OGC tile route (row before column).
//!
//! Owns: decoding the request into a tile of named layers, taking it from the tile cache or
//! rendering it: where the request is served when the render is light (point pyramids
//! within the feature budget, [`crate::tiles::Tiler::renders_light`]), else off the async
//! workers through [`blocking::run`] (a render whose client has gone before it starts never
//! starts, and one under way stops before its next layer), and
//! the response: `application/vnd.mapbox-vector-tile`,
//! strong `ETag` (of the uncompressed tile), `If-None-Match` -> 304,
//! `Cache-Control: public, max-age=<server.tiles.max_age>`, and the coding the compression
//! middleware would choose (zstd, br, gzip or deflate, see [`compress::choose`]) made once
//! per cached tile and coding, under its own strong `ETag` (the tile's with the coding's
//! name inside the quotes). An empty tile (no feature of any requested layer) is always
//! `204 No Content`, with the same caching headers. `X-Tile-Cache: hit|miss` tells where a
//! tile came from; `X-Tile-Thinned` lists the layers the per-tile budget thinned as
//! `layer=kept/candidates`.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use super::{check_tms, filter_params, layers_of, tile_filter};
use crate::error::Result;
use crate::http::compress::{self, Coding};
use crate::http::{AppState, blocking, respond};
use crate::tiles::CachedTile;

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// `Cache-Control: max-age` of tiles.
fn max_age(state: &AppState) -> u32 {
    state.tiler.config.max_age
}

/// The content coding of a tile for this request ([`compress::choose`]), with the number
/// of its cached copy; none for tiles too small to gain from it.
fn coding(req: &HttpRequest, tile: &CachedTile) -> Option<(Coding, usize)> {
    if tile.mvt.len() < compress::MIN_BYTES {
        return None;
    }
    let accept = req.headers().get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let coding = compress::choose(accept)?;
    let slot = match coding {
        Coding::Zstd => 0,
        Coding::Brotli => 1,
        Coding::Gzip => 2,
        Coding::Deflate => 3,
    };
    Some((coding, slot))
}

/// `X-Tile-Cache` and its values, made once.
static TILE_CACHE: HeaderName = HeaderName::from_static("x-tile-cache");
static HIT: HeaderValue = HeaderValue::from_static("hit");
static MISS: HeaderValue = HeaderValue::from_static("miss");

/// The response of a tile (see the module documentation for its headers and statuses).
fn tile_response(
    req: &HttpRequest,
    state: &AppState,
    tile: &CachedTile,
    hit: bool,
) -> HttpResponse {
    let cache_control = respond::public_max_age(max_age(state));
    let coding = coding(req, tile);
    let etag = coding.map_or_else(|| tile.etag.clone(), |(c, _)| tile.etag_of(c.token()));
    let not_modified = respond::not_modified(req, &etag);
    let mut resp = if not_modified {
        HttpResponse::NotModified()
    } else if tile.is_empty() {
        HttpResponse::NoContent()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, compress::VARY_ACCEPT_ENCODING.clone()))
        .insert_header((TILE_CACHE.clone(), if hit { &HIT } else { &MISS }.clone()));
    let thinned: Vec<String> = tile
        .layers
        .iter()
        .filter(|l| l.thinned)
        .map(|l| format!("{}={}/{}", l.id, l.features, l.candidates))
        .collect();
    if !thinned.is_empty() {
        resp.insert_header(("X-Tile-Thinned", thinned.join(",")));
    }
    if not_modified || tile.is_empty() {
        return resp.insert_header((header::ETAG, etag)).finish();
    }
    resp.content_type(MVT);
    let encoded = coding.and_then(|(c, slot)| {
        let body = tile.encoded(slot, |mvt| c.compress(mvt))?;
        Some((c, body))
    });
    match encoded {
        Some((c, body)) => resp
            .insert_header((header::ETAG, etag))
            .insert_header((header::CONTENT_ENCODING, c.header_value()))
            .body(body),
        None => resp
            .insert_header((header::ETAG, tile.etag.clone()))
            .body(tile.mvt.clone()),
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
    let (tile, hit) = match tiler.cached_filtered(&layers, coord, filter.as_ref()) {
        Some(t) => (t, true),
        // A render from point pyramids within the feature budget takes a few milliseconds
        // at most: done here, it spares the two thread switches of the pool, which cost
        // more than such a render on a busy machine.
        None if tiler.renders_light(&layers, coord, filter.as_ref()) => {
            tiler.tile_filtered(&layers, coord, filter.as_ref())?
        }
        // Other renders (polygons, filters, clusters, layers not prepared yet) are CPU work
        // of unbounded length: off the async workers, through the queue that drops the
        // renders of clients that have gone.
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
