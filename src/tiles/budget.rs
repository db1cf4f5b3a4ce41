//! The per-tile budget: at most so many features and bytes per layer of a tile.
//!
//! Owns: thinning by density. When a layer of a tile has more candidates than its budget,
//! a grid is laid over the tile and each occupied cell keeps one feature (the first in the
//! caller's priority order: larger polygons and longer lines first, points by id); the grid
//! coarsens (cells double) until the kept features fit. Dense areas lose more than sparse
//! ones, so the tile still shows where the data is. Each kept feature learns how many
//! candidates its cell held, which the renderer writes as the `represents` property, and
//! the layer's [`LayerReport`] tells the thinning (features before and after) so that it is
//! never silent. The byte budget is enforced while encoding ([`encode_within_budget`]): an
//! encoded layer that grows too large, or whose first features project it well over the
//! budget, is thinned further and encoded again. A layer of points whose points surely
//! exceed the byte budget at the bytes a point of the layer takes (estimated once per
//! layer from a sample, [`super::encode::point_bytes`]) is thinned to what fits before the
//! first of them is encoded. The points of a point tile come from the
//! layer's pyramid (thinned) or its index (all of them), and a feature is read only when it
//! is encoded.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::cluster::Item;
use super::coord::TileCoord;
use super::encode::mvt::LayerEncoder;
use super::encode::values::{TileValues, ValueTable};
use super::encode::write_candidate;
use super::gather::{Candidate, LocatedPoint, PointTile};
use super::pyramid::{Kept, Thinning, sort_by_position};
use super::settings::TileLayerConfig;
use crate::catalog::{Layer, Prop};

/// Default most features per layer of a tile.
pub const DEFAULT_MAX_FEATURES: usize = 20_000;
/// Default most bytes (uncompressed MVT) per layer of a tile.
pub const DEFAULT_MAX_BYTES: usize = 400_000;

/// Encoding rounds of one layer at most: the last one ignores the byte budget's early stop.
const MAX_ROUNDS: usize = 8;

/// The budget of one layer (from the keys of `[layers.tiles]`, see
/// [`TileLayerConfig::budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most features of this layer in one tile; 0 means no limit.
    pub max_features: usize,
    /// Most bytes (uncompressed MVT) of this layer in one tile; 0 means no limit.
    pub max_bytes: usize,
}

/// What happened to one layer of a tile: never silent about thinning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerReport {
    pub id: String,
    /// Features (or clusters) that had geometry in the tile before the budget.
    pub candidates: usize,
    /// Features written.
    pub features: usize,
    /// Whether the budget thinned the layer (`features < candidates`).
    pub thinned: bool,
    /// Encoded bytes of the layer.
    pub bytes: usize,
}

impl LayerReport {
    /// The report of a layer with nothing in the tile.
    pub fn empty(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            candidates: 0,
            features: 0,
            thinned: false,
            bytes: 0,
        }
    }
}

/// Where the features of one layer of a tile come from.
pub enum Pool<'a> {
    /// Every candidate of the tile, gathered.
    Gathered(Vec<Candidate>),
    /// The points of a tile of a point layer, thinned from the layer's pyramid; gathered
    /// with the function when they all fit or the pyramid cannot thin them.
    Points(PointTile<'a>, Box<dyn FnOnce() -> Vec<Candidate> + 'a>),
}

impl Pool<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Gathered(c) => c.len(),
            Self::Points(p, _) => p.points,
        }
    }

    /// Whether every feature of the pool is a point of the layer (no cluster).
    fn points_only(&self) -> bool {
        match self {
            Self::Gathered(c) => c.iter().all(|c| matches!(c.what, Item::Point(_))),
            Self::Points(..) => true,
        }
    }
}

/// The features of one round of encoding: kept candidates, or kept points of a point tile
/// (made candidates as they are encoded), and how many each stands for.
enum Round<'c> {
    Refs(Vec<(&'c Candidate, u32)>),
    /// The kept points, only the first of them in order (the others come after them, and
    /// are listed and put in order only if they are encoded).
    Points(&'c PointTile<'c>, Thinning),
}

/// A chunk of features to encode: candidates, or located points of a point tile.
enum Chunk<'a, 'c> {
    Refs(&'a [(&'c Candidate, u32)]),
    Points(&'a [LocatedPoint]),
}

