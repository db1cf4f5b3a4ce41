//! Deciding what one write does, before anything is written.
//!
//! Owns: [`stage`], a pure function (no I/O, no clock, no threads) that checks one
//! [`WriteRequest`] against the current snapshot of its layer and the batch assembled so far
//! ([`Pending`]) and decides: stage a change, replay the first result of an
//! `Idempotency-Key`, defer the request to the next batch, or reject it (400, 404, 409, 412).
//!
//! A request that touches a feature or an `Idempotency-Key` already touched in the batch is
//! deferred, so that each check sees the result of the writes before it. Looking keys up in
//! the store, reading the clock, building the snapshots and committing are the writer's.

use std::collections::{HashMap, HashSet};

use geo::Geometry;
use serde_json::{Map, Value};

use super::bases::Bases;
use super::merge::fingerprint;
use super::request::{IfMatch, Outcome, OutcomeKind, WriteOp, WriteRequest};
use super::rules::{Draft, WriteRules};
use super::{ChangeKind, IdempotentResult, NEW_ID_LIMIT, StoredFeature, feature_etag};
use crate::catalog::{Feature, Layer, Prop};
use crate::error::{Error, Result};

/// What staging reads of the layer a request writes to.
#[derive(Debug, Clone, Copy)]
pub struct LayerView<'a> {
    /// The current snapshot.
    pub snapshot: &'a Layer,
    /// The layer's write rules.
    pub rules: &'a WriteRules,
    /// The properties joins write into the layer; the server owns them.
    pub derived: &'a HashSet<&'a str>,
    /// Features the store has a record of, with the fingerprint of the shipped feature the
    /// record was first made over.
    pub bases: &'a Bases,
}

/// The batch assembled so far: what it touches and the ids it gave out.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    touched: HashSet<(String, u64)>,
    keys: HashSet<(String, String)>,
    last_ids: HashMap<String, u64>,
}

impl Pending {
    /// An empty batch; `last_ids` holds the highest id in use or given out, per layer.
    pub fn new(last_ids: HashMap<String, u64>) -> Self {
        Self {
            touched: HashSet::new(),
            keys: HashSet::new(),
            last_ids,
        }
    }

    /// Whether a create of this batch carries `key` in `layer`.
    pub fn holds_key(&self, layer: &str, key: &str) -> bool {
        self.keys.contains(&(layer.to_owned(), key.to_owned()))
    }

    /// The highest id given out per layer, this batch included.
    pub fn into_last_ids(self) -> HashMap<String, u64> {
        self.last_ids
    }
}

/// A write that passed its checks, waiting for the commit.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedChange {
    pub kind: ChangeKind,
    pub layer: String,
    pub id: u64,
    /// The new geometry and its stored form; `None` for a delete.
    pub feature: Option<(Geometry<f64>, StoredFeature)>,
    /// Fingerprint of the shipped feature the first change of this feature was made over.
    pub base: Option<String>,
    /// The `Idempotency-Key` of a create and the SHA-256 of its body.
    pub idempotency: Option<(String, [u8; 32])>,
}

/// What to do with a request that passed its checks.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Write it in this batch.
    Stage(Box<StagedChange>),
    /// A retried create: answer the first result, write nothing.
    Replay(Outcome),
    /// It touches something this batch already touches: the next batch.
    Defer,
}

/// Decides what `request` does. `first_use` is what the store holds for the request's
/// `Idempotency-Key` (`None` for a new key, or without one); `now` is the time written into
/// the layer's timestamp properties.
///
/// # Errors
/// [`Error::NotFound`] for an unknown feature, [`Error::PreconditionFailed`] when `If-Match`
/// does not match, [`Error::Conflict`] for a key reused with another body or a layer out of
/// ids, [`Error::BadBody`] for an `id` member or a server-owned property the request may not
/// set, [`Error::Internal`] when the batch has no id sequence for the layer.
pub fn stage(
    view: LayerView<'_>,
    pending: &mut Pending,
    request: &WriteRequest,
    first_use: Option<IdempotentResult>,
    now: &str,
) -> Result<Decision> {
    match &request.op {
        WriteOp::Create {
            draft,
            idempotency_key,
            fingerprint,
        } => create(
            view,
            pending,
            draft,
            idempotency_key.as_deref(),
            *fingerprint,
            first_use,
            now,
        ),
        WriteOp::Replace {
            fid,
            draft,
            if_match,
        } => replace(view, pending, fid, draft, if_match.as_ref(), now),
        WriteOp::Delete { fid, if_match } => delete(view, pending, fid, if_match.as_ref()),
    }
}

/// The properties a request may not set: the layer's server-owned ones and those of joins.
fn server_owned<'a>(view: &LayerView<'a>) -> HashSet<&'a str> {
    view.rules
        .server_owned()
        .chain(view.derived.iter().copied())
        .collect()
}

