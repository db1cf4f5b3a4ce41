//! The write side as the HTTP layer holds it.
//!
//! Owns: [`WriteService`]: start-up (open the store, SQLite or PostgreSQL, merge its changes
//! into the catalog, start the writer thread and, on a shared store, the listener of other
//! servers' changes, or stay off), the queue to the writer ([`WriteService::submit`]), the
//! event channel ([`WriteService::subscribe`]), the access rules ([`WriteService::access`])
//! and what `/health` shows of the store ([`WriteService::status`]). The writer thread itself
//! is `store::writer`.
//!
//! On a shared store the writer runs even when this server takes no writes, to apply the
//! changes of the others.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::{broadcast, oneshot};

use super::Store;
use super::access::{Access, TOKEN_ENV};
use super::merge;
use super::postgres::PostgresStore;
use super::replica::{self, ReplicaStatus, StoreStatus};
use super::request::{Outcome, WriteRequest};
use super::rules::WriteRules;
use super::settings::StoreSettings;
use super::sqlite::SqliteStore;
use super::writer::{Job, Message, Writer};
use crate::catalog::Catalog;
use crate::catalog::postgis_listen::Listener;
use crate::error::{Error, Result};

/// Events kept for slow subscribers before they are told to resynchronize.
pub const EVENT_CAPACITY: usize = 1024;

/// A change announced to subscribers, after its commit.
#[derive(Debug, Clone)]
pub struct Event {
    pub layer: Arc<str>,
    /// `{"type":"create"|"update"|"delete","id":N,"feature":{...}}` (no `feature` on delete).
    pub data: Arc<str>,
}

/// The write side of the server. See the module documentation.
#[derive(Debug)]
pub struct WriteService {
    queue: Option<mpsc::Sender<Message>>,
    /// Whether this server takes writes (a token is configured and the store is open).
    writes_on: bool,
    /// The listener of a shared store; stopped before the writer.
    listener: Option<Listener>,
    /// `sqlite` or `postgresql`, once a store is open.
    kind: Option<&'static str>,
    status: Arc<ReplicaStatus>,
    /// The writer thread; joined on drop, so the store is closed (and its lock released)
    /// when the service is gone.
    thread: Option<std::thread::JoinHandle<()>>,
    events: broadcast::Sender<Event>,
    access: Access,
    settings: Arc<StoreSettings>,
}

impl WriteService {
    /// A service that never writes (no store opened): for read-only tests and tools.
    pub fn disabled(settings: StoreSettings) -> Self {
        let access = Access::new(&super::WriteSettings::default(), None);
        Self::without_writer(access, Arc::new(settings))
    }

