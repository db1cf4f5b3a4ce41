//! A packed static R-tree over boxes or points in `D` dimensions.
//!
//! Items are ordered along a Hilbert curve of a 2-D position given for each (for the index:
//! lon/lat), then grouped [`NODE`] at a time into nodes; each level of nodes is grouped the
//! same way until one node remains. Every level is a flat array of boxes, so the tree is a
//! handful of allocations, about `D * 8 + 4` bytes per point item (twice the coordinates
//! for box items) plus a sixteenth of that for the nodes, and is never changed once built.
//!
//! Node `i` of a level covers entries `i * NODE .. (i + 1) * NODE` of the level below (the
//! items for the lowest level of nodes). Queries walk it depth-first ([`PackedTree::search`])
//! or best-first by distance ([`PackedTree::nearest`]); [`count`] counts and lists the first
//! positions without visiting every passing item.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, OnceLock};

mod count;
pub mod multi;

/// Children per node.
pub const NODE: usize = 16;

/// A box as its lowest and highest corners.
pub type Bounds<const D: usize> = ([f64; D], [f64; D]);

/// The tree: item coordinates in tree order, their positions, and the node levels.
#[derive(Debug, Clone, Default)]
pub struct PackedTree<const D: usize> {
    /// The lowest corner of each item (the item itself for points).
    min: Vec<[f64; D]>,
    /// The highest corner of each item; empty when every item is a point.
    max: Vec<[f64; D]>,
    /// The position each item stands for (shared with the trees made by
    /// [`Self::map_points`]).
    ids: Arc<[u32]>,
    /// Node boxes, lowest level first; the last level has one node.
    levels: Vec<Vec<Bounds<D>>>,
    /// The smallest position under each node, level by level as `levels`; made on the first
    /// walk in position order ([`Self::count_and_first`]).
    min_ids: OnceLock<Vec<Vec<u32>>>,
}

impl<const D: usize> PackedTree<D> {
    /// Builds the tree from items given as `(lowest corner, highest corner or None for a
    /// point, position)`, with `key[i]` the Hilbert key of item `i` ([`hilbert_keys`]). All
    /// items must be points or all boxes.
    pub fn build(
        min: Vec<[f64; D]>,
        max: Option<Vec<[f64; D]>>,
        ids: Vec<u32>,
        keys: &[u32],
    ) -> Self {
        let order = sort_order(keys);
        let min_sorted: Vec<[f64; D]> = order.iter().map(|&i| min[i as usize]).collect();
        drop(min);
        let max_sorted: Vec<[f64; D]> = max
            .map(|max| order.iter().map(|&i| max[i as usize]).collect())
            .unwrap_or_default();
        let ids_sorted: Vec<u32> = order.iter().map(|&i| ids[i as usize]).collect();
        drop(ids);
        let mut tree = Self {
            min: min_sorted,
            max: max_sorted,
            ids: ids_sorted.into(),
            levels: Vec::new(),
            min_ids: OnceLock::new(),
        };
        tree.build_levels();
        tree
    }

    /// A tree of points with the same order and positions, each point mapped by `f`
    /// (which should keep near points near, or queries slow down).
    pub fn map_points<const E: usize>(&self, f: impl Fn([f64; D]) -> [f64; E]) -> PackedTree<E> {
        let mut tree = PackedTree {
            min: self.min.iter().map(|&p| f(p)).collect(),
            max: Vec::new(),
            ids: Arc::clone(&self.ids),
            levels: Vec::new(),
            min_ids: OnceLock::new(),
        };
        tree.build_levels();
        tree
    }

    fn build_levels(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let items = self.ids.len();
        let mut level: Vec<Bounds<D>> = (0..items.div_ceil(NODE))
            .map(|node| {
                let range = node * NODE..((node + 1) * NODE).min(items);
                let mut b = (self.min[range.start], self.item_max(range.start));
                for i in range.skip(1) {
                    grow(&mut b, &(self.min[i], self.item_max(i)));
                }
                b
            })
            .collect();
        loop {
            let next: Vec<Bounds<D>> = level
                .chunks(NODE)
                .map(|children| {
                    let mut b = children[0];
                    for c in &children[1..] {
                        grow(&mut b, c);
                    }
                    b
                })
                .collect();
            let top = level.len() == 1;
            self.levels.push(level);
            if top {
                break;
            }
            level = next;
        }
    }

