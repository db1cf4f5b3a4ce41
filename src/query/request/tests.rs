use std::sync::Arc;

use super::*;
use crate::catalog::{Feature, Field, FieldKind, Prop};

const LIMITS: PageLimits = PageLimits {
    default: 10,
    max: 100,
    max_offset: 1000,
};

/// Three points with an integer `deaths` and a string `province`.
fn layer() -> Layer {
    let fields = vec![
        Field {
            name: "deaths".into(),
            kind: Some(FieldKind::Integer),
        },
        Field {
            name: "province".into(),
            kind: Some(FieldKind::String),
        },
    ];
    let features = (0..3_i32)
        .map(|i| Feature {
            id: u64::try_from(i + 1).unwrap(),
            geometry: Point::new(69.0 + f64::from(i), 34.5).into(),
            source_geometry: None,
            props: Box::new([Prop::Int(i64::from(i)), Prop::Str("Kabul".into())]),
            time: crate::catalog::Time::NONE,
        })
        .collect();
    Layer::build(
        Arc::new(Default::default()),
        fields,
        features,
        Default::default(),
    )
}

/// The error message of a request that `parse` refuses.
fn refusal<T: std::fmt::Debug>(
    parse: fn(&Layer, &str, PageLimits) -> Result<T>,
    query: &str,
) -> String {
    parse(&layer(), query, LIMITS).unwrap_err().to_string()
}

#[test]
fn items_take_their_table_and_queryables_only() {
    let layer = layer();
    let r = ItemsRequest::parse(
        &layer,
        "limit=2&offset=1&sortby=-deaths&properties=province&province=Kabul",
        LIMITS,
    )
    .unwrap();
    assert_eq!(
        r.listing.page,
        Page {
            limit: 2,
            offset: 1
        }
    );
    assert_eq!(r.listing.properties, Some(vec![1]));
    assert_eq!(r.listing.selection.equals.len(), 1);
    assert_eq!(
        r.sort,
        [SortKey {
            field: 0,
            descending: true
        }]
    );
    assert_eq!(r.run(&layer).matched, 3);
    assert_eq!(
        refusal(ItemsRequest::parse, "coords=POINT(0 0)"),
        "unknown query parameter 'coords'"
    );
    assert_eq!(
        ItemsRequest::parse(&layer, "", LIMITS)
            .unwrap()
            .listing
            .page
            .limit,
        LIMITS.default
    );
}

#[test]
fn properties_are_checked_before_the_query_and_after_every_other_parameter() {
    assert!(refusal(ItemsRequest::parse, "properties=nope").contains("'properties'"));
    assert!(refusal(ItemsRequest::parse, "properties=nope&sortby=nope").contains("'sortby'"));
    assert!(refusal(ItemsRequest::parse, "properties=nope&f=xml").contains("'f'"));
}

#[test]
fn radius_needs_within_and_nearest_takes_no_offset() {
    let layer = layer();
    let r =
        DistanceRequest::parse_radius(&layer, "coords=POINT(69 34.5)&within=200", LIMITS).unwrap();
    assert_eq!(
        r.reach,
        Reach::Radius {
            within_m: 200_000.0
        }
    );
    assert!(r.is_paged());
    assert!(refusal(DistanceRequest::parse_radius, "coords=POINT(69 34.5)").contains("'within'"));
    assert!(refusal(DistanceRequest::parse_radius, "within=1").contains("'coords'"));
    let n =
        DistanceRequest::parse_nearest(&layer, "coords=POINT(69 34.5)&limit=2", LIMITS).unwrap();
    assert_eq!(n.reach, Reach::Nearest { within_m: None });
    assert!(!n.is_paged());
    assert_eq!(n.run(&layer).hits.len(), 2);
    assert_eq!(
        refusal(
            DistanceRequest::parse_nearest,
            "coords=POINT(69 34.5)&offset=1"
        ),
        "unknown query parameter 'offset'"
    );
    assert!(
        refusal(
            DistanceRequest::parse_nearest,
            "coords=POINT(69 34.5)&within-units=m"
        )
        .contains("given without within")
    );
}

#[test]
fn tables_list_each_parameter_once_and_only_the_centre_and_radius_are_required() {
    for (table, required) in [
        (ITEMS_PARAMS, &[][..]),
        (RADIUS_PARAMS, &["coords", "within"][..]),
        (NEAREST_PARAMS, &["coords"][..]),
    ] {
        for (i, p) in table.iter().enumerate() {
            assert!(!in_table(&table[..i], p.name), "{} twice", p.name);
            assert_eq!(p.required, required.contains(&p.name), "{}", p.name);
            assert!(p.schema(LIMITS).is_object());
        }
    }
    assert_eq!(LIMIT.schema(LIMITS)["maximum"], 100);
}
