//! Vector tiles through the real router, decoded with an independent MVT decoder
//! (`mvt-reader`): geometry where the features are, valid and clockwise polygons, buffers
//! shared by neighbours, exact cluster counts, ids of the feature API, errors and caching.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use common::{Reply, atlas, get, get_with, state_from_toml};
use geo::{Geometry, Validation};
use khorasan_atlas::geom::mercator::lonlat_to_merc;
use khorasan_atlas::http::AppState;
use mvt_reader::Reader;
use mvt_reader::feature::{Feature, Value};

/// Decoded layers of a tile: name -> features (coordinates in tile units, f64).
fn decode(body: &[u8]) -> HashMap<String, Vec<Feature<f64>>> {
    let reader = Reader::new(body.to_vec()).expect("a valid MVT");
    let names = reader.get_layer_names().unwrap();
    let meta = reader.get_layer_metadata().unwrap();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            assert_eq!(meta[i].extent, 4096);
            (name, reader.get_features_as::<f64>(i).unwrap())
        })
        .collect()
}

async fn tile(state: &AppState, uri: &str) -> HashMap<String, Vec<Feature<f64>>> {
    let r = get_with(state, uri, &[]).await;
    match r.status {
        200 => {
            assert_eq!(
                r.header("content-type"),
                Some("application/vnd.mapbox-vector-tile")
            );
            decode(&r.body)
        }
        204 => HashMap::new(),
        s => panic!("{uri}: status {s}: {}", String::from_utf8_lossy(&r.body)),
    }
}

/// Tile units of a lon/lat point in tile z/x/y.
fn tile_units(lon: f64, lat: f64, z: u8, x: u32, y: u32) -> [f64; 2] {
    let [mx, my] = lonlat_to_merc(lon, lat);
    let n = f64::from(1u32 << z);
    [
        (mx * n - f64::from(x)) * 4096.0,
        (my * n - f64::from(y)) * 4096.0,
    ]
}

/// The tile containing a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let [mx, my] = lonlat_to_merc(lon, lat);
    let n = f64::from(1u32 << z);
    ((mx * n).floor() as u32, (my * n).floor() as u32)
}

fn points(f: &Feature<f64>) -> Vec<[f64; 2]> {
    match &f.geometry {
        Geometry::MultiPoint(mp) => mp.iter().map(|p| [p.x(), p.y()]).collect(),
        Geometry::Point(p) => vec![[p.x(), p.y()]],
        g => panic!("not a point: {g:?}"),
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i) | Value::SInt(i)) => *i,
        Some(Value::UInt(u)) => i64::try_from(*u).unwrap(),
        other => panic!("not an integer: {other:?}"),
    }
}

fn prop<'a>(f: &'a Feature<f64>, k: &str) -> Option<&'a Value> {
    f.properties.as_ref().and_then(|p| p.get(k))
}

/// Shoelace area in tile units (y down): positive = clockwise on screen.
fn shoelace(ring: &geo::LineString<f64>) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

/// A deterministic generator (64-bit LCG), so that tests need no committed data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Writes a GeoJSON FeatureCollection of points (with `deaths`) and returns its path.
fn write_points(dir: &Path, name: &str, pts: &[(f64, f64, i64)]) -> String {
    let features: Vec<serde_json::Value> = pts
        .iter()
        .map(|(lon, lat, d)| {
            serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"deaths": d, "name": format!("p{lon:.3}")}})
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(
        &path,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    path.display().to_string()
}

#[actix_web::test]
async fn points_land_where_the_features_are_with_the_feature_api_ids() {
    let state = atlas();
    let layer = state.catalog.get("incidents").unwrap().snapshot();
    // Above the zooms where the default atlas clusters incidents, each is its own feature.
    let first = incident_cluster_max_zoom(&state) + 1;
    for (_, f) in layer.features.iter().step_by(9) {
        let Some(p) = f.geometry.point() else {
            continue;
        };
        for z in [first, first + 2, 14] {
            let (x, y) = tile_of(p.x(), p.y(), z);
            let layers = tile(&state, &format!("/tiles/incidents/{z}/{x}/{y}.mvt")).await;
            let found = layers["incidents"]
                .iter()
                .find(|t| t.id == Some(f.id))
                .unwrap_or_else(|| panic!("feature {} missing from {z}/{x}/{y}", f.id));
            let want = tile_units(p.x(), p.y(), z, x, y);
            let got = points(found)[0];
            assert!(
                (got[0] - want[0]).abs() <= 0.5 && (got[1] - want[1]).abs() <= 0.5,
                "{got:?} vs {want:?}"
            );
        }
        // The same id names the same feature in the feature API.
        let item = get(&format!("/collections/incidents/items/{}", f.id)).await;
        assert_eq!(item.status, 200);
        let c = &item.json()["geometry"]["coordinates"];
        assert!((c[0].as_f64().unwrap() - p.x()).abs() < 1e-9);
    }
}

