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
    /// The write side: store, writer, tokens, rate limit, events (see [`crate::store`]).
    pub writes: Arc<crate::store::WriteService>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Open event streams, bounded by `server.limits` (see [`super::events`]).
    pub subscribers: Arc<super::events::Subscribers>,
}

impl AppState {
    /// Builds the state for a loaded catalog, without the durable store: writes are off.
    pub fn new(config: Config, catalog: Catalog) -> Self {
        let config = Arc::new(config);
        let writes = crate::store::WriteService::disabled(config.store_settings());
        Self::assemble(config, Arc::new(catalog), writes)
    }

    /// Builds the state of the server: opens the store of `config.data_dir`, merges its
    /// changes into `catalog`, and turns writes on when a write token is configured.
    ///
    /// # Errors
    /// When the store exists or is needed but cannot be opened (see
    /// [`crate::store::WriteService::open`]).
    pub fn open(config: Config, catalog: Catalog) -> crate::Result<Self> {
        let config = Arc::new(config);
        let catalog = Arc::new(catalog);
        let writes =
            crate::store::WriteService::open(config.store_settings(), Arc::clone(&catalog))?;
        Ok(Self::assemble(config, catalog, writes))
    }

    fn assemble(
        config: Arc<Config>,
        catalog: Arc<Catalog>,
        writes: crate::store::WriteService,
    ) -> Self {
        Self {
            tiler: Arc::new(
                crate::tiles::Tiler::new(config.tiles.clone()).with_layers(config.tile_layers()),
            ),
            config,
            catalog,
            writes: Arc::new(writes),
            metrics: Arc::default(),
            subscribers: Arc::default(),
        }
    }
}
