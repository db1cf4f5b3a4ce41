//! Gathering the candidates of one layer of a tile.
//!
//! Owns: the region a tile draws from (the buffered tile in lon/lat for the R-tree and in
//! normalized Mercator for clusters), the walk over the layer's index, clusters in place of
//! their points, and the antimeridian: a tile at either edge of the world also draws, in its
//! buffer, what lies just across the seam, shifted by one world. Turning a feature into tile
//! geometry is [`super::project`]; choosing which candidates fit is [`super::budget`].

use std::collections::HashMap;

use super::budget::Pool;
use super::clip::{self, ClipBox};
use super::cluster::{self, Item};
use super::coord::{TileCoord, TileTransform};
use super::encode::mvt::TileGeometry;
use super::filter::Keep;
use super::project::feature_geometry;
use super::pyramid::{Kept, NOT_IN_PYRAMID, Pyramid, Region as PyramidRegion, Thinning};
use super::settings::TileLayerConfig;
use super::simplify::{PreparedLayer, sq_tolerance};
use crate::catalog::{GeometryKind, Layer, Shape};
use crate::geom::mercator::{lonlat_to_merc, merc_x_to_lon};

/// One feature or cluster ready to encode.
pub struct Candidate {
    pub what: Item,
    /// The feature's or the cluster's id.
    pub id: u64,
    pub geometry: TileGeometry,
    /// Representative position (tile units) for thinning.
    pub at: [f64; 2],
    /// Larger first when thinning.
    pub size: f64,
}

/// The points of a tile of a point layer as the layer's [`Pyramid`] sees them, thinned
/// from it without gathering them (see [`super::budget::Pool`]).
pub struct PointTile<'a> {
    layer: &'a Layer,
    pyramid: &'a Pyramid,
    region: PyramidRegion,
    /// Points in the tile and its buffer.
    pub points: usize,
    tf: TileTransform,
}

