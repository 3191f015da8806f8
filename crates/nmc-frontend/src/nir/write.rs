//! Writing a graph as a NIR file (HDF5, the layout `nir.write` produces:
//! `/version`, `/node` with `type = "NIRGraph"`, `edges`, `nodes/<name>/`
//! with a `type` string and one dataset per field, `metadata/dt`).
//!
//! Used by `nmc convert` so that a network converted from ONNX can be read
//! by other NIR tools. Parameters are written as float64, integer fields as
//! int64. Every op of the IR has a NIR node type; a graph written and read
//! back is the same graph (tested).

use crate::FrontendError;
use hdf5_pure::{FileBuilder, GroupBuilder};
use nmc_ir::{Graph, Neuron, NeuronModel, NodeId, Op, PoolKind};

/// The NIR version written in `/version`.
pub const NIR_VERSION: &str = "1.0.8";

fn ints(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

fn dims(v: &[usize]) -> Vec<u64> {
    v.iter().map(|&x| x as u64).collect()
}

/// Encodes `g` as the bytes of a NIR (HDF5) file.
pub fn to_nir_bytes(g: &Graph, file: &str) -> Result<Vec<u8>, FrontendError> {
    let mut fb = FileBuilder::new();
    fb.create_dataset("version")
        .with_vlen_strings(&[NIR_VERSION])
        .with_shape(&[]);
    let mut root = fb.create_group("node");
    root.create_dataset("type")
        .with_vlen_strings(&["NIRGraph"])
        .with_shape(&[]);
    write_edges(&mut root, g);
    let mut nodes = root.create_group("nodes");
    for id in g.node_ids() {
        let node = g.node(id);
        if node.name.contains('/') || node.name.is_empty() || node.name == "." {
            return Err(node_err(
                file,
                &node.name,
                "name",
                "is not a valid NIR node name".into(),
            ));
        }
        let mut ng = nodes.create_group(&node.name);
        let ty = write_op(&mut ng, g, id, file)?;
        ng.create_dataset("type").with_vlen_strings(&[ty]).with_shape(&[]);
        nodes.add_group(ng.finish());
    }
    root.add_group(nodes.finish());
    let mut meta = root.create_group("metadata");
    meta.create_dataset("dt").with_f64_data(&[g.dt]).with_shape(&[]);
    // The IR's weights are in the step convention whatever the source was
    // (an impulse file's 1/dt was folded in on import), and the rule is the
    // graph's: reading the file back gives the same graph.
    meta.create_dataset("spike_convention")
        .with_vlen_strings(&[nmc_ir::SpikeConvention::Step.name()])
        .with_shape(&[]);
    meta.create_dataset("discretization")
        .with_vlen_strings(&[g.discretization.name()])
        .with_shape(&[]);
    root.add_group(meta.finish());
    fb.add_group(root.finish());
    fb.finish().map_err(|e| FrontendError::Container {
        file: file.to_string(),
        reason: format!("writing HDF5 failed: {e}"),
    })
}

fn node_err(file: &str, node: &str, field: &str, message: String) -> FrontendError {
    FrontendError::Nir {
        file: file.to_string(),
        node: Some(node.to_string()),
        field: Some(field.to_string()),
        message,
    }
}

/// The graph's `edges`: an (E, 2) array of node names.
fn write_edges(root: &mut GroupBuilder, g: &Graph) {
    let mut edges: Vec<String> = Vec::new();
    for e in g.petgraph().edge_indices() {
        if let Some((s, t)) = g.edge_endpoints(e) {
            edges.push(g.node(s).name.clone());
            edges.push(g.node(t).name.clone());
        }
    }
    let edge_refs: Vec<&str> = edges.iter().map(String::as_str).collect();
    root.create_dataset("edges")
        .with_vlen_strings(&edge_refs)
        .with_shape(&[(edges.len() / 2) as u64, 2]);
}

/// A float64 dataset of this shape.
fn put_f(ng: &mut GroupBuilder, name: &str, shape: &[usize], data: &[f64]) {
    ng.create_dataset(name).with_f64_data(data).with_shape(&dims(shape));
}

/// An int64 dataset, a scalar or a vector.
fn put_i(ng: &mut GroupBuilder, name: &str, data: &[i64], scalar: bool) {
    let d = ng.create_dataset(name).with_i64_data(data);
    if scalar {
        d.with_shape(&[]);
    } else {
        d.with_shape(&[data.len() as u64]);
    }
}

/// Writes the fields of node `id`'s op into its group; returns its NIR type.
fn write_op(ng: &mut GroupBuilder, g: &Graph, id: NodeId, file: &str) -> Result<&'static str, FrontendError> {
    let node = g.node(id);
    Ok(match &node.op {
        Op::Input { shape } => {
            put_i(ng, "shape", &ints(shape.dims()), false);
            "Input"
        }
        Op::Output { shape } => {
            put_i(ng, "shape", &ints(shape.dims()), false);
            "Output"
        }
        Op::Affine { weight, bias } => {
            put_f(ng, "weight", weight.shape().dims(), weight.data());
            match bias {
                Some(b) => {
                    put_f(ng, "bias", b.shape().dims(), b.data());
                    "Affine"
                }
                None => "Linear",
            }
        }
        Op::Scale { scale } => {
            put_f(ng, "scale", scale.shape().dims(), scale.data());
            "Scale"
        }
        Op::Conv {
            weight,
            bias,
            stride,
            padding,
            dilation,
            groups,
        } => {
            put_f(ng, "weight", weight.shape().dims(), weight.data());
            let cout = weight.shape().dims()[0];
            let zeros = vec![0.0; cout];
            let b = bias.as_ref().map_or(&zeros[..], |b| b.data());
            put_f(ng, "bias", &[cout], b);
            put_i(ng, "stride", &ints(stride), false);
            put_i(ng, "padding", &ints(padding), false);
            put_i(ng, "dilation", &ints(dilation), false);
            put_i(ng, "groups", &[*groups as i64], true);
            if let Some(f) = g.input_fact(id) {
                // nir 1.0 requires the spatial input shape of a convolution.
                put_i(ng, "input_shape", &ints(&f.shape.dims()[1..]), false);
            }
            if stride.len() == 1 { "Conv1d" } else { "Conv2d" }
        }
        Op::Flatten { start_dim, end_dim } => {
            put_i(ng, "start_dim", &[*start_dim], true);
            put_i(ng, "end_dim", &[*end_dim], true);
            if let Some(f) = g.input_fact(id) {
                put_i(ng, "input_type", &ints(f.shape.dims()), false);
            }
            "Flatten"
        }
        Op::Pool2d {
            kind,
            kernel,
            stride,
            padding,
        } => {
            put_i(ng, "kernel_size", &ints(kernel), false);
            put_i(ng, "stride", &ints(stride), false);
            put_i(ng, "padding", &ints(padding), false);
            match kind {
                PoolKind::Sum => "SumPool2d",
                PoolKind::Avg => "AvgPool2d",
            }
        }
        Op::Threshold { threshold } => {
            put_f(ng, "threshold", threshold.shape().dims(), threshold.data());
            "Threshold"
        }
        Op::Delay { delay } => {
            put_f(ng, "delay", delay.shape().dims(), delay.data());
            "Delay"
        }
        Op::Neuron(n) => write_neuron(ng, n, file, &node.name)?,
    })
}

