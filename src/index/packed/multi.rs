//! Best-first search over several [`PackedTree`]s at once, as if they were one tree: the
//! roots of all trees wait in one queue, so a tree is opened only as far as its boxes are
//! nearer than what the others still hold.
//!
//! An opened node's children are sorted by distance into a side list, and the queue holds
//! one cursor per list at its nearest unread child: a node costs a sort of its children and
//! two queue operations, not one per child, and the queue stays short.

use std::collections::BinaryHeap;

use super::{Entry, NODE, PackedTree, min_distance_2};

/// Items of all `trees` by increasing squared distance from `q`, each as `(which tree,
/// its place in that tree's order, position, squared distance)`.
pub fn nearest_many<'a, const D: usize>(
    trees: Vec<&'a PackedTree<D>>,
    q: [f64; D],
) -> NearestMany<'a, D> {
    let mut search = NearestMany {
        heap: BinaryHeap::with_capacity(64),
        children: Vec::with_capacity(NODE * 16),
        trees,
        q,
    };
    for t in 0..search.trees.len() {
        if let Some((lo, hi)) = search.trees[t].bounds() {
            let root = Entry {
                d2: min_distance_2(&q, &lo, &hi),
                level: search.trees[t].levels.len(),
                index: 0,
            };
            search.children.push(root);
            search.push_cursor(search.children.len() - 1, search.children.len(), t);
        }
    }
    search
}

/// See [`nearest_many`].
pub struct NearestMany<'a, const D: usize> {
    trees: Vec<&'a PackedTree<D>>,
    q: [f64; D],
    /// Opened nodes' children (and the roots), each node's sorted by distance: entries
    /// with their level (0: item) and place in their tree's level.
    children: Vec<Entry>,
    /// Cursors into `children`: the entry at the cursor's place (as its distance, level
    /// and `index`), where its node's list ends, and the tree.
    heap: BinaryHeap<(Entry, usize, usize)>,
}

impl<const D: usize> NearestMany<'_, D> {
    fn push_cursor(&mut self, at: usize, end: usize, tree: usize) {
        let child = self.children[at];
        let cursor = Entry { index: at, ..child };
        self.heap.push((cursor, end, tree));
    }
}

impl<const D: usize> Iterator for NearestMany<'_, D> {
    type Item = (usize, usize, usize, f64);

    fn next(&mut self) -> Option<(usize, usize, usize, f64)> {
        loop {
            let (cursor, end, t) = self.heap.pop()?;
            let at = cursor.index;
            if at + 1 < end {
                self.push_cursor(at + 1, end, t);
            }
            let Entry { d2, level, index } = self.children[at];
            let tree = self.trees[t];
            if level == 0 {
                return Some((t, index, tree.id(index), d2));
            }
            let below = level - 1;
            let start = index * NODE;
            let first = self.children.len();
            for child in start..(start + NODE).min(tree.level_len(below)) {
                let (lo, hi) = tree.entry_bounds(below, child);
                self.children.push(Entry {
                    d2: min_distance_2(&self.q, &lo, &hi),
                    level: below,
                    index: child,
                });
            }
            self.children[first..].sort_unstable_by_key(Entry::distance_key);
            if first < self.children.len() {
                self.push_cursor(first, self.children.len(), t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::packed::hilbert_keys;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn several_trees_list_every_point_in_the_order_of_a_sorted_scan() {
        let mut rng = StdRng::seed_from_u64(12);
        let sizes = [0, 1, 17, 300, 4000];
        let points: Vec<Vec<[f64; 2]>> = sizes
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|_| [rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)])
                    .collect()
            })
            .collect();
        let trees: Vec<PackedTree<2>> = points
            .iter()
            .map(|p| {
                let keys = hilbert_keys(p.iter().copied());
                let ids = (0..u32::try_from(p.len()).unwrap_or(0)).collect();
                PackedTree::build(p.clone(), None, ids, &keys)
            })
            .collect();
        let q = [0.2, -0.1];
        let d2 = |p: &[f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        let got: Vec<(usize, usize, usize, f64)> =
            nearest_many(trees.iter().collect(), q).collect();
        let mut want: Vec<f64> = points.iter().flatten().map(d2).collect();
        want.sort_by(f64::total_cmp);
        assert_eq!(got.iter().map(|g| g.3).collect::<Vec<_>>(), want);
        for &(t, i, pos, d) in &got {
            assert_eq!(trees[t].id(i), pos);
            assert_eq!(d2(&points[t][pos]), d);
        }
    }
}
