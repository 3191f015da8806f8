#![allow(clippy::unwrap_used)]
//! Property tests: random small dense and conv layers with random time
//! constants and thresholds quantize to values inside the target's formats,
//! every weight within half a mantissa step of its scaled float value.

mod common;

use common::*;
use nmc_ir::qmodel::{Placement, QModel, QWeights};
use nmc_ir::{Discretization, GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_quant::{EncoderMode, QuantOptions, quantize};
use nmc_target::Target;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct Params {
    model: NeuronModel,
    dt: f64,
    euler: bool,
    /// dt/τ_mem and dt/τ_syn.
    k_mem: f64,
    k_syn: f64,
    r: f64,
    w_in: f64,
    thr: Vec<f64>,
    v_leak: f64,
    refractory_steps: u32,
}

fn params(n: usize) -> impl Strategy<Value = Params> {
    (
        prop_oneof![
            Just(NeuronModel::If),
            Just(NeuronModel::Lif),
            Just(NeuronModel::CubaLif)
        ],
        prop_oneof![Just(1e-3), Just(1e-4)],
        any::<bool>(),
        0.02f64..0.9,
        0.02f64..0.9,
        0.5f64..4.0,
        0.5f64..2.0,
        proptest::collection::vec(0.2f64..5.0, n),
        -0.5f64..0.5,
        0u32..5,
    )
        .prop_map(
            |(model, dt, euler, k_mem, k_syn, r, w_in, thr, v_leak, refractory_steps)| Params {
                model,
                dt,
                euler,
                k_mem,
                k_syn,
                r,
                w_in,
                thr,
                v_leak,
                refractory_steps,
            },
        )
}

fn make_neuron(p: &Params, shape: Shape) -> Neuron {
    let n = shape.numel();
    let mut x = Neuron::neutral(p.model, shape);
    if p.model.leaks() {
        x.tau_mem = vec![p.dt / p.k_mem; n];
        x.v_leak = vec![p.v_leak; n];
    }
    if p.model.has_synapse() {
        x.tau_syn = vec![p.dt / p.k_syn; n];
        x.w_in = vec![p.w_in; n];
    }
    x.r = vec![p.r; n];
    x.v_threshold = p.thr.iter().cycle().take(n).copied().collect();
    x.refractory = f64::from(p.refractory_steps) * p.dt;
    x
}

/// Weights in [−2, 2] with some exact zeros and at least one |w| ≥ 0.5.
fn weights(len: usize) -> impl Strategy<Value = Vec<f64>> {
    (
        proptest::collection::vec(prop_oneof![3 => -2.0f64..2.0, 1 => Just(0.0)], len),
        0usize..len,
        0.5f64..2.0,
        any::<bool>(),
    )
        .prop_map(|(mut w, i, big, neg)| {
            w[i] = if neg { -big } else { big };
            w
        })
}

/// Checks every value of population 0 against the target's formats, and
/// the weights against `s·g·W` (`w_float` in the order of the mantissas).
fn check(m: &QModel, t: &Target, p: &Params, w_float: &[f64], factor: f64) {
    m.check().unwrap();
    let f = t.formats();
    let pop = &m.populations[0];
    let n = pop.shape.numel();
    let c = &pop.compartment;
    for i in 0..n {
        assert!(f.threshold().value(i64::from(c.vth_mant.get(i))).is_some());
        assert!(
            f.bias()
                .value(i64::from(c.bias_mant.get(i)), u32::from(c.bias_exp.get(i)))
                .is_some()
        );
        assert!(u32::from(c.decay_u.get(i)) <= f.decay().max());
        assert!(u32::from(c.decay_v.get(i)) <= f.decay().max());
        assert!(u32::from(c.refractory.get(i)) <= f.refractory().max_steps());
    }
    assert!(f.voltage().vmin(u32::from(c.vmin_exp)).is_some());
    assert!(f.voltage().vmax(u32::from(c.vmax_exp)).is_some());
    // The gain the weights were scaled by (chip decays, docs/quantization.md).
    let d = f.decay();
    let gm = if p.model.leaks() {
        f64::from(c.decay_v.get(0)) / d.one() as f64
    } else {
        1.0
    };
    let gs = if p.model.has_synapse() {
        (f64::from(c.decay_u.get(0)) + f64::from(d.u_offset())) / d.one() as f64
    } else {
        1.0
    };
    let w_in = if p.model.has_synapse() { p.w_in } else { 1.0 };
    let g = gm * p.r * gs * w_in;
    let conn = &pop.inputs[0];
    let mant: Vec<i64> = match &conn.weights {
        QWeights::Dense { mant, .. } | QWeights::Conv2d { mant, .. } | QWeights::Sparse { mant, .. } => {
            mant.iter().map(|&x| i64::from(x)).collect()
        }
    };
    assert_eq!(mant.len(), w_float.len());
    let wf = f.weight();
    let e = i32::from(conn.weight_exp);
    let mixed = mant.iter().any(|&x| x > 0) && mant.iter().any(|&x| x < 0);
    let fmixed = w_float.iter().any(|&x| x > 0.0) && w_float.iter().any(|&x| x < 0.0);
    let step = wf.mantissa_step(e, fmixed) as f64 * 2f64.powi(wf.scale_shift() as i32 + e);
    for (&m, &w) in mant.iter().zip(w_float) {
        let wi = wf.weight_int(m, e, mixed);
        assert!(wi.is_some(), "mantissa {m} at exponent {e}");
        let target = pop.scale * g * w * factor;
        let err = (wi.unwrap_or(0) as f64 - target).abs();
        assert!(
            err <= step / 2.0 * (1.0 + 1e-9) + 1e-9,
            "w {w}: w_int {wi:?} vs s·g·w {target} (step {step})"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn dense_layers(
        (n_out, n_in, w, p, bias) in (1usize..6, 1usize..8).prop_flat_map(|(o, i)| {
            (Just(o), Just(i), weights(o * i), params(o), proptest::collection::vec(-0.3f64..0.3, o))
        })
    ) {
        let t = loihi1();
        let mut g = dense_graph(make_neuron(&p, Shape::new([n_out])), w.clone(), Some(bias), p.dt);
        if p.euler {
            g.discretization = Discretization::Euler;
        }
        let _ = n_in;
        let (m, r) = quantize(&g, &t, &QuantOptions::default()).unwrap();
        check(&m, &t, &p, &w, 1.0);
        prop_assert_eq!(r.populations.len(), 1);
        prop_assert!(r.totals.rms_err <= 0.5);
    }

    #[test]
    fn conv_layers(
        (cin, h, wd, cout, k, stride, pad, w, p) in (1usize..3, 3usize..6, 3usize..6, 1usize..4, 1usize..4, 1usize..3, 0usize..2)
            .prop_filter("kernel fits", |(_, h, w, _, k, _, pad)| *k <= h + 2 * pad && *k <= w + 2 * pad)
            .prop_flat_map(|(cin, h, wd, cout, k, stride, pad)| {
                (Just(cin), Just(h), Just(wd), Just(cout), Just(k), Just(stride), Just(pad),
                 weights(cout * cin * k * k), params(1))
            })
    ) {
        let oh = (h + 2 * pad - k) / stride + 1;
        let ow = (wd + 2 * pad - k) / stride + 1;
        let mut b = GraphBuilder::new("conv");
        b.dt(p.dt);
        if p.euler {
            b.discretization(Discretization::Euler);
        }
        b.node("input", Op::Input { shape: Shape::new([cin, h, wd]) }, BTreeMap::new()).unwrap();
        b.node("conv", Op::Conv {
            weight: Tensor::new(Shape::new([cout, cin, k, k]), w.clone()).unwrap(),
            bias: Some(Tensor::vector(vec![0.05; cout])),
            stride: vec![stride, stride],
            padding: vec![pad, pad],
            dilation: vec![1, 1],
            groups: 1,
        }, BTreeMap::new()).unwrap();
        b.node("pop", Op::Neuron(make_neuron(&p, Shape::new([cout, oh, ow]))), BTreeMap::new()).unwrap();
        b.edge("input", "conv").edge("conv", "pop");
        let g = b.build().unwrap();
        let t = loihi1();
        // A 1×1, stride-1, unpadded convolution from an input is a host
        // encoder (EncoderMode::Auto): its weights multiply round(x·2^8).
        // Some draws cannot be represented (found by proptest: a host encoder
        // with weights [0.5, 0], threshold 0.2, r = 0.5: keeping its weight from
        // rounding to zero after the 2^-8 input scale needs a voltage scale 4×
        // beyond vmax); quantize refuses them with a named error, which is
        // right and not this property's subject.
        let res = quantize(&g, &t, &QuantOptions::default());
        prop_assume!(!matches!(&res, Err(nmc_quant::QuantError::Unrepresentable { .. })));
        let (m, _) = res.unwrap();
        let is_conv = matches!(m.populations[0].inputs[0].weights, QWeights::Conv2d { .. });
        prop_assert!(is_conv);
        let host = k == 1 && stride == 1 && pad == 0;
        prop_assert_eq!(m.populations[0].placement == Placement::Host, host);
        check(&m, &t, &p, &w, if host { 1.0 / 256.0 } else { 1.0 });
        let none = QuantOptions::default().encoder(EncoderMode::None);
        let (m, _) = quantize(&g, &t, &none).unwrap();
        prop_assert_eq!(m.populations[0].placement, Placement::Chip);
        check(&m, &t, &p, &w, 1.0);
    }
}
