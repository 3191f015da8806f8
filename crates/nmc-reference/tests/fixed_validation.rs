#![allow(clippy::unwrap_used)]
//! Validation: every parameter outside the target's formats, and every
//! timing or encoding rule, is an error naming population and field.

mod fixed_common;

use fixed_common::*;
use nmc_ir::qmodel::{InputEncoding, PerNeuron, Placement, QModel, QWeights, Source};
use nmc_reference::fixed::{FixedError, FixedOptions, simulate_fixed};

fn err_of(m: &QModel) -> FixedError {
    let t = loihi1();
    let s = events_at(3, &[]);
    simulate_fixed(m, &t, &s, &FixedOptions::default()).unwrap_err()
}

fn assert_param(m: &QModel, population: &str, field: &str) {
    match err_of(m) {
        FixedError::Parameter {
            population: p,
            field: f,
            message,
        } => {
            assert_eq!((p.as_str(), f.as_str()), (population, field), "{message}");
        }
        other => panic!("expected a parameter error on {population}.{field}, got {other:?}"),
    }
}

/// An edit of a valid model.
type Edit = Box<dyn Fn(&mut QModel)>;

fn base() -> QModel {
    one_neuron(&loihi1(), compartment(), 0, vec![10])
}

#[test]
fn compartment_fields_out_of_range_are_named() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|m| m.populations[0].compartment.decay_u = PerNeuron::Uniform(4096)),
            "compartment.decay_u",
        ),
        (
            Box::new(|m| m.populations[0].compartment.decay_v = PerNeuron::Each(vec![5000])),
            "compartment.decay_v",
        ),
        (
            Box::new(|m| m.populations[0].compartment.vth_mant = PerNeuron::Uniform(0)),
            "compartment.vth_mant",
        ),
        (
            Box::new(|m| m.populations[0].compartment.vth_mant = PerNeuron::Uniform(1 << 17)),
            "compartment.vth_mant",
        ),
        (
            Box::new(|m| m.populations[0].compartment.bias_mant = PerNeuron::Uniform(-4096)),
            "compartment.bias_mant",
        ),
        (
            Box::new(|m| m.populations[0].compartment.bias_exp = PerNeuron::Uniform(8)),
            "compartment.bias_exp",
        ),
        (
            Box::new(|m| m.populations[0].compartment.refractory = PerNeuron::Uniform(64)),
            "compartment.refractory",
        ),
        (
            Box::new(|m| m.populations[0].compartment.vmin_exp = 32),
            "compartment.vmin_exp",
        ),
        (
            Box::new(|m| m.populations[0].compartment.vmax_exp = 8),
            "compartment.vmax_exp",
        ),
        (
            Box::new(|m| m.populations[0].inputs[0].weight_exp = 8),
            "inputs[0].weight_exp",
        ),
        (
            Box::new(|m| m.populations[0].inputs[0].latency = 0),
            "inputs[0].latency",
        ),
    ];
    for (edit, field) in cases {
        let mut m = base();
        edit(&mut m);
        assert_param(&m, "n", field);
    }
}

#[test]
fn per_neuron_values_are_named_by_index() {
    let t = loihi1();
    let mut c = compartment();
    c.decay_v = PerNeuron::Each(vec![0, 1, 4096]);
    let pop = population(
        "three",
        &[3],
        Placement::Chip,
        c,
        vec![dense(Source::Input(0), 1, 0, 3, 1, vec![2, 2, 2])],
    );
    let m = model(t.name(), vec![events_input(&[1])], vec![pop]);
    assert_param(&m, "three", "compartment.decay_v[2]");
}

#[test]
fn weight_mantissas_follow_the_sign_mode() {
    // Single sign: odd mantissas up to 255 are legal.
    let ok = one_neuron(&loihi1(), compartment(), 0, vec![255, 3]);
    let t = loihi1();
    simulate_fixed(&ok, &t, &stim(&[vec![1.0, 1.0]]), &FixedOptions::default()).unwrap();
    // Mixed sign: mantissas must be even, |m| ≤ 254.
    let bad = one_neuron(&loihi1(), compartment(), 0, vec![-2, 3]);
    let err = simulate_fixed(&bad, &t, &stim(&[vec![1.0, 1.0]]), &FixedOptions::default()).unwrap_err();
    assert!(
        matches!(&err, FixedError::Parameter { population, field, .. } if population == "n" && field == "inputs[0].weights.mant[1]"),
        "{err:?}"
    );
    assert!(err.to_string().contains("mixed-sign"), "{err}");
    // Negative exponents drop low bits: at exp −7 only 0 and ±128 are legal.
    let bad = one_neuron(&loihi1(), compartment(), -7, vec![64]);
    assert_param(&bad, "n", "inputs[0].weights.mant[0]");
    let ok = one_neuron(&loihi1(), compartment(), -7, vec![128]);
    let r = probe_run(&ok, &t, &events_at(3, &[(0, 1.0)]), false).unwrap();
    assert_eq!(r.probe[1].q, 64); // 128 · 2^(6 − 7)
}

