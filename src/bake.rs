//! `khorasan-atlas bake`: the vector tiles of some layers, exactly as the server serves them,
//! written into one PMTiles v3 archive for static hosting or a CDN.
//!
//! Owns: choosing the tiles ([`crate::tiles::cover`]), rendering each through the server's own
//! [`crate::tiles::Tiler`] (the same bytes `/tiles/{layers}/{z}/{x}/{y}` sends, gzip as
//! served), the archive (the `pmtiles` crate's writer: Hilbert-ordered directories,
//! deduplicated tiles, TileJSON `vector_layers` as metadata), the progress bar and the summary.
//! Empty tiles are left out of the archive, as PMTiles requires; a reader answers them as
//! missing, which map clients draw as empty.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use pmtiles::{Compression, PmTilesWriter, TileType};

use crate::catalog::Layer;
use crate::http::AppState;
use crate::tiles::coord::TileCoord;
use crate::tiles::cover::{Covered, covering_tiles};
use crate::tiles::tilejson::tilejson;

/// What to bake.
#[derive(Debug, Clone)]
pub struct BakeOptions {
    /// The archive to write (replaced atomically when done).
    pub out: PathBuf,
    /// Layer ids, in MVT layer order; empty: every layer served as tiles.
    pub layers: Vec<String>,
    pub minzoom: u8,
    /// Default: the largest `maxzoom` of the chosen layers' tile settings, within the server's
    /// `tiles.max_zoom`.
    pub maxzoom: Option<u8>,
}

/// What a bake did.
#[derive(Debug, Clone, PartialEq)]
pub struct BakeSummary {
    /// Tiles written (non-empty).
    pub tiles: u64,
    /// Tiles rendered empty and left out.
    pub empty: u64,
    /// Bytes of the archive.
    pub bytes: u64,
    pub seconds: f64,
    pub minzoom: u8,
    pub maxzoom: u8,
}

impl std::fmt::Display for BakeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tiles (z{}-z{}, {} empty left out), {} bytes, {:.1} s",
            self.tiles, self.minzoom, self.maxzoom, self.empty, self.bytes, self.seconds
        )
    }
}

type BoxError = Box<dyn std::error::Error>;

/// Bakes `options.layers` of `state` into `options.out`, with a progress bar on a terminal.
///
/// # Errors
/// An unknown or tile-less layer, a zoom beyond the server's limit, a tile that fails to
/// render, or the archive that cannot be written.
pub fn bake(state: &AppState, options: &BakeOptions) -> Result<BakeSummary, BoxError> {
    let started = Instant::now();
    let layers = chosen_layers(state, &options.layers)?;
    let tiler = &state.tiler;
    let server_max = state.config.tiles.max_zoom;
    let maxzoom = options.maxzoom.unwrap_or_else(|| {
        layers
            .iter()
            .map(|l| tiler.layer_config(l.id()).maxzoom)
            .max()
            .unwrap_or(0)
            .min(server_max)
    });
    if maxzoom > server_max || options.minzoom > maxzoom {
        return Err(format!(
            "zooms {}-{maxzoom}: the server serves 0-{server_max}, and minzoom must not exceed maxzoom",
            options.minzoom
        )
        .into());
    }
    let covered: Vec<Covered<'_>> = layers
        .iter()
        .map(|l| {
            let cfg = tiler.layer_config(l.id());
            Covered {
                layer: l,
                buffer: f64::from(cfg.buffer) / f64::from(cfg.extent),
            }
        })
        .collect();
    let mut tiles = covering_tiles(&covered, options.minzoom, maxzoom);
    tiles.sort_by_key(|t| tile_id(*t));

    let part = options.out.with_extension("pmtiles.part");
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .precompressed(Compression::Gzip)
        .internal_compression(Compression::Gzip)
        .min_zoom(options.minzoom)
        .max_zoom(maxzoom)
        .metadata(metadata(state, &layers)?.to_string())
        .create(BufWriter::new(File::create(&part)?))?;
    if let Some([w, s, e, n]) = extent(&layers) {
        writer.set_bounds(w, s, e, n);
    }
    let progress = progress_bar(tiles.len() as u64);
    let (mut written, mut empty) = (0_u64, 0_u64);
    for coord in tiles {
        let (tile, _) = tiler.tile(&layers, coord)?;
        if tile.is_empty() {
            empty += 1;
        } else {
            writer.add_tile(
                pmtiles::TileCoord::new(coord.z, coord.x, coord.y)?,
                &tile.gzip(),
            )?;
            written += 1;
        }
        progress.inc(1);
    }
    writer.finalize()?;
    progress.finish_and_clear();
    std::fs::rename(&part, &options.out)?;
    Ok(BakeSummary {
        tiles: written,
        empty,
        bytes: std::fs::metadata(&options.out)?.len(),
        seconds: started.elapsed().as_secs_f64(),
        minzoom: options.minzoom,
        maxzoom,
    })
}

/// The layers to bake, in the order asked (every tile layer when none is named).
fn chosen_layers(state: &AppState, ids: &[String]) -> Result<Vec<Arc<Layer>>, BoxError> {
    let enabled = |l: &Arc<Layer>| state.tiler.layer_config(l.id()).enabled;
    if ids.is_empty() {
        return Ok(state
            .catalog
            .layers
            .iter()
            .map(|h| h.snapshot())
            .filter(enabled)
            .collect());
    }
    ids.iter()
        .map(|id| {
            let layer = state.catalog.get(id)?.snapshot();
            if enabled(&layer) {
                Ok(layer)
            } else {
                Err(format!("layer {id} is not served as tiles").into())
            }
        })
        .collect()
}

/// The TileJSON of the layers (as `/tiles/{layers}` gives it), without tile URLs: PMTiles
/// readers use its `vector_layers`.
fn metadata(state: &AppState, layers: &[Arc<Layer>]) -> Result<serde_json::Value, BoxError> {
    let refs: Vec<&Layer> = layers.iter().map(AsRef::as_ref).collect();
    let mut doc = tilejson(&refs, "", &state.tiler);
    let object = doc.as_object_mut().ok_or("TileJSON is not an object")?;
    object.remove("tiles");
    Ok(doc)
}

/// The union of the layers' extents, `[w, s, e, n]`.
fn extent(layers: &[Arc<Layer>]) -> Option<[f64; 4]> {
    layers.iter().filter_map(|l| l.extent).reduce(|a, b| {
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    })
}

/// The PMTiles tile id (Hilbert order within a zoom), the order the archive reads best in.
fn tile_id(t: TileCoord) -> u64 {
    pmtiles::TileCoord::new(t.z, t.x, t.y).map_or(u64::MAX, |c| pmtiles::TileId::from(c).value())
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} tiles, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}
