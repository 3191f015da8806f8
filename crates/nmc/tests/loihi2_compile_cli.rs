//! `nmc compile MODEL.nir --target loihi2 -o NET.json` then `nmc emulate
//! NET.json --target loihi2` (issue 17): the NIR paper's Braille SRNN
//! compiled from the command line is the network the library compiles, and
//! its emulation from the command line is the library's emulation.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn braille_compiles_then_emulates_from_the_command_line() {
    let d = std::env::temp_dir().join(format!("nmc-loihi2-compile-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let model = root().join("../shared/fixtures/nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir");
    let net_path = d.join("braille.json");
    let o = common::nmc_ok(&[
        "compile",
        s(&model),
        "--target",
        "loihi2",
        "--dt",
        "1e-4",
        "--discretization",
        "euler",
        "--reset",
        "subtract",
        "-o",
        s(&net_path),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("loihi2 compile for loihi2"), "{out}");
    assert!(out.contains("lif1.w_rec"), "{out}");
    assert!(out.contains("warning: lif1.lif: reset"), "{out}");
    // the same network as the library's compile of the same graph
    let chip = nmc_loihi2::Chip::builtin("loihi2").unwrap();
    let opts = nmc_frontend::LoadOptions {
        dt: Some(1e-4),
        discretization: Some(nmc_ir::Discretization::Euler),
        reset: Some(nmc_ir::ResetMode::Subtract),
        ..Default::default()
    };
    let g = nmc_frontend::load(&model, &opts).unwrap();
    let (net, _) = nmc_loihi2::compile::compile(&g, &chip).unwrap();
    assert_eq!(nmc_loihi2::Net::read_lava_json(&chip, &net_path).unwrap(), net);
    // emulate it on deterministic events and compare with the library run
    let steps = 200;
    let mut x = ndarray::Array2::<f64>::zeros((steps, 12));
    let mut data = ndarray::Array2::<i32>::zeros((12, steps));
    for t in 0..steps {
        for c in 0..12 {
            if (t * 7 + c * 13) % 11 < 3 {
                x[[t, c]] = 1.0;
                data[[c, t]] = 1;
            }
        }
    }
    let xp = d.join("x.npy");
    ndarray_npy::write_npy(&xp, &x).unwrap();
    let npz = d.join("out.npz");
    let o = common::nmc_ok(&[
        "emulate",
        s(&net_path),
        "--target",
        "loihi2",
        "--input",
        s(&xp),
        "--out",
        s(&npz),
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("lif2"));
    let rec = nmc_loihi2::emu::run(&chip, &net, &nmc_loihi2::Input::single(data), steps).unwrap();
    let mut total = 0;
    for p in ["lif1.lif", "lif2"] {
        let got = nmc_reference::read_array_named(&npz, &format!("spikes.{p}")).unwrap();
        let want = &rec.get(&format!("{p}.s_out")).unwrap().data;
        let got: Vec<i64> = got.iter().map(|&v| v as i64).collect();
        assert_eq!(&got, want, "{p}");
        total += want.iter().sum::<i64>();
    }
    assert!(total > 0, "the network spikes");
    // a graph the compile cannot map (a Delay): an error naming the node and
    // field, exit 3, nothing written
    let bad = d.join("delay.nir");
    nmc_frontend::write_nir(&delay_graph(), &bad).unwrap();
    let never = d.join("never.json");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(["compile", s(&bad), "--target", "loihi2", "-o", s(&never)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("d: op: delay has no Loihi 2 process"), "{err}");
    assert!(!never.exists());
    std::fs::remove_dir_all(&d).ok();
}

/// Input(2) → fc → d (Delay) → pop (IF).
fn delay_graph() -> nmc_ir::Graph {
    use nmc_ir::{Neuron, NeuronModel, Op, Shape, Tensor};
    use std::collections::BTreeMap;
    let mut b = nmc_ir::GraphBuilder::new("delay");
    b.node("input", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    let weight = Tensor::new(Shape::new([2, 2]), vec![1.0, 0.0, 0.0, 1.0]).unwrap();
    b.node("fc", Op::Affine { weight, bias: None }, BTreeMap::new())
        .unwrap();
    let delay = Tensor::new(Shape::new([1]), vec![2e-3]).unwrap();
    b.node("d", Op::Delay { delay }, BTreeMap::new()).unwrap();
    let n = Neuron::neutral(NeuronModel::If, Shape::new([2]));
    b.node("pop", Op::Neuron(n), BTreeMap::new()).unwrap();
    b.node("output", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    b.edge("input", "fc")
        .edge("fc", "d")
        .edge("d", "pop")
        .edge("pop", "output");
    b.build().unwrap()
}
