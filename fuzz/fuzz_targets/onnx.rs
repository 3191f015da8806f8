//! ONNX (protobuf) bytes → parse, lower and convert with default options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_frontend::onnx::{ConvertOptions, convert_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = convert_bytes("fuzz.onnx", data, &ConvertOptions::default()) {
        assert!(nmc_ir::verify(&c.graph).is_ok(), "a converted graph must verify");
    }
});
