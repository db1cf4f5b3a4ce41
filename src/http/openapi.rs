//! The OpenAPI 3.0 document served at `/api`, written from the same parameter tables the
//! requests are parsed with ([`crate::query::request`]) and the same lists of formats the
//! handlers negotiate with ([`super::format`]): each route's `f` lists, and its `200`
//! answer has a media type for, exactly the formats it serves. A test checks that every
//! route of [`super::ROUTES`] is documented.

use serde_json::{Value, json};

use super::format::{self, Format};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::query::request::{
    FORMAT, ITEMS_PARAMS, NEAREST_PARAMS, PageLimits, ParamSpec, RADIUS_PARAMS,
};

fn param(name: &str, location: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({ "name": name, "in": location, "description": description, "required": required, "schema": schema, "style": "form", "explode": false })
}

pub(super) fn query_param(spec: &ParamSpec, limits: PageLimits) -> Value {
    param(
        spec.name,
        "query",
        spec.description,
        spec.schema(limits),
        spec.required,
    )
}

/// The `f` parameter of a route serving `offers`.
pub fn format_param(offers: &[Format]) -> Value {
    let names: Vec<&str> = offers.iter().map(|f| f.name()).collect();
    param(
        FORMAT.name,
        "query",
        FORMAT.description,
        json!({ "type": "string", "enum": names }),
        false,
    )
}

/// The `200` content of a route serving `offers`, its JSON being of media type `json`.
pub fn content(json: &str, offers: &[Format]) -> Value {
    let map: serde_json::Map<String, Value> = offers
        .iter()
        .map(|f| (f.media(json).to_owned(), json!({})))
        .collect();
    Value::Object(map)
}

/// The parameters of `specs`, `f` listing `offers`.
fn query_params(specs: &[ParamSpec], limits: PageLimits, offers: &[Format]) -> Vec<Value> {
    specs
        .iter()
        .map(|p| {
            if p.name == FORMAT.name {
                format_param(offers)
            } else {
                query_param(p, limits)
            }
        })
        .collect()
}

/// A problem+json response (RFC 7807) described by `description`.
pub fn problem(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": {} } })
}

/// The answers of a read: the document in each of `offers` (JSON of media type `media`),
/// 304 for a matching `If-None-Match`, 400 for a bad parameter (the detail names it), 404
/// for an unknown collection, feature or tile.
pub fn read_responses(media: &str, offers: &[Format]) -> Value {
    json!({
        "200": { "description": "OK", "content": content(media, offers) },
        "304": { "description": "Not modified (If-None-Match)" },
        "400": problem("Bad request: the detail names the parameter and its value"),
        "404": problem("Not found"),
    })
}

fn get(summary: &str, params: Vec<Value>, media: &str, offers: &[Format]) -> Value {
    json!({ "get": { "summary": summary, "parameters": params, "responses": read_responses(media, offers) } })
}

