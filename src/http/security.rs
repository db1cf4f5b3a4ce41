//! Response headers that limit what a browser lets other content do with the server's
//! answers.
//!
//! Owns: `X-Content-Type-Options: nosniff` on every response; on HTML pages (the map at
//! `/map`, `/map/tiles.html`, and `/` when it serves the map) a Content-Security-Policy that
//! allows scripts, styles, images, workers and connections from the server's own origin only
//! ([`CSP`]), with `frame-ancestors 'none'`; and no CORS headers on anything but reads, so
//! that pages of other origins never get to read the answer of a write. `SECURITY.md` holds
//! the threat model these serve.

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
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        });
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
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
