//! The one error type of the crate.
//!
//! Owns: every way a request or a load can fail, with the value that caused it, and the
//! mapping from each failure to an HTTP status ([`Error::status`]). The HTTP layer turns an
//! [`Error`] into RFC 7807 problem+json; nothing else in the crate picks status codes.

use std::path::PathBuf;

/// Everything that can go wrong, with enough context to tell the user what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query or path parameter could not be parsed or is out of range.
    #[error("invalid value {value:?} for parameter '{param}': {reason}")]
    BadParameter {
        param: String,
        value: String,
        reason: String,
    },
    /// A query parameter the endpoint does not know.
    #[error("unknown query parameter '{0}'")]
    UnknownParameter(String),
    /// A query parameter given more than once.
    #[error("query parameter '{0}' is repeated")]
    RepeatedParameter(String),
    /// A request body that cannot be accepted (bad JSON, bad geometry, missing field).
    #[error("invalid body: {field}: {reason}")]
    BadBody { field: String, reason: String },
    /// A body larger than the configured limit.
    #[error("body of {size} bytes exceeds the limit of {limit} bytes")]
    BodyTooLarge { size: usize, limit: usize },
    /// No such collection, feature or resource.
    #[error("{kind} '{id}' not found")]
    NotFound { kind: &'static str, id: String },
    /// The method is not allowed on this resource.
    #[error("method not allowed on {0}")]
    MethodNotAllowed(String),
    /// Authentication is missing or wrong.
    #[error("a valid bearer token is required to write")]
    Unauthorized,
    /// A precondition (If-Match) failed.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// Too many requests from one client.
    #[error("too many write requests; retry after {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    /// The client took longer than allowed to send its request (body).
    #[error("request timed out: {0}")]
    RequestTimeout(String),
    /// The request target (path and query) is longer than the server accepts.
    #[error("the request target of {size} bytes exceeds the limit of {limit} bytes")]
    UriTooLong { size: usize, limit: usize },
    /// The request headers are larger than the server accepts.
    #[error("request headers of {size} bytes exceed the limit of {limit} bytes")]
    HeadersTooLarge { size: usize, limit: usize },
    /// A response would be larger than the server sends (`server.limits.max_response_bytes`).
    #[error(
        "the response to this request would exceed the limit of {limit} bytes; ask for fewer features (limit) or fewer properties"
    )]
    ResponseTooLarge { limit: usize },
    /// A shared resource (such as event stream slots) is exhausted; retry later.
    #[error("server busy: {0}")]
    Busy(String),
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A layer file could not be read or is not GeoJSON.
    #[error("{path}: {reason}")]
    Load { path: PathBuf, reason: String },
    /// A feature of a layer file is invalid.
    #[error("{path}: feature {index}: {reason}")]
    InvalidFeature {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// Durable storage failed; the write was not applied.
    #[error("storage unavailable: {0}")]
    Storage(String),
    /// A bug or an unexpected condition. The message is logged, never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::BadParameter`].
    pub fn bad_param(
        param: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::BadParameter {
            param: param.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::BadBody`].
    pub fn bad_body(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::BadBody {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadParameter { .. }
            | Self::UnknownParameter(_)
            | Self::RepeatedParameter(_)
            | Self::BadBody { .. }
            | Self::ResponseTooLarge { .. } => 400,
            Self::Unauthorized => 401,
            Self::NotFound { .. } => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Conflict(_) => 409,
            Self::RequestTimeout(_) => 408,
            Self::PreconditionFailed(_) => 412,
            Self::BodyTooLarge { .. } => 413,
            Self::UriTooLong { .. } => 414,
            Self::RateLimited { .. } => 429,
            Self::HeadersTooLarge { .. } => 431,
            Self::Storage(_) | Self::Busy(_) => 503,
            Self::Load { .. }
            | Self::InvalidFeature { .. }
            | Self::Config(_)
            | Self::Internal(_) => 500,
        }
    }

    /// A short title for the problem document.
    pub fn title(&self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            409 => "Conflict",
            412 => "Precondition Failed",
            413 => "Payload Too Large",
            414 => "URI Too Long",
            429 => "Too Many Requests",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    /// The detail sent to clients: the message for client errors, a generic text for
    /// server errors so that internals never leak.
    pub fn public_detail(&self) -> String {
        match self {
            Self::Storage(_) => {
                "the write could not be stored durably and was not applied; reads are unaffected"
                    .to_owned()
            }
            Self::Busy(_) => self.to_string(),
            e if e.status() >= 500 => "the server could not complete the request".to_owned(),
            e => e.to_string(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