    fn item_max(&self, i: usize) -> [f64; D] {
        if self.max.is_empty() {
            self.min[i]
        } else {
            self.max[i]
        }
    }

    /// How many items the tree holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the tree holds no item.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The box of every item; `None` when there is none.
    pub fn bounds(&self) -> Option<Bounds<D>> {
        self.levels.last().and_then(|top| top.first()).copied()
    }

    /// The point of item `i` in tree order (its lowest corner).
    pub fn point(&self, i: usize) -> [f64; D] {
        self.min[i]
    }

    /// The box of item `i` in tree order (a point's box is the point).
    pub fn item_bounds(&self, i: usize) -> Bounds<D> {
        (self.min[i], self.item_max(i))
    }

    /// The position item `i` (in tree order) stands for.
    pub fn id(&self, i: usize) -> usize {
        self.ids[i] as usize
    }

    /// The items (their places in tree order, see [`Self::id`] and [`Self::point`]) whose
    /// box passes `hit`, which must also pass every node box holding such an item (a test
    /// of intersection with a region does).
    pub fn search<F>(&self, hit: F) -> Search<'_, D, F>
    where
        F: Fn(&[f64; D], &[f64; D]) -> bool,
    {
        let mut stack = Vec::new();
        if let Some(top) = self.levels.len().checked_sub(1) {
            stack.push((top, 0));
        }
        Search {
            tree: self,
            hit,
            stack,
            items: 0..0,
        }
    }

    /// Items by increasing squared distance from `q`, each with that squared distance.
    pub fn nearest(&self, q: [f64; D]) -> Nearest<'_, D> {
        let mut heap = BinaryHeap::new();
        if let Some(top) = self.levels.len().checked_sub(1) {
            heap.push(Entry {
                d2: 0.0,
                level: top + 1,
                index: 0,
            });
        }
        Nearest {
            tree: self,
            q,
            heap,
        }
    }

    /// The box of entry `index` of `level` (0: items, `l + 1`: node level `l`).
    fn entry_bounds(&self, level: usize, index: usize) -> Bounds<D> {
        match level.checked_sub(1) {
            None => (self.min[index], self.item_max(index)),
            Some(l) => self.levels[l][index],
        }
    }

    /// How many entries `level` has (0: items, `l + 1`: node level `l`).
    fn level_len(&self, level: usize) -> usize {
        match level.checked_sub(1) {
            None => self.ids.len(),
            Some(l) => self.levels[l].len(),
        }
    }
}

/// The squared distance from `q` to the farthest point of the box `(lo, hi)`.
pub fn max_distance_2<const D: usize>(q: &[f64; D], lo: &[f64; D], hi: &[f64; D]) -> f64 {
    let mut sum = 0.0;
    for d in 0..D {
        let gap = (q[d] - lo[d]).abs().max((hi[d] - q[d]).abs());
        sum += gap * gap;
    }
    sum
}

/// Grows `b` to hold `other`.
fn grow<const D: usize>(b: &mut Bounds<D>, other: &Bounds<D>) {
    for d in 0..D {
        b.0[d] = b.0[d].min(other.0[d]);
        b.1[d] = b.1[d].max(other.1[d]);
    }
}

/// The squared distance from `q` to the nearest point of the box `(lo, hi)`.
pub fn min_distance_2<const D: usize>(q: &[f64; D], lo: &[f64; D], hi: &[f64; D]) -> f64 {
    let mut sum = 0.0;
    for d in 0..D {
        let gap = (lo[d] - q[d]).max(q[d] - hi[d]).max(0.0);
        sum += gap * gap;
    }
    sum
}

/// Depth-first walk of a [`PackedTree`]; see [`PackedTree::search`].
pub struct Search<'a, const D: usize, F> {
    tree: &'a PackedTree<D>,
    hit: F,
    /// Nodes still to open, as `(node level, index)`.
    stack: Vec<(usize, usize)>,
    /// Items of the node being read, in tree order.
    items: std::ops::Range<usize>,
}

