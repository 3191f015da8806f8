//! The spiking graph: each stage of the ANN becomes its weighted, pooling
//! and flatten ops rescaled by the stage's factors, then an IF (or LIF)
//! population; plus the report of what was done.

use super::ann::{Ann, Layer};
use super::calibrate::{Scales, scales, stages};
use super::{Conversion, ConvertOptions, ConvertReport, LayerReport, LogitsLayer, SpikingNeuron, err};
use crate::FrontendError;
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, PoolKind, ResetMode, Shape, Tensor};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

/// IR ops with their node names, in chain order.
type NamedOps = Vec<(String, Op)>;

/// Converts the lowered ANN into the spiking graph, with the report.
pub(super) fn build(file: &str, ann: Ann, opts: &ConvertOptions) -> Result<Conversion, FrontendError> {
    let dt = opts.dt.unwrap_or(nmc_ir::DEFAULT_DT);
    let r = rate_per_step(file, opts, dt)?;
    let st = stages(&ann);
    let Scales {
        lambdas,
        mean_rate,
        saturated,
        nsamples,
        warnings,
    } = scales(file, &ann, &st, opts)?;

    // Build the graph.
    let mut b = GraphBuilder::new(ann.name.clone());
    b.dt(dt);
    let mut names = Names::default();
    let input = names.unique(&ann.input_name);
    b.node(
        input.clone(),
        Op::Input {
            shape: Shape::new(ann.input_shape.clone()),
        },
        BTreeMap::new(),
    )
    .map_err(|e| build_error(file, e))?;
    let mut prev = input;
    let mut layers_rep = Vec::new();
    let mut lam_prev = r;
    for (k, (rg, has_relu)) in st.iter().enumerate() {
        let lam = lambdas[k];
        let wf = lam_prev / lam;
        let bf = r / lam;
        let (mut ops, onnx_nodes) = stage_ops(file, &ann, rg, wf, bf, &mut names)?;
        let last = &ann.layers[rg.end - 1];
        // The logits as a readout: the last stage's linear ops feed the
        // Output directly (a ReLU on the logits has no readout form).
        let readout = opts.logits == LogitsLayer::Readout && k + 1 == st.len() && !*has_relu;
        let pop_name = if readout {
            ops.last().map(|(n, _)| n.clone()).unwrap_or_else(|| prev.clone())
        } else if *has_relu {
            names.unique(&last.0)
        } else {
            names.unique(&format!("{}_if", last.0))
        };
        if !readout {
            ops.push((pop_name.clone(), Op::Neuron(population(opts, &last.2))));
        }
        for (name, op) in ops {
            b.node(name.clone(), op, BTreeMap::new())
                .map_err(|e| build_error(file, e))?;
            b.edge(prev.clone(), name.clone());
            prev = name;
        }
        layers_rep.push(LayerReport {
            name: pop_name,
            onnx_nodes,
            ann_scale: lam,
            weight_factor: wf,
            bias_factor: bf,
            expected_mean_rate_hz: mean_rate[k],
            saturated_fraction: saturated[k],
        });
        lam_prev = lam;
    }
    let output_scale = lam_prev / r;
    let graph = finish(file, b, &mut names, prev, &ann, opts, output_scale, &warnings)?;
    Ok(Conversion {
        graph,
        report: ConvertReport {
            opset: ann.opset,
            percentile: opts.percentile,
            max_rate_hz: opts.max_rate_hz,
            rate_per_step: r,
            calibration_samples: nsamples,
            layers: layers_rep,
            output_scale,
            notes: ann.notes.clone(),
            warnings,
        },
        ann,
    })
}

/// The target rate `max_rate_hz · dt` in spikes per step, checked with the
/// percentile.
fn rate_per_step(file: &str, opts: &ConvertOptions, dt: f64) -> Result<f64, FrontendError> {
    let r = opts.max_rate_hz * dt;
    if !(r > 0.0 && r <= 1.0 && opts.percentile > 0.0 && opts.percentile <= 100.0) {
        return Err(err(
            file,
            None,
            Some("options"),
            format!(
                "max rate {} Hz at dt {dt} s is {r} spikes/step, must be in (0, 1]; percentile {} must be in (0, 100]",
                opts.max_rate_hz, opts.percentile
            ),
        ));
    }
    Ok(r)
}

/// IR node names: sanitized ONNX names, made unique with `_2`, `_3`, ….
#[derive(Default)]
struct Names(HashSet<String>);

impl Names {
    fn unique(&mut self, s: &str) -> String {
        let names = &mut self.0;
        let base = sanitize(s);
        let mut n = base.clone();
        let mut k = 1;
        while names.contains(&n) {
            k += 1;
            n = format!("{base}_{k}");
        }
        names.insert(n.clone());
        n
    }
}

fn build_error(file: &str, e: nmc_ir::BuildError) -> FrontendError {
    FrontendError::Build {
        file: file.to_string(),
        source: Box::new(e),
        hint: None,
    }
}

