//! Tile coordinates of the WebMercatorQuad matrix set (EPSG:3857).
//!
//! Owns: parsing and checking `z/x/y` ([`TileCoord`]), the transform from normalized
//! Mercator to the integer grid of one tile (tile units, `0..extent`, y down), and tile
//! bounds in lon/lat. The projection itself is [`crate::geom::mercator`]; this module does
//! not clip or encode anything.
//!
//! Checks come first: `z <= max_zoom` and `x, y < 2^z` are tested on the parsed numbers
//! before any shift or multiplication, so a hostile `z=64` can never overflow.

use super::grid::UnitGrid;
use crate::error::{Error, Result};
use crate::geom::mercator::merc_y_to_lat;

/// The largest zoom any configuration may allow: `2^30` tiles per axis still fit in `u32`,
/// and cluster ids stay below `2^53` (see [`crate::tiles::cluster`]).
pub const ZOOM_LIMIT: u8 = 30;
/// The default largest zoom served.
pub const DEFAULT_MAX_ZOOM: u8 = 22;

/// A tile of the WebMercatorQuad matrix set: zoom `z`, column `x` (from the antimeridian,
/// eastwards) and row `y` (from the north, southwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileCoord {
    /// Parses path segments. `y` may carry a `.mvt` or `.pbf` suffix. Errors name the bad
    /// value (`Error::BadParameter`, a 400).
    ///
    /// ```
    /// use khorasan_atlas::tiles::coord::TileCoord;
    /// let t = TileCoord::parse("3", "5", "2.mvt", 22).unwrap();
    /// assert_eq!((t.z, t.x, t.y), (3, 5, 2));
    /// assert!(TileCoord::parse("3", "8", "0", 22).is_err()); // x >= 2^3
    /// assert!(TileCoord::parse("64", "0", "0", 22).is_err()); // z > max zoom
    /// ```
    pub fn parse(z: &str, x: &str, y: &str, max_zoom: u8) -> Result<Self> {
        let y = y
            .strip_suffix(".mvt")
            .or_else(|| y.strip_suffix(".pbf"))
            .unwrap_or(y);
        let num = |name: &str, v: &str| {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::bad_param(name, v, "expected a non-negative integer"));
            }
            v.parse::<u64>()
                .map_err(|_| Error::bad_param(name, v, "number too large"))
        };
        Self::new(num("z", z)?, num("x", x)?, num("y", y)?, max_zoom)
    }

    /// Checks numbers: `z <= max_zoom` (itself at most [`ZOOM_LIMIT`]), then `x, y < 2^z`.
    pub fn new(z: u64, x: u64, y: u64, max_zoom: u8) -> Result<Self> {
        let max_zoom = max_zoom.min(ZOOM_LIMIT);
        if z > u64::from(max_zoom) {
            return Err(Error::bad_param(
                "z",
                z.to_string(),
                format!("zoom must be in 0..={max_zoom}"),
            ));
        }
        // z <= 30 now, so the shift cannot overflow.
        let n = 1u64 << z;
        for (name, v) in [("x", x), ("y", y)] {
            if v >= n {
                return Err(Error::bad_param(
                    name,
                    v.to_string(),
                    format!("must be below 2^{z} = {n} at zoom {z}"),
                ));
            }
        }
        Ok(Self {
            z: u8::try_from(z).unwrap_or(ZOOM_LIMIT),
            x: u32::try_from(x).unwrap_or(u32::MAX),
            y: u32::try_from(y).unwrap_or(u32::MAX),
        })
    }

    /// Number of tiles per axis at this zoom, as a float.
    pub fn scale(self) -> f64 {
        f64::from(1u32 << self.z.min(ZOOM_LIMIT))
    }

    /// Bounds in lon/lat degrees of the tile grown by `buffer` (a fraction of the tile
    /// width) on each side, clamped to the world (latitudes to ±90 at the poles' rows, so
    /// that features beyond the Mercator limit are still found). With `buffer` 0, the
    /// tile's own bounds, within the Mercator limit:
    ///
    /// ```
    /// use khorasan_atlas::tiles::coord::TileCoord;
    /// let b = TileCoord::new(1, 1, 0, 22).unwrap().buffered_bounds_lonlat(0.0);
    /// assert_eq!((b[0], b[2]), (0.0, 180.0));
    /// assert!((b[3] - 85.0511).abs() < 1e-4 && b[1].abs() < 1e-9);
    /// ```
    pub fn buffered_bounds_lonlat(self, buffer: f64) -> [f64; 4] {
        let [x0, y0, x1, y1] = self.buffered_bounds_merc(buffer);
        let north = if y0 <= 0.0 { 90.0 } else { merc_y_to_lat(y0) };
        let south = if y1 >= 1.0 { -90.0 } else { merc_y_to_lat(y1) };
        let north = if buffer == 0.0 {
            merc_y_to_lat(y0.max(0.0))
        } else {
            north
        };
        let south = if buffer == 0.0 {
            merc_y_to_lat(y1.min(1.0))
        } else {
            south
        };
        [
            (x0 * 360.0 - 180.0).max(-180.0),
            south,
            (x1 * 360.0 - 180.0).min(180.0),
            north,
        ]
    }

    /// Bounds `[x0, y0, x1, y1]` in normalized Mercator of the tile grown by `buffer` (a
    /// fraction of the tile width) on each side, not clamped to the world.
    pub fn buffered_bounds_merc(self, buffer: f64) -> [f64; 4] {
        let s = self.scale();
        [
            (f64::from(self.x) - buffer) / s,
            (f64::from(self.y) - buffer) / s,
            (f64::from(self.x) + 1.0 + buffer) / s,
            (f64::from(self.y) + 1.0 + buffer) / s,
        ]
    }

    /// The transform from normalized Mercator to this tile's grid of `extent` units.
    pub fn transform(self, extent: u32) -> TileTransform {
        let s = self.scale();
        TileTransform {
            x0: f64::from(self.x),
            y0: f64::from(self.y),
            tiles: s,
            extent: f64::from(extent),
            grid: UnitGrid::new(self.z, self.x, self.y, extent),
        }
    }
}

