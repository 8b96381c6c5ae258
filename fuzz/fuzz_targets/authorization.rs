//! Fuzz target: see `ecrlab_fuzz::check_authorization` for the input format and the checked properties.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| ecrlab_fuzz::check_authorization(input));