/// A neuron population's parameters (and its refractory period and voltage
/// floor as node metadata); returns its NIR type.
fn write_neuron(ng: &mut GroupBuilder, n: &Neuron, file: &str, node: &str) -> Result<&'static str, FrontendError> {
    if n.refractory > 0.0 || n.v_min > f64::NEG_INFINITY {
        // NIR has no refractory or voltage-floor field; nmc reads them back
        // from node metadata.
        let mut m = ng.create_group("metadata");
        if n.refractory > 0.0 {
            m.create_dataset("refractory")
                .with_f64_data(&[n.refractory])
                .with_shape(&[]);
        }
        if n.v_min > f64::NEG_INFINITY {
            m.create_dataset("v_min").with_f64_data(&[n.v_min]).with_shape(&[]);
        }
        ng.add_group(m.finish());
    }
    if n.reset == nmc_ir::ResetMode::Subtract {
        return Err(node_err(
            file,
            node,
            "reset",
            "NIR has no subtractive reset; it would be lost".into(),
        ));
    }
    let shape = n.shape.dims().to_vec();
    for (k, v) in n.params() {
        put_f(ng, k, &shape, v);
    }
    Ok(match n.model {
        NeuronModel::I => "I",
        NeuronModel::If => "IF",
        NeuronModel::Li => "LI",
        NeuronModel::Lif => "LIF",
        NeuronModel::CubaLi => "CubaLI",
        NeuronModel::CubaLif => "CubaLIF",
    })
}

/// Writes `g` as a NIR file at `path`.
pub fn write_nir(g: &Graph, path: &std::path::Path) -> Result<(), FrontendError> {
    let file = path.display().to_string();
    let bytes = to_nir_bytes(g, &file)?;
    nmc_core::output::write_atomic(path, &bytes).map_err(|source| FrontendError::Io { file, source })
}
