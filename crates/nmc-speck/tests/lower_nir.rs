//! NIR graphs grouped into DYNAP-CNN layers (`nmc_speck::lower`) against
//! sinabs 3.1.3: the NIR paper's N-MNIST CNN (both trained exports of it)
//! gives exactly the layers sinabs' `DynapcnnNetwork` built from
//! `cnn_sinabs.nir` (fixture `nir_paper_nmnist_cnn.json`), so memory per
//! layer equals sinabs' `memory_summary` and the fit lists its
//! `find_chip_layers`; small graphs built here pin each grouping rule and
//! each error (node and field named).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use nmc_ir::{Graph, GraphBuilder, Neuron, NeuronModel, Op, PoolKind, Shape, Tensor};
use nmc_speck::place::fit_lists;
use nmc_speck::{Chip, Layer, Memory, PlaceError, SpeckError, lower, partition};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    input_shape: [u32; 3],
    layers: Vec<Layer>,
    sinabs: Sinabs,
}

#[derive(Deserialize)]
struct Sinabs {
    memory: Vec<Memory>,
    fits: Vec<Vec<usize>>,
}

fn shared() -> PathBuf {
    std::env::var_os("NMC_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

fn nmnist_fixture() -> Fixture {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/speck/nir_paper_nmnist_cnn.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn speck() -> Chip {
    Chip::builtin("speck").unwrap()
}

/// The layers without their names (sinabs names them 0, 1, ...; nmc by the
/// weight node).
fn unnamed(layers: &[Layer]) -> Vec<Layer> {
    layers
        .iter()
        .map(|l| Layer {
            name: String::new(),
            ..l.clone()
        })
        .collect()
}

#[test]
fn nir_paper_cnn_lowers_to_the_layers_sinabs_built() {
    let fx = nmnist_fixture();
    for file in [
        "nir-paper/02_cnn/cnn_sinabs.nir",
        "nir-paper/other/nir4s_cnn_sinabs.nir",
    ] {
        let g = nmc_frontend::load(&shared().join(file), &Default::default()).unwrap();
        let (low, placement) = partition(&speck(), &g).unwrap();
        assert_eq!(low.input, fx.input_shape, "{file}");
        assert_eq!(unnamed(&low.layers), unnamed(&fx.layers), "{file}");
        // Named by their weight node; the other nodes of each layer listed.
        let names: Vec<&str> = low.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["0", "2", "5", "9", "11"], "{file}");
        assert_eq!(low.nodes[1], ["2", "3", "4"], "{file}");
        assert_eq!(low.nodes[3], ["9", "10"], "{file}");
        let mem: Vec<Memory> = low.layers.iter().map(Memory::of).collect();
        assert_eq!(mem, fx.sinabs.memory, "{file}");
        assert_eq!(fit_lists(&speck(), &mem), fx.sinabs.fits, "{file}");
        let used: std::collections::BTreeSet<usize> = placement.cores_used().into_iter().collect();
        assert_eq!(used.len(), 5, "{file}");
        for (p, fits) in placement.layers.iter().zip(&fx.sinabs.fits) {
            assert!(fits.contains(&p.core), "{file}: {p:?}");
        }
    }
}

// ---- small graphs ----

fn t(dims: &[usize]) -> Tensor {
    Tensor::new(Shape::new(dims.to_vec()), vec![0.1; dims.iter().product()]).unwrap()
}

fn conv(f: usize, c: usize, kh: usize, kw: usize, stride: usize, pad: usize) -> Op {
    Op::Conv {
        weight: t(&[f, c, kh, kw]),
        bias: Some(t(&[f])),
        stride: vec![stride; 2],
        padding: vec![pad; 2],
        dilation: vec![1, 1],
        groups: 1,
    }
}

fn neuron(model: NeuronModel, shape: &[usize]) -> Op {
    let mut n = Neuron::neutral(model, Shape::new(shape.to_vec()));
    if model.leaks() {
        n.tau_mem = vec![0.01; n.len()];
    }
    Op::Neuron(n)
}

fn pool(kind: PoolKind, k: usize, s: usize) -> Op {
    Op::Pool2d {
        kind,
        kernel: [k; 2],
        stride: [s; 2],
        padding: [0, 0],
    }
}

/// A graph from `(name, op)` nodes and `a->b` edges.
fn graph(nodes: Vec<(&str, Op)>, edges: &[(&str, &str)]) -> Graph {
    let mut b = GraphBuilder::new("t");
    for (n, op) in nodes {
        b.node(n, op, BTreeMap::new()).unwrap();
    }
    for (s, d) in edges {
        b.edge(*s, *d);
    }
    b.build().unwrap()
}

fn input(shape: &[usize]) -> (&'static str, Op) {
    (
        "in",
        Op::Input {
            shape: Shape::new(shape.to_vec()),
        },
    )
}

fn output(shape: &[usize]) -> (&'static str, Op) {
    (
        "out",
        Op::Output {
            shape: Shape::new(shape.to_vec()),
        },
    )
}

#[test]
fn a_branch_gives_one_destination_per_path_with_its_own_pooling() {
    // in -> c0 -> n0 -> {p2 -> c1, c2 (no pooling)}; c1, c2 -> IAF -> out.
    let g = graph(
        vec![
            input(&[2, 8, 8]),
            ("c0", conv(4, 2, 3, 3, 1, 1)),
            ("n0", neuron(NeuronModel::If, &[4, 8, 8])),
            ("p", pool(PoolKind::Sum, 2, 2)),
            ("c1", conv(4, 4, 3, 3, 1, 1)),
            ("n1", neuron(NeuronModel::If, &[4, 4, 4])),
            ("c2", conv(4, 4, 1, 1, 2, 0)),
            ("n2", neuron(NeuronModel::If, &[4, 4, 4])),
            output(&[4, 4, 4]),
        ],
        &[
            ("in", "c0"),
            ("c0", "n0"),
            ("n0", "p"),
            ("p", "c1"),
            ("c1", "n1"),
            ("n0", "c2"),
            ("c2", "n2"),
            ("n1", "out"),
            ("n2", "out"),
        ],
    );
    let low = lower(&speck(), &g).unwrap();
    let l0 = &low.layers[0];
    assert_eq!(low.layers.len(), 3);
    assert_eq!(l0.destinations, [1, 2]);
    // c1 (layer 1) is reached through the 2x2 pooling, c2 (layer 2) directly.
    let by_name: Vec<&str> = low.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(by_name[l0.destinations[0]], "c1");
    assert_eq!(l0.pooling, [[2, 2], [1, 1]]);
    assert_eq!(low.layers[1].input, [4, 4, 4]);
    assert_eq!(low.layers[2].input, [4, 8, 8]);
    // Exits keep one unpooled destination.
    assert_eq!(low.layers[1].pooling, [[1, 1]]);
    assert!(low.layers[1].destinations.is_empty());
    nmc_speck::place(&speck(), &low.layers).unwrap();
}

#[test]
fn chained_poolings_multiply_and_flatten_linear_is_a_whole_input_kernel() {
    let g = graph(
        vec![
            input(&[1, 16, 16]),
            ("c0", conv(8, 1, 3, 3, 1, 1)),
            ("n0", neuron(NeuronModel::If, &[8, 16, 16])),
            ("p0", pool(PoolKind::Sum, 2, 2)),
            ("p1", pool(PoolKind::Sum, 2, 2)),
            (
                "fl",
                Op::Flatten {
                    start_dim: 0,
                    end_dim: -1,
                },
            ),
            (
                "lin",
                Op::Affine {
                    weight: t(&[10, 128]),
                    bias: None,
                },
            ),
            ("n1", neuron(NeuronModel::If, &[10])),
            output(&[10]),
        ],
        &[
            ("in", "c0"),
            ("c0", "n0"),
            ("n0", "p0"),
            ("p0", "p1"),
            ("p1", "fl"),
            ("fl", "lin"),
            ("lin", "n1"),
            ("n1", "out"),
        ],
    );
    let low = lower(&speck(), &g).unwrap();
    assert_eq!(low.layers[0].pooling, [[4, 4]]);
    assert_eq!(low.nodes[0], ["c0", "n0", "p0", "p1"]);
    let lin = &low.layers[1];
    assert_eq!(
        (lin.input, lin.kernel, lin.output, lin.bias),
        ([8, 4, 4], [10, 8, 4, 4], [10, 1, 1], false)
    );
}

fn err_of(g: &Graph) -> String {
    match partition(&speck(), g) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("placed"),
    }
}

fn one_layer(n: Op, extra: Option<(&'static str, Op, usize)>) -> Graph {
    let mut nodes = vec![input(&[1, 8, 8]), ("c", conv(4, 1, 3, 3, 1, 1)), ("n", n)];
    let mut edges = vec![("in", "c"), ("c", "n")];
    match extra {
        Some((name, op, hw)) => {
            nodes.push((name, op));
            nodes.push(output(&[4, hw, hw]));
            edges.push(("n", name));
            edges.push((name, "out"));
        }
        None => {
            nodes.push(output(&[4, 8, 8]));
            edges.push(("n", "out"));
        }
    }
    graph(nodes, &edges)
}

#[test]
fn average_pooling_is_placed_as_sinabs_places_it_with_a_note() {
    // sinabs maps AvgPool2d(k) to SumPool2d(k) and divides the next layer's
    // weights by k^2: the layers, memories and placement are sum pooling's.
    let iaf = || neuron(NeuronModel::If, &[4, 8, 8]);
    let avg = lower(&speck(), &one_layer(iaf(), Some(("p", pool(PoolKind::Avg, 2, 2), 4)))).unwrap();
    let sum = lower(&speck(), &one_layer(iaf(), Some(("p", pool(PoolKind::Sum, 2, 2), 4)))).unwrap();
    assert_eq!((&avg.layers, &avg.nodes), (&sum.layers, &sum.nodes));
    assert!(sum.notes.is_empty(), "{:?}", sum.notes);
    assert_eq!(avg.notes.len(), 1, "{:?}", avg.notes);
    assert!(
        avg.notes[0].starts_with("node `p` (avgpool2d 2x2): placed as sum pooling")
            && avg.notes[0].contains("weights of the layer it feeds must be divided by 4"),
        "{:?}",
        avg.notes
    );
}

#[test]
fn what_sinabs_does_not_map_is_an_error_naming_node_and_field() {
    let e = err_of(&one_layer(neuron(NeuronModel::Lif, &[4, 8, 8]), None));
    assert!(
        e.starts_with("node `n` (lif): model: LIF: the chip runs [\"iaf\"] neurons only"),
        "{e}"
    );
    let e = err_of(&one_layer(neuron(NeuronModel::Li, &[4, 8, 8]), None));
    assert!(e.starts_with("node `n` (li): model: LI does not spike"), "{e}");
    let iaf = || neuron(NeuronModel::If, &[4, 8, 8]);
    let e = err_of(&one_layer(iaf(), Some(("p", pool(PoolKind::Sum, 2, 1), 7))));
    assert!(
        e.starts_with("node `p` (sumpool2d): stride: [1, 1]: must equal the kernel [2, 2]"),
        "{e}"
    );
    let delay = Op::Delay {
        delay: Tensor::scalar(0.001),
    };
    let e = err_of(&one_layer(iaf(), Some(("d", delay, 8))));
    assert!(
        e.starts_with("node `d` (delay): op: has no place in a DYNAP-CNN layer"),
        "{e}"
    );
    // A non-square kernel passes the grouping and breaks the chip rule,
    // named by its layer (the weight node).
    let g = graph(
        vec![
            input(&[1, 8, 8]),
            ("c", conv(4, 1, 3, 5, 1, 0)),
            ("n", neuron(NeuronModel::If, &[4, 6, 4])),
            output(&[4, 6, 4]),
        ],
        &[("in", "c"), ("c", "n"), ("n", "out")],
    );
    let e = partition(&speck(), &g).unwrap_err();
    assert!(matches!(e, SpeckError::Place(PlaceError::Layer(_))), "{e:?}");
    assert_eq!(
        e.to_string(),
        "layer 0 (`c`): kernel: 3x5 is not square; the chip runs square kernels only"
    );
    // conv -> conv (no neurons between).
    let g = graph(
        vec![
            input(&[1, 8, 8]),
            ("c", conv(4, 1, 3, 3, 1, 1)),
            ("c2", conv(4, 4, 3, 3, 1, 1)),
            ("n", neuron(NeuronModel::If, &[4, 8, 8])),
            output(&[4, 8, 8]),
        ],
        &[("in", "c"), ("c", "c2"), ("c2", "n"), ("n", "out")],
    );
    let e = err_of(&g);
    assert!(e.starts_with("node `c` (conv2d): output: feeds `c2` (conv2d)"), "{e}");
}
