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

use super::mvt::{LayerEncoder, TagSink, TileGeometry, TileValue, write_value};
use super::prop_value;
use super::rows::{Cell, Layout, Rows, cell};
use crate::catalog::Layer;

/// A missing value: absent, null, or a double that is not finite.
const NONE: u32 = u32::MAX;

/// The bit of a value id that holds an integer `0..INLINE - 1` itself: such values (ids,
/// counts) need no entry in the table, and a tile encodes them without reading it.
const INLINE: u32 = 1 << 31;

/// How a tile reads one field of a row: its layout and, for a field stored as indices,
/// where its indices start in the tile's [`TileValues`] `listed`.
#[derive(Debug, Clone, Copy)]
struct Step {
    layout: Layout,
    listed_at: usize,
}

/// The encoded property values of one layer snapshot.
#[derive(Debug)]
pub struct ValueTable {
    /// Fields of the layer (value ids per feature position).
    fields: usize,
    /// The value ids of each position, field by field ([`NONE`] for a missing value).
    rows: Rows,
    /// Per field: whether it is stored as indices into its list of ids and no other field
    /// (nor a feature id or count) holds any of its values. A tile then adds such a value
    /// at its first use in the field without looking for it among the values added.
    exclusive: Vec<bool>,
    /// How a tile reads each field of a row.
    steps: Vec<Step>,
    /// How many indices the listed fields have in all (the length of a tile's
    /// [`TileValues`] `listed`).
    listed_total: usize,
    /// The `Value` messages, one after the other.
    bytes: Vec<u8>,
    /// `offsets[id]..offsets[id + 1]`: the message of value `id` in `bytes`.
    offsets: Vec<u32>,
    /// Per index of a tile's `listed` (see [`TileValues`]): the message of the value there
    /// when its field is exclusive and the message short, else [`ShortValue::NONE`]. A
    /// tile copies such a value at its first use from this one place, instead of
    /// following its id to its offsets and bytes (three reads far apart). Empty when no
    /// value is kept here.
    short: Vec<ShortValue>,
}

/// Longest `Value` message a [`ShortValue`] holds.
const SHORT: usize = 15;

/// A `Value` message of at most [`SHORT`] bytes, kept with its length.
#[derive(Debug, Clone, Copy)]
struct ShortValue {
    /// Bytes of the message; 0 for none.
    len: u8,
    bytes: [u8; SHORT],
}

impl ShortValue {
    const NONE: Self = Self {
        len: 0,
        bytes: [0; SHORT],
    };
}