/// Every leaf of cluster `id` of `layer`, as the GeoJSON endpoint gives them.
async fn all_leaves(
    state: &AppState,
    layer: &str,
    id: impl std::fmt::Display,
) -> serde_json::Value {
    get_with(
        state,
        &format!("/tiles/{layer}/clusters/{id}/leaves?limit=10000"),
        &[],
    )
    .await
    .json()
}

fn incident_cluster_max_zoom(state: &AppState) -> u8 {
    let cfg = state
        .config
        .layers
        .iter()
        .find(|l| l.id == "incidents")
        .unwrap();
    assert!(
        cfg.tiles.cluster.enabled,
        "the default atlas clusters incidents"
    );
    cfg.tiles.cluster.max_zoom
}

/// In the default atlas, clusters and single incidents in a tile account for every incident
/// the feature API finds in it, and a cluster's leaves are those incidents.
#[actix_web::test]
async fn default_atlas_clusters_account_for_every_incident() {
    let state = atlas();
    let layer = state.catalog.get("incidents").unwrap().snapshot();
    for (z, x, y) in [(3u8, 5u32, 3u32), (6, 44, 25), (0, 0, 0)] {
        let n = f64::from(1u32 << z);
        let lon = |tx: f64| tx / n * 360.0 - 180.0;
        let lat = |ty: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * ty / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        let (w, s, e, nth) = (
            lon(f64::from(x)),
            lat(f64::from(y + 1)),
            lon(f64::from(x + 1)),
            lat(f64::from(y)),
        );
        let inside: std::collections::BTreeSet<u64> = layer
            .features
            .iter()
            .map(|(_, f)| f)
            .filter(|f| match *f.geometry.get() {
                Geometry::Point(p) => p.x() >= w && p.x() < e && p.y() > s && p.y() <= nth,
                _ => false,
            })
            .map(|f| f.id)
            .collect();
        let layers = tile(&state, &format!("/tiles/incidents/{z}/{x}/{y}")).await;
        let mut members = std::collections::BTreeSet::new();
        let mut clusters = 0;
        for f in &layers["incidents"] {
            if matches!(prop(f, "cluster"), Some(Value::Bool(true))) {
                clusters += 1;
                let id = int(prop(f, "cluster_id"));
                let leaves = all_leaves(&state, "incidents", id).await;
                let ids: Vec<u64> = leaves["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        let api_id = l["id"]
                            .as_str()
                            .map_or_else(|| l["id"].to_string(), str::to_owned);
                        layer.find(&api_id).unwrap().id
                    })
                    .collect();
                assert_eq!(ids.len() as i64, int(prop(f, "point_count")), "{z}/{x}/{y}");
                members.extend(ids);
            } else {
                members.insert(f.id.unwrap());
            }
        }
        assert!(clusters > 0, "{z}/{x}/{y} has clusters");
        // Clusters near the tile edge may hold points of the neighbouring tile (the buffer).
        assert!(
            inside.is_subset(&members),
            "{z}/{x}/{y}: incidents missing from the tile: {:?}",
            inside.difference(&members).collect::<Vec<_>>()
        );
    }
}

#[actix_web::test]
async fn typed_properties_survive() {
    let state = atlas();
    let layer = state.catalog.get("incidents").unwrap().snapshot();
    let f = layer.features.get(0).unwrap();
    let Some(p) = f.geometry.point() else {
        panic!()
    };
    let z = incident_cluster_max_zoom(&state) + 1;
    let (x, y) = tile_of(p.x(), p.y(), z);
    let layers = tile(&state, &format!("/tiles/incidents/{z}/{x}/{y}")).await;
    let t = layers["incidents"]
        .iter()
        .find(|t| t.id == Some(f.id))
        .unwrap();
    let api = get(&format!("/collections/incidents/items/{}", f.id))
        .await
        .json();
    for (k, v) in api["properties"].as_object().unwrap() {
        match (v, prop(t, k)) {
            (serde_json::Value::Null, got) => assert!(got.is_none(), "{k}"),
            (serde_json::Value::String(s), Some(Value::String(g))) => assert_eq!(s, g),
            (serde_json::Value::Number(n), got @ Some(_)) if n.is_i64() => {
                assert_eq!(n.as_i64().unwrap(), int(got))
            }
            (serde_json::Value::Number(n), Some(Value::Double(g))) => {
                assert_eq!(n.as_f64().unwrap(), *g)
            }
            (serde_json::Value::Bool(b), Some(Value::Bool(g))) => assert_eq!(b, g),
            (
                serde_json::Value::Array(_) | serde_json::Value::Object(_),
                Some(Value::String(g)),
            ) => {
                assert_eq!(&serde_json::from_str::<serde_json::Value>(g).unwrap(), v)
            }
            (v, got) => panic!("{k}: {v} became {got:?}"),
        }
    }
}

