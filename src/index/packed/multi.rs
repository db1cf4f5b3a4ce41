//! Best-first search over several [`PackedTree`]s at once, as if they were one tree: the
//! roots of all trees wait in one queue, so a tree is opened only as far as its boxes are
//! nearer than what the others still hold.

use std::collections::BinaryHeap;

use super::{Entry, NODE, PackedTree, min_distance_2};

/// Items of all `trees` by increasing squared distance from `q`, each as `(which tree,
/// its place in that tree's order, position, squared distance)`.
pub fn nearest_many<'a, const D: usize>(
    trees: Vec<&'a PackedTree<D>>,
    q: [f64; D],
) -> NearestMany<'a, D> {
    let mut heap = BinaryHeap::with_capacity(trees.len() * NODE * 2);
    for (t, tree) in trees.iter().enumerate() {
        if let Some((lo, hi)) = tree.bounds() {
            let root = Entry {
                d2: min_distance_2(&q, &lo, &hi),
                level: tree.levels.len(),
                index: 0,
            };
            heap.push((root, t));
        }
    }
    NearestMany { trees, q, heap }
}

/// See [`nearest_many`].
pub struct NearestMany<'a, const D: usize> {
    trees: Vec<&'a PackedTree<D>>,
    q: [f64; D],
    /// Nodes and items with the tree they are in.
    heap: BinaryHeap<(Entry, usize)>,
}

impl<const D: usize> Iterator for NearestMany<'_, D> {
    type Item = (usize, usize, usize, f64);

    fn next(&mut self) -> Option<(usize, usize, usize, f64)> {
        loop {
            let (Entry { d2, level, index }, t) = self.heap.pop()?;
            let tree = self.trees[t];
            if level == 0 {
                return Some((t, index, tree.id(index), d2));
            }
            let below = level - 1;
            let start = index * NODE;
            let end = (start + NODE).min(tree.level_len(below));
            for child in start..end {
                let (lo, hi) = tree.entry_bounds(below, child);
                let entry = Entry {
                    d2: min_distance_2(&self.q, &lo, &hi),
                    level: below,
                    index: child,
                };
                self.heap.push((entry, t));
            }
        }
    }
}
