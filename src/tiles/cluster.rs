//! Point clustering on a global grid of screen-pixel cells.
//!
//! Owns: turning the points of a layer into clusters at a zoom, the cluster ids, the
//! expansion zoom of a cluster, the leaves (member points) of a cluster, and the properties
//! a cluster carries as a feature ([`Cluster::properties`], [`CLUSTER_FIELDS`]). Used by the
//! tile renderer, TileJSON and the cluster GeoJSON endpoints; it does not encode anything.
//! Its settings are [`ClusterConfig`].
//!
//! How: at zoom `z` the world is cut into square cells of about `radius` screen pixels
//! (`n = round(tile_size / radius)` cells per tile side, so cells never straddle tiles).
//! All points of one cell with at least `min_points` members become one cluster placed at
//! their mean (in Web Mercator). Because the grid is global, a cluster is the same in every
//! tile that shows it (same id, same position, same count), a cluster id names its members
//! exactly (`leaves`), and no state is kept between requests: memory stays flat on layers
//! of millions of points. Compared with supercluster's greedy clustering, two points near
//! a cell border may stay apart; the payoff is exact, stateless, per-tile work.
//!
//! Cluster ids are `2^52 | z << 42 | cx << 21 | cy`: below `2^53`, so JavaScript reads them
//! exactly, and outside the range of ordinal feature ids.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use super::filter::Keep;
use super::settings::ClusterConfig;
use crate::catalog::{Layer, Prop, Shape};
use crate::error::{Error, Result};
use crate::geom::mercator::{lonlat_to_merc, merc_to_lonlat, merc_x_to_lon, merc_y_to_lat};

type CellMap = HashMap<(u32, u32), Acc, RandomState>;

/// Largest `max_zoom` for clusters (ids must fit 53 bits).
pub const CLUSTER_ZOOM_LIMIT: u8 = 15;
/// Most cells per tile side (ids must fit 53 bits).
pub const MAX_CELLS_PER_TILE: u32 = 64;
const ID_BASE: u64 = 1 << 52;

/// One cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: u64,
    /// Mean position of the members in normalized Mercator.
    pub merc: [f64; 2],
    pub count: usize,
    /// The zoom at which the members no longer share a cell.
    pub expansion_zoom: u8,
    /// Sums of the configured properties (`ClusterConfig::sum`, same order); `None` when no
    /// member has a number there.
    pub sums: Vec<Option<Sum>>,
}

/// A summed property: integers stay integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sum {
    Int(i64),
    Float(f64),
}

/// The value of one property of a cluster feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClusterValue {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl From<Sum> for ClusterValue {
    fn from(sum: Sum) -> Self {
        match sum {
            Sum::Int(i) => Self::Int(i),
            Sum::Float(f) => Self::Float(f),
        }
    }
}

/// The properties every cluster feature has, in the order written, with their TileJSON
/// types. The configured sums follow them (see [`Cluster::properties`]).
pub const CLUSTER_FIELDS: [(&str, &str); 4] = [
    ("cluster", "Boolean"),
    ("cluster_id", "Number"),
    ("point_count", "Number"),
    ("expansion_zoom", "Number"),
];

impl Cluster {
    /// The properties of the cluster as a feature: those of [`CLUSTER_FIELDS`], then one per
    /// name of `sums` (the layer's `cluster.sum`), `None` when no member has a number there.
    pub fn properties<'a>(
        &'a self,
        sums: &'a [String],
    ) -> impl Iterator<Item = (&'a str, Option<ClusterValue>)> + 'a {
        let values = [
            ClusterValue::Bool(true),
            ClusterValue::Int(i64::try_from(self.id).unwrap_or(i64::MAX)),
            ClusterValue::Int(i64::try_from(self.count).unwrap_or(i64::MAX)),
            ClusterValue::Int(i64::from(self.expansion_zoom)),
        ];
        let fixed = CLUSTER_FIELDS
            .iter()
            .zip(values)
            .map(|(&(name, _), v)| (name, Some(v)));
        let summed = sums
            .iter()
            .zip(&self.sums)
            .map(|(name, s)| (name.as_str(), s.map(ClusterValue::from)));
        fixed.chain(summed)
    }

    /// Lon/lat degrees of the cluster's position.
    pub fn lonlat(&self) -> [f64; 2] {
        merc_to_lonlat(self.merc)
    }
}

