//! The point pyramid of a layer: density thinning of point tiles without visiting every
//! point of the tile.
//!
//! Owns: [`Pyramid`], made once per layer snapshot (with the layer's [`super::PreparedLayer`])
//! for layers whose features are all single points, and the thinning of one tile from it.
//!
//! The budget's thinning ([`super::budget::thin`]) lays a grid of `side` cells (a power of
//! two) over the tile, keeps the first point of each occupied cell (points by position in
//! the layer) and counts the points of the cell. Such a grid is the quadtree grid of level
//! `z + log2(side)` of the whole world, so the pyramid keeps, for every level up to a
//! memory cap, the occupied cells in Morton order with their point count and their first
//! point. A tile then reads only the cells of its region at the chosen level: the counts of
//! a few levels are found by binary searches, and the cells kept are at most the budget.
//! Levels finer than the cap (tiles of higher zooms, with fewer points) are read from the
//! finest level, the points themselves in Morton order: one pass over the points of the
//! tile counts the cells of every level, a second one makes the chosen level's cells.
//!
//! The region of a tile is the tile and its buffer. The buffer is a whole number of cells
//! of the level `z + b` where `b` is the smallest with `buffer * 2^b / extent` whole (6 for
//! the default 64 units of 4096): at that level and finer ones the region is an exact union
//! of cells (the tile as one range of Morton codes, the ring of the buffer cell by cell);
//! coarser cells that stick out of the buffer are counted from the level `z + b` cells
//! inside it, so counts and first points are those of the buffered tile, exactly as the
//! budget computes them from the tile's candidates. A point exactly on the outer edge of the
//! buffer belongs to the region in the budget's computation and not here.
//!
//! Tiles the pyramid cannot answer (`None`): across the antimeridian, a buffer not a dyadic
//! fraction of the extent, an extent not a power of two, zooms or thinning levels finer
//! than the levels kept; the caller then gathers the candidates as usual.

mod fine;
mod level;
mod listing;
mod order;

use level::{Level, coarser, finest_level};
use order::Rest;
pub use order::{Thinning, sort_by_position};

use std::ops::Range;

use super::coord::TileCoord;
use super::grid::{FINEST, morton, quantize, tile_and_ring};
use crate::catalog::{Layer, Shape};
use crate::geom::mercator::lonlat_to_merc;

/// Largest `b` (buffer level below the tile) answered; the ring has `4 * 2^b * r` cells.
const MAX_BUFFER_LEVEL: u32 = 8;

/// Cells kept at the levels below the finest together: at least this many, at most one per
/// two points above it (16 bytes each).
const MIN_CELL_BUDGET: usize = 1 << 16;

/// Occupied quadtree cells of a point layer at each level up to a cap and at the finest
/// level, with their counts and first points.
#[derive(Debug)]
pub struct Pyramid {
    /// Levels `0..=top`.
    levels: Vec<Level>,
    /// Level [`FINEST`]: each distinct point position.
    points: Level,
    /// The points that share their cell of [`FINEST`] with a point of smaller position (the
    /// same place): `(index of the cell there, position)`, by cell, then position.
    shared: Vec<(u32, u32)>,
    /// By feature position: the index in the finest level of its point's cell
    /// ([`NOT_IN_PYRAMID`] for a feature without one), by which the points of a region
    /// are listed in order of position from a bitmap of their positions
    /// ([`Self::listed`]).
    finest_of: Vec<u32>,
    /// When the id of every point's feature is its position plus one offset (ids numbered
    /// in file order, as many files have them): that offset, by which a tile knows a
    /// point's id without reading its feature.
    id_offset: Option<u64>,
}

/// The cells of a tile and its buffer at the level `z + b` ([`Pyramid::region`]).
#[derive(Debug, Clone)]
pub struct Region {
    z: u32,
    /// `z + b`.
    base: u32,
    /// Half-open Morton code ranges at level `base`, disjoint, in code order: the tile and
    /// the cells of its buffer ring.
    ranges: Vec<(u64, u64)>,
}

