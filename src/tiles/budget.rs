//! The per-tile budget: at most so many features and bytes per layer of a tile.
//!
//! Owns: thinning by density. When a layer of a tile has more candidates than its budget,
//! a grid is laid over the tile and each occupied cell keeps one feature (the first in the
//! caller's priority order: larger polygons and longer lines first, points by id); the grid
//! coarsens (cells double) until the kept features fit. Dense areas lose more than sparse
//! ones, so the tile still shows where the data is. Each kept feature learns how many
//! candidates its cell held, which the renderer writes as the `represents` property, and
//! the renderer reports the thinning (features before and after) so that it is never
//! silent. The byte budget is enforced by the renderer, which thins further and re-encodes
//! when an encoded layer is too large.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use serde::Deserialize;

/// Default most features per layer of a tile.
pub const DEFAULT_MAX_FEATURES: usize = 20_000;
/// Default most bytes (uncompressed MVT) per layer of a tile.
pub const DEFAULT_MAX_BYTES: usize = 400_000;

/// The budget of one layer (keys of `[layers.tiles]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Most features of this layer in one tile; 0 means no limit. Default 20000.
    pub max_features: usize,
    /// Most bytes (uncompressed MVT) of this layer in one tile; 0 means no limit.
    /// Default 400000, which keeps tiles under 500 KB.
    pub max_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_features: DEFAULT_MAX_FEATURES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Thins `points` (representative positions in tile units, in priority order) to at most
/// `max` (at least 1). Returns `(index into points, number of candidates its cell held)`,
/// in input order. Returns every point with count 1 when they already fit.
pub fn thin(points: &[[f64; 2]], max: usize, extent: u32) -> Vec<(usize, u32)> {
    let max = max.max(1);
    if points.len() <= max {
        return (0..points.len()).map(|i| (i, 1)).collect();
    }
    // Start with a grid fine enough to separate most points (about 2 sqrt(n) cells per
    // side, at most one tile unit per cell), then coarsen until the kept ones fit.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small grid sizes"
    )]
    let start = ((points.len() as f64).sqrt() * 2.0).max(1.0) as u32;
    let mut side = start
        .next_power_of_two()
        .min(extent.max(1).next_power_of_two());
    let cell = |side: u32, p: [f64; 2]| -> (i64, i64) {
        let size = f64::from(extent) / f64::from(side);
        #[expect(clippy::cast_possible_truncation, reason = "tile units are small")]
        let c = ((p[0] / size).floor() as i64, (p[1] / size).floor() as i64);
        c
    };
    // cell -> (kept index, count)
    let mut cells: HashMap<(i64, i64), (usize, u32), RandomState> =
        HashMap::with_capacity_and_hasher(points.len().min(1 << 20), RandomState::default());
    for (i, &p) in points.iter().enumerate() {
        let e = cells.entry(cell(side, p)).or_insert((i, 0));
        e.1 += 1;
    }
    while cells.len() > max && side > 1 {
        side /= 2;
        let mut coarser: HashMap<(i64, i64), (usize, u32), RandomState> =
            HashMap::with_capacity_and_hasher(cells.len() / 2, RandomState::default());
        for ((cx, cy), (i, n)) in cells {
            let e = coarser
                .entry((cx.div_euclid(2), cy.div_euclid(2)))
                .or_insert((i, 0));
            e.0 = e.0.min(i);
            e.1 += n;
        }
        cells = coarser;
    }
    let mut kept: Vec<(usize, u32)> = cells.into_values().collect();
    kept.sort_unstable();
    kept.truncate(max);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_shape_and_counts_everything() {
        // A dense blob of 10000 points and 10 lone points far away.
        let mut pts = Vec::new();
        for i in 0..10_000 {
            pts.push([100.0 + f64::from(i % 100), 100.0 + f64::from(i / 100)]);
        }
        for i in 0..10 {
            pts.push([2000.0 + f64::from(i) * 200.0, 3000.0]);
        }
        let kept = thin(&pts, 200, 4096);
        assert!(kept.len() <= 200 && kept.len() > 10, "{}", kept.len());
        let total: u32 = kept.iter().map(|k| k.1).sum();
        assert_eq!(total as usize, pts.len());
        // The lone points survive; the blob is thinned.
        let lone = kept.iter().filter(|k| k.0 >= 10_000).count();
        assert_eq!(lone, 10);
    }

    #[test]
    fn nothing_is_thinned_under_budget() {
        let pts = vec![[1.0, 1.0]; 5];
        assert_eq!(thin(&pts, 5, 4096).len(), 5);
        assert_eq!(thin(&pts, 1, 4096), vec![(0, 5)]);
    }
}
