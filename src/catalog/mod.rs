//! The catalog: every layer of the atlas, loaded, validated, joined and indexed.
//!
//! Owns: turning [`CatalogSettings`] ([`settings`]) into [`Layer`] snapshots (files read by
//! [`load`], fields by [`schema`], the spatial index built from the geometries), the spatial
//! joins between layers ([`join`]), the swap of a layer's snapshot after a write, and the
//! reload of a layer whose file changed ([`reload`], [`watch`]); read-only layers may also come
//! from PostGIS tables ([`postgis`]), refreshed on `NOTIFY` ([`postgis_listen`]). It does
//! not parse requests ([`crate::query`]), tile ([`crate::tiles`]), store changes
//! ([`crate::store`]) or speak HTTP ([`crate::http`]).
//!
//! Readers take an `Arc<Layer>` with [`LayerHandle::snapshot`] and keep it for the whole
//! request; a writer builds a new [`Layer`] and [`LayerHandle::replace`]s it, so readers
//! never block on writers and never see half a change. The new snapshot shares with the old
//! one every part the write did not change ([`features`], [`Layer::edited`]).

pub mod features;
pub mod geometry;
pub mod join;
pub mod load;
pub mod model;
pub mod output;
pub mod postgis;
pub mod postgis_listen;
pub mod reload;
pub mod schema;
pub mod settings;
pub mod shape;
pub mod time;
pub mod watch;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use arc_swap::ArcSwap;

pub use features::{Features, IdLookup};
pub use model::{
    ApiId, ArcStr, Feature, Field, FieldKind, GeometryKind, Layer, Prop, SourceIds, StringIds,
    Time, TimeSpan,
};
pub use settings::{
    CatalogSettings, InvalidPolicy, JoinConfig, LayerSettings, PostgisSource, PostgisTable,
};
pub use shape::Shape;

use crate::error::{Error, Result};
use crate::index::SpatialIndex;

/// Source of layer generations, unique across the process so that a cache key
/// `(layer, generation)` never repeats.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The next layer generation.
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Layers of at least this many slots build their spatial index and the rest of a
/// snapshot ([`Summary`]) on two threads.
const PARALLEL_BUILD: usize = 50_000;

/// What a full build of a snapshot needs besides the spatial index.
struct Summary {
    ids: IdLookup,
    string_ids: StringIds,
    time_extent: Option<TimeSpan>,
    geometry_kind: GeometryKind,
}

impl Summary {
    fn of(features: &Features, source_ids: &SourceIds) -> Self {
        let mut time_extent: Option<TimeSpan> = None;
        let mut geometry_kind = GeometryKind::Empty;
        for (_, f) in features.iter() {
            widen_time(&mut time_extent, f);
            widen_kind(&mut geometry_kind, f);
        }
        Self {
            ids: IdLookup::of(features),
            string_ids: source_ids.iter().map(|(s, &n)| (n, s.clone())).collect(),
            time_extent,
            geometry_kind,
        }
    }
}

impl Layer {
    /// Builds a snapshot: schema, features, index, id lookup and extents.
    pub fn build(
        config: Arc<LayerSettings>,
        fields: Vec<Field>,
        features: Vec<Feature>,
        source_ids: SourceIds,
    ) -> Self {
        Self::build_features(config, fields, Features::from_vec(features), source_ids)
    }

    /// [`Self::build`] from features already in their slots (as a load gathers them).
    pub fn build_features(
        config: Arc<LayerSettings>,
        fields: Vec<Field>,
        features: Features,
        source_ids: SourceIds,
    ) -> Self {
        Self::build_from(config, fields, features, Arc::new(source_ids))
    }

