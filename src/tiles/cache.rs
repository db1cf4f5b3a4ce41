//! Keeping tiles between requests.
//!
//! Owns: the [`Tiler`], shared by all requests: the prepared form of each layer (one per
//! layer generation, prepared outside any lock shared with other layers) and a bounded
//! cache of encoded tiles, keyed by the layers' generations so that a changed layer can never
//! be served from the cache; each cached tile keeps its ETag ([`tile_etag`]) and, once a
//! client asks for them, its compressed copies, one per content coding, each with its own
//! ETag. Rendering is [`super::render`]; HTTP is elsewhere.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::budget::{self, LayerReport};
use super::coord::TileCoord;
use super::filter::TileFilter;
use super::gather;
use super::render::{RenderedTile, render_cancellable};
use super::settings::TileLayerConfig;
use super::settings::TileServerConfig;
use super::simplify::PreparedLayer;
use crate::cancel::Cancel;
use crate::catalog::{GeometryKind, Layer};
use crate::error::Result;

/// An encoded tile as cached and served.
#[derive(Debug)]
pub struct CachedTile {
    /// MVT bytes; empty for an empty tile.
    pub mvt: Bytes,
    /// The same, compressed, one copy per content coding: each made on first use (by the
    /// first client that takes that coding), then kept with the tile.
    encoded: [OnceLock<Bytes>; CODINGS],
    /// Strong entity tag of the uncompressed bytes ([`tile_etag`]).
    pub etag: String,
    pub layers: Vec<LayerReport>,
}

/// Compressed copies a tile can keep: one per content coding the server produces (the
/// caller numbers them).
pub const CODINGS: usize = 4;

/// The strong entity tag of a tile: the 128-bit xxh3 of its uncompressed MVT bytes, as 32
/// hex digits in quotes. Each compressed copy has its own tag ([`CachedTile::etag_of`]).
pub fn tile_etag(mvt: &[u8]) -> String {
    crate::etag::strong(mvt)
}

/// The entity tag of a filtered tile: of its bytes and the filter's key.
fn filtered_etag(mvt: &[u8], key: &str) -> String {
    crate::etag::strong_of_parts(&[mvt, &[0], key.as_bytes()])
}

impl CachedTile {
    /// The tile `rendered`, tagged as a tile of the filter keyed `filter_key` when given.
    fn new(rendered: RenderedTile, filter_key: Option<&str>) -> Self {
        let etag = match filter_key {
            Some(key) => filtered_etag(&rendered.mvt, key),
            None => tile_etag(&rendered.mvt),
        };
        Self {
            mvt: rendered.mvt,
            encoded: std::array::from_fn(|_| OnceLock::new()),
            etag,
            layers: rendered.layers,
        }
    }

    /// Whether the tile has no feature.
    pub fn is_empty(&self) -> bool {
        self.mvt.is_empty()
    }

    /// The tile compressed with the coding numbered `coding` (below [`CODINGS`]) by
    /// `compress`, compressed once, on first call; `None` when `coding` is out of range or
    /// the coder failed (the tile then goes uncompressed). The copy kept is cut to its
    /// length: coders make room for their worst case (about the tile's own size), which the
    /// cache's weight of a copy (half the tile) does not count.
    pub fn encoded(
        &self,
        coding: usize,
        compress: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
    ) -> Option<Bytes> {
        let copy = self.encoded.get(coding)?.get_or_init(|| {
            compress(&self.mvt).map_or_else(Bytes::new, |mut copy| {
                copy.shrink_to_fit();
                Bytes::from(copy)
            })
        });
        (!copy.is_empty()).then(|| copy.clone())
    }

    /// The tile gzip-compressed at level 3 (about three times faster than the default 6,
    /// and only a few percent larger on MVT), for archives; not kept.
    pub fn gzip(&self) -> Bytes {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(self.mvt.len() / 2 + 64),
            flate2::Compression::new(3),
        );
        // Writing to a Vec cannot fail; were it to, the tile goes uncompressed.
        match enc.write_all(&self.mvt).and_then(|()| enc.finish()) {
            Ok(gz) => Bytes::from(gz),
            Err(_) => self.mvt.clone(),
        }
    }

    /// The entity tag of the copy compressed with `token` (a `Content-Encoding`): the
    /// tile's tag with the token inside the quotes.
    pub fn etag_of(&self, token: &str) -> String {
        let inner = self.etag.trim_end_matches('"');
        [inner, "-", token, "\""].concat()
    }
}

