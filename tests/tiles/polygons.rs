//! Polygons: valid and clockwise after clipping, in both neighbours near a tile edge, across the
//! antimeridian, with shared borders that neither overlap nor gape, and only tiny ones dropped;
//! world tiles stay small.

use super::*;

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