    /// A full build from `features`, empty slots dropped (the positions change: a new
    /// layout).
    fn build_from(
        config: Arc<LayerSettings>,
        fields: Vec<Field>,
        features: Features,
        source_ids: Arc<SourceIds>,
    ) -> Self {
        let features = if features.live() == features.slots() {
            features
        } else {
            features.iter().map(|(_, f)| f.clone()).collect()
        };
        // The index and the rest (id tables, extents) read the features apart: a large
        // layer builds them on two threads.
        let rest = || Summary::of(&features, &source_ids);
        let (index, summary) = if features.slots() < PARALLEL_BUILD {
            (SpatialIndex::build_slots(features.geometries()), rest())
        } else {
            std::thread::scope(|scope| {
                let summary = scope.spawn(rest);
                let index = SpatialIndex::build_slots(features.geometries());
                let summary = summary
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (index, summary)
            })
        };
        let Summary {
            ids,
            string_ids,
            time_extent,
            geometry_kind,
        } = summary;
        let extent = index.extent();
        let generation = next_generation();
        Self {
            config,
            generation,
            layout: generation,
            changed: Arc::from([]),
            fields,
            features,
            index: Arc::new(index),
            ids,
            string_ids: Arc::new(string_ids),
            source_ids,
            extent,
            time_extent,
            geometry_kind,
        }
    }

    /// A new snapshot with other features (and the same configuration), built in full.
    pub fn with_features(&self, fields: Vec<Field>, features: Vec<Feature>) -> Self {
        Self::build_from(
            Arc::clone(&self.config),
            fields,
            Features::from_vec(features),
            Arc::clone(&self.source_ids),
        )
    }

    /// The snapshot after a write: `features`, with the id lookup `ids`, are this
    /// snapshot's features with the slots at `changed` replaced, emptied or appended. Only
    /// those are indexed again, with [`Indexing::Edits`]; with [`Indexing::Packed`] the
    /// index is built anew. The extents grow by the changed features (see
    /// [`Layer::extent`]). When empty slots pass a quarter of the slots, the layer is built
    /// in full instead, without them: that write pays for a whole build, once per so many
    /// deletes.
    pub fn edited(
        &self,
        fields: Vec<Field>,
        features: Features,
        ids: IdLookup,
        mut changed: Vec<usize>,
        indexing: Indexing,
    ) -> Self {
        let config = Arc::clone(&self.config);
        if (features.slots() - features.live()) * 4 > features.slots() {
            return Self::build_from(config, fields, features, Arc::clone(&self.source_ids));
        }
        changed.sort_unstable();
        changed.dedup();
        let index = match indexing {
            Indexing::Edits => self.index.updated(features.slots(), &changed, |pos| {
                features.get(pos).map(|f| f.geometry.get())
            }),
            Indexing::Packed => SpatialIndex::build_slots(features.geometries()),
        };
        let mut extent = self.extent;
        let mut time_extent = self.time_extent;
        let mut geometry_kind = self.geometry_kind;
        for f in changed.iter().filter_map(|&pos| features.get(pos)) {
            widen_time(&mut time_extent, f);
            if !widen_kind(&mut geometry_kind, f) {
                continue;
            }
            if let Some([w, s, e, n]) = f.bbox() {
                extent = Some(extent.map_or([w, s, e, n], |[a, b, c, d]| {
                    [a.min(w), b.min(s), c.max(e), d.max(n)]
                }));
            }
        }
        Self {
            config,
            generation: next_generation(),
            layout: self.layout,
            changed: changed.into(),
            fields,
            features,
            index: Arc::new(index),
            ids,
            source_ids: Arc::clone(&self.source_ids),
            string_ids: Arc::clone(&self.string_ids),
            extent,
            time_extent,
            geometry_kind,
        }
    }
}

/// How [`Layer::edited`] indexes the changed snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexing {
    /// The changed positions as edits of the previous snapshot's index: `O(changed · log
    /// n)`, what a write pays.
    Edits,
    /// Packed trees over every position, as a full build makes them, without reading the
    /// previous snapshot's index: for changes as many as make a re-pack due
    /// ([`SpatialIndex::edits_to_pack`]).
    Packed,
}

/// Widens a time extent to a feature's time.
fn widen_time(extent: &mut Option<TimeSpan>, f: &Feature) {
    if let Some((s, e)) = f.time.get() {
        *extent = Some(extent.map_or((s, e), |(a, b)| (a.min(s), b.max(e))));
    }
}

