//! Builder, schedule, verifier and dump behaviour of the IR.
#![allow(clippy::unwrap_used)]

use nmc_ir::*;
use std::collections::BTreeMap;

fn lif(n: usize) -> Op {
    let mut p = Neuron::neutral(NeuronModel::Lif, Shape::new([n]));
    p.tau_mem = vec![0.01; n];
    Op::Neuron(p)
}

fn affine(out: usize, inp: usize) -> Op {
    Op::Affine {
        weight: Tensor::new(Shape::new([out, inp]), vec![0.5; out * inp]).unwrap(),
        bias: None,
    }
}

fn input(n: usize) -> Op {
    Op::Input { shape: Shape::new([n]) }
}

fn b() -> GraphBuilder {
    GraphBuilder::new("t")
}

fn add(g: &mut GraphBuilder, name: &str, op: Op) {
    g.node(name, op, BTreeMap::new()).unwrap();
}

#[test]
fn facts_are_inferred_through_a_chain() {
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "fc", affine(4, 3));
    add(&mut g, "lif", lif(4));
    add(&mut g, "out", Op::Output { shape: Shape::new([4]) });
    g.edge("in", "fc").edge("fc", "lif").edge("lif", "out");
    let g = g.build().unwrap();
    let lif = g.find("lif").unwrap();
    assert_eq!(g.node(lif).out, Fact::new(Shape::new([4]), Format::Spike));
    let out = g.find("out").unwrap();
    assert_eq!(g.node(out).out.format, Format::Spike);
    assert!(verify(&g).is_ok());
    assert_eq!(g.neuron_count(), 4);
    assert_eq!(g.synapse_count(), 12);
}

#[test]
fn a_shape_mismatch_names_node_and_field() {
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "fc", affine(4, 5));
    add(&mut g, "out", Op::Output { shape: Shape::new([4]) });
    g.edge("in", "fc").edge("fc", "out");
    let e = g.build().unwrap_err().to_string();
    assert!(e.contains("node `fc`"), "{e}");
    assert!(e.contains("weight"), "{e}");
    assert!(e.contains("[3]"), "{e}");
}

#[test]
fn an_edge_to_a_missing_node_is_an_error() {
    let mut g = b();
    add(&mut g, "in", input(3));
    g.edge("in", "nowhere");
    let e = g.build().unwrap_err();
    assert!(
        matches!(e, BuildError::MissingNode { ref missing, .. } if missing == "nowhere"),
        "{e}"
    );
}

#[test]
fn duplicate_names_and_missing_inputs_are_errors() {
    let mut g = b();
    add(&mut g, "in", input(3));
    assert_eq!(
        g.node("in", input(3), BTreeMap::new()),
        Err(BuildError::DuplicateNode("in".into()))
    );
    let mut g = b();
    add(&mut g, "fc", affine(1, 1));
    assert_eq!(g.build().unwrap_err(), BuildError::NoInputNode);
}

#[test]
fn fan_in_must_agree_on_shape() {
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "a", affine(4, 3));
    add(&mut g, "c", affine(5, 3));
    add(&mut g, "lif", lif(4));
    g.edge("in", "a").edge("in", "c").edge("a", "lif").edge("c", "lif");
    let e = g.build().unwrap_err().to_string();
    assert!(e.contains("lif"), "{e}");
}

