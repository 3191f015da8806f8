//! Lava-fixture network JSON → `Net::from_lava_json`, and a short emulator
//! run of whatever it accepts (zero input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nmc_loihi2::{Chip, Input, Net, emu, net::Kind};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(chip) = Chip::builtin("loihi2") else { return };
    if let Ok(net) = Net::from_lava_json(&chip, src, "fuzz.json") {
        let mut input = Input::none();
        for p in net.processes() {
            if let Kind::Source(n) = p.kind {
                input = input.with(&p.name, ndarray::Array2::ones((n, 2)));
            }
        }
        let _ = emu::run(&chip, &net, &input, 4);
    }
});
