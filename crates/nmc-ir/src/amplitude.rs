//! Spike amplitude as a graph rewrite: the one pass behind an impulse
//! file's `1/dt` spikes (the frontend) and NengoDL's `scale_firing_rates`
//! (the quantizer). The IR's spikes are always 1; a different amplitude is
//! folded into whatever reads the spikes.

use crate::graph::{BuildError, Graph, GraphBuilder, NodeId};
use crate::op::Op;
use crate::tensor::Tensor;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What [`scale_spike_amplitude`] changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AmplitudeFold {
    /// The factor every spike was multiplied by.
    pub factor: f64,
    /// Affine/Conv/Scale nodes that read only spikes, whose weights (not
    /// biases) were multiplied by the factor.
    pub weights: Vec<String>,
    /// Scale nodes inserted on the edges from a spiking population into a
    /// reader that has no weights of its own (a neuron, a sum with a
    /// non-spiking value), named `<population>.<suffix>`.
    pub inserted: Vec<String>,
}

/// Returns `g` with every spike worth `factor` instead of 1 to its readers
/// (and what changed): the weights of every Affine/Conv/Scale that reads
/// only spikes, directly or through pooling/Flatten, are multiplied by
/// `factor` (their biases are kept); any other reader — a neuron, or a node
/// that sums spikes with other values — gets a `Scale(factor)` node
/// `<population>.<suffix>` on the edge. Output nodes still record the
/// spikes themselves. Node order, edge order, metadata, `dt` and the
/// discretization are kept, so the schedule is the same apart from the
/// inserted nodes. `factor == 1` returns the graph unchanged.
pub fn scale_spike_amplitude(g: &Graph, factor: f64, suffix: &str) -> Result<(Graph, AmplitudeFold), BuildError> {
    let mut fold = AmplitudeFold {
        factor,
        ..AmplitudeFold::default()
    };
    if factor == 1.0 {
        return Ok((g.clone(), fold));
    }
    let ids: Vec<NodeId> = g.node_ids().collect();
    let idx = |id: NodeId| id.index();
    let spiking = |id: NodeId| matches!(&g.node(id).op, Op::Neuron(nn) if nn.model.spikes());
    // Nodes whose value is spikes, possibly pooled or flattened.
    let mut carrying: Vec<bool> = ids.iter().map(|&i| spiking(i)).collect();
    loop {
        let mut changed = false;
        for &i in &ids {
            if carrying[idx(i)] || !matches!(g.node(i).op, Op::Pool2d { .. } | Op::Flatten { .. }) {
                continue;
            }
            let preds = g.inputs(i);
            if !preds.is_empty() && preds.iter().all(|(_, p)| carrying[idx(*p)]) {
                carrying[idx(i)] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let weight_scaled: Vec<bool> = ids
        .iter()
        .map(|&i| {
            let preds = g.inputs(i);
            !carrying[idx(i)]
                && matches!(g.node(i).op, Op::Affine { .. } | Op::Conv { .. } | Op::Scale { .. })
                && !preds.is_empty()
                && preds.iter().all(|(_, p)| carrying[idx(*p)])
        })
        .collect();
    // Edges in insertion order (the schedule depends on it).
    let edges: Vec<(NodeId, NodeId)> = g
        .petgraph()
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .collect();
    // A carrying Pool/Flatten passes spikes on; a neuron reading spikes is a reader.
    let passes = |b: NodeId| carrying[idx(b)] && matches!(g.node(b).op, Op::Pool2d { .. } | Op::Flatten { .. });
    let needs_node = |(a, b): (NodeId, NodeId)| {
        carrying[idx(a)] && !passes(b) && !weight_scaled[idx(b)] && !matches!(g.node(b).op, Op::Output { .. })
    };
    let mut names: HashSet<String> = ids.iter().map(|&i| g.node(i).name.clone()).collect();
    let mut amp: HashMap<NodeId, String> = HashMap::new();
    for &e in &edges {
        if needs_node(e) && !amp.contains_key(&e.0) {
            let base = format!("{}.{suffix}", g.node(e.0).name);
            let mut name = base.clone();
            let mut k = 1;
            while names.contains(&name) {
                name = format!("{base}_{k}");
                k += 1;
            }
            names.insert(name.clone());
            amp.insert(e.0, name);
        }
    }
    let mut b = GraphBuilder::new(g.name.clone());
    b.dt(g.dt).discretization(g.discretization);
    for (k, v) in &g.meta {
        b.meta(k.clone(), v.clone());
    }
    for &i in &ids {
        let node = g.node(i);
        let mut op = node.op.clone();
        if weight_scaled[idx(i)] {
            match &mut op {
                Op::Affine { weight, .. } | Op::Conv { weight, .. } => {
                    weight.data_mut().iter_mut().for_each(|w| *w *= factor)
                }
                Op::Scale { scale } => scale.data_mut().iter_mut().for_each(|w| *w *= factor),
                _ => {}
            }
            fold.weights.push(node.name.clone());
        }
        b.node(node.name.clone(), op, node.meta.clone())?;
        if let Some(a) = amp.get(&i) {
            b.node(
                a.clone(),
                Op::Scale {
                    scale: Tensor::scalar(factor),
                },
                BTreeMap::new(),
            )?;
            b.edge(node.name.clone(), a.clone());
            fold.inserted.push(a.clone());
        }
    }
    for &(a, c) in &edges {
        let src = match amp.get(&a) {
            Some(name) if needs_node((a, c)) => name.clone(),
            _ => g.node(a).name.clone(),
        };
        b.edge(src, g.node(c).name.clone());
    }
    Ok((b.build()?, fold))
}
