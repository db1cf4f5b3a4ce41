//! Property values of a layer encoded once per layer snapshot, copied into tiles.
//!
//! Owns: [`ValueTable`], made with the layer's [`crate::tiles::PreparedLayer`]: every
//! distinct property value of the layer (strings by their text, arrays and objects by their
//! JSON text, integers, doubles by their bits, booleans: the dedup of [`LayerEncoder`]) gets
//! a layer-wide id and its MVT `Value` message, written once; each feature position its
//! value ids in the order of the layer's fields. A tile ([`TileValues`]) then maps the ids
//! it meets to its own value indices, in order of first use, and copies the encoded bytes:
//! no string is hashed or compared per tile, and the layer written is byte for byte the one
//! [`super::write_candidate`] writes.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::mvt::{LayerEncoder, TileGeometry, TileValue, write_value};
use super::prop_value;
use crate::catalog::Layer;

/// A missing value: absent, null, or a double that is not finite.
const NONE: u32 = u32::MAX;

/// The bit of a value id that holds an integer `0..INLINE - 1` itself: such values (ids,
/// counts) need no entry in the table, and a tile encodes them without reading it.
const INLINE: u32 = 1 << 31;

/// The encoded property values of one layer snapshot.
#[derive(Debug)]
pub struct ValueTable {
    /// Fields of the layer (value ids per feature position).
    fields: usize,
    /// `ids[pos * fields + field]`: the value id, or [`NONE`].
    ids: Vec<u32>,
    /// The `Value` messages, one after the other.
    bytes: Vec<u8>,
    /// `offsets[id]..offsets[id + 1]`: the message of value `id` in `bytes`.
    offsets: Vec<u32>,
}

impl ValueTable {
    /// The values of every feature of `layer`; `None` when they do not fit the table's
    /// 32-bit ids and offsets.
    pub fn new(layer: &Layer) -> Option<Self> {
        let fields = layer.fields.len();
        let mut table = Self {
            fields,
            ids: Vec::with_capacity(layer.features.slots().checked_mul(fields)?),
            bytes: Vec::new(),
            offsets: vec![0],
        };
        let mut strings: HashMap<Box<str>, u32, RandomState> = HashMap::default();
        let mut ints: HashMap<i64, u32, RandomState> = HashMap::default();
        let mut doubles: HashMap<u64, u32, RandomState> = HashMap::default();
        let mut bools = [NONE; 2];
        for feature in layer.features.by_slot() {
            let Some(feature) = feature else {
                table.ids.extend(std::iter::repeat_n(NONE, fields));
                continue;
            };
            for i in 0..fields {
                let Some(value) = feature.props.get(i).and_then(prop_value) else {
                    table.ids.push(NONE);
                    continue;
                };
                let next = u32::try_from(table.offsets.len() - 1).ok()?;
                let json;
                let (id, new) = match value {
                    TileValue::Int(n) if (0..i64::from(INLINE - 1)).contains(&n) => {
                        (INLINE | u32::try_from(n).ok()?, false)
                    }
                    TileValue::Int(n) => entry(ints.entry(n), next),
                    TileValue::Double(f) => entry(doubles.entry(f.to_bits()), next),
                    TileValue::Bool(b) => {
                        let slot = &mut bools[usize::from(b)];
                        let new = *slot == NONE;
                        if new {
                            *slot = next;
                        }
                        (*slot, new)
                    }
                    TileValue::Str(s) => string_entry(&mut strings, s, next),
                    TileValue::Shared(s) => string_entry(&mut strings, s, next),
                    TileValue::Json(v) => {
                        json = v.to_string();
                        string_entry(&mut strings, &json, next)
                    }
                };
                if new {
                    write_value(&mut table.bytes, value);
                    table.offsets.push(u32::try_from(table.bytes.len()).ok()?);
                }
                table.ids.push(id);
            }
        }
        table.ids.shrink_to_fit();
        table.bytes.shrink_to_fit();
        table.offsets.shrink_to_fit();
        Some(table)
    }

