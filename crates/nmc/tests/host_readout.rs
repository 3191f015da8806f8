//! Host readouts end to end: `Input → LIF → LIF → Affine → Output` (the
//! NengoDL ending, a non-spiking Dense read through a probe) compiles for
//! loihi1 and tiny with the Affine on the host; A = B covers its f64 values
//! bit for bit; the deployed readout equals the float reference's; the
//! filter is the hand-computed lowpass; and `nmc verify` prints it.
#![allow(clippy::unwrap_used)]

use nmc::pipeline::{VerifyOptions, compile, run_a_and_b, verify};
use nmc::readout::ReadoutDecision;
use nmc_ir::{Graph, GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_reference::{SimOptions, Stimulus};
use nmc_target::Target;
use std::collections::BTreeMap;
use std::process::Command;

const IN: usize = 6;
const H1: usize = 8;
const H2: usize = 5;
const OUT: usize = 3;
const TAU: f64 = 0.1;

/// Deterministic pseudo-random values in `[lo, hi)`.
fn values(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

fn lif(n: usize) -> Neuron {
    let mut p = Neuron::neutral(NeuronModel::Lif, Shape::new([n]));
    p.tau_mem = vec![0.02; n];
    p.v_threshold = vec![1.0; n];
    p
}

/// `in[6] → fc1 → h1 (LIF 8) → fc2 → h2 (LIF 5) → readout (Affine 3, bias) → output`.
fn graph() -> Graph {
    let mut b = GraphBuilder::new("readout_net");
    b.node(
        "in",
        Op::Input {
            shape: Shape::new([IN]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    let affine = |o: usize, i: usize, seed: u64, lo: f64, hi: f64, bias: Option<Vec<f64>>| Op::Affine {
        weight: Tensor::new(Shape::new([o, i]), values(o * i, seed, lo, hi)).unwrap(),
        bias: bias.map(Tensor::vector),
    };
    b.node("fc1", affine(H1, IN, 11, 0.0, 12.0, None), BTreeMap::new())
        .unwrap();
    b.node("h1", Op::Neuron(lif(H1)), BTreeMap::new()).unwrap();
    b.node("fc2", affine(H2, H1, 12, -3.0, 9.0, None), BTreeMap::new())
        .unwrap();
    b.node("h2", Op::Neuron(lif(H2)), BTreeMap::new()).unwrap();
    b.node(
        "readout",
        affine(OUT, H2, 13, -1.0, 1.0, Some(vec![0.05, -0.1, 0.0])),
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "output",
        Op::Output {
            shape: Shape::new([OUT]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.edge("in", "fc1")
        .edge("fc1", "h1")
        .edge("h1", "fc2")
        .edge("fc2", "h2")
        .edge("h2", "readout")
        .edge("readout", "output");
    b.build().unwrap()
}

/// Event input: each of 4 samples drives a different subset of inputs.
fn stimulus(batch: usize, steps: usize) -> Stimulus {
    let v = values(batch * steps * IN, 99, 0.0, 1.0);
    let vals: Vec<f64> = v
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let (b, i) = (k / (steps * IN), k % IN);
            let p = if (i + b) % 3 == 0 { 0.6 } else { 0.15 };
            f64::from(u8::from(*x < p))
        })
        .collect();
    Stimulus::new(ndarray::Array3::from_shape_vec((batch, steps, IN), vals).unwrap()).unwrap()
}

fn targets() -> [Target; 2] {
    [Target::builtin("loihi1").unwrap(), Target::builtin("tiny").unwrap()]
}

#[test]
fn compiles_for_loihi1_and_tiny_with_a_equal_to_b() {
    for synapse in [None, Some(TAU)] {
        let g = match synapse {
            Some(tau) => nmc_quant::insert_readout_synapse(&graph(), tau).unwrap(),
            None => graph(),
        };
        for t in targets() {
            let stim = stimulus(4, 40);
            let out = verify(&g, &t, &stim, &VerifyOptions::default()).unwrap();
            let r = &out.report;
            assert!(r.exact.equal, "{}: {}", t.name(), r.exact);
            assert_eq!(r.exact.readouts, 1);
            let expected = (4 * r.deployed_steps * OUT) as u64;
            assert_eq!(r.exact.readout_values, expected, "every readout value is compared");
            let [ro] = &r.readouts[..] else { panic!("{r}") };
            let host = t.timing().host_output_delay_steps().unwrap() as usize;
            // Lag: event input → h1 (host latency) → h2 (1) → host (chip → host latency).
            assert_eq!(ro.lag, t.timing().host_input_delay_steps() as usize + 1 + host);
            assert_eq!(
                ro.decision,
                if synapse.is_some() {
                    ReadoutDecision::Last
                } else {
                    ReadoutDecision::Sum
                }
            );
            // Bounded by the readout's weights (the exact accounting is
            // `deployed_error_is_explained_by_spike_flips`).
            assert!(ro.max_abs_error <= H2 as f64, "{}: {ro}", t.name());
            assert!(ro.max_abs_float > 0.01, "the readout is driven: {ro}");
            assert!(ro.decision_agreement >= 0.75, "{ro}");
            // The partition report lists it as a host layer.
            let pr = &out.compiled.partition_report;
            let [row] = &pr.host_readouts[..] else { panic!() };
            assert_eq!(row.inputs, vec!["h2".to_string()]);
            assert_eq!((row.elements, row.latency), (OUT as u64, host as u32));
            assert_eq!(row.synapse_tau, synapse);
            assert!(pr.to_string().contains("host readouts"), "{pr}");
            assert!(
                r.to_string().contains("host readout readout") || r.to_string().contains("host readout output.synapse"),
                "{r}"
            );
        }
    }
}

/// The readout of both executions (and of the float reference) is the
/// lowpass of the chip spikes computed by hand.
#[test]
fn the_filter_is_the_hand_computed_lowpass() {
    let g = nmc_quant::insert_readout_synapse(&graph(), TAU).unwrap();
    let t = Target::builtin("loihi1").unwrap();
    let stim = stimulus(2, 30);
    let c = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
    let steps = 34;
    let (fixed, em, exact) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    assert_eq!(fixed.trace.readouts, em.trace.readouts, "bit for bit");
    let q = &c.qmodel;
    let r = &q.readouts[0];
    let nmc_ir::qmodel::ReadoutWeights::Dense { w, .. } = &r.inputs[0].weights else {
        panic!()
    };
    let h2 = fixed.trace.layer("h2").unwrap();
    let a = (-t_dt() / TAU).exp();
    let latency = t.timing().host_output_delay_steps().unwrap() as usize;
    let vals = &fixed.trace.readouts[0].values;
    for b in 0..2 {
        let mut f = [0.0f64; OUT];
        for s in 0..steps {
            for i in 0..OUT {
                let mut y = r.bias[i];
                if s >= latency {
                    for j in 0..H2 {
                        if h2.spikes[(b * steps + s - latency) * H2 + j] {
                            y += w[i * H2 + j];
                        }
                    }
                }
                f[i] = a * f[i] + (1.0 - a) * y;
                let got = vals[(b * steps + s) * OUT + i];
                assert!(
                    (got - f[i]).abs() < 1e-12,
                    "item {b} step {s} element {i}: {got} vs {}",
                    f[i]
                );
            }
        }
    }
    // The float reference's Output is the same lowpass of its own spikes.
    let float = nmc_reference::simulate(&g, &stim, &SimOptions { steps: Some(30) }).unwrap();
    let fh2 = float.layer("h2").unwrap();
    let out = &float.outputs[0].values;
    let (fw, fb) = match &g.node(g.find("readout").unwrap()).op {
        Op::Affine { weight, bias } => (weight.data().to_vec(), bias.as_ref().unwrap().data().to_vec()),
        _ => panic!(),
    };
    for b in 0..2 {
        let mut f = [0.0f64; OUT];
        for s in 0..30 {
            for i in 0..OUT {
                let y = fb[i]
                    + (0..H2)
                        .filter(|&j| fh2.spiked(b, s, j))
                        .map(|j| fw[i * H2 + j])
                        .sum::<f64>();
                f[i] = a * f[i] + (1.0 - a) * y;
                assert!((out[[b, s, i]] - f[i]).abs() < 1e-12);
            }
        }
    }
}

fn t_dt() -> f64 {
    1e-3
}

/// `last` and `sum` decide differently on a constructed readout: class 0
/// leads early, class 1 at the end.
#[test]
fn last_and_sum_decisions_differ() {
    let n = 2;
    let values = [5.0, 0.0, 4.0, 0.5, 0.0, 1.0, 0.0, 2.0];
    assert_eq!(ReadoutDecision::Sum.decide(&values, 0, 4, n), 0);
    assert_eq!(ReadoutDecision::Last.decide(&values, 0, 4, n), 1);
    // From an offset (a lagged deployed run): steps 1..3 only.
    assert_eq!(ReadoutDecision::Sum.decide(&values, 1, 3, n), 0);
    assert_eq!(ReadoutDecision::resolve(None, true), ReadoutDecision::Last);
    assert_eq!(ReadoutDecision::resolve(None, false), ReadoutDecision::Sum);
    assert_eq!(
        ReadoutDecision::resolve(Some(ReadoutDecision::Sum), true),
        ReadoutDecision::Sum
    );
}

/// A corrupted readout weight, bias or filter constant in the artifact makes
/// A ≠ B, named at the readout.
#[test]
fn a_corrupted_readout_makes_a_differ_from_b() {
    let g = nmc_quant::insert_readout_synapse(&graph(), TAU).unwrap();
    let t = Target::builtin("tiny").unwrap();
    let stim = stimulus(2, 30);
    let c0 = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
    let corruptions: [fn(&mut nmc_artifact::HostReadout); 3] = [
        |r| {
            if let nmc_artifact::ReadoutWeights::Dense { w, .. } = &mut r.inputs[0].weights {
                w.iter_mut().for_each(|x| *x = f64::from_bits(x.to_bits() ^ 1));
            }
        },
        |r| r.bias[1] += 1e-9,
        |r| {
            if let Some(f) = &mut r.filter {
                f.decay = f64::from_bits(f.decay.to_bits() + 1);
            }
        },
    ];
    for corrupt in corruptions {
        let mut c = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
        corrupt(&mut c.artifact.readouts[0]);
        assert_ne!(c.artifact, c0.artifact);
        let (_, _, exact) = run_a_and_b(&c, &t, &stim, 34, false).unwrap();
        assert!(!exact.equal, "{exact}");
        let m = exact.readout_mismatch.as_ref().unwrap();
        assert_eq!(m.readout, "output.synapse");
        assert!(exact.mismatch.is_none(), "the spikes still agree");
        assert!(exact.to_string().contains("host readout values differ"), "{exact}");
    }
}

/// The artifact file keeps the floats; a version-1 file (no readouts) still
/// reads.
#[test]
fn artifact_round_trip_and_version_1() {
    let g = nmc_quant::insert_readout_synapse(&graph(), TAU).unwrap();
    let t = Target::builtin("loihi1").unwrap();
    let c = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
    let bytes = c.artifact.to_bytes().unwrap();
    assert_eq!(nmc_artifact::Artifact::from_bytes("mem", &bytes).unwrap(), c.artifact);
    assert!(c.artifact.dump().contains("host readout \"output.synapse\""));
    // Without readouts and float host layers, a v3 payload is the v2 payload
    // and one 0 byte (empty float_host), the v1 payload and two.
    let mut a = c.artifact.clone();
    a.readouts.clear();
    let v3 = a.to_bytes().unwrap();
    for (version, cut) in [(1u32, 2), (2, 1)] {
        let payload = &v3[20..v3.len() - cut];
        let mut old = Vec::new();
        old.extend_from_slice(b"NMCA");
        old.extend_from_slice(&version.to_le_bytes());
        old.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        old.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        old.extend_from_slice(payload);
        assert_eq!(
            nmc_artifact::Artifact::from_bytes("old", &old).unwrap(),
            a,
            "version {version}"
        );
    }
    let mut v4 = v3.clone();
    v4[4] = 4;
    let e = nmc_artifact::Artifact::from_bytes("v4", &v4).unwrap_err();
    assert!(e.to_string().contains("version 4"), "{e}");
}

/// A readout reading a layer on the host, or a target without the chip →
/// host latency, is refused by the emulator with its location.
#[test]
fn the_emulator_checks_readouts() {
    let g = graph();
    let t = Target::builtin("loihi1").unwrap();
    let c = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
    let mut a = c.artifact.clone();
    a.readouts[0].inputs[0].layer = 99;
    let e = nmc_emu::Emulator::new(&a).err().unwrap();
    assert!(e.to_string().contains("host readout 0"), "{e}");
    let mut a = c.artifact.clone();
    a.target_ron = a.target_ron.replace("host_output_delay_steps: Some(1),", "");
    let e = nmc_emu::Emulator::new(&a).err().unwrap();
    assert!(e.to_string().contains("host_output_delay_steps"), "{e}");
}

#[test]
fn nmc_verify_prints_the_readout() {
    let dir = std::env::temp_dir().join(format!("nmc-host-readout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("net.nir");
    nmc_frontend::write_nir(&graph(), &model).unwrap();
    let stim = stimulus(4, 40);
    let x = dir.join("x.npy");
    ndarray_npy::write_npy(&x, stim.values()).unwrap();
    let y = dir.join("y.npy");
    ndarray_npy::write_npy(&y, &ndarray::arr1(&[0i64, 1, 2, 0])).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "verify".to_string(),
            model.display().to_string(),
            "--target".into(),
            "loihi1".into(),
            "--input".into(),
            x.display().to_string(),
            "--labels".into(),
            y.display().to_string(),
            "--readout-synapse".into(),
            "0.1".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Command::new(env!("CARGO_BIN_EXE_nmc")).args(&args).output().unwrap()
    };
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("host readout output.synapse -> output output (3 elements, lowpass 0.1 s"),
        "{text}"
    );
    assert!(text.contains("decision last"), "{text}");
    assert!(
        text.contains("host readout values of 1 readouts, bit for bit"),
        "{text}"
    );
    let out = run(&["--readout-decision", "sum", "--json"]);
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &j["readouts"][0];
    assert_eq!(r["decision"], "sum");
    assert_eq!(r["synapse_tau"], 0.1);
    assert!(r["deployed_accuracy"].is_number(), "{r}");
    assert!(j["exact"]["readout_values"].as_u64().unwrap() > 0);
    // A model without a linear readout: a usage error naming the option.
    let spikes_only = dir.join("spikes.nir");
    let mut b = GraphBuilder::new("s");
    b.node("in", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("h", Op::Neuron(lif(2)), BTreeMap::new()).unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("in", "h").edge("h", "output");
    nmc_frontend::write_nir(&b.build().unwrap(), &spikes_only).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args([
            "quantize",
            &spikes_only.display().to_string(),
            "--readout-synapse",
            "0.1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("readout_synapse"));
}

/// The deployed readout equals the float reference's within the
/// quantization error: element by element, |deployed − float| is at most
/// what the spikes quantization flipped can explain (Σ |w| over the sources
/// whose spike differs, lowpassed like the values), plus f64 rounding. A
/// filtered readout also starts `lag` steps early on the deployed side: its
/// state holds the bias filtered over those steps, `|b|·(1 − a^lag)`, which
/// decays by `a` per step.
#[test]
fn deployed_error_is_explained_by_spike_flips() {
    for synapse in [None, Some(TAU)] {
        let g = match synapse {
            Some(tau) => nmc_quant::insert_readout_synapse(&graph(), tau).unwrap(),
            None => graph(),
        };
        for t in targets() {
            let (batch, steps) = (3, 40);
            let stim = stimulus(batch, steps);
            let float = nmc_reference::simulate(&g, &stim, &SimOptions { steps: Some(steps) }).unwrap();
            let c = compile(&g, &t, &Default::default(), &Default::default()).unwrap();
            let lags = nmc::pipeline::lags(&c.qmodel);
            let rlag = nmc::pipeline::host_readout_lags(&c.qmodel, &lags)[0];
            let h2_lag = lags[1];
            let (fixed, _, exact) = run_a_and_b(&c, &t, &stim, steps + rlag, false).unwrap();
            assert!(exact.equal);
            let nmc_ir::qmodel::ReadoutWeights::Dense { w, .. } = &c.qmodel.readouts[0].inputs[0].weights else {
                panic!()
            };
            let (a, gain) = c.qmodel.readouts[0].filter.map_or((0.0, 1.0), |f| (f.decay, f.gain));
            let fh2 = float.layer("h2").unwrap();
            let dh2 = fixed.trace.layer("h2").unwrap();
            let dv = &fixed.trace.readouts[0].values;
            let fo = &float.outputs[0].values;
            let (mut flips, mut worst) = (0usize, 0.0f64);
            let bias = &c.qmodel.readouts[0].bias;
            for b in 0..batch {
                let mut bound: Vec<f64> = bias.iter().map(|x| x.abs() * (1.0 - a.powi(rlag as i32))).collect();
                for s in 0..steps {
                    let differs: Vec<usize> = (0..H2)
                        .filter(|&j| fh2.spiked(b, s, j) != dh2.spikes[(b * (steps + rlag) + s + h2_lag) * H2 + j])
                        .collect();
                    flips += differs.len();
                    for i in 0..OUT {
                        let e: f64 = differs.iter().map(|&j| w[i * H2 + j].abs()).sum();
                        bound[i] = a * bound[i] + gain * e;
                        let err = (dv[(b * (steps + rlag) + s + rlag) * OUT + i] - fo[[b, s, i]]).abs();
                        worst = worst.max(err);
                        assert!(
                            err <= bound[i] + 1e-9,
                            "{} {synapse:?}: item {b} step {s} element {i}: error {err} > bound {}",
                            t.name(),
                            bound[i]
                        );
                    }
                }
            }
            eprintln!(
                "{} synapse {synapse:?}: {flips} flipped h2 spikes, max readout error {worst:.3e}",
                t.name()
            );
        }
    }
}