/// What a cell becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A point feature shown as itself (feature position in the layer).
    Point(usize),
    Cluster(Cluster),
}

impl Item {
    /// Normalized Mercator position of the item.
    pub fn merc(&self, layer: &Layer) -> [f64; 2] {
        match self {
            Self::Point(pos) => layer
                .features
                .get(*pos)
                .and_then(|f| point_merc(&f.geometry))
                .unwrap_or([0.0, 0.0]),
            Self::Cluster(c) => c.merc,
        }
    }

    /// Number of points the item stands for.
    pub fn count(&self) -> usize {
        match self {
            Self::Point(_) => 1,
            Self::Cluster(c) => c.count,
        }
    }
}

/// The normalized Mercator position of a `Point` geometry; other geometries are not
/// clustered.
pub fn point_merc(g: &Shape) -> Option<[f64; 2]> {
    g.point().map(|p| lonlat_to_merc(p.x(), p.y()))
}

#[derive(Debug, Clone, Copy)]
struct Grid {
    z: u8,
    /// Cells per world side.
    cells: f64,
    max: u32,
}

impl Grid {
    fn new(cfg: &ClusterConfig, z: u8) -> Self {
        let n = cfg.cells_per_tile();
        let cells =
            u32::try_from((1u64 << z.min(CLUSTER_ZOOM_LIMIT)) * u64::from(n)).unwrap_or(u32::MAX);
        Self {
            z,
            cells: f64::from(cells),
            max: cells - 1,
        }
    }

    #[inline]
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped"
    )]
    fn cell(&self, v: f64) -> u32 {
        ((v * self.cells).floor().max(0.0) as u32).min(self.max)
    }

    fn id(&self, cx: u32, cy: u32) -> u64 {
        ID_BASE | u64::from(self.z) << 42 | u64::from(cx) << 21 | u64::from(cy)
    }
}

/// Decodes a cluster id into `(z, cx, cy)`, or a 404 naming it.
fn decode_id(id: u64, cfg: &ClusterConfig) -> Result<(u8, u32, u32)> {
    let not_found = || Error::NotFound {
        kind: "cluster",
        id: id.to_string(),
    };
    const MASK: u64 = ID_BASE | (0xF << 42) | ((1 << 42) - 1);
    if id & !MASK != 0 || id & ID_BASE == 0 {
        return Err(not_found());
    }
    let z = u8::try_from((id >> 42) & 0xF).map_err(|_| not_found())?;
    let cx = u32::try_from((id >> 21) & 0x1F_FFFF).map_err(|_| not_found())?;
    let cy = u32::try_from(id & 0x1F_FFFF).map_err(|_| not_found())?;
    let grid = Grid::new(cfg, z);
    if !cfg.applies(z) || cx > grid.max || cy > grid.max {
        return Err(not_found());
    }
    Ok((z, cx, cy))
}

struct Acc {
    count: usize,
    sum: [f64; 2],
    min: [f64; 2],
    max: [f64; 2],
    /// Members, kept only while fewer than `min_points`.
    few: Vec<usize>,
    sums: Vec<Option<Sum>>,
}

/// Clusters the points of `layer` whose cells meet the normalized Mercator box
/// `[x0, y0, x1, y1]` at zoom `z`. Every cell that meets the box is complete (its points
/// outside the box count too). Output is ordered by cell, then by feature position.
pub fn cluster(
    layer: &Layer,
    cfg: &ClusterConfig,
    z: u8,
    merc_box: [f64; 4],
    keep: Option<&Keep>,
) -> Vec<Item> {
    let grid = Grid::new(cfg, z);
    let (cx0, cy0) = (grid.cell(merc_box[0]), grid.cell(merc_box[1]));
    let (cx1, cy1) = (grid.cell(merc_box[2]), grid.cell(merc_box[3]));
    let cells = accumulate(layer, cfg, grid, [cx0, cy0, cx1, cy1], keep);
    let mut keys: Vec<_> = cells.keys().copied().collect();
    keys.sort_unstable_by_key(|&(x, y)| (y, x));
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let Some(acc) = cells.get(&key) else { continue };
        if acc.count < cfg.min_points {
            out.extend(acc.few.iter().map(|&p| Item::Point(p)));
            continue;
        }
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let n = acc.count as f64;
        out.push(Item::Cluster(Cluster {
            id: grid.id(key.0, key.1),
            merc: [acc.sum[0] / n, acc.sum[1] / n],
            count: acc.count,
            expansion_zoom: expansion_zoom(cfg, z, acc.min, acc.max),
            sums: acc.sums.clone(),
        }));
    }
    out
}

