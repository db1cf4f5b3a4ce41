//! Durable writes: create, replace and delete features of writable layers.
//!
//! Owns: the [`Store`] trait (the durable record of changes) and its two implementations, an
//! embedded SQLite database ([`sqlite`], the default) and PostgreSQL/PostGIS shared by
//! replicas ([`postgres`], whose changes other servers follow through [`replica`]); the settings of the write side ([`settings`]); the
//! validation rules declared per layer ([`rules`]); who may write and how often
//! ([`access`]); the merge of stored changes into the shipped layers at startup ([`merge`]);
//! the requests and answers the HTTP layer exchanges with the store ([`request`]); and the
//! [`WriteService`] ([`service`]) in front of the single writer thread (`writer`), which
//! stages each request (`staging`) against the base of each stored feature (`bases`),
//! commits batches and swaps in new layer snapshots, sharing the string values written
//! again with earlier batches (`strings`) and re-packing the spatial index of written
//! layers in the background ([`repack`]). It
//! does not speak HTTP: [`crate::http`] parses requests into [`WriteRequest`]s and turns
//! [`crate::Error`]s into problem+json. It does not read the configuration file:
//! [`crate::config`] builds its [`StoreSettings`].
//!
//! # Lifecycle of a write
//! 1. The HTTP layer authenticates ([`access`]), reads the body within the size limit and
//!    validates it against the layer's [`rules::WriteRules`] (geometry, properties, vertices).
//! 2. The request goes to the one writer thread, which takes every request waiting (a
//!    batch), checks each against the current snapshot (feature exists, `If-Match`,
//!    `Idempotency-Key`, server-owned properties), builds the new snapshots (index and joins
//!    included) off to the side, and commits the whole batch in one transaction.
//! 3. Only after the commit returns (WAL, `synchronous=FULL`: the data is on disk) are the new
//!    snapshots swapped in, the events broadcast and the requests acknowledged. A failed
//!    commit answers every request of the batch with [`crate::Error::Storage`] and changes
//!    nothing visible; the next write reopens the database.
//!
//! # What the store holds
//! The latest state of every feature ever written (its GeoJSON geometry and properties, or a
//! tombstone), the highest id ever given out per layer, the first result of every
//! `Idempotency-Key`, and an append-only log of all changes. Shipped geodata is never
//! written; [`merge`] defines how the two combine at startup.

pub mod access;
mod bases;
pub mod merge;
pub mod postgres;
mod remote;
pub mod repack;
pub mod replica;
pub mod request;
pub mod rules;
pub mod service;
pub mod settings;
pub mod sqlite;
mod staging;
mod strings;
mod writer;

use serde::{Deserialize, Serialize};

pub use access::WriteSettings;
pub use request::{IfMatch, Outcome, OutcomeKind, WriteOp, WriteRequest};
pub use rules::WriteRules;
pub use service::WriteService;
pub use settings::StoreSettings;

use crate::catalog::output::FeatureJson;
use crate::catalog::{Feature, Layer};
use crate::error::{Error, Result};

/// Ids of features created through the API are below this (2^32). A new id is one more than
/// the highest such id the layer has or ever had (ordinal and integer ids of the shipped file,
/// ids given out before, deleted or not), skipping ids in use: ids are stable and never
/// reused. Ids derived from string ids (53-bit hashes) are almost all above 2^32 and do not
/// push new ids up, so a layer like `incidents` numbers its new features 1, 2, 3...
pub const NEW_ID_LIMIT: u64 = 1 << 32;

/// The stored form of a feature: geometry and properties as GeoJSON, without the properties
/// the server derives (joins). Serialized as `{"geometry":...,"properties":...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFeature {
    pub geometry: serde_json::Value,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A [`StoredFeature`] as the store keeps it: its JSON text. Records carry the text and each
