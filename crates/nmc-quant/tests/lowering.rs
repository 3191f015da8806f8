#![allow(clippy::unwrap_used, clippy::needless_range_loop)]
//! Lowering: composed chains are exact, encoders and latencies follow the
//! placement rules, outputs, recurrence, and `scale_firing_rates`.

mod common;

use common::*;
use nmc_ir::qmodel::{InputEncoding, Placement, QWeights, Source};
use nmc_ir::{Graph, GraphBuilder, NeuronModel, Op, PoolKind, Shape, Tensor};
use nmc_quant::{EncoderMode, QuantOptions, apply_scale_firing_rates, quantize};
use std::collections::BTreeMap;

fn if_shaped(shape: &[usize]) -> nmc_ir::Neuron {
    let mut n = neuron(NeuronModel::If, shape.iter().product(), 0.0, 0.0, 1.0, 1.0);
    n.shape = Shape::new(shape.to_vec());
    n
}

/// `input[2,4,4] → a (IF) → SumPool 2 → conv 3×3 pad 1 (3 out) → b (IF)`,
/// and `a → Scale(per element) → AvgPool 2 → Flatten → Affine → c (IF)`.
fn pooled_graph() -> Graph {
    let mut b = GraphBuilder::new("pooled");
    let m = BTreeMap::new;
    b.node(
        "input",
        Op::Input {
            shape: Shape::new([2, 4, 4]),
        },
        m(),
    )
    .unwrap();
    b.node("a", Op::Neuron(if_shaped(&[2, 4, 4])), m()).unwrap();
    b.node(
        "pool",
        Op::Pool2d {
            kind: PoolKind::Sum,
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
        },
        m(),
    )
    .unwrap();
    let cw: Vec<f64> = (0..3 * 2 * 9).map(|i| ((i * 37 % 23) as f64 - 11.0) / 10.0).collect();
    b.node(
        "conv",
        Op::Conv {
            weight: tensor(&[3, 2, 3, 3], cw),
            bias: Some(Tensor::vector(vec![0.1, -0.2, 0.3])),
            stride: vec![1, 1],
            padding: vec![1, 1],
            dilation: vec![1, 1],
            groups: 1,
        },
        m(),
    )
    .unwrap();
    b.node("b", Op::Neuron(if_shaped(&[3, 2, 2])), m()).unwrap();
    let sc: Vec<f64> = (0..32).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();
    b.node(
        "scale",
        Op::Scale {
            scale: tensor(&[2, 4, 4], sc),
        },
        m(),
    )
    .unwrap();
    b.node(
        "avg",
        Op::Pool2d {
            kind: PoolKind::Avg,
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
        },
        m(),
    )
    .unwrap();
    b.node(
        "flat",
        Op::Flatten {
            start_dim: 0,
            end_dim: -1,
        },
        m(),
    )
    .unwrap();
    let aw: Vec<f64> = (0..5 * 8).map(|i| ((i * 13 % 17) as f64 - 8.0) / 8.0).collect();
    b.node(
        "fc",
        Op::Affine {
            weight: tensor(&[5, 8], aw),
            bias: None,
        },
        m(),
    )
    .unwrap();
    b.node("c", Op::Neuron(if_shaped(&[5])), m()).unwrap();
    b.node(
        "out_b",
        Op::Output {
            shape: Shape::new([12]),
        },
        m(),
    )
    .unwrap();
    b.node("out_c", Op::Output { shape: Shape::new([5]) }, m()).unwrap();
    b.edge("input", "a")
        .edge("a", "pool")
        .edge("pool", "conv")
        .edge("conv", "b");
    b.edge("a", "scale")
        .edge("scale", "avg")
        .edge("avg", "flat")
        .edge("flat", "fc")
        .edge("fc", "c");
    b.edge("b", "out_b").edge("c", "out_c");
    b.build().unwrap()
}

