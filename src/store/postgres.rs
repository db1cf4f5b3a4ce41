//! The shared store: PostgreSQL with PostGIS, written by any number of servers (replicas).
//!
//! Owns: [`PostgresStore`], the schema and its migrations (`src/store/migrations/*.sql`,
//! numbered, each run once in the transaction that records it in `atlas_schema`), and the
//! commit protocol that keeps replicas consistent.
//!
//! Tables (the SQLite store's, with an `atlas_` prefix):
//! - `atlas_features(layer, id, feature, geom, base, seq)`: the latest state of each written
//!   feature, `feature` being the stored form exactly as the SQLite store keeps it
//!   (`{"geometry":...,"properties":...}` text, so ids, property order and altitudes
//!   round-trip), and `geom` the same geometry as PostGIS reads it (for GIS tools; never
//!   read back);
//! - `atlas_changes(seq, at, layer, id, kind, feature, base)`: every change, numbered in
//!   commit order; replicas read it;
//! - `atlas_id_seq(layer, last)` and `atlas_idempotency(layer, key, ...)`: ids given out
//!   and first results of `Idempotency-Key`s, shared by every replica.
//!
//! # Commit protocol
//! Every commit takes one transaction-level advisory lock ([`COMMIT_LOCK`]), so commits of
//! all servers are serialized and `seq` order is commit order (no change becomes visible
//! after a later one). The writer takes the lock before it checks a batch
//! ([`Store::begin_exclusive`]), applies the changes logged since its last one, checks the
//! batch (`If-Match`, keys, new ids) and commits, all in that one transaction: replicas
//! writing at once take turns instead of refusing each other's batches. The commit still
//! checks that the log ends at the last change this server applied; if it does not (the lock
//! was not held), it rolls back and the writer applies those changes, checks the batch again
//! and retries. A session holds or waits for the lock at most 10 s
//! (`idle_in_transaction_session_timeout`, `lock_timeout`), so a hung server cannot stop the
//! others' writes for longer.
//! The same transaction sends `NOTIFY` on [`CHANNEL`] with the batch's last `seq`, delivered
//! on commit to the other servers ([`super::replica`]).
//!
//! The connection is made with [`crate::catalog::postgis::connect`] (password from
//! `KHORASAN_PG_PASSWORD`). Any error drops it and becomes [`Error::Storage`] (a 503); the
//! next call connects again, so writes resume by themselves when the database is back.
//! Starting against a schema newer than this server's is refused.

use postgres::{Client, IsolationLevel, Statement};

use super::{Batch, Change, ChangeKind, IdempotentResult, LoggedChange, Record, Store, StoredText};
use crate::catalog::postgis::connect;
use crate::error::{Error, Result};

/// The migrations, in order: migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql")];

/// Channel of the notifications sent on every commit; the payload is the last `seq`.
pub const CHANNEL: &str = "atlas_changes";

/// Advisory lock key held by every commit (an arbitrary constant, "atlas" in ASCII).
pub const COMMIT_LOCK: i64 = 0x6174_6c61_7300;
/// Advisory lock key held while migrations run, so that servers starting together wait.
const MIGRATION_LOCK: i64 = 0x6174_6c61_7301;

/// The schema version this server writes.
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// The migrations to run on a database at schema version `current`: their indexes in
/// [`MIGRATIONS`].
///
/// # Errors
/// [`Error::Config`] when the database is newer than this server.
fn pending_migrations(current: i64, known: usize) -> Result<std::ops::Range<usize>> {
    let current = usize::try_from(current)
        .map_err(|_| Error::Config(format!("the store's schema version {current} is invalid")))?;
    if current > known {
        return Err(Error::Config(format!(
            "the store's schema version is {current}, newer than this server's ({known}): run a newer khorasan-atlas"
        )));
    }
    Ok(current..known)
}

/// A connection and its prepared statements.
struct Conn {
    client: Client,
    log: Statement,
    latest: Statement,
    ids: Statement,
    idem: Statement,
}

impl Conn {
    fn new(url: &str) -> Result<Self> {
        Self::prepare(connect(url).map_err(Error::Storage)?)
    }

    fn prepare(mut client: Client) -> Result<Self> {
        client.batch_execute(SESSION)?;
        let log = client.prepare(
            "INSERT INTO atlas_changes (layer, id, kind, feature, base) VALUES ($1, $2, $3, $4, $5)
             RETURNING seq",
        )?;
        let latest = client.prepare(
            "INSERT INTO atlas_features (layer, id, feature, geom, base, seq)
             VALUES ($1, $2, $3, atlas_geometry($4), $5, $6)
             ON CONFLICT (layer, id) DO UPDATE
             SET feature = excluded.feature, geom = excluded.geom, seq = excluded.seq",
        )?;
        let ids = client.prepare(
            "INSERT INTO atlas_id_seq (layer, last) VALUES ($1, $2)
             ON CONFLICT (layer) DO UPDATE SET last = greatest(atlas_id_seq.last, excluded.last)",
        )?;
        let idem = client.prepare(
            "INSERT INTO atlas_idempotency (layer, key, fingerprint, id, body, etag)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )?;
        Ok(Self {
            client,
            log,
            latest,
            ids,
            idem,
        })
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let message = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |db| db.message().to_owned());
        Error::Storage(format!("PostgreSQL: {message}"))
    }
}

