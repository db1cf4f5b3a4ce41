//! The catalog: every layer of the atlas, loaded, validated, joined and indexed.
//!
//! Owns: turning [`CatalogSettings`] ([`settings`]) into [`Layer`] snapshots (files read by
//! [`load`], fields by [`schema`], the spatial index built from the geometries), the spatial
//! joins between layers ([`join`]), and the swap of a layer's snapshot after a write. It does
//! not parse requests ([`crate::query`]), tile ([`crate::tiles`]), store changes
//! ([`crate::store`]) or speak HTTP ([`crate::http`]).
//!
//! Readers take an `Arc<Layer>` with [`LayerHandle::snapshot`] and keep it for the whole
//! request; a writer builds a new [`Layer`] and [`LayerHandle::replace`]s it, so readers
//! never block on writers and never see half a change.

pub mod geometry;
pub mod join;
pub mod load;
pub mod model;
pub mod output;
pub mod schema;
pub mod settings;
pub mod time;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;

pub use model::{ApiId, Feature, Field, FieldKind, GeometryKind, IdLookup, Layer, Prop, TimeSpan};
pub use settings::{CatalogSettings, InvalidPolicy, JoinConfig, LayerSettings};

use crate::error::{Error, Result};
use crate::index::SpatialIndex;

/// Source of layer generations, unique across the process so that a cache key
/// `(layer, generation)` never repeats.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The next layer generation.
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

impl Layer {
    /// Builds a snapshot: schema, features, index, id lookup and extents.
    pub fn build(
        config: Arc<LayerSettings>,
        fields: Vec<Field>,
        features: Vec<Feature>,
        source_ids: HashMap<Box<str>, u64>,
    ) -> Self {
        let index = SpatialIndex::build(features.iter().map(|f| &f.geometry));
        let ordinal = features
            .iter()
            .enumerate()
            .all(|(i, f)| f.id == i as u64 + 1);
        let ids = if ordinal {
            IdLookup::Ordinal
        } else {
            IdLookup::Map(
                features
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.id, i))
                    .collect(),
            )
        };
        let extent = index.extent();
        let mut time_extent: Option<TimeSpan> = None;
        let mut geometry_kind = GeometryKind::Empty;
        for f in &features {
            if let Some((s, e)) = f.time {
                time_extent = Some(time_extent.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
            }
            if !f.has_null_geometry() {
                geometry_kind = geometry_kind.merge(GeometryKind::of(&f.geometry));
            }
        }
        Self {
            config,
            generation: next_generation(),
            fields,
            features,
            index,
            ids,
            string_ids: source_ids.iter().map(|(s, &n)| (n, s.clone())).collect(),
            source_ids,
            extent,
            time_extent,
            geometry_kind,
        }
    }

    /// A new snapshot with other features (and the same configuration).
    pub fn with_features(&self, fields: Vec<Field>, features: Vec<Feature>) -> Self {
        let source_ids = self.source_ids.clone();
        Self::build(Arc::clone(&self.config), fields, features, source_ids)
    }
}

/// A layer whose snapshot can be replaced.
#[derive(Debug)]
pub struct LayerHandle {
    pub id: String,
    current: ArcSwap<Layer>,
}

impl LayerHandle {
    /// Wraps a first snapshot.
    pub fn new(layer: Layer) -> Self {
        Self {
            id: layer.config.id.clone(),
            current: ArcSwap::from_pointee(layer),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Layer> {
        self.current.load_full()
    }

    /// Swaps in a new snapshot.
    pub fn replace(&self, layer: Layer) {
        self.current.store(Arc::new(layer));
    }
}

/// All layers, in configuration order, with the joins that tie them.
#[derive(Debug)]
pub struct Catalog {
    pub layers: Vec<LayerHandle>,
    pub joins: Vec<JoinConfig>,
}

impl Catalog {
    /// Loads every layer of `config`, then applies the joins. Logs each layer with its
    /// feature count and load time.
    pub fn load(config: &CatalogSettings) -> Result<Self> {
        let mut layers = Vec::with_capacity(config.layers.len());
        for layer_config in &config.layers {
            let started = Instant::now();
            let options = load::LoadOptions {
                on_invalid: layer_config.on_invalid,
                time_property: layer_config.time_property.clone(),
                time_end_property: layer_config.time_end_property.clone(),
            };
            let loaded = load::load_file(&layer_config.file, &options)?;
            let refusals = loaded.refusals();
            let layer = Layer::build(
                Arc::new(layer_config.clone()),
                loaded.fields,
                loaded.features,
                loaded.source_ids,
            );
            tracing::info!(
                layer = %layer_config.id,
                file = %layer_config.file.display(),
                features = layer.features.len(),
                skipped = loaded.skipped.len(),
                ms = started.elapsed().as_millis() as u64,
                "layer loaded"
            );
            if !refusals.is_empty() {
                let reasons: Vec<String> = refusals
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect();
                tracing::warn!(
                    "layer {}: {} features refused: {}",
                    layer_config.id,
                    loaded.skipped.len(),
                    reasons.join(", ")
                );
            }
            layers.push(layer);
        }
        join::apply_all(&mut layers, &config.joins)?;
        Ok(Self {
            layers: layers.into_iter().map(LayerHandle::new).collect(),
            joins: config.joins.clone(),
        })
    }

    /// A layer by id.
    pub fn get(&self, id: &str) -> Result<&LayerHandle> {
        self.layers
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| Error::NotFound {
                kind: "collection",
                id: id.to_owned(),
            })
    }
}
