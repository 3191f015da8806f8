//! Operations: what each node computes, and how its output fact follows from
//! its input fact.
//!
//! All inputs of a node are **summed** before the op is applied (NIR's rule
//! for fan-in), so every op sees one input value per step.

use crate::fact::{Fact, Format, Shape};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A neuron model, as NIR names them. All are special cases of one
/// current-based leaky integrate-and-fire compartment; see [`Neuron`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum NeuronModel {
    /// Integrator: `dv/dt = R·I`, no spikes.
    I,
    /// Integrate-and-fire: `dv/dt = R·I`, spikes.
    If,
    /// Leaky integrator: `τ dv/dt = (v_leak − v) + R·I`, no spikes.
    Li,
    /// Leaky integrate-and-fire: as LI, spikes.
    Lif,
    /// Current-based leaky integrator: a synaptic current filters the input.
    CubaLi,
    /// Current-based LIF.
    CubaLif,
}

impl NeuronModel {
    /// NIR's type name.
    pub fn nir_name(self) -> &'static str {
        match self {
            NeuronModel::I => "I",
            NeuronModel::If => "IF",
            NeuronModel::Li => "LI",
            NeuronModel::Lif => "LIF",
            NeuronModel::CubaLi => "CubaLI",
            NeuronModel::CubaLif => "CubaLIF",
        }
    }
    /// True when the model emits spikes (has a threshold).
    pub fn spikes(self) -> bool {
        matches!(self, NeuronModel::If | NeuronModel::Lif | NeuronModel::CubaLif)
    }
    /// True when the membrane leaks (has `tau_mem`).
    pub fn leaks(self) -> bool {
        !matches!(self, NeuronModel::I | NeuronModel::If)
    }
    /// True when the model has a synaptic current state (`tau_syn`, `w_in`).
    pub fn has_synapse(self) -> bool {
        matches!(self, NeuronModel::CubaLi | NeuronModel::CubaLif)
    }
}

/// What happens to the membrane voltage when a neuron spikes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ResetMode {
    /// `v ← v_reset` (NIR's rule).
    Zero,
    /// `v ← v − v_threshold` (reset by subtraction).
    Subtract,
}

/// A population of neurons, all parameters broadcast to one value per neuron
/// (row-major over `shape`).
///
/// Every NIR model is stored as a current-based LIF whose unused parts are
/// neutral: `tau_mem = +∞` (no leak) for I/IF, `tau_syn = 0` (the current
/// *is* the input) for models without a synapse, `w_in = 1`,
/// `v_threshold = +∞` for non-spiking models. `model` keeps what the file
/// said, for display and for the discretization rules in docs/ir.md.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Neuron {
    /// Which NIR model this came from.
    pub model: NeuronModel,
    /// Population shape (e.g. `[C,H,W]` after a convolution).
    pub shape: Shape,
    /// Membrane time constant in seconds (`+∞`: no leak).
    pub tau_mem: Vec<f64>,
    /// Synaptic time constant in seconds (`0`: no synaptic state).
    pub tau_syn: Vec<f64>,
    /// Membrane resistance `R` (input gain).
    pub r: Vec<f64>,
    /// Leak (resting) voltage.
    pub v_leak: Vec<f64>,
    /// Firing threshold (`+∞` for non-spiking models).
    pub v_threshold: Vec<f64>,
    /// Voltage after a spike, for [`ResetMode::Zero`].
    pub v_reset: Vec<f64>,
    /// Synaptic input weight (CubaLI/CubaLIF), `1` otherwise.
    pub w_in: Vec<f64>,
    /// Reset rule.
    pub reset: ResetMode,
    /// Refractory period in seconds (0: none). NIR has no field for it; it
    /// comes from node metadata or a command-line option.
    pub refractory: f64,
    /// Lower clamp of the voltage (`−∞`: none; nengo's `min_voltage`, 0 by
    /// default there). NIR has no field for it; it comes from node
    /// metadata `min_voltage` or `v_min`.
    pub v_min: f64,
}

