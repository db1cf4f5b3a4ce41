//! Clusters and the byte budget: clusters count exactly the points they replace, and a dense tile
//! is thinned by density within its budget, saying so.

use super::*;

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
