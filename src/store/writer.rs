//! The one writer: batches of writes, committed together, then swapped in.
//!
//! Owns: [`WriteService`] (what the HTTP layer holds: the access rules, the queue to the
//! writer thread, the event channel) and the writer thread itself.
//!
//! One thread owns the store. It takes every request waiting (up to [`MAX_BATCH`]), checks
//! each against the current snapshots, builds the new snapshots off to the side (features,
//! index, joins), commits the batch in one transaction (group commit: one `fsync` for many
//! writes), and only then swaps the snapshots in, broadcasts the events and answers. A request
//! that touches a feature or an `Idempotency-Key` already touched in the same batch waits for
//! the next batch, so each check sees the result of the writes before it.
//!
//! Readers take snapshots and never wait for the writer; a reader sees a batch entirely or
//! not at all (per layer: a join partner, such as the province counts, is swapped right
//! after the layer that changed).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tokio::sync::{broadcast, oneshot};

use super::access::{Access, TOKEN_ENV};
use super::merge::{self, LayerEdit, derived_fields, fingerprint};
use super::rules::Draft;
use super::sqlite::SqliteStore;
use super::{
    Batch, Change, ChangeKind, IdempotentResult, NEW_ID_LIMIT, Record, Store, StoredFeature,
    etag_of_body, feature_body, feature_etag,
};
use crate::catalog::time::format_ms;
use crate::catalog::{Catalog, Layer};
use crate::config::Config;
use crate::error::{Error, Result};

/// Most requests committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// Events kept for slow subscribers before they are told to resynchronize.
pub const EVENT_CAPACITY: usize = 1024;

/// An `If-Match` precondition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current state.
    Any,
    /// One of these entity tags (quoted, as sent).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Parses an `If-Match` header value.
    pub fn parse(header: &str) -> Self {
        if header.trim() == "*" {
            return Self::Any;
        }
        Self::Tags(
            header
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
        )
    }

    /// Strong comparison (RFC 9110 13.1.1): weak tags never match.
    pub fn matches(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|t| t == etag),
        }
    }
}

/// A write, parsed and validated by the HTTP layer.
#[derive(Debug)]
pub struct WriteRequest {
    pub layer: String,
    pub op: WriteOp,
}

/// What to write.
#[derive(Debug)]
pub enum WriteOp {
    /// `POST /collections/{layer}/items`.
    Create {
        draft: Draft,
        /// The `Idempotency-Key` header.
        idempotency_key: Option<String>,
        /// SHA-256 of the body, to tell a retry from a different request with the same key.
        fingerprint: [u8; 32],
    },
    /// `PUT /collections/{layer}/items/{fid}`.
    Replace {
        fid: String,
        draft: Draft,
        if_match: Option<IfMatch>,
    },
    /// `DELETE /collections/{layer}/items/{fid}`.
    Delete {
        fid: String,
        if_match: Option<IfMatch>,
    },
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Created,
    /// A retried create: the first result, nothing written.
    Replayed,
    Replaced,
    Deleted,
}

/// The answer to an acknowledged write.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub id: u64,
    /// The feature as stored ([`feature_body`]); `None` after a delete.
    pub body: Option<String>,
    /// Its entity tag; `None` after a delete.
    pub etag: Option<String>,
}

/// A change announced to subscribers, after its commit.
#[derive(Debug, Clone)]
pub struct Event {
    pub layer: Arc<str>,
    /// `{"type":"create"|"update"|"delete","id":N,"feature":{...}}` (no `feature` on delete).
    pub data: Arc<str>,
}

struct Job {
    request: WriteRequest,
    reply: oneshot::Sender<Result<Outcome>>,
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
    config: Arc<Config>,
}

