//! Live updates: `GET /collections/{id}/events`, a Server-Sent Events stream.
//!
//! Owns: the event stream of one collection. Each committed write of the collection becomes
//! one unnamed event (so `EventSource.onmessage` receives it) whose data is JSON:
//!
//! ```text
//! data: {"type":"create","id":42,"feature":{"type":"Feature","id":42,...}}
//! data: {"type":"update","id":42,"feature":{...}}
//! data: {"type":"delete","id":42}
//! data: {"type":"resync","missed":17}
//! ```
//!
//! `resync` tells a client that fell too far behind (more than
//! [`crate::store::service::EVENT_CAPACITY`] events) to reload the collection. A comment line
//! is sent every [`HEARTBEAT`] so that proxies keep the connection open and clients notice a
//! dead server. The stream is never compressed (compression would hold events back).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;

use super::params::Params;
use super::state::AppState;
use crate::error::Result;

/// Interval of the keep-alive comments.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Delay before a disconnected `EventSource` reconnects, in milliseconds.
const RETRY_MS: u32 = 3000;

/// `GET /collections/{id}/events`.
pub async fn stream(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let layer = path.into_inner();
    state.catalog.get(&layer)?;
    Params::parse(req.query_string(), |_| false)?;
    let rx = state.writes.subscribe();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.reset();
    let hello = Bytes::from(format!(
        "retry: {RETRY_MS}\n: events of collection {layer}\n\n"
    ));
    let first = futures_util::stream::once(async move { Ok::<_, actix_web::Error>(hello) });
    let rest = futures_util::stream::unfold(
        (rx, heartbeat, layer),
        |(mut rx, mut heartbeat, layer)| async move {
            loop {
                let chunk = tokio::select! {
                    event = rx.recv() => match event {
                        Ok(e) if *e.layer == *layer => format!("data: {}\n\n", e.data),
                        Ok(_) => continue,
                        Err(RecvError::Lagged(n)) => format!("data: {{\"type\":\"resync\",\"missed\":{n}}}\n\n"),
                        Err(RecvError::Closed) => return None,
                    },
                    _ = heartbeat.tick() => ": keep-alive\n\n".to_owned(),
                };
                return Some((
                    Ok::<_, actix_web::Error>(Bytes::from(chunk)),
                    (rx, heartbeat, layer),
                ));
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(first, rest)))
}