#[test]
fn a_cycle_gets_one_back_edge_and_a_feedforward_order() {
    // in -> fc -> lif -> rec -> lif (cycle), lif -> out
    let mut g = b();
    add(&mut g, "in", input(2));
    add(&mut g, "fc", affine(3, 2));
    add(&mut g, "lif", lif(3));
    add(&mut g, "rec", affine(3, 3));
    add(&mut g, "out", Op::Output { shape: Shape::new([3]) });
    g.edge("in", "fc")
        .edge("fc", "lif")
        .edge("lif", "rec")
        .edge("rec", "lif")
        .edge("lif", "out");
    let g = g.build().unwrap();
    let s = g.schedule();
    assert_eq!(s.back_edges.len(), 1);
    let (src, dst) = g.edge_endpoints(s.back_edges[0]).unwrap();
    assert_eq!((g.node(src).name.as_str(), g.node(dst).name.as_str()), ("rec", "lif"));
    let names: Vec<&str> = s.order.iter().map(|&i| g.node(i).name.as_str()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("in") < pos("fc") && pos("fc") < pos("lif") && pos("lif") < pos("rec") && pos("lif") < pos("out"));
    assert!(g.to_string().contains("recurrent:"));
}

#[test]
fn conv_and_pool_shapes() {
    let conv = Op::Conv {
        weight: Tensor::new(Shape::new([16, 2, 5, 5]), vec![0.0; 800]).unwrap(),
        bias: None,
        stride: vec![2, 2],
        padding: vec![1, 1],
        dilation: vec![1, 1],
        groups: 1,
    };
    assert_eq!(
        conv.output_shape(&Shape::new([2, 34, 34])).unwrap(),
        Shape::new([16, 16, 16])
    );
    let e = conv.output_shape(&Shape::new([3, 34, 34])).unwrap_err().to_string();
    assert!(e.contains("weight") && e.contains("[3,34,34]"), "{e}");
    let pool = Op::Pool2d {
        kind: PoolKind::Sum,
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    assert_eq!(
        pool.output_shape(&Shape::new([8, 8, 8])).unwrap(),
        Shape::new([8, 4, 4])
    );
    let flat = Op::Flatten {
        start_dim: 0,
        end_dim: -1,
    };
    assert_eq!(flat.output_shape(&Shape::new([8, 4, 4])).unwrap(), Shape::new([128]));
    let grouped = Op::Conv {
        weight: Tensor::new(Shape::new([4, 1, 3]), vec![0.0; 12]).unwrap(),
        bias: None,
        stride: vec![1],
        padding: vec![0],
        dilation: vec![2],
        groups: 2,
    };
    assert_eq!(grouped.output_shape(&Shape::new([2, 10])).unwrap(), Shape::new([4, 6]));
}

#[test]
fn the_verifier_catches_a_bad_mutation() {
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "lif", lif(3));
    g.edge("in", "lif");
    let mut g = g.build().unwrap();
    let id = g.find("lif").unwrap();
    let before = g.to_string();
    let errs = g
        .edit_op(id, |op| {
            if let Op::Neuron(n) = op {
                n.tau_mem[1] = -1.0;
                n.r.pop();
            }
        })
        .unwrap_err();
    // The refused edit is undone: the graph is the one that was built.
    assert_eq!(g.to_string(), before);
    verify(&g).unwrap();
    let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter().any(|e| e.contains("tau") && e.contains("neuron 1")),
        "{text:?}"
    );
    assert!(text.iter().any(|e| e.contains("r: has 2 entries")), "{text:?}");
}

