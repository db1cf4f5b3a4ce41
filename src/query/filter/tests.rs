//! The evaluator against brute force: each filter's matches on a generated layer are
//! compared with a Rust closure over the same features written without the filter code.

use std::sync::Arc;

use geo::Point;
use serde_json::json;

use super::Filter;
use crate::catalog::{Feature, Field, FieldKind, Layer, LayerSettings, Prop};

const NAMES: [&str; 5] = ["Kabul", "kandahar", "Herat", "Kunduz", "Khost_1"];
const DAY_MS: i64 = 86_400_000;
/// 2020-01-01T00:00:00Z.
const T2020: i64 = 1_577_836_800_000;

/// A deterministic layer of 400 points: `n` (integer), `x` (number or null), `name`,
/// `tags` (array) and a one-day time.
fn layer() -> Layer {
    layer_of(400)
}

/// The layer of [`layer`] with `count` points.
fn layer_of(count: u64) -> Layer {
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let fields = [
        ("n", FieldKind::Integer),
        ("x", FieldKind::Number),
        ("name", FieldKind::String),
        ("tags", FieldKind::Array),
        ("date", FieldKind::String),
    ]
    .map(|(name, kind)| Field {
        name: name.into(),
        kind: Some(kind),
    })
    .to_vec();
    let features = (0..count)
        .map(|i| {
            let lon = 60.0 + (next() % 1500) as f64 / 100.0;
            let lat = 29.0 + (next() % 900) as f64 / 100.0;
            let n = (next() % 50) as i64;
            let x = if next() % 7 == 0 {
                Prop::Null
            } else {
                Prop::Float((next() % 1000) as f64 / 10.0)
            };
            let name = NAMES[(next() % 5) as usize];
            let tags: Vec<&str> = ["a", "b", "c"]
                .into_iter()
                .filter(|_| next() % 2 == 0)
                .collect();
            let day = (next() % 730) as i64;
            Feature {
                id: i + 1,
                geometry: Point::new(lon, lat).into(),
                source_geometry: None,
                props: Box::new([
                    Prop::Int(n),
                    x,
                    Prop::Str(name.into()),
                    Prop::Json(Box::new(json!(tags))),
                    Prop::Str("".into()),
                ]),
                time: Some((T2020 + day * DAY_MS, T2020 + (day + 1) * DAY_MS)).into(),
            }
        })
        .collect();
    let settings = LayerSettings {
        time_property: Some("date".into()),
        ..Default::default()
    };
    Layer::build(Arc::new(settings), fields, features, Default::default())
}

fn num(f: &Feature, i: usize) -> Option<f64> {
    f.props[i].as_f64()
}
fn name(f: &Feature) -> &str {
    match &f.props[2] {
        Prop::Str(s) => s,
        _ => "",
    }
}
fn tags(f: &Feature) -> Vec<String> {
    match &f.props[3] {
        Prop::Json(v) => v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
fn lonlat(f: &Feature) -> (f64, f64) {
    match f.geometry.point() {
        Some(p) => (p.x(), p.y()),
        None => (f64::NAN, f64::NAN),
    }
}
fn day(f: &Feature) -> i64 {
    f.time.get().map_or(-1, |t| (t.0 - T2020) / DAY_MS)
}

/// Ray casting, points on the boundary excluded (none of the generated points lie on it).
fn in_ring(ring: &[(f64, f64)], (x, y): (f64, f64)) -> bool {
    let mut inside = false;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        if (a.1 > y) != (b.1 > y) && x < a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1) {
            inside = !inside;
        }
    }
    inside
}

fn check(layer: &Layer, filter: &str, lang: &str, expected: impl Fn(&Feature) -> bool) {
    let q =
        Filter::parse(layer, filter, Some(lang), None).unwrap_or_else(|e| panic!("{filter}: {e}"));
    let got: Vec<usize> = (0..layer.features.slots())
        .filter(|&p| q.matches(layer, p))
        .collect();
    let want: Vec<usize> = layer
        .features
        .iter()
        .filter(|(_, f)| expected(f))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(got, want, "{filter}");
    if let Some([w, s, e, n]) = q.envelope() {
        let candidates: Vec<usize> = layer.index.in_envelope(w, s, e, n).collect();
        assert!(want.iter().all(|p| candidates.contains(p)), "{filter}");
    }
}