impl ValueTable {
    /// The values of every feature of `layer`; `None` when they do not fit the table's
    /// 32-bit ids and offsets.
    pub fn new(layer: &Layer) -> Option<Self> {
        let fields = layer.fields.len();
        let mut table = Self {
            fields,
            rows: Rows::default(),
            exclusive: Vec::new(),
            steps: Vec::new(),
            listed_total: 0,
            bytes: Vec::new(),
            offsets: vec![0],
            short: Vec::new(),
        };
        let mut ids: Vec<u32> = Vec::with_capacity(layer.features.slots().checked_mul(fields)?);
        let mut strings: HashMap<Box<str>, u32, RandomState> = HashMap::default();
        let mut ints: HashMap<i64, u32, RandomState> = HashMap::default();
        let mut doubles: HashMap<u64, u32, RandomState> = HashMap::default();
        let mut bools = [NONE; 2];
        // Fields whose value is the feature's own id in every feature (ids repeated in the
        // properties, as many files do): their rows need not store it.
        let mut feature_ids = vec![true; fields];
        for feature in layer.features.by_slot() {
            let Some(feature) = feature else {
                ids.extend(std::iter::repeat_n(NONE, fields));
                continue;
            };
            for (i, feature_id) in feature_ids.iter_mut().enumerate() {
                let Some(value) = feature.props.get(i).and_then(prop_value) else {
                    *feature_id = false;
                    ids.push(NONE);
                    continue;
                };
                let next = u32::try_from(table.offsets.len() - 1).ok()?;
                let json;
                let (id, new) = match value {
                    TileValue::Int(n)
                        if let Some(id) = u64::try_from(n).ok().and_then(inline_id) =>
                    {
                        (id, false)
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
                if *feature_id && Some(id) != inline_id(feature.id) {
                    *feature_id = false;
                }
                ids.push(id);
            }
        }
        table.rows = Rows::new(&ids, &feature_ids);
        table.exclusive = exclusive_fields(&table.rows, &ids, table.values());
        let mut listed_at = 0;
        table.steps = (0..fields)
            .filter_map(|f| {
                let step = Step {
                    layout: table.rows.layout(f)?,
                    listed_at,
                };
                listed_at += table.rows.listed(f);
                Some(step)
            })
            .collect();
        table.listed_total = listed_at;
        table.short = table.short_values();
        drop(ids);
        table.bytes.shrink_to_fit();
        table.offsets.shrink_to_fit();
        Some(table)
    }

    /// The short messages of the exclusive fields' values, by index of a tile's `listed`
    /// (see [`Self::short`]).
    fn short_values(&self) -> Vec<ShortValue> {
        let mut short = Vec::new();
        for (field, step) in self.steps.iter().enumerate() {
            if self.exclusive.get(field) != Some(&true) {
                continue;
            }
            for (local, &id) in self.rows.list(field).iter().enumerate() {
                if id == NONE {
                    continue;
                }
                let message = self.encoded(id);
                let (Ok(len @ 1..), Some(bytes)) = (u8::try_from(message.len()), pad(message))
                else {
                    continue;
                };
                if short.is_empty() {
                    short = vec![ShortValue::NONE; self.listed_total];
                }
                if let Some(slot) = short.get_mut(step.listed_at + local) {
                    *slot = ShortValue { len, bytes };
                }
            }
        }
        short
    }

    /// Bytes the table holds.
    pub fn heap_bytes(&self) -> usize {
        self.rows.heap_bytes()
            + self.bytes.capacity()
            + self.offsets.capacity() * 4
            + self.short.capacity() * std::mem::size_of::<ShortValue>()
    }

    /// Number of distinct values.
    pub fn values(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The encoded message of value `id`.
    fn encoded(&self, id: u32) -> &[u8] {
        let i = id as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.bytes.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Reads the rows of the features at `positions` in a loop of independent loads, so
    /// that their cache misses overlap instead of stalling the encoding one by one.
    pub fn warm(&self, positions: impl Iterator<Item = usize>) {
        let touched = positions.fold(0u8, |t, pos| t ^ self.rows.touch(pos));
        std::hint::black_box(touched);
    }
}

/// Which fields of `rows` (made from `ids`, rows of `rows.fields` ids each, of `values`
/// distinct table values) are exclusive (see [`ValueTable::exclusive`]): listed, without
/// inline integers, and sharing no value with another field.
fn exclusive_fields(rows: &Rows, ids: &[u32], values: usize) -> Vec<bool> {
    let fields = rows.fields();
    const UNOWNED: u32 = u32::MAX;
    const SHARED: u32 = u32::MAX - 1;
    let mut exclusive: Vec<bool> = (0..fields).map(|f| rows.listed(f) > 0).collect();
    let Ok(field_count) = u32::try_from(fields) else {
        return vec![false; fields];
    };
    if field_count >= SHARED {
        return vec![false; fields];
    }
    let mut owner = vec![UNOWNED; values];
    let mut own = |field: u32, id: u32| {
        if id == NONE || id & INLINE != 0 {
            return;
        }
        if let Some(o) = owner.get_mut(id as usize) {
            *o = match *o {
                UNOWNED => field,
                o if o == field => o,
                _ => SHARED,
            };
        }
    };
    for (field, f) in (0..field_count).zip(0..fields) {
        let list = rows.list(f);
        if !list.is_empty() {
            for &id in list {
                own(field, id);
            }
        } else if !rows.is_feature_id(f) {
            for row in ids.chunks_exact(fields) {
                own(field, row[f]);
            }
        }
    }
    for (f, ex) in exclusive.iter_mut().enumerate() {
        if !*ex {
            continue;
        }
        let field = u32::try_from(f).unwrap_or(SHARED);
        *ex = rows
            .list(f)
            .iter()
            .all(|&id| id == NONE || (id & INLINE == 0 && owner.get(id as usize) == Some(&field)));
    }
    exclusive
}

/// `message` padded to [`SHORT`] bytes, when it is not longer.
fn pad(message: &[u8]) -> Option<[u8; SHORT]> {
    let mut bytes = [0; SHORT];
    bytes.get_mut(..message.len())?.copy_from_slice(message);
    Some(bytes)
}

/// The value id of the integer `n` held inline, when it can be.
fn inline_id(n: u64) -> Option<u32> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n < INLINE - 1)
        .map(|n| INLINE | n)
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

/// Not looked up yet (an encoder's value index never reaches it).
const UNSET: u32 = u32::MAX - 1;

/// Inline integers below this are looked up in an array rather than hashed: counts, small
/// ids and most integer properties.
const SMALL_INTS: usize = 4096;

/// The values of one encoded layer of a tile, from a [`ValueTable`]: layer-wide value ids
/// and field indices mapped to the layer encoder's indices as they are first used.
pub struct TileValues<'t> {
    table: &'t ValueTable,
    /// Layer-wide value id -> the encoder's value index: every id but inline integers
    /// below [`SMALL_INTS`] and, until `merged`, the feature ids in `feature_ids`.
    local: HashMap<u32, u32, RandomState>,
    /// Inline integer `n` below [`SMALL_INTS`] -> the encoder's value index ([`UNSET`]
    /// until used).
    small: Vec<u32>,
    /// The integers set in `small`: put back to [`UNSET`] when the tile's values are
    /// dropped.
    small_set: Vec<u16>,
    /// Large inline integers met as feature ids (value id, encoder index) while no other
    /// value looked one up: the features of the tile are distinct, so their ids are
    /// distinct too and need no lookup among themselves.
    feature_ids: Vec<(u32, u32)>,
    /// Whether `local` holds every large inline integer (always, when the features of the
    /// tile may repeat).
    merged: bool,
    /// Features of the layer expected, for the size of `local` once merged.
    features: usize,
    /// For the fields stored as indices into their list of ids ([`Rows::layout`]), one
    /// after the other: index -> the encoder's value index, [`UNSET`] until used, [`NONE`]
    /// for a missing value. Only a value's first use in the tile is looked up in `local`.
    listed: Vec<u32>,
    /// The indices of `listed` set since it was taken with every slot [`UNSET`]: put back
    /// to [`UNSET`] when the tile's values are dropped (see [`Spare`]).
    set: Vec<usize>,
    /// Most slots listed in `set`: an eighth of `listed` when the tile's features cannot
    /// set more, else none (a dense tile resets the whole table rather than list the slots
    /// it sets one by one).
    set_limit: usize,
    /// Per field: how a row's field is read ([`ValueTable::steps`]) and the encoder's key
    /// index ([`NONE`] until used), side by side for the loop over a row's fields.
    fields: Vec<(Step, u32)>,
    represents: Option<u32>,
}

/// The `listed` table of the last tile encoded on a thread, every slot [`UNSET`] again, and
/// the list of slots the next tile sets. A tile then resets the slots it used rather than
/// fill a table of every listed value (about 17,000 slots at 100k points): for a sparse
/// tile, that fill was the largest part of its setup.
#[derive(Debug, Default)]
struct Spare {
    listed: Vec<u32>,
    set: Vec<usize>,
    /// `small` of the last tile, every slot [`UNSET`] again (empty before the first), and
    /// its list of integers set.
    small: Vec<u32>,
    small_set: Vec<u16>,
}

thread_local! {
    static SPARE: std::cell::Cell<Spare> = const {
        std::cell::Cell::new(Spare {
            listed: Vec::new(),
            set: Vec::new(),
            small: Vec::new(),
            small_set: Vec::new(),
        })
    };
}

impl Drop for TileValues<'_> {
    fn drop(&mut self) {
        let mut listed = std::mem::take(&mut self.listed);
        let mut set = std::mem::take(&mut self.set);
        // Slot by slot when every slot set is in `set`, else all at once.
        if set.len() < self.set_limit {
            for &at in &set {
                if let Some(slot) = listed.get_mut(at) {
                    *slot = UNSET;
                }
            }
        } else {
            listed.fill(UNSET);
        }
        set.clear();
        let mut small = std::mem::take(&mut self.small);
        let mut small_set = std::mem::take(&mut self.small_set);
        for &n in &small_set {
            if let Some(slot) = small.get_mut(usize::from(n)) {
                *slot = UNSET;
            }
        }
        small_set.clear();
        SPARE.set(Spare {
            listed,
            set,
            small,
            small_set,
        });
    }
}

impl<'t> TileValues<'t> {
    /// Values of `table` for one layer encoder of about `features` features; `distinct`
    /// when no feature is written twice (then no feature id is looked up unless another
    /// value may equal it).
    pub fn new(table: &'t ValueTable, features: usize, distinct: bool) -> Self {
        let Spare {
            mut listed,
            set,
            mut small,
            small_set,
        } = SPARE.take();
        if listed.len() != table.listed_total {
            listed.clear();
            listed.resize(table.listed_total, UNSET);
        }
        if small.len() != SMALL_INTS {
            small.clear();
            small.resize(SMALL_INTS, UNSET);
        }
        Self {
            table,
            // Made room for when first needed: a probe round writes a few hundred of
            // thousands of features, and many tiles look up no id here at all.
            local: HashMap::with_hasher(RandomState::default()),
            small,
            small_set,
            feature_ids: Vec::new(),
            merged: !distinct,
            features,
            set_limit: if features.saturating_mul(table.fields) < listed.len() / 8 {
                listed.len() / 8
            } else {
                0
            },
            listed,
            set,
            fields: table.steps.iter().map(|&step| (step, NONE)).collect(),
            represents: None,
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
            self.tags(encoder, layer, (pos, id), represents, tags);
        });
    }