/// Where the cells of the level a tile is thinned at come from, found while they are
/// counted ([`Pyramid::thin_partly`]) and read from there without searching again.
enum Source {
    /// A level the pyramid keeps: the region's cells there, as index ranges.
    Stored(Vec<Range<usize>>),
    /// A level finer than those kept, formed from the finest level's cells at these index
    /// ranges (the region's there).
    Fine(Vec<Range<usize>>),
    /// A level coarser than the region's base: its cells, formed from the base's.
    Coarse(Vec<Cell>),
}

/// What the points' ids and positions have in common, so far.
#[derive(Debug, Clone, Copy)]
enum IdOffset {
    Unknown,
    /// Every id is its position plus this.
    All(u64),
    Mixed,
}

impl IdOffset {
    /// The offset with one more point's id less its position (`None` when below it).
    fn and(self, offset: Option<u64>) -> Self {
        match (self, offset) {
            (Self::Unknown, Some(o)) => Self::All(o),
            (Self::All(a), Some(o)) if a == o => self,
            _ => Self::Mixed,
        }
    }
}

/// A cell: Morton code, and the point kept for it.
type Cell = (u64, Kept);

/// A point kept for a tile: the cell of a level that it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Its feature's position in the layer.
    pub pos: u32,
    /// Points of its cell.
    pub count: u32,
    /// Its index in the pyramid's finest level ([`Pyramid::code`]), or [`NOT_IN_PYRAMID`].
    pub finest: u32,
}

/// [`Kept::finest`] of a point without an index in the finest level: its place is then read
/// from its feature.
pub const NOT_IN_PYRAMID: u32 = u32::MAX;

impl Kept {
    /// The point kept for this cell and `other` merged: the one of smaller position,
    /// standing for the points of both.
    fn absorb(&mut self, other: Kept) {
        if other.pos < self.pos {
            self.pos = other.pos;
            self.finest = other.finest;
        }
        self.count += other.count;
    }
}

/// The finest level at which two codes of level [`FINEST`] are in the same cell, or
/// [`FINEST`] when they are equal.
fn common_level(a: u64, b: u64) -> u32 {
    let x = a ^ b;
    if x == 0 {
        FINEST
    } else {
        let high = 63 - x.leading_zeros();
        FINEST - 1 - high / 2
    }
}

impl Pyramid {
    /// The pyramid of `layer`, when every feature is a single point (features without
    /// geometry are left out) in the Web Mercator range.
    pub fn new(layer: &Layer) -> Option<Self> {
        let mut points: Vec<(u64, u32)> = Vec::with_capacity(layer.features.live());
        // The offset of ids from positions while they all have the same one.
        let mut id_offset = IdOffset::Unknown;
        for (pos, f) in layer.features.iter() {
            match &f.geometry {
                Shape::Point(p) => {
                    id_offset =
                        id_offset.and(f.id.checked_sub(u64::try_from(pos).unwrap_or(u64::MAX)));
                    let [mx, my] = lonlat_to_merc(p.x(), p.y());
                    if !((0.0..=1.0).contains(&mx) && (0.0..=1.0).contains(&my)) {
                        return None;
                    }
                    let pos = u32::try_from(pos).ok()?;
                    points.push((morton(quantize(mx), quantize(my)), pos));
                }
                other if other.is_empty_collection() => {}
                Shape::Other(_) => return None,
            }
        }
        if points.is_empty() || u32::try_from(points.len()).is_err() {
            return None;
        }
        points.sort_unstable();
        // Cells per level: a point starts a new cell at every level finer than the one it
        // shares with the point before it.
        let mut starts = [0usize; FINEST as usize + 2];
        for w in points.windows(2) {
            starts[common_level(w[0].0, w[1].0) as usize + 1] += 1;
        }
        let mut cells = [0usize; FINEST as usize];
        let mut new = 0;
        for (level, n) in cells.iter_mut().enumerate() {
            new += starts[level];
            *n = 1 + new;
        }
        let budget = (points.len() / 2).max(MIN_CELL_BUDGET);
        let mut top = 0;
        let mut total = 0;
        for (level, &n) in cells.iter().enumerate() {
            total += n;
            if total > budget && level > 0 {
                break;
            }
            top = level;
        }
        let mut finest = finest_level(&points, FINEST as usize);
        let finest_of = listing::finest_of(&points, layer.features.slots());
        let mut shared = listing::shared_positions(&points);
        shared.shrink_to_fit();
        drop(points);
        let mut levels: Vec<Level> = Vec::with_capacity(top + 1);
        levels.push(coarser(&finest, 2 * (FINEST as usize - top)));
        for _ in 0..top {
            let next = levels.last().map(|l| coarser(l, 2));
            levels.extend(next);
        }
        levels.reverse();
        for level in levels.iter_mut().chain(std::iter::once(&mut finest)) {
            level.codes.shrink_to_fit();
            level.cum.shrink_to_fit();
            level.first.shrink_to_fit();
            level.finest.shrink_to_fit();
        }
        Some(Self {
            levels,
            points: finest,
            shared,
            finest_of,
            id_offset: match id_offset {
                IdOffset::All(offset) => Some(offset),
                IdOffset::Unknown | IdOffset::Mixed => None,
            },
        })
    }

