//! `compile::compile` on graphs built here: a sigma-delta chain marked by
//! node metadata (graded payloads through a Dense), and bad graphs whose
//! errors name the node and the field.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;

use ndarray::Array2;
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_loihi2::net::{Kind, SignMode};
use nmc_loihi2::{Chip, Input, Net, compile, emu};

fn chip() -> Chip {
    Chip::builtin("loihi2").unwrap()
}

fn affine(out: usize, inp: usize, f: impl Fn(usize, usize) -> f64, bias: Option<Vec<f64>>) -> Op {
    let w: Vec<f64> = (0..out * inp).map(|k| f(k / inp, k % inp)).collect();
    Op::Affine {
        weight: Tensor::new(Shape::new([out, inp]), w).unwrap(),
        bias: bias.map(|b| Tensor::new(Shape::new([out]), b).unwrap()),
    }
}

fn sd_meta(spike_exp: i64, state_exp: i64, vth: i64) -> BTreeMap<String, Meta> {
    BTreeMap::from([
        ("loihi2_neuron".to_string(), Meta::Str("sigma_delta".into())),
        ("spike_exp".to_string(), Meta::Int(spike_exp)),
        ("state_exp".to_string(), Meta::Int(state_exp)),
        ("vth".to_string(), Meta::Int(vth)),
        ("act_mode".to_string(), Meta::Str("relu".into())),
    ])
}

/// Input(4) → fc1 → sd1 (sigma-delta) → fc2 → sd2 (sigma-delta).
fn sd_chain() -> Graph {
    let mut b = GraphBuilder::new("sd_chain");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([4]) }, BTreeMap::new())
        .unwrap();
    b.node(
        "fc1",
        affine(3, 4, |i, j| 0.5 + 0.25 * ((i + j) % 3) as f64, None),
        BTreeMap::new(),
    )
    .unwrap();
    let n = |k| Op::Neuron(Neuron::neutral(NeuronModel::I, Shape::new([k])));
    b.node("sd1", n(3), sd_meta(6, 2, 1)).unwrap();
    b.node(
        "fc2",
        affine(
            2,
            3,
            |i, j| if (i + j) % 2 == 0 { 1.0 } else { -0.5 },
            Some(vec![2.0, 0.0]),
        ),
        BTreeMap::new(),
    )
    .unwrap();
    b.node("sd2", n(2), sd_meta(6, 0, 1)).unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "fc1")
        .edge("fc1", "sd1")
        .edge("sd1", "fc2")
        .edge("fc2", "sd2")
        .edge("sd2", "output");
    b.build().unwrap()
}