impl WriteService {
    /// A service that never writes (no store opened): for read-only tests and tools.
    pub fn disabled(config: Arc<Config>) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let access = Access::new(&super::WriteSettings::default(), None);
        Self {
            queue: None,
            thread: None,
            events,
            access,
            config,
        }
    }

    /// Opens the store of `config.data_dir`, merges its changes into `catalog` and starts the
    /// writer. The token of the environment variable [`TOKEN_ENV`] is added to the configured
    /// ones. Without any token and without an existing store, nothing is opened or created.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be opened or read, [`Error::Config`] when
    /// another server holds it.
    pub fn open(config: Arc<Config>, catalog: Arc<Catalog>) -> Result<Self> {
        let env = std::env::var(TOKEN_ENV).ok();
        Self::open_with_token(config, catalog, env.as_deref())
    }

    /// [`WriteService::open`] with an explicit clear token instead of the environment.
    ///
    /// # Errors
    /// As [`WriteService::open`].
    pub fn open_with_token(
        config: Arc<Config>,
        catalog: Arc<Catalog>,
        env_token: Option<&str>,
    ) -> Result<Self> {
        let access = Access::new(&config.write, env_token);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let dir = config.data_dir.clone();
        let writable = config.layers.iter().any(|l| l.writable);
        let writes_on = access.enabled() && writable;
        if !writes_on && !SqliteStore::exists(&dir) {
            if writable {
                tracing::info!(
                    "writes are off: no write token configured (server.write_tokens_sha256 or {TOKEN_ENV})"
                );
            }
            return Ok(Self {
                queue: None,
                thread: None,
                events,
                access,
                config,
            });
        }
        let mut store = SqliteStore::open(&dir)?;
        let records = store.records()?;
        let mut last_ids = HashMap::new();
        for handle in &catalog.layers {
            let shipped_max = handle
                .snapshot()
                .features
                .iter()
                .map(|f| f.id)
                .filter(|&id| id < NEW_ID_LIMIT)
                .max()
                .unwrap_or(0);
            last_ids.insert(
                handle.id.clone(),
                shipped_max.max(store.last_id(&handle.id)?),
            );
        }
        for r in records.iter().filter(|r| r.id < NEW_ID_LIMIT) {
            let last = last_ids.entry(r.layer.clone()).or_insert(0);
            *last = (*last).max(r.id);
        }
        let shipped_fields = catalog
            .layers
            .iter()
            .map(|h| (h.id.clone(), h.snapshot().fields.len()))
            .collect();
        merge::apply_records(&catalog, &config.joins, &records)?;
        tracing::info!(store = %store.path().display(), changes = records.len(), writes = writes_on, "store opened");
        if !writes_on {
            return Ok(Self {
                queue: None,
                thread: None,
                events,
                access,
                config,
            });
        }
        let bases = records
            .into_iter()
            .map(|r| ((r.layer, r.id), r.base))
            .collect();
        let writer = Writer {
            store: Box::new(store),
            catalog,
            config: Arc::clone(&config),
            events: events.clone(),
            last_ids,
            shipped_fields,
            bases,
        };
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer.run(&rx))
            .map_err(|e| Error::Internal(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            queue: Some(tx),
            thread: Some(thread),
            events,
            access,
            config,
        })
    }

    /// Tokens and rate limit.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Whether writes are on: a token is configured and the store is open.
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Whether `layer` accepts writes now.
    pub fn accepts(&self, layer: &str) -> bool {
        self.enabled() && self.config.layer(layer).is_some_and(|l| l.writable)
    }

    /// Largest write body in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.config.write.max_body_bytes
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

/// A write that passed its checks, waiting for the commit.
struct Staged {
    reply: oneshot::Sender<Result<Outcome>>,
    kind: ChangeKind,
    layer: String,
    id: u64,
    feature: Option<(geo::Geometry<f64>, StoredFeature)>,
    base: Option<String>,
    idempotency: Option<(String, [u8; 32])>,
}

/// What staging a job led to.
enum Staging {
    Staged(Staged),
    /// Answered at once (a rejection or a replay).
    Answered,
    /// Touches something already in this batch: next batch.
    Deferred(Job),
}

struct Writer {
    store: Box<dyn Store>,
    catalog: Arc<Catalog>,
    config: Arc<Config>,
    events: broadcast::Sender<Event>,
    /// Highest id in use or ever given out, per layer.
    last_ids: HashMap<String, u64>,
    /// Number of fields of each layer as loaded (file and joins), before any write.
    shipped_fields: HashMap<String, usize>,
    /// Features the store has a record of, with the fingerprint of the shipped feature the
    /// record was first made over.
    bases: HashMap<(String, u64), Option<String>>,
}

fn now_text() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    format_ms(ms)
}

