//! Shared by the compile tests: the NIR paper's Braille SRNN as it was trained.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;

/// `braille_noDelay_noBias_subtract.nir` read with the conventions it was
/// trained with in snnTorch: dt = 1e-4 s, forward Euler, subtractive reset.
pub fn braille() -> nmc_ir::Graph {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir");
    let opts = nmc_frontend::LoadOptions {
        dt: Some(1e-4),
        discretization: Some(nmc_ir::Discretization::Euler),
        reset: Some(nmc_ir::ResetMode::Subtract),
        ..Default::default()
    };
    nmc_frontend::load(&p, &opts).unwrap()
}
