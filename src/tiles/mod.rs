//! Vector tiles: Web Mercator tile maths, clipping, simplification, clustering, the per-tile
//! budget and the MVT 2.1 encoder. Pure and synchronous: no HTTP here (the handlers are in
//! `crate::http::tiles`).
//!
//! The pipeline of one tile, one stage per file:
//! 1. [`coord`] - parse and check `z/x/y`; Web Mercator maths.
//! 2. Query the layer's R-tree with the buffered tile bounds (lon/lat); a tile on the
//!    antimeridian also takes what lies just across it into its buffer, shifted by a world.
//! 3. [`cluster`] - points become clusters on a global grid (when configured and `z` is at
//!    most the cluster max zoom).
//! 4. [`simplify`] - vertices below the zoom's tolerance are skipped (importances are
//!    computed once per layer snapshot, see [`PreparedLayer`]).
//! 5. [`clip`] - cut to the buffered tile, snap to integers, make polygons valid and wound
//!    for MVT, drop polygons under `min_area`, merge a feature's parts into one valid
//!    multipolygon.
//! 6. [`budget`] - thin by density when a layer exceeds its feature or byte budget.
//! 7. [`mvt`] - encode.
//!
//! [`Tiler`] holds what is kept between requests: prepared layers and a bounded cache of
//! encoded and gzip-compressed tiles keyed by the layers' generations, so a changed layer
//! can never be served from the cache.
//!
//! An empty tile (no feature in any requested layer) renders as zero bytes; the HTTP layer
//! answers it with `204 No Content`, always.

pub mod budget;
pub mod clip;
pub mod cluster;
pub mod coord;
pub mod mvt;
pub mod simplify;

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use geo::Geometry;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::catalog::{FieldKind, GeometryKind, Layer, Prop};
use crate::error::{Error, Result};
use budget::Budget;
use clip::ClipBox;
use cluster::{ClusterConfig, Item};
use coord::{TileCoord, TileTransform, lonlat_to_merc};
use mvt::{LayerEncoder, TileGeometry, TileValue};
use simplify::{Prepared, sq_tolerance};

/// `[layers.tiles]`: how one layer is tiled. Every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TileLayerConfig {
    /// Whether the layer is served as tiles. Default true.
    pub enabled: bool,
    /// Smallest zoom at which the layer has features; below it its tiles are empty.
    /// Default 0.
    pub minzoom: u8,
    /// Largest zoom advertised in TileJSON (clients overzoom past it); tiles up to the
    /// server's `tiles.max_zoom` are still served. Default 14.
    pub maxzoom: u8,
    /// Tile units per tile side. Default 4096.
    pub extent: u32,
    /// Tile units drawn around the tile so that symbols and strokes are not cut at tile
    /// edges. Default 64.
    pub buffer: u32,
    /// Simplification tolerance in tile units (with extent 4096 and 512 px tiles, 8 units
    /// are one screen pixel). 0 keeps every vertex. Default 8.
    pub simplify: f64,
    /// Polygons (and rings) smaller than this many tile units² are dropped. Default 64
    /// (about one screen pixel²).
    pub min_area: f64,
    /// Most features of this layer in one tile (0: no limit); more are thinned by density.
    /// Default 20000.
    pub max_features: usize,
    /// Most bytes of this layer in one tile, uncompressed (0: no limit); larger layers are
    /// thinned further. Default 400000, which keeps tiles under 500 KB.
    pub max_bytes: usize,
    /// Point clustering. Default off.
    pub cluster: ClusterConfig,
}

impl Default for TileLayerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            minzoom: 0,
            maxzoom: 14,
            extent: 4096,
            buffer: 64,
            simplify: 8.0,
            min_area: 64.0,
            max_features: budget::DEFAULT_MAX_FEATURES,
            max_bytes: budget::DEFAULT_MAX_BYTES,
            cluster: ClusterConfig::default(),
        }
    }
}

