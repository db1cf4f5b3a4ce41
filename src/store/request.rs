//! What the HTTP layer asks of the store, and what it gets back.
//!
//! Owns: [`WriteRequest`] (a create, replace or delete, its body already checked against the
//! layer's [`super::WriteRules`]), the `If-Match` precondition ([`IfMatch`]) and the answer
//! of an acknowledged write ([`Outcome`]). It does not parse headers or bodies (that is
//! [`crate::http`]) and does not decide anything (that is [`super::staging`]).

use super::rules::Draft;

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
    /// The feature as stored ([`super::feature_body`]); `None` after a delete.
    pub body: Option<String>,
    /// Its entity tag; `None` after a delete.
    pub etag: Option<String>,
}
