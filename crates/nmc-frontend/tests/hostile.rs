//! Hostile NIR graphs the container limits do not stop: many nodes. Reading
//! and lowering must be (near) linear in the node count; the bound is the
//! 20 s hang guard of docs/reliability.md, "Hostile inputs".
#![allow(clippy::unwrap_used)]

use nmc_ir::{GraphBuilder, Op, Shape, Tensor};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[test]
fn a_nir_file_with_many_nodes_loads_in_bounded_time() {
    let n = 5_000;
    let mut g = GraphBuilder::new("chain");
    g.node("in", Op::Input { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    let mut prev = "in".to_string();
    for i in 0..n {
        let name = format!("s{i}");
        let op = Op::Scale {
            scale: Tensor::new(Shape::new([2]), vec![0.5; 2]).unwrap(),
        };
        g.node(name.clone(), op, BTreeMap::new()).unwrap();
        g.edge(prev, name.clone());
        prev = name;
    }
    g.node("out", Op::Output { shape: Shape::new([2]) }, BTreeMap::new())
        .unwrap();
    g.edge(prev, "out");
    let bytes = nmc_frontend::to_nir_bytes(&g.build().unwrap(), "chain.nir").unwrap();
    let t = Instant::now();
    let back = nmc_frontend::load_nir_bytes("chain.nir", &bytes, &Default::default()).unwrap();
    assert_eq!(back.node_count(), n + 2);
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
}