impl TileLayerConfig {
    /// Checks ranges; messages name the layer and the key.
    pub fn validate(&self, layer: &str) -> Result<()> {
        let bad = |what: &str| Err(Error::Config(format!("layer {layer:?}: tiles.{what}")));
        if self.minzoom > self.maxzoom || self.maxzoom > coord::ZOOM_LIMIT {
            return bad(&format!(
                "minzoom <= maxzoom <= {} is required",
                coord::ZOOM_LIMIT
            ));
        }
        if !(256..=1 << 16).contains(&self.extent) {
            return bad("extent must be in 256..=65536");
        }
        if self.buffer > self.extent / 2 {
            return bad("buffer must be at most half the extent");
        }
        if !(self.simplify.is_finite() && self.simplify >= 0.0) {
            return bad("simplify must be a non-negative number");
        }
        if !(self.min_area.is_finite() && self.min_area >= 0.0) {
            return bad("min_area must be a non-negative number");
        }
        self.cluster.validate(layer)
    }

    /// The feature and byte budget.
    pub fn budget(&self) -> Budget {
        Budget {
            max_features: self.max_features,
            max_bytes: self.max_bytes,
        }
    }
}

/// `[server.tiles]`: tile settings of the whole server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TileServerConfig {
    /// Largest zoom served; larger `z` is a 400. Default 22, at most 30.
    pub max_zoom: u8,
    /// Memory for cached tiles (encoded and gzip), in MiB. 0 disables the cache.
    /// Default 256.
    pub cache_mib: u64,
    /// `Cache-Control: max-age` of tiles, in seconds. Default 3600.
    pub max_age: u32,
}

impl Default for TileServerConfig {
    fn default() -> Self {
        Self {
            max_zoom: coord::DEFAULT_MAX_ZOOM,
            cache_mib: 256,
            max_age: 3600,
        }
    }
}

impl TileServerConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.max_zoom > coord::ZOOM_LIMIT {
            return Err(Error::Config(format!(
                "server.tiles.max_zoom {} must be at most {}",
                self.max_zoom,
                coord::ZOOM_LIMIT
            )));
        }
        Ok(())
    }
}

/// What a layer keeps for tiling between requests: the simplification-ready geometry of
/// its lines and polygons (empty for point layers). Tied to one layer generation.
#[derive(Debug)]
pub struct PreparedLayer {
    pub generation: u64,
    geoms: Vec<Prepared>,
}

impl PreparedLayer {
    /// Projects the layer's lines and polygons and computes vertex importances.
    pub fn new(layer: &Layer) -> Self {
        let geoms = if layer.geometry_kind == GeometryKind::Point {
            Vec::new()
        } else {
            simplify::prepare_layer(layer.features.iter().map(|f| &f.geometry))
        };
        Self {
            generation: layer.generation,
            geoms,
        }
    }

    fn get(&self, pos: usize) -> &Prepared {
        self.geoms.get(pos).unwrap_or(&Prepared::Points)
    }
}

/// What happened to one layer of a tile: never silent about thinning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerReport {
    pub id: String,
    /// Features (or clusters) that had geometry in the tile before the budget.
    pub candidates: usize,
    /// Features written.
    pub features: usize,
    /// Whether the budget thinned the layer (`features < candidates`).
    pub thinned: bool,
    /// Encoded bytes of the layer.
    pub bytes: usize,
}

/// An encoded tile.
#[derive(Debug, Clone)]
pub struct RenderedTile {
    /// MVT bytes; empty when no layer has a feature here.
    pub mvt: Vec<u8>,
    pub layers: Vec<LayerReport>,
}