impl<const D: usize, F> Iterator for Search<'_, D, F>
where
    F: Fn(&[f64; D], &[f64; D]) -> bool,
{
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let tree = self.tree;
        loop {
            for i in self.items.by_ref() {
                if (self.hit)(&tree.min[i], &tree.item_max(i)) {
                    return Some(i);
                }
            }
            let (level, node) = self.stack.pop()?;
            let start = node * NODE;
            let end = (start + NODE).min(tree.level_len(level));
            if level == 0 {
                self.items = start..end;
            } else {
                // Pushed last first, so children are opened in tree order.
                for child in (start..end).rev() {
                    let (lo, hi) = &tree.levels[level - 1][child];
                    if (self.hit)(lo, hi) {
                        self.stack.push((level - 1, child));
                    }
                }
            }
        }
    }
}

/// An item or node waiting in [`Nearest`]'s queue, ordered nearest first.
#[derive(Debug, Clone, Copy)]
struct Entry {
    d2: f64,
    /// 0 for an item, `l + 1` for node level `l`.
    level: usize,
    index: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Entry {
    /// The entry's distance as an integer that orders as the distance does: squared
    /// distances are never negative (sums of squares, from 0.0), and the bits of such
    /// doubles order as their values. Cheaper to compare than `f64::total_cmp`.
    fn distance_key(&self) -> u64 {
        self.d2.to_bits()
    }
}

impl Ord for Entry {
    /// Reversed, so that the max-heap pops the nearest; at equal distance items first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .distance_key()
            .cmp(&self.distance_key())
            .then(other.level.cmp(&self.level))
            .then(other.index.cmp(&self.index))
    }
}

/// Best-first walk of a [`PackedTree`]; see [`PackedTree::nearest`].
pub struct Nearest<'a, const D: usize> {
    tree: &'a PackedTree<D>,
    q: [f64; D],
    heap: BinaryHeap<Entry>,
}

impl<const D: usize> Iterator for Nearest<'_, D> {
    type Item = (usize, f64);

    fn next(&mut self) -> Option<(usize, f64)> {
        let tree = self.tree;
        loop {
            let Entry { d2, level, index } = self.heap.pop()?;
            if level == 0 {
                return Some((tree.ids[index] as usize, d2));
            }
            let start = index * NODE;
            let end = (start + NODE).min(tree.level_len(level - 1));
            for child in start..end {
                let (lo, hi) = tree.entry_bounds(level - 1, child);
                self.heap.push(Entry {
                    d2: min_distance_2(&self.q, &lo, &hi),
                    level: level - 1,
                    index: child,
                });
            }
        }
    }
}

/// Hilbert keys (16 bits a side) of 2-D positions over their own extent, for
/// [`PackedTree::build`]: nearby positions get nearby keys.
pub fn hilbert_keys(positions: impl ExactSizeIterator<Item = [f64; 2]> + Clone) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in positions.clone() {
        for d in 0..2 {
            lo[d] = lo[d].min(p[d]);
            hi[d] = hi[d].max(p[d]);
        }
    }
    let cell = |v: f64, d: usize| -> u32 {
        let span = hi[d] - lo[d];
        if span > 0.0 {
            // In 0..=65535 for every finite position of the extent.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "clamped to 16 bits"
            )]
            let c = (((v - lo[d]) / span) * 65535.0).clamp(0.0, 65535.0) as u32;
            c
        } else {
            0
        }
    };
    positions
        .map(|p| hilbert(cell(p[0], 0), cell(p[1], 1)))
        .collect()
}

/// The distance along the Hilbert curve of order 16 of the cell `(x, y)`, both below 2^16.
pub fn hilbert(mut x: u32, mut y: u32) -> u32 {
    const LAST: u32 = (1 << 16) - 1;
    let mut d: u32 = 0;
    let mut s: u32 = 1 << 15;
    while s > 0 {
        let rx = u32::from(x & s != 0);
        let ry = u32::from(y & s != 0);
        d += s * s * ((3 * rx) ^ ry);
        // Turn the quadrant so that the curve inside it joins its neighbours.
        if ry == 0 {
            if rx == 1 {
                x = LAST - x;
                y = LAST - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

/// The permutation that sorts items by key (ties by their place, so the order is stable).
fn sort_order(keys: &[u32]) -> Vec<u32> {
    let mut pairs: Vec<u64> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (u64::from(k) << 32) | i as u64)
        .collect();
    pairs.sort_unstable();
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the low 32 bits are the place"
    )]
    pairs.into_iter().map(|p| p as u32).collect()
}

#[cfg(test)]
mod tests;
