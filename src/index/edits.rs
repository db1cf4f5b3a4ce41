//! The edit part of a [`super::SpatialIndex`]: what changed since its packed part was built,
//! kept so that the next snapshot's index costs about `O(changed · log n)` to make.
//!
//! - Every call of [`Edits::updated`] gets the next sequence number; a position's *stamp*
//!   is the number of the last call that changed it (0: unchanged since the packed part was
//!   built, whose entries for it are then still true). A bitset over the packed part's
//!   envelopes in tree order (where its hits come from, so reading it is nearly sequential)
//!   marks those of stamped positions.
//! - The current geometries of changed positions live in *levels*, each a [`Part`] over the
//!   positions whose last change falls in the level's range of call numbers. An entry of a
//!   level is live while its position's stamp is in that range; a later change leaves it
//!   stale until its level is rebuilt.
//! - Level `i` holds at most `CAP0 · GROWTH^i` positions (newest and smallest first). A call
//!   rebuilds the smallest level with its changes; a level that overflows is carried whole
//!   into the next one, like a counter, so a position is rebuilt a few times before the
//!   caller rebuilds everything. `GROWTH` is large because every level costs a nearest query
//!   a descent of its own: up to 32k changed positions sit in two levels, and the second is
//!   rebuilt once every `CAP0` changed positions.
//!
//! Stamps and bits live in copy-on-write chunks and levels behind `Arc`, so the next
//! snapshot copies only the chunks and levels a call touches.

use std::borrow::Borrow;
use std::ops::Range;
use std::sync::Arc;

use geo::Geometry;

use super::part::{Part, breaks_points_only};

/// Positions the smallest level holds at most.
const CAP0: usize = 512;
/// How many times larger each level may be than the one before.
const GROWTH: usize = 64;

/// A copy-on-write array of `T` in shared chunks of `N`; unset places read as the default.
#[derive(Debug, Clone, Default)]
struct Chunked<T, const N: usize> {
    chunks: Vec<Option<Arc<[T; N]>>>,
}

impl<T: Copy + Default, const N: usize> Chunked<T, N> {
    fn get(&self, i: usize) -> T {
        match self.chunks.get(i / N) {
            Some(Some(chunk)) => chunk[i % N],
            _ => T::default(),
        }
    }

    /// Changes place `i` through `f`, copying its chunk first if another snapshot shares it.
    fn update(&mut self, i: usize, f: impl FnOnce(&mut T)) {
        let c = i / N;
        if self.chunks.len() <= c {
            self.chunks.resize(c + 1, None);
        }
        let chunk = self.chunks[c].get_or_insert_with(|| Arc::new([T::default(); N]));
        f(&mut Arc::make_mut(chunk)[i % N]);
    }
}

/// The positions of one range of calls and the trees over their current geometries.
#[derive(Debug)]
pub(super) struct Level {
    pub part: Part,
    /// The positions with a geometry, ascending.
    positions: Vec<u32>,
    /// The first and last call numbers whose changes this level holds.
    first: u32,
    last: u32,
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub(super) struct Edits {
    /// The number of the last call that changed each position; 0 for none.
    stamps: Chunked<u32, 1024>,
    /// One bit per envelope of the packed part, in tree order: set when it is stale.
    superseded: Chunked<u64, 64>,
    /// Newest and smallest first; `None` for a level carried into the next one.
    levels: Vec<Option<Arc<Level>>>,
    /// The number of the last call.
    calls: u32,
    /// How many positions have a stamp.
    changed: usize,
    /// How many positions the layer has.
    pub slots: usize,
}

impl Edits {
    /// The edits of a freshly built index over `slots` positions: none.
    pub fn none(slots: usize) -> Self {
        Self {
            slots,
            ..Self::default()
        }
    }

    /// How many positions changed since the packed part was built.
    pub fn changed(&self) -> usize {
        self.changed
    }

    /// The levels, newest first.
    pub fn levels(&self) -> impl Iterator<Item = &Level> {
        self.levels.iter().flatten().map(|level| &**level)
    }

    /// Whether `level`'s entries for `pos` are current.
    pub fn live_in(&self, level: &Level, pos: usize) -> bool {
        (level.first..=level.last).contains(&self.stamps.get(pos))
    }

    /// Whether an entry for `pos` is current: of a level, or of the packed part (`None`),
    /// where `item` is its place in the tree order of the envelopes if known (then a bit
    /// says; else the stamp).
    pub fn live(&self, level: Option<&Level>, item: Option<usize>, pos: usize) -> bool {
        match (level, item) {
            (Some(level), _) => self.live_in(level, pos),
            (None, Some(i)) => self.superseded.get(i / 64) & (1 << (i % 64)) == 0,
            (None, None) => self.stamps.get(pos) == 0,
        }
    }

