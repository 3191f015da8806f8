//! One validator: a quantized model passes `nmc_reference::validate` for a
//! target exactly when the fixed reference runs it, `compile` accepts it and
//! the emulator runs the compiled artifact (and then A = B). Random legal
//! models for `tiny` (tests/common/qgen.rs) get one field set to the edge of
//! its legal range or just beyond it: every stored integer format, shapes
//! and connection indices, latencies, input encodings and the paths a
//! connection may take.
#![allow(clippy::print_stderr)] // coverage counts for whoever runs the test
#![allow(clippy::unwrap_used)]

#[path = "common/qgen.rs"]
mod qgen;

use nmc_ir::Shape;
use nmc_ir::qmodel::{InputEncoding, PerNeuron, Placement, QInput, QModel, QOutput, QWeights, Source};
use nmc_reference::{FixedOptions, Stimulus};
use nmc_target::Target;
use proptest::prelude::*;
use qgen::Rng;

fn tiny() -> Target {
    Target::builtin("tiny").unwrap()
}

/// Sets neuron `i` of a per-neuron value to `x` (as an `Each` of `n`).
fn set_one<T: Copy>(p: &mut PerNeuron<T>, n: usize, i: usize, x: T) {
    let mut v = p.expand(n);
    v[i] = x;
    *p = PerNeuron::Each(v);
}

