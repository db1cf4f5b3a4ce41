//! The features of a layer snapshot and the lookup of a feature by id, both shared between
//! snapshots so that a write copies only what it touches.
//!
//! Owns: [`Features`], the slots of a layer in chunks of [`CHUNK`] behind `Arc`s, and
//! [`IdLookup`], from a feature id to its slot, and [`FeatureList`], which a load fills
//! chunk by chunk. A write clones the list of chunks and the
//! chunks it changes (copy on write); every other chunk stays shared with older snapshots,
//! which never change.
//!
//! Positions are stable: a replaced feature keeps its slot, a new one takes a new slot at the
//! end, and a deleted one leaves an empty slot (a tombstone). Only a full build of the
//! layer ([`super::Layer::build`]) renumbers the slots, dropping the empty ones.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use geo::Geometry;

use super::model::Feature;

/// Slots per chunk: a write copies at most this many features per chunk it touches.
pub const CHUNK: usize = 1024;

type Chunk = Arc<Vec<Option<Feature>>>;

const _: () = assert!(std::mem::size_of::<Option<Feature>>() == 72);

/// The slots of a layer: each holds a feature or is empty. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Features {
    chunks: Arc<Vec<Chunk>>,
    slots: usize,
    live: usize,
}

impl Features {
    /// Every feature, in order, each in a slot of its own.
    pub fn from_vec(features: Vec<Feature>) -> Self {
        features.into_iter().collect()
    }

    /// Number of slots, empty ones included: every position is below it.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Number of features (slots that are not empty).
    pub fn live(&self) -> usize {
        self.live
    }

    /// Whether there is no feature.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The feature at `pos`; `None` for an empty slot or past the end.
    pub fn get(&self, pos: usize) -> Option<&Feature> {
        self.chunks.get(pos / CHUNK)?.get(pos % CHUNK)?.as_ref()
    }

    /// The feature at `pos`, to change it: copies its chunk if an older snapshot shares it.
    pub fn get_mut(&mut self, pos: usize) -> Option<&mut Feature> {
        self.get(pos)?;
        self.slot_mut(pos)?.as_mut()
    }

    /// The features with their positions, in position order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Feature)> + '_ {
        self.by_slot()
            .enumerate()
            .filter_map(|(pos, f)| Some((pos, f?)))
    }

    /// Every slot in position order: `None` for an empty one.
    pub fn by_slot(&self) -> impl Iterator<Item = Option<&Feature>> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.iter().map(Option::as_ref))
    }

    /// The geometry of every slot in position order, as the spatial index takes them.
    pub fn geometries(&self) -> impl Iterator<Item = Option<Cow<'_, Geometry<f64>>>> + '_ {
        self.by_slot().map(|f| f.map(|f| f.geometry.get()))
    }

    /// The positions of the live features from the `offset`-th (in position order), at most
    /// `limit` of them: a range when no slot is empty.
    pub fn page(&self, offset: usize, limit: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        if self.live == self.slots {
            let start = offset.min(self.slots);
            Box::new((start..self.slots).take(limit))
        } else {
            Box::new(self.iter().skip(offset).take(limit).map(|(pos, _)| pos))
        }
    }

    /// The features with their positions, to change them: copies every chunk still shared.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut Feature)> + '_ {
        Arc::make_mut(&mut self.chunks)
            .iter_mut()
            .flat_map(|c| Arc::make_mut(c).iter_mut())
            .enumerate()
            .filter_map(|(pos, f)| Some((pos, f.as_mut()?)))
    }

    /// Puts `feature` in the place of the feature at `pos`, giving back the one it replaced;
    /// gives `feature` back when the slot is empty or past the end.
    ///
    /// # Errors
    /// `feature` itself, when there is no feature at `pos` to replace.
    pub fn replace(&mut self, pos: usize, feature: Feature) -> Result<Feature, Feature> {
        match self.get_mut(pos) {
            Some(old) => Ok(std::mem::replace(old, feature)),
            None => Err(feature),
        }
    }

    /// Empties slot `pos`, giving back what it held.
    pub fn remove(&mut self, pos: usize) -> Option<Feature> {
        self.get(pos)?;
        let old = self.slot_mut(pos)?.take();
        self.live -= 1;
        old
    }

    /// Appends `feature` in a new slot and returns its position.
    pub fn push(&mut self, feature: Feature) -> usize {
        let pos = self.slots;
        let chunks = Arc::make_mut(&mut self.chunks);
        match chunks.last_mut() {
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(Some(feature)),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(Some(feature));
                chunks.push(Arc::new(chunk));
            }
        }
        self.slots += 1;
        self.live += 1;
        pos
    }

    /// Slot `pos` (below [`Self::slots`]), its chunk copied if it is shared.
    fn slot_mut(&mut self, pos: usize) -> Option<&mut Option<Feature>> {
        let chunk = Arc::make_mut(Arc::make_mut(&mut self.chunks).get_mut(pos / CHUNK)?);
        chunk.get_mut(pos % CHUNK)
    }

    /// Whether `other` holds the very same chunks (no copy of either was changed).
    pub fn shares_all(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chunks, &other.chunks)
    }
}

/// Features gathered one by one straight into the chunks of a [`Features`], as a file is
/// read: no list of every feature is made and then copied into chunks.
#[derive(Debug, Default)]
pub struct FeatureList {
    /// The full chunks, each of [`CHUNK`] features.
    full: Vec<Vec<Option<Feature>>>,
    /// The chunk being filled.
    last: Vec<Option<Feature>>,
}

impl FeatureList {
    /// Makes room for the chunks of about `features` features.
    pub fn reserve(&mut self, features: usize) {
        self.full.reserve(features / CHUNK);
    }

