//! Loihi 2 chip description RON text → `nmc_loihi2::Chip::from_ron_str`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_loihi2::Chip;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        if let Ok(c) = Chip::from_ron_str(src, "fuzz.ron") {
            let _ = c.rule_summary().cells();
        }
    }
});
