//! Reloading a layer from its file while the server runs.
//!
//! Owns: [`Catalog::reload_layer`] (read the file again, build a new snapshot, re-run the
//! joins it takes part in, swap everything in at once with new generations, so that no tile
//! cache entry or ETag of the old data survives) and the [`ReloadLog`] that `/health` shows.
//! A file that does not load leaves the old snapshot serving; the reason is logged and kept
//! in the log. It does not watch files; [`super::watch`] does.
//!
//! Writable layers are not reloaded: their stored edits are merged over the file's features
//! when the server starts (see `crate::store`), so a changed file takes effect at the next
//! start, and the log says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Catalog, Layer, join, load_layer};
use crate::error::{Error, Result};

/// What happened to one layer's file since the server started.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct LayerReloads {
    /// Successful reloads.
    pub reloads: u64,
    /// When the last successful reload finished, in milliseconds since 1970 (UTC).
    pub last_reload_ms: Option<u64>,
    /// Why the last attempt failed, while the file stays broken; the previous data serves.
    pub error: Option<String>,
}

/// Reload outcomes per layer id.
#[derive(Debug, Default)]
pub struct ReloadLog(Mutex<BTreeMap<String, LayerReloads>>);

impl ReloadLog {
    /// A copy of every layer's record (layers never reloaded are absent).
    pub fn snapshot(&self) -> BTreeMap<String, LayerReloads> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, LayerReloads>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn succeeded(&self, id: &str) {
        let mut log = self.lock();
        let entry = log.entry(id.to_owned()).or_default();
        entry.reloads += 1;
        entry.last_reload_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok());
        entry.error = None;
    }

    fn failed(&self, id: &str, reason: String) {
        self.lock().entry(id.to_owned()).or_default().error = Some(reason);
    }
}

impl Catalog {
    /// Reads layer `id` from its file again and swaps in the new data, with the joins it
    /// takes part in re-run; the outcome is recorded in [`Catalog::reloads`].
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown layer, [`Error::Config`] for a writable one, and the
    /// load error when the file does not load (the old snapshot keeps serving).
    pub fn reload_layer(&self, id: &str) -> Result<()> {
        let started = Instant::now();
        let current = self.get(id)?.snapshot();
        if current.config.writable {
            let reason = format!(
                "the file of writable layer {id} changed: it is read again, with the stored edits, at the next start"
            );
            tracing::warn!("{reason}");
            self.reloads.failed(id, reason.clone());
            return Err(Error::Config(reason));
        }
        let fresh = match load_layer(&current.config) {
            Ok(layer) => layer,
            Err(e) => {
                tracing::error!(layer = id, error = %e, "reload failed; the previous data still serves");
                self.reloads.failed(id, e.to_string());
                return Err(e);
            }
        };
        let _exclusive = self.exclusive();
        let working = self.rejoined(id, fresh)?;
        let changed: Vec<&str> = working.keys().map(String::as_str).collect();
        tracing::info!(
            layer = id,
            swapped = %changed.join(","),
            ms = started.elapsed().as_millis() as u64,
            "layer reloaded"
        );
        for (layer_id, layer) in working {
            self.get(&layer_id)?.replace(layer);
        }
        self.reloads.succeeded(id);
        Ok(())
    }

    /// `fresh` for layer `id`, and every layer a join ties to it (directly or through other
    /// joins, in configuration order), joined again.
    fn rejoined(&self, id: &str, fresh: Layer) -> Result<HashMap<String, Layer>> {
        let mut working = HashMap::from([(id.to_owned(), fresh)]);
        for j in &self.joins {
            if !working.contains_key(&j.points) && !working.contains_key(&j.polygons) {
                continue;
            }
            let mut take = |layer: &str| -> Result<Layer> {
                match working.remove(layer) {
                    Some(l) => Ok(l),
                    None => Ok((*self.get(layer)?.snapshot()).clone()),
                }
            };
            let mut points = take(&j.points)?;
            let mut polygons = take(&j.polygons)?;
            join::apply(&mut points, &mut polygons, j);
            working.insert(j.points.clone(), points);
            working.insert(j.polygons.clone(), polygons);
        }
        Ok(working)
    }
}
