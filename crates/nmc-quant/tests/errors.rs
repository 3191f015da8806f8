#![allow(clippy::unwrap_used)]
//! Everything loihi1 cannot run is an error naming the node and the field.

mod common;

use common::*;
use nmc_ir::{GraphBuilder, NeuronModel, Op, ResetMode, Shape, Tensor};
use nmc_quant::{QuantError, QuantOptions, quantize};
use std::collections::BTreeMap;

fn err(g: &nmc_ir::Graph) -> QuantError {
    quantize(g, &loihi1(), &QuantOptions::default()).unwrap_err()
}

/// The error names `node` and `field`, in its accessors and its message.
fn names(e: &QuantError, node: &str, field: &str) {
    let msg = e.to_string();
    assert_eq!(e.node(), Some(node), "{msg}");
    assert_eq!(e.field(), Some(field), "{msg}");
    assert!(msg.contains(&format!("node `{node}`")) && msg.contains(field), "{msg}");
}

fn if_pop(n: usize) -> nmc_ir::Neuron {
    neuron(NeuronModel::If, n, 0.0, 0.0, 1.0, 1.0)
}

#[test]
fn subtractive_reset() {
    let mut n = neuron(NeuronModel::Lif, 2, 10e-3, 0.0, 1.0, 1.0);
    n.reset = ResetMode::Subtract;
    let e = err(&dense_graph(n, vec![1.0, 0.5], None, 1e-3));
    names(&e, "pop", "reset");
    assert!(e.to_string().contains("Zero"), "{e}");
}

#[test]
fn nonzero_v_reset() {
    let mut n = if_pop(1);
    n.v_reset = vec![0.25];
    let e = err(&dense_graph(n, vec![1.0], None, 1e-3));
    names(&e, "pop", "v_reset");
    assert!(e.to_string().contains("0.25"), "{e}");
}

/// The bundled Sinabs export stores v_reset = 1 (examples/nmnist_cnn/README.md).
#[test]
fn nmnist_example_resets_to_one() {
    let g = load(&repo().join("examples/nmnist_cnn/cnn_sinabs.nir"));
    names(&err(&g), "1", "v_reset");
}

#[test]
fn li_readout() {
    let n = neuron(NeuronModel::Li, 3, 10e-3, 0.0, 1.0, 1.0);
    let e = err(&dense_graph(n, vec![1.0; 6], None, 1e-3));
    names(&e, "pop", "model");
    let m = e.to_string();
    assert!(
        m.contains("LI") && m.contains("non-spiking") && m.contains("If, Lif, CubaLif"),
        "{m}"
    );
}

