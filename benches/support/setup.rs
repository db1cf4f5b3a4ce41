//! What the criterion benches share: how many points to generate, and a layer built from
//! loaded features with the configuration `--layer ID=FILE` would give it.

use std::sync::Arc;

use khorasan_atlas::catalog::Layer;
use khorasan_atlas::catalog::LayerSettings;
use khorasan_atlas::catalog::load::Loaded;

/// Number of points: `KA_BENCH_POINTS`, else `when_benching` under `cargo bench` (10k when
/// the benches run as tests).
pub fn point_count(when_benching: usize) -> usize {
    let benching = std::env::args().any(|a| a == "--bench");
    std::env::var("KA_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { when_benching } else { 10_000 })
}

/// The configuration of layer `id` as `--layer ID=FILE` gives it (no time property).
pub fn layer_config(id: &str) -> LayerSettings {
    LayerSettings {
        id: id.to_owned(),
        file: format!("{id}.geojson").into(),
        ..LayerSettings::default()
    }
}

/// Layer `id` indexed from `loaded`.
pub fn layer(id: &str, loaded: Loaded) -> Layer {
    Layer::build_features(
        Arc::new(layer_config(id)),
        loaded.fields,
        loaded.features,
        loaded.source_ids,
    )
}