/// Column `j` of the float map of a chain, by evaluating the ops directly.
fn naive_column(g: &Graph, ops: &[&str], j: usize, src_len: usize) -> Vec<f64> {
    let mut x = vec![0.0; src_len];
    x[j] = 1.0;
    let mut shape: Vec<usize> = g.node(g.find("a").unwrap()).out.shape.dims().to_vec();
    for name in ops {
        let node = g.node(g.find(name).unwrap());
        match &node.op {
            Op::Pool2d {
                kind, kernel, stride, ..
            } => {
                let (c, h, w) = (shape[0], shape[1], shape[2]);
                let (oh, ow) = ((h - kernel[0]) / stride[0] + 1, (w - kernel[1]) / stride[1] + 1);
                let mut y = vec![0.0; c * oh * ow];
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut s = 0.0;
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    s += x[(ch * h + oy * stride[0] + ky) * w + ox * stride[1] + kx];
                                }
                            }
                            if *kind == PoolKind::Avg {
                                s /= (kernel[0] * kernel[1]) as f64;
                            }
                            y[(ch * oh + oy) * ow + ox] = s;
                        }
                    }
                }
                x = y;
                shape = vec![c, oh, ow];
            }
            Op::Conv { weight, padding, .. } => {
                let wd = weight.shape().dims().to_vec();
                let (ci, h, w) = (shape[0], shape[1], shape[2]);
                let (co, k, p) = (wd[0], wd[2], padding[0] as i64);
                let mut y = vec![0.0; co * h * w];
                for o in 0..co {
                    for oy in 0..h {
                        for ox in 0..w {
                            let mut s = 0.0;
                            for c in 0..ci {
                                for ky in 0..k {
                                    for kx in 0..k {
                                        let iy = oy as i64 + ky as i64 - p;
                                        let ix = ox as i64 + kx as i64 - p;
                                        if iy >= 0 && ix >= 0 && iy < h as i64 && ix < w as i64 {
                                            s += weight.data()[((o * ci + c) * k + ky) * k + kx]
                                                * x[(c * h + iy as usize) * w + ix as usize];
                                        }
                                    }
                                }
                            }
                            y[(o * h + oy) * w + ox] = s;
                        }
                    }
                }
                x = y;
                shape = vec![co, h, w];
            }
            Op::Scale { scale } => x.iter_mut().zip(scale.data()).for_each(|(a, b)| *a *= b),
            Op::Flatten { .. } => shape = vec![x.len()],
            Op::Affine { weight, .. } => {
                let d = weight.shape().dims();
                x = (0..d[0])
                    .map(|o| (0..d[1]).map(|i| weight.data()[o * d[1] + i] * x[i]).sum())
                    .collect();
                shape = vec![d[0]];
            }
            other => panic!("unexpected op {other:?}"),
        }
    }
    x
}