    /// The id of the feature of the point at `pos`, when ids follow positions (see
    /// `id_offset`).
    pub fn id_of(&self, pos: u32) -> Option<u64> {
        self.id_offset.map(|offset| offset + u64::from(pos))
    }

    /// Whether feature ids follow positions ([`Self::id_of`] answers for every point).
    pub fn ids_follow_positions(&self) -> bool {
        self.id_offset.is_some()
    }

    /// Bytes the pyramid holds.
    pub fn heap_bytes(&self) -> usize {
        std::iter::once(&self.points)
            .chain(&self.levels)
            .map(|l| {
                l.codes.capacity() * 8
                    + (l.cum.capacity() + l.first.capacity() + l.finest.capacity()) * 4
            })
            .sum::<usize>()
            + self.shared.capacity() * 8
            + self.finest_of.capacity() * 4
    }

    /// The finest level kept besides [`FINEST`].
    fn top(&self) -> u32 {
        u32::try_from(self.levels.len()).unwrap_or(1) - 1
    }

    /// The stored level at or finer than `level` closest to it.
    fn stored(&self, level: u32) -> (u32, &Level) {
        match self.levels.get(level as usize) {
            Some(l) => (level, l),
            None => (FINEST, &self.points),
        }
    }

    /// Whether a pyramid answers the tile `coord` with a buffer of `buffer` units of
    /// `extent` ([`Self::region`] is then `Some`), without making its region.
    pub fn answers(coord: TileCoord, extent: u32, buffer: u32) -> bool {
        buffer_cells(coord, extent, buffer).is_some()
    }

    /// The region of the tile `coord` with a buffer of `buffer` units of `extent`, or `None`
    /// when the pyramid cannot answer this tile.
    pub fn region(&self, coord: TileCoord, extent: u32, buffer: u32) -> Option<Region> {
        let (b, ring) = buffer_cells(coord, extent, buffer)?;
        let z = u32::from(coord.z);
        let base = z + b;
        let mut ranges = tile_and_ring(z, (coord.x, coord.y), b, ring);
        // In code order (as made), for the galloping searches of `Level::ranges`, cells
        // next to each other in it as one range.
        ranges.dedup_by(|next, range| {
            let joined = range.1 == next.0;
            if joined {
                range.1 = next.1;
            }
            joined
        });
        Some(Region { z, base, ranges })
    }

    /// The number of points in `region`.
    pub fn count(&self, region: &Region) -> usize {
        let (at, level) = self.stored(region.base);
        let shift = 2 * (at - region.base);
        level
            .ranges(&region.ranges, shift)
            .map(|r| (level.cum[r.end] - level.cum[r.start]) as usize)
            .sum()
    }

    /// The cells of `region` at `level`, by code within each range of the region.
    fn cells(&self, region: &Region, level: u32) -> Vec<Cell> {
        if level < region.base {
            return coarse_cells(&self.cells(region, region.base), 2 * (region.base - level));
        }
        let (at, stored) = self.stored(level);
        let shift = 2 * (at - region.base);
        let up = 2 * (at - level);
        let (ranges, cells) = stored.ranges_and_cells(&region.ranges, shift);
        let mut out: Vec<Cell> = Vec::with_capacity(cells);
        for range in ranges {
            fine::merged_cells(stored, range, up, |code, kept| out.push((code, kept)));
        }
        out
    }

