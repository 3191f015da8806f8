//! Node decoding: one NIR node group (its fields checked against its type)
//! into the op or neuron population the graph builder will receive.

use super::{InputCheck, Lowerer, NeuronSpec, PendingNode, PendingOp};
use crate::FrontendError;
use crate::nir::fields::Fields;
use crate::nir::raw::Data;
use nmc_ir::{Meta, NeuronModel, Op, PoolKind, ResetMode, Shape};
use std::collections::BTreeMap;

/// Every node type the importer understands, for messages.
const SUPPORTED: &str = "Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, Flatten, SumPool2d, AvgPool2d, \
                         Threshold, Delay, I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph";

/// Node metadata keys that set a neuron population's refractory period
/// (seconds); all spellings given must agree.
pub(crate) const REFRACTORY_KEYS: [&str; 3] = ["refractory", "t_ref", "tau_ref"];
/// Node metadata keys that set a neuron population's lower voltage clamp.
pub(crate) const V_MIN_KEYS: [&str; 2] = ["v_min", "min_voltage"];

impl Lowerer<'_> {
    /// Lowers one non-graph node.
    pub(super) fn node(&self, mut f: Fields<'_>, kind: &str, full: &str) -> Result<PendingNode, FrontendError> {
        let meta = f.metadata()?;
        let mut check = None;
        let op = match kind {
            "Input" => PendingOp::Ready(Op::Input {
                shape: io_shape(&mut f, true)?.1,
            }),
            "Output" => PendingOp::Ready(Op::Output {
                shape: io_shape(&mut f, false)?.1,
            }),
            "Affine" | "Linear" => {
                let needs: &[&str] = if kind == "Affine" {
                    &["weight", "bias"]
                } else {
                    &["weight"]
                };
                let w = f.req_of("weight", kind, needs)?;
                let weight = f.tensor_rank("weight", w, 2, "[out, in]")?;
                let bias = if kind == "Affine" {
                    let b = f.req_of("bias", kind, needs)?;
                    Some(f.tensor_rank("bias", b, 1, "[out]")?)
                } else {
                    None
                };
                PendingOp::Ready(Op::Affine { weight, bias })
            }
            "Scale" => {
                let v = f.req("scale")?;
                PendingOp::Ready(Op::Scale {
                    scale: f.tensor("scale", v)?,
                })
            }
            "Threshold" => {
                let v = f.req("threshold")?;
                PendingOp::Ready(Op::Threshold {
                    threshold: f.tensor("threshold", v)?,
                })
            }
            "Delay" => {
                let v = f.req("delay")?;
                PendingOp::Ready(Op::Delay {
                    delay: f.tensor("delay", v)?,
                })
            }
            "Conv1d" | "Conv2d" => {
                let (op, c) = conv(&mut f, kind, if kind == "Conv1d" { 1 } else { 2 })?;
                check = c;
                PendingOp::Ready(op)
            }
            "Flatten" => {
                let s = f.req("start_dim")?;
                let start_dim = f.int("start_dim", s)?;
                let e = f.req("end_dim")?;
                let end_dim = f.int("end_dim", e)?;
                if let Some(it) = f.opt_typed("input_type", "input")? {
                    check = Some(InputCheck {
                        field: "input_type",
                        declared: f.shape("input_type", it)?.0,
                        spatial_only: false,
                    });
                }
                // Rule: `start_dim`/`end_dim` index the per-step value
                // *without* a batch axis, as in nir 1.0's own shape
                // inference (`calc_flatten_output`); negative values count
                // from the end. Exporters that start from a PyTorch
                // `nn.Flatten(start_dim=1)` subtract the batch axis first
                // (sinabs writes start_dim=0 for [8,4,4] → [128]), which is
                // exactly this rule. A file that kept PyTorch's batch-counting
                // index would flatten less than intended; the next layer's
                // weight shape then disagrees and the build reports it.
                PendingOp::Ready(Op::Flatten { start_dim, end_dim })
            }
            "SumPool2d" | "AvgPool2d" => {
                let k = f.req("kernel_size")?;
                let kernel = f.per_dim("kernel_size", k, 2, 1)?;
                let s = f.req("stride")?;
                let stride = f.per_dim("stride", s, 2, 1)?;
                let p = f.req("padding")?;
                let padding = f.per_dim("padding", p, 2, 0)?;
                PendingOp::Ready(Op::Pool2d {
                    kind: if kind == "SumPool2d" {
                        PoolKind::Sum
                    } else {
                        PoolKind::Avg
                    },
                    kernel: [kernel[0], kernel[1]],
                    stride: [stride[0], stride[1]],
                    padding: [padding[0], padding[1]],
                })
            }
            "I" | "IF" | "LI" | "LIF" | "CubaLI" | "CubaLIF" => PendingOp::Neuron(self.neuron(&mut f, kind, &meta)?),
            other => {
                return Err(f.err(
                    "type",
                    format!("unknown node type `{other}`; supported types: {SUPPORTED}"),
                ));
            }
        };
        f.finish(kind)?;
        Ok(PendingNode {
            name: full.to_string(),
            op,
            meta,
            check,
        })
    }

    fn neuron(
        &self,
        f: &mut Fields<'_>,
        kind: &str,
        meta: &BTreeMap<String, Meta>,
    ) -> Result<NeuronSpec, FrontendError> {
        let (model, required, optional): (NeuronModel, &[&'static str], &[&'static str]) = match kind {
            "I" => (NeuronModel::I, &["r"], &[]),
            "IF" => (NeuronModel::If, &["r", "v_threshold"], &["v_reset"]),
            "LI" => (NeuronModel::Li, &["tau", "r", "v_leak"], &[]),
            "LIF" => (NeuronModel::Lif, &["tau", "r", "v_leak", "v_threshold"], &["v_reset"]),
            "CubaLI" => (NeuronModel::CubaLi, &["tau_syn", "tau_mem", "r", "v_leak"], &["w_in"]),
            _ => (
                NeuronModel::CubaLif,
                &["tau_syn", "tau_mem", "r", "v_leak", "v_threshold"],
                &["v_reset", "w_in"],
            ),
        };
        let mut params = Vec::new();
        for &name in required {
            let v = f.req_of(name, kind, required)?;
            params.push((name, f.tensor(name, v)?));
        }
        for &name in optional {
            if let Some(v) = f.opt(name)? {
                params.push((name, f.tensor(name, v)?));
            }
        }
        // Population shape: the shape shared by every parameter array that is
        // not a single value.
        let mut shape: Option<(&str, Shape)> = None;
        for (name, t) in &params {
            if t.len() == 1 {
                continue;
            }
            match &shape {
                None => shape = Some((name, t.shape().clone())),
                Some((first, s)) if s != t.shape() => {
                    return Err(f.err(
                        name,
                        format!("shape {} disagrees with `{first}` of shape {s}", t.shape()),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(NeuronSpec {
            model,
            params,
            shape: shape.map(|(_, s)| s),
            refractory: population_number(f, meta, &REFRACTORY_KEYS, ("seconds", "must be ≥ 0 seconds"), |x| {
                x.is_finite() && x >= 0.0
            })?
            .unwrap_or(0.0),
            v_min: population_number(f, meta, &V_MIN_KEYS, ("volts", "must be a number or -inf"), |x| {
                !x.is_nan() && x != f64::INFINITY
            })?
            .unwrap_or(f64::NEG_INFINITY),
            reset: self.opts.reset.unwrap_or(ResetMode::Zero),
        })
    }
}

/// The shape of an Input (`shape` or `input_type`) or Output (`shape` or
/// `output_type`) node, and the field it came from.
pub(super) fn io_shape(f: &mut Fields<'_>, is_input: bool) -> Result<(&'static str, Shape), FrontendError> {
    let (alt, member) = if is_input {
        ("input_type", "input")
    } else {
        ("output_type", "output")
    };
    let shape = match f.opt("shape")? {
        Some(v) => Some(f.shape("shape", v)?),
        None => None,
    };
    let typed = match f.opt_typed(alt, member)? {
        Some(v) => Some(f.shape(alt, v)?),
        None => None,
    };
    match (shape, typed) {
        (Some(s), Some(t)) if s != t => Err(f.err(alt, format!("{t} disagrees with `shape` {s}"))),
        (Some(s), _) => Ok(("shape", s)),
        (None, Some(t)) => Ok((alt, t)),
        (None, None) => Err(f.err("shape", format!("missing field (give `shape` or `{alt}`)"))),
    }
}

/// Conv1d/Conv2d. Returns the op and the `input_shape` check, if declared.
fn conv(f: &mut Fields<'_>, kind: &str, nsp: usize) -> Result<(Op, Option<InputCheck>), FrontendError> {
    let needs = ["weight", "bias", "stride", "padding", "dilation", "groups"];
    let w = f.req_of("weight", kind, &needs)?;
    let layout = if nsp == 1 {
        "[C_out, C_in/groups, k]"
    } else {
        "[C_out, C_in/groups, kH, kW]"
    };
    let weight = f.tensor_rank("weight", w, nsp + 2, layout)?;
    let b = f.req_of("bias", kind, &needs)?;
    let bias = f.tensor_rank("bias", b, 1, "[C_out]")?;
    let s = f.req_of("stride", kind, &needs)?;
    let stride = f.per_dim("stride", s, nsp, 1)?;
    let d = f.req_of("dilation", kind, &needs)?;
    let dilation = f.per_dim("dilation", d, nsp, 1)?;
    let g = f.req_of("groups", kind, &needs)?;
    let groups = f.int("groups", g)?;
    let groups = usize::try_from(groups)
        .ok()
        .filter(|&g| g >= 1)
        .ok_or_else(|| f.err("groups", format!("must be ≥ 1, got {groups}")))?;
    let p = f.req_of("padding", kind, &needs)?;
    let padding = match &p.data {
        Data::Str(_) => {
            let mode = f.string("padding", p)?;
            match mode.as_str() {
                "valid" => vec![0; nsp],
                // "same" keeps the spatial size. With stride 1 the output
                // size is `in + 2p − dilation·(k−1)`, so symmetric padding
                // p = dilation·(k−1)/2 works when that is a whole number;
                // otherwise PyTorch pads one side more, which the IR's
                // symmetric padding cannot express.
                "same" => {
                    let k = &weight.shape().dims()[2..];
                    let mut pad = Vec::with_capacity(nsp);
                    for i in 0..nsp {
                        if stride[i] != 1 {
                            return Err(f.err(
                                "padding",
                                format!("\"same\" needs stride 1 (as in PyTorch), stride is {stride:?}"),
                            ));
                        }
                        let total = dilation[i] * (k[i].saturating_sub(1));
                        if total % 2 != 0 {
                            return Err(f.err(
                                "padding",
                                format!(
                                    "\"same\" with kernel {} and dilation {} in dimension {i} needs asymmetric padding, which nmc does not support",
                                    k[i], dilation[i]
                                ),
                            ));
                        }
                        pad.push(total / 2);
                    }
                    pad
                }
                other => {
                    return Err(f.err(
                        "padding",
                        format!("unknown padding mode {other:?} (expected \"same\", \"valid\" or integers)"),
                    ));
                }
            }
        }
        _ => f.per_dim("padding", p, nsp, 0)?,
    };
    let check = match f.opt("input_shape")? {
        None => None,
        Some(v) => {
            let declared = f.shape("input_shape", v)?.0;
            if declared.len() != nsp && declared.len() != nsp + 1 {
                return Err(f.err(
                    "input_shape",
                    format!(
                        "expected {nsp} spatial sizes or {} sizes with channels, got {declared:?}",
                        nsp + 1
                    ),
                ));
            }
            Some(InputCheck {
                field: "input_shape",
                spatial_only: declared.len() == nsp,
                declared,
            })
        }
    };
    Ok((
        Op::Conv {
            weight,
            bias: Some(bias),
            stride,
            padding,
            dilation,
            groups,
        },
        check,
    ))
}

/// One number for the whole population from node metadata, under any of
/// `keys` (spellings of one quantity; those given must agree), refused
/// unless `ok` (`(unit, rule)` word the errors): a refractory period or a
/// voltage floor.
fn population_number(
    f: &Fields<'_>,
    meta: &BTreeMap<String, Meta>,
    keys: &[&str],
    (unit, rule): (&str, &str),
    ok: impl Fn(f64) -> bool,
) -> Result<Option<f64>, FrontendError> {
    let mut found: Option<(&str, f64)> = None;
    for &key in keys {
        let Some(m) = meta.get(key) else { continue };
        let field = format!("metadata.{key}");
        let x = match m {
            Meta::Float(x) => *x,
            Meta::Int(i) => *i as f64,
            Meta::Floats(_, v) if !v.is_empty() && v.iter().all(|x| *x == v[0]) => v[0],
            Meta::Ints(_, v) if !v.is_empty() && v.iter().all(|x| *x == v[0]) => v[0] as f64,
            other => {
                return Err(f.err(
                    &field,
                    format!("expected one number of {unit} for the whole population, got {other}"),
                ));
            }
        };
        if !ok(x) {
            return Err(f.err(&field, format!("{rule}, got {x}")));
        }
        if let Some((k0, x0)) = found
            && x0 != x
        {
            return Err(f.err(&field, format!("{x} disagrees with `metadata.{k0}` = {x0}")));
        }
        found = Some((key, x));
    }
    Ok(found.map(|(_, x)| x))
}