#[actix_web::test]
async fn clipped_polygons_are_valid_and_clockwise() {
    let state = atlas();
    let mut checked = 0;
    let mut tiles = vec![(0u8, 0u32, 0u32)];
    for x in 0..4 {
        for y in 0..4 {
            tiles.push((2, x, y));
        }
    }
    // The region at z5 and z7 (Afghanistan, Pakistan, Iran edges).
    for (z, lons, lats) in [
        (5u8, [55.0, 75.0], [25.0, 40.0]),
        (7, [60.0, 72.0], [29.0, 38.0]),
    ] {
        let (x0, y0) = tile_of(lons[0], lats[1], z);
        let (x1, y1) = tile_of(lons[1], lats[0], z);
        for x in x0..=x1 {
            for y in y0..=y1 {
                tiles.push((z, x, y));
            }
        }
    }
    for (z, x, y) in tiles {
        for layer in ["countries", "provinces", "khorasan"] {
            let layers = tile(&state, &format!("/tiles/{layer}/{z}/{x}/{y}")).await;
            for f in layers.get(layer).into_iter().flatten() {
                let polys: Vec<geo::Polygon<f64>> = match &f.geometry {
                    Geometry::Polygon(p) => vec![p.clone()],
                    Geometry::MultiPolygon(mp) => mp.0.clone(),
                    g => panic!("not a polygon: {g:?}"),
                };
                // The feature as a whole: its polygons must not overlap or share an edge.
                if let Err(e) = geo::MultiPolygon(polys.clone()).check_validation() {
                    panic!(
                        "{layer} {z}/{x}/{y} feature {:?}: invalid multipolygon: {e:?}",
                        f.id
                    );
                }
                for p in polys {
                    assert!(
                        shoelace(p.exterior()) > 0.0,
                        "{layer} {z}/{x}/{y} feature {:?}: exterior not clockwise",
                        f.id
                    );
                    for hole in p.interiors() {
                        assert!(
                            shoelace(hole) < 0.0,
                            "{layer} {z}/{x}/{y}: hole not counter-clockwise"
                        );
                    }
                    if let Err(e) = p.check_validation() {
                        panic!(
                            "{layer} {z}/{x}/{y} feature {:?}: invalid polygon: {e:?}",
                            f.id
                        );
                    }
                    for c in p.exterior().coords() {
                        assert!((-64.0..=4160.0).contains(&c.x) && (-64.0..=4160.0).contains(&c.y));
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} polygons checked");
}

#[actix_web::test]
async fn a_feature_near_a_tile_edge_is_in_both_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    // z4 tiles 9 and 10 meet at lon 45 (x = 10/16 of the world). 0.5 degree is about
    // 0.022 of a z4 tile = 91 units: inside a 128-unit buffer.
    let pts = write_points(
        dir.path(),
        "edge.geojson",
        &[(45.5, 20.0, 1), (40.0, 20.0, 2)],
    );
    let polygon = dir.path().join("poly.geojson");
    std::fs::write(
        &polygon,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
        "geometry":{"type":"Polygon","coordinates":[[[40,15],[50,15],[50,25],[40,25],[40,15]]]}}]}"#,
    )
    .unwrap();
    let state = state_from_toml(&format!(
        "[[layers]]\nid='pts'\nfile='{pts}'\n[layers.tiles]\nbuffer=128\n\
         [[layers]]\nid='poly'\nfile='{}'\n",
        polygon.display()
    ));
    let (x, y) = tile_of(45.5, 20.0, 4);
    assert_eq!(x, 10);
    let right = tile(&state, &format!("/tiles/pts/4/10/{y}")).await;
    let left = tile(&state, &format!("/tiles/pts/4/9/{y}")).await;
    let r: Vec<_> = right["pts"].iter().filter(|f| f.id == Some(1)).collect();
    let l: Vec<_> = left["pts"].iter().filter(|f| f.id == Some(1)).collect();
    assert_eq!(
        (r.len(), l.len()),
        (1, 1),
        "the edge point is in both tiles"
    );
    let (pr, pl) = (points(r[0])[0], points(l[0])[0]);
    assert!(pr[0] > 0.0 && pr[0] < 128.0, "{pr:?}");
    assert!((pl[0] - (pr[0] + 4096.0)).abs() <= 1.0, "{pl:?} vs {pr:?}");
    assert_eq!(pr[1], pl[1]);
    // The far point only in its own tile.
    assert!(left["pts"].iter().any(|f| f.id == Some(2)));
    assert!(!right["pts"].iter().any(|f| f.id == Some(2)));
    // The polygon spans both tiles: both draw it, cut at their (default 64-unit) buffers.
    for x in [9, 10] {
        let t = tile(&state, &format!("/tiles/poly/4/{x}/{y}")).await;
        let p = match &t["poly"][0].geometry {
            Geometry::Polygon(p) => p.clone(),
            Geometry::MultiPolygon(mp) if mp.0.len() == 1 => mp.0[0].clone(),
            g => panic!("{g:?}"),
        };
        let xs: Vec<f64> = p.exterior().coords().map(|c| c.x).collect();
        let edge = if x == 9 { 4160.0 } else { -64.0 };
        assert!(xs.contains(&edge), "{xs:?}");
        assert!(p.is_valid());
    }
    // A composite tile has one layer per source layer.
    let both = tile(&state, &format!("/tiles/pts,poly/4/10/{y}")).await;
    assert_eq!(both.len(), 2);
}

