//! Vector tile routes: `/tiles` (catalog), `/tiles/{layers}` (TileJSON 3.0),
//! `/tiles/{layers}/{z}/{x}/{y}[.mvt|.pbf]` (MVT, one layer or a comma-separated composite),
//! the cluster GeoJSON endpoints, and OGC API - Tiles for WebMercatorQuad
//! (`/tileMatrixSets...`, `/collections/{id}/tiles...`).
//!
//! Owns: the route table and what the handlers share (which layers a request names, the
//! `f` parameter, the CQL2 `filter` of tiles and clusters, the tile matrix set check). By job:
//! - [`content`]: the tiles themselves (decoding `z/x/y` into a `TileCoord` with a 400
//!   naming the bad value before any work, cache, content negotiation of the
//!   pre-compressed tiles, response headers);
//! - [`metadata`]: TileJSON, the `/tiles` catalog, OGC tilesets and tile matrix sets;
//! - [`clusters`]: the cluster GeoJSON endpoints;
//! - [`openapi`]: the OpenAPI description of these routes.
//!
//! Rendering, caching and the documents' content are in [`crate::tiles`].

mod clusters;
mod content;
mod metadata;
mod openapi;

use std::sync::Arc;

use actix_web::{HttpRequest, web};

use crate::catalog::Layer;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::params::Params;
use crate::query::filter::Filter;
use crate::tiles::TileFilter;
use crate::tiles::filter::Keep;

pub use openapi::openapi_paths;

/// CRS URI of Web Mercator (EPSG:3857).
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";

/// The tile paths (OpenAPI syntax) this module serves.
pub const TILE_ROUTES: &[&str] = &[
    "/tiles",
    "/tiles/{tilesetId}",
    "/tiles/{tilesetId}/{z}/{x}/{y}",
    "/tiles/{collectionId}/clusters",
    "/tiles/{collectionId}/clusters/{clusterId}/leaves",
    "/tileMatrixSets",
    "/tileMatrixSets/{tileMatrixSetId}",
    "/collections/{collectionId}/tiles",
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
];

/// The prefix of the routes of [`scope`].
pub const SCOPE: &str = "/tiles";

/// The routes under `/tiles` in one scope: a path outside it is told from it by its
/// prefix, without trying the patterns of every route, and a tile is matched among these
/// routes alone. Registered ahead of the feature routes, it costs them one comparison of
/// that prefix. The caller adds the scope's answers to other methods.
pub fn scope() -> actix_web::Scope {
    // The tiles early: only the leaves of a cluster have paths of as many segments.
    web::scope(SCOPE)
        .route("", super::read().to(metadata::catalog))
        .route(
            "/{layer}/clusters/{cluster}/leaves",
            super::read().to(clusters::leaves),
        )
        .route("/{layers}/{z}/{x}/{y}", super::read().to(content::tile))
        .route("/{layer}/clusters", super::read().to(clusters::clusters))
        .route("/{layers}", super::read().to(metadata::tilejson_doc))
}

/// Registers the tile matrix sets.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tileMatrixSets", super::read().to(metadata::matrix_sets))
        .route(
            "/tileMatrixSets/{tms}",
            super::read().to(metadata::matrix_set),
        );
}

/// Registers the tiles of one collection (OGC API - Tiles), relative to the collection's
/// path (`/collections/{id}`, the scope that holds them).
pub fn collection_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles", super::read().to(metadata::ogc_tilesets))
        .route("/tiles/{tms}", super::read().to(metadata::ogc_tileset))
        .route(
            "/tiles/{tms}/{matrix}/{row}/{col}",
            super::read().to(content::ogc_tile),
        );
}

/// Snapshots of the layers named in a comma-separated list; each must serve tiles.
fn layers_of(state: &AppState, list: &str) -> Result<Vec<Arc<Layer>>> {
    let mut out: Vec<Arc<Layer>> = Vec::new();
    for id in list.split(',') {
        let layer = state.catalog.get(id)?.snapshot();
        if !state.tiler.layer_config(layer.id()).enabled {
            return Err(Error::NotFound {
                kind: "tileset",
                id: id.to_owned(),
            });
        }
        if out.iter().any(|l| l.id() == id) {
            return Err(Error::bad_param(
                "layers",
                list,
                format!("layer {id:?} is repeated"),
            ));
        }
        out.push(layer);
    }
    Ok(out)
}

/// Checks a request that takes no parameter but `f`, and only JSON.
fn no_params(req: &HttpRequest) -> Result<Params> {
    let p = Params::parse(req.query_string(), |k| k == "f")?;
    crate::http::format::choose(req, p.get("f"), crate::http::format::JSON_ONLY)?;
    Ok(p)
}

/// Whether `name` is one of the CQL2 filter parameters.
fn is_filter_param(name: &str) -> bool {
    matches!(name, "filter" | "filter-lang" | "filter-crs")
}

/// Checks a request that takes `f` and the CQL2 filter parameters only.
fn filter_params(req: &HttpRequest) -> Result<Params> {
    let p = Params::parse(req.query_string(), |k| k == "f" || is_filter_param(k))?;
    p.check_format()?;
    Ok(p)
}

/// The CQL2 filter of `params` compiled for `layer`, with its normalized text.
fn compiled(layer: &Arc<Layer>, params: &Params) -> Result<Option<(Keep, String)>> {
    let Some(filter) = Filter::from_params(
        layer,
        params.get("filter"),
        params.get("filter-lang"),
        params.get("filter-crs"),
    )?
    else {
        return Ok(None);
    };
    let key = filter.canonical().to_owned();
    let layer = Arc::clone(layer);
    Ok(Some((
        Arc::new(move |pos| filter.matches(&layer, pos)),
        key,
    )))
}

/// The CQL2 filter of a request on one layer, as a feature predicate.
fn layer_filter(layer: &Arc<Layer>, params: &Params) -> Result<Option<Keep>> {
    Ok(compiled(layer, params)?.map(|(keep, _)| keep))
}

/// The CQL2 filter of a tile request, compiled for each of `layers`.
fn tile_filter(layers: &[Arc<Layer>], params: &Params) -> Result<Option<TileFilter>> {
    let mut keep: Vec<Keep> = Vec::with_capacity(layers.len());
    let mut key = String::new();
    for layer in layers {
        let Some((k, text)) = compiled(layer, params)? else {
            return Ok(None);
        };
        keep.push(k);
        key = text;
    }
    Ok(Some(TileFilter {
        key: Arc::from(key),
        keep,
    }))
}

/// A 404 for any tile matrix set but WebMercatorQuad.
fn check_tms(tms: &str) -> Result<()> {
    if tms == "WebMercatorQuad" {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "tile matrix set",
            id: tms.to_owned(),
        })
    }
}