impl Neuron {
    /// A population of `model` over `shape` with neutral parameters
    /// (τ = ∞, R = 1, threshold 1 for spiking models, everything else 0).
    pub fn neutral(model: NeuronModel, shape: Shape) -> Self {
        let n = shape.numel();
        Neuron {
            model,
            tau_mem: vec![f64::INFINITY; n],
            tau_syn: vec![0.0; n],
            r: vec![1.0; n],
            v_leak: vec![0.0; n],
            v_threshold: vec![if model.spikes() { 1.0 } else { f64::INFINITY }; n],
            v_reset: vec![0.0; n],
            w_in: vec![1.0; n],
            reset: ResetMode::Zero,
            refractory: 0.0,
            v_min: f64::NEG_INFINITY,
            shape,
        }
    }
    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.shape.numel()
    }
    /// True for an empty population.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The per-neuron parameter vectors with their NIR names, in a fixed
    /// order; only those meaningful for `model`.
    pub fn params(&self) -> Vec<(&'static str, &[f64])> {
        let m = self.model;
        let mut out: Vec<(&'static str, &[f64])> = Vec::new();
        if m.has_synapse() {
            out.push(("tau_syn", &self.tau_syn));
            out.push(("tau_mem", &self.tau_mem));
        } else if m.leaks() {
            out.push(("tau", &self.tau_mem));
        }
        out.push(("r", &self.r));
        if m.leaks() {
            out.push(("v_leak", &self.v_leak));
        }
        if m.has_synapse() {
            out.push(("w_in", &self.w_in));
        }
        if m.spikes() {
            out.push(("v_threshold", &self.v_threshold));
            out.push(("v_reset", &self.v_reset));
        }
        out
    }
}

/// Pooling kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum PoolKind {
    /// Sum over the window.
    Sum,
    /// Mean over the window (sum / window size).
    Avg,
}

/// What a node computes.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Op {
    /// A graph input of the given per-step shape.
    Input {
        /// Per-step shape of the input.
        shape: Shape,
    },
    /// A graph output; records the value it receives.
    Output {
        /// Per-step shape of the output.
        shape: Shape,
    },
    /// `y = W·x + b`, `W` of shape `[out, in]` (NIR Affine; Linear has no bias).
    Affine {
        /// Weights `[out, in]`.
        weight: Tensor,
        /// Optional bias `[out]`.
        bias: Option<Tensor>,
    },
    /// Elementwise `y = s ⊙ x`.
    Scale {
        /// Per-element (or scalar) scale.
        scale: Tensor,
    },
    /// N-d convolution (N = 1 or 2) over a `[C, spatial…]` input; weight
    /// `[C_out, C_in/groups, k…]`. Padding is symmetric zero padding.
    Conv {
        /// Weights `[C_out, C_in/groups, k…]`.
        weight: Tensor,
        /// Optional bias `[C_out]`.
        bias: Option<Tensor>,
        /// Stride per spatial dimension.
        stride: Vec<usize>,
        /// Zero padding per spatial dimension (both sides).
        padding: Vec<usize>,
        /// Dilation per spatial dimension.
        dilation: Vec<usize>,
        /// Number of groups.
        groups: usize,
    },
    /// Flattens dimensions `start..=end` of the per-step value (negative
    /// indices count from the end; no batch axis).
    Flatten {
        /// First dimension flattened.
        start_dim: i64,
        /// Last dimension flattened (inclusive).
        end_dim: i64,
    },
    /// 2-d pooling over `[C, H, W]`.
    Pool2d {
        /// Sum or average.
        kind: PoolKind,
        /// Window.
        kernel: [usize; 2],
        /// Stride.
        stride: [usize; 2],
        /// Zero padding (both sides).
        padding: [usize; 2],
    },
    /// Stateless spike generator: `y = 1 if x > threshold else 0`.
    Threshold {
        /// Per-element (or scalar) threshold.
        threshold: Tensor,
    },
    /// Delays each element by `delay` seconds (rounded to whole steps).
    Delay {
        /// Per-element (or scalar) delay in seconds.
        delay: Tensor,
    },
    /// A population of neurons.
    Neuron(Neuron),
}