impl PointTile<'_> {
    /// The points kept when at most `limit` may be, as `(position, number of points it
    /// stands for)` by position, as [`super::budget::thin`] keeps them, with only the first
    /// `prefix` in order (see [`Pyramid::thin_partly`]); `None` when the pyramid cannot
    /// tell. [`Self::candidates`] makes them candidates.
    pub fn thin_partly(&self, limit: usize, extent: u32, prefix: usize) -> Option<Thinning> {
        self.pyramid
            .thin_partly(&self.region, self.points, limit, extent, prefix)
    }

    /// Every point of the tile and its buffer as `(position, 1)`, the candidates
    /// [`candidates`] gathers, with the first `prefix` by position in order (see
    /// [`Self::thin_partly`]), read from the pyramid's finest level ([`Pyramid::listed`]).
    /// Features are read only when [`Self::located`] locates the listed points.
    pub fn listed(&self, prefix: usize) -> Thinning {
        self.pyramid.listed(&self.region, prefix)
    }

    /// The kept points of `thinning` after its head, in no order, taken out of it
    /// ([`Pyramid::take_rest`]).
    pub fn take_rest(&self, thinning: &mut Thinning) -> Vec<Kept> {
        self.pyramid.take_rest(thinning)
    }

    /// The kept points (from [`Self::thin_partly`] or [`Self::listed`]) as encoding reads
    /// them: position, feature id, tile units snapped, and count. A point of the pyramid
    /// is placed from its code there, as [`TileTransform::point_units`] places it from
    /// its lon/lat (with no projection to compute).
    pub fn located(&self, kept: &[Kept]) -> Vec<LocatedPoint> {
        let grid = self.tf.grid();
        // With ids that follow positions, a point of the pyramid needs no read of its
        // feature at all: one pass from its code. A point without an index in the finest
        // level ([`NOT_IN_PYRAMID`], only past 2^32 cells) is read from its feature there.
        if let Some(grid) = grid.filter(|_| self.pyramid.ids_follow_positions()) {
            let mut located = Vec::with_capacity(kept.len());
            located.extend(kept.iter().filter_map(|k| {
                let pos = usize::try_from(k.pos).ok()?;
                let (id, at) = if k.finest == NOT_IN_PYRAMID {
                    let feature = self.layer.features.get(pos)?;
                    let p = feature.geometry.point()?;
                    let at = self.tf.point_units(lonlat_to_merc(p.x(), p.y()));
                    (feature.id, at)
                } else {
                    let id = self.pyramid.id_of(k.pos)?;
                    (id, grid.code_units(self.pyramid.code(k.finest)))
                };
                Some(LocatedPoint {
                    pos,
                    id,
                    at,
                    represents: k.count,
                })
            }));
            return located;
        }
        // Features and codes first, in a loop of independent loads (the features are far
        // apart in memory, so their cache misses overlap), then the units.
        let mut at: Vec<(usize, u64, Where, u32)> = Vec::with_capacity(kept.len());
        at.extend(kept.iter().filter_map(|k| {
            let pos = usize::try_from(k.pos).ok()?;
            let units = match grid {
                Some(grid) if k.finest != NOT_IN_PYRAMID => {
                    Some(grid.code_units(self.pyramid.code(k.finest)))
                }
                _ => None,
            };
            let feature = self.layer.features.get(pos)?;
            let place = match units {
                Some(units) => Where::Units(units),
                None => {
                    let p = feature.geometry.point()?;
                    Where::LonLat([p.x(), p.y()])
                }
            };
            Some((pos, feature.id, place, k.count))
        }));
        at.into_iter()
            .map(|(pos, id, place, represents)| LocatedPoint {
                pos,
                id,
                at: match place {
                    Where::Units(units) => units,
                    Where::LonLat([lon, lat]) => self.tf.point_units(lonlat_to_merc(lon, lat)),
                },
                represents,
            })
            .collect()
    }

    /// The candidates of kept points (as [`Self::located`] has them), with their counts.
    pub fn candidates(&self, kept: &[Kept]) -> Vec<(Candidate, u32)> {
        self.located(kept)
            .into_iter()
            .map(|p| {
                let candidate = Candidate {
                    what: Item::Point(p.pos),
                    id: p.id,
                    geometry: TileGeometry::Point(p.at),
                    at: [f64::from(p.at[0]), f64::from(p.at[1])],
                    size: 0.0,
                };
                (candidate, p.represents)
            })
            .collect()
    }
}

/// A kept point's place: tile units read from its code in the pyramid, or its lon/lat
/// to project.
#[derive(Clone, Copy)]
enum Where {
    Units([i32; 2]),
    LonLat([f64; 2]),
}

/// A kept point of a [`PointTile`], ready to encode.
#[derive(Debug, Clone, Copy)]
pub struct LocatedPoint {
    /// Position in the layer.
    pub pos: usize,
    /// The feature's id.
    pub id: u64,
    /// Tile units.
    pub at: [i32; 2],
    /// Points it stands for.
    pub represents: u32,
}

/// The features of `layer` in the tile `coord` for the budget: from the layer's point
/// pyramid when it has one and the tile is neither clustered nor filtered (the candidates
/// are then gathered only if the budget needs them all), else every candidate.
pub fn pool<'a>(
    layer: &'a Layer,
    cfg: &'a TileLayerConfig,
    prepared: &'a PreparedLayer,
    coord: TileCoord,
    keep: Option<&Keep>,
) -> Pool<'a> {
    if keep.is_none()
        && !clusters(layer, cfg, coord)
        && let Some(pyramid) = prepared.pyramid()
        && let Some(region) = pyramid.region(coord, cfg.extent, cfg.buffer)
    {
        let tile = PointTile {
            layer,
            pyramid,
            points: pyramid.count(&region),
            region,
            tf: coord.transform(cfg.extent),
        };
        return Pool::Points(
            tile,
            Box::new(move || candidates(layer, cfg, prepared, coord, None)),
        );
    }
    Pool::Gathered(candidates(layer, cfg, prepared, coord, keep))
}

