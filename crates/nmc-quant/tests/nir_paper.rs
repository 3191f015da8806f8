#![allow(clippy::unwrap_used)]
//! The NIR paper's single LIF neuron (`lif_norse.nir`): dt = 0.1 ms, Euler.
//! The paper's Lava conversion is decay_v = int(4095·dt/τ) = 163, one input
//! spike adding 640 = 10·2^6, threshold 1600 = 25·2^6.

mod common;

use common::*;
use nmc_frontend::LoadOptions;
use nmc_ir::Discretization;
use nmc_ir::qmodel::{PerNeuron, QWeights};
use nmc_quant::{QuantOptions, quantize, quantize_population_with_scale};

fn lif_norse() -> nmc_ir::Graph {
    let opts = LoadOptions {
        dt: Some(1e-4),
        discretization: Some(Discretization::Euler),
        ..Default::default()
    };
    nmc_frontend::load(&fixtures().join("nir-paper/01_lif/lif_norse.nir"), &opts).unwrap()
}

/// `(input spike, voltage, output spike)` per step.
fn trace(name: &str) -> Vec<(i64, i64, bool)> {
    let text = std::fs::read_to_string(fixtures().join("nir-paper/01_lif/traces").join(name)).unwrap();
    text.lines()
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            (v[0] as i64, v[1] as i64, v[2] != 0.0)
        })
        .collect()
}

/// With s = 16000 (one spike of weight 1 through γ' = 164/4096 adds
/// 16000·0.04004 = 640.6 → 640, the nearest multiple of 2^6), nmc's
/// integers are Lava's except decay_v: round(4096·0.04) = round(163.84) =
/// 164 where the paper floors int(4095·0.04) = int(163.8) = 163.
#[test]
fn lava_parameters_at_scale_16000() {
    let g = lif_norse();
    let t = loihi1();
    let (p, r) = quantize_population_with_scale(&g, &t, &QuantOptions::default(), "1", 16000.0).unwrap();
    let c = &p.compartment;
    assert_eq!(c.decay_v, PerNeuron::Uniform(164));
    assert_eq!(c.decay_u, PerNeuron::Uniform(4095));
    assert_eq!(c.vth_mant, PerNeuron::Uniform(25));
    assert_eq!(t.formats().threshold().value(25), Some(1600));
    assert_eq!(c.bias_mant, PerNeuron::Uniform(0));
    assert_eq!(c.refractory, PerNeuron::Uniform(0));
    let conn = &p.inputs[0];
    let QWeights::Dense { mant, .. } = &conn.weights else {
        panic!("a lone Affine is dense")
    };
    let w_int = t
        .formats()
        .weight()
        .weight_int(i64::from(mant[0]), i32::from(conn.weight_exp), false);
    assert_eq!(w_int, Some(640));
    assert_eq!(r.threshold.as_ref().map(|x| x.after_max), Some(0.1));
}

/// The chip step with those integers against Lava's integer trace
/// (`lif_lava_cpu_fixed.csv`, latency 1 in Lava): with the paper's
/// decay_v = 163 every voltage and spike of the 1000 steps matches; with
/// nmc's 164 the four output spikes are on the same steps.
#[test]
fn chip_step_reproduces_the_lava_trace() {
    let g = lif_norse();
    let t = loihi1();
    let (mut p, _) = quantize_population_with_scale(&g, &t, &QuantOptions::default(), "1", 16000.0).unwrap();
    let lava = trace("lif_lava_cpu_fixed.csv");
    let events: Vec<Vec<i64>> = lava.iter().map(|(x, _, _)| vec![*x]).collect();
    p.inputs[0].latency = 1;
    let lava_spikes: Vec<usize> = (0..lava.len()).filter(|&i| lava[i].2).collect();
    assert_eq!(lava_spikes, vec![461, 511, 711, 761]);

    let (_, spikes) = chip_run(&p, &t, &events);
    let ours: Vec<usize> = (0..spikes.len()).filter(|&i| spikes[i][0]).collect();
    assert_eq!(ours, lava_spikes, "decay_v 164");

    p.compartment.decay_v = PerNeuron::Uniform(163);
    let (v, spikes) = chip_run(&p, &t, &events);
    for (i, (_, lv, ls)) in lava.iter().enumerate() {
        assert_eq!((v[i][0], spikes[i][0]), (*lv, *ls), "step {i}");
    }
}

/// Without a forced scale the search picks the largest scale the registers
/// allow; the threshold and the weight stay exact (the weight is a single
/// value, so a scale mapping it exactly to a mantissa is always found).
#[test]
fn searched_scale_is_exact_for_the_single_neuron() {
    let g = lif_norse();
    let (m, r) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let p = &r.populations[0];
    assert_eq!(m.populations[0].compartment.decay_v, PerNeuron::Uniform(164));
    assert!(p.scale > 1e6, "scale {}", p.scale);
    assert!(p.connections[0].rms_err < 1e-9);
    assert!(p.threshold.as_ref().unwrap().max_rel_err < 1e-5);
    assert!(!p.saturation.overflow_possible);
}