/// The PostgreSQL store. See the module documentation.
pub struct PostgresStore {
    url: String,
    conn: Option<Conn>,
    /// A transaction holding [`COMMIT_LOCK`] is open ([`Store::begin_exclusive`]).
    locked: bool,
}

/// Opens a transaction and waits for [`COMMIT_LOCK`].
fn begin_locked() -> String {
    format!("BEGIN; SELECT pg_advisory_xact_lock({COMMIT_LOCK})")
}

/// Session settings: a server that dies or hangs in the middle of a commit cannot hold
/// [`COMMIT_LOCK`] (or wait for it) for longer than this.
const SESSION: &str = "SET idle_in_transaction_session_timeout = '10s'; SET lock_timeout = '10s'";

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

fn to_i64(id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| Error::Internal(format!("id {id} does not fit PostgreSQL")))
}

fn to_u64(id: i64) -> Result<u64> {
    u64::try_from(id).map_err(|_| Error::Storage(format!("negative number {id} in the store")))
}

fn kind_of(name: &str) -> Result<ChangeKind> {
    [ChangeKind::Create, ChangeKind::Replace, ChangeKind::Delete]
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| Error::Storage(format!("unknown change kind {name:?} in the log")))
}

impl PostgresStore {
    /// Connects to `url`, creates or migrates the schema, and refuses a newer one.
    ///
    /// # Errors
    /// [`Error::Storage`] when the database cannot be reached or migrated, [`Error::Config`]
    /// when its schema is newer than this server's.
    pub fn open(url: &str) -> Result<Self> {
        let mut client = connect(url).map_err(Error::Storage)?;
        migrate(&mut client)?;
        Ok(Self {
            url: url.to_owned(),
            conn: Some(Conn::prepare(client)?),
            locked: false,
        })
    }

    /// Runs `f` on the connection (connecting first when needed); on error, drops the
    /// connection so the next call connects again.
    fn with<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        if self.conn.is_none() {
            self.conn = Some(Conn::new(&self.url)?);
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| Error::Internal("connection vanished".to_owned()))?;
        let result = f(conn);
        if let Err(e) = &result {
            tracing::warn!(error = %e, "PostgreSQL store failed; reconnecting on the next call");
            self.conn = None;
            self.locked = false;
        }
        result
    }

    /// Writes `batch`; with `expect`, only when the log ends at that position.
    fn write(&mut self, batch: &Batch, expect: Option<u64>) -> Result<Option<u64>> {
        let mut changes = Vec::with_capacity(batch.changes.len());
        for c in &batch.changes {
            let feature = c
                .record
                .feature
                .as_ref()
                .map(|f| {
                    let geometry = f.geometry().map_err(Error::Internal)?;
                    Ok::<_, Error>((f.as_str(), geometry))
                })
                .transpose()?;
            changes.push((c, to_i64(c.record.id)?, feature));
        }
        let expect = expect.map(to_i64).transpose()?;
        let locked = std::mem::take(&mut self.locked);
        self.with(|conn| {
            if !locked {
                conn.client.batch_execute(&begin_locked())?;
            }
            let tx = &mut conn.client;
            if let Some(expect) = expect {
                let end: i64 = tx
                    .query_one("SELECT coalesce(max(seq), 0) FROM atlas_changes", &[])?
                    .try_get(0)?;
                if end != expect {
                    tx.batch_execute("ROLLBACK")?;
                    return Ok(None);
                }
            }
            let mut last = expect.unwrap_or(0);
            for (c, id, feature) in &changes {
                let (text, geometry) = feature.unzip();
                let layer = c.record.layer.as_str();
                let base = c.record.base.as_deref();
                last = tx
                    .query_one(&conn.log, &[&layer, id, &c.kind.name(), &text, &base])?
                    .try_get(0)?;
                tx.execute(&conn.latest, &[&layer, id, &text, &geometry, &base, &last])?;
            }
            for (layer, n) in &batch.last_ids {
                tx.execute(&conn.ids, &[layer, &to_i64(*n)?])?;
            }
            for (layer, key, r) in &batch.idempotency {
                let fingerprint = &r.fingerprint[..];
                tx.execute(
                    &conn.idem,
                    &[layer, key, &fingerprint, &to_i64(r.id)?, &r.body, &r.etag],
                )?;
            }
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &last.to_string()])?;
            tx.batch_execute("COMMIT")?;
            Ok(Some(to_u64(last)?))
        })
    }
}

