//! Every point of a tile's region, for a tile that may keep them all.
//!
//! Owns: listing a region's points from the finest level of the [`Pyramid`], where a cell
//! is one place, with the points that share a place with another ([`Pyramid::shared`])
//! listed each on its own, and finding those points when the pyramid is made; putting a
//! listing in order of position through a bitmap of the positions when it holds enough of
//! the layer's points that reading the bitmap costs less than sorting them.

use std::ops::Range;

use super::order::{self, Thinning};
use super::{FINEST, Kept, NOT_IN_PYRAMID, Pyramid, Region};

thread_local! {
    /// A bitmap of feature positions, every bit clear between two listings (see
    /// [`Pyramid::in_order`]).
    static POSITIONS: std::cell::Cell<Vec<u64>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Words of the bitmap read per point listed, at most, for a listing to go through the
/// bitmap rather than a sort (chosen by instruction counts of the benchmark's tiles).
const WORDS_PER_POINT: usize = 4;

impl Pyramid {
    /// Every point of `region` as `(position, 1)`, with at least the first `prefix` by
    /// position in order (all of them when `prefix` is 0, see [`Self::thin_partly`], and
    /// when the listing holds enough of the layer's points to be read in order from a
    /// bitmap of their positions, [`Self::in_order`]): read from the finest level, whose
    /// cells are single points but for the few that share a place, whose other points are
    /// in `shared`.
    pub fn listed(&self, region: &Region, prefix: usize) -> Thinning {
        let finest = &self.points;
        let shift = 2 * (FINEST - region.base);
        let (ranges, cells) = finest.ranges_and_cells(&region.ranges, shift);
        let points: usize = ranges
            .iter()
            .map(|r| (finest.cum[r.end] - finest.cum[r.start]) as usize)
            .sum();
        if points == cells && order::worth_a_heap(prefix, cells) {
            return Self::first_cells(finest, FINEST, ranges, cells, prefix);
        }
        if self.finest_of.len().div_ceil(64) <= WORDS_PER_POINT * points {
            return Thinning::all(self.in_order(&ranges, points, points > cells));
        }
        let mut all = Vec::with_capacity(points);
        for range in ranges {
            if points > cells {
                all.extend(self.shared_in(&range));
            }
            all.extend(range.map(|i| finest.single(i)));
        }
        order::by_position(all, usize::MAX, prefix)
    }

    /// The `points` points of the cells `ranges` of the finest level (and of `shared` in
    /// them when `with_shared`), in order of position: their positions set in a bitmap,
    /// then read from it in order (and the bitmap cleared as it is read).
    fn in_order(&self, ranges: &[Range<usize>], points: usize, with_shared: bool) -> Vec<Kept> {
        let mut bits = POSITIONS.take();
        let words = self.finest_of.len().div_ceil(64);
        if bits.len() < words {
            bits.resize(words, 0);
        }
        let (mut low, mut high) = (usize::MAX, 0);
        let mut set = |pos: u32| {
            let word = (pos >> 6) as usize;
            if let Some(w) = bits.get_mut(word) {
                *w |= 1 << (pos & 63);
                low = low.min(word);
                high = high.max(word);
            }
        };
        for range in ranges {
            for &pos in self.points.first.get(range.clone()).unwrap_or_default() {
                set(pos);
            }
            if with_shared {
                for kept in self.shared_in(range) {
                    set(kept.pos);
                }
            }
        }
        let mut out = Vec::with_capacity(points);
        if let Some(read) = bits.get_mut(low..=high) {
            for (w, word) in (low..).zip(read) {
                let mut word = std::mem::take(word);
                while word != 0 {
                    let pos = u32::try_from(w << 6).unwrap_or(u32::MAX) | word.trailing_zeros();
                    word &= word - 1;
                    out.push(Kept {
                        pos,
                        count: 1,
                        finest: self
                            .finest_of
                            .get(pos as usize)
                            .copied()
                            .unwrap_or(NOT_IN_PYRAMID),
                    });
                }
            }
        }
        POSITIONS.set(bits);
        out
    }

    /// The points of `shared` in the cells `range` of the finest level, each as a point of
    /// its own.
    fn shared_in(&self, range: &std::ops::Range<usize>) -> impl Iterator<Item = Kept> + '_ {
        let (start, end) = (range.start, range.end);
        let first = self
            .shared
            .partition_point(|&(cell, _)| (cell as usize) < start);
        self.shared[first..]
            .iter()
            .take_while(move |&&(cell, _)| (cell as usize) < end)
            .map(|&(cell, pos)| Kept {
                pos,
                count: 1,
                finest: cell,
            })
    }
}