/// Whether [`pool`] reads the unfiltered tile `coord` of `layer` from the point pyramid of
/// `prepared`.
pub fn from_pyramid(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    coord: TileCoord,
) -> bool {
    !clusters(layer, cfg, coord)
        && prepared.pyramid().is_some()
        && Pyramid::answers(coord, cfg.extent, cfg.buffer)
}

/// Whether the tile `coord` of `layer` is clustered.
fn clusters(layer: &Layer, cfg: &TileLayerConfig, coord: TileCoord) -> bool {
    cfg.cluster.applies(coord.z) && layer.geometry_kind != GeometryKind::Line
}

/// Where candidates are gathered from: a Mercator box (clusters) and its lon/lat box
/// (features), placed by `tf` and clipped to `clip`.
#[derive(Clone)]
struct Region {
    merc_box: [f64; 4],
    lonlat_box: [f64; 4],
    tf: TileTransform,
    clip: ClipBox,
    sq_tol: f64,
    clustering: bool,
    /// The request's filter on features: clusters count only the features it keeps.
    keep: Option<Keep>,
}

/// The candidates of `layer` in the tile `coord` (buffer included, and what lies across the
/// antimeridian in it), in index order: clusters first when clustering, then features by
/// position, then those from across the seam.
pub fn candidates(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    coord: TileCoord,
    keep: Option<&Keep>,
) -> Vec<Candidate> {
    let buffer = f64::from(cfg.buffer) / f64::from(cfg.extent);
    let region = Region {
        merc_box: coord.buffered_bounds_merc(buffer),
        lonlat_box: coord.buffered_bounds_lonlat(buffer),
        tf: coord.transform(cfg.extent),
        clip: ClipBox::new(cfg.extent, cfg.buffer),
        sq_tol: sq_tolerance(cfg.simplify, cfg.extent, coord.z),
        clustering: cfg.cluster.applies(coord.z) && layer.geometry_kind != GeometryKind::Line,
        keep: keep.cloned(),
    };
    let mut out: Vec<Candidate> = Vec::new();
    gather(layer, cfg, prepared, coord.z, &region, &mut |c| out.push(c));
    if buffer > 0.0 {
        add_across_antimeridian(&mut out, layer, cfg, prepared, coord, &region, buffer);
    }
    out
}

/// Passes to `out` the clusters (when clustering) and the features of `region` that have
/// geometry in the clip box.
fn gather(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    z: u8,
    region: &Region,
    out: &mut dyn FnMut(Candidate),
) {
    if region.clustering {
        for item in cluster::cluster(
            layer,
            &cfg.cluster,
            z,
            region.merc_box,
            region.keep.as_ref(),
        ) {
            let t = region.tf.apply(item.merc(layer));
            if region.clip.contains(t) {
                let geometry = TileGeometry::Point(match &item {
                    Item::Point(_) => region.tf.point_units(item.merc(layer)),
                    Item::Cluster(_) => clip::snap(t),
                });
                let id = match &item {
                    Item::Point(pos) => layer.features.get(*pos).map_or(0, |f| f.id),
                    Item::Cluster(c) => c.id,
                };
                out(Candidate {
                    what: item,
                    id,
                    geometry,
                    at: t,
                    size: 0.0,
                });
            }
        }
    }
    let [w, s, e, n] = region.lonlat_box;
    let mut positions: Vec<usize> = layer
        .index
        .in_envelope(w, s, e, n)
        .filter(|&p| region.keep.as_ref().is_none_or(|k| k(p)))
        .collect();
    radsort::sort(&mut positions);
    for chunk in positions.chunks(WARM_CHUNK) {
        warm(layer, chunk);
        for &pos in chunk {
            candidate(layer, cfg, prepared, region, pos, out);
        }
    }
}

/// Positions whose features are read ahead at a time ([`warm`]).
const WARM_CHUNK: usize = 128;

/// Reads the geometry tag of the features at `positions` in a loop of independent loads,
/// so that their cache misses overlap instead of stalling the projection one by one.
fn warm(layer: &Layer, positions: &[usize]) {
    let points = positions
        .iter()
        .filter_map(|&pos| layer.features.get(pos))
        .filter(|f| matches!(f.geometry, Shape::Point(_)))
        .count();
    std::hint::black_box(points);
}

