//! `nmc inspect`: what a model contains, per node, as a table or stable JSON.
//!
//! JSON schema `nmc.inspect/1` (docs/cli.md): `{schema, model, dt,
//! discretization, nodes: [{name, kind, inputs, input_shape, output_shape,
//! format, neurons, synapses, params, meta}], totals: {nodes, neurons,
//! synapses, recurrent_edges}}`. Parameters are summarised as a string:
//! the value when uniform, else `min..max`.

use nmc_ir::{Graph, Op, op_params, summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// One node of the inspect report.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    /// Node name (path).
    pub name: String,
    /// Op kind (`conv2d`, `lif`, …).
    pub kind: String,
    /// Names of the nodes feeding it (`name@prev` for recurrent edges).
    pub inputs: Vec<String>,
    /// Shape of its summed input (empty for Input nodes).
    pub input_shape: Vec<usize>,
    /// Shape of its output.
    pub output_shape: Vec<usize>,
    /// Output numeric format (`f64`, `spike`, …).
    pub format: String,
    /// Neurons (for neuron populations).
    pub neurons: usize,
    /// Synapses (for weighted ops).
    pub synapses: u64,
    /// Parameter summaries by field name.
    pub params: BTreeMap<String, String>,
    /// Metadata from the file, rendered as text.
    pub meta: BTreeMap<String, String>,
}

/// Totals over the model.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Node count.
    pub nodes: usize,
    /// Neurons over all populations.
    pub neurons: usize,
    /// Synapses over all weighted ops.
    pub synapses: u64,
    /// Recurrent (one-step-delayed) edges.
    pub recurrent_edges: usize,
}

/// The `nmc inspect` report.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// Schema id, `nmc.inspect/1`.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Time step in seconds.
    pub dt: f64,
    /// `exact`, `euler` or `nengo`.
    pub discretization: &'static str,
    /// dt, discretization and spike convention together.
    pub conventions: nmc_ir::Conventions,
    /// Graph metadata.
    pub meta: BTreeMap<String, String>,
    /// Nodes in schedule order.
    pub nodes: Vec<NodeRow>,
    /// Totals.
    pub totals: Totals,
}

fn params_of(op: &Op) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    match op {
        Op::Neuron(n) => {
            for (k, v) in n.params() {
                m.insert(k.to_string(), summary(v));
            }
            if n.model.spikes() {
                m.insert("reset".into(), format!("{:?}", n.reset).to_lowercase());
            }
            m.insert("refractory".into(), nmc_ir::num(n.refractory));
            if n.v_min > f64::NEG_INFINITY {
                m.insert("v_min".into(), nmc_ir::num(n.v_min));
            }
        }
        other => {
            // `key=value` pairs of the dump, split back into a map.
            for part in op_params(other).split(' ') {
                if let Some((k, v)) = part.split_once('=') {
                    m.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    m
}

impl InspectReport {
    /// Builds the report of a graph.
    pub fn new(g: &Graph) -> Self {
        let sched = g.schedule();
        let mut nodes = Vec::new();
        for &id in &sched.order {
            let node = g.node(id);
            let inputs = g
                .inputs(id)
                .iter()
                .map(|(e, s)| {
                    let n = g.node(*s).name.clone();
                    if sched.back_edges.contains(e) {
                        format!("{n}@prev")
                    } else {
                        n
                    }
                })
                .collect();
            let input_shape = g.input_fact(id).map(|f| f.shape.dims().to_vec()).unwrap_or_default();
            let synapses = g.input_fact(id).map(|f| node.op.synapse_count(&f.shape)).unwrap_or(0);
            nodes.push(NodeRow {
                name: node.name.clone(),
                kind: node.op.kind_name().to_string(),
                inputs,
                input_shape,
                output_shape: node.out.shape.dims().to_vec(),
                format: node.out.format.to_string(),
                neurons: match &node.op {
                    Op::Neuron(n) => n.len(),
                    _ => 0,
                },
                synapses,
                params: params_of(&node.op),
                meta: node.meta.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            });
        }
        InspectReport {
            schema: "nmc.inspect/1",
            model: g.name.clone(),
            dt: g.dt,
            discretization: g.discretization.name(),
            conventions: g.conventions(),
            meta: g.meta.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            totals: Totals {
                nodes: g.node_count(),
                neurons: g.neuron_count(),
                synapses: g.synapse_count(),
                recurrent_edges: sched.back_edges.len(),
            },
            nodes,
        }
    }
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model {}  {}", self.model, self.conventions)?;
        for (k, v) in &self.meta {
            writeln!(f, "  meta {k} = {v}")?;
        }
        let shape = |s: &[usize]| nmc_ir::Shape::new(s.to_vec()).to_string();
        let rows: Vec<[String; 7]> = self
            .nodes
            .iter()
            .map(|n| {
                [
                    n.name.clone(),
                    n.kind.clone(),
                    n.inputs.join(","),
                    format!("{}{}", n.format, shape(&n.output_shape)),
                    if n.neurons > 0 {
                        n.neurons.to_string()
                    } else {
                        String::new()
                    },
                    if n.synapses > 0 {
                        n.synapses.to_string()
                    } else {
                        String::new()
                    },
                    n.params
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect();
        // Names come from the file and may be any length: table cells are
        // shortened (the JSON report keeps them whole), so widths stay small.
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i < 6 {
                            nmc_core::text::shorten(&c, nmc_core::text::MAX_CELL).into_owned()
                        } else {
                            c
                        }
                    })
                    .collect()
            })
            .collect();
        let header = ["node", "op", "inputs", "output", "neurons", "synapses", "parameters"];
        let mut w = header.map(|h| h.chars().count());
        for r in &rows {
            for (i, c) in r.iter().enumerate().take(6) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, r: &[String]| -> fmt::Result {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}  {:>w5$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3],
                w4 = w[4],
                w5 = w[5]
            )
        };
        line(f, &header.map(String::from))?;
        for r in &rows {
            line(f, r)?;
        }
        for n in &self.nodes {
            for (k, v) in &n.meta {
                writeln!(f, "  {}: meta {k} = {v}", n.name)?;
            }
        }
        writeln!(
            f,
            "totals: {} nodes, {} neurons, {} synapses, {} recurrent edges",
            self.totals.nodes, self.totals.neurons, self.totals.synapses, self.totals.recurrent_edges
        )
    }
}

