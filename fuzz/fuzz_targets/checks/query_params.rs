//! Query strings of every read endpoint, through the crate's own parsers, and the parsed
//! requests run on the default atlas.
//!
//! Input: one selector byte (endpoint and layer), then the query string (UTF-8, as actix
//! hands it to the handlers). Every parser must answer `Ok` or a 4xx error; nothing may
//! panic, and a parsed request must run.

use super::common;

use khorasan_atlas::catalog::Layer;
use khorasan_atlas::http::params::{json_only, page_limits};
use khorasan_atlas::query::params::{Params, cluster_zoom_and_bbox, parse_count};
use khorasan_atlas::query::request::{DistanceRequest, ItemsRequest, PageLimits};
use khorasan_atlas::tiles::cluster;
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::{Error, Result};

/// Layers with different schemas: points with a date, polygons with periods, polygons.
const LAYERS: [&str; 3] = ["incidents", "operating_provinces", "provinces"];

/// Checks one input (panics on a failed check).
pub fn check(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else {
        return;
    };
    let atlas = common::atlas();
    let limits = page_limits(&atlas.config);
    let Ok(handle) = atlas
        .catalog
        .get(LAYERS[usize::from(selector >> 4) % LAYERS.len()])
    else {
        panic!("the atlas has its layers");
    };
    let layer = handle.snapshot();
    let outcome = match selector % 8 {
        0 => items(&layer, query, limits),
        1 => DistanceRequest::parse_radius(&layer, query, limits).map(|r| {
            r.run(&layer);
        }),
        2 => DistanceRequest::parse_nearest(&layer, query, limits).map(|r| {
            r.run(&layer);
        }),
        3 => clusters(atlas, &layer, query),
        4 => leaves(atlas, &layer, query),
        5 => tile_path(atlas, query),
        6 => json_only(query),
        _ => filter(&layer, query, limits),
    };
    if let Err(e) = outcome {
        check_client_error(&e);
    }
}

/// `/items`: parse and run.
fn items(layer: &Layer, query: &str, limits: PageLimits) -> Result<()> {
    let request = ItemsRequest::parse(layer, query, limits)?;
    request.run(layer);
    Ok(())
}

/// A CQL2 `filter` (and its `filter-lang`, `filter-crs`) on `/items`: the text after the
/// selector is the filter expression itself, so that the fuzzer explores its grammar rather
/// than the query-string encoding. Until the crate parses `filter`, it is an unknown
/// parameter (400), which this target checks too.
fn filter(layer: &Layer, expression: &str, limits: PageLimits) -> Result<()> {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("filter-lang", "cql2-text")
        .append_pair("filter", expression)
        .finish();
    items(layer, &query, limits)
}

/// `/tiles/{layer}/clusters?zoom=&bbox=`, as the handler reads it.
fn clusters(atlas: &common::Atlas, layer: &Layer, query: &str) -> Result<()> {
    let p = Params::parse(query, |k| matches!(k, "zoom" | "bbox" | "f"))?;
    p.check_format()?;
    let (zoom, bbox) = cluster_zoom_and_bbox(&p, atlas.config.tiles.max_zoom)?;
    let cfg = &cluster_config(atlas, layer);
    cluster::items_in_envelopes(layer, cfg, zoom, bbox.envelopes(), None);
    Ok(())
}

/// `/tiles/{layer}/clusters/{id}/leaves?limit=&offset=`: the query, then the cluster id as
/// the text after a `#`.
fn leaves(atlas: &common::Atlas, layer: &Layer, input: &str) -> Result<()> {
    let (query, id) = input.split_once('#').unwrap_or((input, "0"));
    let p = Params::parse(query, |k| matches!(k, "limit" | "offset" | "f"))?;
    p.check_format()?;
    if let Some(t) = p.get("limit") {
        parse_count("limit", t, 1, atlas.config.max_limit)?;
    }
    if let Some(t) = p.get("offset") {
        parse_count("offset", t, 0, usize::MAX)?;
    }
    let Ok(id) = id.parse::<u64>() else {
        return Ok(());
    };
    cluster::leaves(layer, &cluster_config(atlas, layer), id, None)?;
    Ok(())
}

/// `/tiles/{layers}/{z}/{x}/{y}`: the path segments `z/x/y` (then `?` and the query).
fn tile_path(atlas: &common::Atlas, input: &str) -> Result<()> {
    let (path, query) = input.split_once('?').unwrap_or((input, ""));
    let mut parts = path.splitn(3, '/');
    let (z, x, y) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    TileCoord::parse(z, x, y, atlas.config.tiles.max_zoom)?;
    json_only(query)
}

fn cluster_config(atlas: &common::Atlas, layer: &Layer) -> khorasan_atlas::tiles::ClusterConfig {
    atlas
        .config
        .layer(layer.id())
        .map(|l| l.tiles.cluster.clone())
        .unwrap_or_default()
}

/// A refused query is the client's fault: a 4xx, never a 500.
fn check_client_error(e: &Error) {
    let status = e.status();
    assert!((400..500).contains(&status), "status {status}: {e}");
}
