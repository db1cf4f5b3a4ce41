//! What every fuzz target shares: the default atlas (`geodata/atlas.toml`), loaded once.

use std::path::Path;
use std::sync::OnceLock;

use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::{Config, RawConfig};

/// The validated configuration and loaded catalog of the default atlas.
pub struct Atlas {
    pub config: Config,
    pub catalog: Catalog,
}

/// The default atlas, read once per process.
pub fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| {
        // The fuzz crate lives in `fuzz/`; the corpus replay test in the repository root.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = [
            root.join("geodata/atlas.toml"),
            root.join("../geodata/atlas.toml"),
        ]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no geodata/atlas.toml near {root:?}"));
        let raw = RawConfig::from_file(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let config = raw.validate().unwrap_or_else(|e| panic!("atlas.toml: {e}"));
        let catalog = Catalog::load(&config.catalog()).unwrap_or_else(|e| panic!("atlas: {e}"));
        Atlas { config, catalog }
    })
}
