//! Changes read from a shared store's log, made into new layer snapshots.
//!
//! Owns: [`build`], which applies logged changes (another server's, or this server's own
//! when the outcome of a commit was not known) in log order to copies of the current
//! snapshots, as the startup merge applies records ([`super::merge`]), then re-runs the
//! joins they touch. The writer thread swaps the result in, announces the changes and
//! advances its log position.

use std::collections::HashMap;
use std::sync::Arc;

use super::LoggedChange;
use super::merge::{self, LayerEdit};
use super::strings::WrittenStrings;
use crate::catalog::load::parse_geometry_value;
use crate::catalog::{Catalog, Layer};
use crate::error::Result;

/// The new snapshots after `changes`, and which changes were applied. A change of a layer
/// this server does not serve, or whose feature cannot be read, is skipped with an error in
/// the log (the position still advances past it). `shipped_fields` holds the number of
/// fields of each layer as loaded; `strings` the writer's table of written strings, which
/// the edits start from and give back.
///
/// # Errors
/// When a join names a layer the catalog does not have.
pub fn build(
    catalog: &Catalog,
    shipped_fields: &HashMap<String, usize>,
    strings: &mut WrittenStrings,
    changes: &[LoggedChange],
) -> Result<(HashMap<String, Layer>, Vec<bool>)> {
    let mut edits: HashMap<&str, (Arc<Layer>, LayerEdit)> = HashMap::new();
    let mut ids: HashMap<String, Vec<u64>> = HashMap::new();
    let mut applied = Vec::with_capacity(changes.len());
    for LoggedChange { seq, change } in changes {
        let record = &change.record;
        let layer = record.layer.as_str();
        let (Ok(handle), Some(&shipped)) = (catalog.get(layer), shipped_fields.get(layer)) else {
            tracing::error!(
                seq,
                layer,
                "a logged change names a layer this server does not serve; skipped"
            );
            applied.push(false);
            continue;
        };
        let (_, edit) = edits.entry(layer).or_insert_with(|| {
            let snapshot = handle.snapshot();
            let edit = strings.edit(layer, &snapshot, shipped);
            (snapshot, edit)
        });
        let done = match &record.feature {
            None => {
                edit.delete(record.id);
                Ok(())
            }
            Some(text) => text.parse().and_then(|f| {
                let (geometry, source) = parse_geometry_value(&f.geometry)?;
                edit.put(record.id, geometry, source, &f.properties)
            }),
        };
        if let Err(e) = &done {
            tracing::error!(seq, layer, id = record.id, error = %e, "a logged change cannot be applied; skipped");
        } else {
            ids.entry(layer.to_owned()).or_default().push(record.id);
        }
        applied.push(done.is_ok());
    }
    let mut working: HashMap<String, Layer> = edits
        .into_iter()
        .map(|(id, (snapshot, edit))| {
            let layer = strings.finish(id, edit, &snapshot);
            (id.to_owned(), layer)
        })
        .collect();
    merge::rejoin(catalog, &catalog.joins, &mut working, Some(&ids))?;
    Ok((working, applied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogSettings, LayerSettings};
    use crate::store::{Change, ChangeKind, Record, StoredFeature, StoredText, feature_body};

    /// A catalog of one layer `pts` read from a file of three points.
    fn catalog(dir: &std::path::Path) -> Catalog {
        let file = dir.join("pts.geojson");
        let point = |id: u64, name: &str| {
            serde_json::json!({"type": "Feature", "id": id, "properties": {"name": name},
                "geometry": {"type": "Point", "coordinates": [69.0 + id as f64, 34.0]}})
        };
        let collection = serde_json::json!({"type": "FeatureCollection",
            "features": [point(1, "a"), point(2, "b"), point(3, "c")]});
        std::fs::write(&file, collection.to_string()).unwrap();
        let layer = LayerSettings {
            id: "pts".to_owned(),
            file,
            writable: true,
            ..LayerSettings::default()
        };
        Catalog::load(&CatalogSettings {
            layers: vec![layer],
            joins: Vec::new(),
        })
        .unwrap()
    }

    fn logged(
        seq: u64,
        layer: &str,
        id: u64,
        kind: ChangeKind,
        text: Option<&str>,
    ) -> LoggedChange {
        LoggedChange {
            seq,
            change: Change {
                kind,
                record: Record {
                    layer: layer.to_owned(),
                    id,
                    feature: text.map(|t| {
                        StoredText::of(&serde_json::from_str::<StoredFeature>(t).unwrap()).unwrap()
                    }),
                    base: None,
                },
            },
        }
    }

    #[test]
    fn logged_changes_build_the_layer_the_startup_merge_builds() {
        let dir = tempfile::tempdir().unwrap();
        let live = catalog(dir.path());
        let fresh = catalog(dir.path());
        let shipped: HashMap<String, usize> = [("pts".to_owned(), 1)].into_iter().collect();
        let changes = [
            logged(
                4,
                "pts",
                1,
                ChangeKind::Replace,
                Some(
                    r#"{"geometry":{"type":"Point","coordinates":[60.5,30.25,812.5]},"properties":{"name":"a2","extra":[1,"x"]}}"#,
                ),
            ),
            logged(5, "pts", 2, ChangeKind::Delete, None),
            logged(
                6,
                "gone",
                1,
                ChangeKind::Create,
                Some(r#"{"geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}"#),
            ),
            logged(
                7,
                "pts",
                9,
                ChangeKind::Create,
                Some(r#"{"geometry":{"type":"Point","coordinates":[400,2]},"properties":{}}"#),
            ),
            logged(
                8,
                "pts",
                10,
                ChangeKind::Create,
                Some(
                    r#"{"geometry":{"type":"Point","coordinates":[61,31]},"properties":{"name":"new"}}"#,
                ),
            ),
        ];
        let (built, applied) =
            build(&live, &shipped, &mut WrittenStrings::default(), &changes).unwrap();
        assert_eq!(applied, [true, true, false, false, true]);
        // The reference: the startup merge of the records of the applied changes.
        let records: Vec<Record> = changes
            .iter()
            .zip(&applied)
            .filter(|(_, a)| **a)
            .map(|(c, _)| c.change.record.clone())
            .collect();
        crate::store::merge::apply_records(&fresh, &[], records).unwrap();
        let expected = fresh.get("pts").unwrap().snapshot();
        let got = built.get("pts").unwrap();
        let bodies = |l: &Layer| -> Vec<String> {
            l.features.iter().map(|(_, f)| feature_body(l, f)).collect()
        };
        assert_eq!(bodies(got), bodies(&expected));
        assert_eq!(got.features.live(), 3);
    }
}