/// Renders one tile with one MVT layer per source layer (named by the layer id). Layers
/// whose tiles are disabled or whose zoom range excludes `coord.z` contribute nothing.
/// Prepares lines and polygons on the fly: servers use [`Tiler`], which keeps them.
pub fn render(layers: &[(&Layer, &TileLayerConfig)], coord: TileCoord) -> Result<RenderedTile> {
    let prepared: Vec<PreparedLayer> = layers.iter().map(|(l, _)| PreparedLayer::new(l)).collect();
    let sources: Vec<_> = layers
        .iter()
        .zip(&prepared)
        .map(|((l, c), p)| (*l, *c, p))
        .collect();
    render_prepared(&sources, coord)
}

/// [`render`] with prepared layers.
pub fn render_prepared(
    layers: &[(&Layer, &TileLayerConfig, &PreparedLayer)],
    coord: TileCoord,
) -> Result<RenderedTile> {
    let mut mvt = Vec::new();
    let mut reports = Vec::with_capacity(layers.len());
    let mut any = false;
    for (layer, cfg, prepared) in layers {
        if prepared.generation != layer.generation {
            return Err(Error::Internal(format!(
                "prepared layer {} is stale",
                layer.id()
            )));
        }
        let (encoder, report) = render_layer(layer, cfg, prepared, coord);
        if !encoder.is_empty() {
            any = true;
            encoder.finish(&mut mvt);
        }
        reports.push(report);
    }
    if !any {
        mvt.clear();
    }
    Ok(RenderedTile {
        mvt,
        layers: reports,
    })
}

/// One feature or cluster ready to encode.
struct Candidate {
    what: Item,
    geometry: TileGeometry,
    /// Representative position (tile units) for thinning.
    at: [f64; 2],
    /// Larger first when thinning.
    size: f64,
}

fn render_layer(
    layer: &Layer,
    cfg: &TileLayerConfig,
    prepared: &PreparedLayer,
    coord: TileCoord,
) -> (LayerEncoder, LayerReport) {
    let mut encoder = LayerEncoder::new(layer.id(), cfg.extent);
    let mut report = LayerReport {
        id: layer.id().to_owned(),
        candidates: 0,
        features: 0,
        thinned: false,
        bytes: 0,
    };
    if !cfg.enabled || coord.z < cfg.minzoom {
        return (encoder, report);
    }
    let tf = coord.transform(cfg.extent);
    let clip = ClipBox::new(cfg.extent, cfg.buffer);
    let buffer = f64::from(cfg.buffer) / f64::from(cfg.extent);
    let clustering = cfg.cluster.applies(coord.z) && layer.geometry_kind != GeometryKind::Line;
    let sq_tol = sq_tolerance(cfg.simplify, cfg.extent, coord.z);
    let s = coord.scale();
    let merc_box = [
        (f64::from(coord.x) - buffer) / s,
        (f64::from(coord.y) - buffer) / s,
        (f64::from(coord.x) + 1.0 + buffer) / s,
        (f64::from(coord.y) + 1.0 + buffer) / s,
    ];
    let region = Region {
        merc_box,
        lonlat_box: coord.buffered_bounds_lonlat(buffer),
        tf,
        clip,
        sq_tol,
        clustering,
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    gather(layer, cfg, prepared, coord.z, &region, &mut |c| {
        candidates.push(c)
    });
    if buffer > 0.0 {
        add_across_antimeridian(
            &mut candidates,
            layer,
            cfg,
            prepared,
            coord,
            &region,
            buffer,
        );
    }
    report.candidates = candidates.len();

    let budget = cfg.budget();
    let mut limit = if budget.max_features == 0 {
        usize::MAX
    } else {
        budget.max_features
    };
    let sorted = candidates.len() > limit || budget.max_bytes > 0;
    if sorted {
        // Priority for thinning: larger shapes first, then source order.
        candidates.sort_by(|a, b| b.size.total_cmp(&a.size));
    }
    for round in 0..8 {
        encoder = LayerEncoder::new(layer.id(), cfg.extent);
        let kept: Vec<(usize, u32)> = if candidates.len() > limit {
            let at: Vec<[f64; 2]> = candidates.iter().map(|c| c.at).collect();
            budget::thin(&at, limit, cfg.extent)
        } else {
            (0..candidates.len()).map(|i| (i, 1)).collect()
        };
        let thinned = kept.len() < candidates.len();
        // Stop as soon as the byte budget is exceeded: the bytes per feature so far tell
        // how many features fit, so an oversized layer is never encoded in full.
        let mut written = 0usize;
        let mut overflow = false;
        for &(i, represents) in &kept {
            let c = &candidates[i];
            write_candidate(&mut encoder, layer, cfg, c, thinned.then_some(represents));
            written += 1;
            if budget.max_bytes > 0
                && round < 7
                && written.is_multiple_of(64)
                && encoder.size() > budget.max_bytes
            {
                overflow = true;
                break;
            }
        }
        report.features = encoder.len();
        report.thinned = thinned;
        let size = encoder.size();
        report.bytes = size;
        if budget.max_bytes == 0 || (!overflow && size <= budget.max_bytes) || kept.len() <= 1 {
            break;
        }
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "estimates"
        )]
        let next = (budget.max_bytes as f64 / (size as f64 / written.max(1) as f64) * 0.9) as usize;
        limit = next.clamp(1, kept.len() - 1);
    }
    if report.thinned {
        tracing::debug!(layer = %report.id, tile = %coord, candidates = report.candidates,
            features = report.features, "tile budget thinned the layer");
    }
    (encoder, report)
}

