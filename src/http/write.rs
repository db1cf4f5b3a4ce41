//! Writes, shaped like OGC API - Features Part 4 (Create, Replace, Delete):
//! `POST /collections/{id}/items` (201 + `Location`), `PUT` and `DELETE`
//! `/collections/{id}/items/{featureId}`; and the live events of [`super::events`].
//!
//! Owns: turning a request into a [`WriteRequest`] (in this order: collection exists -> 404;
//! layer writable and writes on -> else 405 with `Allow`; bearer token -> 401; rate limit ->
//! 429 with `Retry-After`; no query parameters -> 400; body within the limit -> 413; body
//! valid for the layer -> 400 naming the field), and the answer into a response. The checks
//! against the current state (404, 409, 412) and the durable commit (503 when storage fails)
//! are the store's ([`crate::store::WriteService`]).
//!
//! Writes are off until a token is configured; a write then gets the same 405 as a layer that
//! is not writable (the method is not allowed on this server), with a detail saying why.
//! Tokens are read from the `Authorization: Bearer` header only, never from the query string.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, guard, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::params::Params;
use super::respond::{self, GEOJSON};
use super::state::AppState;
use crate::error::{Error, Result};
use crate::store::access::Client;
use crate::store::rules::Draft;
use crate::store::{IfMatch, Outcome, OutcomeKind, WriteOp, WriteRequest};

/// `Allow` of a resource that only reads.
const READ_ONLY: &str = "GET, HEAD";
/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

/// Registers the write routes and the event stream, relative to the collection's path
/// (`/collections/{id}`, the scope that holds them).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let other = || guard::Not(guard::Any(guard::Get()).or(guard::Head()));
    cfg.route("/items", web::post().to(create))
        .route("/items/{fid}", web::put().to(replace))
        .route("/items/{fid}", web::delete().to(delete))
        .route("/events", super::read().to(super::events::stream))
        .service(web::resource("/items").guard(other()).to(items_other))
        .service(web::resource("/items/{fid}").guard(other()).to(item_other));
}

/// What `Allow` says for the items of `layer`, or for one item.
fn allow(state: &AppState, layer: &str, item: bool) -> &'static str {
    match (state.writes.accepts(layer), item) {
        (false, _) => READ_ONLY,
        (true, false) => "GET, HEAD, POST",
        (true, true) => "GET, HEAD, PUT, DELETE",
    }
}