    /// A service with no writer (yet): writes are off.
    fn without_writer(access: Access, settings: Arc<StoreSettings>) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            queue: None,
            writes_on: false,
            listener: None,
            kind: None,
            status: Arc::default(),
            thread: None,
            events,
            access,
            settings,
        }
    }

    /// Opens the store (PostgreSQL at `settings.store_url`, else SQLite in
    /// `settings.data_dir`), merges its changes into `catalog` and starts the writer. The
    /// token of the environment variable [`TOKEN_ENV`] is added to the configured ones.
    /// Without any token and without an existing SQLite store, nothing is opened or created.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be opened or read, [`Error::Config`] when
    /// another server holds the SQLite store or the PostgreSQL schema is newer than this
    /// server's.
    pub fn open(settings: StoreSettings, catalog: Arc<Catalog>) -> Result<Self> {
        let env_token = std::env::var(TOKEN_ENV).ok();
        let access = Access::new(&settings.access, env_token.as_deref());
        let writable = settings.any_writable();
        let writes_on = access.enabled() && writable;
        let settings = Arc::new(settings);
        let mut service = Self::without_writer(access, Arc::clone(&settings));
        let shared_url = settings.store_url.clone();
        if shared_url.is_none() && !writes_on && !SqliteStore::exists(&settings.data_dir) {
            if writable {
                tracing::info!(
                    "writes are off: no write token configured (server.write_tokens_sha256 or {TOKEN_ENV})"
                );
            }
            return Ok(service);
        }
        // The PostgreSQL client blocks on a runtime of its own: off any async runtime. The
        // records are merged on the thread that read them, whose allocator arena then reuses
        // the memory of each text for the feature parsed from it.
        let (events, status) = (service.events.clone(), Arc::clone(&service.status));
        let opened = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let (mut store, kind, name) = open_store(&settings, shared_url.as_deref())?;
                    let (records, applied) = store.records_at()?;
                    status.set_applied(applied);
                    let writer = Writer::new(
                        store,
                        Arc::clone(&catalog),
                        &records,
                        Arc::clone(&settings),
                        events,
                        status,
                    )?;
                    let changes = records.len();
                    merge::apply_records(&catalog, &catalog.joins, records)?;
                    Ok((writer, changes, applied, kind, name))
                })
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("opening the store panicked".to_owned())))
        });
        let (writer, changes, applied, kind, name) = opened?;
        service.kind = Some(kind);
        tracing::info!(store = %name, changes, log = applied, writes = writes_on, "store opened");
        if !writes_on && shared_url.is_none() {
            return Ok(service);
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer.run(&rx))
            .map_err(|e| Error::Internal(format!("cannot start the writer: {e}")))?;
        service.thread = Some(thread);
        if let Some(url) = shared_url {
            let listener = replica::listen(url, Arc::clone(&service.status), tx.clone())
                .map_err(|e| Error::Internal(format!("cannot start the listener: {e}")))?;
            service.listener = Some(listener);
        }
        service.queue = Some(tx);
        service.writes_on = writes_on;
        Ok(service)
    }

    /// What `/health` shows of the store; `None` when no store is open.
    pub fn status(&self) -> Option<StoreStatus> {
        self.kind
            .map(|kind| self.status.report(kind, self.listener.is_some()))
    }

    /// Tokens and rate limit.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Whether writes are on: a token is configured and the store is open.
    pub fn enabled(&self) -> bool {
        self.writes_on && self.queue.is_some()
    }

    /// Whether `layer` is configured to accept writes (whether or not writes are on).
    pub fn writable(&self, layer: &str) -> bool {
        self.settings.rules(layer).is_some()
    }

    /// Whether `layer` accepts writes now.
    pub fn accepts(&self, layer: &str) -> bool {
        self.enabled() && self.writable(layer)
    }

    /// The rules a feature written to `layer` must follow; `None` for a read-only layer.
    pub fn rules(&self, layer: &str) -> Option<&WriteRules> {
        self.settings.rules(layer)
    }

    /// Largest write body in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.settings.access.max_body_bytes
    }

    /// Subscribes to the events of every layer.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Queues a write and waits for its answer, which comes after the commit.
    ///
    /// # Errors
    /// Whatever the write fails with: 400, 404, 409, 412, or [`Error::Storage`].
    pub async fn submit(&self, request: WriteRequest) -> Result<Outcome> {
        let queue = self
            .queue
            .as_ref()
            .filter(|_| self.writes_on)
            .ok_or_else(|| {
                Error::MethodNotAllowed(format!("collection {}: writes are off", request.layer))
            })?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Message::Write(Box::new(Job { request, reply })))
            .map_err(|_| Error::Storage("the writer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| Error::Storage("the writer has stopped".to_owned()))?
    }
}

impl Drop for WriteService {
    fn drop(&mut self) {
        // Closing the queue (the listener holds a sender too) ends the writer after the
        // batch in hand.
        self.listener.take();
        self.queue.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// Opens the store the settings name: the store, its kind and its name for the log.
fn open_store(
    settings: &StoreSettings,
    shared_url: Option<&str>,
) -> Result<(Box<dyn Store>, &'static str, String)> {
    match shared_url {
        Some(url) => {
            let store = PostgresStore::open(url)?;
            let name = url.split_once('@').map_or(url, |(_, host)| host);
            Ok((Box::new(store), "postgresql", format!("postgresql {name}")))
        }
        None => {
            let store = SqliteStore::open(&settings.data_dir)?;
            let name = store.path().display().to_string();
            Ok((Box::new(store), "sqlite", name))
        }
    }
}