/// The mutations: a name and a function that sets one field of `m` to the
/// edge of its range (`out` false) or just beyond it (`out` true).
type Mutation = (&'static str, fn(&mut Rng, &mut QModel, &Target, bool));

fn chip_pop(rng: &mut Rng, m: &QModel) -> usize {
    let chip: Vec<usize> = (0..m.populations.len())
        .filter(|&k| m.populations[k].placement == Placement::Chip)
        .collect();
    rng.pick(&chip)
}

fn any_pop(rng: &mut Rng, m: &QModel) -> (usize, usize) {
    let k = rng.range(0, m.populations.len() as i64 - 1) as usize;
    let n = m.populations[k].shape.numel();
    (k, rng.range(0, n as i64 - 1) as usize)
}

const MUTATIONS: &[Mutation] = &[
    ("decay_u", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let d = t.formats().decay().max() + u32::from(out);
        set_one(&mut m.populations[k].compartment.decay_u, n, i, d as u16);
    }),
    ("decay_v", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let d = t.formats().decay().max() + u32::from(out);
        set_one(&mut m.populations[k].compartment.decay_v, n, i, d as u16);
    }),
    ("vth_mant", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let th = t.formats().threshold();
        let v = match (out, r.chance(0.5)) {
            (false, true) => th.mantissa_min(),
            (false, false) => th.mantissa_max(),
            (true, true) => th.mantissa_min() - 1,
            (true, false) => th.mantissa_max() + 1,
        };
        set_one(&mut m.populations[k].compartment.vth_mant, n, i, v as i32);
    }),
    ("bias_mant", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let b = (t.formats().bias().mantissa_max() + i64::from(out)) * if r.chance(0.5) { 1 } else { -1 };
        set_one(&mut m.populations[k].compartment.bias_mant, n, i, b as i32);
    }),
    ("bias_exp", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let e = t.formats().bias().exp_max() + u32::from(out);
        set_one(&mut m.populations[k].compartment.bias_exp, n, i, e as u8);
    }),
    ("refractory", |r, m, t, out| {
        let (k, i) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        let d = t.formats().refractory().max_steps() + u32::from(out);
        set_one(&mut m.populations[k].compartment.refractory, n, i, d as u8);
    }),
    ("vmin_exp", |r, m, t, out| {
        let (k, _) = any_pop(r, m);
        let e = t.formats().voltage().vmin_exp_range().end() + u32::from(out);
        m.populations[k].compartment.vmin_exp = e as u8;
    }),
    ("vmax_exp", |r, m, t, out| {
        let (k, _) = any_pop(r, m);
        let e = t.formats().voltage().vmax_exp_range().end() + u32::from(out);
        m.populations[k].compartment.vmax_exp = e as u8;
    }),
    ("weight_exp", |r, m, t, out| {
        let (k, _) = any_pop(r, m);
        let c = r.range(0, m.populations[k].inputs.len() as i64 - 1) as usize;
        let range = t.formats().weight().exp_range();
        let e = match (out, r.chance(0.5)) {
            (false, true) => *range.end(),
            (false, false) => *range.start(),
            (true, true) => range.end() + 1,
            (true, false) => range.start() - 1,
        };
        m.populations[k].inputs[c].weight_exp = e as i8;
    }),
    ("weight mantissa", |r, m, t, out| {
        let (k, _) = any_pop(r, m);
        let c = r.range(0, m.populations[k].inputs.len() as i64 - 1) as usize;
        let conn = &mut m.populations[k].inputs[c];
        let exp = i32::from(conn.weight_exp);
        let mant = match &mut conn.weights {
            QWeights::Dense { mant, .. } | QWeights::Sparse { mant, .. } | QWeights::Conv2d { mant, .. } => mant,
        };
        if mant.is_empty() {
            return;
        }
        let j = r.range(0, mant.len() as i64 - 1) as usize;
        let mixed = mant.iter().any(|&x| x > 0) && mant.iter().any(|&x| x < 0);
        let w = t.formats().weight();
        let top = w.max_abs_mantissa(exp, mixed);
        // Outside: one past the largest magnitude, or (mixed-sign) an odd value.
        let x = match (out, mixed && r.chance(0.5)) {
            (false, _) => top,
            (true, true) => top - 1,
            (true, false) => top + 1,
        };
        mant[j] = (x * if mant[j] < 0 { -1 } else { 1 }) as i16;
    }),
    ("sparse column", |r, m, _, out| {
        for p in &mut m.populations {
            for c in &mut p.inputs {
                if let QWeights::Sparse { inp, col, .. } = &mut c.weights
                    && !col.is_empty()
                {
                    let j = r.range(0, col.len() as i64 - 1) as usize;
                    col[j] = (*inp - usize::from(!out)) as u32;
                    return;
                }
            }
        }
    }),
    ("conv geometry", |r, m, _, out| {
        for p in &mut m.populations {
            for c in &mut p.inputs {
                if let QWeights::Conv2d { stride, padding, .. } = &mut c.weights {
                    if out {
                        if r.chance(0.5) {
                            stride[0] += 1;
                        } else {
                            padding[1] += 1;
                        }
                    }
                    return;
                }
            }
        }
    }),
    ("population shape", |r, m, _, out| {
        let (k, _) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        // Inside: the same neurons as a flat vector; outside: one more.
        m.populations[k].shape = Shape::new(vec![n + usize::from(out)]);
    }),
    ("per-neuron length", |r, m, _, out| {
        let (k, _) = any_pop(r, m);
        let n = m.populations[k].shape.numel();
        m.populations[k].compartment.decay_v = PerNeuron::Each(vec![0; n + usize::from(out)]);
    }),
    ("chip latency", |r, m, t, out| {
        let k = chip_pop(r, m);
        let c = r.range(0, m.populations[k].inputs.len() as i64 - 1) as usize;
        let conn = &mut m.populations[k].inputs[c];
        let host_src = match conn.source {
            Source::Input(_) => true,
            Source::Population(s) => s < m.populations.len() && m.populations[s].placement == Placement::Host,
        };
        let want = if host_src {
            t.timing().host_input_delay_steps()
        } else {
            t.timing().synapse_delay_steps()
        };
        m.populations[k].inputs[c].latency = match (out, r.chance(0.5)) {
            (false, _) => want,
            (true, true) => want + 1,
            (true, false) => want - 1,
        };
    }),
    ("host latency", |r, m, _, out| {
        if let Some(p) = m.populations.iter_mut().find(|p| p.placement == Placement::Host) {
            p.inputs[0].latency = u32::from(out) * r.range(1, 2) as u32;
        }
    }),
    ("real input bits", |r, m, _, out| {
        if let InputEncoding::Real { frac_bits, bits } = &mut m.inputs[0].encoding {
            // Widths: nmc_core::input::REAL_BITS; any fraction.
            match (out, r.range(0, 2)) {
                (false, 0) => *bits = 32,
                (false, 1) => *bits = 1,
                (false, _) => *frac_bits = 40,
                (true, 0) => *bits = 33,
                (true, _) => *bits = 0,
            }
        }
    }),
    ("second input", |_, m, _, out| {
        if out {
            let i = m.inputs[0].clone();
            m.inputs.push(QInput {
                name: "in2".into(),
                ..i
            });
        }
    }),
    ("host population reading events", |r, m, _, out| {
        if out && m.inputs[0].encoding == InputEncoding::Events {
            // A chip population fed by the event input moves to the host.
            let k = chip_pop(r, m);
            if m.populations[k].inputs.iter().any(|c| c.source == Source::Input(0)) {
                m.populations[k].placement = Placement::Host;
            }
        }
    }),
    ("output source", |_, m, _, out| {
        m.outputs.push(QOutput {
            name: "extra".into(),
            source: if out { Source::Input(0) } else { Source::Population(0) },
        });
    }),
    ("reading a read-out", |r, m, _, out| {
        // Outside: a population that something reads stops spiking.
        let read: Vec<usize> = (0..m.populations.len())
            .filter(|&s| {
                m.populations
                    .iter()
                    .any(|p| p.inputs.iter().any(|c| c.source == Source::Population(s)))
            })
            .collect();
        let k = if out {
            if read.is_empty() {
                return;
            }
            r.pick(&read)
        } else {
            match (0..m.populations.len()).rev().find(|s| !read.contains(s)) {
                Some(k) => k,
                None => return,
            }
        };
        m.populations[k].compartment.spiking = false;
    }),
    ("target name", |_, m, _, out| {
        if out {
            m.target = "loihi1".into();
        }
    }),
    ("dt", |_, m, _, out| {
        m.dt = if out { 0.0 } else { 1e-4 };
    }),
];