/// Where candidates are gathered from: a Mercator box (clusters) and its lon/lat box
/// (features), placed by `tf` and clipped to `clip`.
struct Region {
    merc_box: [f64; 4],
    lonlat_box: [f64; 4],
    tf: TileTransform,
    clip: ClipBox,
    sq_tol: f64,
    clustering: bool,
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
        for item in cluster::cluster(layer, &cfg.cluster, z, region.merc_box) {
            let t = region.tf.apply(item.merc(layer));
            if region.clip.contains(t) {
                let geometry = TileGeometry::Point(clip::snap(t));
                out(Candidate {
                    what: item,
                    geometry,
                    at: t,
                    size: 0.0,
                });
            }
        }
    }
    let [w, s, e, n] = region.lonlat_box;
    let mut positions: Vec<usize> = layer.index.in_envelope(w, s, e, n).collect();
    positions.sort_unstable();
    for pos in positions {
        let feature = &layer.features[pos];
        if region.clustering && matches!(feature.geometry, Geometry::Point(_)) {
            continue;
        }
        if let Some((geometry, at, size)) = feature_geometry(
            &feature.geometry,
            prepared.get(pos),
            &region.tf,
            region.clip,
            region.sq_tol,
            cfg.min_area,
        ) {
            out(Candidate {
                what: Item::Point(pos),
                geometry,
                at,
                size,
            });
        }
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
            lonlat_box: [
                coord::merc_x_to_lon(mx0),
                south,
                coord::merc_x_to_lon(mx1),
                north,
            ],
            tf: main.tf.shifted(worlds),
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

fn write_candidate(
    encoder: &mut LayerEncoder,
    layer: &Layer,
    cfg: &TileLayerConfig,
    c: &Candidate,
    represents: Option<u32>,
) {
    let extra = represents.map(|n| ("represents", TileValue::Int(i64::from(n))));
    match &c.what {
        Item::Point(pos) => {
            let f = &layer.features[*pos];
            let props = layer
                .fields
                .iter()
                .zip(f.props.iter())
                .filter_map(|(field, p)| prop_value(p).map(|v| (field.name.as_str(), v)));
            encoder.add_feature(Some(f.id), props.chain(extra), &c.geometry);
        }
        Item::Cluster(cl) => {
            let id = i64::try_from(cl.id).unwrap_or(i64::MAX);
            let count = i64::try_from(cl.count).unwrap_or(i64::MAX);
            let base = [
                ("cluster", TileValue::Bool(true)),
                ("cluster_id", TileValue::Int(id)),
                ("point_count", TileValue::Int(count)),
                (
                    "expansion_zoom",
                    TileValue::Int(i64::from(cl.expansion_zoom)),
                ),
            ];
            let sums = cfg
                .cluster
                .sum
                .iter()
                .zip(&cl.sums)
                .filter_map(|(name, s)| {
                    s.map(|s| {
                        let v = match s {
                            cluster::Sum::Int(i) => TileValue::Int(i),
                            cluster::Sum::Float(f) => TileValue::Double(f),
                        };
                        (name.as_str(), v)
                    })
                });
            encoder.add_feature(
                Some(cl.id),
                base.into_iter().chain(sums).chain(extra),
                &c.geometry,
            );
        }
    }
}

fn prop_value(p: &Prop) -> Option<TileValue<'_>> {
    Some(match p {
        Prop::Absent | Prop::Null => return None,
        Prop::Bool(b) => TileValue::Bool(*b),
        Prop::Int(i) => TileValue::Int(*i),
        Prop::Float(f) if f.is_finite() => TileValue::Double(*f),
        Prop::Float(_) => return None,
        Prop::Str(s) => TileValue::Shared(s),
        Prop::Json(v) => TileValue::Json(v),
    })
}