impl std::fmt::Display for TileCoord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Maps normalized Mercator (`0..1`) to tile units of one tile (`0..extent`, y down).
#[derive(Debug, Clone, Copy)]
pub struct TileTransform {
    x0: f64,
    y0: f64,
    tiles: f64,
    extent: f64,
    /// Where the tile's units are no finer than the quantized grid: its units there, by
    /// which points are snapped.
    grid: Option<UnitGrid>,
}

impl TileTransform {
    /// The same transform for a copy of the world `worlds` widths to the west (negative: to
    /// the east), so that a tile on the antimeridian can place, in its buffer, what lies just
    /// across it: with `worlds = 1`, Mercator x near 1 (lon 180) lands left of the tile's x 0.
    pub fn shifted(&self, worlds: f64) -> TileTransform {
        #[expect(clippy::cast_possible_truncation, reason = "whole worlds, one or two")]
        let whole = worlds as i64;
        TileTransform {
            x0: self.x0 + worlds * self.tiles,
            grid: self
                .grid
                .filter(|_| worlds.fract() == 0.0)
                .map(|g| g.shifted(whole)),
            ..*self
        }
    }

    /// Tile units (floating) of a normalized Mercator point.
    #[inline]
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [
            (p[0] * self.tiles - self.x0) * self.extent,
            (p[1] * self.tiles - self.y0) * self.extent,
        ]
    }

    /// The grid of the tile's units over the quantized Mercator grid ([`UnitGrid`]), when
    /// its units are no finer than it.
    pub fn grid(&self) -> Option<UnitGrid> {
        self.grid
    }

    /// Tile units of a point at normalized Mercator `p`: its quantized position rounded
    /// to units ([`UnitGrid`]), so that a point is placed alike from its lon/lat and from
    /// the point pyramid's codes; `p`'s floating units rounded where units are finer than
    /// the quantized grid.
    #[inline]
    pub fn point_units(&self, p: [f64; 2]) -> [i32; 2] {
        match &self.grid {
            Some(grid) => grid.merc_units(p),
            None => {
                let [x, y] = self.apply(p);
                #[expect(clippy::cast_possible_truncation, reason = "`as` saturates")]
                let units = [x.round() as i32, y.round() as i32];
                units
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_come_before_shifts() {
        for (z, x, y) in [
            ("31", "0", "0"),
            ("23", "0", "0"),
            ("99999999999999999999", "0", "0"),
        ] {
            let err = TileCoord::parse(z, x, y, 22).unwrap_err();
            assert_eq!(err.status(), 400);
            assert!(err.to_string().contains(z), "{err}");
        }
        let err = TileCoord::parse("2", "1", "4", 22).unwrap_err();
        assert!(err.to_string().contains("'y'"), "{err}");
        assert!(TileCoord::parse("2", "-1", "0", 22).is_err());
        assert!(TileCoord::parse("2", "1", "x", 22).is_err());
        assert!(TileCoord::parse("30", "1073741823", "0", 30).is_ok());
        assert_eq!(TileCoord::parse("0", "0", "0.pbf", 22).unwrap().z, 0);
    }

    #[test]
    fn transform_places_the_tile_on_its_grid() {
        let t = TileCoord::new(2, 1, 1, 22).unwrap().transform(4096);
        assert_eq!(t.apply([0.25, 0.25]), [0.0, 0.0]);
        assert_eq!(t.apply([0.5, 0.5]), [4096.0, 4096.0]);
        assert_eq!(t.shifted(1.0).apply([1.25, 0.25]), [0.0, 0.0]);
    }

    #[test]
    fn buffered_bounds_contain_the_tile() {
        let t = TileCoord::new(4, 11, 6, 22).unwrap();
        let b = t.buffered_bounds_lonlat(0.0);
        let bb = t.buffered_bounds_lonlat(64.0 / 4096.0);
        assert!(bb[0] < b[0] && bb[1] < b[1] && bb[2] > b[2] && bb[3] > b[3]);
    }
}