/// Encodes `candidates` as the MVT layer of `layer` within its budget (see
/// [`encode_pool_within_budget`]), with the bytes of a point estimated here.
pub fn encode_within_budget(
    layer: &Layer,
    cfg: &TileLayerConfig,
    candidates: Vec<Candidate>,
    coord: TileCoord,
) -> (LayerEncoder, LayerReport) {
    let point_bytes = super::encode::point_bytes(layer);
    encode_pool_within_budget(
        layer,
        cfg,
        Pool::Gathered(candidates),
        coord,
        Precomputed {
            values: None,
            point_bytes,
        },
    )
}

/// What a layer's preparation computed once for the encoding of its tiles.
#[derive(Debug, Clone, Copy, Default)]
pub struct Precomputed<'a> {
    /// The layer's encoded property values: the same layer, written faster.
    pub values: Option<&'a ValueTable>,
    /// The bytes a point of the layer takes in a tile ([`super::encode::point_bytes`]).
    pub point_bytes: Option<usize>,
}

/// Encodes the features of `pool` as the MVT layer of `layer` within its budget: when
/// there are more than `max_features`, thinned by density (larger shapes first, then
/// source order); when the encoded layer exceeds `max_bytes` (or is projected well over it,
/// see [`over_projection`]), thinned further to the count its bytes per
/// feature allow and encoded again, up to [`MAX_ROUNDS`] times. The
/// properties of features come from the prepared values when given (and no candidate is a
/// cluster). A layer of points whose points would not fit at the bytes a point takes
/// ([`Precomputed::point_bytes`]) is thinned to what fits at once, rather than after its first
/// features are encoded ([`PROBE`]).
pub fn encode_pool_within_budget(
    layer: &Layer,
    cfg: &TileLayerConfig,
    mut pool: Pool<'_>,
    coord: TileCoord,
    precomputed: Precomputed<'_>,
) -> (LayerEncoder, LayerReport) {
    let values = precomputed.values;
    let mut report = LayerReport::empty(layer.id());
    report.candidates = pool.len();
    let budget = cfg.budget();
    let mut limit = if budget.max_features == 0 {
        usize::MAX
    } else {
        budget.max_features
    };
    let sorted = report.candidates > limit || budget.max_bytes > 0;
    if let Pool::Gathered(candidates) = &mut pool
        && sorted
    {
        // Priority for thinning: larger shapes first, then source order.
        candidates.sort_by(|a, b| b.size.total_cmp(&a.size));
    }
    // A layer of points (no cluster among them) whose points surely exceed the byte
    // budget is thinned to what the estimate lets fit from the first round.
    let estimated = precomputed
        .point_bytes
        .filter(|&bytes| {
            budget.max_bytes > 0
                && pool.len().saturating_mul(bytes) > budget.max_bytes
                && pool.points_only()
        })
        .map(|bytes| fitting(budget.max_bytes, bytes as f64));
    if let Some(fit) = estimated {
        limit = limit.min(fit);
    }
    let mut round = 0;
    // Whether the points of a point tile were listed from the pyramid (once, when they may
    // all fit): features are then read only as they are encoded, so a layer over its byte
    // budget reads few of them.
    let mut listed = false;
    let encoder = loop {
        let mut encoder = LayerEncoder::new(layer.id(), cfg.extent);
        // Only the features the byte probe reads need be in order at first, in the first
        // round: a dense tile is thinned again after them. A later round is thinned to
        // what its bytes per feature let fit, so it is put in order at once.
        let probing = budget.max_bytes > 0 && round < MAX_ROUNDS - 1;
        let prefix = if probing && round == 0 && estimated.is_none() {
            PROBE
        } else {
            0
        };
        // The points of a point tile kept this round: thinned from the pyramid, or every
        // one listed.
        let mut points_kept = match &pool {
            Pool::Points(points, _) if points.points > limit => {
                points.thin_partly(limit, cfg.extent, prefix)
            }
            _ => None,
        };
        if points_kept.is_none() {
            if let Pool::Points(points, _) = &pool
                && !listed
                && points.points <= limit
            {
                listed = true;
                let all = points.listed(prefix);
                report.candidates = all.total;
                points_kept = Some(all);
            }
            points_kept = points_kept.filter(|all| all.total <= limit);
            pool = match pool {
                points @ Pool::Points(..) if points_kept.is_some() => points,
                Pool::Points(_, gather) => {
                    let candidates = gather();
                    report.candidates = candidates.len();
                    Pool::Gathered(candidates)
                }
                gathered @ Pool::Gathered(_) => gathered,
            };
        }
        let mut kept = match (&pool, points_kept) {
            (Pool::Points(points, _), Some(kept)) => Round::Points(points, kept),
            (Pool::Gathered(candidates), _) => Round::Refs(if candidates.len() > limit {
                let at: Vec<[f64; 2]> = candidates.iter().map(|c| c.at).collect();
                thin(&at, limit, cfg.extent)
                    .into_iter()
                    .map(|(i, n)| (&candidates[i], n))
                    .collect()
            } else {
                candidates.iter().map(|c| (c, 1)).collect()
            }),
            (Pool::Points(..), None) => Round::Refs(Vec::new()),
        };
        let kept_len = match &kept {
            Round::Refs(k) => k.len(),
            Round::Points(_, k) => k.total,
        };
        let thinned = kept_len < report.candidates;
        // Stop as soon as the byte budget is exceeded: the bytes per feature so far tell
        // how many features fit, so an oversized layer is never encoded in full (and the
        // points after that are never made candidates).
        let mut written = 0usize;
        let clusters = match &kept {
            Round::Refs(k) => k.iter().any(|(c, _)| matches!(c.what, Item::Cluster(_))),
            Round::Points(..) => false,
        };
        let mut table = values.filter(|_| !clusters).map(|v| {
            // The kept points of a point tile are distinct positions; gathered
            // candidates may hold a feature twice (across the antimeridian).
            let distinct = matches!(kept, Round::Points(..));
            TileValues::new(v, kept_len.min(MAX_RESERVED), distinct)
        });
        if table.is_some() {
            let bytes = if budget.max_bytes > 0 {
                budget.max_bytes + budget.max_bytes / 8
            } else {
                usize::MAX
            };
            let features = kept_len.min(MAX_RESERVED);
            encoder.reserve((features * 64).min(bytes), 2 * features);
        }
        // Points of a point tile are written straight from their positions when the
        // layer's values are encoded; otherwise they are made candidates.
        let direct = table.is_some();
        // Whether the layer is stopped after its `written`-th feature (checked every 64).
        let checks = budget.max_bytes > 0 && round < MAX_ROUNDS - 1;
        let stop = |encoder: &LayerEncoder, written: usize| {
            checks
                && written.is_multiple_of(64)
                && (encoder.size() > budget.max_bytes
                    || over_projection(encoder.size(), written, kept_len, budget.max_bytes))
        };
        let mut encode_chunk = |chunk: Chunk<'_, '_>| -> bool {
            match (&table, &chunk) {
                (Some(t), Chunk::Refs(refs)) => {
                    t.warm(refs.iter().filter_map(|(c, _)| match c.what {
                        Item::Point(pos) => Some(pos),
                        Item::Cluster(_) => None,
                    }))
                }
                (Some(t), Chunk::Points(points)) => t.warm(points.iter().map(|p| p.pos)),
                (None, Chunk::Refs(refs)) => warm(layer, refs),
                (None, Chunk::Points(_)) => {}
            }
            match (&mut table, &chunk) {
                (Some(tile), Chunk::Points(points)) => {
                    for p in *points {
                        let represents = thinned.then_some(p.represents);
                        tile.write_point(&mut encoder, layer, (p.pos, p.id), p.at, represents);
                        written += 1;
                        if stop(&encoder, written) {
                            return true;
                        }
                    }
                }
                (table, Chunk::Refs(refs)) => {
                    for &(c, represents) in *refs {
                        let represents = thinned.then_some(represents);
                        match (&mut *table, &c.what) {
                            (Some(tile), Item::Point(pos)) => {
                                tile.write(
                                    &mut encoder,
                                    layer,
                                    (*pos, c.id),
                                    &c.geometry,
                                    represents,
                                );
                            }
                            _ => write_candidate(&mut encoder, layer, cfg, c, represents),
                        }
                        written += 1;
                        if stop(&encoder, written) {
                            return true;
                        }
                    }
                }
                (None, Chunk::Points(points)) => written += points.len(),
            }
            false
        };
        let overflow = match &mut kept {
            Round::Refs(k) => k.chunks(WARM_CHUNK).any(|c| encode_chunk(Chunk::Refs(c))),
            Round::Points(points, k) => {
                let mut encode_points = |chunk: &[Kept]| {
                    if direct {
                        encode_chunk(Chunk::Points(&points.located(chunk)))
                    } else {
                        let owned = points.candidates(chunk);
                        let refs: Vec<(&Candidate, u32)> =
                            owned.iter().map(|(c, n)| (c, *n)).collect();
                        encode_chunk(Chunk::Refs(&refs))
                    }
                };
                // The head is a whole number of chunks (see `PROBE`).
                k.head.chunks(WARM_CHUNK).any(&mut encode_points) || {
                    let mut tail = points.take_rest(k);
                    sort_by_position(&mut tail);
                    tail.chunks(WARM_CHUNK).any(&mut encode_points)
                }
            }
        };
        report.features = encoder.len();
        report.thinned = thinned;
        let size = encoder.size();
        report.bytes = size;
        let fits = budget.max_bytes == 0 || (!overflow && size <= budget.max_bytes);
        if fits || kept_len <= 1 || round + 1 == MAX_ROUNDS {
            break encoder;
        }
        #[expect(clippy::cast_precision_loss, reason = "an estimate")]
        let per_feature = size as f64 / written.max(1) as f64;
        limit = fitting(budget.max_bytes, per_feature).min(kept_len - 1);
        round += 1;
    };
    if report.thinned {
        tracing::debug!(layer = %report.id, tile = %coord, candidates = report.candidates,
            features = report.features, "tile budget thinned the layer");
    }
    (encoder, report)
}

