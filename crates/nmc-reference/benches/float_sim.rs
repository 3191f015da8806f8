//! Float reference on a small spiking conv net (N-MNIST-like input
//! `[2,34,34]`, three conv layers, pooling, two dense layers), 100 steps.

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array3;
use nmc_ir::{Graph, GraphBuilder, Neuron, NeuronModel, Op, PoolKind, Shape, Tensor};
use nmc_reference::{SimOptions, Stimulus, simulate};
use std::collections::BTreeMap;
use std::hint::black_box;

/// Deterministic pseudo-random numbers in [-0.5, 0.5).
fn lcg(seed: &mut u64) -> f64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
}

fn tensor(dims: &[usize], scale: f64, seed: &mut u64) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::new(Shape::new(dims.to_vec()), (0..n).map(|_| scale * lcg(seed)).collect()).expect("shape")
}

fn conv(w: &[usize], stride: usize, pad: usize, seed: &mut u64) -> Op {
    Op::Conv {
        weight: tensor(w, 1.5, seed),
        bias: None,
        stride: vec![stride; 2],
        padding: vec![pad; 2],
        dilation: vec![1; 2],
        groups: 1,
    }
}

fn if_pop(shape: &[usize]) -> Op {
    Op::Neuron(Neuron::neutral(NeuronModel::If, Shape::new(shape.to_vec())))
}

fn net() -> Graph {
    let mut seed = 7u64;
    let mut b = GraphBuilder::new("bench_cnn");
    let m = BTreeMap::new;
    let nodes: Vec<(&str, Op)> = vec![
        (
            "input",
            Op::Input {
                shape: Shape::new([2, 34, 34]),
            },
        ),
        ("c0", conv(&[16, 2, 5, 5], 2, 1, &mut seed)),
        ("n0", if_pop(&[16, 16, 16])),
        ("c1", conv(&[16, 16, 3, 3], 1, 1, &mut seed)),
        ("n1", if_pop(&[16, 16, 16])),
        (
            "p1",
            Op::Pool2d {
                kind: PoolKind::Sum,
                kernel: [2, 2],
                stride: [2, 2],
                padding: [0, 0],
            },
        ),
        ("c2", conv(&[8, 16, 3, 3], 1, 1, &mut seed)),
        ("n2", if_pop(&[8, 8, 8])),
        (
            "flat",
            Op::Flatten {
                start_dim: 0,
                end_dim: -1,
            },
        ),
        (
            "fc",
            Op::Affine {
                weight: tensor(&[10, 512], 1.0, &mut seed),
                bias: None,
            },
        ),
        ("n3", if_pop(&[10])),
        (
            "output",
            Op::Output {
                shape: Shape::new([10]),
            },
        ),
    ];
    let names: Vec<&str> = nodes.iter().map(|(n, _)| *n).collect();
    for (name, op) in nodes {
        b.node(name, op, m()).expect("node");
    }
    for w in names.windows(2) {
        b.edge(w[0], w[1]);
    }
    b.build().expect("graph")
}

fn bench(c: &mut Criterion) {
    let g = net();
    let mut seed = 11u64;
    // Sparse binary events, ~10% active.
    let x = Array3::from_shape_fn((1, 100, 2 * 34 * 34), |_| if lcg(&mut seed) > 0.4 { 1.0 } else { 0.0 });
    let stim = Stimulus::new(x).expect("stimulus");
    let opts = SimOptions { steps: Some(100) };
    c.bench_function("float_sim cnn 100 steps", |bch| {
        bch.iter(|| simulate(black_box(&g), black_box(&stim), &opts).expect("sim"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
