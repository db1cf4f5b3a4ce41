//! Response headers that limit what a browser lets other content do with the server's
//! answers.
//!
//! Owns: `X-Content-Type-Options: nosniff` on every response; on HTML pages (the map at
//! `/map`, `/map/tiles.html`, and `/` when it serves the map) a Content-Security-Policy that
//! allows scripts, styles, images, workers and connections from the server's own origin only
//! ([`CSP`]), with `frame-ancestors 'none'`; no CORS headers on anything but reads, so
//! that pages of other origins never get to read the answer of a write; and the `Vary` of
//! the CORS answers ([`CORS_VARY`]: the CORS headers of a response depend on the request's
//! `Origin`, and a preflight's on the method and headers it asks for), so that a shared
//! cache never hands one origin's answer to another. `SECURITY.md` holds the threat model
//! these serve.
//!
//! The headers' values are made once (statics), not checked again for every response.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// The Content-Security-Policy of the map pages. Styles allow `'unsafe-inline'` because the
/// map sets `style` attributes on the markers, legend and labels it draws; MapLibre GL JS
/// runs its workers from `blob:` URLs and draws images from `data:` and `blob:` URLs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
    worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The request headers that the CORS headers of a response depend on.
const CORS_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
static CSP_VALUE: HeaderValue = HeaderValue::from_static(CSP);
static DENY: HeaderValue = HeaderValue::from_static("DENY");
static SAME_ORIGIN: HeaderValue = HeaderValue::from_static("same-origin");
static CORS_VARY_VALUE: HeaderValue = HeaderValue::from_static(CORS_VARY);

/// Whether a `Content-Type` value names an HTML page.
fn is_html(content_type: &[u8]) -> bool {
    content_type
        .trim_ascii_start()
        .get(..9)
        .is_some_and(|media| media.eq_ignore_ascii_case(b"text/html"))
}

/// Adds the security headers to the response of `req`.
///
/// # Errors
/// The errors of the inner service, unchanged.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF.clone());
    headers.append(header::VARY, CORS_VARY_VALUE.clone());
    let html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| is_html(ct.as_bytes()));
    if html {
        headers.insert(header::CONTENT_SECURITY_POLICY, CSP_VALUE.clone());
        headers.insert(header::X_FRAME_OPTIONS, DENY.clone());
        headers.insert(header::REFERRER_POLICY, SAME_ORIGIN.clone());
    }
    if !read {
        for name in [
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
        ] {
            headers.remove(name);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_told_by_its_media_type_in_any_case() {
        for ct in [
            "text/html",
            "text/html; charset=utf-8",
            "  TEXT/HTML;charset=UTF-8",
        ] {
            assert!(is_html(ct.as_bytes()), "{ct}");
        }
        for ct in [
            "",
            "text/htm",
            "application/geo+json",
            "text/plain; x=text/html",
        ] {
            assert!(!is_html(ct.as_bytes()), "{ct}");
        }
    }
}