fn cluster_state(dir: &Path, n: usize, extra: &str) -> (AppState, Vec<(f64, f64, i64)>) {
    let mut rng = Lcg(7);
    let mut pts = Vec::new();
    for i in 0..n {
        // Three dense groups (Kabul, Jalalabad, Peshawar) and a scatter over the region.
        let (lon, lat, spread) = match i % 4 {
            0 => (69.17, 34.53, 0.3),
            1 => (70.45, 34.43, 0.2),
            2 => (71.57, 34.01, 0.4),
            _ => (66.0, 33.0, 8.0),
        };
        let d = i64::try_from(i % 7).unwrap();
        pts.push((
            lon + (rng.next() - 0.5) * spread,
            lat + (rng.next() - 0.5) * spread,
            d,
        ));
    }
    let path = write_points(dir, "cl.geojson", &pts);
    let state = state_from_toml(&format!(
        "[[layers]]\nid='cl'\nfile='{path}'\n[layers.tiles.cluster]\nenabled=true\nradius=64\nmax_zoom=10\nsum=['deaths']\n{extra}"
    ));
    (state, pts)
}

#[actix_web::test]
async fn clusters_count_exactly_the_points_they_replace() {
    let dir = tempfile::tempdir().unwrap();
    let (state, pts) = cluster_state(dir.path(), 2000, "");
    let total_deaths: i64 = pts.iter().map(|p| p.2).sum();
    // z0: one tile holds every point once.
    let t = tile(&state, "/tiles/cl/0/0/0").await;
    let count: i64 = t["cl"]
        .iter()
        .map(|f| prop(f, "point_count").map_or(1, |v| int(Some(v))))
        .sum();
    assert_eq!(count, 2000);
    let deaths: i64 = t["cl"].iter().map(|f| int(prop(f, "deaths"))).sum();
    assert_eq!(deaths, total_deaths);
    // z6 and z9: over every tile of the region, features inside the (unbuffered) tile
    // account for every point exactly once.
    for z in [6u8, 9] {
        let (x0, y0) = tile_of(61.0, 38.0, z);
        let (x1, y1) = tile_of(72.5, 28.0, z);
        let mut sum = 0i64;
        let mut clusters = 0;
        for x in x0..=x1 {
            for y in y0..=y1 {
                let t = tile(&state, &format!("/tiles/cl/{z}/{x}/{y}")).await;
                for f in t.get("cl").into_iter().flatten() {
                    let p = points(f)[0];
                    if (0.0..4096.0).contains(&p[0]) && (0.0..4096.0).contains(&p[1]) {
                        let is_cluster = matches!(prop(f, "cluster"), Some(Value::Bool(true)));
                        clusters += usize::from(is_cluster);
                        sum += if is_cluster {
                            int(prop(f, "point_count"))
                        } else {
                            1
                        };
                    }
                }
            }
        }
        assert_eq!(sum, 2000, "z{z}");
        assert!(clusters > 0, "z{z} has clusters");
    }
    // The GeoJSON endpoint agrees, and the leaves of a cluster are its points.
    let r = get_with(&state, "/tiles/cl/clusters?zoom=5&bbox=55,25,80,40", &[]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let doc = r.json();
    assert_eq!(doc["pointCount"], 2000);
    let biggest = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["cluster"] == true)
        .max_by_key(|f| f["properties"]["point_count"].as_u64())
        .unwrap()
        .clone();
    let id = biggest["properties"]["cluster_id"].as_u64().unwrap();
    assert_eq!(biggest["id"].as_u64(), Some(id));
    assert!(biggest["properties"]["expansion_zoom"].as_u64().unwrap() > 5);
    let leaves = all_leaves(&state, "cl", id).await;
    assert_eq!(
        leaves["numberMatched"],
        biggest["properties"]["point_count"]
    );
    let leaf_deaths: i64 = leaves["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["deaths"].as_i64().unwrap())
        .sum();
    assert_eq!(
        serde_json::Value::from(leaf_deaths),
        biggest["properties"]["deaths"]
    );
    let page = get_with(
        &state,
        &format!("/tiles/cl/clusters/{id}/leaves?limit=3&offset=1"),
        &[],
    )
    .await
    .json();
    assert_eq!(page["numberReturned"], 3);
    assert_eq!(page["features"][0]["id"], leaves["features"][1]["id"]);
    assert_eq!(
        get_with(&state, "/tiles/cl/clusters/12345/leaves", &[])
            .await
            .status,
        404
    );
    assert_eq!(
        get_with(&state, "/tiles/cl/clusters?zoom=3&colour=red", &[])
            .await
            .status,
        400
    );
    // Above the cluster max zoom, points are themselves.
    let (x, y) = tile_of(69.17, 34.53, 11);
    let t = tile(&state, &format!("/tiles/cl/11/{x}/{y}")).await;
    assert!(t["cl"].iter().all(|f| prop(f, "cluster").is_none()));
}

#[actix_web::test]
async fn the_budget_thins_by_density_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (state, pts) = cluster_state(dir.path(), 6000, "");
    let path = state.config.layers[0].file.display().to_string();
    let state = state_from_toml(&format!(
        "[[layers]]\nid='dense'\nfile='{path}'\n[layers.tiles]\nmax_features=300\n"
    ));
    let r = get_with(&state, "/tiles/dense/2/2/1", &[]).await;
    assert_eq!(r.status, 200);
    let thinned = r.header("x-tile-thinned").expect("thinning is reported");
    assert_eq!(
        thinned,
        format!("dense={}/6000", decode(&r.body)["dense"].len())
    );
    let t = decode(&r.body);
    let n = t["dense"].len();
    assert!(n <= 300 && n > 30, "{n}");
    let represented: i64 = t["dense"].iter().map(|f| int(prop(f, "represents"))).sum();
    assert_eq!(represented, 6000);
    // The shape survives: every 256-unit cell that holds source points keeps a feature.
    let cell = |p: [f64; 2]| ((p[0] / 256.0).floor() as i64, (p[1] / 256.0).floor() as i64);
    let kept: std::collections::HashSet<_> =
        t["dense"].iter().map(|f| cell(points(f)[0])).collect();
    let source: std::collections::HashSet<_> = pts
        .iter()
        .map(|p| cell(tile_units(p.0, p.1, 2, 2, 1)))
        .collect();
    assert!(source.len() > 5);
    assert!(
        source.is_subset(&kept),
        "lost cells: {:?}",
        source.difference(&kept).collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn the_byte_budget_holds_and_counts_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (state, _) = cluster_state(dir.path(), 6000, "");
    let path = state.config.layers[0].file.display().to_string();
    let state = state_from_toml(&format!(
        "[[layers]]\nid='dense'\nfile='{path}'\n[layers.tiles]\nmax_bytes=20000\n"
    ));
    let r = get_with(&state, "/tiles/dense/2/2/1", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.len() <= 20_000 + 200, "{} bytes", r.body.len());
    assert!(r.header("x-tile-thinned").is_some());
    let t = decode(&r.body);
    let represented: i64 = t["dense"].iter().map(|f| int(prop(f, "represents"))).sum();
    assert_eq!(represented, 6000);
    assert!(t["dense"].len() > 100, "{}", t["dense"].len());
}

#[actix_web::test]
async fn bad_coordinates_are_400_naming_the_value() {
    for (uri, value) in [
        ("/tiles/incidents/23/0/0", "23"),
        ("/tiles/incidents/3/8/0", "8"),
        ("/tiles/incidents/3/0/9.pbf", "9"),
        ("/tiles/incidents/3/-1/0", "-1"),
        ("/tiles/incidents/z/0/0", "z"),
        (
            "/tiles/incidents/99999999999999999999999/0/0",
            "99999999999999999999999",
        ),
        ("/collections/incidents/tiles/WebMercatorQuad/2/4/0", "4"),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, 400, "{uri}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(&format!("\"{value}\"")), "{uri}: {detail}");
    }
    assert_eq!(get("/tiles/nowhere/0/0/0").await.status, 404);
    assert_eq!(get("/tiles/incidents/0/0/0?foo=1").await.status, 400);
    assert_eq!(
        get("/collections/incidents/tiles/WorldCRS84Quad/0/0/0")
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn etag_304_gzip_and_empty_tiles() {
    let state = atlas();
    let uri = "/tiles/countries/1/1/0";
    let plain = get_with(&state, uri, &[]).await;
    assert_eq!(plain.status, 200);
    assert!(plain.header("content-encoding").is_none());
    let etag = plain.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert!(plain.header("cache-control").unwrap().contains("max-age="));
    let gz: Reply = get_with(&state, uri, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("x-tile-cache"), Some("hit"));
    // One entity tag per coding: the tile's with the coding inside the quotes.
    let gz_etag = gz.header("etag").unwrap().to_owned();
    assert_eq!(gz_etag, format!("{}-gzip\"", etag.trim_end_matches('"')));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw, plain.body);
    let again = get_with(&state, uri, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let gz_again = get_with(
        &state,
        uri,
        &[("If-None-Match", &gz_etag), ("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gz_again.status, 304);
    // A browser's list takes zstd, compressed once per cached tile.
    let browser = [("Accept-Encoding", "gzip, deflate, br, zstd")];
    let zs = get_with(&state, uri, &browser).await;
    assert_eq!(zs.header("content-encoding"), Some("zstd"));
    assert_eq!(zstd::decode_all(&zs.body[..]).unwrap(), plain.body);
    assert_eq!(get_with(&state, uri, &browser).await.body, zs.body);
    // An empty tile (the South Pacific has no incident) is 204, every time.
    for _ in 0..2 {
        let r = get_with(&state, "/tiles/incidents/4/1/10", &[]).await;
        assert_eq!(r.status, 204);
        assert!(r.body.is_empty());
        assert!(r.header("etag").is_some());
    }
    // The OGC path serves the same bytes (row before column).
    let ogc = get_with(
        &state,
        "/collections/countries/tiles/WebMercatorQuad/1/0/1",
        &[],
    )
    .await;
    assert_eq!(ogc.status, 200);
    assert_eq!(ogc.body, plain.body);
}

#[actix_web::test]
async fn a_new_layer_generation_is_never_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_points(dir.path(), "g.geojson", &[(10.0, 10.0, 1)]);
    let state = state_from_toml(&format!("[[layers]]\nid='g'\nfile='{path}'\n"));
    let first = get_with(&state, "/tiles/g/0/0/0", &[]).await;
    assert_eq!(decode(&first.body)["g"].len(), 1);
    let handle = state.catalog.get("g").unwrap();
    let layer = handle.snapshot();
    let mut features: Vec<_> = layer.features.iter().map(|(_, f)| f.clone()).collect();
    let mut moved = features[0].clone();
    moved.id = 2;
    moved.geometry = geo::Point::new(-20.0, -20.0).into();
    features.push(moved);
    handle.replace(layer.with_features(layer.fields.clone(), features));
    let second = get_with(&state, "/tiles/g/0/0/0", &[]).await;
    assert_eq!(second.header("x-tile-cache"), Some("miss"));
    assert_eq!(decode(&second.body)["g"].len(), 2);
    assert_ne!(first.header("etag"), second.header("etag"));
}

#[actix_web::test]
async fn metadata_documents() {
    let state = atlas();
    let tj = get_with(
        &state,
        "/tiles/incidents",
        &[("Host", "atlas.example:8080")],
    )
    .await
    .json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        "http://atlas.example:8080/tiles/incidents/{z}/{x}/{y}"
    );
    let vl = &tj["vector_layers"][0];
    assert_eq!(vl["id"], "incidents");
    assert_eq!(vl["fields"]["deaths"], "Number");
    assert_eq!(vl["fields"]["title"], "String");
    assert!(tj["bounds"][0].as_f64().unwrap() < 70.0 && tj["center"][2].as_u64().is_some());
    assert!(tj["attribution"].as_str().is_some());
    let composite = get("/tiles/countries,incidents").await.json();
    assert_eq!(composite["vector_layers"].as_array().unwrap().len(), 2);
    let catalog = get("/tiles").await.json();
    assert_eq!(
        catalog["tilesets"].as_array().unwrap().len(),
        state.catalog.layers.len()
    );
    // The catalogue is also an OGC API - Tiles tileset list (the landing page's
    // tilesets-vector link points to it): each entry links to its tileset document.
    for ts in catalog["tilesets"].as_array().unwrap() {
        assert_eq!(ts["dataType"], "vector");
        let id = ts["id"].as_str().unwrap();
        let self_link = ts["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "self")
            .unwrap();
        assert!(
            self_link["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/collections/{id}/tiles/WebMercatorQuad"))
        );
    }
    let landing = get("/").await.json();
    assert!(landing["links"].as_array().unwrap().iter().any(|l| {
        l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
            && l["href"].as_str().unwrap().ends_with("/tiles")
    }));
    let tms = get("/tileMatrixSets/WebMercatorQuad").await.json();
    assert_eq!(tms["tileMatrices"][3]["matrixWidth"], 8);
    let sets = get("/collections/incidents/tiles").await.json();
    assert_eq!(sets["tilesets"][0]["dataType"], "vector");
    let ts = get("/collections/incidents/tiles/WebMercatorQuad")
        .await
        .json();
    let links = ts["links"].as_array().unwrap();
    assert!(links.iter().any(|l| {
        l["rel"] == "item"
            && l["href"]
                .as_str()
                .unwrap()
                .ends_with("/{tileMatrix}/{tileRow}/{tileCol}")
    }));
}

#[actix_web::test]
async fn world_countries_tiles_stay_small_at_low_zoom() {
    let state = atlas();
    for z in 0..=4u8 {
        let n = 1u32 << z;
        let mut largest = 0;
        for x in 0..n {
            for y in 0..n {
                let r = get_with(&state, &format!("/tiles/countries/{z}/{x}/{y}"), &[]).await;
                largest = largest.max(r.body.len());
            }
        }
        assert!(largest < 200_000, "z{z}: largest tile {largest} bytes");
    }
}

#[actix_web::test]
async fn every_tile_route_is_in_the_openapi_document() {
    let api = get("/api").await.json();
    for route in khorasan_atlas::http::tiles::TILE_ROUTES {
        assert!(
            api["paths"][route]["get"].is_object(),
            "{route} missing from /api"
        );
    }
}

/// Tiles on the antimeridian carry, in their buffer, what lies just across it, placed as in
/// the neighbouring copy of the world; each feature still appears once per tile.
#[actix_web::test]
async fn antimeridian_tiles_wrap_their_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seam.geojson");
    std::fs::write(
        &path,
        serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [179.5, 10.0]}, "properties": {}},
            {"type": "Feature", "id": 2, "geometry": {"type": "Point", "coordinates": [-179.5, 10.0]}, "properties": {}},
            {"type": "Feature", "id": 3, "geometry": {"type": "Polygon", "coordinates": [[[179.0, 0.0], [180.0, 0.0], [180.0, 5.0], [179.0, 5.0], [179.0, 0.0]]]}, "properties": {}},
            {"type": "Feature", "id": 4, "geometry": {"type": "Point", "coordinates": [100.0, 10.0]}, "properties": {}}
        ]})
        .to_string(),
    )
    .unwrap();
    let state = state_from_toml(&format!(
        "[[layers]]\nid='seam'\nfile='{}'\n",
        path.display()
    ));
    // Expected tile x of a longitude in tile 2/x/1, from the tile maths (4096 units a tile).
    let x_at = |lon: f64, tile_x: u32| (lon + 180.0) / 90.0 * 4096.0 - f64::from(tile_x) * 4096.0;
    let ids = |t: &HashMap<String, Vec<Feature<f64>>>| -> Vec<u64> {
        let mut v: Vec<u64> = t["seam"].iter().map(|f| f.id.unwrap()).collect();
        v.sort_unstable();
        v
    };
    // West edge: the point at 179.5 (and the polygon) appear left of x 0.
    let west = tile(&state, "/tiles/seam/2/0/1").await;
    assert_eq!(ids(&west), vec![1, 2, 3]);
    let p1 = west["seam"].iter().find(|f| f.id == Some(1)).unwrap();
    let want = x_at(179.5, 0) - 4.0 * 4096.0;
    assert!(
        (points(p1)[0][0] - want).abs() <= 0.5,
        "{:?} vs {want}",
        points(p1)
    );
    let poly = west["seam"].iter().find(|f| f.id == Some(3)).unwrap();
    let xs: Vec<f64> = match &poly.geometry {
        Geometry::Polygon(p) => p.exterior().coords().map(|c| c.x).collect(),
        Geometry::MultiPolygon(mp) => mp
            .iter()
            .flat_map(|p| p.exterior().coords().map(|c| c.x))
            .collect(),
        g => panic!("not a polygon: {g:?}"),
    };
    assert!(xs.iter().all(|x| (-64.0..=0.0).contains(x)), "{xs:?}");
    // East edge (90..180 E, so the point at 100 E too): the point at -179.5 appears right of
    // x 4096.
    let east = tile(&state, "/tiles/seam/2/3/1").await;
    assert_eq!(ids(&east), vec![1, 2, 3, 4]);
    let p2 = east["seam"].iter().find(|f| f.id == Some(2)).unwrap();
    let want = x_at(-179.5, 3) + 4.0 * 4096.0;
    assert!(
        (points(p2)[0][0] - want).abs() <= 0.5,
        "{:?} vs {want}",
        points(p2)
    );
    // At z0 the one tile wraps on both sides: a point near the seam is drawn twice, as one
    // feature.
    let world = tile(&state, "/tiles/seam/0/0/0").await;
    assert_eq!(ids(&world), vec![1, 2, 3, 4]);
    let p1 = world["seam"].iter().find(|f| f.id == Some(1)).unwrap();
    let mut xs: Vec<f64> = points(p1).iter().map(|p| p[0]).collect();
    xs.sort_by(f64::total_cmp);
    assert_eq!(xs.len(), 2, "{xs:?}");
    assert!(
        (xs[0] - (359.5 / 360.0 - 1.0) * 4096.0).abs() <= 0.5
            && (xs[1] - 359.5 / 360.0 * 4096.0).abs() <= 0.5
    );
    // Away from the seam nothing changes.
    let inner = tile(&state, "/tiles/seam/2/1/1").await;
    assert!(inner.get("seam").is_none_or(|l| l.is_empty()));
}