impl Writer {
    fn run(mut self, queue: &mpsc::Receiver<Job>) {
        let mut backlog: VecDeque<Job> = VecDeque::new();
        loop {
            if backlog.is_empty() {
                match queue.recv() {
                    Ok(job) => backlog.push_back(job),
                    Err(_) => return,
                }
            }
            while backlog.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => backlog.push_back(job),
                    Err(_) => break,
                }
            }
            let batch: Vec<Job> = backlog.drain(..).collect();
            backlog.extend(self.process(batch));
        }
    }

    /// Processes one batch; returns the jobs deferred to the next.
    fn process(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        let mut deferred = Vec::new();
        let mut staged = Vec::new();
        let mut touched: HashSet<(String, u64)> = HashSet::new();
        let mut keys: HashSet<(String, String)> = HashSet::new();
        let mut last_ids = self.last_ids.clone();
        for job in jobs {
            match self.stage(job, &mut touched, &mut keys, &mut last_ids) {
                Staging::Staged(s) => staged.push(s),
                Staging::Answered => {}
                Staging::Deferred(job) => deferred.push(job),
            }
        }
        if !staged.is_empty() {
            self.commit(staged, last_ids);
        }
        deferred
    }

    fn stage(
        &mut self,
        job: Job,
        touched: &mut HashSet<(String, u64)>,
        keys: &mut HashSet<(String, String)>,
        last_ids: &mut HashMap<String, u64>,
    ) -> Staging {
        let layer_id = job.request.layer.clone();
        let snapshot = match self.catalog.get(&layer_id) {
            Ok(h) => h.snapshot(),
            Err(e) => return answer(job.reply, Err(e)),
        };
        let Some(layer_config) = self.config.layer(&layer_id).filter(|l| l.writable) else {
            let e = Error::MethodNotAllowed(format!("collection {layer_id}"));
            return answer(job.reply, Err(e));
        };
        let rules = &layer_config.write;
        let derived = derived_fields(&self.config.joins, &layer_id);
        let owned: HashSet<&str> = rules
            .server_owned()
            .chain(derived.iter().copied())
            .collect();
        match &job.request.op {
            WriteOp::Create {
                draft,
                idempotency_key,
                fingerprint: fp,
            } => {
                if let Some(key) = idempotency_key {
                    if keys.contains(&(layer_id.clone(), key.clone())) {
                        return Staging::Deferred(job);
                    }
                    match self.store.idempotent(&layer_id, key) {
                        Err(e) => return answer(job.reply, Err(e)),
                        Ok(Some(first)) if first.fingerprint != *fp => {
                            let e = Error::Conflict(format!(
                                "Idempotency-Key {key:?} was already used with a different body"
                            ));
                            return answer(job.reply, Err(e));
                        }
                        Ok(Some(first)) => {
                            let outcome = Outcome {
                                kind: OutcomeKind::Replayed,
                                id: first.id,
                                body: Some(first.body),
                                etag: Some(first.etag),
                            };
                            return answer(job.reply, Ok(outcome));
                        }
                        Ok(None) => {}
                    }
                }
                if draft.id.is_some() {
                    return answer(
                        job.reply,
                        Err(Error::bad_body("id", "is assigned by the server")),
                    );
                }
                if let Some(name) = draft.properties.keys().find(|k| owned.contains(k.as_str())) {
                    let e = Error::bad_body(format!("properties.{name}"), "is set by the server");
                    return answer(job.reply, Err(e));
                }
                let last = last_ids.entry(layer_id.clone()).or_insert(0);
                let mut id = *last + 1;
                while snapshot.position(id).is_some() {
                    id += 1; // a hashed string id that happens to be small
                }
                if id >= NEW_ID_LIMIT {
                    let e =
                        Error::Conflict(format!("collection {layer_id} has no feature id left"));
                    return answer(job.reply, Err(e));
                }
                *last = id;
                let mut properties = draft.properties.clone();
                let now = now_text();
                for p in [&rules.created_property, &rules.updated_property]
                    .into_iter()
                    .flatten()
                {
                    properties.insert(p.clone(), Value::String(now.clone()));
                }
                touched.insert((layer_id.clone(), id));
                if let Some(key) = idempotency_key {
                    keys.insert((layer_id.clone(), key.clone()));
                }
                Staging::Staged(Staged {
                    reply: job.reply,
                    kind: ChangeKind::Create,
                    layer: layer_id,
                    id,
                    feature: Some((
                        draft.geometry.clone(),
                        StoredFeature {
                            geometry: draft.geometry_json.clone(),
                            properties,
                        },
                    )),
                    base: None,
                    idempotency: idempotency_key.clone().map(|k| (k, *fp)),
                })
            }
            WriteOp::Replace {
                fid,
                draft,
                if_match,
            } => {
                let current = match self.current(&snapshot, fid, if_match.as_ref()) {
                    Ok(c) => c,
                    Err(e) => return answer(job.reply, Err(e)),
                };
                if touched.contains(&(layer_id.clone(), current)) {
                    return Staging::Deferred(job);
                }
                let feature = &snapshot.features[snapshot.position(current).unwrap_or_default()];
                if let Some(id) = &draft.id {
                    let same = id.as_u64() == Some(current)
                        || id
                            .as_str()
                            .is_some_and(|s| snapshot.source_ids.get(s) == Some(&current));
                    if !same {
                        let e = Error::bad_body(
                            "id",
                            format!("{id} is not the id of the feature in the path"),
                        );
                        return answer(job.reply, Err(e));
                    }
                }
                let value_of = |name: &str| {
                    snapshot
                        .field_index(name)
                        .and_then(|i| feature.props.get(i))
                        .filter(|p| !matches!(p, crate::catalog::Prop::Absent))
                        .map(crate::catalog::Prop::to_json)
                };
                let mut properties = Map::new();
                for (name, value) in &draft.properties {
                    if owned.contains(name.as_str()) {
                        if value_of(name).as_ref() != Some(value) {
                            let e = Error::bad_body(
                                format!("properties.{name}"),
                                "is set by the server and cannot be changed",
                            );
                            return answer(job.reply, Err(e));
                        }
                    } else {
                        properties.insert(name.clone(), value.clone());
                    }
                }
                for name in rules.server_owned.iter().chain(&rules.created_property) {
                    if let Some(v) = value_of(name) {
                        properties.insert(name.clone(), v);
                    }
                }
                if let Some(p) = &rules.updated_property {
                    properties.insert(p.clone(), Value::String(now_text()));
                }
                let base = self.base_of(&snapshot, current, &derived);
                touched.insert((layer_id.clone(), current));
                Staging::Staged(Staged {
                    reply: job.reply,
                    kind: ChangeKind::Replace,
                    layer: layer_id,
                    id: current,
                    feature: Some((
                        draft.geometry.clone(),
                        StoredFeature {
                            geometry: draft.geometry_json.clone(),
                            properties,
                        },
                    )),
                    base,
                    idempotency: None,
                })
            }
            WriteOp::Delete { fid, if_match } => {
                let current = match self.current(&snapshot, fid, if_match.as_ref()) {
                    Ok(c) => c,
                    Err(e) => return answer(job.reply, Err(e)),
                };
                if touched.contains(&(layer_id.clone(), current)) {
                    return Staging::Deferred(job);
                }
                let base = self.base_of(&snapshot, current, &derived);
                touched.insert((layer_id.clone(), current));
                Staging::Staged(Staged {
                    reply: job.reply,
                    kind: ChangeKind::Delete,
                    layer: layer_id,
                    id: current,
                    feature: None,
                    base,
                    idempotency: None,
                })
            }
        }
    }

    /// The id of the feature `fid` names, after checking `If-Match` against its state.
    fn current(&self, snapshot: &Layer, fid: &str, if_match: Option<&IfMatch>) -> Result<u64> {
        let feature = snapshot.find(fid).ok_or_else(|| Error::NotFound {
            kind: "feature",
            id: fid.to_owned(),
        })?;
        if let Some(m) = if_match {
            let etag = feature_etag(snapshot, feature);
            if !m.matches(&etag) {
                return Err(Error::PreconditionFailed(format!(
                    "feature {fid} has changed: its ETag is {etag}"
                )));
            }
        }
        Ok(feature.id)
    }

    /// The base fingerprint of a change to feature `id`: the one the store already has, or
    /// the fingerprint of the shipped feature for its first change.
    fn base_of(&self, snapshot: &Layer, id: u64, derived: &HashSet<&str>) -> Option<String> {
        match self.bases.get(&(snapshot.id().to_owned(), id)) {
            Some(base) => base.clone(),
            None => snapshot
                .position(id)
                .map(|p| fingerprint(snapshot, &snapshot.features[p], derived)),
        }
    }

    /// Builds the new snapshots, commits, swaps, broadcasts and answers.
    fn commit(&mut self, staged: Vec<Staged>, last_ids: HashMap<String, u64>) {
        let started = std::time::Instant::now();
        let built = match self.build(&staged) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "could not build the new snapshots; nothing written");
                for s in staged {
                    let _ = s.reply.send(Err(Error::Internal(e.to_string())));
                }
                return;
            }
        };
        let mut batch = Batch::default();
        let mut outcomes = Vec::with_capacity(staged.len());
        for s in &staged {
            let (body, etag) = match built
                .get(&s.layer)
                .and_then(|l| l.position(s.id).map(|p| (l, p)))
            {
                Some((layer, p)) if s.feature.is_some() => {
                    let body = feature_body(layer, &layer.features[p]);
                    let etag = etag_of_body(&body);
                    (Some(body), Some(etag))
                }
                _ => (None, None),
            };
            if let (Some((key, fp)), Some(body), Some(etag)) = (&s.idempotency, &body, &etag) {
                batch.idempotency.push((
                    s.layer.clone(),
                    key.clone(),
                    IdempotentResult {
                        fingerprint: *fp,
                        id: s.id,
                        body: body.clone(),
                        etag: etag.clone(),
                    },
                ));
            }
            batch.changes.push(Change {
                kind: s.kind,
                record: Record {
                    layer: s.layer.clone(),
                    id: s.id,
                    feature: s.feature.as_ref().map(|(_, f)| f.clone()),
                    base: s.base.clone(),
                },
            });
            let kind = match s.kind {
                ChangeKind::Create => OutcomeKind::Created,
                ChangeKind::Replace => OutcomeKind::Replaced,
                ChangeKind::Delete => OutcomeKind::Deleted,
            };
            outcomes.push(Outcome {
                kind,
                id: s.id,
                body,
                etag,
            });
        }
        let created: HashSet<&str> = staged
            .iter()
            .filter(|s| s.kind == ChangeKind::Create)
            .map(|s| s.layer.as_str())
            .collect();
        batch.last_ids = created
            .into_iter()
            .filter_map(|l| last_ids.get(l).map(|&n| (l.to_owned(), n)))
            .collect();
        let built_at = started.elapsed();
        let committed = self.store.commit(&batch);
        tracing::debug!(
            writes = staged.len(),
            build_us = built_at.as_micros() as u64,
            commit_us = (started.elapsed() - built_at).as_micros() as u64,
            "batch"
        );
        // Ids of a failed batch are burnt too: if the failure hid a commit that did reach the
        // disk (an fsync error after the write), the ids must not be given out again.
        self.last_ids = last_ids;
        if let Err(e) = committed {
            tracing::error!(error = %e, writes = staged.len(), "commit failed; nothing acknowledged");
            let message = e.to_string();
            for s in staged {
                let _ = s.reply.send(Err(Error::Storage(message.clone())));
            }
            return;
        }
        // Durable: now make it visible, announce it and acknowledge it.
        for (id, layer) in built {
            if let Ok(handle) = self.catalog.get(&id) {
                handle.replace(layer);
            }
        }
        for (s, outcome) in staged.into_iter().zip(outcomes) {
            self.bases.entry((s.layer.clone(), s.id)).or_insert(s.base);
            let data = match &outcome.body {
                Some(body) => format!(
                    r#"{{"type":"{}","id":{},"feature":{body}}}"#,
                    s.kind.name(),
                    s.id
                ),
                None => format!(r#"{{"type":"{}","id":{}}}"#, s.kind.name(), s.id),
            };
            let _ = self.events.send(Event {
                layer: s.layer.as_str().into(),
                data: data.into(),
            });
            let _ = s.reply.send(Ok(outcome));
        }
    }

    /// The new snapshot of every layer the batch changes, and of their join partners.
    fn build(&self, staged: &[Staged]) -> Result<HashMap<String, Layer>> {
        let mut edits: HashMap<&str, (Arc<Layer>, LayerEdit)> = HashMap::new();
        for s in staged {
            if !edits.contains_key(s.layer.as_str()) {
                let snapshot = self.catalog.get(&s.layer)?.snapshot();
                let shipped = self.shipped_fields.get(&s.layer).copied().unwrap_or(0);
                let edit = LayerEdit::new(&snapshot, shipped);
                edits.insert(s.layer.as_str(), (snapshot, edit));
            }
            let Some((_, edit)) = edits.get_mut(s.layer.as_str()) else {
                continue;
            };
            match &s.feature {
                Some((geometry, stored)) => edit
                    .put(s.id, geometry.clone(), &stored.properties)
                    .map_err(|e| Error::bad_body("properties", e))?,
                None => {
                    edit.delete(s.id);
                }
            }
        }
        let mut working: HashMap<String, Layer> = edits
            .into_iter()
            .map(|(id, (snapshot, edit))| (id.to_owned(), edit.finish(&snapshot)))
            .collect();
        let mut ids: HashMap<String, Vec<u64>> = HashMap::new();
        for s in staged {
            ids.entry(s.layer.clone()).or_default().push(s.id);
        }
        merge::rejoin(&self.catalog, &self.config.joins, &mut working, Some(&ids))?;
        Ok(working)
    }
}

fn answer(reply: oneshot::Sender<Result<Outcome>>, result: Result<Outcome>) -> Staging {
    let _ = reply.send(result);
    Staging::Answered
}
