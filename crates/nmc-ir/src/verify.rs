//! The verifier: re-derives every fact from the ops and checks the
//! invariants every pass may rely on. It collects all violations.
//!
//! Invariants checked:
//! 1. Every edge's fact equals its source node's output fact.
//! 2. Every node's output fact (shape and format) equals what its op infers
//!    from its input fact (Input nodes: from nothing).
//! 3. All incoming edges of a node agree on shape.
//! 4. Every non-Input node has at least one incoming edge; Input nodes none.
//! 5. Neuron parameter vectors have one entry per neuron; time constants are
//!    positive (or +∞ for no leak / 0 for no synapse), `r`, `w_in`,
//!    `v_leak`, `v_reset` are finite; thresholds are not NaN; refractory ≥ 0; `v_min` is a number
//!    (or −∞) below every threshold.
//! 6. Weights, biases, scales and thresholds are finite.
//! 7. `dt` is positive and finite.
//!
//! A cycle of stateless ops is legal here (its back edge reads the previous
//! step's value, docs/ir.md); importers of continuous-time formats reject it
//! with [`algebraic_loops`].

use crate::graph::{Graph, NodeId};
use crate::op::{Op, OpError};
use nmc_core::{Loc, Problem};
use petgraph::visit::EdgeRef;

/// One violated invariant: the node ([`Loc::Node`], or [`Loc::Whole`] for
/// the graph's own fields such as `dt`), the field when there is one, and
/// what is wrong. `Display`: ``node `lif`: tau: must be > 0, neuron 0 has -0.01``.
pub type VerifyError = Problem;

/// The message of a parameter tensor with a NaN or an infinity.
const NOT_FINITE: &str = "contains NaN or infinite values";

impl Graph {
    /// Edits one node's op and re-checks the whole graph: `edit` changes the
    /// op in place, then [`verify`] runs; on any violation the node is put
    /// back as it was and every violation is returned, so a `Graph` that
    /// exists still satisfies every invariant (a node's name and output fact
    /// are not editable: they come from the builder). This is the only
    /// mutable access to a node outside this crate.
    pub fn edit_op(&mut self, id: NodeId, edit: impl FnOnce(&mut Op)) -> Result<(), Vec<VerifyError>> {
        let before = self.g[id].op.clone();
        edit(&mut self.g[id].op);
        verify(self).inspect_err(|_| self.g[id].op = before)
    }
}

