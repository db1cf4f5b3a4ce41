use super::*;
use geo::{Geometry, Point};

fn load(json: &str, policy: InvalidPolicy) -> Result<Loaded> {
    let options = LoadOptions {
        on_invalid: policy,
        time_property: Some("date".into()),
        time_end_property: None,
    };
    // The file read in blocks gives what the same bytes read whole give, messages included.
    let dir = tempfile::tempdir().map_err(|e| Error::Config(e.to_string()))?;
    let path = dir.path().join("test.geojson");
    std::fs::write(&path, json).map_err(|e| Error::Config(e.to_string()))?;
    let whole = load_slice(json.as_bytes(), &path, &options);
    let streamed = load_file(&path, &options);
    assert_eq!(summary(&streamed), summary(&whole));
    if whole.is_ok() {
        assert!(
            matches!(blocks::load_blocks(&path, &options), Ok(Some(_))),
            "read whole"
        );
    }
    load_slice(json.as_bytes(), Path::new("test.geojson"), &options)
}

/// What a load gave, as text (ids sorted: maps have no order).
/// The features a load kept, in order.
fn kept(loaded: &Loaded) -> Vec<&Feature> {
    loaded.features.iter().map(|(_, f)| f).collect()
}

fn summary(loaded: &Result<Loaded>) -> String {
    match loaded {
        Ok(l) => l.summary(),
        Err(e) => format!("{e:?}"),
    }
}

const MIXED: &str = r#"{"type":"FeatureCollection","features":[
    {"type":"Feature","id":"a-1","geometry":{"type":"Point","coordinates":[69.2,34.5]},"properties":{"n":1,"date":"2020-05-12"}},
    {"type":"Feature","geometry":{"type":"Point","coordinates":[200,34.5]},"properties":{"n":2}},
    {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"n":3.5,"extra":true}},
    {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]},"properties":null},
    {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]},"properties":{}},
    {"type":"Feature","geometry":{"type":"Point","coordinates":[1,"x"]},"properties":{}},
    {"type":"Feature","properties":{}}
]}"#;

#[test]
fn null_geometry_and_altitude_are_kept_as_the_source_wrote_them() {
    let json = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":null,"properties":{}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[69.1,34.5,1800]},"properties":{}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[69.1,34.5]},"properties":{}}]}"#;
    let loaded = load(json, InvalidPolicy::Refuse).unwrap();
    let f = kept(&loaded);
    assert!(f[0].has_null_geometry());
    assert!(f[0].geometry.bounding_rect().is_none());
    let source = f[1].source_geometry.as_ref().map(|g| g.get());
    assert_eq!(
        source,
        Some(r#"{"type":"Point","coordinates":[69.1,34.5,1800]}"#)
    );
    assert_eq!(
        *f[1].geometry.get(),
        Geometry::Point(Point::new(69.1, 34.5))
    );
    assert!(f[2].source_geometry.is_none());
}

#[test]
fn numbers_json_cannot_hold_keep_their_text() {
    let json = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":
        {"big":12345678901234567890,"neg":-9007199254740993,"tiny":1e-7,
         "nested":{"a":[123456789012345678901234567890,"x\"1e400"]},"small":[1,2]}}]}"#;
    let loaded = load(json, InvalidPolicy::Refuse).unwrap();
    let props = &kept(&loaded)[0].props;
    let text = |i: usize| serde_json::to_string(&props[i]).unwrap();
    assert_eq!(text(0), "12345678901234567890");
    assert_eq!(props[1], Prop::Int(-9_007_199_254_740_993));
    assert_eq!(props[2], Prop::Float("1e-7".parse().unwrap()));
    assert_eq!(
        text(3),
        r#"{"a":[123456789012345678901234567890,"x\"1e400"]}"#
    );
    assert!(matches!(props[4], Prop::Json(_)));
}

