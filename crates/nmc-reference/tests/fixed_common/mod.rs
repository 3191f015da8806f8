//! Builders shared by the fixed-point reference tests.

#![allow(dead_code, clippy::unwrap_used)]

pub mod golden_models;

use ndarray::Array3;
use nmc_ir::qmodel::{
    Compartment, InputEncoding, PerNeuron, Placement, QConnection, QInput, QMODEL_SCHEMA_VERSION, QModel, QOutput,
    QPopulation, QWeights, Source,
};
use nmc_ir::{NeuronModel, Shape};
use nmc_reference::Stimulus;
use nmc_reference::fixed::{FixedError, FixedOptions, FixedResult, ProbeState, simulate_fixed};
use nmc_target::Target;
use std::path::PathBuf;

pub fn loihi1() -> Target {
    Target::builtin("loihi1").unwrap()
}

/// loihi1 with one RON field changed (and a new name, which the model must carry).
pub fn loihi1_variant(name: &str, from: &str, to: &str) -> Target {
    let src = nmc_target::builtin_source("loihi1").unwrap();
    assert!(src.contains(from), "loihi1.ron has no `{from}`");
    let src = src
        .replacen(from, to, 1)
        .replacen("name: \"loihi1\"", &format!("name: \"{name}\""), 1);
    Target::from_ron_str(&src, &format!("test:{name}")).unwrap()
}

/// A compartment with no leak on `v`, an instant current (decay_u 4095:
/// `u = q` each step), the highest threshold, no bias, no refractory period
/// and the widest voltage bounds.
pub fn compartment() -> Compartment {
    Compartment {
        decay_u: PerNeuron::Uniform(4095),
        decay_v: PerNeuron::Uniform(0),
        vth_mant: PerNeuron::Uniform((1 << 17) - 1),
        bias_mant: PerNeuron::Uniform(0),
        bias_exp: PerNeuron::Uniform(0),
        refractory: PerNeuron::Uniform(0),
        vmin_exp: 31,
        vmax_exp: 7,
        spiking: true,
    }
}

pub fn population(
    name: &str,
    shape: &[usize],
    placement: Placement,
    c: Compartment,
    inputs: Vec<QConnection>,
) -> QPopulation {
    QPopulation {
        name: name.to_string(),
        model: if c.spiking {
            NeuronModel::CubaLif
        } else {
            NeuronModel::CubaLi
        },
        shape: Shape::new(shape.to_vec()),
        placement,
        compartment: c,
        inputs,
        scale: 1.0,
        float: None,
    }
}

pub fn dense(source: Source, latency: u32, exp: i8, out: usize, inp: usize, mant: Vec<i16>) -> QConnection {
    QConnection {
        source,
        latency,
        weight_exp: exp,
        weights: QWeights::Dense { out, inp, mant },
        folded_from: vec![],
    }
}

pub fn model(target: &str, inputs: Vec<QInput>, populations: Vec<QPopulation>) -> QModel {
    let outputs = (0..populations.len())
        .map(|k| QOutput {
            name: format!("out{k}"),
            source: Source::Population(k),
        })
        .collect();
    QModel {
        schema_version: QMODEL_SCHEMA_VERSION,
        name: "test".into(),
        target: target.into(),
        dt: 1e-3,
        inputs,
        populations,
        outputs,
        readouts: Vec::new(),
    }
}

pub fn events_input(shape: &[usize]) -> QInput {
    QInput {
        name: "in".into(),
        shape: Shape::new(shape.to_vec()),
        encoding: InputEncoding::Events,
    }
}

/// One neuron fed by `mant.len()` event inputs through a dense connection
/// of latency 1.
pub fn one_neuron(target: &Target, c: Compartment, exp: i8, mant: Vec<i16>) -> QModel {
    let n_in = mant.len();
    let pop = population(
        "n",
        &[1],
        Placement::Chip,
        c,
        vec![dense(Source::Input(0), 1, exp, 1, n_in, mant)],
    );
    model(target.name(), vec![events_input(&[n_in])], vec![pop])
}

/// A batch-1 stimulus from rows (one per step).
pub fn stim(rows: &[Vec<f64>]) -> Stimulus {
    let steps = rows.len();
    let f = rows.first().map_or(0, Vec::len);
    Stimulus::new(Array3::from_shape_vec((1, steps, f), rows.concat()).unwrap()).unwrap()
}

/// `steps` steps of one feature, with `events` at the given steps.
pub fn events_at(steps: usize, events: &[(usize, f64)]) -> Stimulus {
    let mut rows = vec![vec![0.0]; steps];
    for &(t, c) in events {
        rows[t][0] = c;
    }
    stim(&rows)
}

/// Runs with a probe on neuron 0 of population 0, batch item 0.
pub fn probe_run(model: &QModel, target: &Target, s: &Stimulus, strict: bool) -> Result<FixedResult, FixedError> {
    let opts = FixedOptions {
        steps: None,
        strict,
        probe: Some((0, 0, 0)),
    };
    simulate_fixed(model, target, s, &opts)
}

pub fn column<T>(p: &[ProbeState], f: impl Fn(&ProbeState) -> T) -> Vec<T> {
    p.iter().map(f).collect()
}

/// `/work/shared/fixtures` (or `$NMC_SHARED_FIXTURES`).
pub fn shared_fixtures() -> PathBuf {
    let dir = match std::env::var_os("NMC_SHARED_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    };
    assert!(
        dir.is_dir(),
        "shared fixtures not found at {} — set NMC_SHARED_FIXTURES to the directory holding nir-paper/",
        dir.display()
    );
    dir
}
