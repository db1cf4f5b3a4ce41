//! Stored changes win over a geodata file that changed under them, and each conflict is named in a
//! warning.

use super::*;

fn fc(features: &[Value]) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn point(id: &str, name: &str, lon: f64) -> Value {
    json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, 10.0]}, "properties": {"name": name}})
}

fn config(dir: &Path, file: &Path) -> RawConfig {
    let text = format!(
        "[server]\ndata_dir = {:?}\nwrite_tokens_sha256 = [{:?}]\nwrite_rate_per_minute = 0\n\
         [[layers]]\nid = \"pts\"\nfile = {:?}\nwritable = true\n",
        dir.join("data"),
        hash_token_hex(TOKEN),
        file
    );
    toml::from_str(&text).unwrap()
}

fn names(state: &AppState) -> Vec<(String, String)> {
    let layer = state.catalog.get("pts").unwrap().snapshot();
    let name = layer.field_index("name").unwrap();
    layer
        .features
        .iter()
        .map(|(_, f)| {
            let sid = layer
                .source_ids
                .iter()
                .find(|(_, v)| **v == f.id)
                .map_or_else(|| f.id.to_string(), |(k, _)| k.to_string());
            (
                sid,
                f.props[name].to_json().as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Edits survive a new version of the file: the stored change wins over the file, a
/// deleted shipped feature stays deleted, new shipped features appear, ids stay stable.
#[actix_web::test]
async fn stored_changes_win_over_a_changed_geodata_file() {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("pts.geojson");
    std::fs::write(
        &file,
        fc(&[
            point("a", "A", 1.0),
            point("b", "B", 2.0),
            point("c", "C", 3.0),
        ]),
    )
    .unwrap();
    let state = common::open_writable(config(dir.path(), &file));
    let app = test::init_service(http::app(state.clone())).await;
    let edit = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.5, 10.0]}, "properties": {"name": "A edited"}});
    assert_eq!(
        call(
            &app,
            req(Method::PUT, "/collections/pts/items/a")
                .auth()
                .body(edit.to_string())
        )
        .await
        .status,
        200
    );
    assert_eq!(
        call(&app, req(Method::DELETE, "/collections/pts/items/b").auth())
            .await
            .status,
        204
    );
    let new = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [4.0, 10.0]}, "properties": {"name": "N"}});
    let r = call(
        &app,
        req(Method::POST, "/collections/pts/items")
            .auth()
            .body(new.to_string()),
    )
    .await;
    assert_eq!(r.status, 201);
    let new_id = r.json()["id"].as_u64().unwrap();
    assert_eq!(new_id, 1, "string-id layers number new features from 1");
    drop(app);
    drop(state);

    // The file changes underneath: a and b are edited upstream, the order changes, d is new.
    std::fs::write(
        &file,
        fc(&[
            point("d", "D", 5.0),
            point("c", "C", 3.0),
            point("b", "B upstream", 2.0),
            point("a", "A upstream", 1.0),
        ]),
    )
    .unwrap();
    let state = common::open_writable(config(dir.path(), &file));
    assert_eq!(
        names(&state),
        vec![
            ("d".into(), "D".into()),
            ("c".into(), "C".into()),
            ("a".into(), "A edited".into()),
            ("1".into(), "N".into()),
        ]
    );
}

#[test]
fn warnings_name_each_conflict() {
    use khorasan_atlas::store::Record;
    use khorasan_atlas::store::merge::apply_records;
    let (_dir, catalog) = catalog_of(&[point("a", "A", 1.0), point("b", "B", 2.0)]);
    let layer = catalog.get("pts").unwrap().snapshot();
    let a = layer.find("a").unwrap().id;
    let stored = stored_point([0.0, 0.0], "Z");
    let records = vec![
        Record {
            layer: "pts".into(),
            id: a,
            feature: Some(stored.clone()),
            base: Some("an older file".into()),
        },
        Record {
            layer: "pts".into(),
            id: 77,
            feature: Some(stored.clone()),
            base: Some("gone".into()),
        },
        Record {
            layer: "gone".into(),
            id: 1,
            feature: None,
            base: None,
        },
    ];
    let warnings = apply_records(&catalog, &[], records).unwrap();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("pts/") && w.contains("the stored change wins"))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("pts/77") && w.contains("no longer has"))
    );
    assert!(warnings.iter().any(|w| w.contains("\"gone\"")));
    assert_eq!(catalog.get("pts").unwrap().snapshot().features.live(), 3);
}

#[test]
fn a_stored_text_that_is_not_a_feature_stops_the_merge_and_names_its_record() {
    use khorasan_atlas::store::merge::apply_records;
    use khorasan_atlas::store::{Record, StoredText};
    let (_dir, catalog) = catalog_of(&[point("a", "A", 1.0)]);
    let before = feature_body_of(&catalog, "a");
    for text in [
        "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[0,0]}",
        "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[0,0]},\"properties\":[]}",
        "{\"properties\":{}}",
    ] {
        let records = vec![Record {
            layer: "pts".into(),
            id: 41,
            feature: Some(StoredText::from_store(text.to_owned())),
            base: None,
        }];
        let err = apply_records(&catalog, &[], records).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, khorasan_atlas::Error::Storage(_)) && message.contains("pts/41"),
            "{text}: {message}"
        );
        assert_eq!(
            feature_body_of(&catalog, "a"),
            before,
            "the bad record was not applied"
        );
        assert_eq!(catalog.get("pts").unwrap().snapshot().features.live(), 1);
    }
    // After records that were applied, the layer holds them, as a whole snapshot: found by
    // id and by place.
    let good = stored_point([5.0, 5.0], "G");
    let records = vec![
        Record {
            layer: "pts".into(),
            id: 40,
            feature: Some(good),
            base: None,
        },
        Record {
            layer: "pts".into(),
            id: 41,
            feature: Some(StoredText::from_store("{}".to_owned())),
            base: None,
        },
    ];
    let err = apply_records(&catalog, &[], records).unwrap_err();
    assert!(err.to_string().contains("pts/41"), "{err}");
    let layer = catalog.get("pts").unwrap().snapshot();
    assert_eq!(layer.features.live(), 2);
    assert_eq!(feature_body_of(&catalog, "a"), before);
    let hits: Vec<u64> = layer
        .index
        .in_envelope(4.0, 4.0, 6.0, 6.0)
        .filter_map(|pos| layer.features.get(pos).map(|f| f.id))
        .collect();
    assert_eq!(hits, vec![40]);
}

