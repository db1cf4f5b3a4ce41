//! The settings the store runs with.
//!
//! Owns: [`StoreSettings`], everything [`super::WriteService`] reads besides the catalog:
//! where the store lives, who may write and how often ([`WriteSettings`]), and the rules of
//! each writable layer. It does not read the configuration file: [`crate::config`] builds
//! these values. The joins a write re-runs are the catalog's ([`crate::catalog::Catalog`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::access::WriteSettings;
use super::rules::WriteRules;

/// The settings of the write side.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    /// Directory of the durable store (created on the first write).
    pub data_dir: PathBuf,
    /// The PostgreSQL store (`postgresql://USER@HOST:PORT/DB`) shared by replicas; `None`:
    /// the SQLite store of `data_dir`.
    pub store_url: Option<String>,
    /// Tokens, rate limit and body limit of writes.
    pub access: WriteSettings,
    /// The layers that accept writes, by id, with the rules a written feature must follow.
    /// A layer not listed is read-only.
    pub writable_layers: BTreeMap<String, WriteRules>,
}

impl StoreSettings {
    /// The rules of `layer` when it accepts writes; `None` when it is read-only.
    pub fn rules(&self, layer: &str) -> Option<&WriteRules> {
        self.writable_layers.get(layer)
    }

    /// Whether any layer accepts writes.
    pub fn any_writable(&self) -> bool {
        !self.writable_layers.is_empty()
    }
}
