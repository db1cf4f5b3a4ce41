//! Watching the layer files, to reload a layer when its file changes.
//!
//! Owns: [`watch`], which watches the directory of every layer file (so that both in-place
//! writes and an atomic rename over the file are seen), waits until the file has been quiet
//! for the debounce time, then calls [`Catalog::reload_layer`]. A file whose write is still
//! in progress when the debounce ends fails to load and leaves the old data serving; the
//! end of the write is another change, which reloads it. Events that leave the modification
//! time and length as they were (a file opened for reading) reload nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::Catalog;
use crate::error::{Error, Result};

/// How long a file must stay unchanged before it is read again.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(300);

/// Watching stops when this is dropped.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

/// Starts watching the files of `catalog`'s layers.
///
/// # Errors
/// [`Error::Config`] when a layer's directory cannot be watched.
pub fn watch(catalog: Arc<Catalog>, debounce: Duration) -> Result<Watcher> {
    let mut layers_of: HashMap<PathBuf, Vec<String>> = HashMap::new();
    for handle in &catalog.layers {
        let config = Arc::clone(&handle.snapshot().config);
        if config.postgis.is_some() {
            continue;
        }
        let file = config.file.clone();
        layers_of
            .entry(watched_path(&file)?)
            .or_default()
            .push(handle.id.clone());
    }
    let directories: HashSet<PathBuf> = layers_of
        .keys()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    let mut versions: HashMap<PathBuf, Option<FileVersion>> =
        layers_of.keys().map(|p| (p.clone(), version(p))).collect();
    let mut debouncer = new_debouncer(debounce, move |events: DebounceEventResult| {
        let events = match events {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "watching layer files");
                return;
            }
        };
        // Reading a file (the reload itself, or any reader) is an event too: only a new
        // modification time or length is a change.
        let changed: HashSet<&String> = events
            .iter()
            .filter_map(|e| {
                let ids = layers_of.get(&e.path)?;
                let now = version(&e.path);
                let before = versions.insert(e.path.clone(), now);
                (before != Some(now)).then_some(ids)
            })
            .flatten()
            .collect();
        for id in changed {
            // Failures are logged and recorded in `catalog.reloads`.
            let _ = catalog.reload_layer(id);
        }
    })
    .map_err(|e| Error::Config(format!("cannot watch layer files: {e}")))?;
    for dir in &directories {
        debouncer
            .watcher()
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|e| Error::Config(format!("cannot watch {}: {e}", dir.display())))?;
    }
    tracing::info!(
        directories = directories.len(),
        "watching layer files for changes"
    );
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

/// What tells two versions of a file apart: modification time and length.
type FileVersion = (SystemTime, u64);

/// The version of the file at `path`; `None` while it cannot be read.
fn version(path: &Path) -> Option<FileVersion> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The path events name for `file`: its directory resolved, its own name kept (the file
/// itself may be replaced by a rename).
fn watched_path(file: &Path) -> Result<PathBuf> {
    let name = file
        .file_name()
        .ok_or_else(|| Error::Config(format!("layer file {} has no name", file.display())))?;
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = parent
        .canonicalize()
        .map_err(|e| Error::Config(format!("layer directory {}: {e}", parent.display())))?;
    Ok(dir.join(name))
}