fn accumulate(
    layer: &Layer,
    cfg: &ClusterConfig,
    grid: Grid,
    [cx0, cy0, cx1, cy1]: [u32; 4],
    keep: Option<&Keep>,
) -> CellMap {
    let sum_fields: Vec<Option<usize>> = cfg.sum.iter().map(|n| layer.field_index(n)).collect();
    let mut cells = CellMap::default();
    // The lon/lat box of the whole cells, a little larger to survive rounding.
    let eps = 1e-9;
    let west = merc_x_to_lon((f64::from(cx0) / grid.cells - eps).max(0.0));
    let east = merc_x_to_lon((f64::from(cx1 + 1) / grid.cells + eps).min(1.0));
    let north = if cy0 == 0 {
        90.0
    } else {
        merc_y_to_lat(f64::from(cy0) / grid.cells - eps)
    };
    let south = if cy1 == grid.max {
        -90.0
    } else {
        merc_y_to_lat(f64::from(cy1 + 1) / grid.cells + eps)
    };
    let mut positions: Vec<usize> = layer
        .index
        .in_envelope(west, south, east, north)
        .filter(|&p| keep.is_none_or(|k| k(p)))
        .collect();
    positions.sort_unstable();
    for pos in positions {
        let Some(f) = layer.features.get(pos) else {
            continue;
        };
        let Some(m) = point_merc(&f.geometry) else {
            continue;
        };
        let (cx, cy) = (grid.cell(m[0]), grid.cell(m[1]));
        if cx < cx0 || cx > cx1 || cy < cy0 || cy > cy1 {
            continue;
        }
        let acc = cells.entry((cx, cy)).or_insert_with(|| Acc {
            count: 0,
            sum: [0.0; 2],
            min: m,
            max: m,
            few: Vec::new(),
            sums: vec![None; sum_fields.len()],
        });
        acc.count += 1;
        acc.sum[0] += m[0];
        acc.sum[1] += m[1];
        acc.min = [acc.min[0].min(m[0]), acc.min[1].min(m[1])];
        acc.max = [acc.max[0].max(m[0]), acc.max[1].max(m[1])];
        if acc.few.len() < cfg.min_points {
            acc.few.push(pos);
        }
        let props = &f.props;
        for (slot, field) in acc.sums.iter_mut().zip(&sum_fields) {
            let v = field.and_then(|i| props.get(i));
            *slot = match (*slot, v) {
                (
                    s,
                    None
                    | Some(
                        Prop::Absent
                        | Prop::Null
                        | Prop::Bool(_)
                        | Prop::Str(_)
                        | Prop::Json(_)
                        | Prop::Raw(_),
                    ),
                ) => s,
                (None, Some(Prop::Int(i))) => Some(Sum::Int(*i)),
                (Some(Sum::Int(a)), Some(Prop::Int(i))) => Some(a.checked_add(*i).map_or_else(
                    || {
                        #[expect(clippy::cast_precision_loss, reason = "overflowing sums")]
                        let f = a as f64 + *i as f64;
                        Sum::Float(f)
                    },
                    Sum::Int,
                )),
                (s, Some(p)) => {
                    let prev = match s {
                        None => 0.0,
                        #[expect(clippy::cast_precision_loss, reason = "sums")]
                        Some(Sum::Int(a)) => a as f64,
                        Some(Sum::Float(f)) => f,
                    };
                    Some(Sum::Float(prev + p.as_f64().unwrap_or(0.0)))
                }
            };
        }
    }
    cells
}

/// The first zoom above `z` at which points spanning `min`..`max` fall in different cells;
/// `max_zoom + 1` when they never do (they are then shown one by one).
fn expansion_zoom(cfg: &ClusterConfig, z: u8, min: [f64; 2], max: [f64; 2]) -> u8 {
    for zz in z + 1..=cfg.max_zoom {
        let g = Grid::new(cfg, zz);
        if g.cell(min[0]) != g.cell(max[0]) || g.cell(min[1]) != g.cell(max[1]) {
            return zz;
        }
    }
    cfg.max_zoom + 1
}

