//! `.nmca` bytes → `Artifact::from_bytes` (which runs `check`), then
//! `Emulator::new` on an artifact that checks.
//!
//! An input that starts with the magic `NMCA` is taken as a whole file, so
//! the header checks are fuzzed too. Any other input is taken as the
//! postcard payload and given a valid header (length and CRC-32), so that
//! mutations reach the decoder and `check` instead of stopping at the
//! checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_artifact::{Artifact, FORMAT_VERSION};

fuzz_target!(|data: &[u8]| {
    let bytes = if data.starts_with(b"NMCA") {
        data.to_vec()
    } else {
        let mut b = Vec::with_capacity(20 + data.len());
        b.extend_from_slice(b"NMCA");
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&(data.len() as u64).to_le_bytes());
        b.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
        b.extend_from_slice(data);
        b
    };
    if let Ok(a) = Artifact::from_bytes("fuzz.nmca", &bytes) {
        assert!(a.check().is_ok(), "from_bytes returned an artifact that does not check");
        let _ = nmc_emu::Emulator::new(&a);
    }
});