fn create(
    view: LayerView<'_>,
    pending: &mut Pending,
    draft: &Draft,
    key: Option<&str>,
    body_fingerprint: [u8; 32],
    first_use: Option<IdempotentResult>,
    now: &str,
) -> Result<Decision> {
    let layer = view.snapshot.id();
    if let Some(key) = key {
        if pending.holds_key(layer, key) {
            return Ok(Decision::Defer);
        }
        if let Some(first) = first_use {
            if first.fingerprint != body_fingerprint {
                return Err(Error::Conflict(format!(
                    "Idempotency-Key {key:?} was already used with a different body"
                )));
            }
            return Ok(Decision::Replay(Outcome {
                kind: OutcomeKind::Replayed,
                id: first.id,
                body: Some(first.body),
                etag: Some(first.etag),
            }));
        }
    }
    if draft.id.is_some() {
        return Err(Error::bad_body("id", "is assigned by the server"));
    }
    let owned = server_owned(&view);
    if let Some(name) = draft.properties.keys().find(|k| owned.contains(k.as_str())) {
        return Err(Error::bad_body(
            format!("properties.{name}"),
            "is set by the server",
        ));
    }
    let last = pending
        .last_ids
        .get_mut(layer)
        .ok_or_else(|| Error::Internal(format!("no id sequence for collection {layer}")))?;
    let mut id = *last + 1;
    while view.snapshot.position(id).is_some() {
        id += 1; // a hashed string id that happens to be small
    }
    if id >= NEW_ID_LIMIT {
        return Err(Error::Conflict(format!(
            "collection {layer} has no feature id left"
        )));
    }
    *last = id;
    let mut properties = draft.properties.clone();
    for p in [&view.rules.created_property, &view.rules.updated_property]
        .into_iter()
        .flatten()
    {
        properties.insert(p.clone(), Value::String(now.to_owned()));
    }
    pending.touched.insert((layer.to_owned(), id));
    if let Some(key) = key {
        pending.keys.insert((layer.to_owned(), key.to_owned()));
    }
    Ok(Decision::Stage(Box::new(StagedChange {
        kind: ChangeKind::Create,
        layer: layer.to_owned(),
        id,
        feature: Some(stored(draft, properties)),
        base: None,
        idempotency: key.map(|k| (k.to_owned(), body_fingerprint)),
    })))
}

fn replace(
    view: LayerView<'_>,
    pending: &mut Pending,
    fid: &str,
    draft: &Draft,
    if_match: Option<&IfMatch>,
    now: &str,
) -> Result<Decision> {
    let snapshot = view.snapshot;
    let layer = snapshot.id();
    let current = current(snapshot, fid, if_match)?;
    if pending.touched.contains(&(layer.to_owned(), current.id)) {
        return Ok(Decision::Defer);
    }
    if let Some(id) = &draft.id {
        let same = id.as_u64() == Some(current.id)
            || id
                .as_str()
                .is_some_and(|s| snapshot.source_ids.get(s) == Some(&current.id));
        if !same {
            return Err(Error::bad_body(
                "id",
                format!("{id} is not the id of the feature in the path"),
            ));
        }
    }
    let value_of = |name: &str| {
        snapshot
            .field_index(name)
            .and_then(|i| current.props.get(i))
            .filter(|p| !matches!(p, Prop::Absent))
            .map(Prop::to_json)
    };
    let owned = server_owned(&view);
    let mut properties = Map::new();
    for (name, value) in &draft.properties {
        if !owned.contains(name.as_str()) {
            properties.insert(name.clone(), value.clone());
        } else if value_of(name).as_ref() != Some(value) {
            return Err(Error::bad_body(
                format!("properties.{name}"),
                "is set by the server and cannot be changed",
            ));
        }
    }
    let rules = view.rules;
    for name in rules.server_owned.iter().chain(&rules.created_property) {
        if let Some(v) = value_of(name) {
            properties.insert(name.clone(), v);
        }
    }
    if let Some(p) = &rules.updated_property {
        properties.insert(p.clone(), Value::String(now.to_owned()));
    }
    pending.touched.insert((layer.to_owned(), current.id));
    Ok(Decision::Stage(Box::new(StagedChange {
        kind: ChangeKind::Replace,
        layer: layer.to_owned(),
        id: current.id,
        feature: Some(stored(draft, properties)),
        base: base_of(&view, current)?,
        idempotency: None,
    })))
}

fn delete(
    view: LayerView<'_>,
    pending: &mut Pending,
    fid: &str,
    if_match: Option<&IfMatch>,
) -> Result<Decision> {
    let layer = view.snapshot.id();
    let current = current(view.snapshot, fid, if_match)?;
    if pending.touched.contains(&(layer.to_owned(), current.id)) {
        return Ok(Decision::Defer);
    }
    pending.touched.insert((layer.to_owned(), current.id));
    Ok(Decision::Stage(Box::new(StagedChange {
        kind: ChangeKind::Delete,
        layer: layer.to_owned(),
        id: current.id,
        feature: None,
        base: base_of(&view, current)?,
        idempotency: None,
    })))
}

/// The geometry of `draft` with `properties`, as written.
fn stored(draft: &Draft, properties: Map<String, Value>) -> (Geometry<f64>, StoredFeature) {
    (
        draft.geometry.clone(),
        StoredFeature {
            geometry: draft.geometry_json.clone(),
            properties,
        },
    )
}

/// The feature `fid` names, after checking `If-Match` against its state.
fn current<'a>(snapshot: &'a Layer, fid: &str, if_match: Option<&IfMatch>) -> Result<&'a Feature> {
    let feature = snapshot.find(fid).ok_or_else(|| Error::NotFound {
        kind: "feature",
        id: fid.to_owned(),
    })?;
    if let Some(m) = if_match {
        let etag = feature_etag(snapshot, feature)?;
        if !m.matches(&etag) {
            return Err(Error::PreconditionFailed(format!(
                "feature {fid} has changed: its ETag is {etag}"
            )));
        }
    }
    Ok(feature)
}

/// The base fingerprint of a change to `feature`: the one the store already has, or the
/// fingerprint of the shipped feature for its first change.
///
/// # Errors
/// As [`fingerprint`].
fn base_of(view: &LayerView<'_>, feature: &Feature) -> Result<Option<String>> {
    match view.bases.get(view.snapshot.id(), feature.id) {
        Some(base) => Ok(base),
        None => fingerprint(view.snapshot, feature, view.derived).map(Some),
    }
}

#[cfg(test)]
mod tests;
