//! Hostile graph shapes (docs/reliability.md, "Hostile inputs"): a million
//! nodes, a million edges into one node, and algebraic loops. Building,
//! verifying and scheduling must be (near) linear (and iterative), so these finish in well
//! under the 20 s hang guard even in a debug build.
#![allow(clippy::unwrap_used)]

use nmc_ir::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Generous for CI: a hang guard, not a speed test.
const LIMIT: Duration = Duration::from_secs(10);

fn scale(n: usize) -> Op {
    Op::Scale {
        scale: Tensor::new(Shape::new([n]), vec![0.5; n]).unwrap(),
    }
}

fn lif(n: usize) -> Op {
    let mut p = Neuron::neutral(NeuronModel::Lif, Shape::new([n]));
    p.tau_mem = vec![0.01; n];
    Op::Neuron(p)
}

fn add(g: &mut GraphBuilder, name: &str, op: Op) {
    g.node(name, op, BTreeMap::new()).unwrap();
}

#[test]
fn a_chain_of_a_million_nodes_builds_verifies_and_schedules_in_bounded_time() {
    let t = Instant::now();
    let n = 1_000_000;
    let mut g = GraphBuilder::new("chain");
    add(&mut g, "in", Op::Input { shape: Shape::new([1]) });
    let mut prev = "in".to_string();
    for i in 0..n {
        let name = format!("s{i}");
        add(&mut g, &name, scale(1));
        g.edge(prev, name.clone());
        prev = name;
    }
    add(&mut g, "out", Op::Output { shape: Shape::new([1]) });
    g.edge(prev, "out");
    let g = g.build().unwrap();
    verify(&g).unwrap();
    let s = g.schedule();
    assert_eq!(s.order.len(), n + 2);
    assert!(s.back_edges.is_empty());
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
}

#[test]
fn a_million_edges_into_one_node_are_checked_in_bounded_time() {
    let t = Instant::now();
    let n = 1_000_000;
    let mut g = GraphBuilder::new("fan_in");
    add(&mut g, "in", Op::Input { shape: Shape::new([2]) });
    add(&mut g, "sum", scale(2));
    add(&mut g, "out", Op::Output { shape: Shape::new([2]) });
    for _ in 0..n {
        g.edge("in", "sum");
    }
    g.edge("sum", "out");
    let g = g.build().unwrap();
    verify(&g).unwrap();
    assert_eq!(g.schedule().order.len(), 3);
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
}

#[test]
fn loops_without_a_neuron_are_listed_but_legal_in_the_ir() {
    // in -> a -> b -> c -> a (no neuron on the loop), c -> lif -> out: the IR
    // reads the back edge one step late (verify accepts it); NIR's importer
    // rejects what `algebraic_loops` lists.
    let mut g = GraphBuilder::new("loop");
    add(&mut g, "in", Op::Input { shape: Shape::new([3]) });
    for name in ["a", "b", "c"] {
        add(&mut g, name, scale(3));
    }
    add(&mut g, "lif", lif(3));
    add(&mut g, "out", Op::Output { shape: Shape::new([3]) });
    g.edge("in", "a").edge("a", "b").edge("b", "c").edge("c", "a");
    g.edge("c", "lif").edge("lif", "out");
    let g = g.build().unwrap();
    verify(&g).unwrap();
    let loops = algebraic_loops(&g);
    let names: Vec<Vec<&str>> = loops
        .iter()
        .map(|c| c.iter().map(|&i| g.node(i).name.as_str()).collect())
        .collect();
    assert_eq!(names, vec![vec!["a", "b", "c"]]);
    // A self-loop on a stateless op too.
    let mut g = GraphBuilder::new("self");
    add(&mut g, "in", Op::Input { shape: Shape::new([3]) });
    add(&mut g, "a", scale(3));
    add(&mut g, "out", Op::Output { shape: Shape::new([3]) });
    g.edge("in", "a").edge("a", "a").edge("a", "out");
    assert_eq!(algebraic_loops(&g.build().unwrap()).len(), 1);
}

#[test]
fn a_loop_through_a_neuron_is_legal() {
    let mut g = GraphBuilder::new("rnn");
    add(&mut g, "in", Op::Input { shape: Shape::new([3]) });
    add(&mut g, "a", scale(3));
    add(&mut g, "lif", lif(3));
    add(&mut g, "rec", scale(3));
    add(&mut g, "out", Op::Output { shape: Shape::new([3]) });
    g.edge("in", "a")
        .edge("a", "lif")
        .edge("lif", "rec")
        .edge("rec", "a")
        .edge("lif", "out");
    verify(&g.build().unwrap()).unwrap();
}
