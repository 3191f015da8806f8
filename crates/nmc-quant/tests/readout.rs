#![allow(clippy::unwrap_used)]
//! Host readouts: a linear op (optionally through the readout synapse)
//! straight into an Output becomes a `QReadout` of chip spikes, with float
//! weights, the folded bias and the lowpass constants; everything that is not
//! such a readout is an error naming the node and the field.

mod common;

use common::*;
use nmc_ir::qmodel::{ReadoutWeights, Source};
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_quant::{
    OutputKind, QuantError, QuantOptions, READOUT_SYNAPSE_KEY, insert_readout_synapse, output_kind, quantize,
};
use std::collections::BTreeMap;

fn if_pop(n: usize) -> Neuron {
    neuron(NeuronModel::If, n, 0.0, 0.0, 1.0, 1.0)
}

/// `input[2] → fc1 → h1 (IF 4) → fc2 → h2 (IF 3) → out_fc (Affine 2, bias) → output`.
fn net() -> Graph {
    let mut b = GraphBuilder::new("ro");
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    let affine = |o: usize, i: usize, bias: Option<Vec<f64>>| Op::Affine {
        weight: tensor(&[o, i], (0..o * i).map(|k| 0.3 + 0.1 * k as f64).collect()),
        bias: bias.map(Tensor::vector),
    };
    b.node("fc1", affine(4, 2, None), BTreeMap::new()).unwrap();
    b.node("h1", Op::Neuron(if_pop(4)), BTreeMap::new()).unwrap();
    b.node("fc2", affine(3, 4, None), BTreeMap::new()).unwrap();
    b.node("h2", Op::Neuron(if_pop(3)), BTreeMap::new()).unwrap();
    b.node("out_fc", affine(2, 3, Some(vec![0.5, -0.25])), BTreeMap::new())
        .unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "fc1")
        .edge("fc1", "h1")
        .edge("h1", "fc2")
        .edge("fc2", "h2")
        .edge("h2", "out_fc")
        .edge("out_fc", "output");
    b.build().unwrap()
}

fn names(e: &QuantError, node: &str, field: &str) {
    let msg = e.to_string();
    assert_eq!(e.node(), Some(node), "{msg}");
    assert_eq!(e.field(), Some(field), "{msg}");
}

#[test]
fn affine_into_output_is_a_host_readout() {
    let g = net();
    let o = g.find("output").unwrap();
    assert_eq!(output_kind(&g, o), OutputKind::Readout { filtered: false });
    for (t, latency) in [(loihi1(), 1), (nmc_target::Target::builtin("tiny").unwrap(), 2)] {
        let (m, rep) = quantize(&g, &t, &QuantOptions::default()).unwrap();
        assert_eq!(m.populations.len(), 2);
        assert!(m.outputs.is_empty());
        let [r] = &m.readouts[..] else {
            panic!("{:?}", m.readouts)
        };
        assert_eq!((r.name.as_str(), r.output.as_str()), ("out_fc", "output"));
        assert_eq!(r.bias, vec![0.5, -0.25]);
        assert!(r.filter.is_none());
        let [c] = &r.inputs[..] else { panic!() };
        assert_eq!(c.source, Source::Population(1));
        assert_eq!(c.latency, latency, "the target's chip → host latency");
        let ReadoutWeights::Dense { out: 2, inp: 3, w } = &c.weights else {
            panic!("{:?}", c.weights)
        };
        // Float weights, not quantized.
        assert_eq!(w, &(0..6).map(|k| 0.3 + 0.1 * k as f64).collect::<Vec<_>>());
        assert_eq!(rep.readouts.len(), 1);
        assert!(rep.to_string().contains("host readouts"), "{rep}");
        // The QModel file keeps the floats exactly.
        let text = nmc_quant::qmodel_to_ron(&m).unwrap();
        assert_eq!(nmc_quant::qmodel_from_ron(&text, "mem").unwrap(), m);
    }
}

