//! Vector tiles: Web Mercator tiles of the catalog's layers, encoded as MVT 2.1, with the
//! TileJSON that describes them. Pure and synchronous: no HTTP here (the handlers are in
//! `crate::http::tiles`).
//!
//! The pipeline of one tile, one stage per module:
//! 1. [`coord`] - parse and check `z/x/y`; the tile's bounds and transform.
//! 2. [`gather`] - query the layer's R-tree with the buffered tile bounds (lon/lat); a tile
//!    on the antimeridian also takes what lies just across it into its buffer, shifted by a
//!    world. A layer of points has a [`pyramid`] (made once per layer snapshot) from which
//!    a dense tile is thinned without visiting every point under it.
//! 3. [`cluster`] - points become clusters on a global grid (when configured and `z` is at
//!    most the cluster max zoom).
//! 4. [`project`] - each feature into tile units, with:
//!    - [`simplify`] - vertices below the zoom's tolerance are skipped (importances are
//!      computed once per layer snapshot, see [`PreparedLayer`]);
//!    - [`clip`] - cut to the buffered tile, snap to integers, make polygons valid and
//!      wound for MVT, drop polygons under `min_area`, merge a feature's parts into one
//!      valid multipolygon.
//! 5. [`budget`] - thin by density when a layer exceeds its feature or byte budget,
//!    encoding with [`encode`] (properties) and [`encode::mvt`] (wire format); the
//!    property values of a prepared layer are encoded once per snapshot
//!    ([`encode::values`]) and copied into its tiles.
//! 6. [`render`] - the stages above for each requested layer, into one tile.
//! 7. [`cache`] - the [`Tiler`] keeps prepared layers and encoded (and gzip) tiles keyed by
//!    the layers' generations, so a changed layer can never be served from the cache.
//!
//! A filtered tile (a [`TileFilter`]) keeps only the features its predicate keeps, shows
//! them unclustered, and is cached under the filter's key as well.
//!
//! Alongside: [`settings`] (the `[server.tiles]` and `[layers.tiles]` settings) and
//! [`tilejson`] (TileJSON documents).
//!
//! An empty tile (no feature in any requested layer) renders as zero bytes; the HTTP layer
//! answers it with `204 No Content`, always.

pub mod budget;
pub mod cache;
pub mod clip;
pub mod cluster;
pub mod coord;
pub mod cover;
pub mod encode;
pub mod filter;
pub mod gather;
pub mod grid;
pub mod project;
pub mod pyramid;
pub mod render;
pub mod settings;
pub mod simplify;
pub mod tilejson;

pub use budget::LayerReport;
pub use cache::{CacheUsage, CachedTile, Tiler, tile_etag};
pub use filter::TileFilter;
pub use render::{RenderedTile, render_filtered, render_prepared};
pub use settings::{ClusterConfig, TileLayerConfig, TileServerConfig};
pub use simplify::PreparedLayer;
pub use tilejson::tilejson;
