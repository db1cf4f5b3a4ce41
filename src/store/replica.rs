//! Following the changes other servers commit to a shared store.
//!
//! Owns: [`ReplicaStatus`] (the last change applied, the end of the log as last seen,
//! whether the listener is connected: what `/health` shows) and [`listen`], the thread that
//! `LISTEN`s on [`CHANNEL`] and wakes the writer thread, which reads and applies every
//! change after the last one it applied, in order ([`super::writer`]). The listener wakes it
//! on every notification that names a change not applied yet, after every (re)connection
//! (notifications sent while it was away are lost, the log is not), and whenever a
//! periodic look at the end of the log ([`POLL`]) finds it ahead.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use serde::Serialize;

use super::postgres::CHANNEL;
use super::writer::Message;
use crate::catalog::postgis::connect;
use crate::catalog::postgis_listen::{Listener, keep_connected};

/// How often the listener checks that it should stop.
const TICK: Duration = Duration::from_millis(250);
/// How often the listener reads the end of the log (which also checks the connection).
pub const POLL: Duration = Duration::from_secs(2);
/// Wait between two connection attempts.
const RETRY: Duration = Duration::from_secs(1);

/// Where a server stands in the shared log.
#[derive(Debug, Default)]
pub struct ReplicaStatus {
    applied: AtomicU64,
    log_end: AtomicU64,
    connected: AtomicBool,
}

impl ReplicaStatus {
    /// The writer applied every change up to `seq`.
    pub fn set_applied(&self, seq: u64) {
        self.applied.store(seq, Ordering::SeqCst);
        self.log_end.fetch_max(seq, Ordering::SeqCst);
    }

    /// The last change applied.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// The log holds changes up to `seq`.
    pub fn saw(&self, seq: u64) {
        self.log_end.fetch_max(seq, Ordering::SeqCst);
    }

    /// What `/health` shows of a replica of a `kind` store.
    pub fn report(&self, kind: &'static str, listening: bool) -> StoreStatus {
        let applied = self.applied();
        let log = self.log_end.load(Ordering::SeqCst).max(applied);
        StoreStatus {
            kind,
            applied_seq: listening.then_some(applied),
            log_seq: listening.then_some(log),
            listener_connected: listening.then(|| self.connected.load(Ordering::SeqCst)),
            behind: (listening && log > applied).then_some(log - applied),
        }
    }
}

/// The store as `/health` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoreStatus {
    /// `sqlite` or `postgresql`.
    pub kind: &'static str,
    /// The last change of the shared log applied to this server's layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_seq: Option<u64>,
    /// The last change of the shared log this server knows of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_seq: Option<u64>,
    /// Whether the listener is connected (changes of other servers arrive at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_connected: Option<bool>,
    /// Changes committed but not applied here yet; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind: Option<u64>,
}

/// Starts listening on `url` for changes, waking the writer through `wake`.
///
/// # Errors
/// When the thread cannot be started.
pub fn listen(
    url: String,
    status: Arc<ReplicaStatus>,
    wake: mpsc::Sender<Message>,
) -> std::io::Result<Listener> {
    let mut listener = Listener::default();
    listener.spawn("store-listener", move |stop| {
        keep_connected(stop, RETRY, "store change notifications lost", |_| {
            session(&url, &status, &wake, stop)
                .inspect_err(|_| status.connected.store(false, Ordering::SeqCst))
        });
    })?;
    Ok(listener)
}

/// Whether a notification payload names a change not applied yet (an unreadable payload
/// does, to be safe).
fn is_news(payload: &str, applied: u64) -> bool {
    payload.parse::<u64>().map_or(true, |seq| seq > applied)
}

/// One connection's life. `Ok` when told to stop or when the writer is gone, `Err` when the
/// connection fails.
fn session(
    url: &str,
    status: &ReplicaStatus,
    wake: &mpsc::Sender<Message>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut client = connect(url)?;
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .map_err(|e| e.to_string())?;
    status.connected.store(true, Ordering::SeqCst);
    tracing::info!("listening for changes of other servers");
    let mut polled: Option<Instant> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut news = false;
        if polled.is_none_or(|t| t.elapsed() >= POLL) {
            let end: i64 = client
                .query_one("SELECT coalesce(max(seq), 0) FROM atlas_changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(|e| e.to_string())?;
            let end = u64::try_from(end).unwrap_or(0);
            status.saw(end);
            news = end > status.applied();
            polled = Some(Instant::now());
        }
        let payload = {
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(TICK);
            iter.next()
                .map_err(|e| e.to_string())?
                .map(|n| n.payload().to_owned())
        };
        if let Some(payload) = payload {
            if let Ok(seq) = payload.parse() {
                status.saw(seq);
            }
            news |= is_news(&payload, status.applied());
        }
        if news && wake.send(Message::CatchUp).is_err() {
            return Ok(());
        }
        if client.is_closed() {
            return Err("the connection closed".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_is_news_only_past_the_last_applied_change() {
        assert!(is_news("8", 7));
        assert!(!is_news("7", 7));
        assert!(!is_news("3", 7));
        assert!(is_news("", 7));
    }

    #[test]
    fn health_says_how_far_behind_a_replica_is() {
        let status = ReplicaStatus::default();
        status.set_applied(5);
        status.saw(9);
        let report = status.report("postgresql", true);
        assert_eq!(report.applied_seq, Some(5));
        assert_eq!(report.log_seq, Some(9));
        assert_eq!(report.behind, Some(4));
        assert_eq!(report.listener_connected, Some(false));
        status.set_applied(9);
        assert_eq!(status.report("postgresql", true).behind, None);
        let sqlite = status.report("sqlite", false);
        assert_eq!(
            serde_json::to_string(&sqlite).unwrap(),
            r#"{"kind":"sqlite"}"#
        );
    }
}
