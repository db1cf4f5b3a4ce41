//! One level of the point [`super::Pyramid`]: the occupied quadtree cells in Morton order
//! with their point counts and first points.
//!
//! Owns: [`Level`], its making (from the points sorted by code, [`finest_level`], and from
//! the level below, [`coarser`]) and its reading (the cells of a region's code ranges, found
//! by galloping searches; a cell as the point kept for it).

use std::ops::Range;

use super::{FINEST, Kept, NOT_IN_PYRAMID};

/// The occupied cells of one quadtree level, in Morton order.
#[derive(Debug, Default)]
pub(super) struct Level {
    pub(super) codes: Vec<u64>,
    /// `cum[i]`: points in the cells before cell `i` (one more entry than cells).
    pub(super) cum: Vec<u32>,
    /// The smallest feature position in each cell.
    pub(super) first: Vec<u32>,
    /// The index in the finest level of the point at that position (where its code is);
    /// empty at the finest level itself.
    pub(super) finest: Vec<u32>,
}

impl Level {
    /// The cells with codes in each of `ranges` (half-open code ranges at level `base`,
    /// sorted and disjoint, as a [`super::Region`] holds them) at this level, `shift` bits finer,
    /// as index ranges. The search for each range gallops on from the end of the one
    /// before: a tile's ring of small buffer ranges then costs a few steps each, in the
    /// part of the level already in the cache, instead of two binary searches of the whole
    /// level.
    pub(super) fn ranges<'a>(
        &'a self,
        ranges: &'a [(u64, u64)],
        shift: u32,
    ) -> impl Iterator<Item = Range<usize>> + 'a {
        let mut cursor = 0;
        ranges.iter().map(move |&(lo, hi)| {
            let a = gallop(&self.codes, cursor, lo << shift);
            let b = gallop(&self.codes, a, hi << shift);
            cursor = b;
            a..b
        })
    }

    /// [`Self::ranges`] collected, and the number of cells they hold.
    pub(super) fn ranges_and_cells(
        &self,
        ranges: &[(u64, u64)],
        shift: u32,
    ) -> (Vec<Range<usize>>, usize) {
        let ranges: Vec<Range<usize>> = self.ranges(ranges, shift).collect();
        let cells = ranges.iter().map(ExactSizeIterator::len).sum();
        (ranges, cells)
    }

    pub(super) fn count(&self, i: usize) -> u32 {
        self.cum[i + 1] - self.cum[i]
    }

    /// The first point of cell `i` as a point of its own, count 1: at the finest level,
    /// where a cell is one place, every point of the cell is listed so, the others from
    /// [`super::Pyramid::shared`].
    pub(super) fn single(&self, i: usize) -> Kept {
        Kept {
            pos: self.first[i],
            count: 1,
            finest: u32::try_from(i).unwrap_or(NOT_IN_PYRAMID),
        }
    }

    /// Cell `i` as the point kept for it.
    pub(super) fn kept(&self, i: usize) -> Kept {
        Kept {
            pos: self.first[i],
            count: self.count(i),
            finest: match self.finest.get(i) {
                Some(&finest) => finest,
                None => u32::try_from(i).unwrap_or(NOT_IN_PYRAMID),
            },
        }
    }
}

/// The first index at or after `from` whose code is at least `key`, in `codes` sorted
/// with every code before `from` below `key`: steps of 1, 2, 4... from `from`, then a
/// binary search in the last step.
fn gallop(codes: &[u64], from: usize, key: u64) -> usize {
    let (mut lo, mut hi, mut step) = (from, from, 1);
    while hi < codes.len() && codes[hi] < key {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    let hi = hi.min(codes.len());
    lo + codes[lo..hi].partition_point(|&c| c < key)
}

/// The cells of `level` from points sorted by their [`FINEST`]-level code.
pub(super) fn finest_level(points: &[(u64, u32)], level: usize) -> Level {
    let shift = 2 * (FINEST as usize - level);
    let mut out = Level::default();
    out.cum.push(0);
    let mut seen = 0u32;
    for &(code, pos) in points {
        let cell = code >> shift;
        seen += 1;
        if out.codes.last() == Some(&cell) {
            if let Some(first) = out.first.last_mut() {
                *first = (*first).min(pos);
            }
            if let Some(c) = out.cum.last_mut() {
                *c = seen;
            }
        } else {
            out.codes.push(cell);
            out.first.push(pos);
            out.cum.push(seen);
        }
    }
    out
}

/// The level `shift / 2` levels above `finer`.
pub(super) fn coarser(finer: &Level, shift: usize) -> Level {
    let mut out = Level::default();
    out.cum.push(0);
    for (i, &code) in finer.codes.iter().enumerate() {
        let cell = code >> shift;
        let end = finer.cum[i + 1];
        let kept = finer.kept(i);
        let last = out.codes.len().checked_sub(1);
        match last.filter(|&l| out.codes[l] == cell) {
            Some(l) => {
                let mut merged = out.kept(l);
                merged.absorb(kept);
                (out.first[l], out.finest[l], out.cum[l + 1]) = (merged.pos, merged.finest, end);
            }
            None => {
                out.codes.push(cell);
                out.first.push(kept.pos);
                out.finest.push(kept.finest);
                out.cum.push(end);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn galloping_finds_what_a_binary_search_finds() {
        let codes: Vec<u64> = (0..300u64).map(|i| i * 8 + i % 7).collect();
        for from in [0, 1, 5, 100, 299, 300] {
            for key in 0..2500u64 {
                let expected = codes.partition_point(|&c| c < key);
                if expected >= from {
                    assert_eq!(gallop(&codes, from, key), expected, "from {from} key {key}");
                }
            }
        }
        assert_eq!(gallop(&[], 0, 5), 0);
    }
}
