//! Every point of a tile's region, for a tile that may keep them all.
//!
//! Owns: listing a region's points from the finest level of the [`Pyramid`], where a cell
//! is one place, with the points that share a place with another ([`Pyramid::shared`])
//! listed each on its own, and finding those points when the pyramid is made.

use super::order::{self, Thinning};
use super::{FINEST, Kept, Pyramid, Region};

impl Pyramid {
    /// Every point of `region` as `(position, 1)`, with only the first `prefix` by
    /// position in order (all of them when `prefix` is 0, see [`Self::thin_partly`]):
    /// read from the finest level, whose cells are single points but for the few that
    /// share a place, whose other points are in `shared`.
    pub fn listed(&self, region: &Region, prefix: usize) -> Thinning {
        let finest = &self.points;
        let shift = 2 * (FINEST - region.base);
        let (ranges, cells) = finest.ranges_and_cells(&region.ranges, shift);
        let points: usize = ranges
            .iter()
            .map(|r| (finest.cum[r.end] - finest.cum[r.start]) as usize)
            .sum();
        if points == cells && order::worth_a_heap(prefix, cells) {
            return Self::first_cells(finest, FINEST, ranges, cells, prefix);
        }
        let mut all = Vec::with_capacity(points);
        for range in ranges {
            if points > cells {
                all.extend(self.shared_in(&range));
            }
            all.extend(range.map(|i| finest.single(i)));
        }
        order::by_position(all, usize::MAX, prefix)
    }

    /// The points of `shared` in the cells `range` of the finest level, each as a point of
    /// its own.
    fn shared_in(&self, range: &std::ops::Range<usize>) -> impl Iterator<Item = Kept> + '_ {
        let (start, end) = (range.start, range.end);
        let first = self
            .shared
            .partition_point(|&(cell, _)| (cell as usize) < start);
        self.shared[first..]
            .iter()
            .take_while(move |&&(cell, _)| (cell as usize) < end)
            .map(|&(cell, pos)| Kept {
                pos,
                count: 1,
                finest: cell,
            })
    }
}

/// The positions of the points, sorted by code then position, that share their code with
/// the point before them: `(index of their cell among the distinct codes, position)`.
pub(super) fn shared_positions(points: &[(u64, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut cell = 0u32;
    for w in points.windows(2) {
        if w[1].0 == w[0].0 {
            out.push((cell, w[1].1));
        } else {
            cell += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_places_are_the_points_after_the_first_of_their_cell() {
        let points = [(5, 0), (5, 3), (7, 1), (9, 2), (9, 4), (9, 6), (11, 5)];
        assert_eq!(shared_positions(&points), [(0, 3), (2, 4), (2, 6)]);
        assert!(shared_positions(&points[2..3]).is_empty());
    }
}
