//! A = B covers the overflow bookkeeping on its own: an artifact corrupted
//! so that every spike (and voltage) still agrees, and only the overflow
//! counts, or only the first overflow, differ, makes A ≠ B. Both executions
//! return one trace type, so this is `a == b`.
#![allow(clippy::unwrap_used)]

use nmc::pipeline::{Compiled, ExactCheck, compile_quantized, run_a_and_b};
use nmc::trace::{Difference, Register};
use nmc_artifact::{Artifact, LayerLoc};
use nmc_ir::qmodel::PerNeuron;
use nmc_partition::examples::dense_chain;
use nmc_reference::Stimulus;

const STEPS: usize = 8;

/// The 16 → 30 → 10 chain on `tiny` with no input at all: the first layer
/// runs on its bias alone, `v = bias` each step (no input, no decay), and
/// spikes every step (vth 64). Its neuron 0 has bias 600 > vmax = 511
/// (`vmax_exp` 0): one clip of `v` per step; the others (bias 100) never clip.
fn compiled() -> (Compiled, Stimulus, nmc_target::Target) {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let mut q = dense_chain(&[16, 30, 10], 7);
    let c = &mut q.populations[0].compartment;
    c.vmax_exp = 0;
    c.vth_mant = PerNeuron::Uniform(1);
    c.bias_exp = PerNeuron::Uniform(0);
    c.bias_mant = PerNeuron::Each((0..30).map(|i| if i == 0 { 600 } else { 100 }).collect());
    let stim = Stimulus::new(ndarray::Array3::zeros((1, STEPS, 16))).unwrap();
    (compile_quantized(q, &t, &Default::default()).unwrap(), stim, t)
}

/// A and B of `c`, with the first layer's trace checked to be what the
/// model says.
fn check(c: &Compiled, stim: &Stimulus, t: &nmc_target::Target) -> ExactCheck {
    let (fixed, em, exact) = run_a_and_b(c, t, stim, STEPS, false).unwrap();
    let l0 = &fixed.trace.layers[0];
    assert_eq!(l0.total(), (30 * STEPS) as u64, "the first layer spikes every step");
    assert_eq!(l0.overflows.v, STEPS as u64, "neuron 0 clips every step");
    assert_eq!(exact.equal, fixed.trace == em.trace, "A = B is the traces' ==");
    exact
}

/// The artifact compartment of neuron `i` of layer `k`.
fn cx(a: &mut Artifact, k: usize, i: usize) -> &mut nmc_artifact::Cx {
    let LayerLoc::Chip(locs) = &a.layers[k].loc else {
        panic!("layer {k} is on the chip")
    };
    let (core, j) = locs[i];
    &mut a.cores[core as usize].cx[j as usize]
}

#[test]
fn only_the_overflow_counts_differ() {
    let (mut c, stim, t) = compiled();
    let before = check(&c, &stim, &t);
    assert!(before.equal, "{before}");
    let first = before.first_overflow.clone().unwrap();
    assert_eq!(
        (first.layer.as_str(), first.neuron, first.step, first.register),
        ("d1", 0, 0, Register::Voltage)
    );
    // An emission bug: the first layer's vmax exponent 0 emitted as 7. v = 600
    // now fits; it was above the threshold either way, so nothing spikes
    // differently — only the clips are gone.
    let mut found = false;
    for p in c.artifact.cores.iter_mut().flat_map(|c| &mut c.profiles) {
        if p.vmax_exp == 0 {
            p.vmax_exp = 7;
            found = true;
        }
    }
    assert!(found, "the mutation found its field");
    let after = check(&c, &stim, &t);
    assert!(!after.equal, "A ≠ B must see the overflow counts: {after}");
    assert!(after.mismatch.is_none() && after.voltage_mismatch.is_none(), "{after}");
    assert!(!after.overflow_counts_equal);
    let d = after.overflow_count_mismatch.as_ref().unwrap();
    assert_eq!(
        (d.layer.as_str(), d.register, d.a, d.b),
        ("d1", Register::Voltage, STEPS as u64, 0)
    );
    let f = after.first_overflow_mismatch.as_ref().unwrap();
    assert_eq!(f.a.as_ref(), Some(&first));
    assert!(f.b.as_ref().is_none_or(|b| b.layer != "d1"), "{f:?}");
    assert!(matches!(after.first_difference, Some(Difference::FirstOverflow(_))));
    let j = serde_json::to_value(&after).unwrap();
    assert_eq!(j["equal"], false);
    assert_eq!(j["first_difference"]["kind"], "first_overflow");
    assert_eq!(j["first_difference"]["a"]["register"], "v");
    assert_eq!(j["overflow_count_mismatch"]["register"], "v");
    assert_eq!(j["overflow_counts_equal"], false);
    let text = after.to_string();
    assert!(text.contains("count different overflows"), "{text}");
    assert!(text.contains("the first overflows differ"), "{text}");
}