/// The problem+json of `error`, with `Allow` on a 405 and no caching.
fn problem(error: &Error, allow: &'static str) -> HttpResponse {
    let mut resp = error.error_response();
    let headers = resp.headers_mut();
    if error.status() == 405 {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The checks every write passes before its body is read.
fn admit(req: &HttpRequest, state: &AppState, layer: &str) -> Result<()> {
    state.catalog.get(layer)?;
    if !state.writes.accepts(layer) {
        let why = if state.writes.writable(layer) {
            "writes are off on this server: no write token is configured"
        } else {
            "the collection is read-only"
        };
        return Err(Error::MethodNotAllowed(format!(
            "collection {layer} ({why})"
        )));
    }
    let access = state.writes.access();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let now = Instant::now();
    match access.authenticate(authorization) {
        Ok(client) => access.admit(client, now)?,
        Err(unauthorized) => {
            let ip = req
                .peer_addr()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
            access.admit(Client::Ip(ip), now)?;
            return Err(unauthorized);
        }
    }
    Params::parse(req.query_string(), |_| false)?;
    Ok(())
}

/// Reads the body within the configured limit.
async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Vec<u8>> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !matches!(essence, "application/geo+json" | "application/json") {
            return Err(Error::bad_body(
                "Content-Type",
                format!("{essence:?} is not application/geo+json or application/json"),
            ));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|&s| s > limit) {
        return Err(Error::BodyTooLarge { size, limit });
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Error::bad_body("body", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::BodyTooLarge {
                size: body.len() + chunk.len(),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(IfMatch::parse)
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    let ok =
        !text.is_empty() && text.len() <= MAX_KEY_LEN && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(Some(text.to_owned()))
    } else {
        Err(Error::bad_param(
            "Idempotency-Key",
            text,
            format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ))
    }
}

/// The response of an acknowledged write.
///
/// # Errors
/// [`Error::Internal`] when a create or replace is acknowledged without its feature.
fn feature_response(req: &HttpRequest, layer: &str, outcome: Outcome) -> Result<HttpResponse> {
    let mut resp = match outcome.kind {
        OutcomeKind::Created | OutcomeKind::Replayed => {
            let location = format!(
                "{}/collections/{layer}/items/{}",
                respond::base_url(req),
                outcome.id
            );
            let mut r = HttpResponse::Created();
            r.insert_header((header::LOCATION, location));
            if outcome.kind == OutcomeKind::Replayed {
                r.insert_header(("Idempotent-Replayed", "true"));
            }
            r
        }
        OutcomeKind::Replaced => HttpResponse::Ok(),
        OutcomeKind::Deleted => {
            return Ok(HttpResponse::NoContent()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish());
        }
    };
    let body = outcome.body.ok_or_else(|| {
        Error::Internal(format!(
            "write to {layer}/{} answered no feature",
            outcome.id
        ))
    })?;
    if let Some(etag) = outcome.etag {
        resp.insert_header((header::ETAG, etag));
    }
    Ok(resp
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(GEOJSON)
        .body(body))
}

/// Reads the request body and checks it against the layer's write rules: the body and the
/// feature to store.
async fn read_draft(
    req: &HttpRequest,
    layer: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Vec<u8>, Draft)> {
    let timeout = state.config.limits.body_timeout();
    let body = tokio::time::timeout(
        timeout,
        read_body(req, payload, state.writes.max_body_bytes()),
    )
    .await
    .map_err(|_| {
        Error::RequestTimeout(format!(
            "the body was not received within {} ms",
            timeout.as_millis()
        ))
    })??;
    let rules = state
        .writes
        .rules(layer)
        .ok_or_else(|| Error::MethodNotAllowed(format!("collection {layer} (read-only)")))?;
    let snapshot = state.catalog.get(layer)?.snapshot();
    let draft = rules.check(&body, snapshot.config.time_property.as_deref())?;
    Ok((body, draft))
}

async fn create_inner(
    req: &HttpRequest,
    layer: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse> {
    admit(req, state, layer)?;
    let key = idempotency_key(req)?;
    let (body, draft) = read_draft(req, layer, payload, state).await?;
    let request = WriteRequest {
        layer: layer.to_owned(),
        op: WriteOp::Create {
            draft,
            idempotency_key: key,
            fingerprint: Sha256::digest(&body).into(),
        },
    };
    let outcome = state.writes.submit(request).await?;
    feature_response(req, layer, outcome)
}

async fn replace_inner(
    req: &HttpRequest,
    layer: &str,
    fid: String,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse> {
    admit(req, state, layer)?;
    let (_, draft) = read_draft(req, layer, payload, state).await?;
    let request = WriteRequest {
        layer: layer.to_owned(),
        op: WriteOp::Replace {
            fid,
            draft,
            if_match: if_match(req),
        },
    };
    let outcome = state.writes.submit(request).await?;
    feature_response(req, layer, outcome)
}

async fn delete_inner(
    req: &HttpRequest,
    layer: &str,
    fid: String,
    state: &AppState,
) -> Result<HttpResponse> {
    admit(req, state, layer)?;
    let request = WriteRequest {
        layer: layer.to_owned(),
        op: WriteOp::Delete {
            fid,
            if_match: if_match(req),
        },
    };
    let outcome = state.writes.submit(request).await?;
    feature_response(req, layer, outcome)
}

/// `POST /collections/{id}/items`: creates a feature; 201 with `Location` and `ETag`.
/// With `Idempotency-Key`, a retry answers the first result again.
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let layer = path.into_inner();
    create_inner(&req, &layer, payload, &state)
        .await
        .unwrap_or_else(|e| problem(&e, allow(&state, &layer, false)))
}

/// `PUT /collections/{id}/items/{fid}`: replaces a feature (`If-Match` honoured); 200 with
/// the feature and its new `ETag`.
pub async fn replace(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (layer, fid) = path.into_inner();
    replace_inner(&req, &layer, fid, payload, &state)
        .await
        .unwrap_or_else(|e| problem(&e, allow(&state, &layer, true)))
}

/// `DELETE /collections/{id}/items/{fid}`: deletes a feature (`If-Match` honoured); 204.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (layer, fid) = path.into_inner();
    delete_inner(&req, &layer, fid, &state)
        .await
        .unwrap_or_else(|e| problem(&e, allow(&state, &layer, true)))
}

fn other_method(req: &HttpRequest, state: &AppState, layer: &str, item: bool) -> HttpResponse {
    if let Err(e) = state.catalog.get(layer) {
        return problem(&e, READ_ONLY);
    }
    let e = Error::MethodNotAllowed(format!("{} {}", req.method(), req.path()));
    problem(&e, allow(state, layer, item))
}

async fn items_other(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    other_method(&req, &state, &path, false)
}

async fn item_other(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    other_method(&req, &state, &path.0, true)
}