/// What each execution does with `m`: (validate, fixed reference, compile,
/// emulator) — `None` for compile when it does not fit `tiny`.
fn judge(m: &QModel, t: &Target, stim: &Stimulus, steps: usize) -> (bool, bool, Option<bool>, bool, String) {
    let v = nmc_reference::validate(m, t);
    let fixed = nmc_reference::simulate_fixed(
        m,
        t,
        stim,
        &FixedOptions {
            steps: Some(steps),
            ..FixedOptions::default()
        },
    );
    let mut why = format!("validate: {:?}\nfixed: {:?}\n", v.as_ref().err(), fixed.as_ref().err());
    let compiled = nmc::pipeline::compile_quantized(m.clone(), t, &Default::default());
    let (c, e) = match compiled {
        Ok(c) => {
            let run = nmc::pipeline::run_a_and_b(&c, t, stim, steps, false);
            let ok = matches!(&run, Ok((_, _, x)) if x.equal);
            why += &format!("A = B: {:?}\n", run.map(|(_, _, x)| x.to_string()));
            (Some(true), ok)
        }
        Err(nmc::Error::Partition(nmc_partition::PartitionError::NotFit { .. })) => (None, false),
        Err(err) => {
            why += &format!("compile: {err}\n");
            (Some(false), false)
        }
    };
    (v.is_ok(), fixed.is_ok(), c, e, why)
}