/// Neighbouring countries and provinces share their borders in the tiles as in the data: the
/// polygons of a tile barely overlap (their areas add up to the area of their union) and
/// leave almost no small holes between them, where simplifying each ring on its own made
/// them overlap and open slivers along every border (16,661 units² of overlap and 209 small
/// holes in tile 1/1/0).
#[actix_web::test]
async fn shared_borders_neither_overlap_nor_gape() {
    use geo::{Area, MultiPolygon};
    let state = atlas();
    for (layer, tiles) in [
        (
            "countries",
            vec![
                (1u8, 1u32, 0u32),
                (2, 2, 1),
                (2, 3, 1),
                (3, 5, 3),
                (3, 4, 2),
            ],
        ),
        ("provinces", vec![(4, 10, 6), (5, 21, 13), (6, 43, 26)]),
    ] {
        for (z, x, y) in tiles {
            let decoded = tile(&state, &format!("/tiles/{layer}/{z}/{x}/{y}")).await;
            let polygons: Vec<MultiPolygon<f64>> = decoded[layer]
                .iter()
                .map(|f| match &f.geometry {
                    Geometry::MultiPolygon(mp) => mp.clone(),
                    Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
                    g => panic!("not a polygon: {g:?}"),
                })
                .collect();
            let sum: f64 = polygons.iter().map(|p| p.unsigned_area()).sum();
            let union = geo::unary_union(polygons.iter());
            let overlap = sum - union.unsigned_area();
            // Slivers between neighbours are thin holes in the union.
            let slivers = union
                .iter()
                .flat_map(|p| p.interiors().iter())
                .filter(|r| geo::Polygon::new((*r).clone(), vec![]).unsigned_area() < 4096.0)
                .count();
            println!(
                "{layer} {z}/{x}/{y}: {} polygons, area {sum:.0}, overlap {overlap:.1} units², {slivers} holes under 4096 units²",
                polygons.len()
            );
            assert!(
                overlap <= 1e-6 * sum + 64.0,
                "{layer} {z}/{x}/{y}: polygons overlap by {overlap:.0} of {sum:.0} tile units²"
            );
            // Simplifying each ring on its own left about two slivers per polygon; lakes and
            // snapping may leave a few small holes.
            assert!(
                slivers * 10 <= polygons.len(),
                "{layer} {z}/{x}/{y}: {slivers} small holes between {} polygons",
                polygons.len()
            );
        }
    }
}