#[test]
fn sigma_delta_chain_compiles_and_runs() {
    let (net, rep) = compile::compile(&sd_chain(), &chip()).unwrap();
    eprintln!("{rep}");
    let kind = |name: &str| net.processes()[net.index_of(name).unwrap()].kind.clone();
    let Kind::SigmaDelta(sd1) = kind("sd1") else {
        panic!("sd1 is {:?}", kind("sd1"))
    };
    assert_eq!((sd1.spike_exp, sd1.state_exp, sd1.vth), (6, 2, 1));
    let Kind::SigmaDelta(sd2) = kind("sd2") else { panic!() };
    assert_eq!(sd2.bias, vec![2, 0], "the Affine bias becomes the SigmaDelta bias");
    // fc1 reads the input's Delta encoder (payload 1 = float 1): weight units
    // 2^(6+2) per float unit (0.5 → 128 → 128 << 0); fc2 reads sd1's payloads (2^6 per float unit) into
    // sd2's act (2^6 per float unit): weights 1.0 → 1, −0.5 → −0.5 as 8-bit
    // mantissas << a negative exponent.
    let Kind::Dense(fc1) = kind("fc1") else { panic!() };
    assert!(fc1.num_message_bits > 0, "the input reaches sd1 through a Delta");
    let Kind::Delta(enc) = kind("input:delta") else {
        panic!()
    };
    assert_eq!((enc.vth, enc.spike_exp, enc.state_exp), (0, 0, 0));
    assert_eq!(fc1.sign_mode, SignMode::Excitatory);
    assert_eq!((fc1.weights[0] as f64) * 2f64.powi(fc1.weight_exp), 128.0);
    let Kind::Dense(fc2) = kind("fc2") else { panic!() };
    assert!(fc2.num_message_bits > 0, "sd1 sends graded payloads");
    assert_eq!(fc2.sign_mode, SignMode::Mixed);
    assert_eq!((fc2.weights[0] as f64) * 2f64.powi(fc2.weight_exp), 1.0);
    assert_eq!((fc2.weights[1] as f64) * 2f64.powi(fc2.weight_exp), -0.5);
    // Constant input on channels 0 and 2: sd1's act settles at (W·x)·2^8,
    // and sd2's at relu(W2·act1 + b)·2^6 (tests/sigma_delta_float.rs checks
    // the values).
    let steps = 12;
    let mut data = Array2::<i32>::zeros((4, steps));
    for t in 0..steps {
        data[[0, t]] = 1;
        data[[2, t]] = 1;
    }
    let rec = emu::run(&chip(), &net, &Input::single(data), steps).unwrap();
    let s1 = rec.get("sd1.s_out").unwrap();
    let s2 = rec.get("sd2.s_out").unwrap();
    assert!(s1.data.iter().any(|&v| v != 0) && s2.data.iter().any(|&v| v != 0));
    assert!(s1.data.iter().any(|&v| v > 1), "payloads are graded");
    let act2 = rec.get("sd2.act").unwrap();
    eprintln!("sd2.act per step: {:?}", act2.data);
    assert_eq!(act2.row(5), act2.row(steps - 1), "sd2 settles on a held input");
    // A round trip through Lava JSON keeps the sigma-delta arguments.
    assert_eq!(
        Net::from_lava_json(&chip(), &net.to_lava_json(), "sd.json").unwrap(),
        net
    );
}

fn lif_graph(edit: impl FnOnce(&mut Neuron, &mut BTreeMap<String, Meta>)) -> Result<Graph, nmc_ir::BuildError> {
    let mut b = GraphBuilder::new("bad");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())?;
    b.node("fc", affine(3, 2, |_, _| 1.0, None), BTreeMap::new())?;
    let mut n = Neuron::neutral(NeuronModel::Lif, Shape::new([3]));
    n.tau_mem = vec![0.01; 3];
    let mut meta = BTreeMap::new();
    edit(&mut n, &mut meta);
    b.node("pop", Op::Neuron(n), meta)?;
    b.edge("input", "fc").edge("fc", "pop");
    b.build()
}

fn error(g: &Graph) -> compile::CompileError {
    let e = compile::compile(g, &chip()).unwrap_err();
    eprintln!("{e}");
    e
}

#[test]
fn bad_graphs_name_node_and_field() {
    assert!(compile::compile(&lif_graph(|_, _| {}).unwrap(), &chip()).is_ok());
    let e = error(&lif_graph(|n, _| n.refractory = 2e-3).unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "refractory"));
    let e = error(&lif_graph(|n, _| n.model = NeuronModel::Li).unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "model"));
    let e = error(&lif_graph(|n, _| n.v_threshold[1] = 0.0).unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "v_threshold[1]"));
    let e = error(
        &lif_graph(|_, m| {
            m.insert("loihi2_neuron".into(), Meta::Str("izhikevich".into()));
        })
        .unwrap(),
    );
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "metadata.loihi2_neuron"));
    let e = error(
        &lif_graph(|_, m| {
            m.insert("loihi2_neuron".into(), Meta::Str("sigma_delta".into()));
            m.insert("spike_exp".into(), Meta::Int(9));
        })
        .unwrap(),
    );
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "metadata.spike_exp"));
    let e = error(
        &lif_graph(|_, m| {
            m.insert("loihi2_neuron".into(), Meta::Str("sigma_delta".into()));
            m.insert("act_mode".into(), Meta::Float(1.0));
        })
        .unwrap(),
    );
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "metadata.act_mode"));
    // Weights far too large for the threshold.
    let e = error(&lif_graph(|n, _| n.v_threshold = vec![1e-12; 3]).unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("pop", "v_threshold"));
}

