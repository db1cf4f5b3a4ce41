//! The decisions of [`super::stage`], one rule at a time.

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
        geometry: Point::new(69.0, 34.0).into(),
        source_geometry: None,
        props: vec![
            Prop::from_json(json!(name)),
            Prop::from_json(json!("2020-01-01T00:00:00Z")),
        ]
        .into_boxed_slice(),
        time: crate::catalog::Time::NONE,
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
    let unnamed = Layer::build(Arc::default(), Vec::new(), Vec::new(), Default::default());
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
    bases: Bases,
}

impl Fixture {
    fn new() -> Self {
        Self {
            snapshot: layer(),
            rules: rules(),
            derived: ["province"].into_iter().collect(),
            bases: Bases::default(),
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
        let f = self.snapshot.feature(id).unwrap();
        feature_etag(&self.snapshot, f).unwrap()
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
        Ok(Decision::Stage(change)) => *change,
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
    let shipped = f.snapshot.features.get(0).unwrap();
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
    f.bases.note("pts", 2, Some("earlier"));
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
