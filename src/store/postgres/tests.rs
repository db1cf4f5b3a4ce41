//! Pure parts of the PostgreSQL store, and, when `ATLAS_TEST_PG_URL` names a database (as
//! `tests/postgis/replicas.sh` does), its round trip against PostgreSQL itself.

use super::*;
use crate::store::StoredFeature;

#[test]
fn migrations_run_from_the_current_version_and_a_newer_schema_is_refused() {
    assert_eq!(pending_migrations(0, 3).unwrap(), 0..3);
    assert_eq!(pending_migrations(2, 3).unwrap(), 2..3);
    assert!(pending_migrations(3, 3).unwrap().is_empty());
    let err = pending_migrations(4, 3).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(pending_migrations(-1, 3).is_err());
    assert_eq!(schema_version(), MIGRATIONS.len());
}

#[test]
fn change_kinds_read_back_as_written() {
    for kind in [ChangeKind::Create, ChangeKind::Replace, ChangeKind::Delete] {
        assert_eq!(kind_of(kind.name()).unwrap(), kind);
    }
    assert!(kind_of("upsert").is_err());
}

/// The database of the round-trip tests, when one is given.
fn database() -> Option<PostgresStore> {
    let url = std::env::var("ATLAS_TEST_PG_URL").ok()?;
    let mut store = PostgresStore::open(&url).unwrap();
    store
        .with(|c| {
            c.client.batch_execute(
                "TRUNCATE atlas_features, atlas_changes, atlas_id_seq, atlas_idempotency RESTART IDENTITY",
            )?;
            Ok(())
        })
        .unwrap();
    Some(store)
}

fn record(layer: &str, id: u64, text: Option<&str>) -> Record {
    Record {
        layer: layer.to_owned(),
        id,
        feature: text
            .map(|t| StoredText::of(&serde_json::from_str::<StoredFeature>(t).unwrap()).unwrap()),
        base: (id > 1).then(|| format!("base-{id}")),
    }
}

#[test]
fn records_log_keys_and_positions_round_trip_through_postgresql() {
    let Some(mut store) = database() else {
        eprintln!("ATLAS_TEST_PG_URL is not set: PostgreSQL round trip skipped");
        return;
    };
    // Property order, altitudes, big and float numbers: the stored text comes back as is.
    let texts = [
        r#"{"geometry":{"type":"Point","coordinates":[69.123456789012345,34.5,1234.5]},"properties":{"z":1,"a":[1,2.5,"x"],"m":null}}"#,
        r#"{"geometry":{"type":"LineString","coordinates":[[60,30,1],[61,31,2]]},"properties":{"title":"سلام","n":9007199254740993}}"#,
    ];
    let batch = Batch {
        changes: vec![
            Change {
                kind: ChangeKind::Create,
                record: record("a", 1, Some(texts[0])),
            },
            Change {
                kind: ChangeKind::Replace,
                record: record("b", 7, Some(texts[1])),
            },
        ],
        last_ids: vec![("a".to_owned(), 1)],
        idempotency: vec![(
            "a".to_owned(),
            "key-1".to_owned(),
            IdempotentResult {
                fingerprint: [7; 32],
                id: 1,
                body: "{}".to_owned(),
                etag: "\"e\"".to_owned(),
            },
        )],
    };
    assert_eq!(store.commit_after(&batch, 0).unwrap(), Some(2));
    // Behind: the log ends at 2, not 1; nothing is written.
    let delete = Batch {
        changes: vec![Change {
            kind: ChangeKind::Delete,
            record: record("b", 7, None),
        }],
        ..Batch::default()
    };
    assert_eq!(store.commit_after(&delete, 1).unwrap(), None);
    assert_eq!(store.commit_after(&delete, 2).unwrap(), Some(3));

    let (records, end) = store.records_at().unwrap();
    assert_eq!(end, 3);
    let mut expected = vec![record("a", 1, Some(texts[0])), record("b", 7, None)];
    expected[1].base = Some("base-7".to_owned());
    assert_eq!(records, expected);
    let stored: Vec<String> = store
        .with(|c| {
            Ok(c.client
                .query(
                    "SELECT feature FROM atlas_features WHERE feature IS NOT NULL",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
        .unwrap();
    assert_eq!(
        stored,
        vec![expected[0].feature.as_ref().unwrap().as_str().to_owned()]
    );
    assert_eq!(store.last_id("a").unwrap(), 1);
    assert_eq!(store.last_id("b").unwrap(), 0);
    let first = store.idempotent("a", "key-1").unwrap().unwrap();
    assert_eq!(first, batch.idempotency[0].2);
    assert!(store.idempotent("a", "key-2").unwrap().is_none());

    let log = store.changes_after(1, 10).unwrap();
    let seqs: Vec<u64> = log.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(log[0].change, batch.changes[1]);
    assert_eq!(log[1].change, delete.changes[0]);
    assert_eq!(store.changes_after(0, 1).unwrap().len(), 1);
    // PostGIS reads the same geometry, altitude included.
    let z: f64 = store
        .with(|c| {
            Ok(c.client
                .query_one(
                    "SELECT ST_Z(geom) FROM atlas_features WHERE layer = 'a'",
                    &[],
                )?
                .get(0))
        })
        .unwrap();
    assert!((z - 1234.5).abs() < 1e-9);
    // A second open migrates nothing and sees the same data.
    let url = std::env::var("ATLAS_TEST_PG_URL").unwrap();
    let mut again = PostgresStore::open(&url).unwrap();
    assert_eq!(again.records_at().unwrap(), (expected, 3));
}