/// What the tile cache holds, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheUsage {
    /// Tiles held.
    pub tiles: usize,
    /// Their weight: MVT bytes, the room counted for compressed copies, and the keys.
    pub weight_bytes: u64,
    /// The most weight the cache holds (`server.tiles.cache_mib`).
    pub capacity_bytes: u64,
}

/// The cache key: the generations of the layers (unique per process and per layer
/// snapshot, so they also name the layers) in request order, and the tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TileKey {
    generations: Box<[u64]>,
    tile: TileCoord,
    /// The key of the request's filter, if any.
    filter: Option<Arc<str>>,
}

impl TileKey {
    fn new(layers: &[Arc<Layer>], tile: TileCoord, filter: Option<&TileFilter>) -> Self {
        Self {
            generations: layers.iter().map(|l| l.generation).collect(),
            tile,
            filter: filter.map(|f| Arc::clone(&f.key)),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct TileWeight;

impl quick_cache::Weighter<TileKey, Arc<CachedTile>> for TileWeight {
    fn weight(&self, key: &TileKey, val: &Arc<CachedTile>) -> u64 {
        // Compressed copies, made later, are counted up front (about half the MVT each;
        // clients rarely use more than two codings).
        (val.mvt.len() * 2
            + key.generations.len() * 8
            + key.filter.as_ref().map_or(0, |f| f.len())
            + 256) as u64
    }
}

/// The prepared form of one layer generation: made once, by the first request that needs
/// it, while later requests for the same generation wait for it.
#[derive(Debug)]
struct PreparedSlot {
    generation: u64,
    layer: OnceLock<Arc<PreparedLayer>>,
    /// When the slot was made.
    made: Instant,
    /// Whether it leaves out the point pyramid (see [`Tiler::prepared`]).
    partial: bool,
}

impl PreparedSlot {
    fn new(generation: u64, partial: bool) -> Arc<Self> {
        Arc::new(Self {
            generation,
            layer: OnceLock::new(),
            made: Instant::now(),
            partial,
        })
    }
}

/// Most features a tile rendered where its request is served may write, over its layers
/// ([`Tiler::renders_light`]): one layer's default budget.
pub const LIGHT_FEATURES: usize = budget::DEFAULT_MAX_FEATURES;

/// How long a point layer must go unwritten before its pyramid is built again.
pub const PYRAMID_QUIET: Duration = Duration::from_secs(2);

/// The tile service: prepared layers and the tile cache, shared by all requests.
pub struct Tiler {
    pub config: TileServerConfig,
    /// Tile settings of each layer, by id; layers not listed use the defaults.
    layers: HashMap<String, TileLayerConfig>,
    default_layer: TileLayerConfig,
    /// One slot per layer id, for the generation last asked for. The lock is held only to
    /// find or replace a slot, never while a layer is prepared.
    prepared: Mutex<HashMap<String, Arc<PreparedSlot>>>,
    /// See [`PYRAMID_QUIET`].
    pyramid_quiet: Duration,
    cache: Option<quick_cache::sync::Cache<TileKey, Arc<CachedTile>, TileWeight>>,
}

impl std::fmt::Debug for Tiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiler")
            .field("config", &self.config)
            .field(
                "cached_tiles",
                &self.cache.as_ref().map(quick_cache::sync::Cache::len),
            )
            .finish_non_exhaustive()
    }
}

impl Tiler {
    /// A tiler with an empty cache of `config.cache_mib` MiB.
    pub fn new(config: TileServerConfig) -> Self {
        let bytes = config.cache_mib.saturating_mul(1 << 20);
        let cache = (bytes > 0).then(|| {
            let items = usize::try_from(bytes / 16_384).unwrap_or(1 << 16).max(64);
            quick_cache::sync::Cache::with_weighter(items, bytes, TileWeight)
        });
        Self {
            config,
            layers: HashMap::new(),
            default_layer: TileLayerConfig::default(),
            prepared: Mutex::new(HashMap::new()),
            pyramid_quiet: PYRAMID_QUIET,
            cache,
        }
    }

    /// What the tile cache holds: `None` when the cache is off.
    pub fn cache_usage(&self) -> Option<CacheUsage> {
        self.cache.as_ref().map(|c| CacheUsage {
            tiles: c.len(),
            weight_bytes: c.weight(),
            capacity_bytes: c.capacity(),
        })
    }

    /// The same tiler with the tile settings of each layer, by layer id.
    #[must_use]
    pub fn with_layers(
        mut self,
        layers: impl IntoIterator<Item = (String, TileLayerConfig)>,
    ) -> Self {
        self.layers = layers.into_iter().collect();
        self
    }