#[test]
fn timing_and_encoding_rules() {
    let t = loihi1();
    // A population read in the same step.
    let c = compartment();
    let a = population(
        "a",
        &[1],
        Placement::Chip,
        c.clone(),
        vec![dense(Source::Input(0), 1, 0, 1, 1, vec![2])],
    );
    let b = population(
        "b",
        &[1],
        Placement::Chip,
        c.clone(),
        vec![dense(Source::Population(0), 0, 0, 1, 1, vec![2])],
    );
    let m = model(t.name(), vec![events_input(&[1])], vec![a.clone(), b]);
    assert_param(&m, "b", "inputs[0].latency");
    // Reading a non-spiking population.
    let mut quiet = a.clone();
    quiet.compartment.spiking = false;
    let b = population(
        "b",
        &[1],
        Placement::Chip,
        c.clone(),
        vec![dense(Source::Population(0), 1, 0, 1, 1, vec![2])],
    );
    let m = model(t.name(), vec![events_input(&[1])], vec![quiet, b]);
    assert_param(&m, "b", "inputs[0].source");
    // A real-valued input read by a chip population.
    let mut m = model(t.name(), vec![events_input(&[1])], vec![a]);
    m.inputs[0].encoding = InputEncoding::Real { frac_bits: 4, bits: 8 };
    assert_param(&m, "a", "inputs[0].source");
    // ... but a host population may read it in the same step.
    m.populations[0].placement = Placement::Host;
    m.populations[0].inputs[0].latency = 0;
    simulate_fixed(&m, &t, &events_at(3, &[(0, 0.5)]), &FixedOptions::default()).unwrap();
}

#[test]
fn model_level_errors() {
    let t = loihi1();
    // Wrong target.
    let mut m = base();
    m.target = "tiny".into();
    let err = err_of(&m);
    assert!(matches!(err, FixedError::TargetMismatch { .. }), "{err:?}");
    assert!(
        err.to_string().contains("`tiny`") && err.to_string().contains("`loihi1`"),
        "{err}"
    );
    // Structural problems come from QModel::check.
    let mut m = base();
    m.populations[0].inputs[0].weights = QWeights::Dense {
        out: 1,
        inp: 2,
        mant: vec![1, 1],
    };
    assert!(matches!(err_of(&m), FixedError::Model(_)));
    // Two inputs.
    let mut m = base();
    m.inputs.push(events_input(&[1]));
    assert!(matches!(err_of(&m), FixedError::InputCount { inputs: 2, .. }));
    // Feature count of the stimulus.
    let m = base();
    let err = simulate_fixed(&m, &t, &stim(&[vec![0.0, 0.0]]), &FixedOptions::default()).unwrap_err();
    assert!(matches!(err, FixedError::Stimulus(_)), "{err:?}");
    // Zero steps.
    let opts = FixedOptions {
        steps: Some(0),
        ..FixedOptions::default()
    };
    assert!(matches!(
        simulate_fixed(&m, &t, &events_at(2, &[]), &opts),
        Err(FixedError::Empty(_))
    ));
}

#[test]
fn event_counts_must_be_non_negative_integers() {
    let t = loihi1();
    let m = base();
    for bad in [0.5, -1.0, 5e9] {
        let err = simulate_fixed(&m, &t, &events_at(4, &[(2, bad)]), &FixedOptions::default()).unwrap_err();
        match err {
            FixedError::NotAnEventCount {
                batch, step, feature, ..
            } => assert_eq!((batch, step, feature), (0, 2, 0)),
            other => panic!("{other:?}"),
        }
    }
    // Beyond the run's steps the stimulus is not read.
    let opts = FixedOptions {
        steps: Some(2),
        ..FixedOptions::default()
    };
    simulate_fixed(&m, &t, &events_at(4, &[(2, 0.5)]), &opts).unwrap();
}

#[test]
fn probe_must_exist() {
    let t = loihi1();
    let m = base();
    for probe in [(1, 0, 0), (0, 1, 0), (0, 0, 1)] {
        let opts = FixedOptions {
            probe: Some(probe),
            ..FixedOptions::default()
        };
        assert!(
            matches!(
                simulate_fixed(&m, &t, &events_at(2, &[]), &opts),
                Err(FixedError::Probe(_))
            ),
            "{probe:?}"
        );
    }
}

/// Real inputs: `clamp(round(x·2^frac_bits), −2^(bits−1), 2^(bits−1) − 1)`,
/// rounding half away from zero, then multiplied by the weight.
#[test]
fn real_input_encoding() {
    let t = loihi1();
    let c = compartment();
    let mut pop = population(
        "enc",
        &[1],
        Placement::Host,
        c,
        vec![dense(Source::Input(0), 0, 0, 1, 1, vec![1])],
    );
    pop.compartment.vmin_exp = 31;
    let mut m = model(t.name(), vec![events_input(&[1])], vec![pop]);
    m.inputs[0].encoding = InputEncoding::Real { frac_bits: 2, bits: 4 };
    // x·4: 0.125 → 0.5 → 1 (half away from zero); −0.125 → −1; 1.6 → 6.4 → 6;
    // 3 → 12 → 7 (max); −3 → −12 → −8 (min). w_int = 64.
    let xs = [0.125, -0.125, 1.6, 3.0, -3.0];
    let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
    let r = probe_run(&m, &t, &stim(&rows), false).unwrap();
    assert_eq!(
        r.probe.iter().map(|p| p.q).collect::<Vec<_>>(),
        vec![64, -64, 6 * 64, 7 * 64, -8 * 64]
    );
}