/// Why an op rejects its input fact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The input value does not have the shape the op needs.
    #[error("{field}: expects input {expected}, got {got}")]
    InputShape {
        /// The field whose shape decides (e.g. `weight`).
        field: &'static str,
        /// What the op needs, in words.
        expected: String,
        /// The input shape it got.
        got: Shape,
    },
    /// A parameter is inconsistent with itself.
    #[error("{field}: {message}")]
    Param {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The node needs an input and has none, or has one and must not.
    #[error("{0}")]
    Arity(String),
}

/// Output length of one convolution or pooling dimension (the one formula,
/// [`nmc_core::conv::Dim::out_len`]).
fn conv_out(len: usize, k: usize, stride: usize, pad: usize, dil: usize) -> Option<usize> {
    nmc_core::conv::Dim {
        din: len,
        k,
        s: stride,
        p: pad,
        d: dil,
    }
    .out_len()
}

impl Op {
    /// A short lower-case name used in dumps and reports.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Output { .. } => "output",
            Op::Affine { .. } => "affine",
            Op::Scale { .. } => "scale",
            Op::Conv { stride, .. } if stride.len() == 1 => "conv1d",
            Op::Conv { .. } => "conv2d",
            Op::Flatten { .. } => "flatten",
            Op::Pool2d {
                kind: PoolKind::Sum, ..
            } => "sumpool2d",
            Op::Pool2d {
                kind: PoolKind::Avg, ..
            } => "avgpool2d",
            Op::Threshold { .. } => "threshold",
            Op::Delay { .. } => "delay",
            Op::Neuron(n) => match n.model {
                NeuronModel::I => "i",
                NeuronModel::If => "if",
                NeuronModel::Li => "li",
                NeuronModel::Lif => "lif",
                NeuronModel::CubaLi => "cubali",
                NeuronModel::CubaLif => "cubalif",
            },
        }
    }

    /// True for ops with state that evolves over time (neurons, delays).
    pub fn is_stateful(&self) -> bool {
        matches!(self, Op::Neuron(_) | Op::Delay { .. })
    }

    /// Number of synapses (weights applied per input event) for weighted ops
    /// given the input shape: dense weights count once each, convolutions
    /// count every (input, output) pair the kernel connects.
    pub fn synapse_count(&self, input: &Shape) -> u64 {
        match self {
            Op::Affine { weight, .. } => weight.len() as u64,
            Op::Conv { weight, groups, .. } => {
                // Each output element sums C_in/groups × prod(k) inputs (minus
                // padding, ignored here: an upper bound used for reports).
                let _ = groups;
                let per_out: u64 = weight.shape().dims()[1..].iter().map(|&d| d as u64).product();
                match self.output_shape(input) {
                    Ok(s) => per_out * s.numel() as u64,
                    Err(_) => 0,
                }
            }
            _ => 0,
        }
    }

    /// The input shape this op accepts when its parameters alone decide it
    /// (Affine: `[in]`, a neuron population: its shape, Output: its shape),
    /// `None` when it depends on the input (Conv, Flatten, pooling,
    /// elementwise ops). Used to start fact inference in a cycle that no
    /// Input reaches.
    pub fn fixed_input_shape(&self) -> Option<Shape> {
        match self {
            Op::Affine { weight, .. } if weight.shape().rank() == 2 => Some(Shape::new([weight.shape().dims()[1]])),
            Op::Neuron(n) => Some(n.shape.clone()),
            Op::Output { shape } => Some(shape.clone()),
            _ => None,
        }
    }

    /// The output fact, given the (summed) input fact. `None` means the node
    /// has no input (only valid for [`Op::Input`]).
    pub fn infer(&self, input: Option<&Fact>) -> Result<Fact, OpError> {
        match (self, input) {
            (Op::Input { shape }, None) => Ok(Fact::new(shape.clone(), Format::Float)),
            (Op::Input { .. }, Some(_)) => Err(OpError::Arity("an Input node takes no incoming edge".into())),
            (_, None) => Err(OpError::Arity("node has no incoming edge".into())),
            (_, Some(f)) => {
                let shape = self.output_shape(&f.shape)?;
                let format = match self {
                    Op::Neuron(n) if n.model.spikes() => Format::Spike,
                    Op::Threshold { .. } => Format::Spike,
                    Op::Output { .. } | Op::Delay { .. } | Op::Flatten { .. } => f.format,
                    _ => Format::Float,
                };
                Ok(Fact::new(shape, format))
            }
        }
    }

    /// The per-step output shape for an input of shape `input`.
    pub fn output_shape(&self, input: &Shape) -> Result<Shape, OpError> {
        match self {
            Op::Input { shape } => Ok(shape.clone()),
            Op::Output { shape } => same_numel_shape(input, "shape", shape),
            Op::Affine { weight, bias } => affine_shape(input, weight, bias.as_ref()),
            Op::Scale { scale } => broadcast_shape(input, "scale", scale),
            Op::Threshold { threshold } => broadcast_shape(input, "threshold", threshold),
            Op::Delay { delay } => broadcast_shape(input, "delay", delay),
            Op::Neuron(n) => same_numel_shape(input, "shape", &n.shape),
            Op::Conv {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => conv_shape(
                input,
                weight,
                bias.as_ref(),
                ConvParams {
                    stride,
                    padding,
                    dilation,
                    groups: *groups,
                },
            ),
            Op::Flatten { start_dim, end_dim } => flatten_shape(input, *start_dim, *end_dim),
            Op::Pool2d {
                kernel,
                stride,
                padding,
                ..
            } => pool2d_shape(input, kernel, stride, padding),
        }
    }
}

