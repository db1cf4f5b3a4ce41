//! Rendering one tile of one or more layers, from prepared layers.
//!
//! Owns: the order of the stages for each layer (skip when disabled or below its
//! `minzoom`, gather, budget and encode) and the assembly of the layers into one tile. An
//! empty tile (no feature in any layer) renders as zero bytes. Keeping prepared layers and
//! rendered tiles between requests is [`super::cache`]'s job.

use bytes::Bytes;

use super::budget::{self, LayerReport};
use super::coord::TileCoord;
use super::encode::mvt::LayerEncoder;
use super::filter::{Keep, TileFilter};
use super::gather;
use super::settings::TileLayerConfig;
use super::simplify::PreparedLayer;
use crate::cancel::Cancel;
use crate::catalog::Layer;
use crate::error::{Error, Result};

/// An encoded tile.
#[derive(Debug, Clone)]
pub struct RenderedTile {
    /// MVT bytes; empty when no layer has a feature here.
    pub mvt: Bytes,
    pub layers: Vec<LayerReport>,
}

/// Renders one tile with one MVT layer per source layer (named by the layer id), in the
/// given order. Layers whose tiles are disabled or whose zoom range excludes `coord.z`
/// contribute nothing. Each prepared layer must be of its layer's generation.
pub fn render_prepared(
    layers: &[(&Layer, &TileLayerConfig, &PreparedLayer)],
    coord: TileCoord,
) -> Result<RenderedTile> {
    render_filtered(layers, coord, None)
}

/// [`render_prepared`] keeping only the features `filter` keeps (unclustered).
pub fn render_filtered(
    layers: &[(&Layer, &TileLayerConfig, &PreparedLayer)],
    coord: TileCoord,
    filter: Option<&TileFilter>,
) -> Result<RenderedTile> {
    render_cancellable(layers, coord, filter, &Cancel::never())
}

/// [`render_filtered`] giving up (with an error nobody reads) once `cancel` is raised:
/// it is looked at before each layer.
pub fn render_cancellable(
    layers: &[(&Layer, &TileLayerConfig, &PreparedLayer)],
    coord: TileCoord,
    filter: Option<&TileFilter>,
    cancel: &Cancel,
) -> Result<RenderedTile> {
    // The first layer written is the tile's buffer; the others are appended to it.
    let mut tile: Option<(Vec<u8>, usize)> = None;
    let mut reports = Vec::with_capacity(layers.len());
    for (i, (layer, cfg, prepared)) in layers.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(Error::Internal(format!("tile {coord} cancelled")));
        }
        if prepared.generation != layer.generation {
            return Err(Error::Internal(format!(
                "prepared layer {} is stale",
                layer.id()
            )));
        }
        let keep = filter.and_then(|f| f.keep.get(i));
        let (encoder, report) = render_layer(layer, cfg, prepared, coord, keep);
        if !encoder.is_empty() {
            match tile.as_mut() {
                Some((buf, _)) => encoder.finish(buf),
                None => tile = Some(encoder.into_layer()),
            }
        }
        reports.push(report);
    }
    // Shrunk in place (the buffer was made for the budget's estimate), then given out from
    // where the layer starts, without a copy.
    let mvt = tile.map_or_else(Bytes::new, |(mut buf, start)| {
        buf.shrink_to_fit();
        Bytes::from(buf).slice(start..)
    });
    Ok(RenderedTile {
        mvt,
        layers: reports,
    })
}

fn render_layer(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    coord: TileCoord,
    keep: Option<&Keep>,
) -> (LayerEncoder, LayerReport) {
    if !cfg.enabled || coord.z < cfg.minzoom {
        return (
            LayerEncoder::new(layer.id(), cfg.extent),
            LayerReport::empty(layer.id()),
        );
    }
    let pool = gather::pool(layer, cfg, prepared, coord, keep);
    let precomputed = budget::Precomputed {
        values: prepared.values(),
        point_bytes: prepared.point_bytes(),
    };
    budget::encode_pool_within_budget(layer, cfg, pool, coord, precomputed)
}