/// Each violation carries its node and field as data (`Loc::Node`, the
/// field name), the graph's own `dt` is at `Loc::Whole`, and a violation an
/// op reports keeps the op's field; `Display` still reads `node `n`: field: …`.
#[test]
fn verifier_problems_carry_node_and_field() {
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "fc", affine(2, 3));
    add(&mut g, "lif", lif(2));
    g.edge("in", "fc").edge("fc", "lif");
    let mut g = g.build().unwrap();
    let (fc, lif) = (g.find("fc").unwrap(), g.find("lif").unwrap());
    let at = |errs: &[VerifyError]| -> Vec<(Option<String>, Option<&str>)> {
        errs.iter()
            .map(|e| (e.loc.node().map(str::to_string), e.field))
            .collect()
    };
    let errs = g
        .edit_op(lif, |op| {
            if let Op::Neuron(n) = op {
                n.tau_mem[1] = -1.0;
                n.v_leak[0] = f64::NAN;
            }
        })
        .unwrap_err();
    assert_eq!(
        at(&errs),
        [(Some("lif".into()), Some("tau")), (Some("lif".into()), Some("v_leak"))],
        "{errs:?}"
    );
    assert_eq!(errs[0].to_string(), "node `lif`: tau: must be > 0, neuron 1 has -1");
    let errs = g
        .edit_op(fc, |op| {
            if let Op::Affine { weight, .. } = op {
                *weight = Tensor::new(Shape::new([2, 3]), vec![0.5, f64::INFINITY, 0.0, 0.0, 0.0, 0.0]).unwrap();
            }
        })
        .unwrap_err();
    assert_eq!(at(&errs), [(Some("fc".into()), Some("weight"))], "{errs:?}");
    g.dt = 0.0;
    let errs = verify(&g).unwrap_err();
    assert_eq!(at(&errs), [(None, Some("dt"))], "{errs:?}");
    assert_eq!(errs[0].loc, nmc_core::Loc::Whole);
    g.dt = 1e-3;
    // An op's own complaint (its weight no longer fits the input) keeps the op's field.
    let errs = g
        .edit_op(fc, |op| {
            if let Op::Affine { weight, .. } = op {
                *weight = Tensor::new(Shape::new([2, 4]), vec![0.5; 8]).unwrap();
            }
        })
        .unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.loc.node() == Some("fc") && e.field == Some("weight") && e.message.contains("expects input")),
        "{errs:?}"
    );
}

#[test]
fn the_dump_is_stable_and_names_everything() {
    let build = || {
        let mut g = b();
        add(&mut g, "in", input(3));
        add(&mut g, "fc", affine(2, 3));
        add(&mut g, "lif", lif(2));
        add(&mut g, "out", Op::Output { shape: Shape::new([2]) });
        g.edge("in", "fc").edge("fc", "lif").edge("lif", "out");
        g.build().unwrap().to_string()
    };
    let a = build();
    assert_eq!(a, build());
    assert!(a.starts_with("graph \"t\" dt=0.001 discretization=exact\n"), "{a}");
    assert!(
        a.contains(
            "%2 = lif \"lif\" (%1) tau=0.01 r=1.0 v_leak=0.0 v_threshold=1.0 v_reset=0.0 reset=zero -> spike[2]"
        ),
        "{a}"
    );
}

#[test]
fn bad_dt_is_rejected() {
    let mut g = b();
    add(&mut g, "in", input(1));
    g.dt(0.0);
    assert_eq!(g.build().unwrap_err(), BuildError::BadDt(0.0));
}

#[test]
fn an_edit_that_changes_a_format_is_refused() {
    // Same shape, other format: a spiking population replaced by a Scale
    // would turn the spikes its consumers were built for into reals. The
    // verifier compares whole facts, so the edit is refused and undone.
    let mut g = b();
    add(&mut g, "in", input(3));
    add(&mut g, "lif", lif(3));
    g.edge("in", "lif");
    let mut g = g.build().unwrap();
    let id = g.find("lif").unwrap();
    assert_eq!(g.node(id).out.format, Format::Spike);
    let errs = g
        .edit_op(id, |op| {
            *op = Op::Scale {
                scale: Tensor::scalar(2.0),
            }
        })
        .unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.loc.node() == Some("lif") && e.message.contains("output fact spike[3] but the op infers f64[3]")),
        "{errs:?}"
    );
    assert!(matches!(g.node(id).op, Op::Neuron(_)));
    // A legal edit (same shape and format) is kept.
    g.edit_op(id, |op| {
        if let Op::Neuron(n) = op {
            n.tau_mem = vec![0.02; 3];
        }
    })
    .unwrap();
    assert!(matches!(&g.node(id).op, Op::Neuron(n) if n.tau_mem == vec![0.02; 3]));
}
