//! The cluster GeoJSON endpoints of clustered layers:
//! `/tiles/{layer}/clusters?zoom=Z&bbox=W,S,E,N` and
//! `/tiles/{layer}/clusters/{cluster_id}/leaves?limit=&offset=`.
//!
//! Owns: their parameters and the GeoJSON of clusters and points. Which items a zoom and a
//! bbox hold, a cluster's members and a cluster's properties are [`crate::tiles::cluster`]'s,
//! the same as in the tiles.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{is_filter_param, layer_filter};
use crate::catalog::Layer;
use crate::catalog::output::FeatureJson;
use crate::error::{Error, Result};
use crate::http::{AppState, params::Params, respond};
use crate::query::params::{cluster_zoom_and_bbox, parse_count};
use crate::tiles::cluster::{self, ClusterValue, Item};

/// The snapshot of layer `id`, which must be clustered (else a 404).
fn cluster_layer(state: &AppState, id: &str) -> Result<Arc<Layer>> {
    let layer = state.catalog.get(id)?.snapshot();
    if !state.tiler.layer_config(layer.id()).cluster.enabled {
        return Err(Error::NotFound {
            kind: "clustering of layer",
            id: id.to_owned(),
        });
    }
    Ok(layer)
}

/// A GeoJSON feature: the point feature itself, or a cluster with its properties (a sum
/// no member has is `null`).
fn item_json(sums: &[String], layer: &Layer, item: &Item) -> Value {
    match item {
        Item::Point(pos) => layer
            .features
            .get(*pos)
            .and_then(|f| serde_json::to_value(FeatureJson::new(layer, f)).ok())
            .unwrap_or(Value::Null),
        Item::Cluster(c) => {
            let props: serde_json::Map<String, Value> = c
                .properties(sums)
                .map(|(name, v)| {
                    let v = match v {
                        Some(ClusterValue::Bool(b)) => Value::from(b),
                        Some(ClusterValue::Int(i)) => Value::from(i),
                        Some(ClusterValue::Float(f)) => Value::from(f),
                        None => Value::Null,
                    };
                    (name.to_owned(), v)
                })
                .collect();
            json!({
                "type": "Feature",
                "id": c.id,
                "geometry": {"type": "Point", "coordinates": c.lonlat()},
                "properties": props,
            })
        }
    }
}

/// `/tiles/{layer}/clusters?zoom=Z&bbox=W,S,E,N`: the clusters and lone points at zoom Z
/// whose position is in the bbox (default: the world), as a GeoJSON FeatureCollection.
pub(super) async fn clusters(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let p = Params::parse(req.query_string(), |k| {
        matches!(k, "zoom" | "bbox" | "f") || is_filter_param(k)
    })?;
    p.check_format()?;
    let layer = cluster_layer(&state, &path.into_inner())?;
    let keep = layer_filter(&layer, &p)?;
    let cfg = &state.tiler.layer_config(layer.id()).cluster;
    let (zoom, bbox) = cluster_zoom_and_bbox(&p, state.tiler.config.max_zoom)?;
    let items = cluster::items_in_envelopes(&layer, cfg, zoom, bbox.envelopes(), keep.as_ref());
    let total: usize = items.iter().map(Item::count).sum();
    let features: Vec<Value> = items
        .iter()
        .map(|i| item_json(&cfg.sum, &layer, i))
        .collect();
    let doc = json!({
        "type": "FeatureCollection",
        "zoom": zoom,
        "numberReturned": features.len(),
        "pointCount": total,
        "features": features,
    });
    respond::json(&req, &doc, respond::GEOJSON, state.config.cache_max_age)
}

/// `/tiles/{layer}/clusters/{cluster_id}/leaves?limit=&offset=`: the points of a cluster,
/// ordered by id, as GeoJSON.
pub(super) async fn leaves(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let p = Params::parse(req.query_string(), |k| {
        matches!(k, "limit" | "offset" | "f") || is_filter_param(k)
    })?;
    p.check_format()?;
    let (id, cluster_text) = path.into_inner();
    let layer = cluster_layer(&state, &id)?;
    let keep = layer_filter(&layer, &p)?;
    let cluster_id: u64 = cluster_text.parse().map_err(|_| Error::NotFound {
        kind: "cluster",
        id: cluster_text.clone(),
    })?;
    let limit = match p.get("limit") {
        Some(t) => parse_count("limit", t, 1, state.config.max_limit)?,
        None => state.config.max_limit,
    };
    let offset = match p.get("offset") {
        Some(t) => parse_count("offset", t, 0, usize::MAX)?,
        None => 0,
    };
    let members = cluster::leaves(
        &layer,
        &state.tiler.layer_config(layer.id()).cluster,
        cluster_id,
        keep.as_ref(),
    )?;
    let features: Vec<Value> = members
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&pos| item_json(&[], &layer, &Item::Point(pos)))
        .collect();
    let doc = json!({
        "type": "FeatureCollection",
        "cluster_id": cluster_id,
        "numberMatched": members.len(),
        "numberReturned": features.len(),
        "features": features,
    });
    let body = respond::json_bytes_within(&doc, state.config.limits.max_response_bytes)?;
    Ok(respond::cacheable(
        &req,
        body,
        respond::GEOJSON,
        state.config.cache_max_age,
    ))
}
