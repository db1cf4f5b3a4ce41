//! Fuzz target: the checks of [`checks::write_body`], on inputs from libFuzzer.
#![no_main]

#[path = "checks/mod.rs"]
mod checks;

// The atlas loads once, before the first input (its load is not a unit's time).
libfuzzer_sys::fuzz_target!(init: { checks::common::atlas(); }, |data: &[u8]| checks::write_body::check(data));