    /// The code of the point at index `finest` of the finest level (0 when there is none).
    pub fn code(&self, finest: u32) -> u64 {
        self.points.codes.get(finest as usize).copied().unwrap_or(0)
    }

    /// The kept point of each of the `cells` cells of the chosen `level`, read from
    /// `source`, at most `max` by position, with only the first `prefix` in order when
    /// `prefix` is not 0 (see [`order::by_position`]). From a stored level, or one formed
    /// from the finest, only those first are read or formed when that is worth it: the others
    /// are when [`Self::take_rest`] is asked for them.
    fn kept_by_position(
        &self,
        level: u32,
        source: Source,
        cells: usize,
        max: usize,
        prefix: usize,
    ) -> Thinning {
        let heap = cells <= max && order::worth_a_heap(prefix, cells);
        match source {
            Source::Stored(ranges) => {
                let stored = &self.levels[level as usize];
                if heap {
                    return Self::first_cells(stored, level, ranges, cells, prefix);
                }
                let mut kept = Vec::with_capacity(cells);
                for range in ranges {
                    kept.extend(range.map(|i| stored.kept(i)));
                }
                order::by_position(kept, max, prefix)
            }
            Source::Fine(ranges) => {
                let up = 2 * (FINEST - level);
                if heap {
                    return self.first_fine_cells(up, ranges, cells, prefix);
                }
                let mut kept = Vec::with_capacity(cells);
                for range in ranges {
                    fine::merged_cells(&self.points, range, up, |_, k| kept.push(k));
                }
                order::by_position(kept, max, prefix)
            }
            Source::Coarse(cells) => {
                order::by_position(cells.into_iter().map(|(_, k)| k).collect(), max, prefix)
            }
        }
    }

    /// The first `prefix` of the `cells` cells in `ranges` of the stored `level` by
    /// position, and the others to be read by [`Self::take_rest`].
    fn first_cells(
        stored: &Level,
        level: u32,
        ranges: Vec<Range<usize>>,
        cells: usize,
        prefix: usize,
    ) -> Thinning {
        let mut smallest = order::Smallest::new(prefix);
        for range in &ranges {
            smallest.offer_all(&stored.first[range.clone()], range.start);
        }
        let head = smallest
            .indices()
            .into_iter()
            .map(|i| stored.kept(i as usize))
            .collect();
        Thinning::split(head, cells, |after| Rest::Cells {
            level,
            ranges,
            after,
        })
    }

    /// The kept points of `thinning` after its head, in no order, taken out of it.
    pub fn take_rest(&self, thinning: &mut Thinning) -> Vec<Kept> {
        match std::mem::replace(&mut thinning.rest, Rest::None) {
            Rest::None => Vec::new(),
            Rest::Listed(rest) => rest,
            Rest::Fine { up, ranges, after } => self.fine_rest(up, ranges, after),
            Rest::Cells {
                level,
                ranges,
                after,
            } => {
                let (_, stored) = self.stored(level);
                let mut out = Vec::with_capacity(thinning.total - thinning.head.len());
                for range in ranges {
                    out.extend(
                        range
                            .filter(|&i| stored.first[i] > after)
                            .map(|i| stored.kept(i)),
                    );
                }
                out
            }
        }
    }

    /// The thinning of [`super::budget::thin`] for the `n` points of `region` with at most
    /// `max` kept and tile units of `extent`: `(position, points of its cell)` by position.
    /// `None` when the pyramid cannot answer.
    pub fn thin(&self, region: &Region, n: usize, max: usize, extent: u32) -> Option<Vec<Kept>> {
        self.thin_partly(region, n, max, extent, 0)
            .map(|thinning| thinning.head)
    }