    /// How many entries of the packed part at the places `items` (in the tree order of its
    /// envelopes) are superseded.
    pub fn superseded_in(&self, items: Range<usize>) -> usize {
        let chunks = &self.superseded.chunks;
        let mut count = 0;
        let mut bit = items.start;
        while bit < items.end {
            let word = bit / 64;
            let Some(chunk) = chunks.get(word / 64) else {
                break;
            };
            let Some(chunk) = chunk else {
                // A chunk never written holds no set bit.
                bit = (word / 64 + 1) * 64 * 64;
                continue;
            };
            let upto = (items.end - word * 64).min(64);
            let below = if upto == 64 {
                u64::MAX
            } else {
                (1 << upto) - 1
            };
            let mask = below & !((1 << (bit % 64)) - 1);
            count += (chunk[word % 64] & mask).count_ones() as usize;
            bit = (word + 1) * 64;
        }
        count
    }

    /// The edits after a call that changed `changed` (see [`super::SpatialIndex::updated`])
    /// over the packed part `base`; `None` when the caller must rebuild the whole index
    /// instead: a geometry that is not a point comes into a part of points only, positions
    /// outgrow `u32`, or the call numbers run out.
    pub fn updated<G: Borrow<Geometry<f64>>>(
        &self,
        base: &Part,
        slots: usize,
        changed: &[usize],
        geometry: &impl Fn(usize) -> Option<G>,
    ) -> Option<Self> {
        let call = self.calls.checked_add(1).filter(|&c| c < u32::MAX)?;
        u32::try_from(slots.max(self.slots)).ok()?;
        let present = |pos: usize| if pos < slots { geometry(pos) } else { None };
        // Positions past a shrunk layer are changed too: to nothing.
        let mut list: Vec<usize> = changed
            .iter()
            .copied()
            .filter(|&pos| pos < slots)
            .chain(slots..self.slots)
            .collect();
        list.sort_unstable();
        list.dedup();
        if base.points_only
            && list
                .iter()
                .any(|&p| present(p).is_some_and(|g| breaks_points_only(g.borrow())))
        {
            return None;
        }
        let mut next = self.clone();
        next.calls = call;
        next.slots = slots;
        for &pos in &list {
            if next.stamps.get(pos) == 0 {
                next.changed += 1;
                if let Some(i) = base.item_of(pos) {
                    next.superseded.update(i / 64, |w| *w |= 1 << (i % 64));
                }
            }
            next.stamps.update(pos, |s| *s = call);
        }
        #[expect(clippy::cast_possible_truncation, reason = "checked to fit above")]
        let mut carry: Vec<u32> = list
            .iter()
            .filter(|&&pos| present(pos).is_some())
            .map(|&pos| pos as u32)
            .collect();
        let mut first = call;
        for i in 0.. {
            if let Some(level) = self.levels.get(i).and_then(Option::as_ref) {
                let live = level
                    .positions
                    .iter()
                    .copied()
                    .filter(|&pos| next.live_in(level, pos as usize));
                carry = merge_ascending(carry.into_iter(), live).collect();
                first = level.first;
            }
            if next.levels.len() <= i {
                next.levels.resize(i + 1, None);
            }
            if carry.len() <= capacity(i) {
                next.levels[i] = (!carry.is_empty())
                    .then(|| Arc::new(Level::build(carry, first, call, &present)));
                break;
            }
            next.levels[i] = None;
        }
        while next.levels.last().is_some_and(Option::is_none) {
            next.levels.pop();
        }
        Some(next)
    }
}

impl Level {
    fn build<G: Borrow<Geometry<f64>>>(
        positions: Vec<u32>,
        first: u32,
        last: u32,
        geometry: &impl Fn(usize) -> Option<G>,
    ) -> Self {
        let part = Part::build(
            positions
                .iter()
                .filter_map(|&pos| geometry(pos as usize).map(|g| (pos, g))),
        );
        Self {
            part,
            positions,
            first,
            last,
        }
    }
}

/// How many positions level `i` may hold.
fn capacity(i: usize) -> usize {
    let growth = u32::try_from(i)
        .ok()
        .and_then(|i| GROWTH.checked_pow(i))
        .unwrap_or(usize::MAX);
    CAP0.saturating_mul(growth)
}

/// The items of two ascending iterators, ascending.
pub(super) fn merge_ascending<T: Ord>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y < x => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

#[cfg(test)]
mod tests;
