//! Shared helpers for the integration tests.

#![allow(dead_code)]

use ndarray::Array3;
use nmc_ir::{Discretization, Graph, GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_reference::Stimulus;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Builds a graph from nodes and edges (by name).
pub fn graph(dt: f64, disc: Discretization, nodes: Vec<(&str, Op)>, edges: &[(&str, &str)]) -> Graph {
    let mut b = GraphBuilder::new("test");
    b.dt(dt).discretization(disc);
    for (name, op) in nodes {
        b.node(name, op, BTreeMap::new()).expect("node");
    }
    for (s, d) in edges {
        b.edge(*s, *d);
    }
    b.build().expect("graph builds")
}

/// A graph whose nodes are chained in the order given.
pub fn chain(dt: f64, disc: Discretization, nodes: Vec<(&str, Op)>) -> Graph {
    let names: Vec<String> = nodes.iter().map(|(n, _)| n.to_string()).collect();
    let edges: Vec<(&str, &str)> = names.windows(2).map(|w| (w[0].as_str(), w[1].as_str())).collect();
    graph(dt, disc, nodes, &edges)
}

pub fn input(dims: &[usize]) -> Op {
    Op::Input {
        shape: Shape::new(dims.to_vec()),
    }
}

pub fn output(dims: &[usize]) -> Op {
    Op::Output {
        shape: Shape::new(dims.to_vec()),
    }
}

pub fn affine(w: Vec<Vec<f64>>, b: Option<Vec<f64>>) -> Op {
    let rows = w.len();
    let cols = w.first().map_or(0, |r| r.len());
    Op::Affine {
        weight: Tensor::new(Shape::new([rows, cols]), w.concat()).expect("weight"),
        bias: b.map(Tensor::vector),
    }
}

pub fn scale(s: Vec<f64>) -> Op {
    Op::Scale {
        scale: Tensor::vector(s),
    }
}

/// A population of `model` with `n` neurons and neutral parameters, then
/// adjusted by `f`.
pub fn neuron(model: NeuronModel, n: usize, f: impl FnOnce(&mut Neuron)) -> Op {
    let mut p = Neuron::neutral(model, Shape::new([n]));
    f(&mut p);
    Op::Neuron(p)
}

/// A batch-1 stimulus holding `rows[t]` at step `t`.
pub fn stim(rows: &[Vec<f64>]) -> Stimulus {
    let t = rows.len();
    let f = rows.first().map_or(0, |r| r.len());
    Stimulus::new(Array3::from_shape_vec((1, t, f), rows.concat()).expect("shape")).expect("stimulus")
}

/// A batch-1 stimulus holding the same row for `steps` steps.
pub fn constant(row: &[f64], steps: usize) -> Stimulus {
    stim(&vec![row.to_vec(); steps])
}

/// `../shared/fixtures` beside the checkout, or `$NMC_SHARED_FIXTURES`.
pub fn fixtures() -> PathBuf {
    let dir = match std::env::var_os("NMC_SHARED_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    };
    assert!(
        dir.is_dir(),
        "shared fixtures not found at {} (expected ../shared/fixtures beside the checkout; set \
         NMC_SHARED_FIXTURES to override)",
        dir.display()
    );
    dir
}

/// A fresh temporary directory for one test.
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-reference-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmpdir");
    d
}

/// Deterministic pseudo-random numbers in [0, 1).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
