//! Host readouts in the float graph: the `--readout-synapse` pass and what
//! an Output records (`lower.rs` lowers a readout's chains).
//!
//! A **readout** is an Output whose value is not spikes: it is fed (through
//! Flatten at most) by an Affine, Conv, pooling or Scale op, or by a
//! *readout synapse* — an LI population marked with the node metadata
//! [`READOUT_SYNAPSE_KEY`] (what [`insert_readout_synapse`] inserts). The
//! quantizer turns it into a [`nmc_ir::qmodel::QReadout`] run on the host in
//! `f64` from chip spikes; the float reference simulates the graph as it is
//! (the LI node with `r = 1`, `v_leak = 0` and `τ` is exactly nengo's
//! `Lowpass(τ)` under the exact rule: `v = e^{−dt/τ}·v + (1 − e^{−dt/τ})·x`).

use crate::error::QuantError;
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, NodeId, Op, Shape};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Node metadata marking an LI population as the lowpass filter of a host
/// readout (value: `τ` in seconds, for display). Written by
/// [`insert_readout_synapse`]; a NIR file may carry it on an LI node too.
pub const READOUT_SYNAPSE_KEY: &str = "readout_synapse";

/// Whether node `id` is a readout synapse (a marked neuron node).
pub fn is_readout_synapse(g: &Graph, id: NodeId) -> bool {
    let n = g.node(id);
    matches!(n.op, Op::Neuron(_)) && n.meta.contains_key(READOUT_SYNAPSE_KEY)
}

/// What an Output node records, seen from the float graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Spikes of a population (or a Threshold), or an input: decisions use
    /// spike counts.
    Spikes,
    /// The voltage of a non-spiking population the chip runs (LI, CubaLI, I).
    Voltage,
    /// A linear readout of spikes (host readout); `filtered` when it is read
    /// through a readout synapse.
    Readout {
        /// Read through a readout synapse (lowpass).
        filtered: bool,
    },
}

/// The node an Output records, past Flatten nodes of one input.
fn recorded(g: &Graph, output: NodeId) -> Option<NodeId> {
    let preds = g.inputs(output);
    let mut cur = match preds[..] {
        [(_, p)] => p,
        _ => return None,
    };
    loop {
        match g.node(cur).op {
            Op::Flatten { .. } if g.inputs(cur).len() == 1 => cur = g.inputs(cur)[0].1,
            _ => return Some(cur),
        }
    }
}

/// What Output node `output` records.
pub fn output_kind(g: &Graph, output: NodeId) -> OutputKind {
    let Some(cur) = recorded(g, output) else {
        return OutputKind::Readout { filtered: false };
    };
    match &g.node(cur).op {
        Op::Neuron(_) if is_readout_synapse(g, cur) => OutputKind::Readout { filtered: true },
        Op::Neuron(n) if n.model.spikes() => OutputKind::Spikes,
        Op::Neuron(_) => OutputKind::Voltage,
        Op::Input { .. } | Op::Threshold { .. } | Op::Delay { .. } => OutputKind::Spikes,
        _ => OutputKind::Readout { filtered: false },
    }
}

/// The graph with a first-order lowpass readout filter (NengoDL's probe
/// `synapse`, nengo's `Lowpass(tau)`) before every linear readout Output: an
/// LI population `<output>.synapse` (`τ_mem = tau`, `r = 1`, `v_leak = 0`,
/// marked [`READOUT_SYNAPSE_KEY`]) on the edge into the Output. Outputs of
/// spikes or voltages are left as they are. Fails when `tau` is not a
/// positive number or the graph has no linear readout.
pub fn insert_readout_synapse(g: &Graph, tau: f64) -> Result<Graph, QuantError> {
    if !(tau.is_finite() && tau > 0.0) {
        return Err(QuantError::Option {
            option: "readout_synapse",
            message: format!("must be a positive time constant in seconds, is {tau}"),
        });
    }
    let outputs: Vec<NodeId> = g
        .output_nodes()
        .into_iter()
        .filter(|&o| output_kind(g, o) == OutputKind::Readout { filtered: false } && g.inputs(o).len() == 1)
        .collect();
    if outputs.is_empty() {
        let names: Vec<String> = g
            .output_nodes()
            .iter()
            .map(|&o| format!("`{}`", g.node(o).name))
            .collect();
        return Err(QuantError::Option {
            option: "readout_synapse",
            message: format!(
                "the model has no linear readout to filter (an Affine or Conv straight into an Output); its \
                 outputs {} record spikes, voltages or an already filtered readout",
                if names.is_empty() {
                    "(none)".to_string()
                } else {
                    names.join(", ")
                }
            ),
        });
    }
    let taus: Vec<(NodeId, f64)> = outputs.iter().map(|&o| (o, tau)).collect();
    insert_synapses(g, &taus)
}