    /// The tile settings of a layer.
    pub fn layer_config(&self, layer: &str) -> &TileLayerConfig {
        self.layers.get(layer).unwrap_or(&self.default_layer)
    }

    /// The same tiler waiting `quiet` (instead of [`PYRAMID_QUIET`]) before it builds the
    /// pyramid of a point layer that is being written.
    #[must_use]
    pub fn with_pyramid_quiet(mut self, quiet: Duration) -> Self {
        self.pyramid_quiet = quiet;
        self
    }

    /// Prepares every layer of `layers` whose tiles are on ([`Self::prepared`]), so that
    /// the first tile of each does not wait for it (a point layer's pyramid and encoded
    /// values take about 0.3 s at 1M points). The server runs it once at start, on a
    /// thread of its own.
    pub fn prepare_all(&self, layers: impl IntoIterator<Item = Arc<Layer>>) {
        for layer in layers {
            if self.layer_config(layer.id()).enabled {
                let started = Instant::now();
                self.prepared(&layer);
                tracing::info!(layer = %layer.id(), took_ms = started.elapsed().as_millis(),
                    "prepared for tiles");
            }
        }
    }

    /// The prepared form of a layer snapshot, built once per generation. Preparing a
    /// layer holds up only the requests that need that same generation (they wait for it
    /// rather than prepare it again); other layers' requests go on.
    ///
    /// The point pyramid of a layer is built over all its points, so a layer being written
    /// does not get one per write: a generation that follows another by less than
    /// [`PYRAMID_QUIET`] is prepared without it (its tiles gather their points from the
    /// index, which gives the same tiles, at more cost for the low zooms), and once the
    /// layer has been quiet that long, the next request builds it.
    pub fn prepared(&self, layer: &Layer) -> Arc<PreparedLayer> {
        let slot = {
            let mut slots = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
            let points = layer.geometry_kind == GeometryKind::Point;
            let (reuse, partial) = match slots.get(layer.id()) {
                Some(slot) if slot.generation == layer.generation => (
                    !slot.partial || slot.made.elapsed() < self.pyramid_quiet,
                    false,
                ),
                Some(slot) => (false, points && slot.made.elapsed() < self.pyramid_quiet),
                None => (false, false),
            };
            match slots.get(layer.id()) {
                Some(slot) if reuse => Arc::clone(slot),
                _ => {
                    let slot = PreparedSlot::new(layer.generation, partial);
                    slots.insert(layer.id().to_owned(), Arc::clone(&slot));
                    slot
                }
            }
        };
        Arc::clone(slot.layer.get_or_init(|| {
            Arc::new(if slot.partial {
                PreparedLayer::without_pyramid(layer)
            } else {
                PreparedLayer::new(layer)
            })
        }))
    }

    /// The prepared form of a layer snapshot when it is made already, with its pyramid for
    /// a point layer (never made here).
    fn ready(&self, layer: &Layer) -> Option<Arc<PreparedLayer>> {
        let slots = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = slots
            .get(layer.id())
            .filter(|slot| slot.generation == layer.generation && !slot.partial)?;
        slot.layer.get().cloned()
    }

    /// Whether rendering the tile of `layers` at `coord` is light work, bounded by the
    /// feature budgets: every layer that has features at this zoom is prepared already and
    /// read from its point pyramid (unfiltered, unclustered), with feature budgets of at
    /// most [`LIGHT_FEATURES`] together. Such a render reads at most that many cells and
    /// writes at most that many points, a few milliseconds at most; the server does it
    /// where the request is served instead of handing it to the pool of CPU jobs.
    pub fn renders_light(
        &self,
        layers: &[Arc<Layer>],
        coord: TileCoord,
        filter: Option<&TileFilter>,
    ) -> bool {
        if filter.is_some() {
            return false;
        }
        let mut features = 0usize;
        layers.iter().all(|layer| {
            let cfg = self.layer_config(layer.id());
            if !cfg.enabled || coord.z < cfg.minzoom {
                return true;
            }
            let max = cfg.budget().max_features;
            features = features.saturating_add(max);
            max > 0
                && features <= LIGHT_FEATURES
                && self
                    .ready(layer)
                    .is_some_and(|prepared| gather::from_pyramid(layer, cfg, &prepared, coord))
        })
    }

