//! Sharing the repeated strings of a field: each distinct value is allocated once.
//!
//! Values of up to [`SHORT`] bytes are keyed by their bytes held in the table itself, so
//! finding one compares three words in place instead of following a pointer to the text
//! (which, for tens of thousands of values, is a cache miss per lookup). Longer values are
//! keyed by the shared string.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::catalog::model::ArcStr;

/// Interning stops for a field once it has this many distinct strings: such fields (names,
/// ids) gain nothing from sharing.
pub const INTERN_LIMIT: usize = 65_536;

/// The longest value keyed by its bytes in place.
const SHORT: usize = 23;

/// The distinct strings of one field.
#[derive(Debug, Default)]
pub struct FieldStrings {
    short: FxHashMap<[u64; 3], ArcStr>,
    long: FxHashSet<ArcStr>,
}

/// `s` as three words: its bytes, zero-padded, with its length in the last byte.
fn short_key(s: &str) -> Option<[u64; 3]> {
    let bytes = s.as_bytes();
    let len = u8::try_from(bytes.len())
        .ok()
        .filter(|&n| usize::from(n) <= SHORT)?;
    let mut buf = [0_u8; 24];
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[23] = len;
    let word = |i: usize| {
        let mut w = [0_u8; 8];
        w.copy_from_slice(&buf[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    Some([word(0), word(1), word(2)])
}

impl FieldStrings {
    /// How many distinct strings the field has.
    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// The shared copy of `s`, if the field has seen it.
    pub fn get(&self, s: &str) -> Option<ArcStr> {
        match short_key(s) {
            Some(key) => self.short.get(&key).cloned(),
            None => self.long.get(s).cloned(),
        }
    }

    /// Records a first-seen string.
    pub fn insert(&mut self, shared: ArcStr) {
        match short_key(&shared) {
            Some(key) => {
                self.short.insert(key, shared);
            }
            None => {
                self.long.insert(shared);
            }
        }
    }
}

/// What [`Interner::held_bytes`] counts for a string's entry besides its bytes: the table's
/// key or slot, the shared string's header and the allocator's rounding.
const ENTRY_BYTES: usize = 64;

/// Per field: its strings so far, or `None` once it has more than `INTERN_LIMIT` (65,536).
#[derive(Debug, Default)]
pub struct Interner {
    fields: Vec<Option<FieldStrings>>,
    /// An estimate of the memory the table holds (see [`Interner::held_bytes`]).
    held: usize,
}

impl Interner {
    /// Makes room for field `pos` (and any before it) when it is new.
    pub fn note_field(&mut self, pos: usize) {
        if pos >= self.fields.len() {
            self.fields
                .resize_with(pos + 1, || Some(FieldStrings::default()));
        }
    }

    /// An estimate of the memory the table holds: each string's bytes and 64 for its entry
    /// (a field given up at 65,536 strings still counts what it held). A table kept across
    /// many edits uses it to bound what it keeps alive.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// The shared copy of `s` for field `pos`: allocated only the first time it is seen.
    pub fn intern(&mut self, pos: usize, s: &str) -> ArcStr {
        let Some(Some(strings)) = self.fields.get_mut(pos) else {
            return ArcStr::from(s);
        };
        if let Some(shared) = strings.get(s) {
            return shared;
        }
        if strings.len() >= INTERN_LIMIT {
            self.fields[pos] = None;
            return ArcStr::from(s);
        }
        let shared = ArcStr::from(s);
        strings.insert(shared.clone());
        self.held += s.len() + ENTRY_BYTES;
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_copy_short_and_long() {
        let mut i = Interner::default();
        i.note_field(0);
        let long = "a value longer than twenty-three bytes";
        for s in [
            "",
            "kabul",
            "12345678901234567890123",
            "123456789012345678901234",
            long,
        ] {
            let a = i.intern(0, s);
            let copy = s.to_owned();
            let b = i.intern(0, &copy);
            assert_eq!(&*a, s);
            assert!(ArcStr::ptr_eq(&a, &b), "{s:?}");
        }
        // A prefix padded with zeros is a different key from the string holding the zeros.
        let a = i.intern(0, "ab");
        let b = i.intern(0, "ab\0");
        assert_eq!((&*a, &*b), ("ab", "ab\0"));
        // Fields do not share.
        i.note_field(1);
        assert!(!ArcStr::ptr_eq(
            &i.intern(1, "kabul"),
            &i.intern(0, "kabul")
        ));
    }

    #[test]
    fn a_field_noted_past_the_end_makes_room_for_those_before_it() {
        let mut i = Interner::default();
        i.note_field(3);
        for field in 0..=3 {
            let a = i.intern(field, "2026-01-01");
            assert!(
                ArcStr::ptr_eq(&a, &i.intern(field, "2026-01-01")),
                "{field}"
            );
        }
        i.note_field(1);
        let kept = i.intern(1, "load");
        assert!(
            ArcStr::ptr_eq(&kept, &i.intern(1, "load")),
            "noting again keeps"
        );
    }

    #[test]
    fn held_bytes_count_each_new_string_once() {
        let (short, long) = ("kabul", "a value longer than twenty-three bytes");
        let mut i = Interner::default();
        assert_eq!(i.held_bytes(), 0);
        i.note_field(0);
        i.intern(0, short);
        i.intern(0, short);
        i.intern(0, long);
        let held = short.len() + long.len() + 2 * ENTRY_BYTES;
        assert_eq!(i.held_bytes(), held);
        // A field not noted keeps nothing.
        i.intern(4, "herat");
        assert_eq!(i.held_bytes(), held);
    }
}
