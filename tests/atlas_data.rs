//! The default atlas against its source files: the operating-provinces periods selected by
//! `datetime` and the collection's temporal extent, recomputed here from
//! `geodata/operating_provinces.geojson` with plain string comparisons of padded dates, and
//! the incidents outside Afghanistan and Pakistan, which fall in no province.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::get;
use serde_json::Value;

fn source_features(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("geodata/{file}")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["features"].as_array().unwrap().clone()
}

/// The first day of a `YYYY`, `YYYY-MM` or `YYYY-MM-DD` value, as `YYYY-MM-DD`.
fn first_day(value: &str) -> String {
    match value.len() {
        4 => format!("{value}-01-01"),
        7 => format!("{value}-01"),
        _ => value.to_owned(),
    }
}

/// An upper bound of the last day of a value, comparable as a string with `YYYY-MM-DD`
/// (`99` sorts after any day or month); a null end sorts after every date.
fn last_day(value: Option<&str>) -> String {
    match value {
        None => "9999-99-99".to_owned(),
        Some(v) if v.len() == 4 => format!("{v}-99-99"),
        Some(v) if v.len() == 7 => format!("{v}-99"),
        Some(v) => v.to_owned(),
    }
}

/// Ids of the source rows whose period overlaps the days `from..=to` (`None`: open).
fn expected(rows: &[Value], from: Option<&str>, to: Option<&str>) -> BTreeSet<String> {
    rows.iter()
        .filter(|f| {
            let p = &f["properties"];
            let start = first_day(p["start"].as_str().unwrap());
            let end = last_day(p["end"].as_str());
            from.is_none_or(|q| end.as_str() >= q) && to.is_none_or(|q| start.as_str() <= q)
        })
        .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn served(datetime: &str) -> (u64, BTreeSet<String>) {
    let page = get(&format!(
        "/collections/operating_provinces/items?limit=1000&datetime={datetime}"
    ))
    .await
    .json();
    let ids = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    (page["numberMatched"].as_u64().unwrap(), ids)
}

#[actix_web::test]
async fn datetime_selects_the_operating_rows_whose_period_overlaps() {
    let rows = source_features("operating_provinces.geojson");
    let cases: [(&str, Option<&str>, Option<&str>); 9] = [
        ("2015-06-01", Some("2015-06-01"), Some("2015-06-01")),
        (
            "2018-01-01/2018-12-31",
            Some("2018-01-01"),
            Some("2018-12-31"),
        ),
        ("2019-05-31", Some("2019-05-31"), Some("2019-05-31")),
        ("2021-08-15", Some("2021-08-15"), Some("2021-08-15")),
        (
            "2023-03-01/2023-03-31",
            Some("2023-03-01"),
            Some("2023-03-31"),
        ),
        ("2024-01-01/..", Some("2024-01-01"), None),
        ("../2016-12-31", None, Some("2016-12-31")),
        ("2030-01-01", Some("2030-01-01"), Some("2030-01-01")),
        ("2000-01-01/..", Some("2000-01-01"), None),
    ];
    for (datetime, from, to) in cases {
        let want = expected(&rows, from, to);
        let (matched, got) = served(datetime).await;
        assert_eq!(got, want, "{datetime}");
        assert_eq!(matched as usize, want.len(), "{datetime}");
    }
    // Open-ended rows are still reported: far in the future only they remain.
    let open: BTreeSet<String> = rows
        .iter()
        .filter(|f| f["properties"]["end"].is_null())
        .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!open.is_empty());
    assert_eq!(served("2030-01-01").await.1, open);
}

#[actix_web::test]
async fn the_operating_extent_starts_with_the_earliest_start_and_stays_open() {
    let rows = source_features("operating_provinces.geojson");
    let earliest = rows
        .iter()
        .map(|f| first_day(f["properties"]["start"].as_str().unwrap()))
        .min()
        .unwrap();
    let any_open = rows.iter().any(|f| f["properties"]["end"].is_null());
    let collection = get("/collections/operating_provinces").await.json();
    let interval = &collection["extent"]["temporal"]["interval"][0];
    assert_eq!(interval[0], format!("{earliest}T00:00:00Z"));
    assert!(any_open);
    assert!(interval[1].is_null(), "{interval}");
}

#[actix_web::test]
async fn incidents_outside_afghanistan_and_pakistan_get_no_province() {
    let outside: BTreeSet<String> = source_features("incidents.geojson")
        .iter()
        .filter(|f| {
            !matches!(
                f["properties"]["country_iso_a2"].as_str(),
                Some("AF" | "PK")
            )
        })
        .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!outside.is_empty());
    let page = get("/collections/incidents/items?limit=10000").await.json();
    let mut seen = 0;
    for f in page["features"].as_array().unwrap() {
        let p = &f["properties"];
        let province = p.get("province").unwrap_or(&Value::Null);
        if outside.contains(p["id"].as_str().unwrap()) {
            seen += 1;
            assert!(province.is_null(), "{p}");
            assert!(p["country_iso_a3"].is_string(), "{p}");
        } else {
            assert!(province.is_string(), "{p}");
        }
    }
    assert_eq!(seen, outside.len());
}
