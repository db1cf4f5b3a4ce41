//! Fuzz target: the checks of [`checks::tile_render`], on inputs from libFuzzer.
#![no_main]

#[path = "checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tile_render::check(data));
