//! The tiles of a zoom range that may hold something of some layers: what a bake renders.
//!
//! Owns: [`covering_tiles`], a descent from tile 0/0/0 that keeps a tile when a layer's index
//! has a feature envelope in the tile grown by that layer's buffer (the region the renderer
//! gathers from, [`super::gather`]), including what lies just across the antimeridian from a
//! tile at either edge of the world. A child's buffered region lies inside its parent's, so
//! a tile whose parent holds nothing is never looked at. Envelopes are coarser than
//! geometries: some kept tiles render empty, and the bake skips those.

use super::coord::TileCoord;
use crate::catalog::Layer;

/// A layer to cover, with its buffer as a fraction of the tile width.
pub struct Covered<'a> {
    pub layer: &'a Layer,
    pub buffer: f64,
}

/// The tiles from `minzoom` to `maxzoom` (each at most [`super::coord::ZOOM_LIMIT`]) where some
/// layer may draw, zoom by zoom, each zoom's tiles in row-major order.
pub fn covering_tiles(layers: &[Covered<'_>], minzoom: u8, maxzoom: u8) -> Vec<TileCoord> {
    let mut out = Vec::new();
    let mut frontier = vec![TileCoord { z: 0, x: 0, y: 0 }];
    for z in 0..=maxzoom {
        frontier.retain(|t| layers.iter().any(|c| holds_something(c, *t)));
        frontier.sort_by_key(|t| (t.y, t.x));
        if z >= minzoom {
            out.extend_from_slice(&frontier);
        }
        if z == maxzoom {
            break;
        }
        frontier = frontier
            .iter()
            .flat_map(|t| {
                let (x, y) = (t.x * 2, t.y * 2);
                [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)].map(|(x, y)| TileCoord {
                    z: z + 1,
                    x,
                    y,
                })
            })
            .collect();
    }
    out
}

/// Whether `c.layer` has a feature envelope in the buffered tile, or just across the
/// antimeridian from it.
fn holds_something(c: &Covered<'_>, t: TileCoord) -> bool {
    let [w, s, e, n] = t.buffered_bounds_lonlat(c.buffer);
    let any = |w: f64, e: f64| c.layer.index.in_envelope(w, s, e, n).next().is_some();
    if any(w, e) {
        return true;
    }
    let last = (1_u32 << t.z) - 1;
    let spill = c.buffer * 360.0 / t.scale();
    (t.x == 0 && spill > 0.0 && any(180.0 - spill, 180.0))
        || (t.x == last && spill > 0.0 && any(-180.0, -180.0 + spill))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::layer_of_geojson as layer_of;

    /// The tile of a lon/lat position at zoom `z`, computed directly.
    fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
        let n = f64::from(1_u32 << z);
        let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
        let rad = lat.to_radians();
        let y = ((1.0 - (rad.tan() + 1.0 / rad.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
            .floor() as u32;
        (x.min(n as u32 - 1), y.min(n as u32 - 1))
    }

    #[test]
    fn points_are_covered_by_their_own_tile_at_every_zoom_and_nothing_far_away() {
        let points = [(69.17, 34.53), (-74.0, 40.7), (151.2, -33.9)];
        let features: Vec<String> = points
            .iter()
            .map(|(x, y)| {
                format!(r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{x},{y}]}},"properties":{{}}}}"#)
            })
            .collect();
        let layer = layer_of(&format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ));
        let tiles = covering_tiles(
            &[Covered {
                layer: &layer,
                buffer: 0.0,
            }],
            2,
            9,
        );
        for z in 2..=9 {
            let at_z: Vec<(u32, u32)> = tiles
                .iter()
                .filter(|t| t.z == z)
                .map(|t| (t.x, t.y))
                .collect();
            let mut want: Vec<(u32, u32)> =
                points.iter().map(|(x, y)| tile_of(*x, *y, z)).collect();
            want.sort_by_key(|(x, y)| (*y, *x));
            assert_eq!(at_z, want, "zoom {z}");
        }
        assert!(tiles.iter().all(|t| t.z >= 2));
    }

    #[test]
    fn a_buffer_reaches_across_the_antimeridian() {
        let layer = layer_of(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[179.999,0.5]},"properties":{}}]}"#,
        );
        let covered = |buffer| {
            covering_tiles(
                &[Covered {
                    layer: &layer,
                    buffer,
                }],
                4,
                4,
            )
            .iter()
            .map(|t| t.x)
            .collect::<Vec<_>>()
        };
        assert_eq!(covered(0.0), vec![15]);
        assert_eq!(
            covered(1.0 / 64.0),
            vec![0, 15],
            "the seam's other side draws it too"
        );
    }
}
