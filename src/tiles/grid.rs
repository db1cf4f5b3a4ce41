//! The quantized Mercator grid that point positions are snapped through.
//!
//! Owns: the grid of `2^31` cells a side over the Web Mercator world ([`FINEST`]), the
//! quantizing of a normalized Mercator coordinate to it, Morton codes of its cells (bits
//! interleaved, x in the even bits) and their decoding, the code ranges of a tile and the
//! ring of cells around it ([`tile_and_ring`]), and [`UnitGrid`]: tile units of a
//! quantized point. A point's tile units are its quantized position rounded to the tile's
//! units, so that the point pyramid, which keeps positions as Morton codes, and the layer's
//! features, which keep them as lon/lat, place a point on the same unit. A cell is 1.9 cm
//! at the equator; a tile unit is one cell at zoom 19 (4,096 units a tile) and coarser
//! below it.

/// Bits of the quantized coordinates: cells of levels `0..=FINEST`.
pub const FINEST: u32 = 31;

/// Spreads the bits of `v` to the even bits of the result.
pub fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    x = (x | (x << 1)) & 0x5555_5555_5555_5555;
    x
}

/// The Morton code of cell `(x, y)`.
pub fn morton(x: u32, y: u32) -> u64 {
    spread(x) | (spread(y) << 1)
}

/// The cell `(x, y)` of a Morton code: its bits unshuffled in place, both coordinates at
/// once (the even bits, `x`'s, to the low half of the word, the odd ones to the high half),
/// in five steps that each swap the middle two of every group of four bit fields.
pub fn cell_of(code: u64) -> (u32, u32) {
    let mut v = code;
    for (shift, mask) in [
        (1, 0x2222_2222_2222_2222u64),
        (2, 0x0C0C_0C0C_0C0C_0C0C),
        (4, 0x00F0_00F0_00F0_00F0),
        (8, 0x0000_FF00_0000_FF00),
        (16, 0x0000_0000_FFFF_0000),
    ] {
        let t = (v ^ (v >> shift)) & mask;
        v ^= t ^ (t << shift);
    }
    ((v & 0xFFFF_FFFF) as u32, (v >> 32) as u32)
}

/// Tile `(x, y)` of level `z` and a ring of `r` cells of level `z + b` around it (`r`
/// below `2^b`), as half-open Morton code ranges at level `z + b` in code order: the tile
/// as one range of its `4^b` cells, each cell of the ring as its own. Rows of the ring
/// outside the world (above its top or below its bottom) are left out; the caller makes
/// sure that the columns are inside it.
///
/// The ring lies in the tile's eight neighbours, whose cells are ranges of codes ordered
/// as the neighbours' own codes: the neighbours are taken in that order, and the few
/// cells of each put in order on their own (a ring one cell wide is in order already).
pub fn tile_and_ring(z: u32, (x, y): (u32, u32), b: u32, r: u32) -> Vec<(u64, u64)> {
    let side = 1i64 << b;
    let rows_in_world = 1i64 << (z + b);
    let (r, x0, y0) = (i64::from(r), i64::from(x) << b, i64::from(y) << b);
    // Cells of the ring in each neighbour, by its offset: west or north, the tile's own
    // columns or rows, east or south.
    let span = |d: i64, start: i64| match d {
        -1 => start - r..start,
        0 => start..start + side,
        _ => start + side..start + side + r,
    };
    let mut neighbours: Vec<(u64, i64, i64)> = Vec::with_capacity(9);
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (tx, ty) = (i64::from(x) + dx, i64::from(y) + dy);
            if let (Ok(tx), Ok(ty)) = (u32::try_from(tx), u32::try_from(ty)) {
                neighbours.push((morton(tx, ty), dx, dy));
            }
        }
    }
    neighbours.sort_unstable();
    let mut ranges = Vec::with_capacity(1 + usize::try_from(4 * (side + r) * r).unwrap_or(0));
    for (code, dx, dy) in neighbours {
        if (dx, dy) == (0, 0) {
            ranges.push((code << (2 * b), (code + 1) << (2 * b)));
            continue;
        }
        let start = ranges.len();
        // Rows outside the world are left out. A span of columns is either all west of
        // the world (`r` is below a tile's `2^b` columns; its first column then fails the
        // conversion below) or all inside it.
        let (columns, rows) = (span(dx, x0), span(dy, y0));
        let rows = rows.start.max(0)..rows.end.min(rows_in_world);
        if let (Ok(cx), Ok(cy)) = (u32::try_from(columns.start), u32::try_from(rows.start)) {
            // The first cell's code, then each next cell's from the one before it.
            let mut row = morton(cx, cy);
            for _ in rows {
                let mut cell = row;
                for _ in columns.clone() {
                    ranges.push((cell, cell + 1));
                    cell = next_column(cell);
                }
                row = next_row(row);
            }
        }
        // A ring one cell wide is in order as made (a row, a column or a cell); a wider
        // one is put in order piece by piece.
        if r > 1
            && let Some(piece) = ranges.get_mut(start..)
        {
            piece.sort_unstable();
        }
    }
    ranges
}

