//! The writer thread: batches of writes, committed together, then swapped in.
//!
//! Owns: [`Writer`], the one thread that owns the store. It takes every request waiting (up
//! to [`MAX_BATCH`]), stages each ([`super::staging`]), builds the new snapshots off to the
//! side (the features and index parts the batch changes, and joins; see [`super::repack`]
//! for the index), commits the batch in one transaction (group commit: one
//! `fsync` for many writes), and only then swaps the snapshots in, broadcasts the events and
//! answers. It also keeps the bookkeeping of the batches: the highest id given out per
//! layer and the base fingerprint of every feature the store has a record of.
//!
//! On a store several servers share, the writer also applies the changes of the others
//! ([`super::remote`]), in log order and exactly once: the position of the last change
//! applied only moves forward, past each change applied. It catches up when the listener
//! ([`super::replica`]) wakes it and before every batch, holding the store's exclusive lock
//! ([`Store::begin_exclusive`]) from then to the commit; a commit refused because the log
//! moved on makes it catch up and check the same requests again.
//!
//! Readers take snapshots and never wait for the writer; a reader sees a batch entirely or
//! not at all (per layer: a join partner, such as the province counts, is swapped right
//! after the layer that changed).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, oneshot};

use super::bases::Bases;
use super::merge::{self, LayerEdit, derived_fields};
use super::repack::Repacks;
use super::replica::ReplicaStatus;
use super::request::{Outcome, OutcomeKind, WriteOp, WriteRequest};
use super::service::Event;
use super::settings::StoreSettings;
use super::staging::{self, Decision, LayerView, Pending, StagedChange};
use super::strings::WrittenStrings;
use super::{
    Batch, Change, ChangeKind, IdempotentResult, LoggedChange, NEW_ID_LIMIT, Record, Store,
    StoredText, etag_of_body, try_feature_body,
};
use crate::catalog::load::source_form;
use crate::catalog::time::format_ms;
use crate::catalog::{Catalog, Layer};
use crate::error::{Error, Result};

/// Most requests committed in one transaction.
pub const MAX_BATCH: usize = 256;

/// Most logged changes read at once when catching up.
const CATCH_UP_BATCH: usize = 2000;

/// While a re-pack runs and no write comes, how often the writer looks whether it finished.
const IDLE_REPACK_CHECK: Duration = Duration::from_millis(100);

/// What the writer thread is asked to do.
#[derive(Debug)]
pub enum Message {
    /// A write.
    Write(Box<Job>),
    /// Apply the changes other servers committed.
    CatchUp,
}

/// A request and where its answer goes.
#[derive(Debug)]
pub struct Job {
    pub request: WriteRequest,
    pub reply: oneshot::Sender<Result<Outcome>>,
}

/// A staged change and the job it came from.
struct Staged {
    change: StagedChange,
    job: Job,
}

/// The writer. See the module documentation.
pub struct Writer {
    store: Box<dyn Store>,
    catalog: Arc<Catalog>,
    settings: Arc<StoreSettings>,
    events: broadcast::Sender<Event>,
    /// Highest id in use or ever given out, per layer.
    last_ids: HashMap<String, u64>,
    /// Number of fields of each layer as loaded (file and joins), before any write.
    shipped_fields: HashMap<String, usize>,
    /// Features the store has a record of, with the fingerprint of the shipped feature the
    /// record was first made over.
    bases: Bases,
    /// Position of the last change of the store's log applied to the snapshots.
    status: Arc<ReplicaStatus>,
    /// Index re-packs under way.
    repacks: Repacks,
    /// Per layer, the string values its last batches put (see [`WrittenStrings`]).
    strings: WrittenStrings,
}

/// The current time as written into timestamp properties.
fn now_text() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    format_ms(ms)
}

