//! `scale_firing_rates`, NengoDL style: every spiking population fires `S`
//! times as often while the network computes the same function.

use crate::error::QuantError;
use nmc_ir::{Graph, GraphBuilder, Meta, NodeId, Op};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Returns the float graph with firing rates scaled by `s` (NengoDL's
/// `scale_firing_rates`): every spiking population's input gain `r` is
/// multiplied by `s`, and the amplitude of its spikes is divided by `s`
/// (the weights of every Affine/Conv/Scale that reads only spikes, directly
/// or through pooling/flatten, are divided by `s`; their biases are kept;
/// any other reader gets a Scale node `<population>.amplitude` of `1/s` on
/// the edge). Graph inputs are unaffected except through the first layer's
/// gain; Output nodes still record spikes (whose counts grow `s`-fold).
///
/// With reset to zero and `v_leak = 0`, multiplying `r` by `s` is exactly
/// equivalent to dividing the threshold by `s`; for `v_leak ≠ 0` only the
/// input gain is scaled (the leak target stays).
pub fn apply_scale_firing_rates(g: &Graph, s: f64) -> Result<Graph, QuantError> {
    if !(s.is_finite() && s > 0.0) {
        return Err(QuantError::Option {
            option: "scale_firing_rates",
            message: format!("must be a positive number, is {s}"),
        });
    }
    if s == 1.0 {
        return Ok(g.clone());
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
    // Edges needing an amplitude node: from a carrying node into a reader
    // that is neither carrying, weight-scaled, nor an Output.
    // Edges in insertion order (the schedule depends on it).
    let edges: Vec<(NodeId, NodeId)> = g
        .petgraph()
        .edge_indices()
        .filter_map(|e| g.edge_endpoints(e))
        .collect();
    // A carrying Pool/Flatten passes spikes on; a neuron reading spikes is a reader.
    let passes = |b: NodeId| carrying[idx(b)] && matches!(g.node(b).op, Op::Pool2d { .. } | Op::Flatten { .. });
    let needs_amp = |(a, b): (NodeId, NodeId)| {
        carrying[idx(a)] && !passes(b) && !weight_scaled[idx(b)] && !matches!(g.node(b).op, Op::Output { .. })
    };
    let mut names: HashSet<String> = ids.iter().map(|&i| g.node(i).name.clone()).collect();
    let mut amp: HashMap<NodeId, String> = HashMap::new();
    for &e in &edges {
        if needs_amp(e) && !amp.contains_key(&e.0) {
            let base = format!("{}.amplitude", g.node(e.0).name);
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
    let prev = match g.meta.get("scale_firing_rates") {
        Some(Meta::Float(x)) => *x,
        _ => 1.0,
    };
    b.meta("scale_firing_rates", Meta::Float(prev * s));
    let bad = |e: nmc_ir::BuildError| QuantError::Internal {
        node: g.name.clone(),
        message: format!("rebuilding the graph with scaled firing rates: {e}"),
    };
    for &i in &ids {
        let node = g.node(i);
        let mut op = node.op.clone();
        match &mut op {
            Op::Neuron(nn) if nn.model.spikes() => nn.r.iter_mut().for_each(|r| *r *= s),
            Op::Affine { weight, .. } | Op::Conv { weight, .. } if weight_scaled[idx(i)] => {
                weight.data_mut().iter_mut().for_each(|w| *w /= s)
            }
            Op::Scale { scale } if weight_scaled[idx(i)] => scale.data_mut().iter_mut().for_each(|w| *w /= s),
            _ => {}
        }
        b.node(node.name.clone(), op, node.meta.clone()).map_err(bad)?;
        if let Some(a) = amp.get(&i) {
            b.node(
                a.clone(),
                Op::Scale {
                    scale: nmc_ir::Tensor::scalar(1.0 / s),
                },
                BTreeMap::new(),
            )
            .map_err(bad)?;
            b.edge(node.name.clone(), a.clone());
        }
    }
    for &(a, c) in &edges {
        let src = match amp.get(&a) {
            Some(name) if needs_amp((a, c)) => name.clone(),
            _ => g.node(a).name.clone(),
        };
        b.edge(src, g.node(c).name.clone());
    }
    b.build().map_err(bad)
}
