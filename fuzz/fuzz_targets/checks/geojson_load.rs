//! Any bytes as a layer file: the streaming GeoJSON loader, then the layer built from what it
//! kept.
//!
//! Input: one selector byte (time properties and invalid-feature policy), then the file. The
//! loader must answer `Ok` or a load error, never panic; what it keeps must hold the
//! loader's promises, checked here independently: finite coordinates in range, distinct ids.
//! The file is also read as the server reads files, on two threads in blocks (of a size the
//! selector picks, down to one byte), which must give exactly what reading it whole gives.

use std::collections::HashSet;
use std::sync::Arc;

use geo::CoordsIter;
use khorasan_atlas::catalog::load::blocks::load_blocks_with;
use khorasan_atlas::catalog::load::{LoadOptions, Loaded, load_slice};
use khorasan_atlas::catalog::{InvalidPolicy, Layer, LayerSettings};

/// Checks one input (panics on a failed check).
pub fn check(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let (time_property, time_end_property) = match selector % 3 {
        0 => (None, None),
        1 => (Some("date".to_owned()), None),
        _ => (Some("start".to_owned()), Some("end".to_owned())),
    };
    let on_invalid = if selector & 0x80 == 0 {
        InvalidPolicy::Skip
    } else {
        InvalidPolicy::Refuse
    };
    let options = LoadOptions {
        on_invalid,
        time_property: time_property.clone(),
        time_end_property: time_end_property.clone(),
    };
    let path = std::env::temp_dir().join(format!(
        "khorasan-fuzz-{}-{:?}.geojson",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, file).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let whole = load_slice(file, &path, &options);
    let block = [1, 2, 3, 7, 64, 1000, 4096, 1 << 20][usize::from(selector >> 3) % 8];
    let batch = [1, 3, 1024][usize::from(selector >> 6) % 3];
    let in_blocks = load_blocks_with(&path, &options, block, batch);
    let _ = std::fs::remove_file(&path);
    if !matches!(in_blocks, Ok(None)) {
        assert_eq!(
            summary(&in_blocks.map(|l| l.unwrap_or_default())),
            summary(&whole),
            "read in blocks of {block}, batches of {batch}, against whole"
        );
    }
    let Ok(loaded) = whole else {
        return;
    };
    if on_invalid == InvalidPolicy::Refuse {
        assert!(
            loaded.skipped.is_empty(),
            "refuse kept going: {:?}",
            loaded.skipped
        );
    }
    let mut ids = HashSet::new();
    for (_, f) in loaded.features.iter() {
        assert!(ids.insert(f.id), "id {} repeated", f.id);
        assert_eq!(f.props.len(), loaded.fields.len(), "feature {} props", f.id);
        for c in f.geometry.get().coords_iter() {
            assert!(
                c.x.is_finite() && c.y.is_finite() && c.x.abs() <= 180.0 && c.y.abs() <= 90.0,
                "feature {}: coordinate {c:?} kept",
                f.id
            );
        }
        if let Some((start, end)) = f.time.get() {
            assert!(start <= end, "feature {}: time {start}..{end}", f.id);
        }
    }
    loaded.refusals();
    let settings = LayerSettings {
        id: "fuzz".to_owned(),
        time_property,
        time_end_property,
        on_invalid,
        ..LayerSettings::default()
    };
    let layer = Layer::build_features(
        Arc::new(settings),
        loaded.fields,
        loaded.features,
        loaded.source_ids,
    );
    for (_, f) in layer.features.iter() {
        assert_eq!(
            layer
                .position(f.id)
                .and_then(|p| layer.features.get(p))
                .map(|g| g.id),
            Some(f.id)
        );
    }
}

/// What a load gave, as text (string ids sorted: their map has no order).
fn summary(loaded: &khorasan_atlas::Result<Loaded>) -> String {
    match loaded {
        Ok(l) => l.summary(),
        Err(e) => format!("{e:?}"),
    }
}
