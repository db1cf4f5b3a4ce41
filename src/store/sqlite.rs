//! The embedded store: one SQLite database in the data directory.
//!
//! `DATA_DIR/atlas.sqlite` in WAL mode with `synchronous=FULL`, so a commit returns only after
//! the write-ahead log is on disk: it survives `kill -9` and power loss, and an interrupted
//! transaction is rolled back whole on the next open. `DATA_DIR/atlas.lock` is held (an
//! advisory lock) while the server runs, so two servers never share one store.
//!
//! Tables:
//! - `features(layer, id, feature, base, seq)`: the latest state of each written feature
//!   (`feature` NULL for a tombstone);
//! - `changes(seq, at_ms, layer, id, kind, feature)`: every change, append-only (audit log);
//! - `id_seq(layer, last)`: the highest id ever given out, so ids are never reused;
//! - `idempotency(layer, key, fingerprint, id, body, etag, at_ms)`: first results of POSTs.
//!
//! Any SQLite error (disk full, read-only file system, I/O error, locked) becomes
//! [`Error::Storage`] and drops the connection; the next call opens it again, so writes work
//! again as soon as the storage recovers.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Batch, IdempotentResult, Record, Store, StoredText};
use crate::error::{Error, Result};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "atlas.sqlite";
/// File name of the lock inside the data directory.
pub const LOCK_FILE: &str = "atlas.lock";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS features (
    layer TEXT NOT NULL,
    id INTEGER NOT NULL,
    feature TEXT,
    base TEXT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (layer, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    layer TEXT NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    feature TEXT
);
CREATE TABLE IF NOT EXISTS id_seq (layer TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    layer TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    id INTEGER NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (layer, key)
) WITHOUT ROWID;
";

/// The SQLite store. See the module documentation.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Option<Connection>,
    /// Held for the life of the store; the OS releases it when the process dies.
    _lock: File,
    /// Simulated capacity in pages (tests of a full disk); `None` in normal use.
    max_pages: Option<u64>,
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn to_i64(id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| Error::Internal(format!("id {id} does not fit SQLite")))
}