/// The tile geometry of one feature, its representative point and its size (tile units),
/// or `None` when nothing of it is drawn in this tile.
fn feature_geometry(
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
                let t = tf.apply(lonlat_to_merc(p.x(), p.y()));
                return clip
                    .contains(t)
                    .then(|| (TileGeometry::Point(clip::snap(t)), t, 0.0));
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
            let mut bbox = Bbox::default();
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
            let mut bbox = Bbox::default();
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
                        let mut b = Bbox::default();
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

#[derive(Debug, Clone, Copy)]
struct Bbox {
    min: [f64; 2],
    max: [f64; 2],
}

impl Default for Bbox {
    fn default() -> Self {
        Self {
            min: [f64::INFINITY; 2],
            max: [f64::NEG_INFINITY; 2],
        }
    }
}

impl Bbox {
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

/// An encoded tile as cached and served.
#[derive(Debug)]
pub struct CachedTile {
    /// MVT bytes; empty for an empty tile.
    pub mvt: Bytes,
    /// The same, gzip-compressed: made on first use (by the first client that accepts
    /// gzip), then kept with the tile.
    gzip: OnceLock<Bytes>,
    /// Strong entity tag (quoted) of the uncompressed bytes.
    pub etag: String,
    pub layers: Vec<LayerReport>,
}

/// gzip level of tiles: 3 is about three times faster than the default 6 and makes MVT
/// only a few percent larger.
const GZIP_LEVEL: u32 = 3;

impl CachedTile {
    fn new(rendered: RenderedTile) -> Self {
        let etag = format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&rendered.mvt));
        Self {
            mvt: Bytes::from(rendered.mvt),
            gzip: OnceLock::new(),
            etag,
            layers: rendered.layers,
        }
    }

    /// Whether the tile has no feature.
    pub fn is_empty(&self) -> bool {
        self.mvt.is_empty()
    }

    /// The gzip-compressed tile (compressed once, on first call).
    pub fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(self.mvt.len() / 2 + 64),
                    flate2::Compression::new(GZIP_LEVEL),
                );
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&self.mvt);
                Bytes::from(enc.finish().unwrap_or_default())
            })
            .clone()
    }
}

/// The cache key: the generations of the layers (unique per process and per layer
/// snapshot, so they also name the layers) in request order, and the tile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    pub generations: Box<[u64]>,
    pub tile: TileCoord,
}

#[derive(Debug, Clone, Copy, Default)]
struct TileWeight;

