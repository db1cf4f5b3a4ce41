//! Tile metadata documents: TileJSON (`/tiles/{layers}`), the `/tiles` catalog, the OGC API -
//! Tiles tilesets of a collection and their documents, and the tile matrix sets
//! (`/tileMatrixSets`, WebMercatorQuad only).
//!
//! Owns: the JSON of these documents and their links. The TileJSON content is
//! [`crate::tiles::tilejson`]; the tiles they point to are served by [`super::content`].

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::content::MVT;
use super::{EPSG_3857, check_tms, layers_of, no_params};
use crate::catalog::Layer;
use crate::error::Result;
use crate::geom::mercator::HALF_WORLD_M;
use crate::http::format::{self, Format};
use crate::http::html::{self, Page};
use crate::http::{AppState, respond};
use crate::tiles::{Tiler, tilejson};

/// URI of the WebMercatorQuad tile matrix set.
pub const WEB_MERCATOR_QUAD_URI: &str =
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";

fn tiles_template(base: &str, layers: &str) -> String {
    format!("{base}/tiles/{layers}/{{z}}/{{x}}/{{y}}")
}

pub(super) async fn tilejson_doc(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    no_params(&req)?;
    let list = path.into_inner();
    let layers = layers_of(&state, &list)?;
    let refs: Vec<&Layer> = layers.iter().map(AsRef::as_ref).collect();
    let url = tiles_template(&respond::base_url(&req), &list);
    let doc = tilejson(&refs, &url, &state.tiler);
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

/// The format of a tileset document (JSON or HTML), from `f` (its only parameter) and
/// `Accept`.
fn doc_format(req: &HttpRequest) -> Result<Format> {
    let params = crate::http::params::format_only(req.query_string())?;
    format::choose(req, params.get("f"), format::DOCUMENT)
}

pub(super) async fn catalog(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let fmt = doc_format(&req)?;
    let base = respond::base_url(&req);
    let tilesets: Vec<Value> = state
        .catalog
        .layers
        .iter()
        .map(|h| h.snapshot())
        .filter(|l| state.tiler.layer_config(l.id()).enabled)
        .map(|l| {
            let cfg = state.tiler.layer_config(l.id());
            // Each entry is also an OGC API - Tiles tileset summary (dataType, crs,
            // tileMatrixSetURI, links to the tileset), so that a client following the
            // landing page's tilesets-vector link finds the tiles.
            let mut entry = ogc_tileset_summary(&base, &l);
            if let Some(obj) = entry.as_object_mut() {
                obj.extend([
                    ("id".to_owned(), json!(l.id())),
                    ("geometry".to_owned(), json!(l.geometry_kind.name())),
                    ("minzoom".to_owned(), json!(cfg.minzoom)),
                    (
                        "maxzoom".to_owned(),
                        json!(cfg.maxzoom.min(state.tiler.config.max_zoom)),
                    ),
                    ("clustered".to_owned(), json!(cfg.cluster.enabled)),
                    (
                        "tilejson".to_owned(),
                        json!(format!("{base}/tiles/{}", l.id())),
                    ),
                    ("tiles".to_owned(), json!(tiles_template(&base, l.id()))),
                ]);
            }
            entry
        })
        .collect();
    let doc = json!({
        "title": "Vector tilesets",
        "tilesets": tilesets,
        "composite": format!("{base}/tiles/{{layer}},{{layer}}/{{z}}/{{x}}/{{y}}"),
        "links": [
            {"rel": "self", "href": format!("{base}/tiles"), "type": respond::JSON},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "href": format!("{base}/tileMatrixSets"), "type": respond::JSON},
        ],
    });
    html::document(
        &req,
        fmt,
        Page::Tilesets,
        &doc,
        respond::JSON,
        state.config.cache_max_age,
    )
}

/// The WebMercatorQuad definition (OGC 2D Tile Matrix Set 2.0, JSON, with the 1.0 member
/// names alongside), zooms 0..=max_zoom.
pub fn web_mercator_quad(max_zoom: u8) -> Value {
    let matrices: Vec<Value> = (0..=max_zoom)
        .map(|z| {
            let n = 1u64 << z;
            #[expect(clippy::cast_precision_loss, reason = "powers of two")]
            let cell = 2.0 * HALF_WORLD_M / 256.0 / n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / 0.00028,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD_M, HALF_WORLD_M],
                // TMS 1.0 names, read by older clients (GDAL 3.6).
                "identifier": z.to_string(),
                "topLeftCorner": [-HALF_WORLD_M, HALF_WORLD_M],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            })
        })
        .collect();
    json!({
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": WEB_MERCATOR_QUAD_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
        // TMS 1.0 members as well, for clients that only read that version (GDAL 3.6).
        "type": "TileMatrixSetType",
        "identifier": "WebMercatorQuad",
        "supportedCRS": EPSG_3857,
        "boundingBox": {
            "type": "BoundingBoxType",
            "crs": EPSG_3857,
            "lowerCorner": [-HALF_WORLD_M, -HALF_WORLD_M],
            "upperCorner": [HALF_WORLD_M, HALF_WORLD_M],
        },
    })
}

