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
    pub bases: &'a HashMap<(String, u64), Option<String>>,
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
    Stage(StagedChange),
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
    Ok(Decision::Stage(StagedChange {
        kind: ChangeKind::Create,
        layer: layer.to_owned(),
        id,
        feature: Some(stored(draft, properties)),
        base: None,
        idempotency: key.map(|k| (k.to_owned(), body_fingerprint)),
    }))
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
    Ok(Decision::Stage(StagedChange {
        kind: ChangeKind::Replace,
        layer: layer.to_owned(),
        id: current.id,
        feature: Some(stored(draft, properties)),
        base: base_of(&view, current)?,
        idempotency: None,
    }))
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
    Ok(Decision::Stage(StagedChange {
        kind: ChangeKind::Delete,
        layer: layer.to_owned(),
        id: current.id,
        feature: None,
        base: base_of(&view, current)?,
        idempotency: None,
    }))
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
        let etag = feature_etag(snapshot, feature);
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
    match view.bases.get(&(view.snapshot.id().to_owned(), feature.id)) {
        Some(base) => Ok(base.clone()),
        None => fingerprint(view.snapshot, feature, view.derived).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use geo::Point;
    use serde_json::json;

    use super::*;
    use crate::catalog::Field;

    const NOW: &str = "2026-03-04T05:06:07Z";

    /// Layer `pts`: features 1 (`a`) and 2 (`b`), each with a `name` and a `created` time.
    fn layer() -> Layer {
        let feature = |id: u64, name: &str| Feature {
            id,
            geometry: Geometry::Point(Point::new(69.0, 34.0)),
            props: vec![
                Prop::from_json(json!(name)),
                Prop::from_json(json!("2020-01-01T00:00:00Z")),
            ]
            .into_boxed_slice(),
            time: None,
        };
        let fields = ["name", "created"]
            .iter()
            .map(|n| Field {
                name: (*n).to_owned(),
                kind: None,
            })
            .collect();
        let features = vec![feature(1, "a"), feature(2, "b")];
        let source_ids = [("a".into(), 1), ("b".into(), 2)].into_iter().collect();
        let unnamed = Layer::build(Arc::default(), Vec::new(), Vec::new(), HashMap::new());
        let mut config = (*unnamed.config).clone();
        config.id = "pts".to_owned();
        Layer::build(Arc::new(config), fields, features, source_ids)
    }

    fn rules() -> WriteRules {
        WriteRules {
            server_owned: vec!["code".to_owned()],
            created_property: Some("created".to_owned()),
            updated_property: Some("updated".to_owned()),
            ..WriteRules::default()
        }
    }

    /// Everything [`stage`] reads, owned by the test.
    struct Fixture {
        snapshot: Layer,
        rules: WriteRules,
        derived: HashSet<&'static str>,
        bases: HashMap<(String, u64), Option<String>>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                snapshot: layer(),
                rules: rules(),
                derived: ["province"].into_iter().collect(),
                bases: HashMap::new(),
            }
        }

        fn view(&self) -> LayerView<'_> {
            LayerView {
                snapshot: &self.snapshot,
                rules: &self.rules,
                derived: &self.derived,
                bases: &self.bases,
            }
        }

        fn stage(
            &self,
            pending: &mut Pending,
            op: WriteOp,
            first_use: Option<IdempotentResult>,
        ) -> Result<Decision> {
            let request = WriteRequest {
                layer: "pts".to_owned(),
                op,
            };
            stage(self.view(), pending, &request, first_use, NOW)
        }

        fn etag(&self, id: u64) -> String {
            let p = self.snapshot.position(id).unwrap();
            feature_etag(&self.snapshot, &self.snapshot.features[p])
        }
    }

    fn pending(last: u64) -> Pending {
        Pending::new([("pts".to_owned(), last)].into_iter().collect())
    }

    fn draft(feature: Value) -> Draft {
        WriteRules::default()
            .check(feature.to_string().as_bytes(), None)
            .unwrap()
    }

    fn named(name: &str) -> Draft {
        draft(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [70.0, 35.0]},
            "properties": {"name": name},
        }))
    }

    fn create(draft: Draft, key: Option<&str>) -> WriteOp {
        WriteOp::Create {
            draft,
            idempotency_key: key.map(str::to_owned),
            fingerprint: [1; 32],
        }
    }

    fn replace(fid: &str, draft: Draft, if_match: Option<IfMatch>) -> WriteOp {
        WriteOp::Replace {
            fid: fid.to_owned(),
            draft,
            if_match,
        }
    }

    fn delete(fid: &str, if_match: Option<IfMatch>) -> WriteOp {
        WriteOp::Delete {
            fid: fid.to_owned(),
            if_match,
        }
    }

    fn staged(decision: Result<Decision>) -> StagedChange {
        match decision {
            Ok(Decision::Stage(change)) => change,
            other => panic!("not staged: {other:?}"),
        }
    }

    fn field_of(decision: Result<Decision>) -> String {
        match decision {
            Err(Error::BadBody { field, .. }) => field,
            other => panic!("not a bad body: {other:?}"),
        }
    }

    #[test]
    fn a_create_takes_the_next_free_id_and_the_server_times() {
        let f = Fixture::new();
        let mut batch = pending(0);
        let change = staged(f.stage(&mut batch, create(named("c"), Some("k")), None));
        assert_eq!(
            (change.kind, change.id),
            (ChangeKind::Create, 3),
            "1 and 2 are taken"
        );
        assert_eq!(change.base, None);
        assert_eq!(change.idempotency, Some(("k".to_owned(), [1; 32])));
        let (geometry, stored) = change.feature.unwrap();
        assert_eq!(geometry, Geometry::Point(Point::new(70.0, 35.0)));
        assert_eq!(
            Value::Object(stored.properties),
            json!({"name": "c", "created": NOW, "updated": NOW})
        );
        let next = staged(f.stage(&mut batch, create(named("d"), None), None));
        assert_eq!(next.id, 4);
        assert_eq!(batch.into_last_ids()["pts"], 4);
    }

    #[test]
    fn a_create_may_not_set_the_id_or_server_owned_properties() {
        let f = Fixture::new();
        let mut with_id = named("c");
        with_id.id = Some(json!(7));
        assert_eq!(
            field_of(f.stage(&mut pending(2), create(with_id, None), None)),
            "id"
        );
        for name in ["code", "created", "updated", "province"] {
            let mut d = named("c");
            d.properties.insert(name.to_owned(), json!("x"));
            assert_eq!(
                field_of(f.stage(&mut pending(2), create(d, None), None)),
                format!("properties.{name}")
            );
        }
    }

    #[test]
    fn a_layer_out_of_ids_or_without_a_sequence_refuses_creates() {
        let f = Fixture::new();
        let full = f.stage(
            &mut pending(NEW_ID_LIMIT - 1),
            create(named("c"), None),
            None,
        );
        assert!(matches!(full, Err(Error::Conflict(_))), "{full:?}");
        let mut unknown = Pending::new(HashMap::new());
        let missing = f.stage(&mut unknown, create(named("c"), None), None);
        assert!(matches!(missing, Err(Error::Internal(_))), "{missing:?}");
    }

    #[test]
    fn a_replace_keeps_server_owned_values_and_notes_the_shipped_base() {
        let f = Fixture::new();
        let mut d = named("a2");
        d.id = Some(json!("a"));
        d.properties
            .insert("created".to_owned(), json!("2020-01-01T00:00:00Z"));
        let change = staged(f.stage(&mut pending(2), replace("a", d, None), None));
        assert_eq!((change.kind, change.id), (ChangeKind::Replace, 1));
        let shipped = &f.snapshot.features[0];
        assert_eq!(
            change.base,
            Some(fingerprint(&f.snapshot, shipped, &f.derived).unwrap())
        );
        let (_, stored) = change.feature.unwrap();
        assert_eq!(
            Value::Object(stored.properties),
            json!({"name": "a2", "created": "2020-01-01T00:00:00Z", "updated": NOW})
        );
    }

    #[test]
    fn a_replace_may_not_change_the_id_or_a_server_owned_value() {
        let f = Fixture::new();
        let mut other_id = named("a2");
        other_id.id = Some(json!(2));
        assert_eq!(
            field_of(f.stage(&mut pending(2), replace("1", other_id, None), None)),
            "id"
        );
        let mut changed = named("a2");
        changed
            .properties
            .insert("created".to_owned(), json!("2021-01-01T00:00:00Z"));
        assert_eq!(
            field_of(f.stage(&mut pending(2), replace("1", changed, None), None)),
            "properties.created"
        );
    }

    #[test]
    fn a_delete_stages_a_tombstone_over_the_recorded_base() {
        let mut f = Fixture::new();
        f.bases
            .insert(("pts".to_owned(), 2), Some("earlier".to_owned()));
        let change = staged(f.stage(&mut pending(2), delete("b", None), None));
        assert_eq!((change.kind, change.id), (ChangeKind::Delete, 2));
        assert_eq!(change.feature, None);
        assert_eq!(change.base.as_deref(), Some("earlier"));
    }

    #[test]
    fn if_match_must_name_the_current_state() {
        let f = Fixture::new();
        let stale = Some(IfMatch::Tags(vec!["\"f0\"".to_owned()]));
        for op in [
            replace("1", named("x"), stale.clone()),
            delete("1", stale.clone()),
        ] {
            let r = f.stage(&mut pending(2), op, None);
            assert!(matches!(r, Err(Error::PreconditionFailed(_))), "{r:?}");
        }
        let fresh = Some(IfMatch::Tags(vec![f.etag(1)]));
        staged(f.stage(&mut pending(2), replace("1", named("x"), fresh), None));
        staged(f.stage(&mut pending(2), delete("1", Some(IfMatch::Any)), None));
    }

    #[test]
    fn an_unknown_feature_is_not_found() {
        let f = Fixture::new();
        for op in [replace("99", named("x"), None), delete("zz", None)] {
            let r = f.stage(&mut pending(2), op, None);
            assert!(
                matches!(
                    r,
                    Err(Error::NotFound {
                        kind: "feature",
                        ..
                    })
                ),
                "{r:?}"
            );
        }
    }

    #[test]
    fn a_reused_idempotency_key_replays_the_first_result_or_conflicts() {
        let f = Fixture::new();
        let first = IdempotentResult {
            fingerprint: [1; 32],
            id: 9,
            body: "{}".to_owned(),
            etag: "\"f9\"".to_owned(),
        };
        let mut batch = pending(2);
        match f.stage(
            &mut batch,
            create(named("c"), Some("k")),
            Some(first.clone()),
        ) {
            Ok(Decision::Replay(outcome)) => {
                assert_eq!(outcome.kind, OutcomeKind::Replayed);
                assert_eq!(outcome.id, 9);
                assert_eq!(outcome.body.as_deref(), Some("{}"));
                assert_eq!(outcome.etag.as_deref(), Some("\"f9\""));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(batch.into_last_ids()["pts"], 2, "a replay gives out no id");
        let other_body = IdempotentResult {
            fingerprint: [2; 32],
            ..first
        };
        let r = f.stage(
            &mut pending(2),
            create(named("c"), Some("k")),
            Some(other_body),
        );
        assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    }

    #[test]
    fn what_a_batch_already_touches_waits_for_the_next_batch() {
        let f = Fixture::new();
        let mut batch = pending(2);
        staged(f.stage(&mut batch, replace("1", named("x"), None), None));
        for op in [replace("a", named("y"), None), delete("1", None)] {
            assert!(matches!(f.stage(&mut batch, op, None), Ok(Decision::Defer)));
        }
        staged(f.stage(&mut batch, create(named("c"), Some("k")), None));
        assert!(batch.holds_key("pts", "k"));
        assert!(matches!(
            f.stage(&mut batch, create(named("c"), Some("k")), None),
            Ok(Decision::Defer)
        ));
        staged(f.stage(&mut batch, delete("2", None), None));
    }
}
