//! Projecting one feature into a tile.
//!
//! Owns: turning a feature's geometry into tile geometry: points projected to tile units,
//! lines and polygons taken from their prepared form at the zoom's tolerance, placed by the
//! tile transform and cut by [`super::clip`]; and the representative point and size of the
//! result, by which the budget orders and thins features. Which features are asked for is
//! [`super::gather`]'s business.

use geo::Geometry;

use super::clip::{self, ClipBox};
use super::coord::TileTransform;
use super::encode::mvt::TileGeometry;
use super::simplify::Prepared;
use crate::geom::mercator::lonlat_to_merc;

/// The tile geometry of one feature, its representative point and its size (tile units),
/// or `None` when nothing of it is drawn in this tile.
pub fn feature_geometry(
    g: &Geometry<f64>,
    prepared: &Prepared,
    tf: &TileTransform,
    clip: ClipBox,
    sq_tol: f64,
    min_area: f64,
) -> Option<(TileGeometry, [f64; 2], f64)> {
    match prepared {
        Prepared::Points => {
            if let Geometry::Point(p) = g {
                let merc = lonlat_to_merc(p.x(), p.y());
                let t = tf.apply(merc);
                return clip
                    .contains(t)
                    .then(|| (TileGeometry::Point(tf.point_units(merc)), t, 0.0));
            }
            let mut pts = Vec::new();
            let mut push = |lon: f64, lat: f64| {
                let t = tf.apply(lonlat_to_merc(lon, lat));
                if clip.contains(t) {
                    pts.push(t);
                }
            };
            match g {
                Geometry::Point(p) => push(p.x(), p.y()),
                Geometry::MultiPoint(mp) => mp.iter().for_each(|p| push(p.x(), p.y())),
                _ => {}
            }
            let at = *pts.first()?;
            if pts.len() == 1 {
                return Some((TileGeometry::Point(clip::snap(at)), at, 0.0));
            }
            let snapped = pts.into_iter().map(clip::snap).collect();
            Some((TileGeometry::Points(snapped), at, 0.0))
        }
        Prepared::Lines(paths) => {
            let mut lines = Vec::new();
            let mut bbox = TileBounds::default();
            for path in paths {
                let pts: Vec<[f64; 2]> = path.kept(sq_tol).map(|p| tf.apply(p)).collect();
                pts.iter().for_each(|p| bbox.add(*p));
                clip::clip_line(&pts, clip, &mut lines);
            }
            if lines.is_empty() {
                return None;
            }
            Some((TileGeometry::Lines(lines), bbox.center(), bbox.diag2()))
        }
        Prepared::Polygons(polys) => {
            let mut out = Vec::new();
            let mut bbox = TileBounds::default();
            for rings in polys {
                let mut tile_rings: Vec<Vec<[f64; 2]>> = Vec::with_capacity(rings.len());
                for (i, ring) in rings.iter().enumerate() {
                    let mut pts: Vec<[f64; 2]> = ring.kept(sq_tol).map(|p| tf.apply(p)).collect();
                    // A ring simplified chain by chain (shared borders) may have dropped its
                    // first vertex, and with it the closing one.
                    if let (Some(&first), Some(&last)) = (pts.first(), pts.last())
                        && first != last
                    {
                        pts.push(first);
                    }
                    if pts.len() < 4 {
                        if i == 0 {
                            break;
                        }
                        continue;
                    }
                    if i == 0 {
                        let mut b = TileBounds::default();
                        pts.iter().for_each(|p| b.add(*p));
                        if b.area() < min_area || b.outside(clip) {
                            break;
                        }
                        bbox.merge(&b);
                    }
                    tile_rings.push(pts);
                }
                if !tile_rings.is_empty() {
                    out.extend(clip::clip_polygon(&tile_rings, clip, min_area));
                }
            }
            let out = clip::merge_parts(out, min_area);
            if out.is_empty() {
                return None;
            }
            Some((TileGeometry::Polygons(out), bbox.center(), bbox.area()))
        }
    }
}

/// The bounds of points in tile units, growing as points are added.
#[derive(Debug, Clone, Copy)]
struct TileBounds {
    min: [f64; 2],
    max: [f64; 2],
}

impl Default for TileBounds {
    fn default() -> Self {
        Self {
            min: [f64::INFINITY; 2],
            max: [f64::NEG_INFINITY; 2],
        }
    }
}

impl TileBounds {
    fn add(&mut self, p: [f64; 2]) {
        self.min = [self.min[0].min(p[0]), self.min[1].min(p[1])];
        self.max = [self.max[0].max(p[0]), self.max[1].max(p[1])];
    }
    fn merge(&mut self, o: &Self) {
        self.add(o.min);
        self.add(o.max);
    }
    fn center(&self) -> [f64; 2] {
        [
            (self.min[0] + self.max[0]) / 2.0,
            (self.min[1] + self.max[1]) / 2.0,
        ]
    }
    fn area(&self) -> f64 {
        (self.max[0] - self.min[0]).max(0.0) * (self.max[1] - self.min[1]).max(0.0)
    }
    fn diag2(&self) -> f64 {
        let (dx, dy) = (self.max[0] - self.min[0], self.max[1] - self.min[1]);
        dx * dx + dy * dy
    }
    fn outside(&self, clip: ClipBox) -> bool {
        let (lo, hi) = (f64::from(clip.lo), f64::from(clip.hi));
        self.max[0] < lo || self.min[0] > hi || self.max[1] < lo || self.min[1] > hi
    }
}
