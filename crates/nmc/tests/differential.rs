//! The differential rule on random networks: quantize, partition onto the
//! `tiny` target (forcing many cores and several chips), emit, emulate, and
//! require the emulated artifact (B) to equal the fixed-point reference (A)
//! bit for bit, for every neuron at every step.
#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]

use nmc::pipeline::{VerifyOptions, verify};
use nmc_ir::{GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_reference::Stimulus;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Net {
    encoder: bool,
    conv: bool,
    widths: Vec<usize>,
    lif: Vec<bool>,
    thr: Vec<f64>,
    seed: u64,
    batch: usize,
    steps: usize,
}

fn rng(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % 1_000_000) as f64 / 1_000_000.0
}

fn neuron(lif: bool, shape: Shape, thr: f64) -> Op {
    let mut n = Neuron::neutral(if lif { NeuronModel::Lif } else { NeuronModel::If }, shape);
    let k = n.len();
    n.v_threshold = vec![thr; k];
    if lif {
        n.tau_mem = vec![0.01; k];
        n.r = vec![8.0; k];
    }
    Op::Neuron(n)
}

fn build(net: &Net) -> (nmc_ir::Graph, Stimulus) {
    let mut s = net.seed | 1;
    let mut g = GraphBuilder::new("random");
    let m = BTreeMap::new;
    let (c, h) = (2usize, 6usize);
    let mut prev = "in".to_string();
    let mut size;
    if net.conv {
        g.node(
            "in",
            Op::Input {
                shape: Shape::new([c, h, h]),
            },
            m(),
        )
        .unwrap();
        let mut ch = c;
        if net.encoder {
            let w: Vec<f64> = (0..2 * c * c).map(|_| 0.5 + rng(&mut s)).collect();
            g.node(
                "enc",
                Op::Conv {
                    weight: Tensor::new(Shape::new([2 * c, c, 1, 1]), w).unwrap(),
                    bias: None,
                    stride: vec![1, 1],
                    padding: vec![0, 0],
                    dilation: vec![1, 1],
                    groups: 1,
                },
                m(),
            )
            .unwrap();
            g.node("enc_if", neuron(false, Shape::new([2 * c, h, h]), 1.0), m())
                .unwrap();
            g.edge("in", "enc").edge("enc", "enc_if");
            prev = "enc_if".into();
            ch = 2 * c;
        }
        let co = 4;
        let w: Vec<f64> = (0..co * ch * 9).map(|_| rng(&mut s) - 0.35).collect();
        g.node(
            "conv",
            Op::Conv {
                weight: Tensor::new(Shape::new([co, ch, 3, 3]), w).unwrap(),
                bias: None,
                stride: vec![2, 2],
                padding: vec![1, 1],
                dilation: vec![1, 1],
                groups: 1,
            },
            m(),
        )
        .unwrap();
        // 6×6 → 3×3: fan-in of the dense layers stays within tiny's 64 input axons.
        g.node("conv_n", neuron(false, Shape::new([co, 3, 3]), 1.0), m())
            .unwrap();
        g.node(
            "flat",
            Op::Flatten {
                start_dim: 0,
                end_dim: -1,
            },
            m(),
        )
        .unwrap();
        g.edge(prev.as_str(), "conv")
            .edge("conv", "conv_n")
            .edge("conv_n", "flat");
        prev = "flat".into();
        size = co * 3 * 3;
    } else {
        size = 12;
        g.node(
            "in",
            Op::Input {
                shape: Shape::new([size]),
            },
            m(),
        )
        .unwrap();
    }
    for (k, &w_out) in net.widths.iter().enumerate() {
        let w: Vec<f64> = (0..w_out * size).map(|_| (rng(&mut s) - 0.3) * 1.5).collect();
        let (fc, nn) = (format!("fc{k}"), format!("n{k}"));
        g.node(
            fc.as_str(),
            Op::Affine {
                weight: Tensor::new(Shape::new([w_out, size]), w).unwrap(),
                bias: None,
            },
            m(),
        )
        .unwrap();
        g.node(nn.as_str(), neuron(net.lif[k], Shape::new([w_out]), net.thr[k]), m())
            .unwrap();
        g.edge(prev.as_str(), fc.as_str()).edge(fc.as_str(), nn.as_str());
        prev = nn;
        size = w_out;
    }
    g.node(
        "out",
        Op::Output {
            shape: Shape::new([size]),
        },
        m(),
    )
    .unwrap();
    g.edge(prev.as_str(), "out");
    let g = g.build().unwrap();
    let feats = if net.conv { c * h * h } else { 12 };
    let vals: Vec<f64> = (0..net.batch * net.steps * feats)
        .map(|_| {
            let x = rng(&mut s);
            if net.encoder {
                x
            } else if x < 0.3 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let arr = ndarray::Array3::from_shape_vec((net.batch, net.steps, feats), vals).unwrap();
    (g, Stimulus::new(arr).unwrap())
}

fn nets() -> impl Strategy<Value = Net> {
    (
        any::<bool>(),
        any::<bool>(),
        1usize..4,
        any::<u64>(),
        1usize..3,
        5usize..16,
    )
        .prop_flat_map(|(conv, encoder, depth, seed, batch, steps)| {
            (
                proptest::collection::vec(3usize..24, depth),
                proptest::collection::vec(any::<bool>(), depth),
                proptest::collection::vec(0.5f64..2.0, depth),
            )
                .prop_map(move |(widths, lif, thr)| Net {
                    encoder: encoder && conv,
                    conv,
                    widths,
                    lif,
                    thr,
                    seed,
                    batch,
                    steps,
                })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn emulated_artifact_equals_fixed_reference_on_tiny(net in nets()) {
        let (g, stim) = build(&net);
        let target = nmc_target::Target::builtin("tiny").unwrap();
        // Sizes are drawn so that every network fits `tiny` (fan-in ≤ 64 axons, ≤ 16 cores).
        let out = verify(&g, &target, &stim, &VerifyOptions::default());
        prop_assert!(out.is_ok(), "{}", out.err().map(|e| e.to_string()).unwrap_or_default());
        let out = out.unwrap();
        prop_assert!(out.report.exact.equal, "A != B: {:?}", out.report.exact);
        prop_assert!(out.report.exact.bits > 0);
    }
}

#[test]
fn a_network_spread_over_many_tiny_cores_and_chips_is_exact() {
    let net = Net {
        encoder: true,
        conv: true,
        widths: vec![30, 10],
        lif: vec![true, false],
        thr: vec![1.0, 1.0],
        seed: 7,
        batch: 2,
        steps: 12,
    };
    let (g, stim) = build(&net);
    let target = nmc_target::Target::builtin("tiny").unwrap();
    let out = verify(&g, &target, &stim, &VerifyOptions::default()).unwrap();
    assert!(out.report.exact.equal, "{:?}", out.report.exact);
    assert!(
        out.report.cores > 4,
        "expected a split over many cores, got {}",
        out.report.cores
    );
    assert!(out.report.chips > 1, "expected several chips, got {}", out.report.chips);
    assert_eq!(out.report.host_layers, ["enc_if"]);
}

/// `net` quantized for `tiny`, then, for `heat < 9`, made to overflow: every
/// connection at a large weight exponent (so `q` wraps), the current not
/// decaying for odd `heat` (so `u` integrates and wraps), and
/// `heat`-dependent voltage bounds (so `v` clips). `heat ≥ 9` leaves the
/// model as quantized.
fn overheated(net: &Net, heat: u8) -> (nmc::pipeline::Compiled, Stimulus, nmc_target::Target) {
    let (g, stim) = build(net);
    let target = nmc_target::Target::builtin("tiny").unwrap();
    let (mut q, _) = nmc::pipeline::quantize(&g, &target, &Default::default()).unwrap();
    for (k, p) in q.populations.iter_mut().enumerate().filter(|_| heat < 9) {
        if heat % 2 == 1 {
            p.compartment.decay_u = nmc_ir::qmodel::PerNeuron::Uniform(0);
        }
        for c in &mut p.inputs {
            c.weight_exp = 7 - (heat % 3) as i8;
        }
        p.compartment.vmax_exp = (heat as usize + k) as u8 % 3;
        p.compartment.vmin_exp = heat % 4;
    }
    let compiled = nmc::pipeline::compile_quantized(q, &target, &Default::default()).unwrap();
    (compiled, stim, target)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    /// Both executions count the same wraps and clips per layer, and in
    /// strict mode stop at the same layer, neuron, step, item and register.
    #[test]
    fn emulator_and_fixed_reference_agree_on_overflows(net in nets(), heat in 0u8..12) {
        let (compiled, stim, target) = overheated(&net, heat);
        let steps = stim.steps();
        let (fixed, em, exact) = nmc::pipeline::run_a_and_b(&compiled, &target, &stim, steps, false).unwrap();
        prop_assert!(exact.equal, "{:?}", exact);
        prop_assert!(exact.overflow_counts_equal);
        for (o, e) in fixed.trace.layers.iter().zip(&em.trace.layers) {
            prop_assert_eq!(&e.name, &o.name);
            prop_assert_eq!(e.overflows, o.overflows, "{}", o.name);
        }
        let fixed_total = fixed.trace.total_overflows();
        prop_assert_eq!(fixed_total, em.trace.total_overflows());
        // Strict: the fixed reference's first overflow, then the emulator's.
        let a = nmc_reference::simulate_fixed(
            &compiled.qmodel,
            &target,
            &stim,
            &nmc_reference::FixedOptions { steps: Some(steps), strict: true, probe: None },
        );
        let emu = nmc_emu::Emulator::new(&compiled.artifact).unwrap();
        let b = emu.run_opts(
            &[nmc::pipeline::emu_input(&stim)],
            steps,
            &nmc_emu::RunOptions { strict: true, ..Default::default() },
            &|| {},
        );
        match (a, b) {
            (Ok(_), Ok(_)) => prop_assert_eq!(fixed_total, 0),
            (Err(nmc_reference::FixedError::Overflow(a)), Err(nmc_emu::EmuError::Overflow(b))) => {
                prop_assert!(fixed_total > 0);
                prop_assert_eq!(&a, &b);
                // Strict mode stops at the event the counting run records first.
                prop_assert_eq!(Some(&a), fixed.trace.first_overflow.as_ref());
            }
            (a, b) => prop_assert!(false, "strict runs disagree: {:?} vs {:?}", a.err(), b.err()),
        }
    }
}

/// The overheated generator reaches both strict branches and every register.
#[test]
fn overheated_networks_overflow_every_register() {
    let (mut q, mut u, mut v, mut none) = (0, 0, 0, 0);
    for seed in 0..20u64 {
        let net = Net {
            encoder: seed % 2 == 0 && seed % 3 != 0,
            conv: seed % 3 != 0,
            widths: vec![8 + seed as usize, 5],
            lif: vec![seed % 2 == 1, true],
            thr: vec![1.0, 1.5],
            seed,
            batch: 2,
            steps: 10,
        };
        let (compiled, stim, target) = overheated(&net, (seed % 10) as u8);
        let (_, em, exact) = nmc::pipeline::run_a_and_b(&compiled, &target, &stim, 10, false).unwrap();
        assert!(exact.equal && exact.overflow_counts_equal);
        q += em.trace.layers.iter().map(|l| l.overflows.q_wraps()).sum::<u64>();
        u += em.trace.layers.iter().map(|l| l.overflows.u_wraps()).sum::<u64>();
        v += em.trace.layers.iter().map(|l| l.overflows.v_clips()).sum::<u64>();
        none += usize::from(em.trace.total_overflows() == 0);
    }
    eprintln!("q wraps {q}, u wraps {u}, v clips {v}; runs without overflow {none}");
    assert!(q > 0 && u > 0 && v > 0, "q {q} u {u} v {v}");
    assert!(none > 0, "some runs have no overflow");
}

#[path = "common/qgen.rs"]
mod qgen;

/// Compiles a random QModel for `tiny` and checks A = B; returns what the
/// model exercises and the chips and cores its artifact uses, or `None`
/// when it does not fit `tiny` (the only refusal allowed: the generator's
/// models are legal, and capacity is not legality).
fn quantized_case_is_exact(seed: u64) -> Result<Option<(qgen::Features, usize, usize)>, TestCaseError> {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let case = qgen::random_case(seed, &t);
    let c = match nmc::pipeline::compile_quantized(case.model, &t, &Default::default()) {
        Ok(c) => c,
        Err(nmc::Error::Partition(nmc_partition::PartitionError::NotFit { .. })) => return Ok(None),
        Err(e) => return Err(TestCaseError::fail(format!("seed {seed}: {e}"))),
    };
    let (_, _, exact) = nmc::pipeline::run_a_and_b(&c, &t, &case.stim, case.steps, false).unwrap();
    prop_assert!(exact.equal, "seed {seed}: A != B: {exact}");
    prop_assert!(exact.bits > 0 || exact.voltages > 0);
    prop_assert_eq!(exact.readouts, usize::from(case.features.host_readout));
    let chips: std::collections::BTreeSet<u16> = c.artifact.cores.iter().map(|c| c.chip).collect();
    Ok(Some((case.features, chips.len(), c.artifact.cores.len())))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    /// Random QModels (host encoders, dense/sparse/conv maps, recurrence,
    /// read-outs, several cores and chips) compiled for `tiny`: A = B.
    #[test]
    fn random_quantized_models_are_exact_on_tiny(seed in any::<u64>()) {
        let fits = quantized_case_is_exact(seed)?;
        prop_assume!(fits.is_some(), "does not fit tiny");
    }
}

/// The QModel generator reaches every case the differential rule is about,
/// each in several models (and all of them are exact).
#[test]
fn the_quantized_generator_covers_every_kind_of_model() {
    let mut n = [0usize; 10];
    let mut fit = 0;
    for seed in 0..60u64 {
        let Some((f, chips, cores)) = quantized_case_is_exact(seed).unwrap() else {
            continue;
        };
        fit += 1;
        for (k, hit) in [
            f.host_encoder,
            f.non_spiking,
            f.dense,
            f.sparse,
            f.conv,
            f.recurrent,
            chips > 1,
            cores > 1,
            f.host_readout,
            f.float_host,
        ]
        .into_iter()
        .enumerate()
        {
            n[k] += usize::from(hit);
        }
    }
    eprintln!(
        "host encoder, read-out, dense, sparse, conv, recurrent, >1 chip, >1 core, host readout, float host: {n:?} of {fit} \
         (60 drawn)"
    );
    assert!(fit >= 50, "only {fit} of 60 models fit tiny");
    assert!(n.iter().all(|&k| k >= 8), "{n:?}");
}