#[test]
fn readout_synapse_is_the_lowpass() {
    let g = insert_readout_synapse(&net(), 0.1).unwrap();
    let s = g.find("output.synapse").unwrap();
    assert!(matches!(g.node(s).meta.get(READOUT_SYNAPSE_KEY), Some(Meta::Float(x)) if *x == 0.1));
    assert_eq!(
        output_kind(&g, g.find("output").unwrap()),
        OutputKind::Readout { filtered: true }
    );
    let (m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let r = &m.readouts[0];
    assert_eq!(r.name, "output.synapse");
    let f = r.filter.unwrap();
    assert_eq!(f.tau, 0.1);
    assert_eq!(f.decay, (-1e-3f64 / 0.1).exp());
    assert_eq!(f.gain, -(-1e-3f64 / 0.1).exp_m1());
    // Twice is an error (nothing left to filter), and so is a bad tau.
    assert!(matches!(
        insert_readout_synapse(&g, 0.1),
        Err(QuantError::Option {
            option: "readout_synapse",
            ..
        })
    ));
    assert!(insert_readout_synapse(&net(), -1.0).is_err());
    assert!(insert_readout_synapse(&net(), f64::NAN).is_err());
}

/// The synapse's r and v_leak fold into weights and bias: y = r·(Wx + b) + v_leak.
#[test]
fn synapse_gain_and_leak_fold() {
    let g = insert_readout_synapse(&net(), 0.05).unwrap();
    let mut b = GraphBuilder::new("ro");
    for id in g.node_ids() {
        let n = g.node(id);
        let mut op = n.op.clone();
        if let Op::Neuron(nn) = &mut op
            && n.name == "output.synapse"
        {
            nn.r = vec![2.0, 3.0];
            nn.v_leak = vec![0.125, 0.0];
        }
        b.node(n.name.clone(), op, n.meta.clone()).unwrap();
    }
    for e in g.petgraph().edge_indices() {
        let (a, c) = g.edge_endpoints(e).unwrap();
        b.edge(g.node(a).name.clone(), g.node(c).name.clone());
    }
    let (m, _) = quantize(&b.build().unwrap(), &loihi1(), &QuantOptions::default()).unwrap();
    let r = &m.readouts[0];
    assert_eq!(r.bias, vec![2.0 * 0.5 + 0.125, 3.0 * -0.25]);
    let ReadoutWeights::Dense { w, .. } = &r.inputs[0].weights else {
        panic!()
    };
    assert_eq!(w[0], 2.0 * 0.3);
    assert_eq!(w[3], 3.0 * (0.3 + 0.1 * 3.0));
}

#[test]
fn readout_of_the_host_encoder_is_an_error() {
    // input[1,2,2] → 1×1 conv → enc (host LIF) → flatten → fc → output
    let mut b = GraphBuilder::new("enc");
    b.node(
        "input",
        Op::Input {
            shape: Shape::new([1, 2, 2]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "conv",
        Op::Conv {
            weight: tensor(&[1, 1, 1, 1], vec![1.0]),
            bias: None,
            stride: vec![1, 1],
            padding: vec![0, 0],
            dilation: vec![1, 1],
            groups: 1,
        },
        BTreeMap::new(),
    )
    .unwrap();
    let mut enc = Neuron::neutral(NeuronModel::If, Shape::new([1, 2, 2]));
    enc.v_threshold = vec![1.0; 4];
    b.node("enc", Op::Neuron(enc), BTreeMap::new()).unwrap();
    b.node(
        "flat",
        Op::Flatten {
            start_dim: 0,
            end_dim: 2,
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "fc",
        Op::Affine {
            weight: tensor(&[2, 4], vec![1.0; 8]),
            bias: None,
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "conv")
        .edge("conv", "enc")
        .edge("enc", "flat")
        .edge("flat", "fc")
        .edge("fc", "output");
    let e = quantize(&b.build().unwrap(), &loihi1(), &QuantOptions::default()).unwrap_err();
    names(&e, "fc", "input");
    assert!(e.to_string().contains("host population `enc`"), "{e}");
}

/// A readout synapse feeding a population is a readout in the middle.
#[test]
fn readout_in_the_middle_is_an_error() {
    let g = insert_readout_synapse(&net(), 0.1).unwrap();
    let mut b = GraphBuilder::new("mid");
    for id in g.node_ids() {
        let n = g.node(id);
        if n.name == "output" {
            continue;
        }
        b.node(n.name.clone(), n.op.clone(), n.meta.clone()).unwrap();
    }
    b.node("after", Op::Neuron(if_pop(2)), BTreeMap::new()).unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    for e in g.petgraph().edge_indices() {
        let (a, c) = g.edge_endpoints(e).unwrap();
        if g.node(c).name != "output" {
            b.edge(g.node(a).name.clone(), g.node(c).name.clone());
        }
    }
    b.edge("output.synapse", "after").edge("after", "output");
    let e = quantize(&b.build().unwrap(), &loihi1(), &QuantOptions::default()).unwrap_err();
    names(&e, "output.synapse", "output");
    assert!(e.to_string().contains("`after`"), "{e}");
}

#[test]
fn target_without_chip_to_host_latency_is_an_error() {
    let src = nmc_target::builtin_source("loihi1").unwrap();
    let src = src.replace("host_output_delay_steps: Some(1),", "");
    let t = nmc_target::Target::from_ron_str(&src, "no-readout").unwrap();
    assert_eq!(t.timing().host_output_delay_steps(), None);
    let e = quantize(&net(), &t, &QuantOptions::default()).unwrap_err();
    names(&e, "out_fc", "output");
    assert!(e.to_string().contains("timing.host_output_delay_steps"), "{e}");
}

#[test]
fn non_uniform_synapse_tau_is_an_error() {
    let g = insert_readout_synapse(&net(), 0.1).unwrap();
    let mut b = GraphBuilder::new("ro");
    for id in g.node_ids() {
        let n = g.node(id);
        let mut op = n.op.clone();
        if let Op::Neuron(nn) = &mut op
            && n.name == "output.synapse"
        {
            nn.tau_mem = vec![0.1, 0.2];
        }
        b.node(n.name.clone(), op, n.meta.clone()).unwrap();
    }
    for e in g.petgraph().edge_indices() {
        let (a, c) = g.edge_endpoints(e).unwrap();
        b.edge(g.node(a).name.clone(), g.node(c).name.clone());
    }
    let e = quantize(&b.build().unwrap(), &loihi1(), &QuantOptions::default()).unwrap_err();
    names(&e, "output.synapse", "tau_mem");
}
