#![allow(clippy::unwrap_used)]
//! Golden spike trains of two small hand-built QModels, in the compact text
//! of [`nmc_reference::fixed::Trace::spike_listing`] (batch item 0), under
//! `tests/golden/spikes/` at the workspace root. Compared exactly; rewrite
//! with `NMC_BLESS=1 cargo test -p nmc-reference --test fixed_golden`.
//! The models live in `fixed_common/golden_models.rs`, which
//! `crates/nmc/tests/golden_emu.rs` shares for the emulator's goldens of
//! the same models.

mod fixed_common;

use fixed_common::golden_models::{conv_encoder, dense_chain, render};
use fixed_common::*;
use nmc_reference::fixed::{FixedOptions, simulate_fixed};
use nmc_target::Target;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/spikes")
}

fn check_golden(name: &str, text: &str) {
    nmc_golden::assert_golden(&golden_dir().join(format!("{name}.txt")), text);
}

#[test]
fn golden_dense_chain() {
    let t = loihi1();
    let (m, s) = dense_chain(&t);
    let r = simulate_fixed(&m, &t, &s, &FixedOptions::default()).unwrap().trace;
    assert!(r.layers.iter().all(|l| l.total() > 0), "every layer spikes");
    check_golden("dense_chain", &render("dense_chain on loihi1", &r));
}

#[test]
fn golden_conv_encoder() {
    let t = Target::builtin("tiny").unwrap();
    let (m, s) = conv_encoder(&t);
    let opts = FixedOptions {
        steps: Some(30),
        ..FixedOptions::default()
    };
    let r = simulate_fixed(&m, &t, &s, &opts).unwrap().trace;
    assert!(r.layers[0].total() > 0 && r.layers[1].total() > 0, "enc and conv spike");
    assert!(r.layers[2].voltages.is_some());
    check_golden("conv_encoder", &render("conv_encoder on tiny", &r));
}
