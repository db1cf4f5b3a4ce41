//! The write side as the HTTP layer holds it.
//!
//! Owns: [`WriteService`]: start-up (open the store, merge its changes into the catalog,
//! start the writer thread, or stay off), the queue to the writer ([`WriteService::submit`]),
//! the event channel ([`WriteService::subscribe`]) and the access rules
//! ([`WriteService::access`]). The writer thread itself is `store::writer`.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::{broadcast, oneshot};

use super::Store;
use super::access::{Access, TOKEN_ENV};
use super::merge;
use super::request::{Outcome, WriteRequest};
use super::rules::WriteRules;
use super::settings::StoreSettings;
use super::sqlite::SqliteStore;
use super::writer::{Job, Writer};
use crate::catalog::Catalog;
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
    queue: Option<mpsc::Sender<Job>>,
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
            thread: None,
            events,
            access,
            settings,
        }
    }

    /// Opens the store of `settings.data_dir`, merges its changes into `catalog` and starts
    /// the writer. The token of the environment variable [`TOKEN_ENV`] is added to the
    /// configured ones. Without any token and without an existing store, nothing is opened
    /// or created.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be opened or read, [`Error::Config`] when
    /// another server holds it.
    pub fn open(settings: StoreSettings, catalog: Arc<Catalog>) -> Result<Self> {
        let env_token = std::env::var(TOKEN_ENV).ok();
        let access = Access::new(&settings.access, env_token.as_deref());
        let writable = settings.any_writable();
        let writes_on = access.enabled() && writable;
        let settings = Arc::new(settings);
        let mut service = Self::without_writer(access, Arc::clone(&settings));
        if !writes_on && !SqliteStore::exists(&settings.data_dir) {
            if writable {
                tracing::info!(
                    "writes are off: no write token configured (server.write_tokens_sha256 or {TOKEN_ENV})"
                );
            }
            return Ok(service);
        }
        let mut store = SqliteStore::open(&settings.data_dir)?;
        let records = store.records()?;
        let path = store.path().to_owned();
        let writer = Writer::new(
            Box::new(store),
            Arc::clone(&catalog),
            &records,
            settings,
            service.events.clone(),
        )?;
        merge::apply_records(&catalog, &catalog.joins, &records)?;
        tracing::info!(store = %path.display(), changes = records.len(), writes = writes_on, "store opened");
        if !writes_on {
            return Ok(service);
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer.run(&rx))
            .map_err(|e| Error::Internal(format!("cannot start the writer: {e}")))?;
        service.queue = Some(tx);
        service.thread = Some(thread);
        Ok(service)
    }

    /// Tokens and rate limit.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Whether writes are on: a token is configured and the store is open.
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
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
        let queue = self.queue.as_ref().ok_or_else(|| {
            Error::MethodNotAllowed(format!("collection {}: writes are off", request.layer))
        })?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job { request, reply })
            .map_err(|_| Error::Storage("the writer has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| Error::Storage("the writer has stopped".to_owned()))?
    }
}

impl Drop for WriteService {
    fn drop(&mut self) {
        // Closing the queue ends the writer after the batch in hand.
        self.queue.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}
