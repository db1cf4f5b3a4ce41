//! Compact rows of value ids, one row per feature position.
//!
//! Owns: [`Rows`], the storage of [`super::values::ValueTable`]'s value ids. A field with
//! at most 65,536 distinct ids (categories, dates, names, small counts: most fields) keeps
//! a two-byte index into its own list of ids; a field that repeats each feature's own id
//! keeps nothing (the caller knows the id); any other field (unique values) keeps the
//! four-byte id itself. One row is the fields' bytes side by side, so reading a
//! feature's values is one cache line, as with plain `u32`s, in little more than half the
//! memory on typical layers.

use std::collections::HashMap;

use foldhash::fast::RandomState;

/// Most distinct ids of a field stored as two-byte indices.
const MAX_LISTED: usize = 1 << 16;

/// One field of a row as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// An index into the field's list of ids ([`Rows::listed_id`]).
    Listed(u16),
    /// The id itself.
    Id(u32),
    /// The id of the feature's own id, as an inline integer.
    FeatureId,
}

/// How a field is stored in a row, with the byte it starts at ([`Rows::layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Listed(usize),
    Plain(usize),
    FeatureId,
}

/// The cell of `row` laid out as `layout` (`None` when the row is too short).
#[inline]
pub fn cell(row: &[u8], layout: Layout) -> Option<Cell> {
    Some(match layout {
        Layout::Listed(at) => {
            Cell::Listed(u16::from_le_bytes(row.get(at..at + 2)?.try_into().ok()?))
        }
        Layout::Plain(at) => Cell::Id(u32::from_le_bytes(row.get(at..at + 4)?.try_into().ok()?)),
        Layout::FeatureId => Cell::FeatureId,
    })
}

/// How one field is stored in a row.
#[derive(Debug, Clone)]
enum Column {
    /// A two-byte index into the field's ids.
    Listed(Vec<u32>),
    /// The four-byte id.
    Plain,
    /// Nothing: the value is the feature's id.
    FeatureId,
}

/// Value ids of every position, `fields` to a row.
#[derive(Debug, Default)]
pub struct Rows {
    /// How each field is stored, and at which byte of a row it starts.
    columns: Vec<(Column, usize)>,
    row_bytes: usize,
    /// Rows (positions).
    len: usize,
    bytes: Vec<u8>,
}

