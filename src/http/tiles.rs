//! Vector tile routes: `/tiles` (catalog), `/tiles/{layers}` (TileJSON 3.0),
//! `/tiles/{layers}/{z}/{x}/{y}[.mvt|.pbf]` (MVT, one layer or a comma-separated composite),
//! the cluster GeoJSON endpoints, and OGC API - Tiles for WebMercatorQuad
//! (`/tileMatrixSets...`, `/collections/{id}/tiles...`).
//!
//! Owns: decoding tile requests into [`TileCoord`]s (a 400 naming the bad value before any
//! work), content negotiation of the pre-compressed tiles, and the tile metadata documents.
//! Rendering and caching are in [`crate::tiles`].
//!
//! Responses: `application/vnd.mapbox-vector-tile`, strong `ETag` (of the uncompressed
//! tile), `If-None-Match` -> 304, `Cache-Control: public, max-age=<server.tiles.max_age>`,
//! `Content-Encoding: gzip` when the client accepts gzip. An empty tile (no feature of any
//! requested layer) is always `204 No Content`, with the same caching headers.
//! `X-Tile-Cache: hit|miss` tells where a tile came from; `X-Tile-Thinned` lists the layers
//! the per-tile budget thinned as `layer=kept/candidates`.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::params::Params;
use super::respond;
use crate::catalog::Layer;
use crate::catalog::output::FeatureJson;
use crate::error::{Error, Result};
use crate::query::params::{BBox, parse_count};
use crate::tiles::cluster::{self, Item};
use crate::tiles::coord::{merc_x_to_lon, merc_y_to_lat};
use crate::tiles::{CachedTile, Tiler, tilejson};

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// URI of the WebMercatorQuad tile matrix set.
pub const WEB_MERCATOR_QUAD_URI: &str =
    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
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

/// Registers the routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles", super::read().to(catalog))
        .route("/tiles/{layer}/clusters", super::read().to(clusters))
        .route(
            "/tiles/{layer}/clusters/{cluster}/leaves",
            super::read().to(leaves),
        )
        .route("/tiles/{layers}", super::read().to(tilejson_doc))
        .route("/tiles/{layers}/{z}/{x}/{y}", super::read().to(tile))
        .route("/tileMatrixSets", super::read().to(matrix_sets))
        .route("/tileMatrixSets/{tms}", super::read().to(matrix_set))
        .route("/collections/{id}/tiles", super::read().to(ogc_tilesets))
        .route(
            "/collections/{id}/tiles/{tms}",
            super::read().to(ogc_tileset),
        )
        .route(
            "/collections/{id}/tiles/{tms}/{matrix}/{row}/{col}",
            super::read().to(ogc_tile),
        );
}

