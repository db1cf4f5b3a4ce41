//! Fuzz target: the checks of [`checks::geojson_load`], on inputs from libFuzzer.
#![no_main]

#[path = "checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::geojson_load::check(data));