/// Only polygons too small to draw leave a tile: at z0 every country with a part whose
/// bounding box spans 1024 tile units² or more (32 x 32) is in the world tile.
#[actix_web::test]
async fn only_tiny_polygons_are_dropped() {
    let state = atlas();
    let layer = state.catalog.get("countries").unwrap().snapshot();
    let world = tile(&state, "/tiles/countries/0/0/0").await;
    let present: std::collections::HashSet<u64> =
        world["countries"].iter().filter_map(|f| f.id).collect();
    let mut big = 0;
    for (_, f) in layer.features.iter() {
        let geometry = f.geometry.get();
        let parts: Vec<&geo::Polygon<f64>> = match &*geometry {
            Geometry::Polygon(p) => vec![p],
            Geometry::MultiPolygon(mp) => mp.iter().collect(),
            _ => continue,
        };
        let large = parts.iter().any(|p| {
            let units: Vec<[f64; 2]> = p
                .exterior()
                .coords()
                .map(|c| tile_units(c.x, c.y, 0, 0, 0))
                .collect();
            let span = |k: usize| {
                let (lo, hi) = units.iter().fold((f64::MAX, f64::MIN), |(lo, hi), u| {
                    (lo.min(u[k]), hi.max(u[k]))
                });
                hi - lo
            };
            span(0) * span(1) >= 1024.0
        });
        if large {
            big += 1;
            assert!(
                present.contains(&f.id),
                "country {} dropped from 0/0/0",
                f.id
            );
        }
    }
    assert!(big > 100, "only {big} large countries");
}