/// Snapshots of the layers named in a comma-separated list; each must serve tiles.
fn layers_of(state: &AppState, list: &str) -> Result<Vec<Arc<Layer>>> {
    let mut out: Vec<Arc<Layer>> = Vec::new();
    for id in list.split(',') {
        let layer = state.catalog.get(id)?.snapshot();
        if !state.tiler.layer_config(id).enabled {
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

fn no_params(req: &HttpRequest) -> Result<Params> {
    let p = Params::parse(req.query_string(), |k| k == "f")?;
    p.check_format()?;
    Ok(p)
}

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

async fn serve_tile(
    req: &HttpRequest,
    state: &AppState,
    layers: &str,
    z: &str,
    x: &str,
    y: &str,
) -> Result<HttpResponse> {
    no_params(req)?;
    let coord = state.tiler.parse_coord(z, x, y)?;
    let layers = layers_of(state, layers)?;
    let tiler = Arc::clone(&state.tiler);
    // Rendering is CPU work: keep it off the async workers.
    let (tile, hit) = match tiler.cached(&layers, coord) {
        Some(t) => (t, true),
        None => web::block(move || tiler.tile(&layers, coord))
            .await
            .map_err(|e| Error::Internal(format!("tile task: {e}")))??,
    };
    Ok(tile_response(req, state, &tile, hit))
}

async fn tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse> {
    let (layers, z, x, y) = path.into_inner();
    serve_tile(&req, &state, &layers, &z, &x, &y).await
}

async fn ogc_tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse> {
    let (id, tms, matrix, row, col) = path.into_inner();
    check_tms(&tms)?;
    // OGC orders row (y) before column (x).
    serve_tile(&req, &state, &id, &matrix, &col, &row).await
}

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

fn tiles_template(base: &str, layers: &str) -> String {
    format!("{base}/tiles/{layers}/{{z}}/{{x}}/{{y}}")
}

async fn tilejson_doc(
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

async fn catalog(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    no_params(&req)?;
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
        "tilesets": tilesets,
        "composite": format!("{base}/tiles/{{layer}},{{layer}}/{{z}}/{{x}}/{{y}}"),
        "links": [
            {"rel": "self", "href": format!("{base}/tiles"), "type": respond::JSON},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "href": format!("{base}/tileMatrixSets"), "type": respond::JSON},
        ],
    });
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

fn cluster_layer(state: &AppState, id: &str) -> Result<Arc<Layer>> {
    let layer = state.catalog.get(id)?.snapshot();
    if !state.tiler.layer_config(id).cluster.enabled {
        return Err(Error::NotFound {
            kind: "clustering of layer",
            id: id.to_owned(),
        });
    }
    Ok(layer)
}

fn item_json(tiler: &Tiler, layer: &Layer, item: &Item) -> Value {
    match item {
        Item::Point(pos) => serde_json::to_value(FeatureJson::new(layer, &layer.features[*pos]))
            .unwrap_or(Value::Null),
        Item::Cluster(c) => {
            let mut props = serde_json::Map::new();
            props.insert("cluster".into(), Value::Bool(true));
            props.insert("cluster_id".into(), Value::from(c.id));
            props.insert("point_count".into(), Value::from(c.count));
            props.insert("expansion_zoom".into(), Value::from(c.expansion_zoom));
            for (name, sum) in tiler
                .layer_config(layer.id())
                .cluster
                .sum
                .iter()
                .zip(&c.sums)
            {
                let v = match sum {
                    Some(cluster::Sum::Int(i)) => Value::from(*i),
                    Some(cluster::Sum::Float(f)) => Value::from(*f),
                    None => Value::Null,
                };
                props.insert(name.clone(), v);
            }
            json!({
                "type": "Feature",
                "id": c.id,
                "geometry": {"type": "Point", "coordinates": [merc_x_to_lon(c.merc[0]), merc_y_to_lat(c.merc[1])]},
                "properties": props,
            })
        }
    }
}

/// `/tiles/{layer}/clusters?zoom=Z&bbox=W,S,E,N`: the clusters and lone points at zoom Z
/// whose position is in the bbox (default: the world), as a GeoJSON FeatureCollection.
async fn clusters(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let p = Params::parse(req.query_string(), |k| matches!(k, "zoom" | "bbox" | "f"))?;
    p.check_format()?;
    let layer = cluster_layer(&state, &path.into_inner())?;
    let cfg = &state.tiler.layer_config(layer.id()).cluster;
    let zoom_text = p
        .get("zoom")
        .ok_or_else(|| Error::bad_param("zoom", "", "zoom is required"))?;
    let zoom = parse_count(
        "zoom",
        zoom_text,
        0,
        usize::from(state.tiler.config.max_zoom),
    )?;
    let zoom = u8::try_from(zoom).unwrap_or(u8::MAX);
    let bbox = match p.get("bbox") {
        Some(b) => BBox::parse(b)?,
        None => BBox {
            west: -180.0,
            south: -90.0,
            east: 180.0,
            north: 90.0,
        },
    };
    let items = if cfg.applies(zoom) {
        cluster::clusters_in_bbox(
            &layer,
            cfg,
            zoom,
            [bbox.west, bbox.south, bbox.east, bbox.north],
        )
    } else {
        // Above the cluster max zoom every point is itself.
        let mut pos: Vec<usize> = bbox
            .envelopes()
            .flat_map(|[w, s, e, n]| layer.index.in_envelope(w, s, e, n).collect::<Vec<_>>())
            .collect();
        pos.sort_unstable();
        pos.dedup();
        pos.into_iter().map(Item::Point).collect()
    };
    let total: usize = items.iter().map(Item::count).sum();
    let features: Vec<Value> = items
        .iter()
        .map(|i| item_json(&state.tiler, &layer, i))
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
async fn leaves(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let p = Params::parse(req.query_string(), |k| {
        matches!(k, "limit" | "offset" | "f")
    })?;
    p.check_format()?;
    let (id, cluster_text) = path.into_inner();
    let layer = cluster_layer(&state, &id)?;
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
    )?;
    let features: Vec<Value> = members
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&pos| item_json(&state.tiler, &layer, &Item::Point(pos)))
        .collect();
    let doc = json!({
        "type": "FeatureCollection",
        "cluster_id": cluster_id,
        "numberMatched": members.len(),
        "numberReturned": features.len(),
        "features": features,
    });
    respond::json(&req, &doc, respond::GEOJSON, state.config.cache_max_age)
}

/// The WebMercatorQuad definition (OGC 2D Tile Matrix Set 2.0, JSON, with the 1.0 member
/// names alongside), zooms 0..=max_zoom.
pub fn web_mercator_quad(max_zoom: u8) -> Value {
    const HALF: f64 = 20_037_508.342_789_244;
    let matrices: Vec<Value> = (0..=max_zoom)
        .map(|z| {
            let n = 1u64 << z;
            #[expect(clippy::cast_precision_loss, reason = "powers of two")]
            let cell = 2.0 * HALF / 256.0 / n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / 0.00028,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF, HALF],
                // TMS 1.0 names, read by older clients (GDAL 3.6).
                "identifier": z.to_string(),
                "topLeftCorner": [-HALF, HALF],
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
            "lowerCorner": [-HALF, -HALF],
            "upperCorner": [HALF, HALF],
        },
    })
}

