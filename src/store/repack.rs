//! Re-packing the spatial index of written layers in the background.
//!
//! Owns: [`Repacks`], kept by the writer thread. Each write batch updates the index of a
//! layer with its edits only ([`crate::catalog::Layer::edited`]), which is cheap but leaves
//! the edits outside the packed trees. Once a layer's index holds many edits
//! ([`SpatialIndex::edits_to_pack`]), a thread of its own builds packed trees from that snapshot; the writer
//! never waits for it. A later batch that finds the thread done adopts its trees, updated
//! with every position changed since that snapshot; when no write comes, the writer adopts
//! them into the current snapshot itself ([`Repacks::adopt_idle`]). A snapshot with another
//! layout (a full build: file reload, or the compaction of empty slots) makes the work moot:
//! it is dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::catalog::Layer;
use crate::index::SpatialIndex;

/// The re-packs under way, per layer. See the module documentation.
#[derive(Debug)]
pub struct Repacks {
    pending: HashMap<String, Repack>,
    /// Edits that start a re-pack of a layer of so many slots.
    threshold: fn(usize) -> usize,
}

#[derive(Debug)]
struct Repack {
    /// Layout of the snapshot the thread builds from.
    layout: u64,
    /// Positions changed since that snapshot.
    since: Vec<usize>,
    thread: JoinHandle<SpatialIndex>,
}

impl Default for Repacks {
    fn default() -> Self {
        Self::new(SpatialIndex::edits_to_pack)
    }
}

impl Repacks {
    /// No re-pack under way; one starts at `threshold(slots)` edits.
    pub fn new(threshold: fn(usize) -> usize) -> Self {
        Self {
            pending: HashMap::new(),
            threshold,
        }
    }

    /// Gives `layer` (the next snapshot of layer `id`, not yet swapped in) the packed trees
    /// of a finished re-pack, with the positions changed since brought in.
    pub fn adopt(&mut self, id: &str, layer: &mut Layer) {
        self.adopt_changed(id, layer, true);
    }

    /// [`Self::adopt`]; `layer`'s own changes are brought in when `not_swapped` (a snapshot
    /// already swapped in gave them to the re-pack, see [`Self::swapped`]).
    fn adopt_changed(&mut self, id: &str, layer: &mut Layer, not_swapped: bool) {
        let Some(repack) = self.pending.get(id) else {
            return;
        };
        if repack.layout != layer.layout {
            self.pending.remove(id);
            return;
        }
        if !repack.thread.is_finished() {
            return;
        }
        let Some(repack) = self.pending.remove(id) else {
            return;
        };
        let Ok(fresh) = repack.thread.join() else {
            tracing::error!(
                layer = id,
                "the index re-pack failed; the edits stay unpacked"
            );
            return;
        };
        let mut changed = repack.since;
        if not_swapped {
            changed.extend(layer.changed.iter().copied());
        }
        changed.sort_unstable();
        changed.dedup();
        let features = &layer.features;
        let index = fresh.updated(features.slots(), &changed, |pos| {
            features.get(pos).map(|f| f.geometry.get())
        });
        tracing::debug!(
            layer = id,
            since = changed.len(),
            edits = index.edits(),
            "index re-pack adopted"
        );
        layer.index = Arc::new(index);
    }

    /// Notes that `layer` was swapped in as layer `id`: its changes are brought into the
    /// re-pack under way, or a re-pack starts when its index holds too many edits.
    pub fn swapped(&mut self, id: &str, layer: &Arc<Layer>) {
        if let Some(repack) = self.pending.get_mut(id) {
            if repack.layout == layer.layout {
                repack.since.extend(layer.changed.iter().copied());
                return;
            }
            self.pending.remove(id);
        }
        if layer.index.edits() < (self.threshold)(layer.features.slots()) {
            return;
        }
        let snapshot = Arc::clone(layer);
        let spawned = std::thread::Builder::new()
            .name(format!("repack-{id}"))
            .spawn(move || SpatialIndex::build_slots(snapshot.features.geometries()));
        match spawned {
            Ok(thread) => {
                self.pending.insert(
                    id.to_owned(),
                    Repack {
                        layout: layer.layout,
                        since: Vec::new(),
                        thread,
                    },
                );
            }
            Err(e) => tracing::warn!(layer = id, error = %e, "no thread for an index re-pack"),
        }
    }

    /// Whether a re-pack of layer `id` is under way.
    pub fn running(&self, id: &str) -> bool {
        self.pending.contains_key(id)
    }

    /// Whether any re-pack is under way.
    pub fn any_running(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The layers whose re-pack has finished, not yet adopted.
    pub fn finished(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|(_, r)| r.thread.is_finished())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// For a writer with no write to adopt it in: `current` (the snapshot of layer `id`
    /// swapped in last) with the finished re-pack's trees, the same features under the same
    /// generation. `None` when no re-pack of the layer has finished, or it was dropped.
    pub fn adopt_idle(&mut self, id: &str, current: &Layer) -> Option<Layer> {
        if !self.pending.get(id)?.thread.is_finished() {
            return None;
        }
        let mut layer = current.clone();
        self.adopt_changed(id, &mut layer, false);
        (!Arc::ptr_eq(&layer.index, &current.index)).then_some(layer)
    }
}

#[cfg(test)]
mod tests;
