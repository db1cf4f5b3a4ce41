//! Entity tags: the one scheme behind every `ETag` the server sends.
//!
//! Owns: turning the bytes that name a state (a response body, a feature's canonical body,
//! an uncompressed tile) into a strong, quoted entity tag. It does not decide which bytes
//! name a state; the modules that own each representation do.

/// The strong entity tag of `bytes`, quoted: the 128-bit XXH3 of the bytes as 32 hex digits.
///
/// ```
/// let tag = khorasan_atlas::etag::strong(b"{}");
/// assert_eq!(tag.len(), 34);
/// assert_eq!(tag, khorasan_atlas::etag::strong(b"{}"));
/// assert_ne!(tag, khorasan_atlas::etag::strong(b"[]"));
/// ```
pub fn strong(bytes: &[u8]) -> String {
    quoted_hex(xxhash_rust::xxh3::xxh3_128(bytes))
}

/// [`strong`] of `parts` one after the other, hashed in place rather than copied together
/// first.
pub fn strong_of_parts(parts: &[&[u8]]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        hasher.update(part);
    }
    quoted_hex(hasher.digest128())
}

/// `"{hash:032x}"` with its quotes, written digit by digit: `format!`'s padded hex took
/// about 1,800 instructions, as much as the hash of a 20 KB page.
fn quoted_hex(hash: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut tag = [b'"'; 34];
    for (i, slot) in tag[1..33].iter_mut().enumerate() {
        let nibble = (hash >> (124 - 4 * i)) & 0xf;
        *slot = DIGITS[nibble as usize];
    }
    tag.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_the_padded_hex_of_the_hash() {
        for hash in [0, 1, 0xabc, u128::MAX, 1 << 127, 0x0123_4567_89ab_cdef << 3] {
            assert_eq!(quoted_hex(hash), format!("\"{hash:032x}\""));
        }
    }

    #[test]
    fn parts_hash_as_their_concatenation() {
        let tile: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for parts in [
            vec![&tile[..], &[0][..], b"filter=deaths>3"],
            vec![&tile[..10], &tile[10..]],
            vec![&[][..]],
            vec![],
        ] {
            assert_eq!(strong_of_parts(&parts), strong(&parts.concat()));
        }
    }
}
