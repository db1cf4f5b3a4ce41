//! Request size bounds applied before any handler runs, and the connection bounds of the
//! server.
//!
//! Owns: refusing a request target longer than `server.limits.max_uri_bytes` (414) and
//! request headers larger than `server.limits.max_header_bytes` (431), both as
//! problem+json. The timeouts and connection caps of [`crate::config::Limits`] are set on
//! the server by [`super::serve`]. Request heads over 128 KiB never reach this layer: actix-http
//! answers them with a bare 431 and closes the connection.

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use super::state::AppState;
use crate::config::Limits;

/// Bytes of the request target: path and query, as sent.
fn target_bytes(req: &ServiceRequest) -> usize {
    req.uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |pq| pq.as_str().len())
}

/// Bytes of the request headers as they were sent (`name: value\r\n` each).
fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// The size error of `req`, if it exceeds `limits`.
pub fn check(req: &ServiceRequest, limits: &Limits) -> Option<crate::Error> {
    let size = target_bytes(req);
    if size > limits.max_uri_bytes {
        return Some(crate::Error::UriTooLong {
            size,
            limit: limits.max_uri_bytes,
        });
    }
    let size = header_bytes(req);
    (size > limits.max_header_bytes).then_some(crate::Error::HeadersTooLarge {
        size,
        limit: limits.max_header_bytes,
    })
}

/// Middleware: refuses requests whose target or headers exceed the configured sizes.
///
/// # Errors
/// The errors of the inner service, unchanged.
pub async fn request_size<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let refused = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| check(&req, &state.config.limits));
    match refused {
        Some(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}
