//! Lowering a float graph to populations and connections: every chain of
//! linear ops between a source (Input or neuron population) and a neuron
//! population is folded into one float linear map, biases are pushed to the
//! neuron input, and everything a chip cannot run is rejected by name.

use crate::error::QuantError;
use crate::linmap::{ConvGeom, Csr, LinMap};
use nmc_ir::{Graph, Neuron, NeuronModel, NodeId, Op, Shape};
use nmc_target::Target;
use std::collections::HashMap;

/// A chain of linear ops from a source to a population's input.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    /// An Input or Neuron node.
    pub source: NodeId,
    /// Linear op nodes in the order they are applied (source side first).
    pub ops: Vec<NodeId>,
}

/// What a connection or output reads, in QModel indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SrcRef {
    Input(usize),
    Pop(usize),
}

/// A population before integer selection.
#[derive(Clone, Debug)]
pub(crate) struct PopLowered {
    pub node: NodeId,
    pub name: String,
    pub neuron: Neuron,
    pub chains: Vec<Chain>,
    /// Folded Affine/Conv bias at the neuron's input (input units), one per neuron.
    pub bias: Vec<f64>,
    /// Ops whose bias is non-zero.
    pub bias_ops: Vec<String>,
}

/// The lowered network.
#[derive(Clone, Debug)]
pub(crate) struct Lowered {
    pub inputs: Vec<NodeId>,
    pub pops: Vec<PopLowered>,
    pub outputs: Vec<(String, SrcRef)>,
    /// Host readouts, in output order.
    pub readouts: Vec<ReadoutLowered>,
}

