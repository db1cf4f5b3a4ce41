//! What each fuzz target checks, one module per target, as a plain function of the input
//! bytes: the fuzz targets call it on libFuzzer's inputs, and `tests/fuzz_corpus.rs` replays
//! every committed corpus input through it on stable Rust, so that what a fuzzer once found
//! stays fixed.
#![allow(dead_code, reason = "each fuzz target uses one of the checks")]

pub mod common;
pub mod geojson_load;
pub mod query_params;
pub mod tile_render;
pub mod write_body;