/// Widens a layer's geometry kind to a feature's geometry; false (and no change) for a
/// feature whose geometry is null.
fn widen_kind(kind: &mut GeometryKind, f: &Feature) -> bool {
    if f.has_null_geometry() {
        return false;
    }
    *kind = kind.merge(GeometryKind::of(&f.geometry.get()));
    true
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

    /// Takes the current snapshot out to be changed in place, when nothing else holds it
    /// (before the server serves, as the startup merge does): its features are then not
    /// copied by the edit. The handle holds an empty layer of the same configuration until
    /// [`Self::replace`]. `None`, and the handle unchanged, when another snapshot is alive.
    pub fn take_unique(&self) -> Option<Layer> {
        let config = Arc::clone(&self.current.load().config);
        let empty = Layer::build(config, Vec::new(), Vec::new(), SourceIds::default());
        match Arc::try_unwrap(self.current.swap(Arc::new(empty))) {
            Ok(layer) => Some(layer),
            Err(shared) => {
                self.current.store(shared);
                None
            }
        }
    }

    /// Swaps in a new snapshot.
    pub fn replace(&self, layer: Layer) {
        self.current.store(Arc::new(layer));
    }
}

/// The layer `l` of the GeoJSON text `geojson`, read through a file as a layer file is
/// (for tests of the modules that work on layers).
///
/// # Panics
/// When the text is not a layer.
#[cfg(test)]
pub fn layer_of_geojson(geojson: &str) -> Layer {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("l.geojson");
    std::fs::write(&path, geojson).expect("the layer file written");
    load_layer(&LayerSettings {
        id: "l".into(),
        file: path,
        ..LayerSettings::default()
    })
    .expect("a layer")
}

/// Reads the file (or PostGIS table, [`postgis`]) of one layer and builds its snapshot
/// (joins not applied). Logs the feature count and load time, and the count of refused
/// features per reason.
///
/// # Errors
/// When the file cannot be read or is not GeoJSON, the table cannot be read, or features
/// are invalid under [`InvalidPolicy::Refuse`].
pub fn load_layer(settings: &LayerSettings) -> Result<Layer> {
    let started = Instant::now();
    let options = load::LoadOptions {
        on_invalid: settings.on_invalid,
        time_property: settings.time_property.clone(),
        time_end_property: settings.time_end_property.clone(),
    };
    let (loaded, source) = match &settings.postgis {
        Some(table) => (
            postgis::load_table(table, &options)?,
            postgis::source_name(table),
        ),
        None => (
            load::load_file(&settings.file, &options)?,
            settings.file.clone(),
        ),
    };
    let refusals = loaded.refusals();
    let skipped = loaded.skipped.len();
    let layer = Layer::build_features(
        Arc::new(settings.clone()),
        loaded.fields,
        loaded.features,
        loaded.source_ids,
    );
    tracing::info!(
        layer = %settings.id,
        source = %source.display(),
        features = layer.features.live(),
        skipped,
        ms = started.elapsed().as_millis() as u64,
        "layer loaded"
    );
    if !refusals.is_empty() {
        let reasons: Vec<String> = refusals
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        tracing::warn!(
            "layer {}: {skipped} features refused: {}",
            settings.id,
            reasons.join(", ")
        );
    }
    Ok(layer)
}

/// All layers, in configuration order, with the joins that tie them.
#[derive(Debug)]
pub struct Catalog {
    pub layers: Vec<LayerHandle>,
    pub joins: Vec<JoinConfig>,
    /// Taken by [`Catalog::exclusive`].
    swap: Mutex<()>,
    /// What file reloads did, per layer ([`reload`]).
    pub reloads: reload::ReloadLog,
}

impl Catalog {
    /// Loads every layer of `config`, then applies the joins. Logs each layer with its
    /// feature count and load time.
    pub fn load(config: &CatalogSettings) -> Result<Self> {
        let mut layers = config
            .layers
            .iter()
            .map(load_layer)
            .collect::<Result<Vec<_>>>()?;
        join::apply_all(&mut layers, &config.joins)?;
        Ok(Self {
            layers: layers.into_iter().map(LayerHandle::new).collect(),
            joins: config.joins.clone(),
            swap: Mutex::new(()),
            reloads: reload::ReloadLog::default(),
        })
    }

    /// Holds off every other change of snapshots (writes, file reloads) while the guard
    /// lives, so that a change built from the current snapshots is not lost to another.
    pub fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.swap
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

#[cfg(test)]
mod tests;
