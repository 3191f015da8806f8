#![allow(clippy::unwrap_used)]
//! The neuron algebra pinned by hand-computed integers, and the chip's
//! integer step driven by the quantized parameters firing like the float
//! neurons.

mod common;

use common::*;
use nmc_ir::NeuronModel;
use nmc_ir::qmodel::{PerNeuron, QWeights};
use nmc_quant::{QuantOptions, quantize};

fn mant(w: &QWeights) -> Vec<i16> {
    match w {
        QWeights::Dense { mant, .. } | QWeights::Conv2d { mant, .. } | QWeights::Sparse { mant, .. } => mant.clone(),
    }
}

/// LIF, τ = 20 ms, dt = 1 ms (exact), r = 2, v_leak = 0.1, θ = 1.5,
/// refractory 2 ms, one weight 0.5, forced s = 2^16:
///
/// - γ_m = 1 − e^{−0.05} = 0.0487706 → decay_v = round(4096·γ_m) = round(199.764) = 200
/// - decay_u = 4095 (no synapse: u = q)
/// - γ_m' = 200/4096 = 0.048828125; g = γ_m'·r = 0.09765625
/// - w_int = s·g·0.5 = 3200 = 200·2^(6−2) → (w_mant 200, weight_exp −2) (single-sign:
///   at exp −2 the step is 4, 3200/16 = 200 is a multiple of 4; exp −3 would need 400 > 255)
/// - vth = s·1.5 = 98304 = 1536·2^6
/// - bias = s·γ_m'·v_leak = 320 → (320, 0)
/// - refractory: 2 steps held → stored 3 (the chip decrements in the spike's step)
#[test]
fn lif_integers_by_hand() {
    let mut n = neuron(NeuronModel::Lif, 1, 20e-3, 0.0, 2.0, 1.5);
    n.v_leak = vec![0.1];
    n.refractory = 2e-3;
    let g = dense_graph(n, vec![0.5], None, 1e-3);
    let opts = QuantOptions::default().force_scale("pop", 65536.0);
    let (m, r) = quantize(&g, &loihi1(), &opts).unwrap();
    let p = &m.populations[0];
    let c = &p.compartment;
    assert_eq!(c.decay_v, PerNeuron::Uniform(200));
    assert_eq!(c.decay_u, PerNeuron::Uniform(4095));
    assert_eq!(c.vth_mant, PerNeuron::Uniform(1536));
    assert_eq!(c.bias_mant, PerNeuron::Uniform(320));
    assert_eq!(c.bias_exp, PerNeuron::Uniform(0));
    assert_eq!(c.refractory, PerNeuron::Uniform(3));
    assert_eq!(p.inputs[0].weight_exp, -2);
    assert_eq!(mant(&p.inputs[0].weights), vec![200]);
    assert_eq!(p.scale, 65536.0);
    assert_eq!(r.populations[0].scale_rule, "forced");
    // The widest voltage bounds of loihi1.
    assert_eq!((c.vmin_exp, c.vmax_exp), (31, 7));
    // Events input → chip: the host latency (loihi1: 1 step).
    assert_eq!(p.inputs[0].latency, 1);
}

/// IF, r = 0.5, θ = 1, weights [0.8, −0.4], bias 0.05, forced s = 2^14:
///
/// - s·r·W = [6553.6, −3276.8]; mixed sign. At exp −1 the unit is 32 and the
///   step 2: 204.8 → 204, −102.4 → −102 (exp −2 would need 409.6 > 254)
/// - vth = 2^14 = 256·2^6; bias = s·r·b = 409.6 → 410; decay_v 0, decay_u 4095
#[test]
fn if_integers_by_hand() {
    let n = neuron(NeuronModel::If, 1, 0.0, 0.0, 0.5, 1.0);
    let g = dense_graph(n, vec![0.8, -0.4], Some(vec![0.05]), 1e-3);
    let opts = QuantOptions::default().force_scale("pop", 16384.0);
    let (m, _) = quantize(&g, &loihi1(), &opts).unwrap();
    let p = &m.populations[0];
    let c = &p.compartment;
    assert_eq!(p.inputs[0].weight_exp, -1);
    assert_eq!(mant(&p.inputs[0].weights), vec![204, -102]);
    assert_eq!(c.vth_mant, PerNeuron::Uniform(256));
    assert_eq!((c.bias_mant.get(0), c.bias_exp.get(0)), (410, 0));
    assert_eq!((c.decay_v.get(0), c.decay_u.get(0)), (0, 4095));
}