/// Applies mutation `which` to a random case; returns (mutation, accepted)
/// or `None` when the model does not fit `tiny`.
fn check(seed: u64, which: usize, out: bool) -> Result<Option<(usize, bool)>, TestCaseError> {
    let t = tiny();
    let case = qgen::random_case(seed, &t);
    let mut m = case.model;
    let rng = &mut Rng(seed ^ 0x5DEE_CE66);
    let (name, mutate) = MUTATIONS[which];
    mutate(rng, &mut m, &t, out);
    let (v, f, c, e, why) = judge(&m, &t, &case.stim, case.steps);
    let Some(c) = c else {
        return Ok(None);
    };
    prop_assert_eq!(
        v,
        f,
        "{} (seed {}, out {}): validate vs fixed reference\n{}",
        name,
        seed,
        out,
        why
    );
    prop_assert_eq!(
        v,
        c,
        "{} (seed {}, out {}): validate vs compile\n{}",
        name,
        seed,
        out,
        why
    );
    prop_assert_eq!(
        c,
        e,
        "{} (seed {}, out {}): compiled, but the emulator refused or A ≠ B\n{}",
        name,
        seed,
        out,
        why
    );
    Ok(Some((which, v)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn validate_accepts_exactly_what_every_execution_runs(
        seed in any::<u64>(),
        which in 0..MUTATIONS.len(),
        out in any::<bool>(),
    ) {
        check(seed, which, out)?;
    }
}

/// Every mutation is reached on both sides: some models it leaves legal,
/// some it makes illegal (a mutation only ever legal or only ever illegal
/// would not test the equivalence).
#[test]
fn every_mutation_is_seen_legal_and_illegal() {
    let mut seen = vec![[0usize; 2]; MUTATIONS.len()];
    for seed in 0..12u64 {
        for which in 0..MUTATIONS.len() {
            for out in [false, true] {
                if let Some((w, legal)) = check(seed, which, out).unwrap() {
                    seen[w][usize::from(legal)] += 1;
                }
            }
        }
    }
    for (k, (name, _)) in MUTATIONS.iter().enumerate() {
        eprintln!("{name}: illegal {}, legal {}", seen[k][0], seen[k][1]);
    }
    for (k, (name, _)) in MUTATIONS.iter().enumerate() {
        assert!(
            seen[k][0] > 0 && seen[k][1] > 0,
            "{name}: illegal {}, legal {}",
            seen[k][0],
            seen[k][1]
        );
    }
}

/// `F` inputs of `encoding` → `p` (`F` neurons, identity weights of integer
/// value `2^scale_shift`, `u = q` each step), non-spiking when `readout`.
/// Real inputs feed a host population, events a chip one.
fn identity_model(t: &Target, features: usize, encoding: InputEncoding, readout: bool) -> QModel {
    use nmc_ir::qmodel::{Compartment, QConnection, QMODEL_SCHEMA_VERSION, QPopulation};
    let host = matches!(encoding, InputEncoding::Real { .. });
    let mut mant = vec![0i16; features * features];
    for i in 0..features {
        mant[i * features + i] = 1;
    }
    let pop = QPopulation {
        name: "p".into(),
        model: nmc_ir::NeuronModel::CubaLi,
        shape: Shape::new(vec![features]),
        placement: if host { Placement::Host } else { Placement::Chip },
        compartment: Compartment {
            decay_u: PerNeuron::Uniform(t.formats().decay().max() as u16),
            decay_v: PerNeuron::Uniform(0),
            vth_mant: PerNeuron::Uniform(t.formats().threshold().mantissa_max() as i32),
            bias_mant: PerNeuron::Uniform(0),
            bias_exp: PerNeuron::Uniform(0),
            refractory: PerNeuron::Uniform(0),
            vmin_exp: *t.formats().voltage().vmin_exp_range().end() as u8,
            vmax_exp: *t.formats().voltage().vmax_exp_range().end() as u8,
            spiking: !readout,
        },
        inputs: vec![QConnection {
            source: Source::Input(0),
            latency: if host { 0 } else { t.timing().host_input_delay_steps() },
            weight_exp: 0,
            weights: QWeights::Dense {
                out: features,
                inp: features,
                mant,
            },
            folded_from: vec![],
        }],
        scale: 1.0,
        float: None,
    };
    QModel {
        schema_version: QMODEL_SCHEMA_VERSION,
        name: "identity".into(),
        target: t.name().into(),
        dt: 1e-3,
        inputs: vec![QInput {
            name: "in".into(),
            shape: Shape::new(vec![features]),
            encoding,
        }],
        populations: vec![pop],
        outputs: vec![QOutput {
            name: "out".into(),
            source: Source::Population(0),
        }],
        readouts: Vec::new(),
    }
}

fn stimulus(batch: usize, steps: usize, features: usize, vals: Vec<f64>) -> Result<Stimulus, nmc_reference::SimError> {
    Stimulus::new(ndarray::Array3::from_shape_vec((batch, steps, features), vals).unwrap())
}

/// The read-out voltages A recorded (population 0), after A = B was checked.
fn readout_of(c: &nmc::pipeline::Compiled, t: &Target, stim: &Stimulus, steps: usize) -> Vec<i64> {
    let (fixed, _, exact) = nmc::pipeline::run_a_and_b(c, t, stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    assert!(exact.voltages > 0, "the read-out is compared");
    fixed.trace.layers[0].voltages.clone().unwrap()
}

/// Whether (the fixed reference, the emulator) accept `data` as the input of
/// the compiled model: both are asked, independently.
fn accepts(
    c: &nmc::pipeline::Compiled,
    t: &Target,
    batch: usize,
    steps: usize,
    features: usize,
    data: &[f64],
) -> (bool, bool) {
    let emu = nmc_emu::Emulator::new(&c.artifact).unwrap();
    let input = nmc_emu::InputData {
        batch,
        steps,
        features,
        data: data.to_vec(),
    };
    let b = emu.run(&[input], steps + 3).is_ok();
    let a = match stimulus(batch, steps, features, data.to_vec()) {
        Ok(s) => nmc_reference::simulate_fixed(
            &c.qmodel,
            t,
            &s,
            &FixedOptions {
                steps: Some(steps + 3),
                ..FixedOptions::default()
            },
        )
        .is_ok(),
        Err(_) => false,
    };
    (a, b)
}

/// Event counts: both executions accept exactly the non-negative integers up
/// to `MAX_EVENTS` (and reject NaN, infinities, negative and fractional
/// values, larger counts), and deliver each count as that many events.
#[test]
fn both_executions_accept_the_same_event_counts_and_deliver_them_alike() {
    let t = tiny();
    let c = nmc::pipeline::compile_quantized(
        identity_model(&t, 2, InputEncoding::Events, true),
        &t,
        &Default::default(),
    )
    .unwrap();
    let max = f64::from(nmc_core::input::MAX_EVENTS);
    let cases = [
        0.0,
        -0.0,
        1.0,
        2.0,
        31.0,
        max,
        max + 1.0,
        -1.0,
        0.5,
        1e10,
        4294967295.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1e-300,
    ];
    for x in cases {
        let legal = nmc_core::input::is_event_count(x);
        assert_eq!(accepts(&c, &t, 1, 1, 2, &[x, 1.0]), (legal, legal), "event count {x}");
        if legal {
            // Tiled over the run: one delivery per step from step `host latency` on;
            // v after that first delivery is count · 2^scale_shift (weight mantissa 1).
            let lat = t.timing().host_input_delay_steps() as usize;
            let v = readout_of(&c, &t, &stimulus(1, 1, 2, vec![x, 1.0]).unwrap(), lat + 1);
            let w = 1i64 << t.formats().weight().scale_shift();
            let acc = t.formats().accumulator();
            assert_eq!(v[lat * 2 + 1], w, "the companion input: one event");
            if (x as i64) * w <= acc.max() {
                assert_eq!(v[lat * 2], x as i64 * w, "{x} events");
            }
        }
    }
    // Wrong shapes: one feature too many or too few.
    assert_eq!(accepts(&c, &t, 1, 1, 3, &[0.0; 3]), (false, false));
    assert_eq!(accepts(&c, &t, 1, 1, 1, &[0.0]), (false, false));
}

/// Real values: both executions encode `x` as
/// `clamp(round(x · 2^frac_bits), −2^(bits−1), 2^(bits−1) − 1)` (half away
/// from zero), at every width and fraction, and reject non-finite values.
#[test]
fn both_executions_encode_real_inputs_alike() {
    let t = tiny();
    let xs = [
        0.0, -0.0, 0.49, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.24, 1.0, -1.0, 3.3, -3.3, 100.0, -100.0, 1e300, -1e300,
    ];
    let w = 1i64 << t.formats().weight().scale_shift();
    for (frac, bits) in [
        (0u8, 1u8),
        (0, 2),
        (1, 2),
        (2, 4),
        (1, 8),
        (4, 8),
        (8, 4),
        (6, 12),
        (3, 15),
        (0, 15),
    ] {
        let enc = InputEncoding::Real { frac_bits: frac, bits };
        let c =
            nmc::pipeline::compile_quantized(identity_model(&t, xs.len(), enc, true), &t, &Default::default()).unwrap();
        let v = readout_of(&c, &t, &stimulus(1, 1, xs.len(), xs.to_vec()).unwrap(), 1);
        let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        for (k, &x) in xs.iter().enumerate() {
            let r = (x * 2f64.powi(i32::from(frac))).round();
            let want = if r > hi as f64 {
                hi
            } else if r < lo as f64 {
                lo
            } else {
                r as i64
            };
            assert_eq!(v[k], want * w, "x = {x}, frac_bits {frac}, bits {bits}");
        }
        for bad in [f64::NAN, f64::INFINITY] {
            let mut d = xs.to_vec();
            d[3] = bad;
            assert_eq!(accepts(&c, &t, 1, 1, xs.len(), &d), (false, false), "{bad}");
        }
        assert_eq!(accepts(&c, &t, 1, 1, xs.len(), &xs), (true, true));
    }
    // Widths beyond the shared range are refused by the validator (so by both).
    let m = identity_model(&t, 1, InputEncoding::Real { frac_bits: 0, bits: 33 }, true);
    assert!(nmc_reference::validate(&m, &t).is_err());
    let m = identity_model(&t, 1, InputEncoding::Real { frac_bits: 0, bits: 32 }, true);
    assert!(nmc_reference::validate(&m, &t).is_ok());
}
