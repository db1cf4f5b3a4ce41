//! Cells of the levels finer than those the pyramid keeps, formed from its points.
//!
//! Owns: counting a region's cells at every level from its base to the finest in one pass
//! over the points of the finest level, and the first cells by position of such a level
//! chosen as the cells are formed, through the bounded heap of [`super::order`], without
//! listing them; the others are formed again only when asked for
//! ([`Pyramid::take_rest`]), which a dense tile never does.

use std::ops::Range;

use super::order::{self, Rest, Thinning};
use super::{FINEST, Kept, Level, Pyramid, Region, common_level};

impl Pyramid {
    /// The region's cells at the finest level (index ranges) and the number of its cells at
    /// each level `region.base..=FINEST` (index: level minus the base), counted from them.
    pub(super) fn fine_counts(&self, region: &Region) -> (Vec<Range<usize>>, Vec<usize>) {
        let shift = 2 * (FINEST - region.base);
        let ranges: Vec<Range<usize>> = self.points.ranges(&region.ranges, shift).collect();
        let mut counts = vec![0usize; (FINEST - region.base + 1) as usize];
        let mut starts = vec![0usize; counts.len() + 1];
        for r in &ranges {
            if r.is_empty() {
                continue;
            }
            starts[0] += 1;
            for w in self.points.codes[r.clone()].windows(2) {
                let common = common_level(w[0], w[1]);
                let from = if common < region.base {
                    0
                } else {
                    common + 1 - region.base
                };
                starts[from as usize] += 1;
            }
        }
        let mut sum = 0;
        for (count, start) in counts.iter_mut().zip(starts) {
            sum += start;
            *count = sum;
        }
        (ranges, counts)
    }

    /// The first `prefix` by position of the `cells` cells `up` bits coarser than the finest
    /// level formed from its cells at `ranges` (a level finer than those kept), and the
    /// others to be formed again by [`Self::take_rest`].
    pub(super) fn first_fine_cells(
        &self,
        up: u32,
        ranges: Vec<Range<usize>>,
        cells: usize,
        prefix: usize,
    ) -> Thinning {
        let finest = &self.points;
        let mut smallest = order::Smallest::new(prefix);
        for range in &ranges {
            merged_cells(finest, range.clone(), up, |_, kept| {
                smallest.offer(kept.pos, kept.finest);
            });
        }
        let head = smallest
            .indices()
            .into_iter()
            .map(|i| cell_of(finest, i as usize, up))
            .collect();
        Thinning::split(head, cells, |after| Rest::Fine { up, ranges, after })
    }

    /// The cells `up` bits coarser than the finest level in the finest level's `ranges`
    /// whose point comes after position `after`, in no order.
    pub(super) fn fine_rest(&self, up: u32, ranges: Vec<Range<usize>>, after: u32) -> Vec<Kept> {
        let mut out = Vec::new();
        for range in ranges {
            merged_cells(&self.points, range, up, |_, kept| {
                if kept.pos > after {
                    out.push(kept);
                }
            });
        }
        out
    }
}

/// Calls `cell` with the code and the kept point of each cell `up` bits coarser than
/// `level`, formed from its cells at `range` (in code order, within one cell of the region's
/// base level, so that no coarser cell spans two ranges): the point of smallest position,
/// standing for the points of all of them.
pub(super) fn merged_cells(
    level: &Level,
    range: Range<usize>,
    up: u32,
    mut cell: impl FnMut(u64, Kept),
) {
    let Range { start, end } = range;
    if start >= end {
        return;
    }
    // The current cell: where it starts, its code, and its cell of smallest position.
    let (mut run, mut code, mut best) = (start, level.codes[start] >> up, start);
    for i in start + 1..end {
        let next = level.codes[i] >> up;
        if next != code {
            cell(code, kept_of_run(level, run..i, best));
            (run, code, best) = (i, next, i);
        } else if level.first[i] < level.first[best] {
            best = i;
        }
    }
    cell(code, kept_of_run(level, run..end, best));
}

/// The kept point of the cell made of `level`'s cells `run`, the first of which by
/// position is `best`.
fn kept_of_run(level: &Level, run: Range<usize>, best: usize) -> Kept {
    Kept {
        count: level.cum[run.end] - level.cum[run.start],
        ..level.kept(best)
    }
}

/// The kept point of the cell `up` bits coarser than the finest level whose first point by
/// position is that of the finest cell `i`.
fn cell_of(finest: &Level, i: usize, up: u32) -> Kept {
    let code = finest.codes[i] >> up;
    let start = finest.codes.partition_point(|&c| c >> up < code);
    let end = finest.codes.partition_point(|&c| c >> up <= code);
    kept_of_run(finest, start..end, i)
}