/// The ops of stage `rg` before its population: weighted layers scaled
/// (the first by `wf`, every bias by `bf`), average pools as sum pools with
/// the divisor folded into a weighted op where the stage has one, flattens;
/// a Scale op first when the stage has no weighted layer. Also the ONNX
/// nodes the stage covers.
fn stage_ops(
    file: &str,
    ann: &Ann,
    rg: &Range<usize>,
    wf: f64,
    bf: f64,
    names: &mut Names,
) -> Result<(NamedOps, Vec<String>), FrontendError> {
    let mut ops: NamedOps = Vec::new();
    let mut first_weighted = true;
    let mut onnx_nodes = Vec::new();
    let mut pending_div = 1.0; // avg-pool divisor waiting for the next weighted layer
    let mut last_weighted: Option<usize> = None; // index in `ops`
    for i in rg.clone() {
        let (name, layer, _) = &ann.layers[i];
        onnx_nodes.push(name.clone());
        match layer {
            Layer::Relu => {}
            Layer::Flatten => ops.push((
                names.unique(name),
                Op::Flatten {
                    start_dim: 0,
                    end_dim: -1,
                },
            )),
            Layer::Conv {
                w,
                wdims,
                b,
                stride,
                pad,
                dil,
                groups,
            } => {
                let f = if first_weighted { wf } else { 1.0 } / pending_div;
                pending_div = 1.0;
                first_weighted = false;
                last_weighted = Some(ops.len());
                ops.push((
                    names.unique(name),
                    Op::Conv {
                        weight: tensor(wdims.to_vec(), w.iter().map(|v| v * f).collect(), file, name)?,
                        bias: Some(Tensor::vector(b.iter().map(|v| v * bf).collect())),
                        stride: stride.to_vec(),
                        padding: pad.to_vec(),
                        dilation: dil.to_vec(),
                        groups: *groups,
                    },
                ));
            }
            Layer::Dense { w, out, inp, b } => {
                let f = if first_weighted { wf } else { 1.0 } / pending_div;
                pending_div = 1.0;
                first_weighted = false;
                last_weighted = Some(ops.len());
                ops.push((
                    names.unique(name),
                    Op::Affine {
                        weight: tensor(vec![*out, *inp], w.iter().map(|v| v * f).collect(), file, name)?,
                        bias: Some(Tensor::vector(b.iter().map(|v| v * bf).collect())),
                    },
                ));
            }
            Layer::AvgPool { kernel, stride, pad } => {
                let div = (kernel[0] * kernel[1]) as f64;
                // Fold ÷area into the previous weighted op of this stage
                // (weights and bias), else into the next one (weights).
                let kind = if let Some(j) = last_weighted {
                    scale_op(&mut ops[j].1, 1.0 / div);
                    PoolKind::Sum
                } else if rg
                    .clone()
                    .skip(i + 1 - rg.start)
                    .any(|m| matches!(ann.layers[m].1, Layer::Conv { .. } | Layer::Dense { .. }))
                {
                    pending_div *= div;
                    PoolKind::Sum
                } else {
                    PoolKind::Avg
                };
                ops.push((
                    names.unique(name),
                    Op::Pool2d {
                        kind,
                        kernel: *kernel,
                        stride: *stride,
                        padding: *pad,
                    },
                ));
            }
        }
    }
    if first_weighted {
        // No weighted layer in this stage: scale explicitly.
        ops.insert(
            0,
            (
                names.unique(&format!("{}_scale", ann.layers[rg.start].0)),
                Op::Scale {
                    scale: Tensor::scalar(wf),
                },
            ),
        );
    }
    Ok((ops, onnx_nodes))
}

/// The spiking population of a stage with output `shape`.
fn population(opts: &ConvertOptions, shape: &[usize]) -> Neuron {
    let mut neuron = match opts.neuron {
        SpikingNeuron::If => Neuron::neutral(NeuronModel::If, Shape::new(shape.to_vec())),
        SpikingNeuron::Lif { tau_mem } => {
            let mut n = Neuron::neutral(NeuronModel::Lif, Shape::new(shape.to_vec()));
            n.tau_mem = vec![tau_mem; n.len()];
            n
        }
    };
    neuron.reset = opts.reset.unwrap_or(ResetMode::Zero);
    neuron
}

/// Adds the output node after `prev` and the conversion metadata, builds
/// and verifies the graph.
#[allow(clippy::too_many_arguments)]
fn finish(
    file: &str,
    mut b: GraphBuilder,
    names: &mut Names,
    prev: String,
    ann: &Ann,
    opts: &ConvertOptions,
    output_scale: f64,
    warnings: &[String],
) -> Result<Graph, FrontendError> {
    let out_shape = ann.layers.last().map(|l| l.2.clone()).unwrap_or_default();
    let out = names.unique(&ann.output_name);
    b.node(
        out.clone(),
        Op::Output {
            shape: Shape::new(out_shape),
        },
        BTreeMap::new(),
    )
    .map_err(|e| build_error(file, e))?;
    b.edge(prev, out);
    b.meta("source_format", Meta::Str("onnx".into()));
    b.meta("onnx_opset", Meta::Int(ann.opset));
    b.meta("onnx_output_scale", Meta::Float(output_scale));
    b.meta("onnx_max_rate_hz", Meta::Float(opts.max_rate_hz));
    if opts.logits == LogitsLayer::Readout {
        b.meta("onnx_logits", Meta::Str("readout".into()));
    }
    if !warnings.is_empty() {
        b.meta("onnx_warning", Meta::Str(warnings.join("; ")));
    }
    let graph = b.build().map_err(|e| build_error(file, e))?;
    nmc_ir::verify(&graph).map_err(|errors| FrontendError::Verify {
        file: file.to_string(),
        errors,
    })?;
    Ok(graph)
}

fn scale_op(op: &mut Op, f: f64) {
    match op {
        Op::Conv { weight, bias, .. } | Op::Affine { weight, bias, .. } => {
            weight.data_mut().iter_mut().for_each(|v| *v *= f);
            if let Some(b) = bias {
                b.data_mut().iter_mut().for_each(|v| *v *= f);
            }
        }
        _ => {}
    }
}

fn tensor(dims: Vec<usize>, data: Vec<f64>, file: &str, node: &str) -> Result<Tensor, FrontendError> {
    Tensor::new(Shape::new(dims), data).map_err(|e| err(file, Some(node), Some("weight"), e.to_string()))
}

fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "node".into() } else { t }
}
