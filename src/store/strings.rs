//! The string values writes put, kept from one batch to the next.
//!
//! Owns: [`WrittenStrings`], per layer the table ([`Interner`]) of the string values its
//! last batches put, by field, which the next batch's [`super::merge::LayerEdit`] starts
//! from, so that a value written again (a date, a category) shares the copy made before.
//! The table keeps its values alive after the features that held them are gone, so it is
//! bounded ([`MAX_KEPT_BYTES`]).

use std::collections::HashMap;

use super::merge::LayerEdit;
use crate::catalog::Layer;
use crate::catalog::load::Interner;

/// Most memory (as [`Interner::held_bytes`] estimates it) a layer's table may hold when a
/// batch starts: past it the batch starts a new table. A field of unique values (names)
/// fills it in some tens of thousands of writes, after which the repeated ones are shared
/// again from the next batch.
pub const MAX_KEPT_BYTES: usize = 4 << 20;

/// Per layer, the table of the string values its last batches put.
#[derive(Debug, Default)]
pub struct WrittenStrings(HashMap<String, Interner>);

impl WrittenStrings {
    /// The table a batch of `layer` starts from: the last batch's, unless it holds more
    /// than [`MAX_KEPT_BYTES`] (then an empty one). Give it back with [`Self::keep`].
    fn take(&mut self, layer: &str) -> Interner {
        self.0
            .remove(layer)
            .filter(|s| s.held_bytes() <= MAX_KEPT_BYTES)
            .unwrap_or_default()
    }

    /// Keeps `strings`, the table a batch of `layer` ended with, for its next batch.
    fn keep(&mut self, layer: &str, strings: Interner) {
        self.0.insert(layer.to_owned(), strings);
    }

    /// A batch's edit of `snapshot`, the current snapshot of `layer` (`shipped` fields as
    /// loaded), starting from the layer's table ([`Self::take`]).
    pub fn edit(&mut self, layer: &str, snapshot: &Layer, shipped: usize) -> LayerEdit {
        LayerEdit::new(snapshot, shipped).with_strings(self.take(layer))
    }

    /// The new snapshot of `layer` that `edit` (made by [`Self::edit`] from `snapshot`)
    /// gives, keeping the edit's table for the layer's next batch.
    pub fn finish(&mut self, layer: &str, mut edit: LayerEdit, snapshot: &Layer) -> Layer {
        self.keep(layer, edit.take_strings());
        edit.finish(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::ArcStr;

    #[test]
    fn a_table_is_kept_up_to_its_bound() {
        let mut written = WrittenStrings::default();
        let mut small = written.take("pts");
        small.note_field(0);
        let kabul = small.intern(0, "Kabul");
        written.keep("pts", small);
        let mut kept = written.take("pts");
        assert!(ArcStr::ptr_eq(&kabul, &kept.intern(0, "Kabul")));
        assert_eq!(written.take("other").held_bytes(), 0);

        let value = "x".repeat(1 << 16);
        for i in 0..=MAX_KEPT_BYTES >> 16 {
            kept.intern(0, &format!("{value}{i}"));
        }
        assert!(kept.held_bytes() > MAX_KEPT_BYTES);
        written.keep("pts", kept);
        assert_eq!(written.take("pts").held_bytes(), 0, "over its bound");
        assert_eq!(written.take("pts").held_bytes(), 0, "taken once");
    }
}
