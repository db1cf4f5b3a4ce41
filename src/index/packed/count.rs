//! Walks of a [`PackedTree`] that need not visit every passing item: counting (a node
//! wholly inside the query is counted by the range of items it covers) and the smallest
//! positions first (nodes opened by the smallest position under them).

use std::collections::BinaryHeap;
use std::ops::Range;

use super::{NODE, PackedTree};

/// How many items a full node of node level `level` holds.
fn node_span(level: usize) -> usize {
    u32::try_from(level + 1)
        .ok()
        .and_then(|e| NODE.checked_pow(e))
        .unwrap_or(usize::MAX)
}

impl<const D: usize> PackedTree<D> {
    /// How many items node `index` of node level `level` holds: nodes are filled in tree
    /// order, so only the last node of a level may hold fewer than `NODE^(level + 1)`.
    fn node_items(&self, level: usize, index: usize) -> usize {
        let span = node_span(level);
        let start = index.saturating_mul(span);
        self.ids
            .len()
            .min(start.saturating_add(span))
            .saturating_sub(start)
    }

    /// How many items pass a test, without reading the items of nodes that surely pass:
    /// `hit` must pass every node box holding a passing item (as for [`Self::search`]),
    /// `inside` says of a node box that every item in it passes, and `item` decides each
    /// item (by its place in tree order) of the nodes that are neither pruned nor inside,
    /// on its own. A node inside counts `whole(items)` for the range of places in tree order
    /// it covers (a node holds a contiguous range), so that the caller can leave out items
    /// that no longer count (`item` must leave them out too): `items.len()` counts them all.
    pub fn count<F, G, H, W>(&self, hit: F, inside: G, mut item: H, mut whole: W) -> usize
    where
        F: Fn(&[f64; D], &[f64; D]) -> bool,
        G: Fn(&[f64; D], &[f64; D]) -> bool,
        H: FnMut(usize) -> bool,
        W: FnMut(Range<usize>) -> usize,
    {
        let (mut whole_nodes, mut on_edge) = (0, 0);
        self.walk_edge(
            hit,
            inside,
            |level, node| whole_nodes += whole(self.node_range(level, node)),
            |i| on_edge += usize::from(item(i)),
        );
        whole_nodes + on_edge
    }

    /// Visits the nodes and items of a query, depth-first in tree order: `on_inside(level,
    /// node)` for each node inside (by `inside`) whose parent is not, and `on_item(place)`
    /// for each item of the lowest nodes that `hit` passes without being inside.
    fn walk_edge<F, G>(
        &self,
        hit: F,
        inside: G,
        mut on_inside: impl FnMut(usize, usize),
        mut on_item: impl FnMut(usize),
    ) where
        F: Fn(&[f64; D], &[f64; D]) -> bool,
        G: Fn(&[f64; D], &[f64; D]) -> bool,
    {
        let Some(top) = self.levels.len().checked_sub(1) else {
            return;
        };
        let mut stack = vec![(top, 0)];
        while let Some((level, node)) = stack.pop() {
            let (lo, hi) = &self.levels[level][node];
            if !hit(lo, hi) {
                continue;
            }
            if inside(lo, hi) {
                on_inside(level, node);
                continue;
            }
            let start = node * NODE;
            let end = (start + NODE).min(self.level_len(level));
            if level == 0 {
                (start..end).for_each(&mut on_item);
            } else {
                stack.extend((start..end).rev().map(|child| (level - 1, child)));
            }
        }
    }

    /// The places in tree order of the items under node `index` of node level `level`.
    fn node_range(&self, level: usize, index: usize) -> Range<usize> {
        let start = index.saturating_mul(node_span(level));
        let len = self.node_items(level, index);
        start..start + len
    }

    /// The smallest position under each node, level by level.
    fn node_min_ids(&self) -> Vec<Vec<u32>> {
        let mut out: Vec<Vec<u32>> = Vec::with_capacity(self.levels.len());
        for l in 0..self.levels.len() {
            let below: &[u32] = match l.checked_sub(1) {
                None => &self.ids,
                Some(b) => &out[b],
            };
            let level = below
                .chunks(NODE)
                .map(|c| c.iter().copied().min().unwrap_or(u32::MAX))
                .collect();
            out.push(level);
        }
        out
    }
}