    /// [`Self::write`] for a point at `at` (tile units): the same bytes. Inlined into the
    /// loop that writes a tile's points.
    #[inline(always)]
    pub fn write_point(
        &mut self,
        encoder: &mut LayerEncoder,
        layer: &Layer,
        (pos, id): (usize, u64),
        at: [i32; 2],
        represents: Option<u32>,
    ) {
        if pos >= layer.features.slots() {
            return;
        }
        encoder.add_point(id, at, |encoder, tags| {
            self.tags(encoder, layer, (pos, id), represents, tags);
        });
    }

    /// Inlined into [`Self::write_point`], in the loop that writes a tile's points.
    #[inline(always)]
    fn tags(
        &mut self,
        encoder: &mut LayerEncoder,
        layer: &Layer,
        (pos, feature_id): (usize, u64),
        represents: Option<u32>,
        tags: &mut impl TagSink,
    ) {
        let table = self.table;
        let Some(row) = table.rows.row(pos) else {
            return;
        };
        // The fields are taken out while they are read, so that their keys are set in
        // the loop.
        let mut fields = std::mem::take(&mut self.fields);
        for (field, (step, key)) in fields.iter_mut().enumerate() {
            let value = match cell(row, step.layout) {
                Some(Cell::Listed(i)) => {
                    let at = step.listed_at + usize::from(i);
                    match self.listed.get(at) {
                        Some(&NONE) | None => continue,
                        Some(&UNSET) => match self.first_listed(encoder, field, i, at) {
                            NONE => continue,
                            value => value,
                        },
                        Some(&value) => value,
                    }
                }
                Some(Cell::Id(NONE)) | None => continue,
                Some(Cell::Id(id)) => self.value(encoder, id),
                Some(Cell::FeatureId) => match inline_id(feature_id) {
                    Some(id) => self.feature_id_value(encoder, id),
                    None => continue,
                },
            };
            if *key == NONE {
                let Some(name) = layer.fields.get(field) else {
                    continue;
                };
                *key = encoder.key(&name.name);
            }
            tags.push_tag(*key, value);
        }
        self.fields = fields;
        if let Some(n) = represents {
            let key = *self
                .represents
                .get_or_insert_with(|| encoder.key("represents"));
            // A count is the same value as the property integer it equals: both are
            // looked up as inline integers, so the encoder need not index its integers.
            let value = match inline_id(u64::from(n)) {
                Some(id) => self.value(encoder, id),
                None => encoder.value(TileValue::Int(i64::from(n))),
            };
            tags.push_tag(key, value);
        }
    }

