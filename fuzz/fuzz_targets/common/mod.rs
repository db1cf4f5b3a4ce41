//! What every fuzz target shares: the default atlas (`geodata/atlas.toml`), loaded once.

use std::path::Path;
use std::sync::OnceLock;

use khorasan_atlas::catalog::Catalog;
use khorasan_atlas::config::{Config, RawConfig};

/// The validated configuration and loaded catalog of the default atlas.
#[allow(dead_code, reason = "each target reads what it needs")]
pub struct Atlas {
    pub config: Config,
    pub catalog: Catalog,
}

/// The default atlas, read once per fuzzing process.
pub fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../geodata/atlas.toml");
        let raw = RawConfig::from_file(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let config = raw.validate().unwrap_or_else(|e| panic!("atlas.toml: {e}"));
        let catalog = Catalog::load(&config.catalog()).unwrap_or_else(|e| panic!("atlas: {e}"));
        Atlas { config, catalog }
    })
}
