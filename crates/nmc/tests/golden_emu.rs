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
use std::fmt::Write as _;
mod common;
use common::{braille_bias_zero, lif_norse_with_exact_input, root, xorshift_spikes};
#[path = "../../nmc-reference/tests/fixed_common/mod.rs"]
mod fixed_common;

/// `t: layer: neurons` lines of batch item 0: `spiked(layer, step, neuron)`
/// over `layers` (name, neurons).
fn spike_lines(layers: &[(String, usize)], steps: usize, spiked: impl Fn(usize, usize, usize) -> bool) -> String {
    let mut s = String::new();
    for step in 0..steps {
        for (li, (name, n)) in layers.iter().enumerate() {
            let ids: Vec<String> = (0..*n)
                .filter(|&i| spiked(li, step, i))
                .map(|i| i.to_string())
                .collect();
            if !ids.is_empty() {
                let _ = writeln!(s, "{step}: {name}: {}", ids.join(" "));
            }
        }
    }
    s
}

fn emu_layers(res: &nmc_emu::EmuResult) -> Vec<(String, usize)> {
    res.layers
        .iter()
        .map(|l| (l.name.clone(), l.shape.iter().product()))
        .collect()
}

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
    let emu = head("emulated artifact")
        + &spike_lines(&emu_layers(&res), steps, |li, step, i| {
            let n: usize = res.layers[li].shape.iter().product();
            res.layers[li].spikes[step * n + i]
        });
    let fl: Vec<(String, usize)> = fixed.layers.iter().map(|l| (l.name.clone(), l.neurons())).collect();
    let fix =
        head("fixed-point reference") + &spike_lines(&fl, steps, |li, step, i| fixed.layers[li].spiked(0, step, i));
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

/// The emulator's listing of a hand-built QModel in the layout of
/// `fixed_common::golden_models::render` (which the fixed reference's
/// golden uses): spikes, the read-out voltages at the last step, overflows.
fn render_emu(title: &str, res: &nmc_emu::EmuResult) -> String {
    let steps = res.steps;
    let mut s = format!("# {title}\n# batch item 0, {steps} steps; `t: population: neurons that spiked`\n");
    s += &spike_lines(&emu_layers(res), steps, |li, step, i| {
        let n: usize = res.layers[li].shape.iter().product();
        res.layers[li].spikes[step * n + i]
    });
    for l in &res.voltages {
        let n = res
            .layers
            .iter()
            .find(|x| x.name == l.name)
            .unwrap()
            .shape
            .iter()
            .product::<usize>();
        let t = steps - 1;
        let v: Vec<String> = l.v[t * n..(t + 1) * n].iter().map(|x| x.to_string()).collect();
        let _ = writeln!(s, "# {} v at step {t}: {}", l.name, v.join(" "));
    }
    for o in &res.overflows {
        let _ = writeln!(
            s,
            "# {} overflows (all batch items): q {} u {} v {}",
            o.layer, o.q_wraps, o.u_wraps, o.v_clips
        );
    }
    s
}

/// A hand-built QModel compiled for `t`, emulated (A = B checked); its
/// emulator golden, and the fixed reference's rendered alike.
fn qmodel_pair(name: &str, t: &nmc_target::Target, m: nmc_ir::qmodel::QModel, stim: &Stimulus, steps: usize) {
    let c = nmc::pipeline::compile_quantized(m, t, &Default::default()).unwrap();
    let (fixed, res, exact) = nmc::pipeline::run_a_and_b(&c, t, stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    let title = format!("{name} on {}", t.name());
    let emu = render_emu(&format!("{title}, emulated artifact"), &res);
    let fix = fixed_common::golden_models::render(&title, &fixed);
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
