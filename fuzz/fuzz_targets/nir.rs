//! NIR (HDF5) bytes → `load_nir_bytes`; a graph that loads must verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_frontend::{LoadOptions, load_nir_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = load_nir_bytes("fuzz.nir", data, &LoadOptions::default()) {
        assert!(nmc_ir::verify(&g).is_ok(), "a loaded NIR graph must verify");
    }
});
