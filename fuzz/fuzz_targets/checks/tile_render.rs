//! Tiles of arbitrary points, lines and polygons: gather, simplify, clip, budget and encode,
//! then the tile decoded by an independent MVT decoder (`mvt-reader`).
//!
//! Checks: the tile decodes, has the one layer, every coordinate lies in the buffered tile,
//! every line keeps two distinct points, and every polygon feature is a valid multipolygon
//! (geo's validation) with exteriors clockwise on screen and holes counter-clockwise. The
//! input polygons need not be valid: clipping promises valid output for rings of any shape.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use khorasan_atlas::catalog::{Feature, Layer, LayerSettings};
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::tiles::coord::TileCoord;
use khorasan_atlas::tiles::{PreparedLayer, TileLayerConfig, render_prepared};
use mvt_reader::Reader;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Zoom (mod 23).
    z: u8,
    /// The tile rendered: the one holding the anchor, moved by `dx`, `dy` (mod 3, minus 1).
    dx: u8,
    dy: u8,
    /// Anchor of the shapes, in 1/65536 of the lon and lat ranges.
    anchor: (u16, u16),
    /// Shapes span 360 / 2^(scale mod 26) degrees around the anchor.
    scale: u8,
    simplify: bool,
    min_area: u8,
    buffer: u8,
    shapes: Vec<Shape>,
}

/// Positions are offsets from the anchor in 1/128 of the span.
#[derive(Debug, Arbitrary)]
enum Shape {
    Point((i8, i8)),
    Line(Vec<(i8, i8)>),
    Polygon(Vec<Vec<(i8, i8)>>),
    MultiPolygon(Vec<Vec<Vec<(i8, i8)>>>),
}

const EXTENT: u32 = 4096;

/// Checks one input (panics on a failed check). The bytes become an [`Input`] as
/// libFuzzer's typed targets make them: too short or unreadable inputs are skipped.
pub fn check(data: &[u8]) {
    if data.len() < Input::size_hint(0).0 {
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let z = input.z % 23;
    let lon0 = f64::from(input.anchor.0) / 65536.0 * 360.0 - 180.0;
    let lat0 = f64::from(input.anchor.1) / 65536.0 * 180.0 - 90.0;
    let span = 360.0 / f64::from(1u32 << (input.scale % 26));
    let at = |(a, b): (i8, i8)| Coord {
        x: (lon0 + f64::from(a) / 128.0 * span).clamp(-180.0, 180.0),
        y: (lat0 + f64::from(b) / 128.0 * span).clamp(-90.0, 90.0),
    };
    let ring = |r: &[(i8, i8)]| {
        let mut coords: Vec<Coord> = r.iter().map(|&p| at(p)).collect();
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString(coords)
    };
    let polygon = |rings: &[Vec<(i8, i8)>]| {
        let mut rings = rings.iter().filter(|r| r.len() >= 3).map(|r| ring(r));
        let exterior = rings.next()?;
        Some(Polygon::new(exterior, rings.collect()))
    };
    let geometries: Vec<Geometry> = input
        .shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Point(p) => Some(Point(at(*p)).into()),
            Shape::Line(l) if l.len() >= 2 => {
                Some(LineString(l.iter().map(|&p| at(p)).collect()).into())
            }
            Shape::Line(_) => None,
            Shape::Polygon(rings) => polygon(rings).map(Geometry::from),
            Shape::MultiPolygon(parts) => {
                let polys: Vec<Polygon> = parts.iter().filter_map(|p| polygon(p)).collect();
                (!polys.is_empty()).then(|| MultiPolygon(polys).into())
            }
        })
        .collect();
    if geometries.is_empty() {
        return;
    }
    let features: Vec<Feature> = geometries
        .into_iter()
        .zip(1..)
        .map(|(geometry, id)| Feature {
            id,
            geometry: geometry.into(),
            source_geometry: None,
            props: Box::new([]),
            time: khorasan_atlas::catalog::Time::NONE,
        })
        .collect();
    let layer = Layer::build(
        Arc::new(LayerSettings {
            id: "fuzz".to_owned(),
            ..LayerSettings::default()
        }),
        Vec::new(),
        features,
        Default::default(),
    );
    let cfg = TileLayerConfig {
        simplify: if input.simplify { 8.0 } else { 0.0 },
        min_area: f64::from(input.min_area),
        buffer: u32::from(input.buffer),
        ..TileLayerConfig::default()
    };
    let n = 1i64 << z;
    let [mx, my] = lonlat_to_merc(lon0, lat0);
    #[allow(clippy::cast_possible_truncation)]
    let tile = |m: f64, d: u8| {
        let t = ((m * n as f64).floor() as i64 + i64::from(d % 3) - 1).clamp(0, n - 1);
        u64::try_from(t).unwrap_or(0)
    };
    let Ok(coord) = TileCoord::new(u64::from(z), tile(mx, input.dx), tile(my, input.dy), 22) else {
        panic!("tile of the anchor out of range");
    };
    let prepared = PreparedLayer::new(&layer);
    let rendered = match render_prepared(&[(&layer, &cfg, &prepared)], coord) {
        Ok(t) => t,
        Err(e) => panic!("render failed: {e}"),
    };
    if rendered.mvt.is_empty() {
        return;
    }
    check_tile(&rendered.mvt, &cfg);
}

/// Shoelace area in tile units (y down): positive = clockwise on screen.
fn shoelace(ring: &LineString<f64>) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

fn check_tile(mvt: &[u8], cfg: &TileLayerConfig) {
    let reader =
        Reader::new(mvt.to_vec()).unwrap_or_else(|e| panic!("tile does not decode: {e:?}"));
    let names = reader
        .get_layer_names()
        .unwrap_or_else(|e| panic!("layer names: {e:?}"));
    assert_eq!(names, ["fuzz"]);
    let features = reader
        .get_features_as::<f64>(0)
        .unwrap_or_else(|e| panic!("features do not decode: {e:?}"));
    let lo = -f64::from(cfg.buffer.min(EXTENT));
    let hi = f64::from(EXTENT) - lo;
    for f in &features {
        for c in geo::CoordsIter::coords_iter(&f.geometry) {
            assert!(
                c.x >= lo && c.x <= hi && c.y >= lo && c.y <= hi,
                "feature {:?}: {c:?} outside the buffered tile",
                f.id
            );
        }
        match &f.geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => {}
            Geometry::LineString(l) => check_line(l),
            Geometry::MultiLineString(ml) => ml.iter().for_each(check_line),
            Geometry::Polygon(p) => check_polygons(std::slice::from_ref(p)),
            Geometry::MultiPolygon(mp) => check_polygons(&mp.0),
            g => panic!("unexpected geometry {g:?}"),
        }
    }
}

fn check_line(l: &LineString<f64>) {
    assert!(
        l.0.windows(2).any(|w| w[0] != w[1]),
        "line without two distinct points: {l:?}"
    );
}

fn check_polygons(polys: &[Polygon<f64>]) {
    if let Err(e) = MultiPolygon(polys.to_vec()).check_validation() {
        panic!("invalid multipolygon: {e:?}: {polys:?}");
    }
    for p in polys {
        assert!(
            shoelace(p.exterior()) > 0.0,
            "exterior not clockwise: {p:?}"
        );
        for hole in p.interiors() {
            assert!(shoelace(hole) < 0.0, "hole not counter-clockwise: {p:?}");
        }
    }
}