/// is parsed where it is applied, so that a startup reading every stored feature at once holds
/// their text rather than their parsed values: about 2 KB a point feature parsed (two
/// `serde_json` maps, each a B-tree node of eleven slots) against the 180 bytes of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredText(Box<str>);

impl StoredText {
    /// The text of `feature`.
    ///
    /// # Errors
    /// [`Error::Internal`] when the feature cannot be serialized.
    pub fn of(feature: &StoredFeature) -> Result<Self> {
        serde_json::to_string(feature)
            .map(|text| Self(text.into_boxed_str()))
            .map_err(|e| Error::Internal(format!("cannot serialize a stored feature: {e}")))
    }

    /// Text read back from the store, checked when it is parsed ([`Self::parse`]).
    pub fn from_store(text: String) -> Self {
        Self(text.into_boxed_str())
    }

    /// The text, as the store keeps it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored feature.
    ///
    /// # Errors
    /// Why the text is not a stored feature.
    pub fn parse(&self) -> std::result::Result<StoredFeature, String> {
        serde_json::from_str(&self.0).map_err(|e| format!("not a stored feature: {e}"))
    }

    /// The text of the geometry member, as stored.
    ///
    /// # Errors
    /// Why the text is not a stored feature.
    pub fn geometry(&self) -> std::result::Result<&str, String> {
        #[derive(Deserialize)]
        struct Geometry<'a> {
            #[serde(borrow)]
            geometry: &'a serde_json::value::RawValue,
        }
        serde_json::from_str::<Geometry<'_>>(&self.0)
            .map(|g| g.geometry.get())
            .map_err(|e| format!("not a stored feature: {e}"))
    }
}

/// The latest stored state of one feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub layer: String,
    pub id: u64,
    /// `None`: the feature was deleted (a tombstone).
    pub feature: Option<StoredText>,
    /// Fingerprint ([`merge::fingerprint`]) of the shipped feature the first change of this
    /// feature was made over; `None` for a feature created through the API.
    pub base: Option<String>,
}

/// What happened to a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Replace,
    Delete,
}

impl ChangeKind {
    /// Name used in the change log and in events.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Replace => "update",
            Self::Delete => "delete",
        }
    }
}

/// One change of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub record: Record,
}

/// The first answer to a `POST` with an `Idempotency-Key`, replayed on retries.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentResult {
    /// SHA-256 of the request body: a key reused with another body is a conflict.
    pub fingerprint: [u8; 32],
    pub id: u64,
    /// The response body (the feature as created).
    pub body: String,
    pub etag: String,
}

/// Everything one transaction writes.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub changes: Vec<Change>,
    /// `(layer, highest id given out)` for layers that created features.
    pub last_ids: Vec<(String, u64)>,
    /// `(layer, key, result)` of creates that carried an `Idempotency-Key`.
    pub idempotency: Vec<(String, String, IdempotentResult)>,
}

/// A change read back from the log of a store that several servers share, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedChange {
    /// Position in the log: changes are numbered in commit order.
    pub seq: u64,
    pub change: Change,
}

/// A durable record of changes. Every method is all or nothing; an error means nothing was
/// written. The server uses [`sqlite::SqliteStore`] or [`postgres::PostgresStore`]; the
/// writer knows only this trait.
///
/// A store that several servers share numbers its changes (a log position, `seq`): each
/// server applies every change after the last one it applied, and commits only on top of
/// the latest one ([`Store::commit_after`]). A store of one server keeps position 0.
pub trait Store: Send {
    /// The latest state of every feature ever written, ordered by layer then id.
    fn records(&mut self) -> Result<Vec<Record>>;
    /// The highest id given out in `layer`, 0 when none.
    fn last_id(&mut self, layer: &str) -> Result<u64>;
    /// The first result of `key` in `layer`, if that key was used.
    fn idempotent(&mut self, layer: &str, key: &str) -> Result<Option<IdempotentResult>>;
    /// Commits a batch in one transaction; returns once it is durable.
    fn commit(&mut self, batch: &Batch) -> Result<()>;