    /// [`Self::thin`] with only the first `prefix` kept points put in order (all of them
    /// when `prefix` is 0); the others all come after those, and a caller that may need
    /// only the first few asks for the rest ([`Self::take_rest`]) only if it needs them.
    pub fn thin_partly(
        &self,
        region: &Region,
        n: usize,
        max: usize,
        extent: u32,
        prefix: usize,
    ) -> Option<Thinning> {
        let max = max.max(1);
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the same grid size as the budget's"
        )]
        let start = ((n as f64).sqrt() * 2.0).max(1.0) as u32;
        let side = start
            .next_power_of_two()
            .min(extent.max(1).next_power_of_two());
        let mut level = region.z + side.trailing_zeros();
        if level > FINEST {
            return None;
        }
        let top = self.top();
        // Levels finer than the kept ones have at least as many cells as the finest kept:
        // when that one is already over the budget, so are they, and the search goes on
        // below it (or ends there, at the tile's own level).
        if level > top && top >= region.base {
            let shift = 2 * (top - region.base);
            let (ranges, cells) = self.levels[top as usize].ranges_and_cells(&region.ranges, shift);
            if cells > max {
                if top == region.z {
                    let source = Source::Stored(ranges);
                    return Some(self.kept_by_position(top, source, cells, max, prefix));
                }
                level = top - 1;
            }
        }
        // The counts of the levels finer than the kept ones, all found in one pass.
        let mut fine: Option<(Vec<Range<usize>>, Vec<usize>)> = None;
        let (cells, source) = loop {
            let done = |cells: usize| cells <= max || level == region.z;
            if level >= region.base && level <= top {
                let shift = 2 * (level - region.base);
                let stored = &self.levels[level as usize];
                let (ranges, cells) = stored.ranges_and_cells(&region.ranges, shift);
                if done(cells) {
                    break (cells, Source::Stored(ranges));
                }
            } else if level >= region.base {
                let (ranges, counts) = fine.get_or_insert_with(|| self.fine_counts(region));
                let cells = counts[(level - region.base) as usize];
                if done(cells) {
                    break (cells, Source::Fine(std::mem::take(ranges)));
                }
            } else {
                let cells = self.cells(region, level);
                if done(cells.len()) {
                    break (cells.len(), Source::Coarse(cells));
                }
            }
            level -= 1;
        };
        Some(self.kept_by_position(level, source, cells, max, prefix))
    }
}

/// The buffer of the tile `coord` (`buffer` units of `extent`) as `(b, ring)`: a ring of
/// `ring` cells of the level `z + b`, or `None` when a pyramid cannot answer the tile (an
/// extent not a power of two, a buffer not a whole number of cells of a level kept, the
/// buffer across the antimeridian).
fn buffer_cells(coord: TileCoord, extent: u32, buffer: u32) -> Option<(u32, u32)> {
    if !extent.is_power_of_two() || buffer >= extent {
        return None;
    }
    let b = (0..=MAX_BUFFER_LEVEL)
        .find(|&b| (u64::from(buffer) << b).is_multiple_of(u64::from(extent)))?;
    let ring = u32::try_from((u64::from(buffer) << b) / u64::from(extent)).ok()?;
    let base = u32::from(coord.z) + b;
    if base > FINEST {
        return None;
    }
    let side = 1u32 << b;
    let x0 = coord.x << b;
    let world = 1u64 << base;
    if x0 < ring || u64::from(x0 + side + ring) > world {
        return None;
    }
    Some((b, ring))
}

/// Cells merged into cells `shift` bits coarser, in code order.
fn coarse_cells(cells: &[Cell], shift: u32) -> Vec<Cell> {
    let mut cells: Vec<Cell> = cells.iter().map(|&(c, k)| (c >> shift, k)).collect();
    radsort::sort_by_key(&mut cells, |c| c.0);
    let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
    for (code, kept) in cells {
        match out.last_mut() {
            Some(last) if last.0 == code => last.1.absorb(kept),
            _ => out.push((code, kept)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton_codes_nest_by_level() {
        let (x, y) = (0x1234_5678 & 0x7FFF_FFFF, 0x0765_4321);
        let code = morton(x, y);
        for level in 0..=FINEST {
            let shift = FINEST - level;
            assert_eq!(code >> (2 * shift), morton(x >> shift, y >> shift));
        }
        assert_eq!(common_level(code, code), FINEST);
        assert_eq!(common_level(morton(0, 0), morton(1 << 30, 0)), 0);
        assert_eq!(common_level(morton(0, 0), morton(1, 0)), FINEST - 1);
    }
}