impl quick_cache::Weighter<TileKey, Arc<CachedTile>> for TileWeight {
    fn weight(&self, key: &TileKey, val: &Arc<CachedTile>) -> u64 {
        // The gzip copy, made later, is counted up front (about half the MVT).
        (val.mvt.len() * 3 / 2 + key.generations.len() * 8 + 256) as u64
    }
}

/// The tile service: prepared layers and the tile cache, shared by all requests.
pub struct Tiler {
    pub config: TileServerConfig,
    /// Tile settings of each layer, by id; layers not listed use the defaults.
    layers: HashMap<String, TileLayerConfig>,
    default_layer: TileLayerConfig,
    prepared: Mutex<HashMap<String, Arc<PreparedLayer>>>,
    cache: Option<quick_cache::sync::Cache<TileKey, Arc<CachedTile>, TileWeight>>,
}

impl std::fmt::Debug for Tiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiler")
            .field("config", &self.config)
            .field(
                "cached_tiles",
                &self.cache.as_ref().map(quick_cache::sync::Cache::len),
            )
            .finish_non_exhaustive()
    }
}

impl Tiler {
    /// A tiler with an empty cache of `config.cache_mib` MiB.
    pub fn new(config: TileServerConfig) -> Self {
        let bytes = config.cache_mib.saturating_mul(1 << 20);
        let cache = (bytes > 0).then(|| {
            let items = usize::try_from(bytes / 16_384).unwrap_or(1 << 16).max(64);
            quick_cache::sync::Cache::with_weighter(items, bytes, TileWeight)
        });
        Self {
            config,
            layers: HashMap::new(),
            default_layer: TileLayerConfig::default(),
            prepared: Mutex::new(HashMap::new()),
            cache,
        }
    }

    /// The same tiler with the tile settings of each layer, by layer id.
    #[must_use]
    pub fn with_layers(
        mut self,
        layers: impl IntoIterator<Item = (String, TileLayerConfig)>,
    ) -> Self {
        self.layers = layers.into_iter().collect();
        self
    }

    /// The tile settings of a layer.
    pub fn layer_config(&self, layer: &str) -> &TileLayerConfig {
        self.layers.get(layer).unwrap_or(&self.default_layer)
    }

    /// The prepared form of a layer snapshot, built once per generation.
    pub fn prepared(&self, layer: &Layer) -> Arc<PreparedLayer> {
        let mut map = self
            .prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = map.get(layer.id())
            && p.generation == layer.generation
        {
            return Arc::clone(p);
        }
        let p = Arc::new(PreparedLayer::new(layer));
        map.insert(layer.id().to_owned(), Arc::clone(&p));
        p
    }

    /// Parses a tile coordinate with this server's max zoom.
    pub fn parse_coord(&self, z: &str, x: &str, y: &str) -> Result<TileCoord> {
        TileCoord::parse(z, x, y, self.config.max_zoom)
    }

    /// The tile of `layers` (one MVT layer each, in this order) at `coord`, from the cache
    /// or rendered now. The second value tells whether it came from the cache.
    pub fn tile(&self, layers: &[Arc<Layer>], coord: TileCoord) -> Result<(Arc<CachedTile>, bool)> {
        let render_now = || -> Result<Arc<CachedTile>> {
            let prepared: Vec<Arc<PreparedLayer>> =
                layers.iter().map(|l| self.prepared(l)).collect();
            let sources: Vec<_> = layers
                .iter()
                .zip(&prepared)
                .map(|(l, p)| (l.as_ref(), self.layer_config(l.id()), p.as_ref()))
                .collect();
            Ok(Arc::new(CachedTile::new(render_prepared(&sources, coord)?)))
        };
        let Some(cache) = &self.cache else {
            return Ok((render_now()?, false));
        };
        let key = TileKey {
            generations: layers.iter().map(|l| l.generation).collect(),
            tile: coord,
        };
        if let Some(hit) = cache.get(&key) {
            return Ok((hit, true));
        }
        cache
            .get_or_insert_with(&key, render_now)
            .map(|t| (t, false))
    }

