//! The tile settings: `[server.tiles]`, `[layers.tiles]` and `[layers.tiles.cluster]`.
//!
//! Owns: the settings types as the configuration file spells them (every key optional,
//! unknown keys refused), their defaults and their range checks. Reading files, flags and
//! the environment is the configuration's job; using the settings is the tile pipeline's.

use serde::Deserialize;

use super::budget::{self, Budget};
use super::cluster::{CLUSTER_ZOOM_LIMIT, MAX_CELLS_PER_TILE};
use super::coord;
use crate::error::{Error, Result};

/// `[server.tiles]`: tile settings of the whole server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TileServerConfig {
    /// Largest zoom served; larger `z` is a 400. Default 22, at most 30.
    pub max_zoom: u8,
    /// Memory for cached tiles (encoded and gzip), in MiB. 0 disables the cache.
    /// Default 256.
    pub cache_mib: u64,
    /// `Cache-Control: max-age` of tiles, in seconds. Default 3600.
    pub max_age: u32,
}

impl Default for TileServerConfig {
    fn default() -> Self {
        Self {
            // Building level; ZOOM_LIMIT (30) is the most any configuration may ask for.
            max_zoom: coord::DEFAULT_MAX_ZOOM,
            // The weight of a tile counts its MVT bytes and the gzip copy (see `cache`).
            cache_mib: 256,
            // One hour; a changed layer changes the tile's ETag, so revalidation is cheap.
            max_age: 3600,
        }
    }
}

impl TileServerConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.max_zoom > coord::ZOOM_LIMIT {
            return Err(Error::Config(format!(
                "server.tiles.max_zoom {} must be at most {}",
                self.max_zoom,
                coord::ZOOM_LIMIT
            )));
        }
        Ok(())
    }
}

/// `[layers.tiles]`: how one layer is tiled. Every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TileLayerConfig {
    /// Whether the layer is served as tiles. Default true.
    pub enabled: bool,
    /// Smallest zoom at which the layer has features; below it its tiles are empty.
    /// Default 0.
    pub minzoom: u8,
    /// Largest zoom advertised in TileJSON (clients overzoom past it); tiles up to the
    /// server's `tiles.max_zoom` are still served. Default 14.
    pub maxzoom: u8,
    /// Tile units per tile side. Default 4096.
    pub extent: u32,
    /// Tile units drawn around the tile so that symbols and strokes are not cut at tile
    /// edges. Default 64.
    pub buffer: u32,
    /// Simplification tolerance in tile units (with extent 4096 and 512 px tiles, 8 units
    /// are one screen pixel). 0 keeps every vertex. Default 8.
    pub simplify: f64,
    /// Polygons (and rings) smaller than this many tile units² are dropped. Default 64
    /// (about one screen pixel²).
    pub min_area: f64,
    /// Most features of this layer in one tile (0: no limit); more are thinned by density.
    /// Default 20000.
    pub max_features: usize,
    /// Most bytes of this layer in one tile, uncompressed (0: no limit); larger layers are
    /// thinned further. Default 400000, which keeps tiles under 500 KB.
    pub max_bytes: usize,
    /// Point clustering. Default off.
    pub cluster: ClusterConfig,
}

impl Default for TileLayerConfig {
    fn default() -> Self {
        Self {
            // Every layer is a tileset unless it opts out.
            enabled: true,
            // Visible from the whole-world tile.
            minzoom: 0,
            // Past it clients scale the z14 tiles.
            maxzoom: 14,
            // The usual MVT extent: 8 units per pixel of a 512 px tile.
            extent: 4096,
            // One screen pixel is 8 units, so 8 pixels of margin.
            buffer: 64,
            // One screen pixel.
            simplify: 8.0,
            // One screen pixel².
            min_area: 64.0,
            // See `budget::DEFAULT_MAX_FEATURES`.
            max_features: budget::DEFAULT_MAX_FEATURES,
            // See `budget::DEFAULT_MAX_BYTES`.
            max_bytes: budget::DEFAULT_MAX_BYTES,
            // Off: points are drawn one by one.
            cluster: ClusterConfig::default(),
        }
    }
}

