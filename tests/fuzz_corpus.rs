//! Every committed fuzz corpus input (`fuzz/corpus/<target>/`), the inputs of fixed crashes
//! among them, replayed through the fuzz targets' own checks on stable Rust: what a fuzzer
//! once found stays fixed, without the nightly toolchain.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

#[path = "../fuzz/fuzz_targets/checks/mod.rs"]
mod checks;

/// Runs `check` on every file of the target's corpus; fails naming every input that panics.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 10, "{dir:?} holds {} inputs", inputs.len());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            panic::catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: inputs failing: {failed:#?}");
}

#[test]
fn geojson_load_corpus_passes() {
    replay("geojson_load", checks::geojson_load::check);
}

#[test]
fn query_params_corpus_passes() {
    replay("query_params", checks::query_params::check);
}

#[test]
fn tile_render_corpus_passes() {
    replay("tile_render", checks::tile_render::check);
}

#[test]
fn write_body_corpus_passes() {
    replay("write_body", checks::write_body::check);
}