async fn matrix_sets(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
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

async fn matrix_set(
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
    let cfg = tiler.layer_config(layer.id());
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

async fn ogc_tilesets(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    no_params(&req)?;
    let id = path.into_inner();
    let layer = layers_of(&state, &id)?.remove(0);
    let base = respond::base_url(&req);
    let ts = ogc_tileset_summary(&base, &layer);
    let doc = json!({
        "links": [{"rel": "self", "href": format!("{base}/collections/{id}/tiles"), "type": respond::JSON}],
        "tilesets": [ts],
    });
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

async fn ogc_tileset(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    no_params(&req)?;
    let (id, tms) = path.into_inner();
    check_tms(&tms)?;
    let layer = layers_of(&state, &id)?.remove(0);
    let doc = ogc_tileset_doc(&respond::base_url(&req), &layer, &state.tiler);
    respond::json(&req, &doc, respond::JSON, state.config.cache_max_age)
}

/// OpenAPI 3.0 path items of the tile routes (every path of [`TILE_ROUTES`]), for
/// `/api`. `ids` are the collection ids.
pub fn openapi_paths(ids: &[&str]) -> Vec<(String, Value)> {
    let path_param = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema});
    let query = |name: &str, description: &str, schema: Value, required: bool| json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema});
    let collection = path_param(
        "collectionId",
        "Collection id.",
        json!({"type": "string", "enum": ids}),
    );
    let tileset = path_param(
        "tilesetId",
        "A collection id, or several joined by commas for a composite tile (one MVT layer each).",
        json!({"type": "string"}),
    );
    let tms = path_param(
        "tileMatrixSetId",
        "Tile matrix set.",
        json!({"type": "string", "enum": ["WebMercatorQuad"]}),
    );
    let int = |name: &str, description: &str| {
        path_param(name, description, json!({"type": "integer", "minimum": 0}))
    };
    let responses = |media: &str, empty: bool| {
        let mut r = json!({
            "200": {"description": "OK", "content": {media: {}}},
            "304": {"description": "Not modified (If-None-Match)"},
            "400": {"description": "Bad request", "content": {"application/problem+json": {}}},
            "404": {"description": "Not found", "content": {"application/problem+json": {}}},
        });
        if empty {
            r["204"] = json!({"description": "Empty tile: no feature of any requested layer"});
        }
        r
    };
    let get = |summary: &str, params: Vec<Value>, media: &str, empty: bool| json!({"get": {"summary": summary, "tags": ["Tiles"], "parameters": params, "responses": responses(media, empty)}});
    let f = query(
        "f",
        "Output format.",
        json!({"type": "string", "enum": ["json"]}),
        false,
    );
    vec![
        (
            "/tiles".into(),
            get("Catalog of tilesets", vec![f.clone()], respond::JSON, false),
        ),
        (
            "/tiles/{tilesetId}".into(),
            get(
                "TileJSON 3.0.0",
                vec![tileset.clone(), f.clone()],
                respond::JSON,
                false,
            ),
        ),
        (
            "/tiles/{tilesetId}/{z}/{x}/{y}".into(),
            get(
                "Vector tile (MVT 2.1); y may end in .mvt or .pbf",
                vec![
                    tileset,
                    int("z", "Zoom."),
                    int("x", "Column."),
                    path_param(
                        "y",
                        "Row, optionally with .mvt or .pbf.",
                        json!({"type": "string"}),
                    ),
                ],
                MVT,
                true,
            ),
        ),
        (
            "/tiles/{collectionId}/clusters".into(),
            get(
                "Clusters and lone points at a zoom (clustered layers)",
                vec![
                    collection.clone(),
                    query(
                        "zoom",
                        "Zoom.",
                        json!({"type": "integer", "minimum": 0}),
                        true,
                    ),
                    query(
                        "bbox",
                        "west,south,east,north (degrees).",
                        json!({"type": "string"}),
                        false,
                    ),
                    f.clone(),
                ],
                respond::GEOJSON,
                false,
            ),
        ),
        (
            "/tiles/{collectionId}/clusters/{clusterId}/leaves".into(),
            get(
                "The points of a cluster",
                vec![
                    collection.clone(),
                    path_param(
                        "clusterId",
                        "cluster_id of a cluster.",
                        json!({"type": "integer"}),
                    ),
                    query(
                        "limit",
                        "Page size.",
                        json!({"type": "integer", "minimum": 1}),
                        false,
                    ),
                    query(
                        "offset",
                        "Start.",
                        json!({"type": "integer", "minimum": 0}),
                        false,
                    ),
                    f.clone(),
                ],
                respond::GEOJSON,
                false,
            ),
        ),
        (
            "/tileMatrixSets".into(),
            get("Tile matrix sets", vec![f.clone()], respond::JSON, false),
        ),
        (
            "/tileMatrixSets/{tileMatrixSetId}".into(),
            get(
                "A tile matrix set",
                vec![tms.clone(), f.clone()],
                respond::JSON,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles".into(),
            get(
                "Vector tilesets of a collection",
                vec![collection.clone(), f.clone()],
                respond::JSON,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles/{tileMatrixSetId}".into(),
            get(
                "Vector tileset metadata",
                vec![collection.clone(), tms.clone(), f],
                respond::JSON,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
                .into(),
            get(
                "Vector tile (OGC API - Tiles; row before column)",
                vec![
                    collection,
                    tms,
                    int("tileMatrix", "Zoom."),
                    int("tileRow", "Row (y)."),
                    int("tileCol", "Column (x)."),
                ],
                MVT,
                true,
            ),
        ),
    ]
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