/// The node metadata key of an Output that asks for a readout filter of
/// that many seconds (`python/nmc_nengo` writes a nengo Probe's `synapse`).
pub const OUTPUT_SYNAPSE_KEY: &str = "synapse";

/// The graph with the readout filters its Output nodes ask for in their
/// metadata `synapse` (seconds; a nengo Probe's synapse), inserted as
/// [`insert_readout_synapse`] does for one Output each. Outputs without the
/// key are left alone; a key on an Output that is not a linear readout, or
/// that is not a positive number, is an error naming the Output.
pub fn apply_output_synapses(g: &Graph) -> Result<Graph, QuantError> {
    let mut taus = Vec::new();
    for o in g.output_nodes() {
        let node = g.node(o);
        let Some(m) = node.meta.get(OUTPUT_SYNAPSE_KEY) else {
            continue;
        };
        let bad = |message: String| QuantError::Unsupported {
            node: node.name.clone(),
            field: format!("metadata.{OUTPUT_SYNAPSE_KEY}"),
            message,
        };
        let tau = match m {
            Meta::Float(x) => *x,
            Meta::Int(i) => *i as f64,
            other => return Err(bad(format!("expected one number of seconds, got {other}"))),
        };
        if !(tau.is_finite() && tau > 0.0) {
            return Err(bad(format!("must be a positive time constant in seconds, is {tau}")));
        }
        if output_kind(g, o) != (OutputKind::Readout { filtered: false }) || g.inputs(o).len() != 1 {
            return Err(bad(
                "a readout synapse filters a linear readout (an Affine or Conv straight into the Output); \
                 this Output records spikes, voltages or an already filtered value"
                    .into(),
            ));
        }
        taus.push((o, tau));
    }
    if taus.is_empty() {
        return Ok(g.clone());
    }
    insert_synapses(g, &taus)
}

/// Inserts one LI filter `<output>.synapse` of the given τ before each Output.
fn insert_synapses(g: &Graph, taus: &[(NodeId, f64)]) -> Result<Graph, QuantError> {
    let tau_of: HashMap<NodeId, f64> = taus.iter().copied().collect();
    let mut names: HashSet<String> = g.node_ids().map(|i| g.node(i).name.clone()).collect();
    let mut synapse: HashMap<NodeId, String> = HashMap::new();
    for &(o, _) in taus {
        let base = format!("{}.synapse", g.node(o).name);
        let mut name = base.clone();
        let mut k = 1;
        while names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        names.insert(name.clone());
        synapse.insert(o, name);
    }
    let bad = |e: nmc_ir::BuildError| QuantError::Internal {
        node: g.name.clone(),
        message: format!("inserting the readout synapse: {e}"),
    };
    let mut b = GraphBuilder::new(g.name.clone());
    b.dt(g.dt).discretization(g.discretization);
    for (k, v) in &g.meta {
        b.meta(k.clone(), v.clone());
    }
    for id in g.node_ids() {
        let node = g.node(id);
        if let Some(name) = synapse.get(&id) {
            let tau = tau_of[&id];
            let shape: Shape = g.input_fact(id).map(|f| f.shape.clone()).unwrap_or_default();
            let mut li = Neuron::neutral(NeuronModel::Li, shape);
            li.tau_mem.iter_mut().for_each(|t| *t = tau);
            let meta = BTreeMap::from([(READOUT_SYNAPSE_KEY.to_string(), Meta::Float(tau))]);
            b.node(name.clone(), Op::Neuron(li), meta).map_err(bad)?;
        }
        b.node(node.name.clone(), node.op.clone(), node.meta.clone())
            .map_err(bad)?;
    }
    let edges: Vec<(NodeId, NodeId)> = g
        .petgraph()
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .collect();
    for (a, c) in edges {
        match synapse.get(&c) {
            Some(name) => {
                b.edge(g.node(a).name.clone(), name.clone());
                b.edge(name.clone(), g.node(c).name.clone());
            }
            None => {
                b.edge(g.node(a).name.clone(), g.node(c).name.clone());
            }
        }
    }
    b.build().map_err(bad)
}