    /// Whether other servers write to this store too.
    fn shared(&self) -> bool {
        false
    }

    /// The latest state of every feature ([`Store::records`]) and the log position that
    /// state includes, read together.
    fn records_at(&mut self) -> Result<(Vec<Record>, u64)> {
        Ok((self.records()?, 0))
    }

    /// Commits `batch` when the last change of the log is `applied`, and returns the position
    /// of the batch's last change; `None` (nothing written) when other servers committed
    /// since: apply their changes ([`Store::changes_after`]), check the batch again, retry.
    fn commit_after(&mut self, batch: &Batch, applied: u64) -> Result<Option<u64>> {
        self.commit(batch).map(|()| Some(applied))
    }

    /// Keeps other servers from committing until this server's next commit or
    /// [`Store::end_exclusive`], so that what it reads and checks meanwhile stays current.
    fn begin_exclusive(&mut self) -> Result<()> {
        Ok(())
    }

    /// Lets other servers commit again, when no commit did.
    fn end_exclusive(&mut self) {}

    /// At most `limit` changes after position `seq`, in order.
    fn changes_after(&mut self, _seq: u64, _limit: usize) -> Result<Vec<LoggedChange>> {
        Ok(Vec::new())
    }
}

/// The body of a feature as the write API returns it and as events carry it: a GeoJSON
/// Feature with `type`, `id`, `geometry` and `properties`, no links.
///
/// # Errors
/// [`Error::Internal`] when the feature cannot be serialized.
pub fn try_feature_body(layer: &Layer, feature: &Feature) -> Result<String> {
    serde_json::to_string(&FeatureJson::new(layer, feature))
        .map_err(|e| Error::Internal(format!("cannot serialize feature {}: {e}", feature.id)))
}

/// [`try_feature_body`] where a failure is a test failure: the body for comparisons.
///
/// # Panics
/// When the feature cannot be serialized (its values are JSON values, so it can).
#[expect(
    clippy::expect_used,
    reason = "for tests and tools comparing stored features"
)]
pub fn feature_body(layer: &Layer, feature: &Feature) -> String {
    try_feature_body(layer, feature).expect("a feature serializes")
}

/// The strong entity tag of a feature's state (quoted), from [`try_feature_body`]: the same
/// for every representation of the same state, so `GET /items/{fid}` and `If-Match` on `PUT`
/// and `DELETE` agree whatever links or host a response carries.
///
/// # Errors
/// [`Error::Internal`] when the feature cannot be serialized.
pub fn feature_etag(layer: &Layer, feature: &Feature) -> Result<String> {
    try_feature_body(layer, feature).map(|body| etag_of_body(&body))
}

/// The entity tag of a feature body made by [`try_feature_body`].
pub fn etag_of_body(body: &str) -> String {
    crate::etag::strong(body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_text_gives_back_its_feature_and_its_geometry_as_serialized() {
        let feature = StoredFeature {
            geometry: serde_json::json!({"type": "Point", "coordinates": [69.25, 34.5, 1800.0]}),
            properties: serde_json::json!({"name": "Jalālābād \"east\"", "n": [1, {"a": null}]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let text = StoredText::of(&feature).unwrap();
        assert_eq!(text.as_str(), serde_json::to_string(&feature).unwrap());
        assert_eq!(text.parse().unwrap(), feature);
        assert_eq!(
            text.geometry().unwrap(),
            serde_json::to_string(&feature.geometry).unwrap()
        );
        let read = StoredText::from_store(text.as_str().to_owned());
        assert_eq!(read, text);
        for bad in ["", "[]", "{\"geometry\":1", "{\"properties\":{}}"] {
            let text = StoredText::from_store(bad.to_owned());
            assert!(text.parse().is_err(), "{bad}");
        }
        assert!(
            StoredText::from_store("{\"properties\":{}}".into())
                .geometry()
                .is_err()
        );
    }
}