#[test]
fn unsupported_ops_and_wiring_name_the_node() {
    // A Delay between the Affine and the population.
    let mut b = GraphBuilder::new("delay");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("fc", affine(2, 2, |_, _| 1.0, None), BTreeMap::new()).unwrap();
    b.node(
        "d",
        Op::Delay {
            delay: Tensor::new(Shape::new([1]), vec![2e-3]).unwrap(),
        },
        BTreeMap::new(),
    )
    .unwrap();
    let mut n = Neuron::neutral(NeuronModel::If, Shape::new([2]));
    n.v_threshold = vec![1.0; 2];
    b.node("pop", Op::Neuron(n), BTreeMap::new()).unwrap();
    b.edge("input", "fc").edge("fc", "d").edge("d", "pop");
    let e = error(&b.build().unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("d", "op"));
    // A linear readout (Affine → Output).
    let mut b = GraphBuilder::new("readout");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("fc", affine(2, 2, |_, _| 1.0, None), BTreeMap::new()).unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "fc").edge("fc", "output");
    let e = error(&b.build().unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("fc", "output"));
    assert!(e.message.contains("`output` (output)"), "{e}");
    // A sigma-delta population feeding a LIF.
    let mut b = GraphBuilder::new("sd_to_lif");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.node("fc", affine(2, 2, |_, _| 1.0, None), BTreeMap::new()).unwrap();
    b.node(
        "sd",
        Op::Neuron(Neuron::neutral(NeuronModel::I, Shape::new([2]))),
        sd_meta(0, 0, 1),
    )
    .unwrap();
    b.node("fc2", affine(2, 2, |_, _| 1.0, None), BTreeMap::new()).unwrap();
    let mut n = Neuron::neutral(NeuronModel::If, Shape::new([2]));
    n.v_threshold = vec![1.0; 2];
    b.node("pop", Op::Neuron(n), BTreeMap::new()).unwrap();
    b.edge("input", "fc")
        .edge("fc", "sd")
        .edge("sd", "fc2")
        .edge("fc2", "pop");
    let e = error(&b.build().unwrap());
    assert_eq!((e.node.as_str(), e.field.as_str()), ("fc2", "input"));
}

/// A population fed by the input without weights gets an identity Dense;
/// an IF population has dv = 0 and fires once per `θ / w` input events.
#[test]
fn direct_input_gets_an_identity_dense() {
    let mut b = GraphBuilder::new("direct");
    b.dt(1e-3);
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    let mut n = Neuron::neutral(NeuronModel::If, Shape::new([2]));
    n.v_threshold = vec![2.5, 0.5];
    b.node("pop", Op::Neuron(n), BTreeMap::new()).unwrap();
    b.edge("input", "pop");
    let g = b.build().unwrap();
    let (net, rep) = compile::compile(&g, &chip()).unwrap();
    eprintln!("{rep}");
    let Kind::Dense(d) = &net.processes()[net.index_of("input->pop").unwrap()].kind else {
        panic!()
    };
    assert_eq!((d.weights[1], d.weights[2]), (0, 0));
    let Kind::Lif(l) = &net.processes()[net.index_of("pop").unwrap()].kind else {
        panic!()
    };
    assert_eq!((l.du, l.dv), (4095, 0));
    let steps = 30;
    let data = Array2::<i32>::ones((2, steps));
    let rec = emu::run(&chip(), &net, &Input::single(data), steps).unwrap();
    let s = &rec.get("pop.s_out").unwrap().data;
    let count = |j: usize| (0..steps).map(|t| s[t * 2 + j]).sum::<i64>();
    // 29 events reach the population (one-step Dense): θ = 2.5 fires on
    // every third (v > 2.5 after 3), θ = 0.5 on every event.
    assert_eq!((count(0), count(1)), (9, 29));
}
