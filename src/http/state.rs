//! Shared state of the HTTP layer: configuration, catalog and the services built on them.

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::config::Config;

/// Everything handlers share. Cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub catalog: Arc<Catalog>,
    /// Prepared layers and the tile cache (see [`crate::tiles::Tiler`]).
    pub tiler: Arc<crate::tiles::Tiler>,
}

impl AppState {
    /// Builds the state for a loaded catalog.
    pub fn new(config: Config, catalog: Catalog) -> Self {
        Self {
            tiler: Arc::new(crate::tiles::Tiler::new(config.tiles.clone())),
            config: Arc::new(config),
            catalog: Arc::new(catalog),
        }
    }
}