#[test]
fn composed_chains_are_exact() {
    let g = pooled_graph();
    let t = loihi1();
    let (m, r) = quantize(&g, &t, &QuantOptions::default()).unwrap();
    assert_eq!(
        m.populations.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    for (k, ops) in [(1usize, vec!["pool", "conv"]), (2, vec!["scale", "avg", "flat", "fc"])] {
        let p = &m.populations[k];
        let conn = &p.inputs[0];
        assert!(matches!(conn.weights, QWeights::Sparse { .. }), "{}", p.name);
        assert_eq!(conn.folded_from, ops.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(conn.source, Source::Population(0));
        assert_eq!(conn.latency, 1);
        let w = weights_int(&conn.weights, conn.weight_exp, &t);
        let wf = t.formats().weight();
        let step = 2.0 * 2f64.powi(wf.scale_shift() as i32 + i32::from(conn.weight_exp));
        for j in 0..32 {
            let col = naive_column(&g, &ops, j, 32);
            for (d, &x) in col.iter().enumerate() {
                let got = w[d][j] as f64;
                let want = p.scale * x;
                assert!(
                    (got - want).abs() <= step / 2.0 + 1e-6,
                    "{} [{d}, {j}]: {got} vs {want}",
                    p.name
                );
            }
        }
        assert!(r.populations[k].connections[0].rms_err < 0.005);
    }
    // The conv bias reaches `b` as its neuron bias: s·r·b per channel.
    let b = &m.populations[1];
    let bias: Vec<i64> = (0..12)
        .map(|i| i64::from(b.compartment.bias_mant.get(i)) << b.compartment.bias_exp.get(i))
        .collect();
    for (i, &x) in bias.iter().enumerate() {
        let want = b.scale * [0.1, -0.2, 0.3][i / 4];
        assert!(
            (x as f64 - want).abs() <= want.abs() / 4000.0 + 0.5,
            "bias {i}: {x} vs {want}"
        );
    }
    // Outputs record populations.
    assert_eq!(m.outputs[0].source, Source::Population(1));
    assert_eq!(m.outputs[1].source, Source::Population(2));
}

#[test]
fn mnist_conv_placement_and_latencies() {
    let g = load(&repo().join("examples/mnist_conv/mnist_conv.nir"));
    let t = loihi1();
    let (m, r) = quantize(&g, &t, &QuantOptions::default()).unwrap();
    assert_eq!(m.inputs[0].encoding, InputEncoding::Real { frac_bits: 8, bits: 16 });
    let place: Vec<Placement> = m.populations.iter().map(|p| p.placement).collect();
    assert_eq!(
        place,
        [Placement::Host, Placement::Chip, Placement::Chip, Placement::Chip]
    );
    let lat: Vec<u32> = m.populations.iter().map(|p| p.inputs[0].latency).collect();
    assert_eq!(lat, [0, 1, 1, 1]);
    let kinds: Vec<&str> = r.populations.iter().map(|p| p.connections[0].layout.as_str()).collect();
    assert_eq!(kinds, ["conv2d", "conv2d", "conv2d", "dense"]);
    assert_eq!(m.outputs[0].source, Source::Population(3));
    assert_eq!(r.totals.host_populations, 1);
    assert_eq!(r.totals.chip_neurons, 3866);

    let none = QuantOptions::default().encoder(EncoderMode::None);
    let (m, r) = quantize(&g, &t, &none).unwrap();
    assert!(is_events(m.inputs[0].encoding));
    assert!(m.populations.iter().all(|p| p.placement == Placement::Chip));
    assert_eq!(m.populations[0].inputs[0].latency, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.layer == "input" && w.parameter == "encoding")
    );
}

#[test]
fn output_of_an_input() {
    let mut b = GraphBuilder::new("t");
    b.node("input", Op::Input { shape: Shape::new([3]) }, BTreeMap::new())
        .unwrap();
    b.node("pop", Op::Neuron(if_shaped(&[3])), BTreeMap::new()).unwrap();
    b.node("o1", Op::Output { shape: Shape::new([3]) }, BTreeMap::new())
        .unwrap();
    b.node("o2", Op::Output { shape: Shape::new([3]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "pop").edge("pop", "o1").edge("input", "o2");
    let (m, _) = quantize(&b.build().unwrap(), &loihi1(), &QuantOptions::default()).unwrap();
    assert_eq!(m.outputs[0].source, Source::Population(0));
    assert_eq!(m.outputs[1].source, Source::Input(0));
    // population → population without ops: a sparse identity.
    assert!(matches!(&m.populations[0].inputs[0].weights, QWeights::Sparse { col, .. } if col == &[0, 1, 2]));
}

/// The Braille RNN: a recurrent CubaLIF layer with biases.
#[test]
fn braille_recurrent_cubalif() {
    let g = load(&fixtures().join("nir-paper/03_rnn/braille_noDelay_bias_zero.nir"));
    let (m, r) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let p = &m.populations[0];
    assert_eq!(p.name, "lif1.lif");
    let mut conns: Vec<(Source, u32)> = p.inputs.iter().map(|c| (c.source, c.latency)).collect();
    conns.sort_by_key(|c| (c.1, matches!(c.0, Source::Input(_))));
    assert_eq!(conns, [(Source::Population(0), 1), (Source::Input(0), 1)]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.layer == "lif1.lif" && w.parameter == "bias" && w.message.contains("steady state"))
    );
    // The typical case (the larger half of the inputs) never overflows.
    for pr in &r.populations {
        if let Some(n) = pr.saturation.events_to_overflow {
            assert!(2 * n > pr.saturation.fan_in_same_sign, "{}: {n}", pr.name);
        }
    }
}

#[test]
fn scale_firing_rates_transforms_the_float_graph() {
    let g = load(&repo().join("examples/mnist_conv/mnist_conv.nir"));
    let s = 4.0;
    let h = apply_scale_firing_rates(&g, s).unwrap();
    assert_eq!(h.node_count(), g.node_count(), "every reader of spikes is weighted");
    for id in g.node_ids() {
        let (a, b) = (&g.node(id).op, &h.node(h.find(&g.node(id).name).unwrap()).op);
        match (a, b) {
            (Op::Neuron(x), Op::Neuron(y)) => assert_eq!(y.r[0], x.r[0] * s),
            (
                Op::Conv {
                    weight: wa, bias: ba, ..
                },
                Op::Conv {
                    weight: wb, bias: bb, ..
                },
            )
            | (Op::Affine { weight: wa, bias: ba }, Op::Affine { weight: wb, bias: bb }) => {
                let f = if g.node(id).name == "enc_conv" { 1.0 } else { 1.0 / s };
                assert_eq!(wb.data()[0], wa.data()[0] * f, "{}", g.node(id).name);
                assert_eq!(ba, bb);
            }
            _ => {}
        }
    }
    // Quantizing with the option equals quantizing the transformed graph.
    let t = loihi1();
    let (m1, r1) = quantize(&g, &t, &QuantOptions::default().scale_firing_rates(s)).unwrap();
    let (m2, _) = quantize(&h, &t, &QuantOptions::default()).unwrap();
    assert_eq!(m1, m2);
    assert_eq!(r1.scale_firing_rates, s);
}

/// A spiking population read directly by another (no weighted op) gets a
/// `Scale(1/S)` amplitude node; the IF rate under constant drive grows S-fold.
#[test]
fn scale_firing_rates_amplitude_node_and_rates() {
    let mut b = GraphBuilder::new("t");
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("a", Op::Neuron(if_shaped(&[2])), BTreeMap::new()).unwrap();
    b.node("b", Op::Neuron(if_shaped(&[2])), BTreeMap::new()).unwrap();
    b.node("out", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "a").edge("a", "b").edge("b", "out");
    let g = b.build().unwrap();
    let h = apply_scale_firing_rates(&g, 3.0).unwrap();
    let amp = h.find("a.amplitude").unwrap();
    assert!(matches!(&h.node(amp).op, Op::Scale { scale } if (scale.data()[0] - 1.0 / 3.0).abs() < 1e-15));
    assert_eq!(h.inputs(h.find("b").unwrap())[0].1, amp);
    assert_eq!(h.meta.get("scale_firing_rates"), Some(&nmc_ir::Meta::Float(3.0)));
    // IF with constant drive 0.01 per step: rate ×3 (up to the staircase).
    let Op::Neuron(a) = &h.node(h.find("a").unwrap()).op else {
        panic!()
    };
    let Op::Neuron(a0) = &g.node(g.find("a").unwrap()).op else {
        panic!()
    };
    let x = vec![vec![0.01, 0.01]; 3000];
    let n0: usize = float_run(a0, 1e-3, false, &x).iter().filter(|s| s[0]).count();
    let n1: usize = float_run(a, 1e-3, false, &x).iter().filter(|s| s[0]).count();
    assert!((n1 as f64 / n0 as f64 - 3.0).abs() < 0.1, "{n0} → {n1}");
    // Quantized: the amplitude is folded into the identity connection.
    let (m, _) = quantize(&h, &loihi1(), &QuantOptions::default()).unwrap();
    assert_eq!(m.populations[1].inputs[0].folded_from, ["a.amplitude"]);
    assert!(apply_scale_firing_rates(&g, -1.0).is_err());
}
