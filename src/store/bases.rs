//! What each stored feature's changes are stored against.
//!
//! Owns: [`Bases`], for every feature the store has a record of (by layer and id), the
//! fingerprint ([`super::merge::fingerprint`]) of the shipped feature its first change was
//! made over, or `None` for a feature created through the API. Each later change of the
//! feature is stored with the same base, so that a restart can tell when the geodata
//! changed under an edit. The writer keeps one entry per stored feature for as long as it
//! runs (a quarter of a million after a few minutes of heavy writes): a fingerprint in the
//! form `fingerprint` writes (32 lower-case hexadecimal digits) is kept as its 16 bytes, and
//! the ids of a layer in a map of their own, so that no entry owns a string.

use std::collections::HashMap;

use foldhash::fast::RandomState;

/// A base as kept: the bytes of a fingerprint, or a text of another form as it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Base {
    Fingerprint([u8; 16]),
    Text(Box<str>),
}

/// Digits of a fingerprint.
const DIGITS: usize = 32;

impl Base {
    fn of(text: &str) -> Self {
        let lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        match u128::from_str_radix(text, 16) {
            Ok(n) if text.len() == DIGITS && text.bytes().all(|b| lower_hex(&b)) => {
                Self::Fingerprint(n.to_le_bytes())
            }
            _ => Self::Text(text.into()),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Fingerprint(bytes) => format!("{:032x}", u128::from_le_bytes(*bytes)),
            Self::Text(text) => text.to_string(),
        }
    }
}

/// The base of every stored feature, by layer and id.
#[derive(Debug, Default)]
pub struct Bases {
    layers: HashMap<String, HashMap<u64, Option<Base>, RandomState>>,
}

impl Bases {
    /// `Some(base)` when the store has a record of feature `id` of `layer` (`base` is `None`
    /// for a feature created through the API), `None` when it has none.
    pub fn get(&self, layer: &str, id: u64) -> Option<Option<String>> {
        let base = self.layers.get(layer)?.get(&id)?;
        Some(base.as_ref().map(Base::text))
    }

    /// Notes the base of feature `id` of `layer`, unless the feature has one already.
    pub fn note(&mut self, layer: &str, id: u64, base: Option<&str>) {
        let ids = match self.layers.get_mut(layer) {
            Some(ids) => ids,
            None => self.layers.entry(layer.to_owned()).or_default(),
        };
        ids.entry(id).or_insert_with(|| base.map(Base::of));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_base_comes_back_as_it_was_noted() {
        let fingerprint = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"a feature"));
        let small = format!("{:032x}", 7_u128);
        let texts = [
            fingerprint.as_str(),
            small.as_str(),
            "an older form",
            "",
            // Not in the form a fingerprint is written in: kept as text.
            "0123456789ABCDEF0123456789abcdef",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
        ];
        let mut bases = Bases::default();
        for (id, text) in (1..).zip(texts) {
            bases.note("pts", id, Some(text));
        }
        bases.note("pts", 100, None);
        bases.note("other", 1, None);
        for (id, text) in (1..).zip(texts) {
            assert_eq!(
                bases.get("pts", id),
                Some(Some(text.to_owned())),
                "{text:?}"
            );
        }
        assert_eq!(bases.get("pts", 100), Some(None));
        assert_eq!(bases.get("other", 1), Some(None));
        assert_eq!(bases.get("other", 2), None);
        assert_eq!(bases.get("none", 1), None);
        assert_eq!(Base::of(&fingerprint), Base::of(&fingerprint));
        assert!(matches!(Base::of(&fingerprint), Base::Fingerprint(_)));
        assert!(matches!(Base::of(&small), Base::Fingerprint(_)));
    }

    #[test]
    fn the_first_base_noted_stays() {
        let mut bases = Bases::default();
        bases.note("pts", 1, Some("first"));
        bases.note("pts", 1, Some("second"));
        bases.note("pts", 2, None);
        bases.note("pts", 2, Some("later"));
        assert_eq!(bases.get("pts", 1), Some(Some("first".to_owned())));
        assert_eq!(bases.get("pts", 2), Some(None));
    }
}