    /// Adds `feature` after the others.
    pub fn push(&mut self, feature: Feature) {
        if self.last.capacity() == 0 {
            self.last.reserve_exact(CHUNK);
        }
        self.last.push(Some(feature));
        if self.last.len() == CHUNK {
            self.full.push(std::mem::take(&mut self.last));
        }
    }

    /// Number of features added.
    pub fn len(&self) -> usize {
        self.full.len() * CHUNK + self.last.len()
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.full.is_empty() && self.last.is_empty()
    }

    /// The features in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Feature> + '_ {
        self.full
            .iter()
            .chain(std::iter::once(&self.last))
            .flatten()
            .flatten()
    }

    /// The features, each in a slot of its own, in the order they were added, each given
    /// to `finish` (to change it) as its chunk is made.
    pub fn into_features(self, mut finish: impl FnMut(&mut Feature)) -> Features {
        let Self { full, mut last } = self;
        let slots = full.len() * CHUNK + last.len();
        let mut chunks: Vec<Chunk> = Vec::with_capacity(full.len() + 1);
        let mut finished = |mut chunk: Vec<Option<Feature>>| {
            chunk.iter_mut().flatten().for_each(&mut finish);
            Arc::new(chunk)
        };
        chunks.extend(full.into_iter().map(&mut finished));
        if !last.is_empty() {
            last.shrink_to_fit();
            chunks.push(finished(last));
        }
        Features {
            chunks: Arc::new(chunks),
            slots,
            live: slots,
        }
    }
}

impl FromIterator<Feature> for Features {
    fn from_iter<I: IntoIterator<Item = Feature>>(iter: I) -> Self {
        let mut chunks = Vec::new();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut slots = 0;
        for f in iter {
            chunk.push(Some(f));
            slots += 1;
            if chunk.len() == CHUNK {
                chunks.push(Arc::new(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK),
                )));
            }
        }
        if !chunk.is_empty() {
            chunk.shrink_to_fit();
            chunks.push(Arc::new(chunk));
        }
        Self {
            chunks: Arc::new(chunks),
            slots,
            live: slots,
        }
    }
}

/// How a feature id maps to its slot. A slot found is only the feature's when the feature
/// in it has that id ([`super::Layer::position`] checks), so deleting a feature needs no
/// change here.
#[derive(Debug, Clone)]
pub enum IdLookup {
    /// The feature with id `n` is in slot `n - 1` (or was deleted).
    Ordinal,
    /// Any other ids.
    Map(IdMap),
}

impl IdLookup {
    /// The lookup of `features`: [`IdLookup::Ordinal`] when it fits them.
    pub fn of(features: &Features) -> Self {
        if features.iter().all(|(pos, f)| f.id == pos as u64 + 1) {
            Self::Ordinal
        } else {
            Self::Map(IdMap::build(features))
        }
    }

    /// The slot the feature with `id` would be in, if any.
    pub fn slot(&self, id: u64) -> Option<usize> {
        match self {
            Self::Ordinal => usize::try_from(id.checked_sub(1)?).ok(),
            Self::Map(map) => map.get(id),
        }
    }

    /// Notes that the feature with `id` now lives in slot `pos` of `features` (which holds
    /// it already): [`IdLookup::Ordinal`] stays so when `id` is `pos + 1`.
    pub fn insert(&mut self, id: u64, pos: usize, features: &Features) {
        match self {
            Self::Ordinal if id == pos as u64 + 1 => {}
            Self::Ordinal => *self = Self::Map(IdMap::build(features)),
            Self::Map(map) => map.insert(id, pos),
        }
    }
}

/// One shard of an [`IdMap`]: ids are hashed with foldhash's seeded hasher of the better
/// quality (much faster than the standard library's SipHash on a `u64`, and still seeded per
/// process, as ids come from files and writes).
type IdShard = HashMap<u64, usize, foldhash::quality::RandomState>;

/// Ids to slots in shards behind `Arc`s: inserting copies the list of shards and one shard.
#[derive(Debug, Clone)]
pub struct IdMap {
    shards: Arc<Vec<Arc<IdShard>>>,
    /// `64 - log2(shard count)`.
    shift: u32,
}

impl IdMap {
    /// The map of every feature of `features`, in shards of about [`CHUNK`] ids.
    pub fn build(features: &Features) -> Self {
        let bits = (features.live() / CHUNK).max(1).ilog2().min(20);
        // Each shard made the size its share of the ids needs, rather than grown a dozen
        // times: ids spread evenly over the shards (see [`shard`]), and a shard holding a
        // few more than its share grows once at most.
        let share = features.live() >> bits;
        let mut shards: Vec<IdShard> = (0..1usize << bits)
            .map(|_| IdShard::with_capacity_and_hasher(share + share / 16, Default::default()))
            .collect();
        let shift = 64 - bits;
        for (pos, f) in features.iter() {
            shards[shard(f.id, shift)].insert(f.id, pos);
        }
        Self {
            shards: Arc::new(shards.into_iter().map(Arc::new).collect()),
            shift,
        }
    }

    /// The slot of `id`, if it has one.
    pub fn get(&self, id: u64) -> Option<usize> {
        self.shards[shard(id, self.shift)].get(&id).copied()
    }

    /// Maps `id` to `pos`.
    pub fn insert(&mut self, id: u64, pos: usize) {
        let s = shard(id, self.shift);
        Arc::make_mut(&mut Arc::make_mut(&mut self.shards)[s]).insert(id, pos);
    }
}

/// The shard of `id`: the top bits of a multiplicative hash (ids hashed from strings and
/// small sequential ids spread alike).
fn shard(id: u64, shift: u32) -> usize {
    if shift >= 64 {
        return 0;
    }
    (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

#[cfg(test)]
mod tests;