impl Rows {
    /// The rows of `ids`, one id per field of `feature_ids` per position (`ids.len()` a
    /// multiple of it); `feature_ids[field]` when the field's value is the feature's id in
    /// every row.
    pub fn new(ids: &[u32], feature_ids: &[bool]) -> Self {
        let fields = feature_ids.len();
        if fields == 0 {
            return Self::default();
        }
        // A field of feature ids is not listed (nor stored).
        let mut listed: Vec<Option<HashMap<u32, u16, RandomState>>> = feature_ids
            .iter()
            .map(|&feature_id| (!feature_id).then(HashMap::default))
            .collect();
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); fields];
        for row in ids.chunks_exact(fields) {
            for ((&id, map), list) in row.iter().zip(&mut listed).zip(&mut lists) {
                let Some(m) = map else { continue };
                if m.contains_key(&id) {
                    continue;
                }
                match u16::try_from(list.len()) {
                    Ok(local) => {
                        m.insert(id, local);
                        list.push(id);
                    }
                    Err(_) => *map = None,
                }
            }
        }
        let mut columns = Vec::with_capacity(fields);
        let mut at = 0;
        for ((map, list), &feature_id) in listed.iter().zip(lists).zip(feature_ids) {
            let (column, width) = match map {
                _ if feature_id => (Column::FeatureId, 0),
                Some(_) if list.len() <= MAX_LISTED => (Column::Listed(list), 2),
                _ => (Column::Plain, 4),
            };
            columns.push((column, at));
            at += width;
        }
        let row_bytes = at;
        let mut bytes = Vec::with_capacity(ids.len() / fields * row_bytes);
        for row in ids.chunks_exact(fields) {
            for ((&id, map), (column, _)) in row.iter().zip(&listed).zip(&columns) {
                match (column, map) {
                    (Column::Listed(_), Some(m)) => {
                        let local = m.get(&id).copied().unwrap_or_default();
                        bytes.extend_from_slice(&local.to_le_bytes());
                    }
                    (Column::FeatureId, _) => {}
                    _ => bytes.extend_from_slice(&id.to_le_bytes()),
                }
            }
        }
        Self {
            columns,
            row_bytes,
            len: ids.len() / fields,
            bytes,
        }
    }

    /// Fields of a row.
    pub fn fields(&self) -> usize {
        self.columns.len()
    }

    /// Whether `field` is the feature's own id (and stored as nothing).
    pub fn is_feature_id(&self, field: usize) -> bool {
        matches!(self.columns.get(field), Some((Column::FeatureId, _)))
    }

    /// Bytes the rows take.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self
                .columns
                .iter()
                .map(|(c, _)| match c {
                    Column::Listed(list) => list.capacity() * 4,
                    Column::Plain | Column::FeatureId => 0,
                })
                .sum::<usize>()
    }

    /// The number of distinct ids of `field` when it keeps indices into its list of ids
    /// (see [`Cell::Listed`]), else 0.
    pub fn listed(&self, field: usize) -> usize {
        self.list(field).len()
    }

    /// The list of ids of `field`, which its [`Cell::Listed`] indices index (empty when it
    /// keeps no indices).
    pub fn list(&self, field: usize) -> &[u32] {
        match self.columns.get(field) {
            Some((Column::Listed(list), _)) => list,
            _ => &[],
        }
    }

    /// The id at index `local` of the list of `field` (`u32::MAX` when there is none).
    pub fn listed_id(&self, field: usize, local: u16) -> u32 {
        match self.columns.get(field) {
            Some((Column::Listed(list), _)) => {
                list.get(usize::from(local)).copied().unwrap_or(u32::MAX)
            }
            _ => u32::MAX,
        }
    }

    /// How `field` is stored in a row, and at which byte it starts.
    pub fn layout(&self, field: usize) -> Option<Layout> {
        self.columns.get(field).map(|(column, at)| match column {
            Column::Listed(_) => Layout::Listed(*at),
            Column::Plain => Layout::Plain(*at),
            Column::FeatureId => Layout::FeatureId,
        })
    }

    /// The bytes of the row at `pos` (`None` past the end), read with [`Self::layout`].
    pub fn row(&self, pos: usize) -> Option<&[u8]> {
        if pos >= self.len {
            return None;
        }
        let start = pos.checked_mul(self.row_bytes)?;
        self.bytes.get(start..start.checked_add(self.row_bytes)?)
    }

    /// The first byte of the row at `pos` (0 past the end), to bring it into the cache.
    pub fn touch(&self, pos: usize) -> u8 {
        self.bytes
            .get(pos.saturating_mul(self.row_bytes))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Rows {
        /// The row at `pos` as stored, field by field (none past the end).
        fn cells(&self, pos: usize) -> impl Iterator<Item = Cell> + '_ {
            let row = self.row(pos);
            let fields = if row.is_some() { self.columns.len() } else { 0 };
            let row = row.unwrap_or(&[]);
            (0..fields).filter_map(move |field| cell(row, self.layout(field)?))
        }
    }

    /// The ids of row `pos` through its cells, `feature` standing for a feature's id.
    fn row_ids(rows: &Rows, pos: usize, feature: u32) -> Vec<u32> {
        rows.cells(pos)
            .enumerate()
            .map(|(field, cell)| match cell {
                Cell::Listed(local) => rows.listed_id(field, local),
                Cell::Id(id) => id,
                Cell::FeatureId => feature,
            })
            .collect()
    }

    #[test]
    fn rows_give_back_every_id() {
        // Field 0: unique ids (stored plain), field 1: few values, field 2: exactly the
        // most a two-byte index holds, field 3: the feature's id.
        let n = 70_000u32;
        let ids: Vec<u32> = (0..n)
            .flat_map(|i| [i * 7, u32::MAX - i % 5, i % 65_536, 1_000_000 + i])
            .collect();
        let rows = Rows::new(&ids, &[false, false, false, true]);
        assert_eq!(rows.row_bytes, 4 + 2 + 2);
        for (pos, expected) in ids.chunks_exact(4).enumerate() {
            let feature = 1_000_000 + u32::try_from(pos).unwrap_or(0);
            assert_eq!(row_ids(&rows, pos, feature), expected, "row {pos}");
        }
        assert_eq!(rows.cells(n as usize).count(), 0);
        let cells: Vec<Cell> = rows.cells(9).collect();
        assert_eq!(cells[0], Cell::Id(63));
        assert_eq!(cells[3], Cell::FeatureId);
        assert_eq!(
            (rows.listed(0), rows.listed(1), rows.listed(2)),
            (0, 5, 65_536)
        );
    }

    #[test]
    fn a_field_over_the_index_range_is_stored_plain() {
        let ids: Vec<u32> = (0..65_537u32).collect();
        let rows = Rows::new(&ids, &[false]);
        assert_eq!(rows.row_bytes, 4);
        assert_eq!(ids_of_last(&rows), vec![65_536]);
        assert_eq!(Rows::new(&[], &[]).cells(0).count(), 0);
        // Rows of nothing but feature ids take no bytes and still end.
        let only = Rows::new(&[0, 0, 0], &[true]);
        assert_eq!((only.row_bytes, only.cells(2).count()), (0, 1));
        assert_eq!(only.cells(3).count(), 0);
    }

    fn ids_of_last(rows: &Rows) -> Vec<u32> {
        row_ids(rows, 65_536, 0)
    }
}