    /// Bytes the table holds.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 4 + self.bytes.capacity() + self.offsets.capacity() * 4
    }

    /// Number of distinct values.
    pub fn values(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The value ids of the feature at `pos` (empty past the end).
    fn row(&self, pos: usize) -> &[u32] {
        let start = pos.saturating_mul(self.fields);
        self.ids
            .get(start..start.saturating_add(self.fields))
            .unwrap_or(&[])
    }

    /// The encoded message of value `id`.
    fn encoded(&self, id: u32) -> &[u8] {
        let i = id as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.bytes.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Reads the value ids of the features at `positions` and the start of their encoded
    /// values, in a loop of independent loads, so that their cache misses overlap instead
    /// of stalling the encoding one by one.
    pub fn warm(&self, positions: impl Iterator<Item = usize>) {
        let mut touched = 0u32;
        for pos in positions {
            for &id in self.row(pos).iter().filter(|&&id| id & INLINE == 0) {
                if let Some(&at) = self.offsets.get(id as usize) {
                    touched ^= at ^ u32::from(self.bytes.get(at as usize).copied().unwrap_or(0));
                }
            }
        }
        std::hint::black_box(touched);
    }
}

fn entry<K>(e: std::collections::hash_map::Entry<'_, K, u32>, next: u32) -> (u32, bool) {
    match e {
        std::collections::hash_map::Entry::Occupied(o) => (*o.get(), false),
        std::collections::hash_map::Entry::Vacant(v) => (*v.insert(next), true),
    }
}

fn string_entry(
    strings: &mut HashMap<Box<str>, u32, RandomState>,
    s: &str,
    next: u32,
) -> (u32, bool) {
    if let Some(&id) = strings.get(s) {
        return (id, false);
    }
    strings.insert(s.into(), next);
    (next, true)
}

/// The values of one encoded layer of a tile, from a [`ValueTable`]: layer-wide value ids
/// and field indices mapped to the layer encoder's indices as they are first used.
pub struct TileValues<'t> {
    table: &'t ValueTable,
    /// Layer-wide value id -> the encoder's value index.
    local: HashMap<u32, u32, RandomState>,
    /// Field index -> the encoder's key index ([`NONE`] until used).
    keys: Vec<u32>,
    represents: Option<u32>,
    /// An inline integer's encoded value.
    scratch: Vec<u8>,
}

impl<'t> TileValues<'t> {
    /// Values of `table` for one layer encoder of about `features` features.
    pub fn new(table: &'t ValueTable, features: usize) -> Self {
        Self {
            table,
            local: HashMap::with_capacity_and_hasher(2 * features, RandomState::default()),
            keys: vec![NONE; table.fields],
            represents: None,
            scratch: Vec::with_capacity(16),
        }
    }

    /// Reads ahead the values of the features at `positions` ([`ValueTable::warm`]).
    pub fn warm(&self, positions: impl Iterator<Item = usize>) {
        self.table.warm(positions);
    }

    /// Adds the feature at `pos` of `layer` (whose id is `id`) to `encoder` with its
    /// properties (and `represents` when given), as [`super::write_candidate`] adds it.
    pub fn write(
        &mut self,
        encoder: &mut LayerEncoder,
        layer: &Layer,
        (pos, id): (usize, u64),
        geometry: &TileGeometry,
        represents: Option<u32>,
    ) {
        if pos >= layer.features.slots() {
            return;
        }
        encoder.add_with_tags(Some(id), geometry, |encoder, tags| {
            self.tags(encoder, layer, pos, represents, tags);
        });
    }

    fn tags(
        &mut self,
        encoder: &mut LayerEncoder,
        layer: &Layer,
        pos: usize,
        represents: Option<u32>,
        tags: &mut Vec<u32>,
    ) {
        for (field, &id) in self.table.row(pos).iter().enumerate() {
            if id == NONE {
                continue;
            }
            let key = match self.keys.get(field) {
                Some(&k) if k != NONE => k,
                _ => {
                    let Some(name) = layer.fields.get(field) else {
                        continue;
                    };
                    let k = encoder.key(&name.name);
                    self.keys[field] = k;
                    k
                }
            };
            tags.push(key);
            tags.push(self.value(encoder, id));
        }
        if let Some(n) = represents {
            let key = *self
                .represents
                .get_or_insert_with(|| encoder.key("represents"));
            tags.push(key);
            // A count is the same value as the property integer it equals: both are
            // looked up as inline integers, so the encoder need not index its integers.
            let value = if n < INLINE - 1 {
                self.value(encoder, INLINE | n)
            } else {
                encoder.value(TileValue::Int(i64::from(n)))
            };
            tags.push(value);
        }
    }

    /// The encoder's index of value `id` of the table, added when first used.
    fn value(&mut self, encoder: &mut LayerEncoder, id: u32) -> u32 {
        match self.local.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => *o.get(),
            std::collections::hash_map::Entry::Vacant(v) if id & INLINE != 0 => {
                self.scratch.clear();
                write_value(&mut self.scratch, TileValue::Int(i64::from(id & !INLINE)));
                *v.insert(encoder.encoded_value(&self.scratch))
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                *v.insert(encoder.encoded_value(self.table.encoded(id)))
            }
        }
    }
}
