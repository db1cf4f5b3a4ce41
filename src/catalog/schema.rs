//! The field schema of a layer as it is built: property names in first-seen order, each
//! with the JSON kind that holds every value seen.
//!
//! Owns: [`Schema`], the one way fields are added and their kinds widened, used by loading
//! ([`super::load`]), by edits of a snapshot (the store) and by joins ([`super::join`]).
//! It does not store values: features keep theirs in the order of the fields.

use rustc_hash::FxHashMap;

use super::model::{Field, FieldKind, Prop};

/// A field list under construction, with a lookup by name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    fields: Vec<Field>,
    positions: FxHashMap<String, usize>,
}

impl Schema {
    /// Starts from existing fields (their kinds are kept and widened further).
    pub fn from_fields(fields: Vec<Field>) -> Self {
        let positions = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        Self { fields, positions }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Position of field `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    /// Position of field `name`, added (with no kind yet) at the end when it is new.
    pub fn position(&mut self, name: &str) -> usize {
        if let Some(&pos) = self.positions.get(name) {
            return pos;
        }
        self.fields.push(Field {
            name: name.to_owned(),
            kind: None,
        });
        self.positions
            .insert(name.to_owned(), self.fields.len() - 1);
        self.fields.len() - 1
    }

    /// [`Self::position`], checking `expected` first: features usually list their
    /// properties in the same order, so the previous feature's next position is a good guess.
    pub fn position_near(&mut self, name: &str, expected: usize) -> usize {
        if self.fields.get(expected).is_some_and(|f| f.name == name) {
            return expected;
        }
        self.position(name)
    }

    /// Widens the kind of field `pos` to hold `value` (nulls and absent values change
    /// nothing).
    pub fn note(&mut self, pos: usize, value: &Prop) {
        widen(&mut self.fields[pos], value);
    }

    /// The finished field list.
    pub fn into_fields(self) -> Vec<Field> {
        self.fields
    }
}

/// Widens the kind of `field` to hold `value` (nulls and absent values change nothing).
pub fn widen(field: &mut Field, value: &Prop) {
    if let Some(kind) = value.kind() {
        field.kind = Some(field.kind.map_or(kind, |k: FieldKind| k.merge(kind)));
    }
}

/// Pads a feature's values with [`Prop::Absent`] to `width`.
pub fn pad(props: &mut Box<[Prop]>, width: usize) {
    if props.len() < width {
        let mut v = std::mem::take(props).into_vec();
        v.resize(width, Prop::Absent);
        *props = v.into_boxed_slice();
    }
}
