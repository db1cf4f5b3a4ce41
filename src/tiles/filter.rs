//! Feature predicates of filtered tiles (`?filter=` on a tile request).
//!
//! Owns: [`TileFilter`], the predicate of one request for each of its layers and the key
//! that tells filtered tiles apart in the cache and in ETags. Tiles do not know how a
//! predicate is written: the caller compiles it.

use std::sync::Arc;

/// Whether the feature at a position of one layer is kept.
pub type Keep = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// The predicate of a filtered tile request.
#[derive(Clone)]
pub struct TileFilter {
    /// Identifies the predicate (e.g. the normalized filter text).
    pub key: Arc<str>,
    /// One predicate per requested layer, in the order of the layers.
    pub keep: Vec<Keep>,
}

impl std::fmt::Debug for TileFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileFilter")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