/// A startup merge of as many stored changes as make a re-pack due builds the index packed
/// (no edits left for a write to re-pack later); fewer are kept as edits. Either way every
/// bounding box finds what a scan of the features finds.
#[test]
fn a_startup_merge_of_many_changes_packs_the_index() {
    use khorasan_atlas::index::SpatialIndex;
    use khorasan_atlas::store::Record;
    use khorasan_atlas::store::merge::apply_records;
    const POINTS: u64 = 6_000;
    let at = |i: u64| [(i % 100) as f64 * 0.1, (i / 100) as f64 * 0.1];
    let features: Vec<Value> = (1..=POINTS)
        .map(|i| {
            json!({"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": at(i)},
                   "properties": {"name": format!("p{i}")}})
        })
        .collect();
    let many = SpatialIndex::edits_to_pack(POINTS as usize) as u64;
    for (moved, packed) in [(many, true), (100, false)] {
        let (_dir, catalog) = catalog_of(&features);
        let shipped = catalog.get("pts").unwrap().snapshot();
        let mut records: Vec<Record> = (1..=moved)
            .map(|i| Record {
                layer: "pts".into(),
                id: shipped.find(&i.to_string()).unwrap().id,
                feature: Some(stored_point([at(i)[0] + 0.05, at(i)[1] + 0.05], "moved")),
                base: None,
            })
            .collect();
        drop(shipped);
        records.push(Record {
            layer: "pts".into(),
            id: 1_000_000,
            feature: Some(stored_point([3.0, 3.0], "new")),
            base: None,
        });
        apply_records(&catalog, &[], records).unwrap();
        let layer = catalog.get("pts").unwrap().snapshot();
        assert_eq!(layer.features.live(), POINTS as usize + 1);
        assert_eq!(layer.index.edits() == 0, packed, "{moved} changes");
        for [w, s, e, n] in [
            [0.0, 0.0, 10.0, 6.0],
            [2.0, 1.0, 4.05, 3.05],
            [3.0, 3.0, 3.0, 3.0],
            [0.04, 0.04, 0.06, 0.06],
        ] {
            let mut found: Vec<u64> = layer
                .index
                .in_envelope(w, s, e, n)
                .filter_map(|pos| layer.features.get(pos).map(|f| f.id))
                .collect();
            found.sort_unstable();
            let mut scanned: Vec<u64> = layer
                .features
                .iter()
                .filter(|(_, f)| {
                    f.geometry
                        .point()
                        .is_some_and(|p| (w..=e).contains(&p.x()) && (s..=n).contains(&p.y()))
                })
                .map(|(_, f)| f.id)
                .collect();
            scanned.sort_unstable();
            assert_eq!(found, scanned, "{moved} changes, box {w} {s} {e} {n}");
        }
    }
}

/// The stored text of a point at `[lon, lat]` named `name`.
fn stored_point([lon, lat]: [f64; 2], name: &str) -> khorasan_atlas::store::StoredText {
    khorasan_atlas::store::StoredText::of(&khorasan_atlas::store::StoredFeature {
        geometry: json!({"type": "Point", "coordinates": [lon, lat]}),
        properties: json!({ "name": name }).as_object().unwrap().clone(),
    })
    .unwrap()
}

/// A catalog of the layer `pts` with `features`, in a directory kept while the first part
/// lives.
fn catalog_of(features: &[Value]) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pts.geojson");
    std::fs::write(&file, fc(features)).unwrap();
    let config = config(dir.path(), &file).validate().unwrap();
    let catalog = Catalog::load(&config.catalog()).unwrap();
    (dir, catalog)
}

fn feature_body_of(catalog: &Catalog, fid: &str) -> String {
    let layer = catalog.get("pts").unwrap().snapshot();
    khorasan_atlas::store::feature_body(&layer, layer.find(fid).unwrap())
}

/// Stored features merged at startup share one copy of each string value of a field, as the
/// features of a loaded file do.
#[test]
fn a_startup_merge_shares_equal_string_values() {
    use khorasan_atlas::catalog::Prop;
    use khorasan_atlas::store::Record;
    use khorasan_atlas::store::merge::apply_records;
    let (_dir, catalog) = catalog_of(&[point("a", "A", 1.0)]);
    let records = (40..43)
        .map(|id| Record {
            layer: "pts".into(),
            id,
            feature: Some(stored_point([1.0, 2.0], "shared")),
            base: None,
        })
        .collect();
    apply_records(&catalog, &[], records).unwrap();
    let layer = catalog.get("pts").unwrap().snapshot();
    let name = layer.field_index("name").unwrap();
    let names: Vec<_> = (40..43)
        .map(|id| match &layer.feature(id).unwrap().props[name] {
            Prop::Str(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(&*names[0], "shared");
    assert!(
        names
            .windows(2)
            .all(|w| khorasan_atlas::catalog::model::ArcStr::ptr_eq(&w[0], &w[1]))
    );
}