fn to_u64(id: i64) -> Result<u64> {
    u64::try_from(id).map_err(|_| Error::Storage(format!("negative id {id} in the store")))
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir`, and takes its lock.
    ///
    /// # Errors
    /// [`Error::Config`] when another process holds the lock; [`Error::Storage`] when the
    /// directory or database cannot be created or read.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| storage(format!("cannot create {}: {e}", dir.display())))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| storage(format!("cannot open {}: {e}", lock_path.display())))?;
        lock.try_lock().map_err(|_| {
            Error::Config(format!(
                "the data directory {} is in use by another server (lock {})",
                dir.display(),
                lock_path.display()
            ))
        })?;
        let mut store = Self {
            path: dir.join(DB_FILE),
            conn: None,
            _lock: lock,
            max_pages: None,
        };
        store.conn()?;
        Ok(store)
    }

    /// Whether `dir` holds a store.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).is_file()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Limits the database to `pages` pages (4 KiB each), as if the disk were full; `None`
    /// lifts the limit.
    #[cfg(test)]
    fn simulate_capacity(&mut self, pages: Option<u64>) -> Result<()> {
        self.max_pages = pages;
        let max = pages.unwrap_or(0xFFFF_FFFE);
        let conn = self.conn()?;
        conn.pragma_update(
            None,
            "max_page_count",
            i64::try_from(max).unwrap_or(i64::MAX),
        )
        .map_err(storage)
    }

    /// The open connection, opening it (and creating the schema) when needed.
    fn conn(&mut self) -> Result<&mut Connection> {
        if self.conn.is_none() {
            let conn = Connection::open(&self.path)
                .map_err(|e| storage(format!("cannot open {}: {e}", self.path.display())))?;
            conn.busy_timeout(Duration::from_secs(5)).map_err(storage)?;
            let mode: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .map_err(storage)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(storage(format!("journal_mode is {mode}, not wal")));
            }
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(storage)?;
            if let Some(pages) = self.max_pages {
                conn.pragma_update(
                    None,
                    "max_page_count",
                    i64::try_from(pages).unwrap_or(i64::MAX),
                )
                .map_err(storage)?;
            }
            conn.execute_batch(SCHEMA).map_err(storage)?;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::Internal("connection vanished".to_owned()))
    }

    /// Runs `f` on the connection; on error, drops the connection so the next call reopens.
    fn with<T>(&mut self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.conn()?;
        match f(conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                tracing::warn!(error = %e, "store failed; reconnecting on the next write");
                self.conn = None;
                Err(storage(e))
            }
        }
    }
}

impl Store for SqliteStore {
    fn records(&mut self) -> Result<Vec<Record>> {
        let rows: Vec<(String, i64, Option<String>, Option<String>)> = self.with(|c| {
            let mut stmt =
                c.prepare("SELECT layer, id, feature, base FROM features ORDER BY layer, id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(layer, id, feature, base)| {
                Ok(Record {
                    id: to_u64(id)?,
                    layer,
                    feature: feature.map(StoredText::from_store),
                    base,
                })
            })
            .collect()
    }

    fn last_id(&mut self, layer: &str) -> Result<u64> {
        let last: Option<i64> = self.with(|c| {
            c.query_row("SELECT last FROM id_seq WHERE layer = ?1", [layer], |r| {
                r.get(0)
            })
            .optional()
        })?;
        to_u64(last.unwrap_or(0))
    }

    fn idempotent(&mut self, layer: &str, key: &str) -> Result<Option<IdempotentResult>> {
        type Row = (Vec<u8>, i64, String, String);
        let row: Option<Row> = self.with(|c| {
            c.query_row(
                "SELECT fingerprint, id, body, etag FROM idempotency WHERE layer = ?1 AND key = ?2",
                [layer, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
        })?;
        row.map(|(fp, id, body, etag)| {
            let fingerprint: [u8; 32] = fp
                .try_into()
                .map_err(|_| Error::Storage(format!("idempotency key {key:?}: bad fingerprint")))?;
            Ok(IdempotentResult {
                fingerprint,
                id: to_u64(id)?,
                body,
                etag,
            })
        })
        .transpose()
    }

    fn commit(&mut self, batch: &Batch) -> Result<()> {
        // Serialize and convert before touching the database, so that the closure below can
        // only fail inside SQLite.
        let at = now_ms();
        let mut changes = Vec::with_capacity(batch.changes.len());
        for c in &batch.changes {
            changes.push((
                c.record.layer.as_str(),
                to_i64(c.record.id)?,
                c.kind.name(),
                c.record.feature.as_ref().map(StoredText::as_str),
                c.record.base.as_deref(),
            ));
        }
        let mut last_ids = Vec::with_capacity(batch.last_ids.len());
        for (layer, last) in &batch.last_ids {
            last_ids.push((layer.as_str(), to_i64(*last)?));
        }
        let mut keys = Vec::with_capacity(batch.idempotency.len());
        for (layer, key, r) in &batch.idempotency {
            keys.push((layer.as_str(), key.as_str(), r, to_i64(r.id)?));
        }
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut log = tx.prepare_cached(
                    "INSERT INTO changes (at_ms, layer, id, kind, feature) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                let mut latest = tx.prepare_cached(
                    "INSERT INTO features (layer, id, feature, base, seq) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (layer, id) DO UPDATE SET feature = excluded.feature, seq = excluded.seq",
                )?;
                for (layer, id, kind, feature, base) in &changes {
                    log.execute(params![at, layer, id, kind, feature])?;
                    let seq = tx.last_insert_rowid();
                    latest.execute(params![layer, id, feature, base, seq])?;
                }
                let mut ids = tx.prepare_cached(
                    "INSERT INTO id_seq (layer, last) VALUES (?1, ?2)
                     ON CONFLICT (layer) DO UPDATE SET last = max(last, excluded.last)",
                )?;
                for (layer, last) in &last_ids {
                    ids.execute(params![layer, last])?;
                }
                let mut idem = tx.prepare_cached(
                    "INSERT INTO idempotency (layer, key, fingerprint, id, body, etag, at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (layer, key, r, id) in &keys {
                    idem.execute(params![layer, key, &r.fingerprint[..], id, r.body, r.etag, at])?;
                }
            }
            tx.commit()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Change, ChangeKind, StoredFeature};

    fn feature(n: i64) -> StoredText {
        StoredText::of(&StoredFeature {
            geometry: serde_json::json!({"type": "Point", "coordinates": [69.0, 34.0]}),
            properties: serde_json::json!({"n": n})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        })
        .unwrap()
    }

    fn put(layer: &str, id: u64, n: i64, kind: ChangeKind) -> Change {
        Change {
            kind,
            record: Record {
                layer: layer.into(),
                id,
                feature: Some(feature(n)),
                base: None,
            },
        }
    }

    #[test]
    fn a_committed_batch_is_read_back_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = SqliteStore::open(dir.path()).unwrap();
            let batch = Batch {
                changes: vec![
                    put("a", 1, 1, ChangeKind::Create),
                    put("a", 2, 2, ChangeKind::Create),
                ],
                last_ids: vec![("a".into(), 2)],
                idempotency: vec![(
                    "a".into(),
                    "k1".into(),
                    IdempotentResult {
                        fingerprint: [7; 32],
                        id: 1,
                        body: "{}".into(),
                        etag: "\"e\"".into(),
                    },
                )],
            };
            s.commit(&batch).unwrap();
            let mut del = put("a", 1, 0, ChangeKind::Delete);
            del.record.feature = None;
            s.commit(&Batch {
                changes: vec![del, put("a", 2, 3, ChangeKind::Replace)],
                ..Batch::default()
            })
            .unwrap();
        }
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let records = s.records().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].feature, None, "a delete is a tombstone");
        assert_eq!(
            records[1].feature,
            Some(feature(3)),
            "the latest state wins"
        );
        assert_eq!(s.last_id("a").unwrap(), 2);
        assert_eq!(s.last_id("b").unwrap(), 0);
        let r = s.idempotent("a", "k1").unwrap().unwrap();
        assert_eq!((r.id, r.fingerprint), (1, [7; 32]));
        assert!(s.idempotent("a", "k2").unwrap().is_none());
    }

    #[test]
    fn a_second_server_cannot_open_the_same_directory() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SqliteStore::open(dir.path()).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
    }

    #[test]
    fn a_full_disk_fails_the_whole_batch_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.commit(&Batch {
            changes: vec![put("a", 1, 1, ChangeKind::Create)],
            ..Batch::default()
        })
        .unwrap();
        let pages: i64 = s
            .conn()
            .unwrap()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        s.simulate_capacity(Some(pages as u64)).unwrap();
        let big: Vec<Change> = (2..200)
            .map(|i| put("a", i, i as i64, ChangeKind::Create))
            .collect();
        let err = s
            .commit(&Batch {
                changes: big.clone(),
                last_ids: vec![("a".into(), 199)],
                ..Batch::default()
            })
            .unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "{err}");
        assert_eq!(
            s.records().unwrap().len(),
            1,
            "nothing of the failed batch is stored"
        );
        assert_eq!(s.last_id("a").unwrap(), 0);
        s.simulate_capacity(None).unwrap();
        s.commit(&Batch {
            changes: big,
            ..Batch::default()
        })
        .unwrap();
        assert_eq!(s.records().unwrap().len(), 199);
    }
}