/// Brings the schema to [`schema_version`] in one transaction, under [`MIGRATION_LOCK`].
fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS atlas_schema (
           version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let current: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM atlas_schema",
            &[],
        )?
        .try_get(0)?;
    let pending = pending_migrations(current, MIGRATIONS.len())?;
    for i in pending.clone() {
        tx.batch_execute(MIGRATIONS[i])?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO atlas_schema (version) VALUES ($1)",
            &[&version],
        )?;
    }
    tx.commit()?;
    if !pending.is_empty() {
        tracing::info!(
            from = current,
            to = MIGRATIONS.len(),
            "PostgreSQL store schema migrated"
        );
    }
    Ok(())
}

/// Reads the stored records of `rows` (`layer, id, feature, base`).
fn records_of(rows: Vec<postgres::Row>) -> Result<Vec<Record>> {
    rows.into_iter()
        .map(|row| {
            let (layer, id): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            Ok(Record {
                feature: row
                    .try_get::<_, Option<String>>(2)?
                    .map(StoredText::from_store),
                id: to_u64(id)?,
                layer,
                base: row.try_get(3)?,
            })
        })
        .collect()
}

const RECORDS_SQL: &str = "SELECT layer, id, feature, base FROM atlas_features ORDER BY layer, id";

impl Store for PostgresStore {
    fn records(&mut self) -> Result<Vec<Record>> {
        self.records_at().map(|(records, _)| records)
    }

    fn last_id(&mut self, layer: &str) -> Result<u64> {
        let last: Option<i64> = self.with(|c| {
            c.client
                .query_opt("SELECT last FROM atlas_id_seq WHERE layer = $1", &[&layer])?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(Error::from)
        })?;
        to_u64(last.unwrap_or(0))
    }

    fn idempotent(&mut self, layer: &str, key: &str) -> Result<Option<IdempotentResult>> {
        let row = self.with(|c| {
            Ok(c.client.query_opt(
                "SELECT fingerprint, id, body, etag FROM atlas_idempotency
                 WHERE layer = $1 AND key = $2",
                &[&layer, &key],
            )?)
        })?;
        row.map(|r| {
            let fp: Vec<u8> = r.try_get(0)?;
            let fingerprint: [u8; 32] = fp
                .try_into()
                .map_err(|_| Error::Storage(format!("idempotency key {key:?}: bad fingerprint")))?;
            Ok(IdempotentResult {
                fingerprint,
                id: to_u64(r.try_get(1)?)?,
                body: r.try_get(2)?,
                etag: r.try_get(3)?,
            })
        })
        .transpose()
    }

    fn commit(&mut self, batch: &Batch) -> Result<()> {
        self.write(batch, None).map(|_| ())
    }

    fn shared(&self) -> bool {
        true
    }

    fn records_at(&mut self) -> Result<(Vec<Record>, u64)> {
        let (rows, end) = self.with(|c| {
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let end: i64 = tx
                .query_one("SELECT coalesce(max(seq), 0) FROM atlas_changes", &[])?
                .try_get(0)?;
            let rows = tx.query(RECORDS_SQL, &[])?;
            tx.commit()?;
            Ok((rows, end))
        })?;
        Ok((records_of(rows)?, to_u64(end)?))
    }

    fn commit_after(&mut self, batch: &Batch, applied: u64) -> Result<Option<u64>> {
        self.write(batch, Some(applied))
    }

    fn begin_exclusive(&mut self) -> Result<()> {
        if !self.locked {
            self.with(|c| Ok(c.client.batch_execute(&begin_locked())?))?;
            self.locked = true;
        }
        Ok(())
    }

    fn end_exclusive(&mut self) {
        if std::mem::take(&mut self.locked) {
            // A failure drops the connection, which ends the transaction too.
            let _ = self.with(|c| Ok(c.client.batch_execute("ROLLBACK")?));
        }
    }

    fn changes_after(&mut self, seq: u64, limit: usize) -> Result<Vec<LoggedChange>> {
        let (seq, limit) = (to_i64(seq)?, i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self.with(|c| {
            Ok(c.client.query(
                "SELECT seq, layer, id, kind, feature, base FROM atlas_changes
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&seq, &limit],
            )?)
        })?;
        rows.into_iter()
            .map(|row| {
                let (layer, id): (String, i64) = (row.try_get(1)?, row.try_get(2)?);
                let kind: String = row.try_get(3)?;
                Ok(LoggedChange {
                    seq: to_u64(row.try_get(0)?)?,
                    change: Change {
                        kind: kind_of(&kind)?,
                        record: Record {
                            feature: row
                                .try_get::<_, Option<String>>(4)?
                                .map(StoredText::from_store),
                            id: to_u64(id)?,
                            layer,
                            base: row.try_get(5)?,
                        },
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