impl Writer {
    /// A writer over `store`, whose latest `records` have been read (up to the log position
    /// in `status`). Call it before the records are merged into `catalog`: it notes the ids
    /// and fields of the shipped layers.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be read.
    pub fn new(
        mut store: Box<dyn Store>,
        catalog: Arc<Catalog>,
        records: &[Record],
        settings: Arc<StoreSettings>,
        events: broadcast::Sender<Event>,
        status: Arc<ReplicaStatus>,
    ) -> Result<Self> {
        let mut last_ids = HashMap::new();
        for handle in &catalog.layers {
            let shipped_max = handle
                .snapshot()
                .features
                .iter()
                .map(|(_, f)| f.id)
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
        let mut bases = Bases::default();
        for r in records {
            bases.note(&r.layer, r.id, r.base.as_deref());
        }
        Ok(Self {
            store,
            catalog,
            settings,
            events,
            last_ids,
            shipped_fields,
            bases,
            status,
            repacks: Repacks::default(),
            strings: WrittenStrings::default(),
        })
    }

    /// Serves `queue` until it is closed.
    pub fn run(mut self, queue: &mpsc::Receiver<Message>) {
        let mut backlog: VecDeque<Job> = VecDeque::new();
        loop {
            let mut catch_up = false;
            let mut next = if backlog.is_empty() && self.repacks.any_running() {
                // A finished re-pack goes in even if no write comes to carry it.
                match queue.recv_timeout(IDLE_REPACK_CHECK) {
                    Ok(message) => Some(message),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.adopt_idle_repacks();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            } else if backlog.is_empty() {
                match queue.recv() {
                    Ok(message) => Some(message),
                    Err(_) => return,
                }
            } else {
                queue.try_recv().ok()
            };
            while let Some(message) = next {
                match message {
                    Message::Write(job) => backlog.push_back(*job),
                    Message::CatchUp => catch_up = true,
                }
                next = (backlog.len() < MAX_BATCH)
                    .then(|| queue.try_recv().ok())
                    .flatten();
            }
            let shared = self.store.shared() && !backlog.is_empty();
            if shared {
                // Failures are logged by the store; the batch then fails at its commit.
                let _ = self.store.begin_exclusive();
            }
            if catch_up || shared {
                let _ = self.catch_up();
            }
            if !backlog.is_empty() {
                let batch: Vec<Job> = backlog.drain(..).collect();
                backlog.extend(self.process(batch));
            }
            self.store.end_exclusive();
        }
    }

    /// Swaps in the layers whose index re-pack finished while no write came.
    fn adopt_idle_repacks(&mut self) {
        for id in self.repacks.finished() {
            let Ok(handle) = self.catalog.get(&id) else {
                continue;
            };
            if let Some(layer) = self.repacks.adopt_idle(&id, &handle.snapshot()) {
                handle.replace(layer);
            }
        }
    }

    /// Applies every change of the log after the last one applied.
    ///
    /// # Errors
    /// [`Error::Storage`] when the log cannot be read.
    fn catch_up(&mut self) -> Result<()> {
        let catalog = Arc::clone(&self.catalog);
        let _exclusive = catalog.exclusive();
        self.catch_up_held()
    }

    /// [`Writer::catch_up`], with [`Catalog::exclusive`] held by the caller.
    fn catch_up_held(&mut self) -> Result<()> {
        loop {
            let changes = self
                .store
                .changes_after(self.status.applied(), CATCH_UP_BATCH)?;
            if changes.is_empty() {
                return Ok(());
            }
            self.apply_logged(&changes);
            if changes.len() < CATCH_UP_BATCH {
                return Ok(());
            }
        }
    }

    /// Applies changes read from the log: new snapshots swapped in, events, bookkeeping.
    /// The caller holds [`Catalog::exclusive`].
    fn apply_logged(&mut self, changes: &[LoggedChange]) {
        let catalog = Arc::clone(&self.catalog);
        match super::remote::build(&catalog, &self.shipped_fields, &mut self.strings, changes) {
            Ok((built, applied)) => {
                for (id, layer) in built {
                    if let Ok(handle) = catalog.get(&id) {
                        handle.replace(layer);
                        self.repacks.swapped(&id, &handle.snapshot());
                    }
                }
                for (logged, _) in changes.iter().zip(applied).filter(|(_, a)| *a) {
                    let r = &logged.change.record;
                    let body = r.feature.as_ref().and_then(|_| {
                        let snapshot = catalog.get(&r.layer).ok()?.snapshot();
                        let feature = snapshot.feature(r.id)?;
                        try_feature_body(&snapshot, feature).ok()
                    });
                    self.announce(&r.layer, r.id, logged.change.kind, body.as_deref());
                    if r.id < NEW_ID_LIMIT {
                        let last = self.last_ids.entry(r.layer.clone()).or_insert(0);
                        *last = (*last).max(r.id);
                    }
                    self.bases.note(&r.layer, r.id, r.base.as_deref());
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "logged changes could not be applied; skipped");
            }
        }
        if let Some(last) = changes.last() {
            self.status.set_applied(last.seq);
        }
    }

    /// Broadcasts the event of a change, once it is visible.
    fn announce(&self, layer: &str, id: u64, kind: ChangeKind, body: Option<&str>) {
        let id = self
            .catalog
            .get(layer)
            .map_or_else(|_| id.to_string(), |h| h.snapshot().api_id(id).json());
        let data = match body {
            Some(body) => format!(r#"{{"type":"{}","id":{id},"feature":{body}}}"#, kind.name()),
            None => format!(r#"{{"type":"{}","id":{id}}}"#, kind.name()),
        };
        let _ = self.events.send(Event {
            layer: layer.into(),
            data: data.into(),
        });
    }

    /// Processes one batch; returns the jobs deferred to the next.
    fn process(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        // From the snapshots read to the snapshots swapped in, no file reload interleaves.
        let catalog = Arc::clone(&self.catalog);
        let _exclusive = catalog.exclusive();
        let mut deferred = Vec::new();
        let mut staged = Vec::new();
        let mut pending = Pending::new(self.last_ids.clone());
        for job in jobs {
            match self.decide(&job.request, &mut pending) {
                Ok(Decision::Stage(change)) => staged.push(Staged {
                    change: *change,
                    job,
                }),
                Ok(Decision::Replay(outcome)) => {
                    let _ = job.reply.send(Ok(outcome));
                }
                Ok(Decision::Defer) => deferred.push(job),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if !staged.is_empty() {
            let mut retried = self.commit(staged, pending.into_last_ids());
            retried.append(&mut deferred);
            return retried;
        }
        deferred
    }

    /// Stages one request against the current snapshot of its layer.
    fn decide(&mut self, request: &WriteRequest, pending: &mut Pending) -> Result<Decision> {
        let layer = request.layer.as_str();
        let snapshot = self.catalog.get(layer)?.snapshot();
        let rules = self
            .settings
            .rules(layer)
            .ok_or_else(|| Error::MethodNotAllowed(format!("collection {layer}")))?;
        let first_use = match &request.op {
            WriteOp::Create {
                idempotency_key: Some(key),
                ..
            } if !pending.holds_key(layer, key) => self.store.idempotent(layer, key)?,
            _ => None,
        };
        let derived = derived_fields(&self.catalog.joins, layer);
        let view = LayerView {
            snapshot: &snapshot,
            rules,
            derived: &derived,
            bases: &self.bases,
        };
        staging::stage(view, pending, request, first_use, &now_text())
    }

    /// Builds the new snapshots, commits, swaps, broadcasts and answers. Returns the jobs to
    /// check again, after the changes of other servers it applied: those of a batch the
    /// store refused because its log moved on.
    fn commit(&mut self, staged: Vec<Staged>, last_ids: HashMap<String, u64>) -> Vec<Job> {
        let started = std::time::Instant::now();
        let prepared = self
            .build(&staged)
            .and_then(|built| Ok((batch_of(&staged, &built, &last_ids)?, built)));
        let ((batch, outcomes), built) = match prepared {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not build the new snapshots; nothing written");
                for s in staged {
                    let _ = s.job.reply.send(Err(Error::Internal(e.to_string())));
                }
                return Vec::new();
            }
        };
        let built_at = started.elapsed();
        let applied = self.status.applied();
        let committed = match self.store.commit_after(&batch, applied) {
            Ok(Some(seq)) => Ok(seq),
            Ok(None) => match self.catch_up_held() {
                Ok(()) if self.status.applied() != applied => {
                    return staged.into_iter().map(|s| s.job).collect();
                }
                Ok(()) => Err(Error::Storage(
                    "the change log moved on but shows no new change".to_owned(),
                )),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        tracing::debug!(
            writes = staged.len(),
            build_us = built_at.as_micros() as u64,
            commit_us = (started.elapsed() - built_at).as_micros() as u64,
            "batch"
        );
        // Ids of a failed batch are burnt too: if the failure hid a commit that did reach the
        // disk (an fsync error after the write), the ids must not be given out again.
        self.last_ids = last_ids;
        let seq = match committed {
            Ok(seq) => seq,
            Err(e) => {
                tracing::error!(error = %e, writes = staged.len(), "commit failed; nothing acknowledged");
                let message = e.to_string();
                for s in staged {
                    let _ = s.job.reply.send(Err(Error::Storage(message.clone())));
                }
                return Vec::new();
            }
        };
        // Durable: now make it visible, announce it and acknowledge it.
        for (id, layer) in built {
            if let Ok(handle) = self.catalog.get(&id) {
                handle.replace(layer);
                self.repacks.swapped(&id, &handle.snapshot());
            }
        }
        self.status.set_applied(seq);
        for (s, outcome) in staged.into_iter().zip(outcomes) {
            let change = s.change;
            self.announce(
                &change.layer,
                change.id,
                change.kind,
                outcome.body.as_deref(),
            );
            self.bases
                .note(&change.layer, change.id, change.base.as_deref());
            let _ = s.job.reply.send(Ok(outcome));
        }
        Vec::new()
    }

    /// The new snapshot of every layer the batch changes, and of their join partners.
    fn build(&mut self, staged: &[Staged]) -> Result<HashMap<String, Layer>> {
        let mut edits: HashMap<&str, (Arc<Layer>, LayerEdit)> = HashMap::new();
        for StagedChange {
            layer, id, feature, ..
        } in staged.iter().map(|s| &s.change)
        {
            if !edits.contains_key(layer.as_str()) {
                let snapshot = self.catalog.get(layer)?.snapshot();
                let shipped = self.shipped_fields.get(layer).copied().ok_or_else(|| {
                    Error::Internal(format!("no shipped schema for collection {layer}"))
                })?;
                let edit = self.strings.edit(layer, &snapshot, shipped);
                edits.insert(layer.as_str(), (snapshot, edit));
            }
            let Some((_, edit)) = edits.get_mut(layer.as_str()) else {
                continue;
            };
            match feature {
                Some((geometry, stored)) => edit
                    .put(
                        *id,
                        geometry.clone(),
                        source_form(&stored.geometry),
                        &stored.properties,
                    )
                    .map_err(|e| Error::bad_body("properties", e))?,
                None => edit.delete(*id),
            }
        }
        let mut working = HashMap::new();
        for (id, (snapshot, edit)) in edits {
            let mut layer = self.strings.finish(id, edit, &snapshot);
            self.repacks.adopt(id, &mut layer);
            working.insert(id.to_owned(), layer);
        }
        let mut ids: HashMap<String, Vec<u64>> = HashMap::new();
        for s in staged {
            ids.entry(s.change.layer.clone())
                .or_default()
                .push(s.change.id);
        }
        merge::rejoin(&self.catalog, &self.catalog.joins, &mut working, Some(&ids))?;
        Ok(working)
    }
}

/// What the store commits for `staged`, and the answer of each change, read from the
/// `built` snapshots. `last_ids` holds the highest id given out per layer.
///
/// # Errors
/// [`Error::Internal`] when a created or replaced feature is missing from `built`.
fn batch_of(
    staged: &[Staged],
    built: &HashMap<String, Layer>,
    last_ids: &HashMap<String, u64>,
) -> Result<(Batch, Vec<Outcome>)> {
    let mut batch = Batch::default();
    let mut outcomes = Vec::with_capacity(staged.len());
    for s in staged.iter().map(|s| &s.change) {
        let (body, etag) = if s.feature.is_some() {
            let layer = built.get(&s.layer);
            let feature = layer.and_then(|l| l.feature(s.id));
            let (Some(layer), Some(feature)) = (layer, feature) else {
                return Err(Error::Internal(format!(
                    "feature {}/{} is missing from the new snapshot",
                    s.layer, s.id
                )));
            };
            let body = try_feature_body(layer, feature)?;
            let etag = etag_of_body(&body);
            (Some(body), Some(etag))
        } else {
            (None, None)
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
                feature: s
                    .feature
                    .as_ref()
                    .map(|(_, f)| StoredText::of(f))
                    .transpose()?,
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
        .filter(|s| s.change.kind == ChangeKind::Create)
        .map(|s| s.change.layer.as_str())
        .collect();
    batch.last_ids = created
        .into_iter()
        .filter_map(|l| last_ids.get(l).map(|&n| (l.to_owned(), n)))
        .collect();
    Ok((batch, outcomes))
}