    /// The encoder's index of the value at index `i` of the list of `field` at its first
    /// use in the tile (kept at `at` of `listed`; [`NONE`] for a missing value).
    fn first_listed(&mut self, encoder: &mut LayerEncoder, field: usize, i: u16, at: usize) -> u32 {
        let table = self.table;
        let value = if let Some(short) = table.short.get(at)
            && short.len > 0
        {
            // A short message of an exclusive field, copied from one place.
            encoder.short_value(&short.bytes, usize::from(short.len))
        } else {
            match table.rows.listed_id(field, i) {
                NONE => NONE,
                // No other field holds it: new to the tile at its first use.
                id if table.exclusive.get(field) == Some(&true) => {
                    encoder.encoded_value(table.encoded(id))
                }
                id => self.value(encoder, id),
            }
        };
        if let Some(slot) = self.listed.get_mut(at) {
            *slot = value;
            if self.set.len() < self.set_limit {
                self.set.push(at);
            }
        }
        value
    }

    /// The encoder's index of value `id` of the table, added when first used.
    fn value(&mut self, encoder: &mut LayerEncoder, id: u32) -> u32 {
        if id & INLINE != 0 {
            let n = id & !INLINE;
            if let Some(slot) = self.small.get_mut(n as usize) {
                if *slot == UNSET {
                    *slot = encoder.new_int_value(u64::from(n));
                    if let Ok(n) = u16::try_from(n) {
                        self.small_set.push(n);
                    }
                }
                return *slot;
            }
            self.merge();
        }
        match self.local.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => *o.get(),
            std::collections::hash_map::Entry::Vacant(v) if id & INLINE != 0 => {
                *v.insert(encoder.new_int_value(u64::from(id & !INLINE)))
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                *v.insert(encoder.encoded_value(self.table.encoded(id)))
            }
        }
    }

    /// [`Self::value`] of the inline integer `id`, a feature's own id: a large one is new
    /// unless a value other than a feature id looked one up (see `feature_ids`).
    fn feature_id_value(&mut self, encoder: &mut LayerEncoder, id: u32) -> u32 {
        if self.merged || ((id & !INLINE) as usize) < SMALL_INTS {
            return self.value(encoder, id);
        }
        let index = encoder.new_int_value(u64::from(id & !INLINE));
        if self.feature_ids.capacity() == 0 {
            // Room for every feature of the round at the first: the ids would otherwise
            // grow the list a dozen times a tile.
            self.feature_ids.reserve(self.features);
        }
        self.feature_ids.push((id, index));
        index
    }

    /// Puts the feature ids met so far in `local`, which from now on holds every large
    /// inline integer.
    fn merge(&mut self) {
        if !self.merged {
            self.merged = true;
            self.local.reserve(2 * self.features);
            self.local.extend(self.feature_ids.drain(..));
        }
    }
}
