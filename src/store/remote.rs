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
use crate::catalog::load::parse_geometry_value;
use crate::catalog::{Catalog, Layer};
use crate::error::Result;

/// The new snapshots after `changes`, and which changes were applied. A change of a layer
/// this server does not serve, or whose feature cannot be read, is skipped with an error in
/// the log (the position still advances past it). `shipped_fields` holds the number of
/// fields of each layer as loaded.
///
/// # Errors
/// When a join names a layer the catalog does not have.
pub fn build(
    catalog: &Catalog,
    shipped_fields: &HashMap<String, usize>,
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
            let edit = LayerEdit::new(&snapshot, shipped);
            (snapshot, edit)
        });
        let done = match &record.feature {
            None => {
                edit.delete(record.id);
                Ok(())
            }
            Some(f) => parse_geometry_value(&f.geometry).and_then(|(geometry, source)| {
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
        .map(|(id, (snapshot, edit))| (id.to_owned(), edit.finish(&snapshot)))
        .collect();
    merge::rejoin(catalog, &catalog.joins, &mut working, Some(&ids))?;
    Ok((working, applied))
}
