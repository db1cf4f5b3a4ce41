use super::*;
use crate::catalog::load::{Builder, LoadOptions, parse_collection};
use serde_json::{Value, json};

/// Reads `doc` in blocks of `block` bytes, parsing each feature as serde_json does, and
/// the start of the document as the whole reading does.
fn read(doc: &str, block: usize) -> Result<(Vec<Value>, Value), &'static str> {
    let mut features = Vec::new();
    let options = LoadOptions::default();
    let path = std::path::Path::new("test.geojson");
    let accepts_start =
        |start: &[u8]| parse_collection(&mut Builder::new(path, &options), start).is_ok();
    let outcome = read_in_blocks::<()>(doc.as_bytes(), block, accepts_start, |bytes| {
        let mut it = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                features.push(v);
                Ok(Taken::Feature(it.byte_offset()))
            }
            Some(Err(e)) if e.is_eof() => Ok(Taken::NeedMore),
            _ => Err(Stop::Unexpected),
        }
    });
    match outcome {
        Ok(rest) => Ok((features, serde_json::from_slice(&rest).map_err(|_| "rest")?)),
        Err(Stop::Unexpected) => Err("unexpected"),
        Err(_) => Err("other"),
    }
}

#[test]
fn finds_the_features_and_leaves_the_rest_as_serde_json_reads_them() {
    let docs = [
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":"x]}\"{["}},{"type":"Feature","id":2}]}"#,
        r#" { "name" : "features", "crs": {"features": [1, 2]}, "features" : [ ] , "bbox": [0, 1] } "#,
        "{\n\"features\":\n[\n{\"p\": [[{}]], \"q\": \"\\\\\"}\n,\n{}\n]\n,\"type\":\"FeatureCollection\"}\n",
        r#"{"features":[{"s":"\u0041\"}"}]}"#,
        r#"{"features":[{"c":[64.121583,-36.7e-3,1E5,0,-0.5],"t":true,"n":null}, {"c":[1.25]}]}"#,
    ];
    for doc in docs {
        let want: Value = serde_json::from_str(doc).unwrap_or_default();
        for block in [1, 2, 3, 5, 7, 11, 64, 1 << 20] {
            let (features, rest) = read(doc, block).unwrap_or_else(|e| panic!("{e}: {doc}"));
            let want_features = want["features"].as_array().cloned().unwrap_or_default();
            assert_eq!(features, want_features, "{doc} in blocks of {block}");
            let mut want_rest = want.clone();
            want_rest["features"] = json!([]);
            assert_eq!(rest, want_rest, "{doc}");
        }
    }
}

#[test]
fn gives_up_on_what_it_does_not_expect() {
    for doc in [
        "[]",
        "\u{feff}{\"features\":[]}",
        r#"{"features":[1]}"#,
        r#"{"features":[{},]}"#,
        r#"{"features":[,{}]}"#,
        r#"{"features":[{}{}]}"#,
        r#"{"features":[{"a":1}"#,
        r#"{"type":"FeatureCollection"}"#,
        r#"{"features":[{"a":tru}]}"#,
        "{\"type\":\"Featur\u{c}Collection\",\"features\":[{}]}",
        r#"{"type":tru,"features":[{}]}"#,
        r#"{"n\ud800":1,"features":[{}]}"#,
        r#"{"type":"FeatureCollecvvtion","features":[{}]}"#,
        r#"{"features":5,"features":[{}]}"#,
        r#"{"type" "FeatureCollection","features":[{}]}"#,
    ] {
        assert_eq!(read(doc, 4).err(), Some("unexpected"), "{doc}");
    }
}
