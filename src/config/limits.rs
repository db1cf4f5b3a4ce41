//! `[server.limits]`: how much of the server one client, or all clients together, may hold.
//!
//! Owns: the time, connection, size and paging bounds of the HTTP server, with their
//! defaults, and the check that each is usable. [`crate::http`] applies them; `SECURITY.md`
//! explains what each one protects against.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The bounds on clients, each with its default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Milliseconds a client has, once connected, to send a complete request head; a slower
    /// client (slowloris) gets 408 and is disconnected. Default 5000.
    pub request_timeout_ms: u64,
    /// Milliseconds a client has to send the whole body of a write; a slower client gets 408.
    /// Default 10000.
    pub body_timeout_ms: u64,
    /// Seconds an idle keep-alive connection stays open; 0 turns keep-alive off. Default 5.
    pub keep_alive_s: u64,
    /// Milliseconds given to a client to close its side after the server closes a
    /// connection. Default 1000.
    pub disconnect_timeout_ms: u64,
    /// Open connections per worker thread; beyond it the server stops accepting until
    /// some close. Default 25000.
    pub max_connections: usize,
    /// New TLS-free connections a worker accepts at once while others are being set up.
    /// Default 256.
    pub max_connection_rate: usize,
    /// Connections the kernel queues before the server accepts them. Default 2048.
    pub backlog: u32,
    /// Longest request target (path and query), in bytes; longer gets 414. Default 8192.
    pub max_uri_bytes: usize,
    /// Largest total size of the request headers, in bytes; larger gets 431. Default 16384.
    pub max_header_bytes: usize,
    /// Largest `offset` of a page of features; larger gets 400. Default 1000000.
    pub max_offset: usize,
    /// Open event streams (`/collections/{id}/events`) per client address; one more gets
    /// 503. Default 16.
    pub max_event_streams_per_client: usize,
    /// Open event streams in total; one more gets 503. Default 1024.
    pub max_event_streams: usize,
    /// Largest body of one page of features (`items`, `radius`, `nearest`, cluster leaves) in
    /// any format, in bytes; a page that would be larger gets 400 and is never built in
    /// full. Default 33554432 (32 MiB).
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout_ms: 5000,
            body_timeout_ms: 10_000,
            keep_alive_s: 5,
            disconnect_timeout_ms: 1000,
            max_connections: 25_000,
            max_connection_rate: 256,
            backlog: 2048,
            max_uri_bytes: 8192,
            max_header_bytes: 16_384,
            max_offset: 1_000_000,
            max_event_streams_per_client: 16,
            max_event_streams: 1024,
            max_response_bytes: 32 << 20,
        }
    }
}

impl Limits {
    /// Checks that every bound lets at least one request through.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bound that is zero where zero makes no sense.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("request_timeout_ms", self.request_timeout_ms as usize),
            ("body_timeout_ms", self.body_timeout_ms as usize),
            ("max_connections", self.max_connections),
            ("max_connection_rate", self.max_connection_rate),
            ("backlog", self.backlog as usize),
            ("max_uri_bytes", self.max_uri_bytes),
            ("max_header_bytes", self.max_header_bytes),
            (
                "max_event_streams_per_client",
                self.max_event_streams_per_client,
            ),
            ("max_event_streams", self.max_event_streams),
            ("max_response_bytes", self.max_response_bytes),
        ];
        match positive.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(Error::Config(format!(
                "server.limits.{name} must be at least 1"
            ))),
            None => Ok(()),
        }
    }

    /// [`Self::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Self::body_timeout_ms`] as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// [`Self::disconnect_timeout_ms`] as a duration.
    pub fn disconnect_timeout(&self) -> Duration {
        Duration::from_millis(self.disconnect_timeout_ms)
    }

    /// [`Self::keep_alive_s`] as a duration; `None` when keep-alive is off.
    pub fn keep_alive(&self) -> Option<Duration> {
        (self.keep_alive_s > 0).then(|| Duration::from_secs(self.keep_alive_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bounds_are_refused_by_name() {
        assert!(Limits::default().validate().is_ok());
        let limits = Limits {
            max_event_streams: 0,
            ..Limits::default()
        };
        let err = limits.validate().unwrap_err().to_string();
        assert!(err.contains("max_event_streams"), "{err}");
    }
}