#[test]
fn comparisons_logic_and_nulls() {
    let l = layer();
    let t = |f: &str, e: &dyn Fn(&Feature) -> bool| check(&l, f, "cql2-text", e);
    t("n > 20", &|f| num(f, 0) > Some(20.0));
    t("n = 7 OR n <= 2", &|f| {
        num(f, 0) == Some(7.0) || num(f, 0) <= Some(2.0)
    });
    t("NOT (n < 10) AND name = 'Kabul'", &|f| {
        num(f, 0) >= Some(10.0) && name(f) == "Kabul"
    });
    t("x IS NULL", &|f| num(f, 1).is_none());
    t("x IS NOT NULL AND x >= 50", &|f| {
        num(f, 1).is_some_and(|x| x >= 50.0)
    });
    // Unknown (null) stays unknown under NOT.
    t("NOT (x > 50)", &|f| num(f, 1).is_some_and(|x| x <= 50.0));
    t("n <> x", &|f| {
        num(f, 1).is_some_and(|x| num(f, 0) != Some(x))
    });
}

#[test]
fn advanced_comparison_casei_and_arithmetic() {
    let l = layer();
    let t = |f: &str, e: &dyn Fn(&Feature) -> bool| check(&l, f, "cql2-text", e);
    t("name LIKE 'K%'", &|f| name(f).starts_with('K'));
    t("name LIKE '%a_'", &|f| {
        let c: Vec<char> = name(f).chars().collect();
        c.len() >= 2 && c[c.len() - 2] == 'a'
    });
    t("name LIKE 'Khost\\_1'", &|f| name(f) == "Khost_1");
    t("name NOT LIKE '%u%'", &|f| !name(f).contains('u'));
    t("CASEI(name) LIKE CASEI('k%')", &|f| {
        name(f).to_lowercase().starts_with('k')
    });
    t("CASEI(name) = casei('KABUL')", &|f| {
        name(f).eq_ignore_ascii_case("kabul")
    });
    t("n BETWEEN 10 AND 20", &|f| {
        num(f, 0).is_some_and(|n| (10.0..=20.0).contains(&n))
    });
    t("name IN ('Herat', 'Kunduz')", &|f| {
        matches!(name(f), "Herat" | "Kunduz")
    });
    t("n NOT IN (1, 2, 3)", &|f| {
        !matches!(num(f, 0), Some(1.0 | 2.0 | 3.0))
    });
    t("n * 2 + 1 > x", &|f| {
        num(f, 1).is_some_and(|x| num(f, 0).unwrap_or(0.0) * 2.0 + 1.0 > x)
    });
    t("x / 10 < n - 5", &|f| {
        num(f, 1).is_some_and(|x| x / 10.0 < num(f, 0).unwrap_or(0.0) - 5.0)
    });
}

#[test]
fn spatial_temporal_and_arrays() {
    let l = layer();
    let t = |f: &str, e: &dyn Fn(&Feature) -> bool| check(&l, f, "cql2-text", e);
    let inside = |f: &Feature| {
        let (x, y) = lonlat(f);
        (65.0..=70.0).contains(&x) && (30.0..=34.0).contains(&y)
    };
    t("S_INTERSECTS(geometry, BBOX(65, 30, 70, 34))", &inside);
    t(
        "S_WITHIN(geometry, BBOX(65, 30, 70, 34)) AND n > 10",
        &|f| inside(f) && num(f, 0) > Some(10.0),
    );
    t("S_DISJOINT(geometry, BBOX(65, 30, 70, 34))", &|f| {
        !inside(f)
    });
    let tri = [(61.0, 30.0), (74.0, 31.0), (66.0, 37.5)];
    t(
        "S_INTERSECTS(geometry, POLYGON((61 30, 74 31, 66 37.5, 61 30)))",
        &|f| in_ring(&tri, lonlat(f)),
    );
    t(
        "S_CONTAINS(POLYGON((61 30, 74 31, 66 37.5, 61 30)), geometry)",
        &|f| in_ring(&tri, lonlat(f)),
    );
    let (x0, y0) = lonlat(l.features.get(5).unwrap());
    t(&format!("S_EQUALS(geometry, POINT({x0} {y0}))"), &|f| {
        lonlat(f) == (x0, y0)
    });
    t("T_BEFORE(date, DATE('2020-03-01'))", &|f| day(f) < 60);
    t("T_AFTER(date, TIMESTAMP('2021-06-30T12:00:00Z'))", &|f| {
        day(f) > 546
    });
    t(
        "T_DURING(date, INTERVAL('2020-02-01T00:00:00Z', '2020-03-01T00:00:00Z'))",
        &|f| (31..59).contains(&day(f)) && day(f) > 31 - 1 && day(f) < 59,
    );
    t("T_INTERSECTS(date, INTERVAL('2021-01-01', '..'))", &|f| {
        day(f) >= 366
    });
    t("T_EQUALS(date, DATE('2020-01-10'))", &|f| day(f) == 9);
    t("A_CONTAINS(tags, ('a', 'b'))", &|f| {
        let v = tags(f);
        v.contains(&"a".into()) && v.contains(&"b".into())
    });
    t("A_CONTAINEDBY(tags, ('a'))", &|f| {
        tags(f).iter().all(|t| t == "a")
    });
    t("A_OVERLAPS(tags, ('c', 'z'))", &|f| {
        tags(f).contains(&"c".into())
    });
    t("A_EQUALS(tags, ('b', 'a'))", &|f| {
        let mut v = tags(f);
        v.sort();
        v == ["a", "b"]
    });
}

