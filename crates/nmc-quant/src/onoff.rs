//! `--encoder onoff`: a fixed on/off spike encoder in front of a model that
//! reads real values but has no encoder layer of its own.
//!
//! For an input `x` of shape `[C, H, W]` the transform inserts a 1×1
//! convolution `C → 2C` (on channel `c`: weight +1, off channel `C + c`:
//! weight −1) and an IF population (r = 1, threshold 1, reset to 0). An IF
//! neuron driven by a constant `a ∈ [0, 1]` fires at about `a` spikes per
//! step, so the on channel carries `x⁺` and the off channel `x⁻` as rates
//! and `x ≈ rate_on − rate_off`. Every layer that read `x` now reads the
//! spikes, with its weights `W` replaced by `[W, −W]` over the on and off
//! channels, so the network computes the same function of the rates. The
//! encoder is a leading 1×1 conv + neuron layer, so `EncoderMode::Auto`
//! places it on the host.

use crate::QuantError;
use nmc_ir::{Graph, GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};

fn unsupported(node: &str, field: &'static str, message: String) -> QuantError {
    QuantError::Unsupported {
        node: node.to_string(),
        field: field.to_string(),
        message,
    }
}

/// `[W, −W]` along axis 1 of a tensor whose axis 0 has `rows` entries.
fn doubled(w: &Tensor, node: &str) -> Result<Tensor, QuantError> {
    let d = w.shape().dims().to_vec();
    if d.len() < 2 {
        return Err(unsupported(
            node,
            "weight",
            format!("rank {} weight cannot be doubled", d.len()),
        ));
    }
    let rows = d[0];
    let per_row = w.len() / rows.max(1);
    let mut data = Vec::with_capacity(2 * w.len());
    for r in 0..rows {
        let row = &w.data()[r * per_row..(r + 1) * per_row];
        data.extend_from_slice(row);
        data.extend(row.iter().map(|x| -x));
    }
    let mut shape = d;
    shape[1] *= 2;
    Tensor::new(Shape::new(shape), data).map_err(|e| unsupported(node, "weight", e.to_string()))
}

/// Inserts an on/off encoder after every Input node (see the module doc).
/// Inputs must be `[C, H, W]`; their readers must be 2-d convolutions with
/// one group, Affine/Linear layers, or Flatten nodes feeding only those.
pub fn insert_onoff_encoder(g: &Graph) -> Result<Graph, QuantError> {
    let mut b = GraphBuilder::new(g.name.clone());
    b.dt(g.dt).discretization(g.discretization);
    for (k, v) in &g.meta {
        b.meta(k.clone(), v.clone());
    }
    let inputs = g.input_nodes();
    // Nodes whose weights double: direct readers of an input, or Affines behind a Flatten of one.
    let mut doubles = vec![false; g.node_count()];
    for &i in &inputs {
        let node = g.node(i);
        if node.out.shape.rank() != 3 {
            return Err(unsupported(
                &node.name,
                "shape",
                format!(
                    "the on/off encoder needs a [C, H, W] input, this one is {}",
                    node.out.shape
                ),
            ));
        }
        for s in g.outputs(i) {
            match &g.node(s).op {
                Op::Conv { groups: 1, stride, .. } if stride.len() == 2 => doubles[s.index()] = true,
                Op::Affine { .. } => doubles[s.index()] = true,
                Op::Flatten { .. } => {
                    for t in g.outputs(s) {
                        match &g.node(t).op {
                            Op::Affine { .. } if g.inputs(t).len() == 1 => doubles[t.index()] = true,
                            _ => {
                                return Err(unsupported(
                                    &g.node(t).name,
                                    "op",
                                    "behind a flattened input, the on/off encoder supports Affine/Linear readers only"
                                        .into(),
                                ));
                            }
                        }
                    }
                }
                other => {
                    return Err(unsupported(
                        &g.node(s).name,
                        "op",
                        format!(
                            "reads input `{}` as {}; the on/off encoder supports conv2d (groups 1), affine and flatten readers",
                            node.name,
                            other.kind_name()
                        ),
                    ));
                }
            }
            if g.inputs(s).len() != 1 {
                return Err(unsupported(
                    &g.node(s).name,
                    "inputs",
                    "a reader of the input that also sums other values cannot be re-weighted".into(),
                ));
            }
        }
    }
    let enc_name = |input: &str| (format!("{input}.onoff_conv"), format!("{input}.onoff"));
    for id in g.node_ids() {
        let node = g.node(id);
        let mut op = node.op.clone();
        if doubles[id.index()] {
            op = match op {
                Op::Conv {
                    weight,
                    bias,
                    stride,
                    padding,
                    dilation,
                    groups,
                } => Op::Conv {
                    weight: doubled(&weight, &node.name)?,
                    bias,
                    stride,
                    padding,
                    dilation,
                    groups,
                },
                Op::Affine { weight, bias } => Op::Affine {
                    weight: doubled(&weight, &node.name)?,
                    bias,
                },
                other => other,
            };
        }
        b.node(node.name.clone(), op, node.meta.clone())
            .map_err(|e| unsupported(&node.name, "name", e.to_string()))?;
        if matches!(node.op, Op::Input { .. }) {
            let c = node.out.shape.dims()[0];
            let (conv, pop) = enc_name(&node.name);
            let mut w = vec![0.0; 2 * c * c];
            for ch in 0..c {
                w[ch * c + ch] = 1.0;
                w[(c + ch) * c + ch] = -1.0;
            }
            let weight = Tensor::new(Shape::new([2 * c, c, 1, 1]), w)
                .map_err(|e| unsupported(&conv, "weight", e.to_string()))?;
            b.node(
                conv.clone(),
                Op::Conv {
                    weight,
                    bias: None,
                    stride: vec![1, 1],
                    padding: vec![0, 0],
                    dilation: vec![1, 1],
                    groups: 1,
                },
                Default::default(),
            )
            .map_err(|e| unsupported(&conv, "name", e.to_string()))?;
            let mut dims = node.out.shape.dims().to_vec();
            dims[0] *= 2;
            let mut n = Neuron::neutral(NeuronModel::If, Shape::new(dims));
            let len = n.len();
            n.v_threshold = vec![1.0; len];
            b.node(pop.clone(), Op::Neuron(n), Default::default())
                .map_err(|e| unsupported(&pop, "name", e.to_string()))?;
            b.edge(node.name.clone(), conv.clone()).edge(conv, pop);
        }
    }
    for e in g.petgraph().edge_indices() {
        let Some((s, t)) = g.edge_endpoints(e) else { continue };
        let src = &g.node(s).name;
        if matches!(g.node(s).op, Op::Input { .. }) {
            b.edge(enc_name(src).1, g.node(t).name.clone());
        } else {
            b.edge(src.clone(), g.node(t).name.clone());
        }
    }
    b.build().map_err(|e| unsupported("<graph>", "edges", e.to_string()))
}
