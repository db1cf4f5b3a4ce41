//! The HTML face of the API: a server-side page for each OGC resource (`f=html`, or a
//! browser's `Accept: text/html`).
//!
//! Owns: which template renders which document ([`Page`]), the context the templates see
//! (built from the JSON document the handler already made, so the links are the JSON
//! document's own), the links to the HTML and other-format faces of each link, and the
//! response (`text/html`, `Vary: Accept`). The templates are in `templates/`, compiled into
//! the binary and rendered by minijinja with HTML autoescaping: every value from a document,
//! feature properties included, is escaped. The pages carry no inline script: the small map
//! of a page of features is `/map/catalog.js` (built from `web/src/catalog-map.js`), reading
//! the page's GeoJSON from a `<script type="application/json">` element.

pub(in crate::http) mod links;
mod render;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;

use super::format::Format;
use super::respond;
use crate::error::Result;

/// Media type of the pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// The kinds of page, one per family of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Landing,
    Conformance,
    Collections,
    Collection,
    Queryables,
    /// A page of features: `/items`, `/radius`, `/nearest`.
    Items,
    Feature,
    Tilesets,
    Tileset,
}

impl Page {
    fn heading(self) -> &'static str {
        match self {
            Self::Landing => "Landing page",
            Self::Conformance => "Conformance",
            Self::Collections => "Collections",
            Self::Collection => "Collection",
            Self::Queryables => "Queryables",
            Self::Items => "Features",
            Self::Feature => "Feature",
            Self::Tilesets => "Tilesets",
            Self::Tileset => "Tileset",
        }
    }
}

/// The answer to `req` in `format`: `doc` as JSON (`content_type`) or as the HTML page
/// `page`; both vary with `Accept`.
///
/// # Errors
/// An internal error when the document cannot be serialized or the page rendered.
pub fn document<T: Serialize>(
    req: &HttpRequest,
    format: Format,
    page: Page,
    doc: &T,
    content_type: &str,
    max_age: u32,
) -> Result<HttpResponse> {
    let json = respond::json_bytes(doc)?;
    document_json(req, format, page, json, content_type, max_age)
}

/// [`document`] of a document already serialized as JSON.
///
/// # Errors
/// An internal error when the page cannot be rendered.
pub fn document_json(
    req: &HttpRequest,
    format: Format,
    page: Page,
    json: Vec<u8>,
    content_type: &str,
    max_age: u32,
) -> Result<HttpResponse> {
    let mut resp = if format == Format::Html {
        let doc: Value = serde_json::from_slice(&json)
            .map_err(|e| crate::error::Error::Internal(format!("reading a page: {e}")))?;
        let body = render::page(req, page, &doc)?;
        respond::cacheable(req, body.into_bytes(), HTML, max_age)
    } else {
        respond::cacheable(req, json, content_type, max_age)
    };
    vary_accept(&mut resp);
    Ok(resp)
}

/// Marks `resp` as chosen by `Accept`, for caches.
pub fn vary_accept(resp: &mut HttpResponse) {
    // Made once: every JSON document and page passes here.
    static ACCEPT: header::HeaderValue = header::HeaderValue::from_static("Accept");
    resp.headers_mut().insert(header::VARY, ACCEPT.clone());
}

/// A member of `doc` as a string, if it is one.
fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}
