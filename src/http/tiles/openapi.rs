//! The OpenAPI 3.0 description of the tile routes, for `/api`.
//!
//! Owns: the path items of every route of [`super::TILE_ROUTES`]: parameters, media types
//! and status codes. The rest of the API document is [`crate::http::openapi`].

use serde_json::{Value, json};

use super::content::MVT;
use crate::http::format::{self, Format};
use crate::http::openapi::{content, format_param, query_param};
use crate::http::respond;
use crate::query::request::{FILTER, FILTER_CRS, FILTER_LANG, PageLimits};

/// OpenAPI 3.0 path items of the tile routes (every path of [`TILE_ROUTES`]), for
/// `/api`. `ids` are the collection ids; `limits` the page sizes of the listings.
pub fn openapi_paths(ids: &[&str], limits: PageLimits) -> Vec<(String, Value)> {
    // The CQL2 filter of tiles and cluster listings (`filter`, `filter-lang`, `filter-crs`).
    let with_filter = |mut params: Vec<Value>| {
        params.extend(
            [FILTER, FILTER_LANG, FILTER_CRS]
                .iter()
                .map(|p| query_param(p, limits)),
        );
        params
    };
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
    let responses = |media: &str, offers: &[Format], empty: bool| {
        let mut r = json!({
            "200": {"description": "OK", "content": content(media, offers)},
            "304": {"description": "Not modified (If-None-Match)"},
            "400": {"description": "Bad request", "content": {"application/problem+json": {}}},
            "404": {"description": "Not found", "content": {"application/problem+json": {}}},
        });
        if empty {
            r["204"] = json!({"description": "Empty tile: no feature of any requested layer"});
        }
        r
    };
    // A route's formats: its `f` parameter (when it takes one) lists them and its `200`
    // answer has a media type for each.
    let get = |summary: &str, params: Vec<Value>, media: &str, offers: &[Format], empty: bool| json!({"get": {"summary": summary, "tags": ["Tiles"], "parameters": params, "responses": responses(media, offers, empty)}});
    let f = format_param(format::JSON_ONLY);
    let f_doc = format_param(format::DOCUMENT);
    vec![
        (
            "/tiles".into(),
            get(
                "Catalog of tilesets",
                vec![f_doc.clone()],
                respond::JSON,
                format::DOCUMENT,
                false,
            ),
        ),
        (
            "/tiles/{tilesetId}".into(),
            get(
                "TileJSON 3.0.0",
                vec![tileset.clone(), f.clone()],
                respond::JSON,
                format::JSON_ONLY,
                false,
            ),
        ),
        (
            "/tiles/{tilesetId}/{z}/{x}/{y}".into(),
            get(
                "Vector tile (MVT 2.1); y may end in .mvt or .pbf",
                with_filter(vec![
                    tileset,
                    int("z", "Zoom."),
                    int("x", "Column."),
                    path_param(
                        "y",
                        "Row, optionally with .mvt or .pbf.",
                        json!({"type": "string"}),
                    ),
                ]),
                MVT,
                format::JSON_ONLY,
                true,
            ),
        ),
        (
            "/tiles/{collectionId}/clusters".into(),
            get(
                "Clusters and lone points at a zoom (clustered layers)",
                with_filter(vec![
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
                ]),
                respond::GEOJSON,
                format::JSON_ONLY,
                false,
            ),
        ),
        (
            "/tiles/{collectionId}/clusters/{clusterId}/leaves".into(),
            get(
                "The points of a cluster",
                with_filter(vec![
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
                ]),
                respond::GEOJSON,
                format::JSON_ONLY,
                false,
            ),
        ),
        (
            "/tileMatrixSets".into(),
            get(
                "Tile matrix sets",
                vec![f.clone()],
                respond::JSON,
                format::JSON_ONLY,
                false,
            ),
        ),
        (
            "/tileMatrixSets/{tileMatrixSetId}".into(),
            get(
                "A tile matrix set",
                vec![tms.clone(), f],
                respond::JSON,
                format::JSON_ONLY,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles".into(),
            get(
                "Vector tilesets of a collection",
                vec![collection.clone(), f_doc.clone()],
                respond::JSON,
                format::DOCUMENT,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles/{tileMatrixSetId}".into(),
            get(
                "Vector tileset metadata",
                vec![collection.clone(), tms.clone(), f_doc],
                respond::JSON,
                format::DOCUMENT,
                false,
            ),
        ),
        (
            "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
                .into(),
            get(
                "Vector tile (OGC API - Tiles; row before column)",
                with_filter(vec![
                    collection,
                    tms,
                    int("tileMatrix", "Zoom."),
                    int("tileRow", "Row (y)."),
                    int("tileCol", "Column (x)."),
                ]),
                MVT,
                format::JSON_ONLY,
                true,
            ),
        ),
    ]
}