/// A readable summary of a quantized model: per population its model,
/// placement, shape, integer parameters, and its incoming connections.
pub fn qmodel_summary(q: &nmc_ir::qmodel::QModel) -> String {
    use nmc_ir::qmodel::{PerNeuron, QWeights, Source};
    use std::fmt::Write as _;
    fn pn<T: Copy + fmt::Display + PartialOrd>(p: &PerNeuron<T>) -> String {
        match p {
            PerNeuron::Uniform(v) => v.to_string(),
            PerNeuron::Each(v) => {
                let lo = v
                    .iter()
                    .copied()
                    .fold(None, |a: Option<T>, x| Some(a.map_or(x, |a| if x < a { x } else { a })));
                let hi = v
                    .iter()
                    .copied()
                    .fold(None, |a: Option<T>, x| Some(a.map_or(x, |a| if x > a { x } else { a })));
                match (lo, hi) {
                    (Some(l), Some(h)) => format!("{l}..{h}"),
                    _ => "[]".into(),
                }
            }
        }
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "quantized model {} for target {} (schema {}), dt = {} s",
        q.name,
        q.target,
        q.schema_version,
        nmc_ir::num(q.dt)
    );
    for i in &q.inputs {
        let _ = writeln!(s, "  input {} {} encoding {:?}", i.name, i.shape, i.encoding);
    }
    let src = |x: &Source| match x {
        Source::Input(k) => q.inputs.get(*k).map_or("?".into(), |i| format!("input {}", i.name)),
        Source::Population(k) => q.populations.get(*k).map_or("?".into(), |p| p.name.clone()),
    };
    for p in &q.populations {
        let c = &p.compartment;
        let _ = writeln!(
            s,
            "  population {} ({}, {:?}) {} = {} neurons: decay_u {} decay_v {} vth_mant {} bias_mant {} bias_exp {} refractory {} scale {}",
            p.name,
            p.model,
            p.placement,
            p.shape,
            p.shape.numel(),
            pn(&c.decay_u),
            pn(&c.decay_v),
            pn(&c.vth_mant),
            pn(&c.bias_mant),
            pn(&c.bias_exp),
            pn(&c.refractory),
            nmc_ir::num(p.scale)
        );
        for conn in &p.inputs {
            let layout = match &conn.weights {
                QWeights::Dense { out, inp, .. } => format!("dense {out}×{inp}"),
                QWeights::Conv2d { kernel, stride, .. } => format!("conv2d k{kernel:?} s{stride:?}"),
                QWeights::Sparse { mant, .. } => format!("sparse ({} entries)", mant.len()),
            };
            let _ = writeln!(
                s,
                "    ← {} {layout} weight_exp {} latency {} (from {})",
                src(&conn.source),
                conn.weight_exp,
                conn.latency,
                conn.folded_from.join(" ∘ ")
            );
        }
    }
    for o in &q.outputs {
        let _ = writeln!(s, "  output {} ← {}", o.name, src(&o.source));
    }
    s
}