/// The features of `per_feature` bytes each that fit in `max_bytes`, with a tenth to
/// spare (a thinning keeps a little more or fewer than asked); at least one.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "an estimate"
)]
fn fitting(max_bytes: usize, per_feature: f64) -> usize {
    ((max_bytes as f64 / per_feature.max(1.0) * 0.9) as usize).max(1)
}

/// Features encoded before the layer's size is projected from them: a layer projected
/// to exceed its byte budget by half is thinned then, not after encoding up to the budget.
/// A multiple of [`WARM_CHUNK`]: the points read before it are sorted first.
const PROBE: usize = 256;

/// Whether a layer of `size` bytes after its first `written` features of `total` is
/// projected so far over `max_bytes` that it is thinned now: by half again after [`PROBE`]
/// features, by an eighth after [`SECOND_PROBE`], when the bytes per feature are closer
/// to the layer's.
fn over_projection(size: usize, written: usize, total: usize, max_bytes: usize) -> bool {
    let margin = match written {
        PROBE => max_bytes / 2,
        SECOND_PROBE => max_bytes / 8,
        _ => return false,
    };
    projected(size, written, total) > max_bytes + margin
}

/// Features encoded before the layer's size is projected a second time.
const SECOND_PROBE: usize = 8 * PROBE;

