//! Building responses: problem+json for errors, and cacheable bodies with a strong `ETag`,
//! `If-None-Match` -> 304 and `Cache-Control`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::Error;

/// Media type of GeoJSON.
pub const GEOJSON: &str = "application/geo+json";
/// Media type of JSON.
pub const JSON: &str = "application/json";
/// Media type of problem details (RFC 7807).
pub const PROBLEM: &str = "application/problem+json";
/// Media type of the OpenAPI document.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if self.status() >= 500 {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({
            "type": "about:blank",
            "title": self.title(),
            "status": self.status(),
            "detail": self.public_detail(),
        });
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type(PROBLEM);
        match self {
            Error::Unauthorized => {
                resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"khorasan-atlas\""));
            }
            Error::RateLimited { retry_after_s } => {
                resp.insert_header((header::RETRY_AFTER, retry_after_s.to_string()));
            }
            _ => {}
        }
        resp.body(body.to_string())
    }
}

/// The server's entity tag of `bytes`: strong and quoted, the 128-bit XXH3 of the bytes in
/// hex. Every `ETag` the server sends is made here, from the bytes that name the state.
pub fn strong_etag(bytes: &[u8]) -> String {
    crate::etag::strong(bytes)
}

/// Whether `If-None-Match` of the request matches `etag`.
pub fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
            })
        })
}

/// A 200 response with `body`, its `ETag` and `Cache-Control`, or a 304 when the client has it.
pub fn cacheable(
    req: &HttpRequest,
    body: Vec<u8>,
    content_type: &str,
    max_age: u32,
) -> HttpResponse {
    let etag = strong_etag(&body);
    cacheable_with_etag(req, body, content_type, max_age, etag)
}

/// [`cacheable`] with a given entity tag (such as [`crate::store::feature_etag`], which
/// names a feature's state whatever links the body carries).
pub fn cacheable_with_etag(
    req: &HttpRequest,
    body: Vec<u8>,
    content_type: &str,
    max_age: u32,
    etag: String,
) -> HttpResponse {
    let cache_control = public_max_age(max_age);
    if not_modified(req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .body(body)
}

/// `public, max-age={max_age}`, without the formatting machinery (this runs on every
/// cacheable answer).
pub(crate) fn public_max_age(max_age: u32) -> String {
    let mut digits = itoa::Buffer::new();
    ["public, max-age=", digits.format(max_age)].concat()
}

/// The JSON bytes of `value`. A value that cannot be serialized is an internal error (a 500
/// problem, logged, with no detail for the client), never an empty body.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("serializing a response: {e}")))
}

/// A memory writer that refuses to grow past `limit` bytes, so that a response over the
/// limit is refused before it is built in full.
#[derive(Debug)]
pub struct CappedBuffer {
    bytes: Vec<u8>,
    limit: usize,
}

impl CappedBuffer {
    /// An empty buffer that takes at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
        }
    }

    /// The bytes written.
    pub fn into_inner(self) -> Vec<u8> {
        self.bytes
    }
}

impl std::io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "response size limit",
            ));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The JSON bytes of `value`, or [`Error::ResponseTooLarge`] when they would exceed `limit`.
pub fn json_bytes_within<T: Serialize>(value: &T, limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = CappedBuffer::new(limit);
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => Ok(out.into_inner()),
        Err(e) if e.is_io() => Err(Error::ResponseTooLarge { limit }),
        Err(e) => Err(Error::Internal(format!("serializing a response: {e}"))),
    }
}

/// Serializes `value` as a cacheable JSON response.
pub fn json<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    content_type: &str,
    max_age: u32,
) -> Result<HttpResponse, Error> {
    Ok(cacheable(req, json_bytes(value)?, content_type, max_age))
}

/// A link of a document or a page, serialized with its members in this order.
#[derive(Debug, Serialize)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
}

/// The base URL (`scheme://host`) the client used, for absolute links.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    [info.scheme(), "://", info.host()].concat()
}

/// `base` and `path` with the query of `pairs`, form-encoded: ending with `?` when there
/// are none. Written into one string of about its final size (the request's query, as long
/// as `pairs` re-encoded, is given as `query_len`), not grown piece by piece.
pub fn url_with_query<K: AsRef<str>, V: AsRef<str>>(
    base: &str,
    path: &str,
    query_len: usize,
    pairs: impl IntoIterator<Item = (K, V)>,
) -> String {
    let mut url = String::with_capacity(base.len() + path.len() + query_len + 32);
    url.push_str(base);
    url.push_str(path);
    url.push('?');
    let start = url.len();
    let mut query = form_urlencoded::Serializer::for_suffix(url, start);
    query.extend_pairs(pairs);
    query.finish()
}

/// Whether the client prefers HTML (a browser) over JSON.
pub fn wants_html(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/html")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn json_within_a_limit_is_the_plain_json_and_over_it_a_400() {
        let value = serde_json::json!({ "features": vec!["x"; 100] });
        let plain = serde_json::to_vec(&value).unwrap();
        assert_eq!(json_bytes_within(&value, plain.len()).unwrap(), plain);
        let err = json_bytes_within(&value, plain.len() - 1).unwrap_err();
        assert!(matches!(err, Error::ResponseTooLarge { limit } if limit == plain.len() - 1));
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn max_ages_are_written_in_decimal() {
        for n in [0, 7, 10, 60, 86_400, u32::MAX] {
            assert_eq!(public_max_age(n), format!("public, max-age={n}"));
        }
    }

    #[test]
    fn strong_etags_are_quoted_and_follow_the_bytes() {
        let tag = strong_etag(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34);
        assert_eq!(tag, strong_etag(b"{}"));
        assert_ne!(tag, strong_etag(b"[]"));
    }

    #[test]
    fn a_body_that_cannot_be_serialized_is_a_500_without_details() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        // JSON object keys must be strings: serializing this map fails.
        let unserializable = BTreeMap::from([((1, 2), 3)]);
        let err = json(&req, &unserializable, JSON, 60).unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err}");
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            err.public_detail(),
            "the server could not complete the request"
        );
    }
}
