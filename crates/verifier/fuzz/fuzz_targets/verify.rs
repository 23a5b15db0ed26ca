#![no_main]

include!("body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_verify(data));
