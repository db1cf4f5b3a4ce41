//! Web Mercator (EPSG:3857) maths on normalized coordinates.
//!
//! Owns: the projection of lon/lat degrees to normalized Mercator (`0..1` on both axes, y
//! growing southwards, as tiles do) and back, the latitude limit of the square world, and
//! the half width of that world in metres. It knows nothing of tiles, zooms or grids.

use std::f64::consts::PI;

/// Web Mercator stops at this latitude (degrees): the square world.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Half the width (and height) of the Web Mercator world in EPSG:3857 metres.
pub const HALF_WORLD_M: f64 = 20_037_508.342_789_244;

/// Normalized Mercator `[x, y]` (`0..1`, y down) of lon/lat degrees; latitudes beyond
/// ±[`MAX_LATITUDE`] are clamped.
///
/// ```
/// use khorasan_atlas::geom::mercator::lonlat_to_merc;
/// // Kabul (69.17 E, 34.53 N) lies east of the centre and north of the equator.
/// let [x, y] = lonlat_to_merc(69.17, 34.53);
/// assert!((x - 0.69214).abs() < 1e-4 && y < 0.5);
/// ```
#[inline]
pub fn lonlat_to_merc(lon: f64, lat: f64) -> [f64; 2] {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = lon / 360.0 + 0.5;
    let y = 0.5 - ((PI / 4.0 + lat / 2.0).tan().ln()) / (2.0 * PI);
    [x, y]
}

/// Longitude in degrees of a normalized Mercator x.
#[inline]
pub fn merc_x_to_lon(x: f64) -> f64 {
    x * 360.0 - 180.0
}

/// Latitude in degrees of a normalized Mercator y.
#[inline]
pub fn merc_y_to_lat(y: f64) -> f64 {
    let n = PI * (1.0 - 2.0 * y);
    n.sinh().atan().to_degrees()
}

/// Lon/lat degrees `[lon, lat]` of a normalized Mercator point.
#[inline]
pub fn merc_to_lonlat(p: [f64; 2]) -> [f64; 2] {
    [merc_x_to_lon(p[0]), merc_y_to_lat(p[1])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trips() {
        for (lon, lat) in [(69.17, 34.53), (-74.0, 40.7), (0.0, 0.0), (179.9, -85.0)] {
            let [x, y] = lonlat_to_merc(lon, lat);
            assert!((merc_x_to_lon(x) - lon).abs() < 1e-9);
            assert!((merc_y_to_lat(y) - lat).abs() < 1e-9);
            let [lon2, lat2] = merc_to_lonlat([x, y]);
            assert!((lon2 - lon).abs() < 1e-9 && (lat2 - lat).abs() < 1e-9);
        }
    }

    #[test]
    fn the_world_is_square() {
        assert!((lonlat_to_merc(0.0, MAX_LATITUDE)[1]).abs() < 1e-12);
        assert!((lonlat_to_merc(0.0, -90.0)[1] - 1.0).abs() < 1e-12);
        assert!((HALF_WORLD_M - 6_378_137.0 * PI).abs() < 1e-6);
    }
}
