//! The MVT 2.1 encoder (Mapbox Vector Tile specification 2.1, protobuf).
//!
//! Owns: the protobuf wire format of `Tile`, `Layer`, `Feature` and `Value`; the geometry
//! command stream (MoveTo / LineTo / ClosePath with zig-zag deltas); the dedup of keys and
//! values per layer. Input geometry is already in integer tile units (y down), clipped,
//! simplified and wound (exterior rings with positive shoelace area, i.e. clockwise on
//! screen); this module only writes it.
//!
//! Hand-written rather than generated (`prost`) or adapted (`geozero`): the format is four
//! small messages, writing them directly avoids an intermediate object tree per tile and a
//! build-time code generator, and keeps the hot path allocation-light.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::wire::{
    WIRE_I64, WIRE_LEN, WIRE_VARINT, WORD_VARINT, append_cut, command, delimited_len, packed_len,
    put_varint, varint_len, varint_word, widen_length, write_key, write_packed_len, write_varint,
    zigzag32, zigzag64,
};

type Map<K, V> = HashMap<K, V, RandomState>;

/// Geometry in tile units, ready to encode.
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    /// One point (no allocation).
    Point([i32; 2]),
    /// One or more points.
    Points(Vec<[i32; 2]>),
    /// One or more lines, each of at least two distinct consecutive points.
    Lines(Vec<Vec<[i32; 2]>>),
    /// Polygons: each a list of rings, exterior first, rings not closed (the first point
    /// is not repeated). Exterior rings have positive area, holes negative.
    Polygons(Vec<Vec<Vec<[i32; 2]>>>),
}

