//! The on/off encoder transform: structure, re-weighting, host placement,
//! and the errors for inputs it cannot serve.
#![allow(clippy::unwrap_used)]

use nmc_ir::{GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_quant::{EncoderMode, QuantOptions, insert_onoff_encoder, quantize};

fn conv_net() -> nmc_ir::Graph {
    let mut g = GraphBuilder::new("t");
    g.node(
        "in",
        Op::Input {
            shape: Shape::new([2, 4, 4]),
        },
        Default::default(),
    )
    .unwrap();
    let w: Vec<f64> = (0..3 * 2 * 9).map(|k| (k as f64 * 0.37).sin()).collect();
    g.node(
        "conv",
        Op::Conv {
            weight: Tensor::new(Shape::new([3, 2, 3, 3]), w).unwrap(),
            bias: None,
            stride: vec![1, 1],
            padding: vec![1, 1],
            dilation: vec![1, 1],
            groups: 1,
        },
        Default::default(),
    )
    .unwrap();
    g.node(
        "lif",
        Op::Neuron(Neuron::neutral(NeuronModel::If, Shape::new([3, 4, 4]))),
        Default::default(),
    )
    .unwrap();
    g.node(
        "out",
        Op::Output {
            shape: Shape::new([3, 4, 4]),
        },
        Default::default(),
    )
    .unwrap();
    g.edge("in", "conv").edge("conv", "lif").edge("lif", "out");
    g.build().unwrap()
}

#[test]
fn inserts_a_host_encoder_and_doubles_the_readers_weights() {
    let g = conv_net();
    let e = insert_onoff_encoder(&g).unwrap();
    let enc = e.find("in.onoff").unwrap();
    assert_eq!(e.node(enc).out.shape, Shape::new([4, 4, 4]));
    let conv = e.find("conv").unwrap();
    let (Op::Conv { weight: w0, .. }, Op::Conv { weight: w1, .. }) =
        (&g.node(g.find("conv").unwrap()).op, &e.node(conv).op)
    else {
        panic!("conv changed kind")
    };
    assert_eq!(w1.shape().dims(), &[3, 4, 3, 3]);
    // Output channel 1: on channels carry W, off channels −W.
    let per = 2 * 9;
    for k in 0..per {
        assert_eq!(w1.data()[per * 2 + k], w0.data()[per + k]);
        assert_eq!(w1.data()[per * 2 + per + k], -w0.data()[per + k]);
    }
    assert!(nmc_ir::verify(&e).is_ok());
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    let (q, _) = quantize(&g, &t, &QuantOptions::default().encoder(EncoderMode::OnOff)).unwrap();
    let host: Vec<&str> = q
        .populations
        .iter()
        .filter(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(host, ["in.onoff"]);
}

#[test]
fn a_flat_input_or_an_unsupported_reader_is_an_error() {
    let mut g = GraphBuilder::new("flat");
    g.node("in", Op::Input { shape: Shape::new([5]) }, Default::default())
        .unwrap();
    g.node(
        "lif",
        Op::Neuron(Neuron::neutral(NeuronModel::If, Shape::new([5]))),
        Default::default(),
    )
    .unwrap();
    g.edge("in", "lif");
    let e = insert_onoff_encoder(&g.build().unwrap()).unwrap_err().to_string();
    assert!(e.contains("in") && e.contains("[C, H, W]"), "{e}");
    let mut g = GraphBuilder::new("pool");
    g.node(
        "in",
        Op::Input {
            shape: Shape::new([1, 4, 4]),
        },
        Default::default(),
    )
    .unwrap();
    g.node(
        "pool",
        Op::Pool2d {
            kind: nmc_ir::PoolKind::Sum,
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
        },
        Default::default(),
    )
    .unwrap();
    g.node(
        "lif",
        Op::Neuron(Neuron::neutral(NeuronModel::If, Shape::new([1, 2, 2]))),
        Default::default(),
    )
    .unwrap();
    g.edge("in", "pool").edge("pool", "lif");
    let e = insert_onoff_encoder(&g.build().unwrap()).unwrap_err().to_string();
    assert!(e.contains("pool") && e.contains("sumpool2d"), "{e}");
}
