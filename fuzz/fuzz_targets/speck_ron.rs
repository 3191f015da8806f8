//! DYNAP-CNN chip description RON text → `nmc_speck::Chip::from_ron_str`
//! (and the family probe `nmc::chips` uses to route a `--target` file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_speck::Chip;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = nmc_speck::chip::is_dynapcnn(src);
        let _ = Chip::from_ron_str(src, "fuzz.ron");
    }
});
