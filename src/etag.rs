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
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(bytes))
}
