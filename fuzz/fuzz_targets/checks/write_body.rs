//! Write request bodies (`POST` and `PUT` of a feature) through the store's rules, and the
//! `If-Match` header.
//!
//! Input: one selector byte (the incidents layer's rules from `geodata/atlas.toml`, or the
//! default rules that take any valid feature), then the body. The rules must accept the
//! body or refuse it with a 400 naming a field, never panic; an accepted body must carry a
//! valid geometry within the vertex limit whose stored GeoJSON (normalized, as sent with
//! altitudes, or `null`) parses back to it.

use super::common;

use geo::{CoordsIter, Validation};
use khorasan_atlas::catalog::load::parse_geometry;
use khorasan_atlas::store::{IfMatch, WriteRules};

/// Checks one input (panics on a failed check).
pub fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let atlas = common::atlas();
    let default_rules = WriteRules::default();
    let (rules, time_property) = if selector & 1 == 0 {
        let Some(incidents) = atlas.config.layer("incidents") else {
            panic!("the atlas has incidents");
        };
        (&incidents.write, incidents.time_property.as_deref())
    } else {
        (&default_rules, None)
    };
    match rules.check(body, time_property) {
        Ok(draft) => {
            assert!(draft.geometry.is_valid(), "invalid geometry accepted");
            assert!(draft.geometry.coords_count() <= rules.max_vertices());
            if draft.geometry_json.is_null() {
                assert_eq!(draft.geometry.coords_count(), 0, "null with positions");
            } else {
                let again = parse_geometry(&draft.geometry_json.to_string())
                    .unwrap_or_else(|e| panic!("stored geometry does not parse: {e}"));
                assert_eq!(again, draft.geometry);
            }
        }
        Err(e) => assert_eq!(e.status(), 400, "{e}"),
    }
    if let Ok(header) = std::str::from_utf8(body) {
        let if_match = IfMatch::parse(header);
        if let IfMatch::Tags(tags) = &if_match {
            for t in tags {
                assert!(if_match.matches(t));
                assert!(!t.is_empty() && t.trim() == t);
            }
        }
    }
}
