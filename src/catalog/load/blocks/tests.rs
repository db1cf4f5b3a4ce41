use super::*;
use crate::catalog::InvalidPolicy;
use crate::catalog::load::{load_slice, string_id};
use serde_json::Value;

/// What a load gave, as text (string ids sorted: maps have no order).
fn summary(loaded: &Result<Option<Loaded>>) -> String {
    match loaded {
        Ok(Some(l)) => l.summary(),
        Ok(None) => "read whole".to_owned(),
        Err(e) => format!("{e:?}"),
    }
}

/// Feature `i` of the test documents: of every kind the loader meets, valid or not, with
/// texts of varied length so that features straddle the block boundaries.
fn feature(i: usize) -> String {
    let pad = "é\\\"x".repeat(i % 7);
    let geometry = match i % 11 {
        0 => "null".to_owned(),
        1 => format!(
            r#"{{"type":"Point","coordinates":[{}.25,34.5,{i}]}}"#,
            i % 90
        ),
        2 => r#"{"type":"LineString","coordinates":[[1,2],[3,4.5]]}"#.to_owned(),
        3 => r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#.to_owned(),
        4 => r#"{"type":"Point","coordinates":[200,1]}"#.to_owned(),
        _ => format!(
            r#"{{"type":"Point","coordinates":[{}.5,-{}.125]}}"#,
            i % 170,
            i % 80
        ),
    };
    let id = match i % 13 {
        0 => String::new(),
        1 => format!(r#""id":"s-{i}","#),
        2 => r#""id":3,"#.to_owned(),
        3 => r#""id":-1,"#.to_owned(),
        4 => r#""id":18446744073709551616,"#.to_owned(),
        5 => r#""id":2.0,"#.to_owned(),
        6 => format!(r#""id":{},"#, u64::MAX - i as u64),
        _ => format!(r#""id":{},"#, 1000 + i),
    };
    let properties = match i % 17 {
        0 => String::new(),
        1 => r#","properties":null"#.to_owned(),
        2 => format!(r#","properties":{{"date":"2020-13-{i}"}}"#),
        _ => format!(
            r#","properties":{{"name":"n{} {pad}","n":{},"f":{}.5e-1,"ok":{},"date":"2021-0{}-1{}","deep":{{"a":[{i},"{pad}"]}},"k\u00e9y":"{pad}","late{}":null}}"#,
            i % 5,
            i as i64 - 100,
            i,
            i.is_multiple_of(2),
            1 + i % 9,
            i % 10,
            i % 3
        ),
    };
    let kind = if i % 19 == 5 { "Feat" } else { "Feature" };
    format!(r#"{{ "type" : "{kind}",{id} "geometry":{geometry}{properties}}}"#)
}

fn document(n: usize) -> String {
    let features: Vec<String> = (0..n).map(feature).collect();
    format!(
        "{{\"type\":\"FeatureCollection\",\"name\":\"t\",\"features\":[\n{}\n],\"bbox\":[0,1,2,3]}}",
        features.join(",\n")
    )
}

fn options(policy: InvalidPolicy) -> LoadOptions {
    LoadOptions {
        on_invalid: policy,
        time_property: Some("date".into()),
        time_end_property: None,
    }
}

/// Reads `doc` on two threads in every combination of small blocks and batches, and
/// checks that each gives what serde_json reading the whole document gives.
fn check(path: &Path, doc: &str, policy: InvalidPolicy) -> String {
    std::fs::write(path, doc).unwrap();
    let options = options(policy);
    let whole = summary(&load_slice(doc.as_bytes(), path, &options).map(Some));
    for block in [1, 2, 7, 64, 1000, 1 << 20] {
        for batch in [1, 3, 1024] {
            let got = summary(&load_blocks_with(path, &options, block, batch));
            assert_eq!(got, whole, "blocks of {block}, batches of {batch}");
        }
    }
    whole
}

#[test]
fn features_across_block_boundaries_equal_the_whole_reading() {
    let doc = document(300);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.geojson");
    let whole = check(&path, &doc, InvalidPolicy::Skip);
    // The reference read what serde_json reads: the same features, in the same order.
    let value: Value = serde_json::from_str(&doc).unwrap();
    let loaded = load_blocks_with(&path, &options(InvalidPolicy::Skip), 7, 3)
        .unwrap()
        .unwrap();
    let features = value["features"].as_array().unwrap();
    assert_eq!(
        loaded.features.live() + loaded.skipped.len(),
        features.len()
    );
    let mut kept = loaded.features.iter().map(|(_, f)| f);
    for (i, f) in features.iter().enumerate() {
        if loaded.skipped.iter().any(|(at, _)| *at == i) {
            continue;
        }
        let got = kept.next().unwrap();
        let want = match &f["id"] {
            Value::Null => i as u64 + 1,
            Value::String(s) => string_id(s),
            n => n.as_u64().unwrap(),
        };
        assert_eq!(got.id, want, "feature {i}");
        for field in ["name", "kéy"] {
            let want = f["properties"][field].as_str();
            let pos = loaded.fields.iter().position(|x| x.name == field).unwrap();
            match (&got.props[pos], want) {
                (crate::catalog::Prop::Str(s), Some(n)) => assert_eq!(&**s, n),
                (other, n) => assert!(n.is_none(), "{other:?} {n:?}"),
            }
        }
    }
    assert!(whole.contains("is repeated"));
}

#[test]
fn the_first_refused_feature_is_the_error() {
    let doc = document(60);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.geojson");
    let got = check(&path, &doc, InvalidPolicy::Refuse);
    assert!(got.starts_with("InvalidFeature"), "{got}");
    // A refusal before a syntax error further on is still the error given.
    let broken = format!("{}, {{\"type\": }}]}}", &doc[..doc.rfind(']').unwrap()]);
    std::fs::write(&path, &broken).unwrap();
    let options = options(InvalidPolicy::Refuse);
    for (block, batch) in [(7, 1), (64, 1024), (1 << 20, 1024)] {
        let err = load_blocks_with(&path, &options, block, batch).unwrap_err();
        assert_eq!(summary(&Err(err)), got);
    }
}

#[test]
fn an_unexpected_shape_is_left_to_the_whole_reading() {
    let doc = document(40);
    let broken = format!("{}, {{\"type\": }}]}}", &doc[..doc.rfind(']').unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.geojson");
    std::fs::write(&path, &broken).unwrap();
    let options = options(InvalidPolicy::Skip);
    for (block, batch) in [(7, 1), (64, 1024), (1 << 20, 1024)] {
        let got = load_blocks_with(&path, &options, block, batch);
        assert!(matches!(got, Ok(None)), "{}", summary(&got));
    }
    let message = super::super::load_file(&path, &options).unwrap_err();
    assert!(message.to_string().contains("line"), "{message}");
}

#[test]
fn properties_that_are_not_json_leave_the_document_to_the_whole_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.geojson");
    let plain = |properties: &str| {
        format!(
            r#"{{"type":"Feature","id":7,"geometry":{{"type":"Point","coordinates":[1,2]}},"properties":{properties}}}"#
        )
    };
    // Delimited by the plain-shape reader without being checked: a syntax error there is
    // the document's, found again by the whole reading.
    for bad in [
        r#"{"a":tru}"#,
        "{\"a\":\"\u{1}\"}",
        r#"{"a":[1,}"#,
        r#"{"a" 1}"#,
        "{\"a\":\u{16}1}",
    ] {
        // After a feature of the same id too: the syntax error comes before the repeat.
        let doc = format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{},\n{},\n{}]}}",
            feature(12),
            plain("{}"),
            plain(bad)
        );
        std::fs::write(&path, &doc).unwrap();
        for policy in [InvalidPolicy::Skip, InvalidPolicy::Refuse] {
            let options = options(policy);
            for (block, batch) in [(7, 1), (1 << 20, 1024)] {
                let got = load_blocks_with(&path, &options, block, batch);
                assert!(matches!(got, Ok(None)), "{bad}: {}", summary(&got));
            }
            let whole = load_slice(doc.as_bytes(), &path, &options).unwrap_err();
            let file = super::super::load_file(&path, &options).unwrap_err();
            assert_eq!(format!("{file:?}"), format!("{whole:?}"), "{bad}");
        }
    }
    // Properties that are JSON but not an object of values are the feature's problem.
    for odd in ["{\"a\":1e999}", "{\"a\":\"x\",\"a\":2}"] {
        let doc = format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
            plain(odd)
        );
        for policy in [InvalidPolicy::Skip, InvalidPolicy::Refuse] {
            check(&path, &doc, policy);
        }
    }
}