/// The target's model and reset support, and the QModel's own limits.
fn check_neuron(name: &str, n: &Neuron, target: &Target) -> Result<(), QuantError> {
    let supported = target.neurons();
    let models = supported
        .models()
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let model = to_target_model(n.model);
    if !supported.supports_model(model) {
        let what = if n.model.spikes() {
            String::new()
        } else {
            " (a non-spiking readout)".to_string()
        };
        return Err(QuantError::unsupported(
            name,
            "model",
            format!(
                "{}{what} is not supported by target `{}` (it runs {models})",
                n.model.nir_name(),
                target.name()
            ),
        ));
    }
    if n.model.spikes() {
        match n.reset {
            nmc_ir::ResetMode::Subtract => {
                let modes = supported
                    .reset_modes()
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let why = if supported.supports_reset(nmc_target::ResetMode::Subtract) {
                    "the QModel format (schema 1) has no subtractive reset".to_string()
                } else {
                    format!("target `{}` resets only by: {modes} (v ← 0)", target.name())
                };
                return Err(QuantError::unsupported(
                    name,
                    "reset",
                    format!("subtractive reset (v ← v − v_threshold) cannot run: {why}"),
                ));
            }
            nmc_ir::ResetMode::Zero => {
                if let Some((i, v)) = n.v_reset.iter().enumerate().find(|(_, v)| **v != 0.0) {
                    return Err(QuantError::unsupported(
                        name,
                        "v_reset",
                        format!(
                            "is {v} (neuron {i}); target `{}` resets the voltage to 0 only (reset to v_reset ≠ 0 \
                             cannot be expressed)",
                            target.name()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// nmc-ir's model as the target names it.
pub(crate) fn to_target_model(m: nmc_ir::NeuronModel) -> nmc_target::NeuronModel {
    use nmc_ir::NeuronModel as M;
    use nmc_target::NeuronModel as T;
    match m {
        M::I => T::I,
        M::If => T::If,
        M::Li => T::Li,
        M::Lif => T::Lif,
        M::CubaLi => T::CubaLi,
        M::CubaLif => T::CubaLif,
    }
}

/// The chains of linear ops feeding `node`'s (summed) input.
pub(crate) fn chains_into(
    g: &Graph,
    node: NodeId,
    path: &mut Vec<NodeId>,
    target: &Target,
) -> Result<Vec<Chain>, QuantError> {
    let mut out = Vec::new();
    for (_, pred) in g.inputs(node) {
        let pn = g.node(pred);
        match &pn.op {
            Op::Neuron(_) | Op::Input { .. } => out.push(Chain {
                source: pred,
                ops: Vec::new(),
            }),
            Op::Affine { .. } | Op::Scale { .. } | Op::Conv { .. } | Op::Flatten { .. } | Op::Pool2d { .. } => {
                if let Op::Conv { stride, .. } = &pn.op
                    && stride.len() != 2
                {
                    return Err(QuantError::unsupported(
                        &pn.name,
                        "op",
                        format!(
                            "1-d convolution is not supported by target `{}` (nmc maps only 2-d convolutions onto \
                             its synapses)",
                            target.name()
                        ),
                    ));
                }
                if path.contains(&pred) {
                    return Err(QuantError::unsupported(
                        &pn.name,
                        "op",
                        "is on a cycle of linear ops without a neuron population (an algebraic loop)",
                    ));
                }
                path.push(pred);
                let inner = chains_into(g, pred, path, target)?;
                path.pop();
                for mut c in inner {
                    c.ops.push(pred);
                    out.push(c);
                }
            }
            Op::Delay { .. } => {
                return Err(QuantError::unsupported(
                    &pn.name,
                    "op",
                    format!(
                        "Delay is not supported by target `{}`: its synapses have no programmable delay (every \
                         connection takes the target's fixed latency of {} step(s))",
                        target.name(),
                        target.timing().synapse_delay_steps()
                    ),
                ));
            }
            Op::Threshold { .. } => {
                return Err(QuantError::unsupported(
                    &pn.name,
                    "op",
                    format!(
                        "a stateless Threshold is not supported by target `{}`: only neuron populations spike on \
                         its cores",
                        target.name()
                    ),
                ));
            }
            Op::Output { .. } => {
                return Err(QuantError::unsupported(
                    &pn.name,
                    "op",
                    "an Output node feeds another node; outputs only record",
                ));
            }
        }
    }
    Ok(out)
}

/// The input fact shape of a node (its summed input).
fn in_shape(g: &Graph, id: NodeId) -> Vec<usize> {
    g.input_fact(id).map(|f| f.shape.dims().to_vec()).unwrap_or_default()
}

fn shape3(name: &str, field: &str, d: &[usize]) -> Result<[usize; 3], QuantError> {
    match d {
        [a, b, c] => Ok([*a, *b, *c]),
        _ => Err(QuantError::unsupported(
            name,
            field,
            format!("expects a [C, H, W] value, got {d:?}"),
        )),
    }
}

/// The geometry of a 2-d Conv node.
pub(crate) fn conv_geom(g: &Graph, id: NodeId) -> Result<ConvGeom, QuantError> {
    let n = g.node(id);
    let Op::Conv {
        weight,
        stride,
        padding,
        dilation,
        groups,
        ..
    } = &n.op
    else {
        return Err(QuantError::Internal {
            node: n.name.clone(),
            message: "not a convolution".into(),
        });
    };
    let wd = weight.shape().dims();
    let two = |v: &[usize]| -> [usize; 2] { [v.first().copied().unwrap_or(1), v.get(1).copied().unwrap_or(1)] };
    Ok(ConvGeom {
        in_shape: shape3(&n.name, "input", &in_shape(g, id))?,
        out_shape: shape3(&n.name, "output", n.out.shape.dims())?,
        kernel: [wd.get(2).copied().unwrap_or(1), wd.get(3).copied().unwrap_or(1)],
        stride: two(stride),
        padding: two(padding),
        dilation: two(dilation),
        groups: *groups,
    })
}

/// One linear op as a sparse matrix over its actual input.
fn op_csr(g: &Graph, id: NodeId) -> Result<Csr, QuantError> {
    let n = g.node(id);
    let numel = n.out.shape.numel();
    Ok(match &n.op {
        Op::Affine { weight, .. } => {
            let d = weight.shape().dims();
            Csr::from_dense(d[0], d[1], weight.data())
        }
        Op::Conv { weight, .. } => Csr::from_conv(&conv_geom(g, id)?, weight.data()),
        Op::Pool2d {
            kind,
            kernel,
            stride,
            padding,
        } => Csr::from_pool(
            shape3(&n.name, "input", &in_shape(g, id))?,
            *kind,
            *kernel,
            *stride,
            *padding,
        ),
        Op::Scale { scale } => Csr::diag(&scale.broadcast_to(numel).unwrap_or_else(|| vec![0.0; numel])),
        Op::Flatten { .. } => Csr::diag(&vec![1.0; numel]),
        _ => {
            return Err(QuantError::Internal {
                node: n.name.clone(),
                message: "not a linear op".into(),
            });
        }
    })
}

/// The float map of a chain, and the names of the ops it was folded from.
///
/// Flatten ops are dropped (row-major reshapes keep flat indices), scalar
/// Scale ops become a factor; what remains is one 2-d Conv (kept as a
/// convolution), one Affine (dense), nothing (identity, sparse), or a
/// composition (sparse, exact).
pub(crate) fn chain_map(g: &Graph, chain: &Chain) -> Result<(LinMap, Vec<String>), QuantError> {
    let folded: Vec<String> = chain.ops.iter().map(|&o| g.node(o).name.clone()).collect();
    let mut factor = 1.0;
    let mut rest: Vec<NodeId> = Vec::new();
    for &o in &chain.ops {
        match &g.node(o).op {
            Op::Flatten { .. } => {}
            Op::Scale { scale } if scale.len() == 1 => factor *= scale.data()[0],
            _ => rest.push(o),
        }
    }
    let src_len = g.node(chain.source).out.shape.numel();
    let mut map = match rest.as_slice() {
        [] => LinMap::Sparse(Csr::diag(&vec![1.0; src_len])),
        [one] => match &g.node(*one).op {
            Op::Conv { weight, .. } => LinMap::Conv {
                geom: conv_geom(g, *one)?,
                w: weight.data().to_vec(),
            },
            Op::Affine { weight, .. } => {
                let d = weight.shape().dims();
                LinMap::Dense {
                    out: d[0],
                    inp: d[1],
                    w: weight.data().to_vec(),
                }
            }
            _ => LinMap::Sparse(op_csr(g, *one)?),
        },
        _ => {
            let mut m = op_csr(g, rest[0])?;
            for &o in &rest[1..] {
                m = op_csr(g, o)?.after(&m);
            }
            LinMap::Sparse(m)
        }
    };
    if factor != 1.0 {
        for x in map.values_mut() {
            *x *= factor;
        }
    }
    Ok((map, folded))
}

/// The linear part of an op applied to a vector (no bias).
fn apply_linear(g: &Graph, id: NodeId, x: &[f64]) -> Result<Vec<f64>, QuantError> {
    Ok(match &g.node(id).op {
        Op::Flatten { .. } => x.to_vec(),
        _ => op_csr(g, id)?.apply(x),
    })
}

/// The bias arriving at `node`'s input (sum over its linear predecessors of
/// their output bias), `None` when there is none.
pub(crate) fn bias_into(
    g: &Graph,
    node: NodeId,
    memo: &mut HashMap<NodeId, Option<Vec<f64>>>,
    ops: &mut Vec<String>,
) -> Result<Option<Vec<f64>>, QuantError> {
    let mut total: Option<Vec<f64>> = None;
    for (_, pred) in g.inputs(node) {
        if matches!(g.node(pred).op, Op::Neuron(_) | Op::Input { .. }) {
            continue;
        }
        if let Some(b) = out_bias(g, pred, memo, ops)? {
            match &mut total {
                None => total = Some(b),
                Some(t) => t.iter_mut().zip(&b).for_each(|(t, b)| *t += b),
            }
        }
    }
    Ok(total)
}

fn out_bias(
    g: &Graph,
    id: NodeId,
    memo: &mut HashMap<NodeId, Option<Vec<f64>>>,
    ops: &mut Vec<String>,
) -> Result<Option<Vec<f64>>, QuantError> {
    if let Some(b) = memo.get(&id) {
        return Ok(b.clone());
    }
    // Guard against re-entry on a (rejected elsewhere) linear cycle.
    memo.insert(id, None);
    let n = g.node(id);
    let inb = bias_into(g, id, memo, ops)?;
    let mut y = match inb {
        Some(b) => Some(apply_linear(g, id, &b)?),
        None => None,
    };
    let own: Option<Vec<f64>> = match &n.op {
        Op::Affine { bias: Some(b), .. } => Some(b.data().to_vec()),
        Op::Conv { bias: Some(b), .. } => {
            let plane = n.out.shape.numel() / b.len().max(1);
            Some(b.data().iter().flat_map(|&v| std::iter::repeat_n(v, plane)).collect())
        }
        _ => None,
    };
    if let Some(b) = own
        && b.iter().any(|&v| v != 0.0)
    {
        if !ops.contains(&n.name) {
            ops.push(n.name.clone());
        }
        match &mut y {
            None => y = Some(b),
            Some(t) => t.iter_mut().zip(&b).for_each(|(t, b)| *t += b),
        }
    }
    let y = y.filter(|v| v.iter().any(|&x| x != 0.0));
    memo.insert(id, y.clone());
    Ok(y)
}

/// Lowers the graph: populations in schedule order, their chains and biases,
/// and the outputs.
pub(crate) fn lower(g: &Graph, target: &Target) -> Result<Lowered, QuantError> {
    let inputs = g.input_nodes();
    let order = g.schedule().order;
    let pop_nodes: Vec<NodeId> = order
        .iter()
        .copied()
        .filter(|&i| matches!(g.node(i).op, Op::Neuron(_)) && !crate::readout::is_readout_synapse(g, i))
        .collect();
    check_synapses(g)?;
    let mut pops = Vec::with_capacity(pop_nodes.len());
    let mut memo = HashMap::new();
    for &id in &pop_nodes {
        let node = g.node(id);
        let Op::Neuron(neuron) = &node.op else { continue };
        check_neuron(&node.name, neuron, target)?;
        let mut path = vec![id];
        let chains = chains_into(g, id, &mut path, target)?;
        let mut bias_ops = Vec::new();
        let bias = bias_into(g, id, &mut memo, &mut bias_ops)?.unwrap_or_else(|| vec![0.0; neuron.len()]);
        pops.push(PopLowered {
            node: id,
            name: node.name.clone(),
            neuron: neuron.clone(),
            chains,
            bias,
            bias_ops,
        });
    }
    // Everything else on the way to a population was checked by chains_into;
    // the remaining ops must also be runnable (e.g. a Delay feeding an Output).
    for id in g.node_ids() {
        let n = g.node(id);
        if let Op::Delay { .. } | Op::Threshold { .. } = n.op {
            let mut path = Vec::new();
            for s in g.outputs(id) {
                chains_into(g, s, &mut path, target)?;
            }
        }
    }
    let mut outputs = Vec::new();
    let mut readouts = Vec::new();
    for o in g.output_nodes() {
        let on = g.node(o);
        let preds = g.inputs(o);
        if preds.len() != 1 {
            return Err(QuantError::unsupported(
                &on.name,
                "input",
                format!(
                    "an Output must record exactly one population or input; it sums {} values",
                    preds.len()
                ),
            ));
        }
        let mut cur = preds[0].1;
        loop {
            let cn = g.node(cur);
            match &cn.op {
                Op::Flatten { .. } if g.inputs(cur).len() == 1 => cur = g.inputs(cur)[0].1,
                Op::Neuron(_) if crate::readout::is_readout_synapse(g, cur) => {
                    readouts.push(lower_readout(g, o, cur, &pop_nodes, target, &mut memo)?);
                    break;
                }
                Op::Neuron(_) => {
                    let k = pop_nodes.iter().position(|&p| p == cur).unwrap_or(0);
                    outputs.push((on.name.clone(), SrcRef::Pop(k)));
                    break;
                }
                Op::Input { .. } => {
                    let k = inputs.iter().position(|&p| p == cur).unwrap_or(0);
                    outputs.push((on.name.clone(), SrcRef::Input(k)));
                    break;
                }
                Op::Delay { .. } | Op::Threshold { .. } => {
                    let mut path = Vec::new();
                    chains_into(g, o, &mut path, target)?;
                    return Err(QuantError::unsupported(&cn.name, "op", "cannot feed an Output on chip"));
                }
                Op::Output { .. } => {
                    let mut path = Vec::new();
                    chains_into(g, o, &mut path, target)?;
                    break;
                }
                // A linear op: a host readout of chip spikes.
                _ => {
                    readouts.push(lower_readout(g, o, cur, &pop_nodes, target, &mut memo)?);
                    break;
                }
            }
        }
    }
    Ok(Lowered {
        inputs,
        pops,
        outputs,
        readouts,
    })
}

/// A host readout before its weights are folded.
#[derive(Clone, Debug)]
pub(crate) struct ReadoutLowered {
    /// The node whose value it is.
    pub name: String,
    /// The Output it feeds.
    pub output: String,
    /// Per-step shape.
    pub shape: Shape,
    /// Chains from populations to its input.
    pub chains: Vec<Chain>,
    /// Folded Affine/Conv bias at its input, one per element.
    pub bias: Vec<f64>,
    /// The readout synapse (an LI population), when filtered.
    pub synapse: Option<Neuron>,
}

/// Every readout synapse feeds only Outputs (through Flatten at most): a
/// host readout is the end of the network, never a layer in its middle.
pub(crate) fn check_synapses(g: &Graph) -> Result<(), QuantError> {
    for id in g.node_ids() {
        if !crate::readout::is_readout_synapse(g, id) {
            continue;
        }
        let n = g.node(id);
        if let Op::Neuron(nn) = &n.op
            && nn.model != NeuronModel::Li
        {
            return Err(QuantError::unsupported(
                &n.name,
                "model",
                format!(
                    "a readout synapse (metadata `{}`) is an LI population; this is {}",
                    crate::readout::READOUT_SYNAPSE_KEY,
                    nn.model.nir_name()
                ),
            ));
        }
        let mut stack = g.outputs(id);
        while let Some(s) = stack.pop() {
            match g.node(s).op {
                Op::Output { .. } => {}
                Op::Flatten { .. } => stack.extend(g.outputs(s)),
                _ => {
                    return Err(QuantError::unsupported(
                        &n.name,
                        "output",
                        format!(
                            "a readout synapse feeds `{}`; a host readout runs after the chip and may only feed \
                             Outputs (a readout in the middle of the network cannot run on the host)",
                            g.node(s).name
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Lowers the readout of Output `output`, whose recorded node is `value`
/// (a readout synapse, or a linear op). `pops` are the population nodes.
pub(crate) fn lower_readout(
    g: &Graph,
    output: NodeId,
    value: NodeId,
    pops: &[NodeId],
    target: &nmc_target::Target,
    memo: &mut HashMap<NodeId, Option<Vec<f64>>>,
) -> Result<ReadoutLowered, QuantError> {
    let vn = g.node(value);
    let synapse = match &vn.op {
        Op::Neuron(n) if crate::readout::is_readout_synapse(g, value) => Some(n.clone()),
        _ => None,
    };
    // The linear chains end at the synapse's input, or at the Output's.
    let end = if synapse.is_some() { value } else { output };
    let mut path = vec![end];
    let chains = chains_into(g, end, &mut path, target)?;
    if chains.is_empty() {
        return Err(QuantError::unsupported(
            &vn.name,
            "input",
            "a host readout reads spikes of chip populations; this one reads nothing",
        ));
    }
    for c in &chains {
        let src = g.node(c.source);
        match &src.op {
            Op::Neuron(_) if crate::readout::is_readout_synapse(g, c.source) => {
                return Err(QuantError::unsupported(
                    &vn.name,
                    "input",
                    format!(
                        "reads readout `{}`: a host readout reads spikes of chip populations, not another readout",
                        src.name
                    ),
                ));
            }
            Op::Neuron(n) if !n.model.spikes() => {
                return Err(QuantError::unsupported(
                    &vn.name,
                    "input",
                    format!(
                        "reads `{}`, a non-spiking population: a host readout reads spikes of chip populations",
                        src.name
                    ),
                ));
            }
            Op::Neuron(_) if pops.contains(&c.source) => {}
            _ => {
                return Err(QuantError::unsupported(
                    &vn.name,
                    "input",
                    format!(
                        "reads `{}` ({}) directly: a host readout reads spikes of chip populations",
                        src.name,
                        src.op.kind_name()
                    ),
                ));
            }
        }
    }
    let shape = g.node(output).out.shape.clone();
    let mut ops = Vec::new();
    let bias = bias_into(g, end, memo, &mut ops)?.unwrap_or_else(|| vec![0.0; shape.numel()]);
    Ok(ReadoutLowered {
        name: vn.name.clone(),
        output: g.node(output).name.clone(),
        shape,
        chains,
        bias,
        synapse,
    })
}