fn chain(ops: Vec<(&str, Op)>, out_shape: usize) -> nmc_ir::Graph {
    let mut b = GraphBuilder::new("t");
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    let mut prev = "input".to_string();
    for (name, op) in ops {
        b.node(name, op, BTreeMap::new()).unwrap();
        b.edge(prev.clone(), name);
        prev = name.to_string();
    }
    b.node(
        "output",
        Op::Output {
            shape: Shape::new([out_shape]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.edge(prev, "output");
    b.build().unwrap()
}

fn affine(out: usize, inp: usize) -> Op {
    Op::Affine {
        weight: tensor(&[out, inp], (0..out * inp).map(|i| 0.1 + i as f64 * 0.1).collect()),
        bias: None,
    }
}

#[test]
fn delay() {
    let g = chain(
        vec![
            (
                "d",
                Op::Delay {
                    delay: Tensor::scalar(2e-3),
                },
            ),
            ("fc", affine(2, 2)),
            ("pop", Op::Neuron(if_pop(2))),
        ],
        2,
    );
    let e = err(&g);
    names(&e, "d", "op");
    assert!(e.to_string().contains("Delay"), "{e}");
}

#[test]
fn threshold_op() {
    let g = chain(
        vec![
            (
                "th",
                Op::Threshold {
                    threshold: Tensor::scalar(0.5),
                },
            ),
            ("fc", affine(2, 2)),
            ("pop", Op::Neuron(if_pop(2))),
        ],
        2,
    );
    names(&err(&g), "th", "op");
}

/// An Affine straight into an Output reading the input (no chip spikes) is
/// no readout: the error names the op and its input.
#[test]
fn affine_into_output_from_the_input() {
    let g = chain(vec![("readout", affine(3, 2))], 3);
    let e = err(&g);
    names(&e, "readout", "input");
    assert!(e.to_string().contains("spikes of chip populations"), "{e}");
}

#[test]
fn conv1d() {
    let mut b = GraphBuilder::new("t");
    b.node(
        "input",
        Op::Input {
            shape: Shape::new([1, 8]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "c1",
        Op::Conv {
            weight: tensor(&[2, 1, 3], vec![0.5, -0.5, 0.25, 1.0, 0.1, 0.2]),
            bias: None,
            stride: vec![1],
            padding: vec![0],
            dilation: vec![1],
            groups: 1,
        },
        BTreeMap::new(),
    )
    .unwrap();
    let mut n = if_pop(12);
    n.shape = Shape::new([2, 6]);
    b.node("pop", Op::Neuron(n), BTreeMap::new()).unwrap();
    b.edge("input", "c1").edge("c1", "pop");
    let e = err(&b.build().unwrap());
    names(&e, "c1", "op");
    assert!(e.to_string().contains("1-d convolution"), "{e}");
}

/// One connection's weights are 10^12 times smaller than the other's: at
/// any scale the large one fits, the small one rounds to zero entirely.
#[test]
fn whole_layer_rounds_to_zero() {
    let mut b = GraphBuilder::new("t");
    b.node("a", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("b", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("fa", affine(2, 2), BTreeMap::new()).unwrap();
    b.node(
        "fb",
        Op::Affine {
            weight: tensor(&[2, 2], vec![1e-12, -2e-12, 3e-12, 1e-12]),
            bias: None,
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node("pop", Op::Neuron(if_pop(2)), BTreeMap::new()).unwrap();
    b.edge("a", "fa").edge("b", "fb").edge("fa", "pop").edge("fb", "pop");
    let e = err(&b.build().unwrap());
    names(&e, "pop", "weight");
    let m = e.to_string();
    assert!(m.contains("rounding to zero") && m.contains("`fb`"), "{m}");
}

/// A forced scale too small for any weight: every weight rounds to zero.
#[test]
fn forced_scale_rounds_every_weight_to_zero() {
    let g = dense_graph(if_pop(2), vec![0.1, -0.2, 0.3, 0.05], None, 1e-3);
    let e = quantize(&g, &loihi1(), &QuantOptions::default().force_scale("pop", 1.0)).unwrap_err();
    names(&e, "pop", "weight");
    assert!(e.to_string().contains("rounding to zero"), "{e}");
}

#[test]
fn threshold_mantissa_would_be_zero() {
    let g = dense_graph(neuron(NeuronModel::If, 1, 0.0, 0.0, 1.0, 1e-9), vec![1.0], None, 1e-3);
    let e = err(&g);
    names(&e, "pop", "v_threshold");
    assert!(e.to_string().contains("non-zero threshold mantissa"), "{e}");
}

#[test]
fn threshold_mantissa_over_range() {
    let g = dense_graph(neuron(NeuronModel::If, 1, 0.0, 0.0, 1.0, 1e9), vec![1.0], None, 1e-3);
    let e = err(&g);
    names(&e, "pop", "v_threshold");
    assert!(e.to_string().contains("131071"), "{e}");
}

#[test]
fn threshold_not_positive() {
    let g = dense_graph(neuron(NeuronModel::If, 1, 0.0, 0.0, 1.0, -0.5), vec![1.0], None, 1e-3);
    names(&err(&g), "pop", "v_threshold");
}

#[test]
fn bias_over_range() {
    let g = dense_graph(if_pop(1), vec![1.0], Some(vec![1e9]), 1e-3);
    let e = err(&g);
    names(&e, "pop", "bias");
    assert!(e.to_string().contains("4095"), "{e}");
}

#[test]
fn refractory_over_range() {
    let mut n = if_pop(1);
    n.refractory = 0.1;
    let e = err(&dense_graph(n, vec![1.0], None, 1e-3));
    names(&e, "pop", "refractory");
    assert!(e.to_string().contains("100 steps"), "{e}");
}

/// A real input cannot also feed a chip population.
#[test]
fn real_input_read_by_chip() {
    let mut b = GraphBuilder::new("t");
    b.node(
        "input",
        Op::Input {
            shape: Shape::new([1, 2, 2]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "enc_conv",
        Op::Conv {
            weight: tensor(&[1, 1, 1, 1], vec![2.0]),
            bias: None,
            stride: vec![1, 1],
            padding: vec![0, 0],
            dilation: vec![1, 1],
            groups: 1,
        },
        BTreeMap::new(),
    )
    .unwrap();
    let mut enc = if_pop(4);
    enc.shape = Shape::new([1, 2, 2]);
    b.node("enc", Op::Neuron(enc.clone()), BTreeMap::new()).unwrap();
    b.node("other", Op::Neuron(enc), BTreeMap::new()).unwrap();
    b.edge("input", "enc_conv")
        .edge("enc_conv", "enc")
        .edge("input", "other");
    let e = err(&b.build().unwrap());
    names(&e, "input", "encoding");
}

#[test]
fn bad_options() {
    let g = dense_graph(if_pop(1), vec![1.0], None, 1e-3);
    let t = loihi1();
    let o = QuantOptions::default().scale_firing_rates(0.0);
    assert!(
        quantize(&g, &t, &o)
            .unwrap_err()
            .to_string()
            .contains("scale_firing_rates")
    );
    let o = QuantOptions::default().input_format(16, 16);
    assert!(
        quantize(&g, &t, &o)
            .unwrap_err()
            .to_string()
            .contains("input_frac_bits")
    );
    let o = QuantOptions::default().force_scale("nope", 2.0);
    assert!(quantize(&g, &t, &o).unwrap_err().to_string().contains("`nope`"));
}