impl<const D: usize> PackedTree<D> {
    /// How many items have a box passing `hit` and pass `keep` (by their place in tree
    /// order), and the `want` smallest positions among them, in increasing order, in one
    /// walk: the walk of [`Self::count`] (a node inside the box, by `inside`, counts
    /// `whole(items)`, which must agree with `keep`), whose boxes along the edge give their
    /// passing positions at once; then the nodes inside are opened in the order of the
    /// smallest position under them, each only as far as its positions can still enter the
    /// answer. When `every` (`keep` passes every item), the smallest position under each
    /// node inside is itself an answer, which bounds the answer before any node is opened.
    pub fn count_and_first<F, G, K, W>(
        &self,
        hit: F,
        inside: G,
        keep: K,
        mut whole: W,
        every: bool,
        want: usize,
    ) -> (usize, Vec<usize>)
    where
        F: Fn(&[f64; D], &[f64; D]) -> bool,
        G: Fn(&[f64; D], &[f64; D]) -> bool,
        K: Fn(usize) -> bool,
        W: FnMut(Range<usize>) -> usize,
    {
        let min_ids = self.min_ids.get_or_init(|| self.node_min_ids());
        let mut best = Smallest::new(want);
        // The smallest positions under nodes inside, when they are answers: the `want`-th
        // of them bounds the answer.
        let mut mins = Smallest::new(if every { want } else { 0 });
        let (mut whole_nodes, mut on_edge) = (0, 0);
        let mut inner: Vec<(u32, usize, usize)> = Vec::new();
        self.walk_edge(
            &hit,
            inside,
            |level, node| {
                whole_nodes += whole(self.node_range(level, node));
                let min_id = min_ids[level][node];
                mins.offer(min_id);
                inner.push((min_id, level, node));
            },
            |i| {
                if hit(&self.min[i], &self.item_max(i)) && keep(i) {
                    on_edge += 1;
                    best.offer(self.ids[i]);
                }
            },
        );
        let mut stack = Vec::new();
        if want > 0 {
            let limit = mins.largest_if_full().unwrap_or(u32::MAX);
            let admits = |best: &Smallest, id: u32| id <= limit && best.admits(id);
            inner.sort_unstable_by_key(|&(min_id, _, _)| min_id);
            for (min_id, level, node) in inner {
                if !admits(&best, min_id) {
                    break;
                }
                stack.push((level, node));
                while let Some((level, node)) = stack.pop() {
                    let start = node * NODE;
                    let end = (start + NODE).min(self.level_len(level));
                    match level.checked_sub(1) {
                        None => {
                            for i in start..end {
                                if admits(&best, self.ids[i]) && keep(i) {
                                    best.offer(self.ids[i]);
                                }
                            }
                        }
                        Some(below) => stack.extend(
                            (start..end)
                                .rev()
                                .filter(|&child| admits(&best, min_ids[below][child]))
                                .map(|child| (below, child)),
                        ),
                    }
                }
            }
        }
        (whole_nodes + on_edge, best.into_sorted())
    }
}

/// The `want` smallest of the distinct positions offered.
struct Smallest {
    heap: BinaryHeap<u32>,
    want: usize,
}

impl Smallest {
    fn new(want: usize) -> Self {
        Self {
            heap: BinaryHeap::with_capacity(want.min(4096) + 1),
            want,
        }
    }

    /// Whether `id` would enter the `want` smallest so far.
    fn admits(&self, id: u32) -> bool {
        self.heap.len() < self.want || self.heap.peek().is_some_and(|&worst| id < worst)
    }

    fn offer(&mut self, id: u32) {
        if self.heap.len() < self.want {
            self.heap.push(id);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && id < *worst
        {
            // The worst so far leaves and `id` takes its place: one sift down.
            *worst = id;
        }
    }

    /// The largest of the `want` smallest, once `want` were offered.
    fn largest_if_full(&self) -> Option<u32> {
        (self.want > 0 && self.heap.len() == self.want)
            .then(|| self.heap.peek().copied())
            .flatten()
    }

    fn into_sorted(self) -> Vec<usize> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|id| id as usize)
            .collect()
    }
}