/// The positions of the points, sorted by code then position, that share their code with
/// the point before them: `(index of their cell among the distinct codes, position)`.
pub(super) fn shared_positions(points: &[(u64, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut cell = 0u32;
    for w in points.windows(2) {
        if w[1].0 == w[0].0 {
            out.push((cell, w[1].1));
        } else {
            cell += 1;
        }
    }
    out
}

/// By position `0..slots`: the index of its cell among the distinct codes of `points`
/// (sorted by code then position), or [`NOT_IN_PYRAMID`] for a position not among them.
pub(super) fn finest_of(points: &[(u64, u32)], slots: usize) -> Vec<u32> {
    let mut out = vec![NOT_IN_PYRAMID; slots];
    let mut cell = 0u32;
    let mut last = None;
    for &(code, pos) in points {
        if last.is_some_and(|l| l != code) {
            cell += 1;
        }
        last = Some(code);
        if let Some(slot) = out.get_mut(pos as usize) {
            *slot = cell;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::catalog::Layer;
    use crate::geom::mercator::lonlat_to_merc;
    use crate::tiles::coord::TileCoord;

    /// A layer of 3,000 points in a scrambled order over a few degrees, every fifth at the
    /// place of the point before it, and a feature without a place.
    fn scrambled_layer() -> Layer {
        let mut features =
            vec![r#"{"type":"Feature","id":0,"geometry":null,"properties":{}}"#.to_owned()];
        let mut last = (0.0, 0.0);
        for i in 1..3000u32 {
            let j = (i * 7919) % 3000;
            if i % 5 != 0 {
                last = (
                    60.0 + f64::from(j % 60) * 0.1,
                    30.0 + f64::from(j / 60) * 0.1,
                );
            }
            features.push(format!(
                r#"{{"type":"Feature","id":{i},"geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{}}}}"#,
                last.0, last.1
            ));
        }
        let geojson = format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        );
        crate::catalog::layer_of_geojson(&geojson)
    }

    #[test]
    fn a_listing_read_from_the_bitmap_is_the_listing_sorted() {
        let layer = scrambled_layer();
        let pyramid = Pyramid::new(&layer).unwrap();
        assert_eq!(pyramid.finest_of[0], NOT_IN_PYRAMID);
        let (mut tiles, mut shared) = (0, 0);
        for z in [3u8, 5, 7, 9] {
            let n = f64::from(1u32 << z);
            let [x0, y0] = lonlat_to_merc(59.5, 36.5);
            let [x1, y1] = lonlat_to_merc(66.5, 29.5);
            for x in (x0 * n) as u32..=(x1 * n) as u32 {
                for y in (y0 * n) as u32..=(y1 * n) as u32 {
                    let region = pyramid.region(TileCoord { z, x, y }, 4096, 64).unwrap();
                    let shift = 2 * (FINEST - region.base);
                    let (ranges, cells) = pyramid.points.ranges_and_cells(&region.ranges, shift);
                    let mut sorted = Vec::new();
                    for range in ranges.clone() {
                        sorted.extend(pyramid.shared_in(&range));
                        sorted.extend(range.map(|i| pyramid.points.single(i)));
                    }
                    sorted.sort_by_key(|k| k.pos);
                    let points = sorted.len();
                    let listed = pyramid.in_order(&ranges, points, points > cells);
                    assert_eq!(listed, sorted, "z{z}/{x}/{y}");
                    // Every bit read is clear again for the next listing.
                    let bits = POSITIONS.take();
                    assert!(bits.iter().all(|&w| w == 0), "z{z}/{x}/{y}");
                    POSITIONS.set(bits);
                    tiles += usize::from(points > 0);
                    shared += usize::from(points > cells);
                }
            }
        }
        assert!(
            tiles > 20 && shared > 10,
            "{tiles} tiles, {shared} with shared places"
        );
    }

    #[test]
    fn shared_places_are_the_points_after_the_first_of_their_cell() {
        let points = [(5, 0), (5, 3), (7, 1), (9, 2), (9, 4), (9, 6), (11, 5)];
        assert_eq!(shared_positions(&points), [(0, 3), (2, 4), (2, 6)]);
        assert!(shared_positions(&points[2..3]).is_empty());
    }
}