/// Passes to `out` the feature at `pos` when it has geometry in the clip box (and is not a
/// point of a clustered layer, which its cluster stands for).
fn candidate(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    region: &Region,
    pos: usize,
    out: &mut dyn FnMut(Candidate),
) {
    let Some(feature) = layer.features.get(pos) else {
        return;
    };
    if region.clustering && matches!(feature.geometry, Shape::Point(_)) {
        return;
    }
    if let Some((geometry, at, size)) = feature_geometry(
        &feature.geometry.get(),
        prepared.get(pos),
        &region.tf,
        region.clip,
        region.sq_tol,
        cfg.min_area,
    ) {
        out(Candidate {
            what: Item::Point(pos),
            id: feature.id,
            geometry,
            at,
            size,
        });
    }
}

/// For a tile on the antimeridian (x = 0 or x = 2^z - 1; both at z0), adds what lies just
/// across it to the tile's buffer, placed as in the neighbouring copy of the world, so that a
/// map drawing world copies shows no cut at the seam. A feature already in the tile (a point
/// near the seam at z0, a polygon on both sides) gets the wrapped geometry added to its own.
fn add_across_antimeridian(
    candidates: &mut Vec<Candidate>,
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    coord: TileCoord,
    main: &Region,
    buffer: f64,
) {
    let s = coord.scale();
    let reach = (buffer / s).min(1.0);
    // (world shift, Mercator x range across the seam)
    let mut wraps: Vec<(f64, [f64; 2])> = Vec::new();
    if coord.x == 0 {
        wraps.push((1.0, [1.0 - reach, 1.0]));
    }
    if f64::from(coord.x) + 1.0 >= s {
        wraps.push((-1.0, [0.0, reach]));
    }
    if wraps.is_empty() {
        return;
    }
    let mut index: HashMap<(bool, u64), usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (item_key(&c.what), i))
        .collect();
    for (worlds, [mx0, mx1]) in wraps {
        let [_, my0, _, my1] = main.merc_box;
        let [_, south, _, north] = main.lonlat_box;
        let region = Region {
            merc_box: [mx0, my0, mx1, my1],
            lonlat_box: [merc_x_to_lon(mx0), south, merc_x_to_lon(mx1), north],
            tf: main.tf.shifted(worlds),
            keep: main.keep.clone(),
            ..*main
        };
        gather(layer, cfg, prepared, coord.z, &region, &mut |candidate| {
            let key = item_key(&candidate.what);
            if let Some(&i) = index.get(&key) {
                let empty = TileGeometry::Points(Vec::new());
                let geometry = std::mem::replace(&mut candidates[i].geometry, empty);
                candidates[i].geometry = combine(geometry, candidate.geometry, cfg.min_area);
            } else {
                index.insert(key, candidates.len());
                candidates.push(candidate);
            }
        });
    }
}

/// Identity of a candidate: a feature position or a cluster id.
fn item_key(item: &Item) -> (bool, u64) {
    match item {
        Item::Point(pos) => (false, *pos as u64),
        Item::Cluster(c) => (true, c.id),
    }
}

/// One feature's geometry from two copies of the world, as one geometry of the same kind.
fn combine(a: TileGeometry, b: TileGeometry, min_area: f64) -> TileGeometry {
    use TileGeometry as G;
    let points = |g: G| match g {
        G::Point(p) => vec![p],
        G::Points(ps) => ps,
        _ => Vec::new(),
    };
    match (a, b) {
        (G::Lines(mut x), G::Lines(y)) => {
            x.extend(y);
            G::Lines(x)
        }
        (G::Polygons(mut x), G::Polygons(y)) => {
            x.extend(y);
            G::Polygons(clip::merge_parts(x, min_area))
        }
        (a @ (G::Point(_) | G::Points(_)), b @ (G::Point(_) | G::Points(_))) => {
            let mut all = points(a);
            all.extend(points(b));
            G::Points(all)
        }
        (a, _) => a,
    }
}
