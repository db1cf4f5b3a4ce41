//! The protobuf wire format under the MVT encoder: varints, zig-zag, field keys, packed
//! fields and their lengths (also a length written ahead as one byte and widened in place
//! when it needs more), and the MVT geometry command integer.
//!
//! Owns: the byte-level primitives [`super::mvt`] writes its messages with.

pub(super) const WIRE_VARINT: u8 = 0;
pub(super) const WIRE_I64: u8 = 1;
pub(super) const WIRE_LEN: u8 = 2;

/// The payload bytes of `values` as a packed field of varints.
pub(super) fn packed_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

/// Appends the first `len` bytes of `buf` to `out`: the whole array (a copy whose length
/// is known when compiling), then the rest cut off.
#[inline]
pub(super) fn append_cut<const N: usize>(out: &mut Vec<u8>, buf: &[u8; N], len: usize) {
    let keep = out.len() + len.min(N);
    out.extend_from_slice(buf);
    out.truncate(keep);
}

/// Writes the varint `v` into `buf` at `at`; returns where it ends.
#[inline]
pub(super) fn put_varint(buf: &mut [u8], mut at: usize, mut v: u64) -> usize {
    while v >= 0x80 {
        buf[at] = (v as u8) | 0x80;
        v >>= 7;
        at += 1;
    }
    buf[at] = v as u8;
    at + 1
}

/// Integers below this are varints of at most four bytes, put together by
/// [`varint_word`].
pub(super) const WORD_VARINT: u64 = 1 << 28;

/// The varint of `v` (below [`WORD_VARINT`]) as the low bytes of a word, and its length:
/// `v`'s groups of seven bits spread to a byte each by shifts, each with its continuation
/// bit but the last. A message of a few such varints is then put together in a register
/// and appended at once ([`append_cut`]), without a loop per byte.
#[inline(always)]
pub(super) fn varint_word(v: u64) -> (u64, usize) {
    let bytes =
        1 + usize::from(v >= 1 << 7) + usize::from(v >= 1 << 14) + usize::from(v >= 1 << 21);
    let groups =
        (v & 0x7f) | ((v & 0x3f80) << 1) | ((v & 0x1f_c000) << 2) | ((v & 0xfe0_0000) << 3);
    // 0x80 on every byte but the last.
    let continued = 0x0080_8080 & ((1u64 << (8 * (bytes - 1))) - 1);
    (groups | continued, bytes)
}

/// Writes `len` as the varint of the one byte reserved for it at `at` of `out`, moving
/// the bytes after it when the varint takes more than one.
#[inline(always)]
pub(super) fn widen_length(out: &mut Vec<u8>, at: usize, len: usize) {
    match (u8::try_from(len), out.get_mut(at)) {
        (Ok(byte @ 0..0x80), Some(slot)) => *slot = byte,
        _ => widen_length_cold(out, at, len),
    }
}

/// [`widen_length`] of a length of two bytes or more.
#[cold]
fn widen_length_cold(out: &mut Vec<u8>, at: usize, len: usize) {
    if at >= out.len() {
        return;
    }
    let mut varint = [0u8; 10];
    let n = put_varint(&mut varint, 0, len as u64);
    out.splice(at..=at, varint[..n].iter().copied());
}

#[inline]
pub(super) fn command(id: u32, count: usize) -> u32 {
    (id & 7) | (u32::try_from(count).unwrap_or(u32::MAX >> 3) << 3)
}

#[inline]
pub(super) fn zigzag32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)).cast_unsigned()
}

#[inline]
pub(super) fn zigzag64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)).cast_unsigned()
}

#[inline]
pub(super) fn write_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[inline]
pub(super) fn write_key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    write_varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

/// Writes `values` as a packed field whose payload is `len` bytes.
pub(super) fn write_packed_len(buf: &mut Vec<u8>, field: u32, values: &[u32], len: usize) {
    write_key(buf, field, WIRE_LEN);
    write_varint(buf, len as u64);
    for &v in values {
        write_varint32(buf, v);
    }
}

/// [`write_varint`] of a `u32`, with the one- and two-byte forms (tag indices, point
/// deltas) written at once.
#[inline]
pub(super) fn write_varint32(buf: &mut Vec<u8>, v: u32) {
    if v < 0x80 {
        buf.push(v as u8);
    } else if v < 0x4000 {
        buf.extend_from_slice(&[(v as u8) | 0x80, (v >> 7) as u8]);
    } else {
        write_varint(buf, u64::from(v));
    }
}

/// The bytes of a length-delimited field (of a field number below 16) of `len` bytes.
pub(super) fn delimited_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

pub(super) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Integers at the edges of each varint length up to [`WORD_VARINT`], for tests of what
/// writes varints.
#[cfg(test)]
pub(super) const VARINT_EDGES: [u64; 10] = [
    0,
    1,
    127,
    128,
    300,
    16_383,
    16_384,
    (1 << 21) - 1,
    1 << 21,
    WORD_VARINT - 1,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag() {
        let mut b = Vec::new();
        write_varint(&mut b, 300);
        assert_eq!(b, [0xAC, 0x02]);
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag64(-2), 3);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(0), 1);
    }

    #[test]
    fn varint_words_are_the_varints() {
        for v in VARINT_EDGES {
            let mut expected = Vec::new();
            write_varint(&mut expected, v);
            let (word, len) = varint_word(v);
            assert_eq!(&word.to_le_bytes()[..len], expected, "{v}");
            assert_eq!(word >> (8 * len), 0, "{v}");
        }
    }

    #[test]
    fn lengths_are_widened_in_place() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 1 << 28] {
            let mut out = vec![7, 0, 9, 9];
            widen_length(&mut out, 1, len);
            let mut expected = vec![7];
            write_varint(&mut expected, len as u64);
            expected.extend_from_slice(&[9, 9]);
            assert_eq!(out, expected, "{len}");
        }
    }
}