#[test]
fn skip_policy_reports_each_bad_feature_with_its_index_and_reason() {
    let loaded = load(MIXED, InvalidPolicy::Skip).unwrap();
    assert_eq!(loaded.features.live(), 2);
    let skipped: Vec<usize> = loaded.skipped.iter().map(|s| s.0).collect();
    assert_eq!(skipped, vec![1, 3, 4, 5, 6]);
    assert!(
        loaded.skipped[0].1.contains("longitude 200"),
        "{:?}",
        loaded.skipped
    );
    assert!(loaded.skipped[1].1.contains("not closed"));
    assert!(loaded.skipped[2].1.contains("invalid geometry"));
    assert_eq!(
        loaded.refusals(),
        vec![
            ("invalid coordinates", 1),
            ("invalid geometry", 1),
            ("malformed coordinates", 1),
            ("missing geometry", 1),
            ("unclosed ring", 1)
        ]
    );
}

#[test]
fn refuse_policy_fails_with_file_and_index() {
    let err = load(MIXED, InvalidPolicy::Refuse).unwrap_err();
    assert_eq!(
        err.to_string(),
        "test.geojson: feature 1: longitude 200 is outside [-180, 180]"
    );
}

#[test]
fn ids_fields_and_time_are_derived() {
    let loaded = load(MIXED, InvalidPolicy::Skip).unwrap();
    let f = kept(&loaded);
    assert_eq!(f[0].id, string_id("a-1"));
    assert_eq!(loaded.source_ids.get("a-1"), Some(&f[0].id));
    assert_eq!(
        f[1].id, 3,
        "ordinal ids count skipped features so they stay stable"
    );
    let names: Vec<&str> = loaded.fields.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["n", "date", "extra"]);
    assert_eq!(
        loaded.fields[0].kind,
        Some(super::super::model::FieldKind::Number)
    );
    assert_eq!(f[0].props.len(), 3);
    assert_eq!(f[0].time.get(), Some(parse_time("2020-05-12").unwrap()));
}