/// Shape of ops that keep their input's elements under a shape of their own
/// (Output, neuron populations): `shape`, when it has as many elements as
/// `input`.
fn same_numel_shape(input: &Shape, field: &'static str, shape: &Shape) -> Result<Shape, OpError> {
    if input.numel() == shape.numel() {
        Ok(shape.clone())
    } else {
        Err(OpError::InputShape {
            field,
            expected: format!("{} elements ({shape})", shape.numel()),
            got: input.clone(),
        })
    }
}

/// Shape of elementwise ops (Scale, Threshold, Delay): the input's, when the
/// parameter `t` is a scalar or has one element per input element.
fn broadcast_shape(input: &Shape, field: &'static str, t: &Tensor) -> Result<Shape, OpError> {
    if t.len() == 1 || t.len() == input.numel() {
        Ok(input.clone())
    } else {
        Err(OpError::InputShape {
            field,
            expected: format!("{} elements ({})", t.len(), t.shape()),
            got: input.clone(),
        })
    }
}

/// Shape of [`Op::Affine`]: `[out]` for a `[out, in]` weight and an input of
/// `in` elements.
fn affine_shape(input: &Shape, weight: &Tensor, bias: Option<&Tensor>) -> Result<Shape, OpError> {
    let d = weight.shape().dims();
    if d.len() != 2 {
        return Err(OpError::Param {
            field: "weight",
            message: format!("must have rank 2 [out, in], has shape {}", weight.shape()),
        });
    }
    if let Some(b) = bias
        && b.len() != d[0]
    {
        return Err(OpError::Param {
            field: "bias",
            message: format!("has {} elements, weight has {} outputs", b.len(), d[0]),
        });
    }
    if input.numel() != d[1] {
        return Err(OpError::InputShape {
            field: "weight",
            expected: format!("{} elements (weight is {})", d[1], weight.shape()),
            got: input.clone(),
        });
    }
    Ok(Shape::new([d[0]]))
}

/// The geometry fields of an [`Op::Conv`] besides its weight and bias.
struct ConvParams<'a> {
    /// Stride per spatial dimension.
    stride: &'a [usize],
    /// Zero padding per spatial dimension (both sides).
    padding: &'a [usize],
    /// Dilation per spatial dimension.
    dilation: &'a [usize],
    /// Number of groups.
    groups: usize,
}

