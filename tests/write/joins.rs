//! The province counts after a run of writes equal those of a full join.

use super::*;
use khorasan_atlas::catalog::join;

/// Writes update joins incrementally; the result equals a full recomputation.
#[actix_web::test]
async fn incremental_joins_equal_a_full_join() {
    let dir = tempfile::tempdir().unwrap();
    let state = common::open_writable(raw_config(dir.path()));
    let app = std::rc::Rc::new(test::init_service(http::app(state.clone())).await);
    let places = [
        [69.17, 34.53],
        [62.2, 34.35],
        [65.7, 31.6],
        [71.5, 34.0],
        [0.0, 0.0],
    ];
    let at = |i: usize, title: String| {
        let mut v = incident(&title);
        v["geometry"]["coordinates"] = json!(places[i % places.len()]);
        v.to_string()
    };
    let mut ids = Vec::new();
    for round in 0..4 {
        // Concurrent creates (batched together), then moves and deletes.
        let creates = (0..6).map(|i| {
            let app = app.clone();
            let body = at(i + round, format!("join r{round} i{i}"));
            async move { call(&*app, post_text(body)).await }
        });
        for r in futures_util::future::join_all(creates).await {
            assert_eq!(r.status, 201, "{}", r.text());
            ids.push(r.json()["id"].as_u64().unwrap());
        }
        let moved = ids[round * 2];
        let r = call(
            &*app,
            req(
                Method::PUT,
                &format!("/collections/incidents/items/{moved}"),
            )
            .auth()
            .body(at(round + 1, "moved".into())),
        )
        .await;
        assert_eq!(r.status, 200);
        let r = call(
            &*app,
            req(
                Method::DELETE,
                &format!("/collections/incidents/items/{}", ids[round * 2 + 1]),
            )
            .auth(),
        )
        .await;
        assert_eq!(r.status, 204);
        let r = call(
            &*app,
            req(Method::PUT, "/collections/incidents/items/iskp-004")
                .auth()
                .body(at(round, "shipped moved".into())),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let points = state.catalog.get("incidents").unwrap().snapshot();
    let polygons = state.catalog.get("provinces").unwrap().snapshot();
    let (mut full_points, mut full_polygons) = ((*points).clone(), (*polygons).clone());
    for j in &state.config.joins {
        join::apply(&mut full_points, &mut full_polygons, j);
    }
    assert_eq!(full_points.fields, points.fields);
    for ((_, a), (_, b)) in full_points.features.iter().zip(points.features.iter()) {
        assert_eq!(a.props, b.props, "feature {}", a.id);
    }
    for ((_, a), (_, b)) in full_polygons.features.iter().zip(polygons.features.iter()) {
        assert_eq!(a.props, b.props, "province {}", a.id);
    }
}
