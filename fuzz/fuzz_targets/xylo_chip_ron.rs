//! Xylo chip description RON text → `Chip::from_ron_str`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_xylo::Chip;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = Chip::from_ron_str(src, "fuzz.ron");
    }
});