/// The even bits of a code (its column).
const COLUMN_BITS: u64 = 0x5555_5555_5555_5555;

/// The code of the cell east of the cell of `code`: its column plus one, carried through
/// the row's bits (set for the addition, then put back).
fn next_column(code: u64) -> u64 {
    (((code | !COLUMN_BITS).wrapping_add(1)) & COLUMN_BITS) | (code & !COLUMN_BITS)
}

/// The code of the cell south of the cell of `code` (its row plus one).
fn next_row(code: u64) -> u64 {
    (((code | COLUMN_BITS).wrapping_add(2)) & !COLUMN_BITS) | (code & COLUMN_BITS)
}

/// The cell of a normalized Mercator coordinate, unbounded: the world is `0..2^31`, a copy
/// of it one width east `2^31..2^32`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "normalized coordinates are a few worlds at most; `as` saturates"
)]
pub fn quantize_wide(v: f64) -> i64 {
    (v * f64::from(1u32 << FINEST)).floor() as i64
}

/// The cell of a normalized Mercator coordinate in `0..=1`, clamped to the world.
pub fn quantize(v: f64) -> u32 {
    let max = (1u32 << FINEST) - 1;
    u32::try_from(quantize_wide(v).clamp(0, i64::from(max))).unwrap_or(max)
}

/// Tile units of quantized points in one tile: the cell relative to the tile's first cell,
/// rounded to units of `2^shift` cells (halves up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitGrid {
    /// Cells a unit, as a power of two.
    shift: u32,
    /// The tile's first cell.
    origin: [i64; 2],
}

impl UnitGrid {
    /// The grid of tile `(z, x, y)` with `extent` units a side; `None` when `extent` is not
    /// a power of two or its units are finer than a cell.
    pub fn new(z: u8, x: u32, y: u32, extent: u32) -> Option<Self> {
        if !extent.is_power_of_two() {
            return None;
        }
        let tile_bits = FINEST.checked_sub(u32::from(z))?;
        let shift = tile_bits.checked_sub(extent.trailing_zeros())?;
        Some(Self {
            shift,
            origin: [i64::from(x) << tile_bits, i64::from(y) << tile_bits],
        })
    }

    /// The same grid for a copy of the world `worlds` widths to the west (see
    /// [`super::coord::TileTransform::shifted`]).
    pub fn shifted(self, worlds: i64) -> Self {
        Self {
            origin: [
                self.origin[0].saturating_add(worlds.saturating_mul(1 << FINEST)),
                self.origin[1],
            ],
            ..self
        }
    }

    /// Tile units of the cell `(x, y)` (cells of a few worlds at most).
    pub fn units(&self, x: i64, y: i64) -> [i32; 2] {
        // Half a unit, to round: none when a unit is one cell.
        let half = (1i64 << self.shift) >> 1;
        let round = |v: i64, origin: i64| -> i32 {
            let units = (v.wrapping_sub(origin).wrapping_add(half)) >> self.shift;
            i32::try_from(units).unwrap_or(if units < 0 { i32::MIN } else { i32::MAX })
        };
        [round(x, self.origin[0]), round(y, self.origin[1])]
    }

    /// Tile units of the cell of Morton code `code`.
    pub fn code_units(&self, code: u64) -> [i32; 2] {
        let (x, y) = cell_of(code);
        self.units(i64::from(x), i64::from(y))
    }