/// The bytes of `total` features at the bytes per feature of the first `written`: more
/// than the layer will take, as later features share more values with earlier ones.
fn projected(size: usize, written: usize, total: usize) -> usize {
    size.saturating_mul(total) / written.max(1)
}

/// Most features an encoder makes room for beforehand.
const MAX_RESERVED: usize = 1 << 16;

/// Features warmed at a time: few enough that they are still in the cache when encoded.
const WARM_CHUNK: usize = 128;

/// Reads every property of the features about to be encoded (and the first byte of their
/// strings), in a loop of independent loads: features far apart in memory then miss the
/// cache all at once rather than one by one while they are encoded.
fn warm(layer: &Layer, chunk: &[(&Candidate, u32)]) {
    let mut touched = 0usize;
    for (c, _) in chunk {
        if let Item::Point(pos) = c.what
            && let Some(f) = layer.features.get(pos)
        {
            for p in &f.props {
                touched += match p {
                    Prop::Str(s) => usize::from(s.as_bytes().first().copied().unwrap_or(0)),
                    Prop::Absent => 1,
                    _ => 0,
                };
            }
        }
    }
    std::hint::black_box(touched);
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
    fn layers_projected_over_the_budget_are_thinned_at_the_probes() {
        // 100 bytes a feature, 10,000 features: 1 MB projected against 400 KB.
        let at =
            |written: usize, total: usize| over_projection(100 * written, written, total, 400_000);
        assert!(at(PROBE, 10_000));
        assert!(at(SECOND_PROBE, 10_000));
        assert!(!at(PROBE + 64, 10_000), "only at the probes");
        // 5,000 features (500 KB): within half again at the first probe, not at the second.
        assert!(!at(PROBE, 5_000));
        assert!(at(SECOND_PROBE, 5_000));
        // 4,400 features (440 KB): within an eighth at both.
        assert!(!at(SECOND_PROBE, 4_400));
    }

    #[test]
    fn nothing_is_thinned_under_budget() {
        let pts = vec![[1.0, 1.0]; 5];
        assert_eq!(thin(&pts, 5, 4096).len(), 5);
        assert_eq!(thin(&pts, 1, 4096), vec![(0, 5)]);
    }
}