/// The OpenAPI document for the catalog. The write operations are described only for the
/// `writable` collections (those that take writes on this server now); with none, the
/// document has no write operation.
pub fn document(config: &Config, catalog: &Catalog, writable: &[&str]) -> Value {
    let limits = super::params::page_limits(config);
    let ids: Vec<&str> = catalog.layers.iter().map(|l| l.id.as_str()).collect();
    let collection_id = param(
        "collectionId",
        "path",
        "Collection id.",
        json!({ "type": "string", "enum": ids }),
        true,
    );
    let feature_id = param(
        "featureId",
        "path",
        "Feature id (number, or the source string id).",
        json!({ "type": "string" }),
        true,
    );
    let q = |specs: &[ParamSpec], extra_note: bool| {
        let mut v = query_params(specs, limits, format::LISTING);
        if extra_note {
            v.push(json!({ "name": "filters", "in": "query", "required": false, "style": "form", "explode": true,
                "description": "Equality filters on queryable properties, e.g. responsibility=claimed (see /collections/{collectionId}/queryables).",
                "schema": { "type": "object", "additionalProperties": { "type": "string" } } }));
        }
        v
    };
    let with_id = |mut v: Vec<Value>| {
        v.insert(0, collection_id.clone());
        v
    };
    let f_only = || vec![format_param(format::DOCUMENT)];
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/".into(),
        get(
            "Landing page",
            f_only(),
            "application/json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/conformance".into(),
        get(
            "Conformance classes",
            f_only(),
            "application/json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/api".into(),
        get(
            "This OpenAPI document",
            vec![format_param(format::JSON_ONLY)],
            "application/vnd.oai.openapi+json;version=3.0",
            format::JSON_ONLY,
        ),
    );
    paths.insert(
        "/collections".into(),
        get(
            "Collections",
            f_only(),
            "application/json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/collections/{collectionId}".into(),
        get(
            "One collection",
            with_id(f_only()),
            "application/json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/collections/{collectionId}/queryables".into(),
        get(
            "Queryable properties (JSON Schema)",
            with_id(f_only()),
            "application/schema+json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/collections/{collectionId}/items".into(),
        get(
            "Features, filtered and paged",
            with_id(q(ITEMS_PARAMS, true)),
            "application/geo+json",
            format::LISTING,
        ),
    );
    let mut item_params = with_id(f_only());
    item_params.insert(1, feature_id);
    paths.insert(
        "/collections/{collectionId}/items/{featureId}".into(),
        get(
            "One feature",
            item_params,
            "application/geo+json",
            format::DOCUMENT,
        ),
    );
    paths.insert(
        "/collections/{collectionId}/radius".into(),
        get(
            "Features within a geodesic radius, nearest first, with distance_m",
            with_id(q(RADIUS_PARAMS, true)),
            "application/geo+json",
            format::LISTING,
        ),
    );
    paths.insert(
        "/collections/{collectionId}/nearest".into(),
        get(
            "The nearest features (geodesic), with distance_m",
            with_id(q(NEAREST_PARAMS, true)),
            "application/geo+json",
            format::LISTING,
        ),
    );
    // The routes without `f`: one representation each, of the media type given.
    paths.insert(
        "/health".into(),
        get("Liveness", vec![], "application/json", format::JSON_ONLY),
    );
    paths.insert(
        "/map".into(),
        get("The map page", vec![], "text/html", format::JSON_ONLY),
    );
    paths.insert(
        "/metrics".into(),
        get(
            "Prometheus metrics",
            vec![],
            "text/plain",
            format::JSON_ONLY,
        ),
    );
    for (path, item) in super::tiles::openapi_paths(&ids, limits) {
        paths.insert(path, item);
    }
    add_events(&mut paths, &collection_id);
    if !writable.is_empty() {
        let writable_id = param(
            "collectionId",
            "path",
            "A collection that takes writes.",
            json!({ "type": "string", "enum": writable }),
            true,
        );
        add_writes(&mut paths, &writable_id);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "khorasan-atlas",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "ISIS-K attacks against the historical Khorasan region: OGC API - Features, vector tiles and geodesic spatial queries.",
            "license": { "name": "Data: see /collections attributions" }
        },
        "paths": paths,
        "components": { "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
    })
}

/// The event stream of a collection.
fn add_events(paths: &mut serde_json::Map<String, Value>, collection_id: &Value) {
    paths.insert(
        "/collections/{collectionId}/events".into(),
        json!({ "get": {
            "summary": "Server-sent events: create, update and delete of features",
            "parameters": [collection_id],
            "responses": {
                "200": { "description": "An event stream", "content": { "text/event-stream": {} } },
                "400": problem("Bad request"),
                "404": problem("No such collection"),
            },
        }}),
    );
}

/// The write operations (OGC API - Features Part 4 shape), on the `collection_id`s that
/// take writes.
fn add_writes(paths: &mut serde_json::Map<String, Value>, collection_id: &Value) {
    let errors = json!({
        "400": problem("Invalid body or parameter (the detail names the field)"),
        "401": problem("Missing or wrong bearer token"),
        "404": problem("No such collection or feature"),
        "405": problem("The layer is not writable, or writes are off"),
        "409": problem("The change conflicts with the current state"),
        "412": problem("If-Match does not match the feature's ETag"),
        "413": problem("Body too large"),
        "429": problem("Too many writes; see Retry-After"),
        "503": problem("Storage unavailable; the write was not applied"),
    });
    let with = |mut base: Value, extra: Value| {
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    };
    let security = json!([{ "bearer": [] }]);
    let body = json!({ "required": true, "content": { "application/geo+json": { "schema": { "type": "object" } } } });
    let feature_id = json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } });
    let if_match = json!({ "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" } });
    let idempotency = json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string" } });
    if let Some(item) = paths
        .get_mut("/collections/{collectionId}/items")
        .and_then(Value::as_object_mut)
    {
        item.insert("post".into(), json!({
            "summary": "Create a feature (writable layers; bearer token)",
            "security": security, "parameters": [collection_id, idempotency], "requestBody": body,
            "responses": with(json!({ "201": { "description": "Created; Location names the feature" } }), errors.clone()),
        }));
    }
    if let Some(item) = paths
        .get_mut("/collections/{collectionId}/items/{featureId}")
        .and_then(Value::as_object_mut)
    {
        item.insert(
            "put".into(),
            json!({
                "summary": "Replace a feature", "security": security,
                "parameters": [collection_id, feature_id, if_match], "requestBody": body,
                "responses": with(json!({ "200": { "description": "Replaced" } }), errors.clone()),
            }),
        );
        item.insert(
            "delete".into(),
            json!({
                "summary": "Delete a feature", "security": security,
                "parameters": [collection_id, feature_id, if_match],
                "responses": with(json!({ "204": { "description": "Deleted" } }), errors),
            }),
        );
    }
}