#[test]
fn concurrent_requests_share_one_prepared_layer() {
    let state = atlas();
    let layer = state.catalog.get("provinces").unwrap().snapshot();
    let tiler =
        khorasan_atlas::tiles::Tiler::new(khorasan_atlas::tiles::TileServerConfig::default());
    let prepared: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| tiler.prepared(&layer))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        prepared
            .iter()
            .all(|p| std::sync::Arc::ptr_eq(p, &prepared[0]))
    );
    assert_eq!(prepared[0].generation, layer.generation);
    assert!(std::sync::Arc::ptr_eq(
        &tiler.prepared(&layer),
        &prepared[0]
    ));
}

#[actix_web::test]
async fn health_reports_what_the_tile_cache_holds() {
    // A state of its own: the shared atlas's cache fills with other tests' tiles.
    let state = state_from_toml(
        "[[layers]]\nid = \"countries\"\nfile = \"geodata/countries_world.geojson\"\n",
    );
    let capacity = state.config.tiles.cache_mib << 20;
    let before = get_with(&state, "/health", &[]).await.json();
    assert_eq!(before["tile_cache"]["tiles"], 0);
    assert_eq!(before["tile_cache"]["capacity_bytes"], capacity);
    let first = get_with(&state, "/tiles/countries/1/1/0", &[]).await;
    assert_eq!(first.status, 200);
    let after = get_with(&state, "/health", &[]).await.json();
    assert_eq!(after["tile_cache"]["tiles"], 1);
    let weight = after["tile_cache"]["weight_bytes"].as_u64().unwrap();
    assert!(
        weight >= first.body.len() as u64 && weight <= capacity,
        "{weight} bytes for a tile of {}",
        first.body.len()
    );
}
