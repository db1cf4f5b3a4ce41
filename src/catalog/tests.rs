use geo::Point;

use super::*;

/// `n` points on a grid, every third with a string id, each dated a day of 2024.
fn points(n: u64) -> (Vec<Feature>, SourceIds) {
    const DAY_MS: i64 = 86_400_000;
    const START_2024_MS: i64 = 1_704_067_200_000;
    let mut source_ids = SourceIds::default();
    let features = (1..=n)
        .map(|i| {
            let id = if i % 3 == 0 {
                let text = format!("AFG-{i}");
                let id = load::string_id(&text);
                source_ids.insert(ArcStr::from(text.as_str()), id);
                id
            } else {
                i
            };
            let day = START_2024_MS + (i % 366) as i64 * DAY_MS;
            Feature {
                id,
                geometry: Point::new(
                    60.0 + (i % 1000) as f64 / 100.0,
                    30.0 + (i / 1000) as f64 / 100.0,
                )
                .into(),
                source_geometry: None,
                props: vec![Prop::Int(i as i64)].into_boxed_slice(),
                time: Some((day, day + DAY_MS)).into(),
            }
        })
        .collect();
    (features, source_ids)
}

#[test]
fn a_large_layer_built_on_two_threads_finds_every_feature() {
    let n = PARALLEL_BUILD as u64 + 1_000;
    let (features, source_ids) = points(n);
    let expected: Vec<(u64, [f64; 2])> = features
        .iter()
        .map(|f| {
            let p = f.geometry.point().expect("a point");
            (f.id, [p.x(), p.y()])
        })
        .collect();
    // The extents the snapshot must give, taken from the features by a fold of their own.
    let spans: Vec<TimeSpan> = features.iter().filter_map(|f| f.time.get()).collect();
    let expected_time = spans
        .iter()
        .map(|s| s.0)
        .min()
        .zip(spans.iter().map(|s| s.1).max());
    let corner = |pick: fn(f64, f64) -> f64, axis: usize| {
        expected
            .iter()
            .map(|(_, at)| at[axis])
            .reduce(pick)
            .expect("points")
    };
    let expected_corners = [
        corner(f64::min, 0),
        corner(f64::min, 1),
        corner(f64::max, 0),
        corner(f64::max, 1),
    ];
    let layer = Layer::build(
        Arc::new(LayerSettings::default()),
        vec![Field {
            name: "n".into(),
            kind: Some(FieldKind::Integer),
        }],
        features,
        source_ids,
    );
    assert_eq!(layer.features.live(), n as usize);
    for (i, (id, at)) in expected.iter().enumerate() {
        let f = layer.feature(*id).expect("every id found");
        let p = f.geometry.point().expect("a point");
        assert_eq!([p.x(), p.y()], *at, "feature {i}");
        let shown = layer.api_id(*id).url_segment();
        if (i + 1) % 3 == 0 {
            assert_eq!(shown, format!("AFG-{}", i + 1));
            assert_eq!(layer.find(&shown).map(|f| f.id), Some(*id));
        } else {
            assert_eq!(shown, id.to_string());
        }
    }
    assert_eq!(layer.geometry_kind, GeometryKind::Point);
    assert_eq!(layer.time_extent, expected_time);
    assert_eq!(layer.extent, Some(expected_corners));
}

#[test]
fn a_snapshot_is_taken_out_of_its_handle_only_when_nothing_else_holds_it() {
    let (features, source_ids) = points(10);
    let fields = vec![Field {
        name: "n".into(),
        kind: Some(FieldKind::Integer),
    }];
    let handle = LayerHandle::new(Layer::build(
        Arc::new(LayerSettings::default()),
        fields,
        features,
        source_ids,
    ));
    let reader = handle.snapshot();
    assert!(handle.take_unique().is_none(), "a reader holds it");
    assert!(Arc::ptr_eq(&reader, &handle.snapshot()), "left unchanged");
    drop(reader);
    let taken = handle.take_unique().expect("nothing else holds it");
    assert_eq!(taken.features.live(), 10);
    assert_eq!(handle.snapshot().features.live(), 0, "an empty stand-in");
    handle.replace(taken);
    assert_eq!(handle.snapshot().features.live(), 10);
}