#[test]
fn repeated_strings_share_one_allocation() {
    let json = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"kind":"mosque"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[3,4]},"properties":{"kind":"mosque"}}]}"#;
    let loaded = load(json, InvalidPolicy::Refuse).unwrap();
    match (&kept(&loaded)[0].props[0], &kept(&loaded)[1].props[0]) {
        (Prop::Str(a), Prop::Str(b)) => assert!(crate::catalog::ArcStr::ptr_eq(a, b)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn repeated_ids_are_found_in_any_order() {
    let point = |id: &str| {
        format!(
            r#"{{"type":"Feature","id":{id},"geometry":{{"type":"Point","coordinates":[1,2]}},"properties":{{}}}}"#
        )
    };
    let doc = |ids: &[&str]| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            ids.iter().map(|i| point(i)).collect::<Vec<_>>().join(",")
        )
    };
    let skipped = |ids: &[&str]| {
        load(&doc(ids), InvalidPolicy::Skip)
            .unwrap()
            .skipped
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(skipped(&["1", "2", "3"]), Vec::<usize>::new());
    assert_eq!(skipped(&["1", "3", "2", "3"]), vec![3]);
    assert_eq!(skipped(&["5", "5"]), vec![1]);
    assert_eq!(skipped(&["\"a\"", "\"b\"", "\"a\""]), vec![2]);
}

#[test]
fn not_a_collection_is_a_load_error() {
    assert!(load(r#"{"type":"Feature"}"#, InvalidPolicy::Skip).is_err());
    assert!(load("[1,2]", InvalidPolicy::Skip).is_err());
    assert!(
        load(
            r#"{"type":"FeatureCollection","features":[]} x"#,
            InvalidPolicy::Skip
        )
        .is_err()
    );
}

#[test]
fn values_read_from_their_text_equal_the_json_reading() {
    let values = [
        r#""plain""#,
        r#""""#,
        r#""esc\"aped\n""#,
        r#""Kābul ۱""#,
        "0",
        "-0",
        "-12",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "1.5",
        "2e3",
        "true",
        "false",
        "null",
        "[1,2]",
        r#"{"a":1}"#,
    ];
    let props: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!(r#""p{i}":{v}"#))
        .collect();
    let json = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":null,"properties":{{{}}}}}]}}"#,
        props.join(",")
    );
    let loaded = load(&json, InvalidPolicy::Refuse).unwrap();
    for (i, v) in values.iter().enumerate() {
        let raw: Box<RawValue> = serde_json::from_str(v).unwrap();
        let expected = Prop::from_raw(&raw).unwrap();
        let got = &kept(&loaded)[0].props[i];
        assert_eq!(got, &expected, "{v}");
        if let (Prop::Float(a), Prop::Float(b)) = (got, &expected) {
            assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{v}");
        }
    }
}

#[test]
fn features_given_one_by_one_equal_the_same_collection() {
    let features = [
        r#"{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[1,2,3.5]},"properties":{"n":1,"s":"x"}}"#,
        r#"{"type":"Feature","id":7,"geometry":null,"properties":{"s":null}}"#,
        r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[500,2]},"properties":{}}"#,
    ];
    let whole = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    let expected = load(&whole, InvalidPolicy::Skip).unwrap();
    let options = LoadOptions::default();
    let name = Path::new("postgis:t");
    let mut reader = FeatureReader::new(name, &options);
    for f in features {
        reader.push_json(f).unwrap();
    }
    reader.push_json("not json").unwrap();
    let got = reader.finish();
    assert_eq!(got.features.live(), expected.features.live());
    for (a, b) in kept(&got).into_iter().zip(kept(&expected)) {
        assert_eq!((a.id, &a.geometry, &a.props), (b.id, &b.geometry, &b.props));
        assert_eq!(
            a.source_geometry.as_ref().map(|g| g.get()),
            b.source_geometry.as_ref().map(|g| g.get())
        );
    }
    assert_eq!(got.source_ids, expected.source_ids);
    assert_eq!(got.skipped.len(), expected.skipped.len() + 1);

    let refuse = LoadOptions {
        on_invalid: InvalidPolicy::Refuse,
        ..LoadOptions::default()
    };
    let mut reader = FeatureReader::new(name, &refuse);
    assert!(reader.push_json(features[0]).is_ok());
    assert!(reader.push_json(features[2]).is_err());
}

#[test]
fn properties_read_member_by_member_equal_serdes_reading() {
    let texts = [
        r#"{}"#,
        r#" { "a" : 1 , "b" :"x" } "#,
        r#"{"a":"x","a":2}"#,
        r#"{"k\u00e9y":1,"é":"Kābul ۱","t\"q":[1,{"b":"}"}]}"#,
        r#"{"n":{"deep":[[],{}]},"s":"esc\"aped\\","z":-0.0,"big":123456789012345678901}"#,
        "{\"w\":\t1e-7,\n\"f\":false,\r\"u\":null,\"v\":true}",
        r#"{"a":[1,"]",{"c":"{"}],"b":"tail"}"#,
    ];
    for text in texts {
        let json = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":null,"properties":{text}}}]}}"#
        );
        let loaded = load(&json, InvalidPolicy::Refuse).unwrap();
        let members: std::collections::BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(text).unwrap();
        let got: std::collections::BTreeMap<&str, &Prop> = loaded
            .fields
            .iter()
            .zip(kept(&loaded)[0].props.iter())
            .filter(|(_, p)| **p != Prop::Absent)
            .map(|(f, p)| (f.name.as_str(), p))
            .collect();
        assert_eq!(got.len(), members.len(), "{text}: {got:?}");
        for (name, raw) in &members {
            let expected = Prop::from_raw(raw).unwrap();
            assert_eq!(got.get(name.as_str()), Some(&&expected), "{text}: {name}");
        }
    }
}
