//! The stable text dump of a graph (`Display`), used by `nmc inspect` and
//! by golden tests. Its format only changes deliberately: goldens pin it.
//!
//! ```text
//! graph "name" dt=0.001 discretization=exact
//!   %0 = input "input" -> f64[2,34,34]
//!   %1 = conv2d "0" (%0) weight=[16,2,5,5] stride=[2,2] ... -> f64[16,16,16]
//!   ...
//!   recurrent: %4 -> %2
//! ```
//! Nodes are printed in schedule order; `%k` is the node's position in that
//! order. Parameter arrays are summarised (shape, and the value when
//! uniform, else min..max), never printed in full.

use crate::graph::Graph;
use crate::op::{Op, ResetMode};
use crate::tensor::Tensor;
use std::fmt::{self, Write};

/// Formats an f64 compactly and stably (shortest round-trip form).
pub fn num(x: f64) -> String {
    if x == f64::INFINITY {
        "inf".into()
    } else if x == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{x:?}")
    }
}

/// Summarises a parameter vector: `v` when uniform, else `min..max`.
pub fn summary(v: &[f64]) -> String {
    match v.first() {
        None => "[]".into(),
        Some(&f) if v.iter().all(|&x| x == f) => num(f),
        Some(&f) => {
            let (lo, hi) = v.iter().fold((f, f), |(a, b), &x| (a.min(x), b.max(x)));
            format!("{}..{}", num(lo), num(hi))
        }
    }
}

fn tensor(t: &Tensor) -> String {
    format!("{}{{{}}}", t.shape(), summary(t.data()))
}

fn list(v: &[usize]) -> String {
    format!("{v:?}").replace(' ', "")
}

/// One-line description of an op's parameters (no shapes of values).
pub fn op_params(op: &Op) -> String {
    let mut s = String::new();
    match op {
        Op::Input { shape } | Op::Output { shape } => {
            let _ = write!(s, "shape={shape}");
        }
        Op::Affine { weight, bias } => {
            let _ = write!(s, "weight={}", tensor(weight));
            if let Some(b) = bias {
                let _ = write!(s, " bias={}", tensor(b));
            }
        }
        Op::Scale { scale } => {
            let _ = write!(s, "scale={}", tensor(scale));
        }
        Op::Conv {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        } => {
            let _ = write!(
                s,
                "weight={} stride={} padding={} dilation={} groups={groups}",
                tensor(weight),
                list(stride),
                list(padding),
                list(dilation)
            );
            if let Some(b) = bias {
                let _ = write!(s, " bias={}", tensor(b));
            }
        }
        Op::Flatten { start_dim, end_dim } => {
            let _ = write!(s, "start_dim={start_dim} end_dim={end_dim}");
        }
        Op::Pool2d {
            kernel,
            stride,
            padding,
            ..
        } => {
            let _ = write!(
                s,
                "kernel={} stride={} padding={}",
                list(kernel),
                list(stride),
                list(padding)
            );
        }
        Op::Threshold { threshold } => {
            let _ = write!(s, "threshold={}", tensor(threshold));
        }
        Op::Delay { delay } => {
            let _ = write!(s, "delay={}", tensor(delay));
        }
        Op::Neuron(n) => {
            let parts: Vec<String> = n
                .params()
                .into_iter()
                .map(|(k, v)| format!("{k}={}", summary(v)))
                .collect();
            s.push_str(&parts.join(" "));
            if n.model.spikes() {
                s.push_str(match n.reset {
                    ResetMode::Zero => " reset=zero",
                    ResetMode::Subtract => " reset=subtract",
                });
            }
            if n.refractory > 0.0 {
                let _ = write!(s, " refractory={}", num(n.refractory));
            }
            if n.v_min > f64::NEG_INFINITY {
                let _ = write!(s, " v_min={}", num(n.v_min));
            }
        }
    }
    s
}

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.discretization.name();
        writeln!(f, "graph {:?} dt={} discretization={d}", self.name, num(self.dt))?;
        for (k, v) in &self.meta {
            writeln!(f, "  meta {k} = {v}")?;
        }
        let sched = self.schedule();
        let mut pos = vec![0usize; self.node_count()];
        for (k, id) in sched.order.iter().enumerate() {
            pos[id.index()] = k;
        }
        for (k, &id) in sched.order.iter().enumerate() {
            let node = self.node(id);
            let ins: Vec<String> = self
                .inputs(id)
                .iter()
                .map(|(_, s)| format!("%{}", pos[s.index()]))
                .collect();
            let ins = if ins.is_empty() {
                String::new()
            } else {
                format!(" ({})", ins.join(", "))
            };
            writeln!(
                f,
                "  %{k} = {} {:?}{ins} {} -> {}",
                node.op.kind_name(),
                node.name,
                op_params(&node.op),
                node.out
            )?;
            for (mk, mv) in &node.meta {
                writeln!(f, "      meta {mk} = {mv}")?;
            }
        }
        for e in &sched.back_edges {
            if let Some((s, t)) = self.edge_endpoints(*e) {
                writeln!(
                    f,
                    "  recurrent: %{} -> %{} (one-step delay)",
                    pos[s.index()],
                    pos[t.index()]
                )?;
            }
        }
        Ok(())
    }
}
