//! The kept points of a tile by position, only as far as encoding reads them.
//!
//! Owns: [`Thinning`], the points a tile keeps with the first few by position in order and
//! the others listed only when asked for, and the choice of those first few. A layer whose
//! first few features project it over its byte budget is thinned again without the rest
//! ever being listed or ordered (see [`super::super::budget`]).

use std::collections::BinaryHeap;

use super::Kept;

/// The points kept for a tile: the first by position in order, and where the others are.
#[derive(Debug)]
pub struct Thinning {
    /// The first kept points by position, in order.
    pub head: Vec<Kept>,
    /// How many points are kept, the head included.
    pub total: usize,
    pub(super) rest: Rest,
}

/// The kept points after a [`Thinning`]'s head.
#[derive(Debug)]
pub(super) enum Rest {
    /// None: the head holds them all.
    None,
    /// Listed, in no order.
    Listed(Vec<Kept>),
    /// The cells at indices `ranges` of a stored `level` (a tile's region) whose point
    /// comes after the head's last, position `after`, read when asked for
    /// ([`super::Pyramid::take_rest`]).
    Cells {
        level: u32,
        ranges: Vec<std::ops::Range<usize>>,
        after: u32,
    },
    /// The cells `up` bits coarser than the finest level, formed from its cells at indices
    /// `ranges`, whose point comes after position `after` ([`super::Pyramid::fine_rest`]).
    Fine {
        up: u32,
        ranges: Vec<std::ops::Range<usize>>,
        after: u32,
    },
}

impl Thinning {
    /// Every kept point in order.
    pub fn all(kept: Vec<Kept>) -> Self {
        Self {
            total: kept.len(),
            head: kept,
            rest: Rest::None,
        }
    }

    /// `head` (in order) of `total` kept points, the others made by `rest` from the
    /// position of the head's last; the head alone when it holds them all.
    pub(super) fn split(head: Vec<Kept>, total: usize, rest: impl FnOnce(u32) -> Rest) -> Self {
        match head.last() {
            Some(last) if head.len() < total => {
                let rest = rest(last.pos);
                Self { head, total, rest }
            }
            _ => Self::all(head),
        }
    }
}

/// The `k` smallest of the positions offered, each with an index, kept in a bounded
/// max-heap: a position that does not beat the largest kept so far costs one comparison,
/// so a tile's thousands of cells cost about a pass over their positions, without moving
/// them. Positions are distinct.
pub(super) struct Smallest {
    heap: BinaryHeap<u64>,
    k: usize,
    /// The largest position kept once `k` are, else `u32::MAX`.
    largest: u32,
}

impl Smallest {
    pub(super) fn new(k: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(k),
            k,
            largest: u32::MAX,
        }
    }

    /// Offers the positions of `firsts`, the items at indices `start..`.
    pub(super) fn offer_all(&mut self, firsts: &[u32], start: usize) {
        for (&pos, index) in firsts.iter().zip(start..) {
            self.offer(pos, u32::try_from(index).unwrap_or(u32::MAX));
        }
    }

    /// Offers position `pos` of the item at `index`.
    #[inline]
    pub(super) fn offer(&mut self, pos: u32, index: u32) {
        if pos < self.largest {
            self.keep(pos, index);
        }
    }

    fn keep(&mut self, pos: u32, index: u32) {
        let key = (u64::from(pos) << 32) | u64::from(index);
        if self.heap.len() < self.k {
            self.heap.push(key);
            if self.heap.len() < self.k {
                return;
            }
        } else if let Some(mut top) = self.heap.peek_mut() {
            *top = key;
        }
        self.largest = self.heap.peek().map_or(u32::MAX, |&top| (top >> 32) as u32);
    }

    /// The indices of the items kept, by position.
    pub(super) fn indices(self) -> Vec<u32> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|key| (key & u64::from(u32::MAX)) as u32)
            .collect()
    }
}

/// Whether the first `prefix` of `cells` are better chosen from the cells where they lie
/// ([`Smallest`], the rest read again only if asked for) than from a list of them all
/// (`select_nth_unstable`). The heap wins when the rest is never asked for, as in a dense
/// tile that its first features project over its byte budget; a tile with fewer cells is
/// more likely to fit, and then listing them once costs less than the heap and a second
/// reading.
pub(super) fn worth_a_heap(prefix: usize, cells: usize) -> bool {
    prefix > 0 && cells >= HEAP_FROM * prefix
}