    /// Parses a tile coordinate with this server's max zoom.
    pub fn parse_coord(&self, z: &str, x: &str, y: &str) -> Result<TileCoord> {
        TileCoord::parse(z, x, y, self.config.max_zoom)
    }

    /// The tile of `layers` (one MVT layer each, in this order) at `coord`, from the cache
    /// or rendered now. The second value tells whether it came from the cache.
    pub fn tile(&self, layers: &[Arc<Layer>], coord: TileCoord) -> Result<(Arc<CachedTile>, bool)> {
        self.tile_filtered(layers, coord, None)
    }

    /// [`Tiler::tile`] keeping only the features `filter` keeps; cached under its key, and
    /// its ETag covers the key.
    pub fn tile_filtered(
        &self,
        layers: &[Arc<Layer>],
        coord: TileCoord,
        filter: Option<&TileFilter>,
    ) -> Result<(Arc<CachedTile>, bool)> {
        self.tile_cancellable(layers, coord, filter, &Cancel::never())
    }

    /// [`Tiler::tile_filtered`] whose rendering stops early, with an error, once `cancel`
    /// is raised (nothing is cached then).
    pub fn tile_cancellable(
        &self,
        layers: &[Arc<Layer>],
        coord: TileCoord,
        filter: Option<&TileFilter>,
        cancel: &Cancel,
    ) -> Result<(Arc<CachedTile>, bool)> {
        let render_now = || -> Result<Arc<CachedTile>> {
            let prepared: Vec<Arc<PreparedLayer>> =
                layers.iter().map(|l| self.prepared(l)).collect();
            let sources: Vec<_> = layers
                .iter()
                .zip(&prepared)
                .map(|(l, p)| (l.as_ref(), self.layer_config(l.id()), p.as_ref()))
                .collect();
            let rendered = render_cancellable(&sources, coord, filter, cancel)?;
            Ok(Arc::new(CachedTile::new(rendered, filter.map(|f| &*f.key))))
        };
        let Some(cache) = &self.cache else {
            return Ok((render_now()?, false));
        };
        let key = TileKey::new(layers, coord, filter);
        if let Some(hit) = cache.get(&key) {
            return Ok((hit, true));
        }
        cache
            .get_or_insert_with(&key, render_now)
            .map(|t| (t, false))
    }

    /// The tile from the cache, if it is there (no rendering).
    pub fn cached(&self, layers: &[Arc<Layer>], coord: TileCoord) -> Option<Arc<CachedTile>> {
        self.cached_filtered(layers, coord, None)
    }