/// The items at zoom `z` in the lon/lat `envelopes` (`[west, south, east, north]` each, none
/// crossing the antimeridian: split such boxes first). Where clustering applies, the
/// clusters and lone points whose position lies in an envelope, envelope by envelope;
/// above the cluster max zoom, every feature whose envelope meets one, by position.
pub fn items_in_envelopes(
    layer: &Layer,
    cfg: &ClusterConfig,
    z: u8,
    envelopes: impl IntoIterator<Item = [f64; 4]>,
    keep: Option<&Keep>,
) -> Vec<Item> {
    if !cfg.applies(z) {
        let mut positions: Vec<usize> = envelopes
            .into_iter()
            .flat_map(|[w, s, e, n]| layer.index.in_envelope(w, s, e, n).collect::<Vec<_>>())
            .filter(|&p| keep.is_none_or(|k| k(p)))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        return positions.into_iter().map(Item::Point).collect();
    }
    let mut out = Vec::new();
    for [w, s, e, n] in envelopes {
        let [x0, y0] = lonlat_to_merc(w, n);
        let [x1, y1] = lonlat_to_merc(e, s);
        for item in cluster(layer, cfg, z, [x0, y0, x1, y1], keep) {
            let [lon, lat] = merc_to_lonlat(item.merc(layer));
            if lon >= w && lon <= e && lat >= s && lat <= n {
                out.push(item);
            }
        }
    }
    out
}

/// Positions (in the layer) of every point of cluster `id`, ordered by feature id.
/// A 404 when the id is not a cluster of this layer's configuration or the cell is empty.
pub fn leaves(
    layer: &Layer,
    cfg: &ClusterConfig,
    id: u64,
    keep: Option<&Keep>,
) -> Result<Vec<usize>> {
    let (z, cx, cy) = decode_id(id, cfg)?;
    let grid = Grid::new(cfg, z);
    let cells = accumulate(
        layer,
        &ClusterConfig {
            min_points: usize::MAX,
            ..cfg.clone()
        },
        grid,
        [cx, cy, cx, cy],
        keep,
    );
    let mut members: Vec<usize> = cells
        .get(&(cx, cy))
        .map(|a| a.few.clone())
        .unwrap_or_default();
    if members.len() < cfg.min_points {
        return Err(Error::NotFound {
            kind: "cluster",
            id: id.to_string(),
        });
    }
    members.sort_unstable_by_key(|&p| layer.features.get(p).map(|f| f.id));
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_stay_js_safe() {
        let cfg = ClusterConfig {
            enabled: true,
            max_zoom: 15,
            radius: 8.0,
            ..ClusterConfig::default()
        };
        let g = Grid::new(&cfg, 15);
        let id = g.id(g.max, g.max);
        assert!(id < 1 << 53);
        assert_eq!(decode_id(id, &cfg).unwrap(), (15, g.max, g.max));
        assert!(decode_id(42, &cfg).is_err());
        assert!(decode_id(u64::MAX, &cfg).is_err());
        let off = ClusterConfig { max_zoom: 3, ..cfg };
        assert!(decode_id(id, &off).is_err());
    }

    #[test]
    fn properties_follow_the_field_list() {
        let c = Cluster {
            id: ID_BASE | 7,
            merc: [0.5, 0.5],
            count: 3,
            expansion_zoom: 4,
            sums: vec![Some(Sum::Int(9)), None],
        };
        let sums = ["deaths".to_owned(), "injured".to_owned()];
        let props: Vec<_> = c.properties(&sums).collect();
        let names: Vec<&str> = props.iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            [
                "cluster",
                "cluster_id",
                "point_count",
                "expansion_zoom",
                "deaths",
                "injured"
            ]
        );
        assert_eq!(props[2].1, Some(ClusterValue::Int(3)));
        assert_eq!(props[4].1, Some(ClusterValue::Int(9)));
        assert_eq!(props[5].1, None);
        assert_eq!(c.lonlat(), [0.0, 0.0]);
    }
}