/// A property value, typed as MVT types it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TileValue<'a> {
    Str(&'a str),
    /// A shared string (as layers store them): deduplicated without copying it.
    Shared(&'a crate::catalog::ArcStr),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Arrays and objects: written as their JSON text (MVT has no nested values).
    Json(&'a serde_json::Value),
}

/// Where the tags of a feature (key and value indices) go as they are found.
pub trait TagSink {
    fn push_tag(&mut self, key: u32, value: u32);
}

impl TagSink for Vec<u32> {
    #[inline]
    fn push_tag(&mut self, key: u32, value: u32) {
        self.push(key);
        self.push(value);
    }
}

/// Tags written straight as the varints of a packed field, into the layer's features.
#[derive(Debug, Default)]
pub struct TagBytes(Vec<u8>);

impl TagSink for TagBytes {
    #[inline(always)]
    fn push_tag(&mut self, key: u32, value: u32) {
        // Keys are few and a tile's values at most some thousands: one byte and two.
        match (u8::try_from(key), value) {
            (Ok(k @ 0..0x80), 0..0x80) => self.0.extend_from_slice(&[k, value as u8]),
            (Ok(k @ 0..0x80), 0x80..0x4000) => {
                self.0
                    .extend_from_slice(&[k, (value as u8) | 0x80, (value >> 7) as u8]);
            }
            _ => {
                write_varint(&mut self.0, u64::from(key));
                write_varint(&mut self.0, u64::from(value));
            }
        }
    }
}

/// Most keys of a layer looked for one by one, by comparing their text, before they are
/// indexed by their hash: a layer of a few fields (most layers) makes no key twice and
/// hashes none.
const LISTED_KEYS: usize = 16;

/// Bytes at the front of a layer's buffer kept for the layer's key and length in the tile
/// (field 3 of `Tile`): one byte, then a varint of at most five.
const HEAD_ROOM: usize = 6;

/// Encodes one layer of a tile. Create it, add features, then [`LayerEncoder::finish`]
/// into the tile buffer, or take the layer in its own buffer ([`LayerEncoder::into_layer`]).
///
/// The layer's fields are written in the order of their numbers, as protobuf encoders
/// write them: name, features, keys, values, extent, version. The name is written when
/// the encoder is made, after room for the layer's key and length, and the features follow
/// it in the same buffer, which thus becomes the layer without being copied.
#[derive(Debug)]
pub struct LayerEncoder {
    extent: u32,
    /// [`HEAD_ROOM`] bytes, the name (field 1), then the features (field 2) as added.
    features: Vec<u8>,
    /// Where the features start in `features`.
    features_start: usize,
    keys: Vec<String>,
    /// Every key by its index, once there are more than [`LISTED_KEYS`] (else empty).
    key_index: Map<String, u32>,
    values: Vec<u8>,
    strings: Map<crate::catalog::ArcStr, u32>,
    ints: Map<i64, u32>,
    doubles: Map<u64, u32>,
    bools: [Option<u32>; 2],
    value_count: u32,
    count: usize,
    tags: Vec<u32>,
    /// Per tag slot: the address and length of the last key string seen there, and its
    /// index (a hit skips hashing the key).
    key_memo: Vec<((usize, usize), u32)>,
    geom: Vec<u32>,
    /// Where a small feature is put together before it is appended ([`SmallFeature`]).
    small: SmallFeature,
}

impl LayerEncoder {
    /// A layer named `name` with `extent` units per tile side.
    pub fn new(name: &str, extent: u32) -> Self {
        let mut features = Vec::with_capacity(HEAD_ROOM + 6 + name.len());
        features.resize(HEAD_ROOM, 0);
        write_key(&mut features, 1, WIRE_LEN);
        write_varint(&mut features, name.len() as u64);
        features.extend_from_slice(name.as_bytes());
        Self {
            extent,
            features_start: features.len(),
            features,
            keys: Vec::new(),
            key_index: Map::default(),
            values: Vec::new(),
            strings: Map::default(),
            ints: Map::default(),
            doubles: Map::default(),
            bools: [None; 2],
            value_count: 0,
            count: 0,
            tags: Vec::new(),
            key_memo: Vec::new(),
            geom: Vec::new(),
            small: SmallFeature::new(),
        }
    }

    /// Makes room for about `bytes` bytes of features and `values` values, so that a
    /// large layer does not grow its buffers step by step.
    pub fn reserve(&mut self, bytes: usize, values: usize) {
        self.features.reserve(bytes);
        self.values.reserve(values * 16);
    }

    /// Number of features added.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes written so far (features, keys and values), a lower bound of the layer size.
    pub fn size(&self) -> usize {
        (self.features.len() - self.features_start)
            + self.values.len()
            + self.keys.iter().map(|k| k.len() + 2).sum::<usize>()
    }

    /// Adds a feature. Returns false (and adds nothing) when the geometry is empty.
    pub fn add_feature<'a>(
        &mut self,
        id: Option<u64>,
        props: impl IntoIterator<Item = (&'a str, TileValue<'a>)>,
        geometry: &TileGeometry,
    ) -> bool {
        self.add_with_tags(id, geometry, |encoder, tags| {
            for (slot, (key, value)) in props.into_iter().enumerate() {
                // Features of a layer repeat the same keys in the same order (often the
                // very same `&str`s): remember the key index of each slot by the string's
                // address (and check the text, which is cheaper than hashing it).
                let addr = (key.as_ptr() as usize, key.len());
                let k = match encoder.key_memo.get(slot) {
                    Some(&(a, i)) if a == addr && encoder.keys[i as usize] == key => i,
                    _ => {
                        let i = encoder.key(key);
                        if slot < encoder.key_memo.len() {
                            encoder.key_memo[slot] = (addr, i);
                        } else if slot == encoder.key_memo.len() {
                            encoder.key_memo.push((addr, i));
                        }
                        i
                    }
                };
                let v = encoder.value(value);
                tags.push(k);
                tags.push(v);
            }
        })
    }

    /// Adds a feature whose tags (key and value indices, alternating) `tags` pushes: the
    /// indices come from [`Self::key`], [`Self::value`] or [`Self::encoded_value`] of this
    /// encoder, which `tags` is given. Returns false (and adds nothing, `tags` is not
    /// called) when the geometry is empty.
    pub fn add_with_tags(
        &mut self,
        id: Option<u64>,
        geometry: &TileGeometry,
        tags: impl FnOnce(&mut Self, &mut Vec<u32>),
    ) -> bool {
        self.geom.clear();
        let kind = encode_geometry(geometry, &mut self.geom);
        if self.geom.is_empty() {
            return false;
        }
        let mut list = std::mem::take(&mut self.tags);
        list.clear();
        tags(self, &mut list);
        self.count += 1;
        write_feature(
            &mut self.small,
            &mut self.features,
            id,
            &list,
            kind,
            &self.geom,
        );
        self.tags = list;
        true
    }

    /// Adds a feature of one point at `at` (tile units), whose tags `tags` pushes (as
    /// [`Self::add_with_tags`] has them): the same bytes, the tags written as varints
    /// straight into the layer as they come and no geometry to encode. The feature's and
    /// the tags' lengths are written as one byte each and widened in place in the rare
    /// feature that needs more. The layer's features are out of the encoder while `tags`
    /// runs: it adds keys and values, never features. Inlined into its caller, the loop
    /// that writes a tile's points.
    #[inline(always)]
    pub fn add_point(
        &mut self,
        id: u64,
        at: [i32; 2],
        tags: impl FnOnce(&mut Self, &mut TagBytes),
    ) {
        let mut out = TagBytes(std::mem::take(&mut self.features));
        let start = out.0.len();
        let mut head = [0u8; 16];
        head[0] = (2 << 3) | WIRE_LEN;
        head[2] = (1 << 3) | WIRE_VARINT;
        let mut head_len = put_varint(&mut head, 3, id);
        head[head_len] = (2 << 3) | WIRE_LEN;
        head_len += 2;
        append_cut(&mut out.0, &head, head_len);
        let tags_start = out.0.len();
        tags(self, &mut out);
        let mut out = out.0;
        self.count += 1;
        let tags_len = out.len() - tags_start;
        if tags_len == 0 {
            out.truncate(tags_start - 2);
        } else {
            widen_length(&mut out, tags_start - 1, tags_len);
        }
        let (x, y) = (u64::from(zigzag32(at[0])), u64::from(zigzag32(at[1])));
        // Type, then the geometry: one MoveTo and the point.
        let mut tail = [0u8; 24];
        tail[..4].copy_from_slice(&[(3 << 3) | WIRE_VARINT, 1, (4 << 3) | WIRE_LEN, 0]);
        tail[4] = 9;
        let mut end = put_varint(&mut tail, 5, x);
        end = put_varint(&mut tail, end, y);
        tail[3] = (end - 4) as u8;
        append_cut(&mut out, &tail, end);
        let len = out.len() - start - 2;
        widen_length(&mut out, start + 1, len);
        self.features = out;
    }

    /// A value given as its encoded `Value` message (field 4 of `Layer`, key included, as
    /// [`write_value`] writes it), added without looking for it among the values added so
    /// far: the caller knows it is new.
    pub fn encoded_value(&mut self, encoded: &[u8]) -> u32 {
        self.values.extend_from_slice(encoded);
        self.next_value()
    }

    /// [`Self::encoded_value`] of the first `len` bytes of `message`: a copy whose length
    /// is known when compiling, then cut.
    pub fn short_value<const N: usize>(&mut self, message: &[u8; N], len: usize) -> u32 {
        append_cut(&mut self.values, message, len);
        self.next_value()
    }

    /// Adds the integer `n` to the layer's values as [`write_value`] writes it, without
    /// looking for it among the values added so far: the caller knows it is new.
    pub fn new_int_value(&mut self, n: u64) -> u32 {
        write_int_value(&mut self.values, 5, n);
        self.next_value()
    }

    /// The index of the value just written to `values`.
    fn next_value(&mut self) -> u32 {
        let i = self.value_count;
        self.value_count += 1;
        i
    }

    /// The index of `key` in the layer's keys, added when new.
    pub fn key(&mut self, key: &str) -> u32 {
        let found = if self.keys.len() <= LISTED_KEYS {
            let at = self.keys.iter().position(|k| k == key);
            at.map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        } else {
            self.key_index.get(key).copied()
        };
        if let Some(i) = found {
            return i;
        }
        let i = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(key.to_owned());
        if self.keys.len() == LISTED_KEYS + 1 {
            // From now on the keys are looked for by their hash: index them all.
            for (at, k) in (0u32..).zip(&self.keys) {
                self.key_index.insert(k.clone(), at);
            }
        } else if self.keys.len() > LISTED_KEYS {
            self.key_index.insert(key.to_owned(), i);
        }
        i
    }

    /// The index of `value` in the layer's values, added when new.
    pub fn value(&mut self, value: TileValue<'_>) -> u32 {
        if let TileValue::Json(v) = value {
            let text = v.to_string();
            return self.value(TileValue::Str(&text));
        }
        let found = match value {
            TileValue::Str(v) => self.strings.get(v).copied(),
            TileValue::Shared(v) => self.strings.get(&**v).copied(),
            TileValue::Int(i) => self.ints.get(&i).copied(),
            TileValue::Double(f) => self.doubles.get(&f.to_bits()).copied(),
            TileValue::Bool(b) => self.bools[usize::from(b)],
            TileValue::Json(_) => None,
        };
        if let Some(i) = found {
            return i;
        }
        write_value(&mut self.values, value);
        let i = self.next_value();
        match value {
            TileValue::Str(v) => {
                self.strings.insert(v.into(), i);
            }
            TileValue::Shared(v) => {
                self.strings.insert(v.clone(), i);
            }
            TileValue::Int(n) => {
                self.ints.insert(n, i);
            }
            TileValue::Double(f) => {
                self.doubles.insert(f.to_bits(), i);
            }
            TileValue::Bool(b) => self.bools[usize::from(b)] = Some(i),
            TileValue::Json(_) => {}
        }
        i
    }

    /// Appends the layer (as field 3 of `Tile`) to `tile`. Empty layers are written too;
    /// callers skip them if they wish.
    pub fn finish(self, tile: &mut Vec<u8>) {
        let body = self.features.get(HEAD_ROOM..).unwrap_or_default();
        let len = body.len() + self.trailer_len();
        tile.reserve(1 + varint_len(len as u64) + len);
        write_key(tile, 3, WIRE_LEN);
        write_varint(tile, len as u64);
        tile.extend_from_slice(body);
        self.write_trailer(tile);
    }

    /// The layer completed in its own buffer (keys, values, extent and version after the
    /// features; its key and length as field 3 of `Tile` just before its name): the buffer,
    /// and where the layer starts in it. The bytes from there are a tile of this one layer,
    /// the bytes [`Self::finish`] appends.
    pub fn into_layer(mut self) -> (Vec<u8>, usize) {
        let len = self.features.len() - HEAD_ROOM + self.trailer_len();
        let Some(start) = HEAD_ROOM.checked_sub(1 + varint_len(len as u64)) else {
            // A layer of 32 GiB or more: its length takes more than the room kept.
            let mut tile = Vec::new();
            self.finish(&mut tile);
            return (tile, 0);
        };
        let mut layer = std::mem::take(&mut self.features);
        layer.reserve(self.trailer_len());
        self.write_trailer(&mut layer);
        layer[start] = (3 << 3) | WIRE_LEN;
        put_varint(&mut layer, start + 1, len as u64);
        (layer, start)
    }

    /// Bytes of the fields after the features: keys, values, extent and version.
    fn trailer_len(&self) -> usize {
        let keys: usize = self.keys.iter().map(|k| delimited_len(k.len())).sum();
        keys + self.values.len() + 1 + varint_len(u64::from(self.extent)) + 2
    }

    /// Writes the fields after the features ([`Self::trailer_len`] bytes).
    fn write_trailer(&self, out: &mut Vec<u8>) {
        for k in &self.keys {
            write_key(out, 3, WIRE_LEN);
            write_varint(out, k.len() as u64);
            out.extend_from_slice(k.as_bytes());
        }
        out.extend_from_slice(&self.values);
        write_key(out, 5, WIRE_VARINT);
        write_varint(out, u64::from(self.extent));
        write_key(out, 15, WIRE_VARINT);
        write_varint(out, 2);
    }
}

/// Writes `value` as a `Value` message, field 4 of `Layer` (arrays and objects as their
/// JSON text).
pub fn write_value(values: &mut Vec<u8>, value: TileValue<'_>) {
    let mut string = |s: &str| {
        let len = s.len() as u64;
        write_key(values, 4, WIRE_LEN);
        write_varint(values, 1 + varint_len(len) as u64 + len);
        write_key(values, 1, WIRE_LEN);
        write_varint(values, len);
        values.extend_from_slice(s.as_bytes());
    };
    match value {
        TileValue::Str(s) => string(s),
        TileValue::Shared(s) => string(s),
        TileValue::Json(v) => string(&v.to_string()),
        TileValue::Double(f) => {
            write_key(values, 4, WIRE_LEN);
            write_varint(values, 9);
            write_key(values, 3, WIRE_I64);
            values.extend_from_slice(&f.to_le_bytes());
        }
        TileValue::Int(i) => {
            let (field, v) = if i >= 0 {
                (5, i.unsigned_abs())
            } else {
                (6, zigzag64(i))
            };
            write_int_value(values, field, v);
        }
        TileValue::Bool(b) => {
            write_key(values, 4, WIRE_LEN);
            write_varint(values, 2);
            write_key(values, 7, WIRE_VARINT);
            write_varint(values, u64::from(b));
        }
    }
}

/// Appends a feature to `features`: through `small` when it is small enough, else with
/// [`write_feature_fields`].
fn write_feature(
    small: &mut SmallFeature,
    features: &mut Vec<u8>,
    id: Option<u64>,
    tags: &[u32],
    kind: u64,
    geom: &[u32],
) {
    match small.write(id, tags, kind, geom) {
        Some(bytes) => features.extend_from_slice(bytes),
        None => write_feature_fields(features, id, tags, kind, geom),
    }
}

/// Writes a `Feature` (field 2 of `Layer`) of `id`, the tag indices `tags`, the geometry
/// type `kind` and the command integers `geom`, each field in place: the feature's length
/// is computed first.
fn write_feature_fields(out: &mut Vec<u8>, id: Option<u64>, tags: &[u32], kind: u64, geom: &[u32]) {
    let (tags_len, geom_len) = (packed_len(tags), packed_len(geom));
    let len = id.map_or(0, |id| 1 + varint_len(id))
        + if tags.is_empty() {
            0
        } else {
            delimited_len(tags_len)
        }
        + 1
        + varint_len(kind)
        + delimited_len(geom_len);
    out.reserve(1 + varint_len(len as u64) + len);
    write_key(out, 2, WIRE_LEN);
    write_varint(out, len as u64);
    if let Some(id) = id {
        write_key(out, 1, WIRE_VARINT);
        write_varint(out, id);
    }
    if !tags.is_empty() {
        write_packed_len(out, 2, tags, tags_len);
    }
    write_key(out, 3, WIRE_VARINT);
    write_varint(out, kind);
    write_packed_len(out, 4, geom, geom_len);
}

/// Writes an integer `Value` message: `v` as field `field` (5 unsigned, 6 zig-zag).
#[inline]
fn write_int_value(values: &mut Vec<u8>, field: u32, v: u64) {
    match (u8::try_from(field << 3), v) {
        (Ok(key @ 0..0x80), 0..WORD_VARINT) => write_short_int_value(values, key, v),
        _ => write_long_int_value(values, field, v),
    }
}

/// [`write_int_value`] of `v` below [`WORD_VARINT`], the value's key being `key`: the
/// message (at most seven bytes) put together in one word and appended at once.
#[inline]
fn write_short_int_value(values: &mut Vec<u8>, key: u8, v: u64) {
    let (varint, bytes) = varint_word(v);
    let word = u64::from((4 << 3) | WIRE_LEN)
        | ((bytes as u64 + 1) << 8)
        | (u64::from(key) << 16)
        | (varint << 24);
    append_cut(values, &word.to_le_bytes(), 3 + bytes);
}

/// [`write_int_value`] of a larger integer or field.
#[cold]
fn write_long_int_value(values: &mut Vec<u8>, field: u32, v: u64) {
    write_key(values, 4, WIRE_LEN);
    write_varint(values, 1 + varint_len(v) as u64);
    write_key(values, field, WIRE_VARINT);
    write_varint(values, v);
}

/// Most tag and geometry integers of a feature put together in a [`SmallFeature`].
const SMALL_VALUES: usize = 64;
/// Room before a small feature's tags for the fields that precede them: the feature's key
/// and length (at most 3 bytes, as the feature is short), its id (at most 11) and the tags'
/// key and length (at most 3).
const SMALL_HEAD: usize = 17;
/// Bytes of a [`SmallFeature`]: the head, the tags, the type, the geometry's key and length.
const SMALL_BYTES: usize = SMALL_HEAD + 5 * SMALL_VALUES + 8;

/// A feature of few tags and geometry integers (a point's, most often) put together in one
/// buffer and appended at once, instead of varint by varint into the layer.
#[derive(Debug)]
struct SmallFeature {
    buf: Box<[u8; SMALL_BYTES]>,
}

impl SmallFeature {
    fn new() -> Self {
        Self {
            buf: Box::new([0; SMALL_BYTES]),
        }
    }

    /// The encoded feature (as [`write_feature_fields`] writes it), or `None` when
    /// it has too many integers to be small.
    fn write(&mut self, id: Option<u64>, tags: &[u32], kind: u64, geom: &[u32]) -> Option<&[u8]> {
        if tags.len() + geom.len() > SMALL_VALUES || kind > 0x7f {
            return None;
        }
        let mut end = SMALL_HEAD;
        for &v in tags {
            end = put_varint(&mut self.buf[..], end, u64::from(v));
        }
        let tags_len = end - SMALL_HEAD;
        self.buf[end] = (3 << 3) | WIRE_VARINT;
        self.buf[end + 1] = kind as u8;
        self.buf[end + 2] = (4 << 3) | WIRE_LEN;
        end = put_varint(&mut self.buf[..], end + 3, packed_len(geom) as u64);
        for &v in geom {
            end = put_varint(&mut self.buf[..], end, u64::from(v));
        }
        // The fields before the tags, written so that they end where the tags start.
        let id_len = id.map_or(0, |id| 1 + varint_len(id));
        let tags_head = if tags.is_empty() {
            0
        } else {
            1 + varint_len(tags_len as u64)
        };
        let len = id_len + tags_head + (end - SMALL_HEAD);
        let start = SMALL_HEAD - tags_head - id_len - 1 - varint_len(len as u64);
        let mut at = start;
        self.buf[at] = (2 << 3) | WIRE_LEN;
        at = put_varint(&mut self.buf[..], at + 1, len as u64);
        if let Some(id) = id {
            self.buf[at] = (1 << 3) | WIRE_VARINT;
            at = put_varint(&mut self.buf[..], at + 1, id);
        }
        if !tags.is_empty() {
            self.buf[at] = (2 << 3) | WIRE_LEN;
            put_varint(&mut self.buf[..], at + 1, tags_len as u64);
        }
        Some(&self.buf[start..end])
    }
}

/// Writes the command stream; returns the MVT `GeomType` (1 point, 2 line, 3 polygon).
fn encode_geometry(g: &TileGeometry, out: &mut Vec<u32>) -> u64 {
    let mut cursor = [0i32, 0i32];
    let mut delta = |out: &mut Vec<u32>, p: [i32; 2]| {
        out.push(zigzag32(p[0].wrapping_sub(cursor[0])));
        out.push(zigzag32(p[1].wrapping_sub(cursor[1])));
        cursor = p;
    };
    match g {
        TileGeometry::Point(p) => {
            out.push(command(1, 1));
            delta(out, *p);
            1
        }
        TileGeometry::Points(points) => {
            if !points.is_empty() {
                out.push(command(1, points.len()));
                for &p in points {
                    delta(out, p);
                }
            }
            1
        }
        TileGeometry::Lines(lines) => {
            for line in lines.iter().filter(|l| l.len() >= 2) {
                out.push(command(1, 1));
                delta(out, line[0]);
                out.push(command(2, line.len() - 1));
                for &p in &line[1..] {
                    delta(out, p);
                }
            }
            2
        }
        TileGeometry::Polygons(polygons) => {
            for ring in polygons.iter().flatten().filter(|r| r.len() >= 3) {
                out.push(command(1, 1));
                delta(out, ring[0]);
                out.push(command(2, ring.len() - 1));
                for &p in &ring[1..] {
                    delta(out, p);
                }
                out.push(command(7, 1));
            }
            3
        }
    }
}

#[cfg(test)]
mod tests;