#[test]
fn cql2_json_is_the_same_filter() {
    let l = layer();
    check(
        &l,
        r#"{"op":"and","args":[{"op":">","args":[{"property":"n"},20]},
            {"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[65,30,70,34]}]}]}"#,
        "cql2-json",
        |f| {
            let (x, y) = lonlat(f);
            num(f, 0) > Some(20.0) && (65.0..=70.0).contains(&x) && (30.0..=34.0).contains(&y)
        },
    );
}

#[test]
fn bad_filters_are_refused_with_position_and_token() {
    let l = layer();
    let err = |f: &str| {
        Filter::parse(&l, f, None, None)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let e = err("n > 3 AND AND x < 2");
    assert!(e.contains("character 15") && e.contains("at 'x'"), "{e}");
    assert!(err("nope = 3").contains("'nope' is not a queryable"));
    assert!(err("S_INTERSECTS(n, POINT(1 2))").contains("spatial queryable"));
    let long = format!("name LIKE '{}'", "a".repeat(super::MAX_LIKE_CHARS + 1));
    assert!(err(&long).contains("at most"));
    let many = (0..super::MAX_NODES)
        .map(|i| format!("n = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    assert!(err(&many).contains("nodes"));
    assert!(
        Filter::parse(&l, "n > 1", None, Some("EPSG:4326"))
            .unwrap_err()
            .to_string()
            .contains("filter-crs")
    );
    assert!(
        Filter::parse(&l, "n > 1", Some("sql"), None)
            .unwrap_err()
            .to_string()
            .contains("filter-lang")
    );
}

/// A regular polygon of `vertices` vertices around (`lon`, `lat`) with radius `r` degrees, as
/// WKT.
fn polygon_wkt(lon: f64, lat: f64, r: f64, vertices: usize) -> String {
    let mut ring: Vec<String> = (0..vertices)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / vertices as f64;
            format!("{} {}", lon + r * a.cos(), lat + r * a.sin())
        })
        .collect();
    ring.push(ring[0].clone());
    format!("POLYGON(({}))", ring.join(","))
}

#[test]
fn filters_over_the_work_budget_are_refused_and_a_spatial_prefilter_counts() {
    let layer = layer_of(100_000);
    let polygon = polygon_wkt(67.0, 33.0, 0.01, 3_000);
    let per_feature = 3_000 + 2;
    assert!(per_feature * 100_000 > super::MAX_FILTER_WORK);
    // Without a top-level spatial predicate every feature is tested: refused, saying why.
    let scan = format!("NOT S_WITHIN(geometry, {polygon})");
    let err = Filter::parse(&layer, &scan, None, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("too expensive"), "{err}");
    assert!(err.contains("100000 features"), "{err}");
    // The same polygon as a top-level S_INTERSECTS: only the few points of its envelope
    // (from the R-tree) are tested.
    let narrow = format!("S_INTERSECTS(geometry, {polygon})");
    let filter = Filter::parse(&layer, &narrow, None, None).unwrap();
    let in_envelope = layer
        .features
        .iter()
        .filter(|(_, f)| {
            let (x, y) = lonlat(f);
            (x - 67.0).abs() <= 0.01 && (y - 33.0).abs() <= 0.01
        })
        .count() as u64;
    assert!(in_envelope * per_feature <= super::MAX_FILTER_WORK);
    assert!(filter.envelope().is_some());
}
