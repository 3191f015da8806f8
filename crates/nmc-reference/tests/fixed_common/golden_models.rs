//! The hand-built QModels whose spike trains are golden for both integer
//! executions: `tests/golden/spikes/` (the fixed reference,
//! crates/nmc-reference/tests/fixed_golden.rs) and `tests/golden/emu/` (the
//! emulator, crates/nmc/tests/golden_emu.rs), and the text both render.

use super::*;
use ndarray::Array3;
use nmc_ir::Shape;
use nmc_ir::qmodel::{InputEncoding, PerNeuron, Placement, QConnection, QInput, QModel, QWeights, Source};
use nmc_reference::Stimulus;
use nmc_reference::fixed::Trace;
use nmc_target::Target;
use std::fmt::Write as _;

/// The listing plus, for non-spiking layers, the voltages at the last step,
/// and the overflow counts: one text for a trace of either execution.
pub fn render(title: &str, r: &Trace) -> String {
    let mut s = format!(
        "# {title}\n# batch item 0, {} steps; `t: population: neurons that spiked`\n",
        r.steps
    );
    s.push_str(&r.spike_listing(0));
    for (k, l) in r.layers.iter().enumerate().filter(|(_, l)| !l.spiking()) {
        let t = r.steps - 1;
        let v: Vec<String> = (0..l.neurons())
            .map(|i| r.voltage(k, 0, t, i).unwrap().to_string())
            .collect();
        let _ = writeln!(s, "# {} v at step {t}: {}", l.name, v.join(" "));
    }
    for l in &r.layers {
        let o = &l.overflows;
        let _ = writeln!(
            s,
            "# {} overflows (all batch items): q {} u {} v {}",
            l.name,
            o.q_wraps(),
            o.u_wraps(),
            o.v_clips()
        );
    }
    s
}

/// Events [6] → `hidden` [5] (dense, host latency, mixed-sign weights,
/// per-neuron decays/biases/refractory) → `out` [3] (dense, latency 1) with a
/// sparse inhibitory self-connection (latency 1).
pub fn dense_chain(t: &Target) -> (QModel, Stimulus) {
    let n_in = 6;
    let hidden_w: Vec<i16> = (0..5 * n_in).map(|k| (((k * 7) % 9) as i16 - 2) * 2).collect();
    let mut hc = compartment();
    hc.decay_u = PerNeuron::Each(vec![4095, 3000, 2000, 4095, 1000]);
    hc.decay_v = PerNeuron::Uniform(200);
    hc.vth_mant = PerNeuron::Uniform(8);
    hc.bias_mant = PerNeuron::Each(vec![0, 10, 0, 20, -5]);
    hc.bias_exp = PerNeuron::Uniform(2);
    hc.refractory = PerNeuron::Each(vec![0, 2, 3, 1, 0]);
    hc.vmin_exp = 0;
    let hidden = population(
        "hidden",
        &[5],
        Placement::Chip,
        hc,
        vec![dense(
            Source::Input(0),
            t.timing().host_input_delay_steps(),
            0,
            5,
            n_in,
            hidden_w,
        )],
    );
    let out_w: Vec<i16> = vec![6, 10, 2, 14, 8, 12, 4, 8, 2, 6, 2, 2, 16, 4, 10];
    let mut oc = compartment();
    oc.decay_u = PerNeuron::Uniform(2048);
    oc.decay_v = PerNeuron::Uniform(100);
    oc.vth_mant = PerNeuron::Uniform(6);
    oc.refractory = PerNeuron::Uniform(2);
    oc.vmin_exp = 4;
    let inhibit = QConnection {
        source: Source::Population(1),
        latency: 1,
        weight_exp: 1,
        weights: QWeights::Sparse {
            out: 3,
            inp: 3,
            row_ptr: vec![0, 2, 4, 6],
            col: vec![1, 2, 0, 2, 0, 1],
            mant: vec![-8; 6],
        },
        folded_from: vec![],
    };
    let out = population(
        "out",
        &[3],
        Placement::Chip,
        oc,
        vec![dense(Source::Population(0), 1, 0, 3, 5, out_w), inhibit],
    );
    let m = model(t.name(), vec![events_input(&[n_in])], vec![hidden, out]);
    let steps = 40;
    let mut x = Array3::<f64>::zeros((2, steps, n_in));
    for b in 0..2 {
        for s in 0..steps {
            for j in 0..n_in {
                if (s + 2 * j + b) % (3 + j) == 0 {
                    x[[b, s, j]] = 1.0;
                }
            }
        }
    }
    x[[0, 10, 0]] = 3.0;
    (m, Stimulus::new(x).unwrap())
}

/// Real [1,5,5] → `enc` (host, 1×1 conv, latency 0, IF) → `conv` [2,3,3]
/// (3×3 conv, host latency) → `readout` [2] (non-spiking, dense, latency 1).
/// The stimulus is one frame, tiled over 30 steps.
pub fn conv_encoder(t: &Target) -> (QModel, Stimulus) {
    let input = QInput {
        name: "pixels".into(),
        shape: Shape::new(vec![1, 5, 5]),
        encoding: InputEncoding::Real { frac_bits: 6, bits: 8 },
    };
    let conv = |src: Source, latency: u32, exp: i8, in_shape, out_shape, kernel, mant| QConnection {
        source: src,
        latency,
        weight_exp: exp,
        weights: QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            mant,
        },
        folded_from: vec![],
    };
    let mut ec = compartment();
    ec.vth_mant = PerNeuron::Uniform(100);
    let enc = population(
        "enc",
        &[1, 5, 5],
        Placement::Host,
        ec,
        vec![conv(Source::Input(0), 0, 0, [1, 5, 5], [1, 5, 5], [1, 1], vec![2])],
    );
    // Channel 0: vertical edges (+ left, − right); channel 1: a blur.
    let mut k = vec![8, 0, -8, 8, 0, -8, 8, 0, -8];
    k.extend([0, 2, 0, 2, 2, 2, 0, 2, 0]);
    let mut cc = compartment();
    cc.decay_u = PerNeuron::Uniform(3500);
    cc.decay_v = PerNeuron::Uniform(300);
    cc.vth_mant = PerNeuron::Uniform(30);
    cc.refractory = PerNeuron::Uniform(2);
    cc.vmin_exp = 10;
    let convp = population(
        "conv",
        &[2, 3, 3],
        Placement::Chip,
        cc,
        vec![conv(
            Source::Population(0),
            t.timing().host_input_delay_steps(),
            2,
            [1, 5, 5],
            [2, 3, 3],
            [3, 3],
            k,
        )],
    );
    let mut rc = compartment();
    rc.decay_v = PerNeuron::Uniform(400);
    rc.spiking = false;
    rc.vmin_exp = 20;
    let rw: Vec<i16> = (0..2 * 18)
        .map(|k| {
            if k < 18 {
                (k % 5) as i16 * 2
            } else {
                8 - (k % 4) as i16 * 4
            }
        })
        .collect();
    let readout = population(
        "readout",
        &[2],
        Placement::Chip,
        rc,
        vec![dense(Source::Population(1), 1, 0, 2, 18, rw)],
    );
    let m = model(t.name(), vec![input], vec![enc, convp, readout]);
    let mut x = Array3::<f64>::zeros((2, 1, 25));
    for b in 0..2 {
        for p in 0..25 {
            x[[b, 0, p]] = ((p + 3 * b) % 7) as f64 / 6.0;
        }
    }
    (m, Stimulus::new(x).unwrap())
}
