//! Quantized-model RON text → `qmodel_from_ron` (parse + `QModel::check`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = nmc_quant::qmodel_from_ron(src, "fuzz.q.ron");
    }
});
