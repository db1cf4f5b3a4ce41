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
//!
//! Each client address may hold `server.limits.max_event_streams_per_client` streams and the
//! server `server.limits.max_event_streams` in all ([`Subscribers`]); one more gets a 503.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;

use super::params::Params;
use super::state::AppState;
use crate::error::{Error, Result};

/// The open event streams, in total and per client address.
#[derive(Debug, Default)]
pub struct Subscribers {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open stream; dropping it (the client went away) frees its slot.
#[derive(Debug)]
pub struct Slot {
    owner: Arc<Subscribers>,
    ip: IpAddr,
}

impl Subscribers {
    /// Takes a slot for a stream of `ip`, unless it would exceed `per_client` streams of
    /// that address or `total` streams in all.
    ///
    /// # Errors
    /// [`Error::Busy`] saying which bound is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, per_client: usize, total: usize) -> Result<Slot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let all: usize = open.values().sum();
        if all >= total {
            return Err(Error::Busy(format!(
                "{all} event streams are open, the most this server allows; retry later"
            )));
        }
        let mine = open.entry(ip).or_insert(0);
        if *mine >= per_client {
            return Err(Error::Busy(format!(
                "{ip} already has {mine} event streams open, the most one address may hold"
            )));
        }
        *mine += 1;
        Ok(Slot {
            owner: Arc::clone(self),
            ip,
        })
    }

    /// Number of open streams.
    pub fn len(&self) -> usize {
        let open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.values().sum()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .owner
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

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
    let ip = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let limits = &state.config.limits;
    let slot = state.subscribers.admit(
        ip,
        limits.max_event_streams_per_client,
        limits.max_event_streams,
    )?;
    let rx = state.writes.subscribe();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.reset();
    let hello = Bytes::from(format!(
        "retry: {RETRY_MS}\n: events of collection {layer}\n\n"
    ));
    let first = futures_util::stream::once(async move { Ok::<_, actix_web::Error>(hello) });
    let rest = futures_util::stream::unfold(
        (rx, heartbeat, layer, slot),
        |(mut rx, mut heartbeat, layer, slot)| async move {
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
                    (rx, heartbeat, layer, slot),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_freed_on_drop() {
        let subs = Arc::new(Subscribers::default());
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let first = subs.admit(a, 2, 3).unwrap();
        let _second = subs.admit(a, 2, 3).unwrap();
        assert!(subs.admit(a, 2, 3).is_err());
        let _third = subs.admit(b, 2, 3).unwrap();
        let full = subs.admit(b, 2, 3).unwrap_err();
        assert_eq!(full.status(), 503);
        assert_eq!(subs.len(), 3);
        drop(first);
        assert_eq!(subs.len(), 2);
        assert!(subs.admit(a, 2, 3).is_ok());
    }
}
