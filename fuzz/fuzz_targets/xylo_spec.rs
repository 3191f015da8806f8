//! Xylo specification `.npz` bytes → `Config::from_npz_bytes`; a config
//! that reads is checked against every built-in chip and, where it fits,
//! run for two steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_xylo::emu::Emulator;
use nmc_xylo::{Chip, Config};

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = Config::from_npz_bytes("fuzz.npz", data) {
        for name in Chip::builtin_names() {
            let Ok(chip) = Chip::builtin(name) else { continue };
            if let Ok(mut e) = Emulator::new(&chip, &config) {
                let events = vec![20u32; config.inputs()];
                e.step(&events);
                e.step(&events);
            }
        }
    }
});