/// Checks every invariant listed in the module doc; returns all violations.
pub fn verify(graph: &Graph) -> Result<(), Vec<VerifyError>> {
    let mut errs = Vec::new();
    let g = graph.petgraph();
    if !(graph.dt.is_finite() && graph.dt > 0.0) {
        errs.push(Problem::new(
            Loc::Whole,
            "dt",
            format!("must be positive and finite, is {}", graph.dt),
        ));
    }
    let mut err = |node: &str, field: Option<&'static str>, message: String| {
        errs.push(Problem::new(Loc::Node(node.to_string()), field, message))
    };
    for e in g.edge_references() {
        let src = &g[e.source()];
        if *e.weight() != src.out {
            err(
                &g[e.target()].name,
                None,
                format!(
                    "edge from `{}` carries {} but the source produces {}",
                    src.name,
                    e.weight(),
                    src.out
                ),
            );
        }
    }
    for id in graph.node_ids() {
        let node = graph.node(id);
        let ins = graph.inputs(id);
        let is_input = matches!(node.op, Op::Input { .. });
        if is_input && !ins.is_empty() {
            err(&node.name, None, "an Input node has an incoming edge".into());
        }
        if !is_input && ins.is_empty() {
            err(&node.name, None, "has no incoming edge".into());
        }
        let first = ins.first().map(|&(e, _)| g[e].clone());
        for &(e, s) in ins.iter().skip(1) {
            if let Some(f) = &first
                && g[e].shape != f.shape
            {
                err(
                    &node.name,
                    None,
                    format!(
                        "input from `{}` has shape {}, another input has {}",
                        g[s].name, g[e].shape, f.shape
                    ),
                );
            }
        }
        if is_input || first.is_some() {
            match node.op.infer(first.as_ref()) {
                Ok(f) if f != node.out => err(
                    &node.name,
                    None,
                    format!("output fact {} but the op infers {}", node.out, f),
                ),
                Ok(_) => {}
                Err(OpError::InputShape { field, expected, got }) => {
                    err(&node.name, Some(field), format!("expects input {expected}, got {got}"))
                }
                Err(OpError::Param { field, message }) => err(&node.name, Some(field), message),
                Err(OpError::Arity(message)) => err(&node.name, None, message),
            }
        }
        let finite = |t: &crate::Tensor| t.all_finite();
        match &node.op {
            Op::Affine { weight, bias } | Op::Conv { weight, bias, .. } => {
                if !finite(weight) {
                    err(&node.name, Some("weight"), NOT_FINITE.into());
                }
                if bias.as_ref().is_some_and(|b| !finite(b)) {
                    err(&node.name, Some("bias"), NOT_FINITE.into());
                }
            }
            Op::Scale { scale } if !finite(scale) => err(&node.name, Some("scale"), NOT_FINITE.into()),
            Op::Threshold { threshold } if !finite(threshold) => err(&node.name, Some("threshold"), NOT_FINITE.into()),
            Op::Delay { delay } if !delay.data().iter().all(|d| d.is_finite() && *d >= 0.0) => {
                err(&node.name, Some("delay"), "must be finite and ≥ 0".into())
            }
            Op::Neuron(n) => verify_neuron(&node.name, n, &mut err),
            _ => {}
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// The invariants of one neuron population (per-neuron lengths, finite
/// parameters, positive time constants, refractory period, voltage floor).
fn verify_neuron(name: &str, n: &crate::Neuron, err: &mut impl FnMut(&str, Option<&'static str>, String)) {
    let len = n.len();
    let fields: [(&'static str, &[f64]); 7] = [
        ("tau_mem", &n.tau_mem),
        ("tau_syn", &n.tau_syn),
        ("r", &n.r),
        ("v_leak", &n.v_leak),
        ("v_threshold", &n.v_threshold),
        ("v_reset", &n.v_reset),
        ("w_in", &n.w_in),
    ];
    for (f, v) in fields {
        if v.len() != len {
            err(name, Some(f), format!("has {} entries for {len} neurons", v.len()));
        }
    }
    let name_tau = if n.model.has_synapse() { "tau_mem" } else { "tau" };
    if let Some(i) = n.tau_mem.iter().position(|t| t.is_nan() || *t <= 0.0) {
        err(
            name,
            Some(name_tau),
            format!("must be > 0, neuron {i} has {}", n.tau_mem[i]),
        );
    }
    if let Some(i) = n.tau_syn.iter().position(|t| t.is_nan() || *t < 0.0) {
        err(
            name,
            Some("tau_syn"),
            format!("must be > 0, neuron {i} has {}", n.tau_syn[i]),
        );
    }
    for (f, v) in [
        ("r", &n.r),
        ("v_leak", &n.v_leak),
        ("v_reset", &n.v_reset),
        ("w_in", &n.w_in),
    ] {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            err(name, Some(f), format!("must be finite, neuron {i} has {}", v[i]));
        }
    }
    if let Some(i) = n.v_threshold.iter().position(|x| x.is_nan()) {
        err(name, Some("v_threshold"), format!("neuron {i} is NaN"));
    }
    if !(n.refractory.is_finite() && n.refractory >= 0.0) {
        err(
            name,
            Some("refractory"),
            format!("must be ≥ 0 seconds, is {}", n.refractory),
        );
    }
    if n.v_min.is_nan() || n.v_min == f64::INFINITY {
        err(name, Some("v_min"), format!("must be a number or −∞, is {}", n.v_min));
    } else if let Some(i) = n.v_threshold.iter().position(|&th| n.v_min >= th) {
        err(
            name,
            Some("v_min"),
            format!(
                "{} is not below neuron {i}'s threshold {}: the neuron could never be below it",
                n.v_min, n.v_threshold[i]
            ),
        );
    }
}

/// The cycles (strongly connected components with an edge inside) that pass
/// through no neuron population and no Delay: algebraic loops in a
/// continuous-time reading such as NIR's. Each is listed in insertion order;
/// the cycles are ordered by their first node. Linear in the graph, no
/// recursion.
pub fn algebraic_loops(graph: &Graph) -> Vec<Vec<crate::NodeId>> {
    let g = graph.petgraph();
    let mut out: Vec<Vec<crate::NodeId>> = petgraph::algo::kosaraju_scc(g)
        .into_iter()
        .filter(|scc| scc.len() > 1 || scc.iter().any(|&n| g.contains_edge(n, n)))
        .filter(|scc| !scc.iter().any(|&n| matches!(g[n].op, Op::Neuron(_) | Op::Delay { .. })))
        .map(|mut scc| {
            scc.sort_by_key(|n| n.index());
            scc
        })
        .collect();
    out.sort_by_key(|scc| scc[0].index());
    out
}
