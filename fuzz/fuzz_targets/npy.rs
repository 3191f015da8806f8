//! `.npy` / `.npz` bytes → `read_array_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nmc_reference::read_array_bytes("fuzz.npy", data);
});