#[test]
fn only_the_first_overflow_differs() {
    let (mut c, stim, t) = compiled();
    assert!(check(&c, &stim, &t).equal);
    // An emission bug: neurons 0 and 1 of the first layer get each other's
    // bias. Both still spike every step and one of them clips every step:
    // the same spikes, the same counts, another neuron clips first.
    let b0 = cx(&mut c.artifact, 0, 0).bias_mant;
    let b1 = cx(&mut c.artifact, 0, 1).bias_mant;
    assert_eq!((b0, b1), (600, 100));
    cx(&mut c.artifact, 0, 0).bias_mant = b1;
    cx(&mut c.artifact, 0, 1).bias_mant = b0;
    let after = check(&c, &stim, &t);
    assert!(!after.equal, "A ≠ B must see the first overflow: {after}");
    assert!(after.mismatch.is_none() && after.voltage_mismatch.is_none(), "{after}");
    assert!(
        after.overflow_counts_equal && after.overflow_count_mismatch.is_none(),
        "{after}"
    );
    let f = after.first_overflow_mismatch.as_ref().unwrap();
    let (a, b) = (f.a.as_ref().unwrap(), f.b.as_ref().unwrap());
    assert_eq!((a.neuron, b.neuron), (0, 1));
    assert_eq!(
        (&a.layer, a.step, a.register, a.exact),
        (&b.layer, b.step, b.register, b.exact)
    );
    // The probe reads both executions at the differing event.
    assert!(after.state_a.is_some() && after.state_b.is_some(), "{after}");
}

/// In strict mode both executions stop with the error of the event a
/// counting run records first.
#[test]
fn strict_mode_stops_at_the_recorded_first_overflow() {
    let (c, stim, t) = compiled();
    let (fixed, _, _) = run_a_and_b(&c, &t, &stim, STEPS, false).unwrap();
    let first = fixed.trace.first_overflow.clone().unwrap();
    let a = nmc_reference::simulate_fixed(
        &c.qmodel,
        &t,
        &stim,
        &nmc_reference::FixedOptions {
            steps: Some(STEPS),
            strict: true,
            probe: None,
        },
    );
    let Err(nmc_reference::FixedError::Overflow(ea)) = a else {
        panic!("strict fixed reference: {a:?}")
    };
    let emu = nmc_emu::Emulator::new(&c.artifact).unwrap();
    let b = emu.run_opts(
        &[nmc::pipeline::emu_input(&stim)],
        STEPS,
        &nmc_emu::RunOptions {
            strict: true,
            ..Default::default()
        },
        &|| {},
    );
    let Err(nmc_emu::EmuError::Overflow(eb)) = b else {
        panic!("strict emulator: {:?}", b.err())
    };
    assert_eq!((&ea, &eb), (&first, &first));
}

/// The first overflow includes what the voltage register stores when `v`
/// leaves it below a designed floor (a vmin narrower than the widest, which
/// holds `v` without counting): both executions count the register's clip
/// and report `v` after its register, not after the floor. On a loihi1
/// variant with a 23-bit accumulator and voltage register (a target file may
/// say so), one neuron: `u = q` (instant current), bias −4095·2^7, floor
/// vmin −31 (vmin_exp 5). Step 0: `v` = bias, held at −31, not a clip.
/// Step 1: 61441 events of weight −2·2^6 give `q` = −7864448, `u + bias` =
/// −2^23 exactly (no wrap), `v` = −31 − 2^23: one below the register, which
/// stores −2^23.
#[test]
fn a_voltage_register_clip_below_a_designed_floor_is_the_same_first_overflow() {
    let src = nmc_target::builtin_source("loihi1").unwrap();
    let src = src
        .replacen(
            "accumulator: (magnitude_bits: 21",
            "accumulator: (magnitude_bits: 23",
            1,
        )
        .replacen("magnitude_bits: 31,", "magnitude_bits: 23,", 1)
        .replacen("vmin_exp_max: 31,", "vmin_exp_max: 23,", 1)
        .replacen("name: \"loihi1\"", "name: \"loihi1-v23\"", 1);
    let t = nmc_target::Target::from_ron_str(&src, "test:loihi1-v23").unwrap();
    let mut b = nmc_partition::examples::NetBuilder::new("floor", 1, &t);
    let inp = b.events_input("in", &[1]);
    let n = b.dense("n", inp, 1);
    b.output("out", n);
    let mut q = b.build();
    let p = &mut q.populations[0];
    p.inputs[0].weights = nmc_ir::qmodel::QWeights::Dense {
        out: 1,
        inp: 1,
        mant: vec![-2],
    };
    p.inputs[0].weight_exp = 0;
    let c = &mut p.compartment;
    c.decay_u = PerNeuron::Uniform(4095);
    c.decay_v = PerNeuron::Uniform(0);
    c.bias_mant = PerNeuron::Uniform(-4095);
    c.bias_exp = PerNeuron::Uniform(7);
    c.vmin_exp = 5;
    c.vmax_exp = 7;
    c.spiking = false;
    let stim = Stimulus::new(ndarray::Array3::from_shape_vec((1, 2, 1), vec![61441.0, 0.0]).unwrap()).unwrap();
    let compiled = compile_quantized(q, &t, &Default::default()).unwrap();
    let (fixed, _, exact) = run_a_and_b(&compiled, &t, &stim, 3, false).unwrap();
    assert!(exact.equal, "{exact}");
    let e = fixed.trace.first_overflow.as_ref().unwrap();
    assert_eq!(
        (e.step, e.register, e.exact, e.stored),
        (1, Register::Voltage, -31 - (1 << 23), -(1 << 23))
    );
    assert_eq!(fixed.trace.layers[0].voltages.as_deref(), Some(&[-31, -31, -31][..]));
    assert_eq!(fixed.trace.total_overflows(), 1);
}
