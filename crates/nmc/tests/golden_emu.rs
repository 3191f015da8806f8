//! Golden spike trains of the emulated artifacts of real models (compact
//! text: per step, the neurons that fired), so any change of numerics,
//! quantization, partitioning or emulation shows up as a diff. Rewrite with
//! `NMC_BLESS=1 cargo test -p nmc --test golden_emu` and review the diff.
#![allow(clippy::unwrap_used)]

use nmc_reference::Stimulus;
use std::fmt::Write as _;
mod common;
use common::{braille_bias_zero, lif_norse_with_exact_input, root, xorshift_spikes};

fn listing(g: &nmc_ir::Graph, stim: &Stimulus, steps: usize, title: &str) -> String {
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    let c = nmc::pipeline::compile(g, &t, &Default::default(), &Default::default()).unwrap();
    let emu = nmc_emu::Emulator::new(&c.artifact).unwrap();
    let res = emu.run(&[nmc::pipeline::emu_input(stim)], steps).unwrap();
    let mut s = format!(
        "# {title} on loihi1, emulated artifact\n# batch item 0, {steps} steps; `t: layer: neurons that spiked`\n"
    );
    for step in 0..steps {
        for l in &res.trace.layers {
            let n: usize = l.shape.iter().product();
            let ids: Vec<String> = (0..n)
                .filter(|&i| l.spikes[step * n + i])
                .map(|i| i.to_string())
                .collect();
            if !ids.is_empty() {
                let _ = writeln!(s, "{step}: {}: {}", l.name, ids.join(" "));
            }
        }
    }
    s
}

fn check(name: &str, text: &str) {
    nmc_golden::assert_golden(&root().join("tests/golden/emu").join(format!("{name}.txt")), text);
}

#[test]
fn single_lif_neuron() {
    let (g, stim) = lif_norse_with_exact_input();
    let n = stim.steps();
    check(
        "lif_norse",
        &listing(&g, &stim, n, "lif_norse (lif_exact.csv input, dt 0.1 ms)"),
    );
}

#[test]
fn braille_rnn_on_fixed_random_taxels() {
    let g = braille_bias_zero();
    let stim = xorshift_spikes(1, 60, 12, 8);
    check(
        "braille_bias_zero",
        &listing(
            &g,
            &stim,
            60,
            "braille_noDelay_bias_zero (xorshift taxels, Euler, dt 0.1 ms)",
        ),
    );
}