impl TileLayerConfig {
    /// Checks ranges; messages name the layer and the key.
    pub fn validate(&self, layer: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("layer {layer:?}: tiles.{what}")));
        if self.minzoom > self.maxzoom || self.maxzoom > coord::ZOOM_LIMIT {
            return bad(&format!(
                "minzoom <= maxzoom <= {} is required",
                coord::ZOOM_LIMIT
            ));
        }
        if !(256..=1 << 16).contains(&self.extent) {
            return bad("extent must be in 256..=65536");
        }
        if self.buffer > self.extent / 2 {
            return bad("buffer must be at most half the extent");
        }
        if !(self.simplify.is_finite() && self.simplify >= 0.0) {
            return bad("simplify must be a non-negative number");
        }
        if !(self.min_area.is_finite() && self.min_area >= 0.0) {
            return bad("min_area must be a non-negative number");
        }
        self.cluster.validate(layer)
    }

    /// The feature and byte budget.
    pub fn budget(&self) -> Budget {
        Budget {
            max_features: self.max_features,
            max_bytes: self.max_bytes,
        }
    }
}

/// `[layers.tiles.cluster]`: point clustering of one layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Whether points are clustered at zooms up to `max_zoom`. Default false.
    pub enabled: bool,
    /// Cluster radius in screen pixels: the side of a grid cell. Default 50.
    pub radius: f64,
    /// Screen pixels of one tile side as the client draws it: 512 for MapLibre, 256 for
    /// Leaflet. Converts `radius` to tile units. Default 512.
    pub tile_size: u32,
    /// Largest zoom with clusters; above it every point is its own feature. Default 12,
    /// at most 15.
    pub max_zoom: u8,
    /// Fewest points in a cell that make a cluster. Default 2.
    pub min_points: usize,
    /// Numeric properties summed over a cluster's points, written under the same name.
    /// Default none.
    pub sum: Vec<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            // Opt-in: clusters hide individual points.
            enabled: false,
            // 10 cells per side of a 512 px tile.
            radius: 50.0,
            // MapLibre's tile size.
            tile_size: 512,
            // City level; closer in, points are few enough to draw one by one.
            max_zoom: 12,
            // Any two points sharing a cell become a cluster.
            min_points: 2,
            // Only `point_count` unless sums are asked for.
            sum: Vec::new(),
        }
    }
}

impl ClusterConfig {
    /// Checks ranges; the message names the key.
    pub fn validate(&self, layer: &str) -> Result<()> {
        if !(self.radius.is_finite() && self.radius > 0.0) {
            return Err(Error::Config(format!(
                "layer {layer:?}: tiles.cluster.radius must be a positive number of pixels"
            )));
        }
        if self.max_zoom > CLUSTER_ZOOM_LIMIT {
            return Err(Error::Config(format!(
                "layer {layer:?}: tiles.cluster.max_zoom must be at most {CLUSTER_ZOOM_LIMIT}"
            )));
        }
        if self.tile_size == 0 || self.min_points == 0 {
            return Err(Error::Config(format!(
                "layer {layer:?}: tiles.cluster.tile_size and min_points must be positive"
            )));
        }
        Ok(())
    }

    /// Cells per tile side.
    pub fn cells_per_tile(&self) -> u32 {
        let n = (f64::from(self.tile_size) / self.radius).round();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped"
        )]
        let n = n.clamp(1.0, f64::from(MAX_CELLS_PER_TILE)) as u32;
        n
    }

    /// Whether clustering applies at zoom `z`.
    pub fn applies(&self, z: u8) -> bool {
        self.enabled && z <= self.max_zoom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_defaults_are_documented_values() {
        let cfg = ClusterConfig::default();
        assert_eq!(cfg.cells_per_tile(), 10);
        assert!(!cfg.applies(0));
        assert!(cfg.validate("x").is_ok());
        assert!(
            ClusterConfig {
                max_zoom: 16,
                ..cfg
            }
            .validate("x")
            .is_err()
        );
    }

    #[test]
    fn layer_defaults_pass_their_checks() {
        let cfg = TileLayerConfig::default();
        assert!(cfg.validate("x").is_ok());
        let budget = cfg.budget();
        assert_eq!(budget.max_features, budget::DEFAULT_MAX_FEATURES);
        assert_eq!(budget.max_bytes, budget::DEFAULT_MAX_BYTES);
        assert!(TileServerConfig::default().validate().is_ok());
        let deep = TileLayerConfig { maxzoom: 31, ..cfg };
        assert!(deep.validate("x").is_err());
    }
}
