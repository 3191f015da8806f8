//! Golden spike trains of the emulated artifacts of real models (compact
//! text: per step, the neurons that fired), so any change of numerics,
//! quantization, partitioning or emulation shows up as a diff. Rewrite with
//! `NMC_BLESS=1 cargo test -p nmc --test golden_emu` and review the diff.
//!
//! Both integer executions keep goldens of the same four models: the two
//! float models below (the emulator's under `tests/golden/emu/`, the fixed
//! reference's under `tests/golden/spikes/`), and the two hand-built
//! QModels of `crates/nmc-reference/tests/fixed_golden.rs` (whose fixed
//! goldens that test keeps; the emulator's are here). Each pair is written
//! in one layout and, A = B, differs only in its first line.
#![allow(clippy::unwrap_used)]

use nmc_reference::Stimulus;
mod common;
use common::{braille_bias_zero, lif_norse_with_exact_input, root, xorshift_spikes};
#[path = "../../nmc-reference/tests/fixed_common/mod.rs"]
mod fixed_common;

/// A float model compiled for loihi1, run by both executions (A = B
/// checked): (emulator listing, fixed-reference listing).
fn listings(g: &nmc_ir::Graph, stim: &Stimulus, steps: usize, title: &str) -> (String, String) {
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    let c = nmc::pipeline::compile(g, &t, &Default::default(), &Default::default()).unwrap();
    let (fixed, res, exact) = nmc::pipeline::run_a_and_b(&c, &t, stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    let head = |who: &str| {
        format!("# {title} on loihi1, {who}\n# batch item 0, {steps} steps; `t: layer: neurons that spiked`\n")
    };
    // One trace type: both listings come from the same renderer.
    let emu = head("emulated artifact") + &res.trace.spike_listing(0);
    let fix = head("fixed-point reference") + &fixed.trace.spike_listing(0);
    (emu, fix)
}

fn check(dir: &str, name: &str, text: &str) {
    nmc_golden::assert_golden(&root().join("tests/golden").join(dir).join(format!("{name}.txt")), text);
}

/// Both goldens of one model: the same text after the first line.
fn check_pair(name: &str, emu: &str, fixed: &str) {
    let body = |s: &str| s.split_once('\n').map(|x| x.1.to_string()).unwrap_or_default();
    assert_eq!(body(emu), body(fixed), "{name}: the two executions' listings");
    check("emu", name, emu);
    check("spikes", name, fixed);
}

#[test]
fn single_lif_neuron() {
    let (g, stim) = lif_norse_with_exact_input();
    let n = stim.steps();
    let (emu, fixed) = listings(&g, &stim, n, "lif_norse (lif_exact.csv input, dt 0.1 ms)");
    assert!(emu.lines().count() > 2, "the neuron spikes");
    check_pair("lif_norse", &emu, &fixed);
}

#[test]
fn braille_rnn_on_fixed_random_taxels() {
    let g = braille_bias_zero();
    let stim = xorshift_spikes(1, 60, 12, 8);
    let (emu, fixed) = listings(
        &g,
        &stim,
        60,
        "braille_noDelay_bias_zero (xorshift taxels, Euler, dt 0.1 ms)",
    );
    check_pair("braille_bias_zero", &emu, &fixed);
}

/// A hand-built QModel compiled for `t`, emulated (A = B checked); its
/// emulator golden, and the fixed reference's rendered alike.
fn qmodel_pair(name: &str, t: &nmc_target::Target, m: nmc_ir::qmodel::QModel, stim: &Stimulus, steps: usize) {
    let c = nmc::pipeline::compile_quantized(m, t, &Default::default()).unwrap();
    let (fixed, res, exact) = nmc::pipeline::run_a_and_b(&c, t, stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    let title = format!("{name} on {}", t.name());
    let emu = fixed_common::golden_models::render(&format!("{title}, emulated artifact"), &res.trace);
    let fix = fixed_common::golden_models::render(&title, &fixed.trace);
    // The fixed reference's golden is fixed_golden.rs's; here only compared.
    let body = |s: &str| s.split_once('\n').map(|x| x.1.to_string()).unwrap_or_default();
    assert_eq!(body(&emu), body(&fix), "{name}: the two executions' listings");
    check("emu", name, &emu);
}

#[test]
fn dense_chain_qmodel() {
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    let (m, s) = fixed_common::golden_models::dense_chain(&t);
    qmodel_pair("dense_chain", &t, m, &s, s.steps());
}

#[test]
fn conv_encoder_qmodel() {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let (m, s) = fixed_common::golden_models::conv_encoder(&t);
    qmodel_pair("conv_encoder", &t, m, &s, 30);
}