    /// Tile units of a normalized Mercator point.
    pub fn merc_units(&self, p: [f64; 2]) -> [i32; 2] {
        self.units(quantize_wide(p[0]), quantize_wide(p[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_to_their_cells() {
        for (x, y) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (0x7FFF_FFFF, 0x1234_5678),
            (977, 31),
        ] {
            assert_eq!(cell_of(morton(x, y)), (x, y));
        }
        // Cells spread over the whole grid of 31-bit coordinates.
        let mut seed = 7u64;
        for _ in 0..10_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let (x, y) = ((seed >> 33) as u32, (seed >> 2) as u32 & 0x7FFF_FFFF);
            assert_eq!(cell_of(morton(x, y)), (x, y));
        }
    }

    #[test]
    fn units_round_the_cells_of_a_tile() {
        // Zoom 2, tile (1, 2), 4,096 units: a unit is 2^17 cells.
        let grid = UnitGrid::new(2, 1, 2, 4096).expect("a grid");
        let (x0, y0) = (1i64 << 29, 2i64 << 29);
        assert_eq!(grid.units(x0, y0), [0, 0]);
        assert_eq!(grid.units(x0 + (1 << 16) - 1, y0 + (1 << 16)), [0, 1]);
        assert_eq!(grid.units(x0 - (1 << 17), y0 + (4096 << 17)), [-1, 4096]);
        // The point's units agree with its floating tile units to within a unit's rounding.
        let p = [0.3125 + 1e-7, 0.5625 - 3e-7];
        let exact = [(p[0] * 4.0 - 1.0) * 4096.0, (p[1] * 4.0 - 2.0) * 4096.0];
        let units = grid.merc_units(p);
        for (u, e) in units.iter().zip(exact) {
            assert!(
                (f64::from(*u) - e).abs() <= 0.5 + 1e-6,
                "{units:?} {exact:?}"
            );
        }
        // A copy of the world one width west of the tile (shifted by one world) lands left
        // of it by the world's width in units.
        let west = grid.shifted(1);
        assert_eq!(
            west.merc_units([1.25 + 1e-9, 0.5]),
            grid.merc_units([0.25 + 1e-9, 0.5])
        );
        // Units finer than the grid, or an extent not a power of two: no grid.
        assert!(UnitGrid::new(20, 0, 0, 4096).is_none());
        assert!(UnitGrid::new(19, 0, 0, 4096).is_some());
        assert!(UnitGrid::new(4, 0, 0, 4000).is_none());
    }

    #[test]
    fn quantizing_clamps_to_the_world() {
        assert_eq!(quantize(0.0), 0);
        assert_eq!(quantize(1.0), (1 << FINEST) - 1);
        assert_eq!(quantize(-0.5), 0);
        assert_eq!(quantize_wide(1.5), 3 << (FINEST - 1));
    }

    #[test]
    fn the_next_column_and_row_are_the_codes_of_the_cells_east_and_south() {
        for (x, y) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (3, 7),
            (0x7FFF_FFFE, 5),
            (977, 0x7FFF_FFFE),
        ] {
            assert_eq!(next_column(morton(x, y)), morton(x + 1, y), "({x}, {y})");
            assert_eq!(next_row(morton(x, y)), morton(x, y + 1), "({x}, {y})");
        }
    }

    #[test]
    fn a_tile_and_its_ring_are_its_square_of_cells_in_code_order() {
        for (z, x, y, b, r) in [
            (0, 0, 0, 2, 1),
            (3, 2, 5, 6, 1),
            (3, 2, 0, 6, 1),
            (3, 2, 7, 6, 3),
            (5, 17, 9, 3, 5),
            (8, 171, 104, 6, 1),
            (1, 0, 1, 4, 15),
        ] {
            let got = tile_and_ring(z, (x, y), b, r);
            // Every cell of the square around the tile inside the world's rows, the tile
            // whole, by code.
            let (side, rows) = (1i64 << b, 1i64 << (z + b));
            let (x0, y0, r) = (i64::from(x) << b, i64::from(y) << b, i64::from(r));
            let mut expected: Vec<(u64, u64)> = Vec::new();
            let tile = morton(x, y) << (2 * b);
            expected.push((tile, tile + (1 << (2 * b))));
            for cy in (y0 - r..y0 + side + r).filter(|cy| (0..rows).contains(cy)) {
                for cx in (x0 - r..x0 + side + r).filter(|&cx| cx >= 0) {
                    if (x0..x0 + side).contains(&cx) && (y0..y0 + side).contains(&cy) {
                        continue;
                    }
                    let code = morton(
                        u32::try_from(cx).expect("a column"),
                        u32::try_from(cy).expect("a row"),
                    );
                    expected.push((code, code + 1));
                }
            }
            expected.sort_unstable();
            assert_eq!(got, expected, "z {z} ({x}, {y}) b {b} r {r}");
        }
    }
}