/// Cells per point of the prefix from which [`worth_a_heap`]: with 256 a prefix, 8,192
/// cells (chosen by instruction counts of the benchmark's tiles: 8 and 64 did worse).
const HEAP_FROM: usize = 32;

/// At most `max` of `kept` by position, with only the first `prefix` in order when
/// `prefix` is not 0 and all of them are kept.
pub(super) fn by_position(mut kept: Vec<Kept>, max: usize, prefix: usize) -> Thinning {
    if prefix > 0 && prefix < kept.len() && kept.len() <= max {
        let total = kept.len();
        kept.select_nth_unstable_by_key(prefix, |k| k.pos);
        let rest = kept.split_off(prefix);
        sort_by_position(&mut kept);
        return Thinning::split(kept, total, |_| Rest::Listed(rest));
    }
    // By position (each cell's first position is its own).
    sort_by_position(&mut kept);
    kept.truncate(max);
    Thinning::all(kept)
}

/// Kept points below which a comparison sort is faster than a radix sort, whose passes
/// over 256 buckets cost more than the sort of a few dozen points.
const RADIX_FROM: usize = 64;

/// Sorts `kept` (of distinct positions) by position: a radix sort, several times faster
/// than a comparison sort on the thousands of cells of a dense tile, and a comparison sort
/// on the few of a sparse one.
pub fn sort_by_position(kept: &mut [Kept]) {
    if kept.len() < RADIX_FROM {
        kept.sort_unstable_by_key(|k| k.pos);
    } else {
        radsort::sort_by_key(kept, |k| k.pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(pos: u32) -> Kept {
        Kept {
            pos,
            count: pos % 7 + 1,
            finest: pos * 3,
        }
    }

    /// Distinct positions in a scrambled order.
    fn scrambled(n: u32) -> Vec<u32> {
        (0..n).map(|i| (i * 7919 + 13) % (n * 2 + 1)).collect()
    }

    #[test]
    fn the_first_by_position_are_those_a_sort_puts_first() {
        for n in [0, 1, 5, 255, 256, 257, 1000, 20_000] {
            let positions = scrambled(n);
            let mut sorted = positions.clone();
            sorted.sort_unstable();
            for k in [1, 2, 64, 256, 5000] {
                let mut smallest = Smallest::new(k);
                smallest.offer_all(&positions, 0);
                let got: Vec<u32> = smallest
                    .indices()
                    .into_iter()
                    .map(|i| positions[i as usize])
                    .collect();
                assert_eq!(got, sorted[..k.min(sorted.len())], "n {n} k {k}");
            }
        }
    }

    #[test]
    fn kept_points_are_put_in_order_on_both_sides_of_the_radix_cut() {
        for n in [0, 1, 2, RADIX_FROM as u32 - 1, RADIX_FROM as u32, 300] {
            let mut got: Vec<Kept> = scrambled(n).into_iter().map(kept).collect();
            let mut expected = got.clone();
            expected.sort_by_key(|k| k.pos);
            sort_by_position(&mut got);
            assert_eq!(got, expected, "n {n}");
        }
    }

    #[test]
    fn head_and_rest_are_every_kept_point_once() {
        for n in [10u32, 256, 300, 4000] {
            let all: Vec<Kept> = scrambled(n).into_iter().map(kept).collect();
            let mut expected = all.clone();
            expected.sort_by_key(|k| k.pos);
            for prefix in [0, 1, 128, 256] {
                let t = by_position(all.clone(), usize::MAX, prefix);
                assert_eq!(t.total, all.len());
                let in_order = if prefix == 0 {
                    all.len()
                } else {
                    prefix.min(all.len())
                };
                assert_eq!(t.head, expected[..in_order], "n {n} prefix {prefix}");
                let mut rest = match t.rest {
                    Rest::None => Vec::new(),
                    Rest::Listed(rest) => rest,
                    Rest::Cells { .. } | Rest::Fine { .. } => {
                        panic!("a listed thinning has no cells to read")
                    }
                };
                rest.sort_by_key(|k| k.pos);
                assert_eq!(rest, expected[in_order..], "n {n} prefix {prefix}");
            }
            let t = by_position(all.clone(), 100, 256);
            let m = all.len().min(100);
            assert_eq!((t.total, t.head.as_slice()), (m, &expected[..m]));
        }
    }
}
