//! Points and clusters of the default atlas: where points land, with the ids of the feature API;
//! clusters and single incidents that account for every incident; typed properties.

use super::*;

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