    /// The tile from the cache, if it is there (no rendering).
    pub fn cached(&self, layers: &[Arc<Layer>], coord: TileCoord) -> Option<Arc<CachedTile>> {
        let key = TileKey {
            generations: layers.iter().map(|l| l.generation).collect(),
            tile: coord,
        };
        self.cache.as_ref()?.get(&key)
    }

    /// Number of tiles in the cache.
    pub fn cached_tiles(&self) -> usize {
        self.cache.as_ref().map_or(0, quick_cache::sync::Cache::len)
    }
}

/// The TileJSON type name of a field.
fn field_type(kind: Option<FieldKind>) -> &'static str {
    match kind {
        Some(FieldKind::Integer | FieldKind::Number) => "Number",
        Some(FieldKind::Boolean) => "Boolean",
        _ => "String",
    }
}

/// A TileJSON 3.0.0 document for `layers` (composite when more than one), whose tiles are
/// at `tiles_url` (a template with `{z}/{x}/{y}`).
pub fn tilejson(layers: &[&Layer], tiles_url: &str, tiler: &Tiler) -> Value {
    let server = &tiler.config;
    let mut bounds: Option<[f64; 4]> = None;
    let (mut minzoom, mut maxzoom) = (u8::MAX, 0u8);
    let mut vector_layers = Vec::new();
    let mut attributions: Vec<&str> = Vec::new();
    for layer in layers {
        let cfg = tiler.layer_config(layer.id());
        minzoom = minzoom.min(cfg.minzoom);
        maxzoom = maxzoom.max(cfg.maxzoom.min(server.max_zoom));
        if let Some(e) = layer.extent {
            bounds = Some(bounds.map_or(e, |b| {
                [
                    b[0].min(e[0]),
                    b[1].min(e[1]),
                    b[2].max(e[2]),
                    b[3].max(e[3]),
                ]
            }));
        }
        if let Some(a) = layer.config.attribution.as_deref()
            && !attributions.contains(&a)
        {
            attributions.push(a);
        }
        let mut fields = serde_json::Map::new();
        for f in &layer.fields {
            fields.insert(f.name.clone(), Value::from(field_type(f.kind)));
        }
        if cfg.cluster.enabled {
            for (k, v) in [
                ("cluster", "Boolean"),
                ("cluster_id", "Number"),
                ("point_count", "Number"),
                ("expansion_zoom", "Number"),
            ] {
                fields.insert(k.to_owned(), Value::from(v));
            }
        }
        if cfg.max_features > 0 || cfg.max_bytes > 0 {
            fields.insert("represents".to_owned(), Value::from("Number"));
        }
        vector_layers.push(json!({
            "id": layer.id(),
            "description": layer.config.title.clone().unwrap_or_else(|| layer.id().to_owned()),
            "minzoom": cfg.minzoom,
            "maxzoom": cfg.maxzoom.min(server.max_zoom),
            "fields": fields,
        }));
    }
    if minzoom > maxzoom {
        minzoom = 0;
    }
    let [w, s, e, n] = bounds.unwrap_or([-180.0, -85.051_129, 180.0, 85.051_129]);
    let (w, s, e, n) = (
        w.max(-180.0),
        s.max(-85.051_129),
        e.min(180.0),
        n.min(85.051_129),
    );
    let span = (e - w).max(n - s).max(1e-9);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped zoom"
    )]
    let fit = (360.0 / span).log2().floor().clamp(0.0, 30.0) as u8;
    let center_zoom = fit.clamp(minzoom, maxzoom);
    let name = layers.iter().map(|l| l.id()).collect::<Vec<_>>().join(",");
    let description = layers
        .iter()
        .map(|l| l.config.description.as_str())
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, center_zoom],
        "vector_layers": vector_layers,
    });
    if !attributions.is_empty() {
        doc["attribution"] = Value::from(attributions.join("; "));
    }
    doc
}