/// Shape of [`Op::Conv`]: checks the parameters against each other, then the
/// input against the weight, then computes `[C_out, spatial…]`.
fn conv_shape(input: &Shape, weight: &Tensor, bias: Option<&Tensor>, p: ConvParams<'_>) -> Result<Shape, OpError> {
    let wd = weight.shape().dims();
    conv_check_params(weight, bias, &p)?;
    let nsp = p.stride.len();
    let id = input.dims();
    let c_in = wd[1] * p.groups;
    if id.len() != nsp + 1 || id[0] != c_in {
        return Err(OpError::InputShape {
            field: "weight",
            expected: format!(
                "[{c_in}, {}] (C_in × spatial, from weight {})",
                vec!["_"; nsp].join(", "),
                weight.shape()
            ),
            got: input.clone(),
        });
    }
    let (stride, padding, dilation) = (p.stride, p.padding, p.dilation);
    let mut out = vec![wd[0]];
    for i in 0..nsp {
        let o =
            conv_out(id[i + 1], wd[i + 2], stride[i], padding[i], dilation[i]).ok_or_else(|| OpError::InputShape {
                field: "weight",
                expected: format!(
                    "spatial size ≥ kernel extent (kernel {}, dilation {}, padding {}, stride {}) in dimension {i}",
                    wd[i + 2],
                    dilation[i],
                    padding[i],
                    stride[i]
                ),
                got: input.clone(),
            })?;
        out.push(o);
    }
    Ok(Shape::new(out))
}

/// The checks of [`Op::Conv`] that need no input: weight rank against the
/// number of spatial dimensions, groups against `C_out`, bias length.
fn conv_check_params(weight: &Tensor, bias: Option<&Tensor>, p: &ConvParams<'_>) -> Result<(), OpError> {
    let wd = weight.shape().dims();
    let (stride, padding, dilation, groups) = (p.stride, p.padding, p.dilation, p.groups);
    let nsp = stride.len();
    if wd.len() != nsp + 2 || padding.len() != nsp || dilation.len() != nsp || !(1..=2).contains(&nsp) {
        return Err(OpError::Param {
            field: "weight",
            message: format!(
                "shape {} does not fit a {nsp}-d convolution (stride/padding/dilation have {}/{}/{} entries)",
                weight.shape(),
                stride.len(),
                padding.len(),
                dilation.len()
            ),
        });
    }
    if groups == 0 || !wd[0].is_multiple_of(groups) {
        return Err(OpError::Param {
            field: "groups",
            message: format!("{groups} does not divide C_out = {}", wd[0]),
        });
    }
    if let Some(b) = bias
        && b.len() != wd[0]
    {
        return Err(OpError::Param {
            field: "bias",
            message: format!("has {} elements, C_out is {}", b.len(), wd[0]),
        });
    }
    Ok(())
}

/// Shape of [`Op::Flatten`]: dimensions `start_dim..=end_dim` (negative
/// counting from the end) merged into one.
fn flatten_shape(input: &Shape, start_dim: i64, end_dim: i64) -> Result<Shape, OpError> {
    let r = input.rank() as i64;
    let s = if start_dim < 0 { r + start_dim } else { start_dim };
    let e = if end_dim < 0 { r + end_dim } else { end_dim };
    if r == 0 || s < 0 || e >= r || s > e {
        return Err(OpError::InputShape {
            field: "start_dim",
            expected: format!("a value whose dimensions {start_dim}..={end_dim} exist"),
            got: input.clone(),
        });
    }
    let d = input.dims();
    let (s, e) = (s as usize, e as usize);
    let mut out: Vec<usize> = d[..s].to_vec();
    out.push(d[s..=e].iter().product());
    out.extend_from_slice(&d[e + 1..]);
    Ok(Shape::new(out))
}

/// Shape of [`Op::Pool2d`]: `[C, H', W']` for a `[C, H, W]` input.
fn pool2d_shape(
    input: &Shape,
    kernel: &[usize; 2],
    stride: &[usize; 2],
    padding: &[usize; 2],
) -> Result<Shape, OpError> {
    let d = input.dims();
    if d.len() != 3 {
        return Err(OpError::InputShape {
            field: "kernel_size",
            expected: "[C, H, W]".into(),
            got: input.clone(),
        });
    }
    let mut out = vec![d[0]];
    for i in 0..2 {
        out.push(
            conv_out(d[i + 1], kernel[i], stride[i], padding[i], 1).ok_or_else(|| OpError::InputShape {
                field: "kernel_size",
                expected: format!("spatial size ≥ kernel {} in dimension {i}", kernel[i]),
                got: input.clone(),
            })?,
        );
    }
    Ok(Shape::new(out))
}

impl fmt::Display for NeuronModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nir_name())
    }
}