pub(super) async fn matrix_sets(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    no_params(&req)?;
    let base = respond::base_url(&req);
    let doc = json!({
        "tileMatrixSets": [{
            "id": "WebMercatorQuad",
            "title": "Google Maps Compatible for the World",
            "uri": WEB_MERCATOR_QUAD_URI,
            "links": [{"rel": "self", "href": format!("{base}/tileMatrixSets/WebMercatorQuad"),
                       "type": respond::JSON}],
        }],
    });
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

pub(super) async fn matrix_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    no_params(&req)?;
    check_tms(&path.into_inner())?;
    let doc = web_mercator_quad(state.tiler.config.max_zoom);
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

fn ogc_tileset_doc(base: &str, layer: &Layer, tiler: &Tiler) -> Value {
    let max_zoom = tiler.config.max_zoom;
    let id = layer.id();
    let cfg = tiler.layer_config(id);
    let maxzoom = cfg.maxzoom.min(max_zoom);
    let fields: serde_json::Map<String, Value> = layer
        .fields
        .iter()
        .map(|f| {
            let t = f.kind.map_or("string", |k| k.json_type());
            (f.name.clone(), json!({"type": t}))
        })
        .collect();
    let mut doc = ogc_tileset_summary(base, layer);
    doc["tileMatrixSetLimits"] = (cfg.minzoom..=maxzoom)
        .map(|z| {
            let n = (1u64 << z) - 1;
            json!({"tileMatrix": z.to_string(), "minTileRow": 0, "maxTileRow": n, "minTileCol": 0, "maxTileCol": n})
        })
        .collect();
    doc["layers"] = json!([{
        "id": id,
        "dataType": "vector",
        "geometryDimension": match layer.geometry_kind.name() { "point" => 0, "line" => 1, _ => 2 },
        "minTileMatrix": cfg.minzoom.to_string(),
        "maxTileMatrix": maxzoom.to_string(),
        "propertiesSchema": {"type": "object", "properties": fields},
    }]);
    if let Some(e) = layer.extent {
        doc["boundingBox"] = json!({
            "lowerLeft": [e[0], e[1]], "upperRight": [e[2], e[3]],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        });
    }
    doc
}

/// The summary of a layer's WebMercatorQuad tileset, as tileset lists give it; the tileset
/// document ([`ogc_tileset_doc`]) adds limits, layers and bounding box.
fn ogc_tileset_summary(base: &str, layer: &Layer) -> Value {
    let id = layer.id();
    json!({
        "title": layer.config.title.clone().unwrap_or_else(|| id.to_owned()),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD_URI,
        "links": [
            {"rel": "self", "href": format!("{base}/collections/{id}/tiles/WebMercatorQuad"), "type": respond::JSON},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
             "href": format!("{base}/tileMatrixSets/WebMercatorQuad"), "type": respond::JSON},
            {"rel": "item", "type": MVT, "templated": true,
             "href": format!("{base}/collections/{id}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")},
            {"rel": "describedby", "type": respond::JSON, "href": format!("{base}/tiles/{id}"),
             "title": "TileJSON"},
        ],
    })
}

pub(super) async fn ogc_tilesets(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let fmt = doc_format(&req)?;
    let id = path.into_inner();
    let layer = layers_of(&state, &id)?.remove(0);
    let base = respond::base_url(&req);
    let ts = ogc_tileset_summary(&base, &layer);
    let doc = json!({
        "links": [
            {"rel": "self", "href": format!("{base}/collections/{id}/tiles"), "type": respond::JSON},
            {"rel": "collection", "href": format!("{base}/collections/{id}"), "type": respond::JSON},
        ],
        "tilesets": [ts],
    });
    html::document(
        &req,
        fmt,
        Page::Tilesets,
        &doc,
        respond::JSON,
        state.config.cache_max_age,
    )
}

pub(super) async fn ogc_tileset(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let fmt = doc_format(&req)?;
    let (id, tms) = path.into_inner();
    check_tms(&tms)?;
    let layer = layers_of(&state, &id)?.remove(0);
    let doc = ogc_tileset_doc(&respond::base_url(&req), &layer, &state.tiler);
    html::document(
        &req,
        fmt,
        Page::Tileset,
        &doc,
        respond::JSON,
        state.config.cache_max_age,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quad_matrix_sizes() {
        let q = web_mercator_quad(2);
        assert_eq!(q["tileMatrices"].as_array().map(Vec::len), Some(3));
        assert_eq!(q["tileMatrices"][2]["matrixWidth"], 4);
        let s0 = q["tileMatrices"][0]["scaleDenominator"]
            .as_f64()
            .unwrap_or(0.0);
        assert!((s0 - 559_082_264.028_717_8).abs() < 1e-3, "{s0}");
    }
}
