//! `.nmcs` spike-file bytes → `SpikeReader::from_reader`, then every sample.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = nmc::spikefile::SpikeReader::from_reader("fuzz.nmcs", data) {
        // A bounded number of records: each is at most the data's length.
        for _ in 0..=data.len() {
            match r.next_sample() {
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
});