    /// The filtered tile from the cache, if it is there (no rendering).
    pub fn cached_filtered(
        &self,
        layers: &[Arc<Layer>],
        coord: TileCoord,
        filter: Option<&TileFilter>,
    ) -> Option<Arc<CachedTile>> {
        self.cache
            .as_ref()?
            .get(&TileKey::new(layers, coord, filter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{LayerSettings, next_generation};

    /// Points spread over a z4 tile, several to a pixel in places.
    fn points() -> Layer {
        let features: Vec<String> = (0..400)
            .map(|i| {
                let lon = 60.0 + f64::from(i % 20) * 0.7 + f64::from(i) * 1e-4;
                let lat = 25.0 + f64::from(i / 20) * 0.6;
                format!(
                    r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},"properties":{{"n":{i}}}}}"#
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.geojson");
        std::fs::write(
            &path,
            format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",")
            ),
        )
        .unwrap();
        crate::catalog::load_layer(&LayerSettings {
            id: "p".into(),
            file: path,
            ..LayerSettings::default()
        })
        .unwrap()
    }

    /// The same features as a later generation, as a write makes it.
    fn written(layer: &Layer) -> Layer {
        let mut next = layer.clone();
        next.generation = next_generation();
        next
    }

    fn tiler(quiet: Duration) -> Tiler {
        let config = TileServerConfig {
            cache_mib: 0,
            ..TileServerConfig::default()
        };
        // A budget small enough that the tiles below are thinned (from the pyramid when
        // there is one).
        let budget = TileLayerConfig {
            max_features: 40,
            ..TileLayerConfig::default()
        };
        Tiler::new(config)
            .with_layers([("p".to_owned(), budget)])
            .with_pyramid_quiet(quiet)
    }

    #[test]
    fn a_layer_written_in_quick_succession_is_prepared_without_its_pyramid_until_quiet() {
        let layer = points();
        let busy = tiler(Duration::from_secs(3600));
        assert!(busy.prepared(&layer).pyramid().is_some());
        let first = written(&layer);
        assert!(busy.prepared(&first).pyramid().is_none());
        let second = written(&first);
        assert!(busy.prepared(&second).pyramid().is_none());
        assert!(busy.prepared(&second).pyramid().is_none());

        let quiet = tiler(Duration::from_millis(30));
        assert!(quiet.prepared(&layer).pyramid().is_some());
        let later = written(&layer);
        assert!(quiet.prepared(&later).pyramid().is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert!(quiet.prepared(&later).pyramid().is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(quiet.prepared(&written(&later)).pyramid().is_some());
    }

    #[test]
    fn tiles_without_the_pyramid_are_those_with_it() {
        let layer = points();
        let with = tiler(Duration::ZERO);
        let without = tiler(Duration::from_secs(3600));
        without.prepared(&layer);
        let next = Arc::new(written(&layer));
        assert!(without.prepared(&next).pyramid().is_none());
        assert!(with.prepared(&next).pyramid().is_some());
        for (z, x, y) in [(4, 10, 6), (5, 21, 12), (6, 42, 25), (2, 2, 1), (0, 0, 0)] {
            let coord = with
                .parse_coord(&z.to_string(), &x.to_string(), &y.to_string())
                .unwrap();
            let (a, _) = with.tile(std::slice::from_ref(&next), coord).unwrap();
            let (b, _) = without.tile(std::slice::from_ref(&next), coord).unwrap();
            assert!(
                !a.mvt.is_empty() || (z, x, y) == (2, 2, 1),
                "{z}/{x}/{y} empty"
            );
            if (z, x, y) == (4, 10, 6) {
                let report = &a.layers[0];
                assert!(report.thinned && report.features <= 40, "{report:?}");
            }
            assert_eq!(a.mvt, b.mvt, "{z}/{x}/{y}");
        }
    }

    #[test]
    fn only_prepared_pyramid_tiles_within_the_feature_budget_render_light() {
        let layer = Arc::new(points());
        let one = std::slice::from_ref(&layer);
        let coord = |t: &Tiler, z: u8, x: u32, y: u32| {
            t.parse_coord(&z.to_string(), &x.to_string(), &y.to_string())
                .unwrap()
        };
        let t = tiler(Duration::ZERO);
        let c = coord(&t, 4, 10, 6);
        // Not prepared yet: preparing is the pool's work.
        assert!(!t.renders_light(one, c, None));
        t.prepared(&layer);
        assert!(t.renders_light(one, c, None));
        assert!(t.renders_light(&[Arc::clone(&layer), Arc::clone(&layer)], c, None));
        // The column at the antimeridian is gathered, not read from the pyramid.
        assert!(!t.renders_light(one, coord(&t, 4, 0, 6), None));
        // A later generation is not prepared until a render asks for it.
        let next = Arc::new(written(&layer));
        assert!(!t.renders_light(std::slice::from_ref(&next), c, None));

        // Written in quick succession: prepared without its pyramid.
        let busy = tiler(Duration::from_secs(3600));
        busy.prepared(&layer);
        busy.prepared(&next);
        assert!(!busy.renders_light(std::slice::from_ref(&next), c, None));

        let with = |cfg: TileLayerConfig| {
            let t = Tiler::new(TileServerConfig::default()).with_layers([("p".to_owned(), cfg)]);
            t.prepared(&layer);
            t
        };
        // No feature budget, or more than the light work's together: the pool's.
        let unbounded = with(TileLayerConfig {
            max_features: 0,
            ..TileLayerConfig::default()
        });
        assert!(!unbounded.renders_light(one, c, None));
        let half = with(TileLayerConfig {
            max_features: LIGHT_FEATURES / 2 + 1,
            ..TileLayerConfig::default()
        });
        assert!(half.renders_light(one, c, None));
        assert!(!half.renders_light(&[Arc::clone(&layer), Arc::clone(&layer)], c, None));
        // Clustered zooms are gathered; above them, the pyramid is read.
        let mut clustered = TileLayerConfig::default();
        clustered.cluster.enabled = true;
        clustered.cluster.max_zoom = 5;
        let clustered = with(clustered);
        assert!(!clustered.renders_light(one, c, None));
        assert!(clustered.renders_light(one, coord(&clustered, 6, 42, 25), None));
        // Below a layer's minzoom it has nothing to render.
        let late = with(TileLayerConfig {
            minzoom: 8,
            max_features: 0,
            ..TileLayerConfig::default()
        });
        assert!(late.renders_light(one, c, None));
    }
}