/// CubaLIF, τ_syn = 5 ms, τ_mem = 10 ms, dt = 1 ms (exact), r = 1,
/// w_in = 2, θ = 1, one weight 1.0, forced s = 2^20:
///
/// - γ_s = 1 − e^{−0.2} = 0.181269 → round(742.479) = 742 → stored decay_u 741 (chip adds 1)
/// - γ_m = 1 − e^{−0.1} = 0.095163 → round(389.786) = 390 = decay_v
/// - g = (390/4096)·1·(742/4096)·2 = 578760/2^24; s·g = 36172.5
/// - single-sign: exp 1 needs 36172.5/128 = 282.6 > 255.5; exp 2: 141.3 → 141 (w_int 36096)
/// - vth = 2^20 = 16384·2^6
#[test]
fn cubalif_integers_by_hand() {
    let mut n = neuron(NeuronModel::CubaLif, 1, 10e-3, 5e-3, 1.0, 1.0);
    n.w_in = vec![2.0];
    let g = dense_graph(n, vec![1.0], None, 1e-3);
    let opts = QuantOptions::default().force_scale("pop", 1048576.0);
    let (m, _) = quantize(&g, &loihi1(), &opts).unwrap();
    let p = &m.populations[0];
    let c = &p.compartment;
    assert_eq!(c.decay_u, PerNeuron::Uniform(741));
    assert_eq!(c.decay_v, PerNeuron::Uniform(390));
    assert_eq!(p.inputs[0].weight_exp, 2);
    assert_eq!(mant(&p.inputs[0].weights), vec![141]);
    assert_eq!(c.vth_mant, PerNeuron::Uniform(16384));
}

/// Euler discretization: decays from `γ = dt/τ`.
#[test]
fn euler_decays() {
    let n = neuron(NeuronModel::CubaLif, 1, 10e-3, 4e-3, 1.0, 1.0);
    let mut g = dense_graph(n, vec![1.0], None, 1e-3);
    g.discretization = nmc_ir::Discretization::Euler;
    let (m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let c = &m.populations[0].compartment;
    // 4096·0.1 = 409.6 → 410; 4096·0.25 = 1024 → stored 1023.
    assert_eq!(c.decay_v.get(0), 410);
    assert_eq!(c.decay_u.get(0), 1023);
}

/// Spike counts of the float neuron and of the chip step with the searched
/// integers agree under a constant spike input (one event per step).
fn rates_match(model: NeuronModel, tau_mem: f64, tau_syn: f64, w: f64, bias: Option<f64>, refractory: f64) {
    let mut n = neuron(model, 1, tau_mem, tau_syn, 1.0, 1.0);
    n.refractory = refractory;
    let g = dense_graph(n.clone(), vec![w], bias.map(|b| vec![b]), 1e-3);
    let t = loihi1();
    let (m, _) = quantize(&g, &t, &QuantOptions::default()).unwrap();
    let steps = 3000;
    let events = vec![vec![1i64]; steps];
    let (_, spikes) = chip_run(&m.populations[0], &t, &events);
    let chip: usize = spikes.iter().filter(|s| s[0]).count();
    let x = vec![vec![w + bias.unwrap_or(0.0)]; steps];
    let float: usize = float_run(&n, 1e-3, false, &x).iter().filter(|s| s[0]).count();
    let tol = 2.max(float / 100);
    assert!(
        chip.abs_diff(float) <= tol,
        "{model:?}: float {float} spikes, chip {chip} spikes in {steps} steps"
    );
    assert!(
        float > 50,
        "{model:?}: the test input should make the neuron fire ({float})"
    );
}

#[test]
fn if_fires_like_float() {
    rates_match(NeuronModel::If, 0.0, 0.0, 0.13, None, 0.0);
    rates_match(NeuronModel::If, 0.0, 0.0, 0.3, Some(-0.07), 0.0);
}

#[test]
fn lif_fires_like_float() {
    rates_match(NeuronModel::Lif, 20e-3, 0.0, 1.5, None, 0.0);
    rates_match(NeuronModel::Lif, 5e-3, 0.0, 1.2, Some(0.1), 2e-3);
}

#[test]
fn cubalif_fires_like_float() {
    rates_match(NeuronModel::CubaLif, 20e-3, 5e-3, 1.5, None, 0.0);
    rates_match(NeuronModel::CubaLif, 10e-3, 2e-3, 1.3, Some(0.2), 0.0);
}
