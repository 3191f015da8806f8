//! ONNX importer: converts a trained ANN (a ReLU CNN or MLP) into a spiking
//! network of IF neurons (docs/onnx.md).
//!
//! Steps: the protobuf is decoded with the committed prost types ([`pb`]),
//! the node list is lowered into a chain of ANN layers (BatchNorm folded,
//! Identity/Dropout removed, a final Softmax dropped), the ANN is run on the
//! calibration data to find each ReLU's activation scale λ (a percentile of
//! its positive activations, Rueckauer et al. 2017), and every layer is
//! rescaled so that λ maps to the target firing rate `r = max_rate_hz · dt`
//! spikes per step:
//!
//! - the first weighted layer of stage `l` gets `W · λ_{l−1} / λ_l`
//!   (with `λ_0 = r`: the real-valued input is delivered as is each step),
//! - every bias of stage `l` gets `b · r / λ_l`,
//!
//! so the IF population at the end of stage `l` receives `r · a_l / λ_l` per
//! step and fires at about that rate: the spiking net computes the ANN's
//! function scaled by `r / λ`. The last layer (logits) is an IF population too
//! (read out by spike counts); its rate × [`ConvertReport::output_scale`]
//! approximates the positive logits.

#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms, unreachable_pub)]
pub mod pb;

use crate::FrontendError;
use ndarray::ArrayD;
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, PoolKind, ResetMode, Shape, Tensor};
use prost::Message;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

/// The ONNX operators the converter understands.
pub const SUPPORTED_OPS: &[&str] = &[
    "Conv",
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Flatten",
    "Reshape",
    "AveragePool",
    "GlobalAveragePool",
    "BatchNormalization",
    "Identity",
    "Dropout",
    "Softmax",
    "LogSoftmax",
    "Constant",
];

/// Which spiking neuron replaces each ReLU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpikingNeuron {
    /// Integrate-and-fire, threshold 1, reset to zero (default).
    If,
    /// Leaky integrate-and-fire with this membrane time constant (seconds).
    Lif {
        /// τ_mem in seconds.
        tau_mem: f64,
    },
}

/// Conversion options.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertOptions {
    /// Calibration inputs, `(N, *input_shape)` (input shape without the batch
    /// axis, e.g. `(N, 1, 28, 28)`). `None`: weight-based normalisation
    /// (assumes inputs in [0, 1]; a warning is recorded).
    pub calibration: Option<ArrayD<f64>>,
    /// Percentile of each layer's positive activations that maps to the
    /// maximum rate (default 99.9).
    pub percentile: f64,
    /// Firing rate in Hz that the scale λ maps to (default 250 Hz).
    pub max_rate_hz: f64,
    /// Time step in seconds (default [`nmc_ir::DEFAULT_DT`]).
    pub dt: Option<f64>,
    /// Neuron model (default IF).
    pub neuron: SpikingNeuron,
    /// Reset rule (default [`ResetMode::Zero`]).
    pub reset: Option<ResetMode>,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            calibration: None,
            percentile: 99.9,
            max_rate_hz: 250.0,
            dt: None,
            neuron: SpikingNeuron::If,
            reset: None,
        }
    }
}

/// One spiking population of the converted network.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// IR node name of the population.
    pub name: String,
    /// ONNX nodes of the stage that feeds it.
    pub onnx_nodes: Vec<String>,
    /// ANN activation scale λ (percentile of positive activations, or the
    /// weight-based bound).
    pub ann_scale: f64,
    /// Factor applied to the stage's first weight tensor (`λ_prev / λ`).
    pub weight_factor: f64,
    /// Factor applied to the stage's biases (`r / λ`).
    pub bias_factor: f64,
    /// Expected mean firing rate in Hz on the calibration data (ANN
    /// activation / λ × max rate, clipped at the max rate); `None` without
    /// calibration.
    pub expected_mean_rate_hz: Option<f64>,
    /// Fraction of calibration activations above λ (they saturate).
    pub saturated_fraction: Option<f64>,
}

/// What the conversion did.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertReport {
    /// ONNX opset of the default domain.
    pub opset: i64,
    /// Percentile used.
    pub percentile: f64,
    /// Max rate in Hz and per step.
    pub max_rate_hz: f64,
    /// `max_rate_hz · dt`.
    pub rate_per_step: f64,
    /// Calibration samples used (0: weight-based).
    pub calibration_samples: usize,
    /// Per spiking layer.
    pub layers: Vec<LayerReport>,
    /// Output rate (spikes per step) × this ≈ the ANN's output (positive part).
    pub output_scale: f64,
    /// Notes (removed and folded ops, dropped Softmax).
    pub notes: Vec<String>,
    /// Warnings (no calibration, dead layers).
    pub warnings: Vec<String>,
}

impl fmt::Display for ConvertReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ONNX conversion (opset {}): {} normalisation, max rate {} Hz = {:.4} spikes/step",
            self.opset,
            if self.calibration_samples > 0 {
                format!(
                    "percentile {} on {} calibration samples,",
                    self.percentile, self.calibration_samples
                )
            } else {
                "weight-based".to_string()
            },
            self.max_rate_hz,
            self.rate_per_step
        )?;
        writeln!(
            f,
            "{:<20} {:>12} {:>12} {:>12} {:>12} {:>10}  onnx nodes",
            "layer", "ann scale", "w factor", "b factor", "mean Hz", "saturated"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<20} {:>12.5} {:>12.5} {:>12.5} {:>12} {:>10}  {}",
                l.name,
                l.ann_scale,
                l.weight_factor,
                l.bias_factor,
                l.expected_mean_rate_hz.map(|r| format!("{r:.2}")).unwrap_or("-".into()),
                l.saturated_fraction
                    .map(|s| format!("{:.3}%", s * 100.0))
                    .unwrap_or("-".into()),
                l.onnx_nodes.join(", ")
            )?;
        }
        writeln!(
            f,
            "output: rate (spikes/step) x {:.5} = ANN output (positive part)",
            self.output_scale
        )?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// A converted model: the spiking graph and the report.
#[derive(Clone, Debug)]
pub struct Conversion {
    /// The spiking network (verified).
    pub graph: Graph,
    /// What was done.
    pub report: ConvertReport,
    /// The lowered ANN, to evaluate it on data (e.g. to compare with the SNN).
    pub ann: Ann,
}

/// Converts an ONNX file.
pub fn convert(path: &Path, opts: &ConvertOptions) -> Result<Conversion, FrontendError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| FrontendError::Io {
        file: file.clone(),
        source,
    })?;
    convert_bytes(&file, &bytes, opts)
}

/// Converts ONNX bytes; `name` stands for the file in errors and its stem
/// names the graph.
pub fn convert_bytes(name: &str, bytes: &[u8], opts: &ConvertOptions) -> Result<Conversion, FrontendError> {
    let ann = parse(name, bytes)?;
    build(name, ann, opts)
}

/// Parses and lowers an ONNX model into its ANN layer chain (no conversion).
pub fn parse(name: &str, bytes: &[u8]) -> Result<Ann, FrontendError> {
    let model = pb::ModelProto::decode(bytes).map_err(|e| FrontendError::Container {
        file: name.to_string(),
        reason: format!("not a valid ONNX model (protobuf decode failed: {e})"),
    })?;
    Lower::new(name, &model)?.run(&model)
}

fn err(file: &str, node: Option<&str>, field: Option<&str>, message: impl Into<String>) -> FrontendError {
    FrontendError::Onnx {
        file: file.to_string(),
        node: node.map(str::to_string),
        field: field.map(str::to_string),
        message: message.into(),
    }
}

// ------------------------------------------------------------------ ANN

/// One layer of the lowered ANN (per-sample semantics, no batch axis).
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// 2-d convolution; weight `[co, ci/g, kh, kw]`.
    Conv {
        /// Weights.
        w: Vec<f64>,
        /// Weight dims.
        wdims: [usize; 4],
        /// Bias `[co]`.
        b: Vec<f64>,
        /// Stride.
        stride: [usize; 2],
        /// Symmetric padding.
        pad: [usize; 2],
        /// Dilation.
        dil: [usize; 2],
        /// Groups.
        groups: usize,
    },
    /// Dense `y = W x + b`, `W` `[out, in]`.
    Dense {
        /// Weights row-major `[out, in]`.
        w: Vec<f64>,
        /// Output size.
        out: usize,
        /// Input size.
        inp: usize,
        /// Bias.
        b: Vec<f64>,
    },
    /// Average pooling (window sum ÷ `kernel` area; zero padding counted).
    AvgPool {
        /// Window.
        kernel: [usize; 2],
        /// Stride.
        stride: [usize; 2],
        /// Padding.
        pad: [usize; 2],
    },
    /// Flatten to a vector.
    Flatten,
    /// ReLU.
    Relu,
}

/// A lowered ANN: a chain of layers from one input to one output.
#[derive(Clone, Debug, PartialEq)]
pub struct Ann {
    /// Graph name (file stem).
    pub name: String,
    /// ONNX input name.
    pub input_name: String,
    /// ONNX output name.
    pub output_name: String,
    /// Input shape without batch axis.
    pub input_shape: Vec<usize>,
    /// Layers with the ONNX node names they came from, and their output shape.
    pub layers: Vec<(String, Layer, Vec<usize>)>,
    /// Default-domain opset.
    pub opset: i64,
    /// Notes from lowering.
    pub notes: Vec<String>,
}

/// The most elements one layer's output may have per sample (2^26): more is
/// refused before calibration allocates it.
const MAX_LAYER_ELEMENTS: usize = 1 << 26;

fn out_len(len: usize, k: usize, s: usize, p: usize, d: usize) -> Option<usize> {
    // Every operand comes from the file: checked, so a hostile attribute is
    // an error, never a wrap.
    let eff = d.checked_mul(k.max(1) - 1)?.checked_add(1)?;
    let padded = p.checked_mul(2)?.checked_add(len)?;
    if padded < eff || s == 0 {
        return None;
    }
    Some((padded - eff) / s + 1)
}

fn apply(layer: &Layer, x: &[f64], shape: &[usize], out_shape: &[usize]) -> Vec<f64> {
    match layer {
        Layer::Relu => x.iter().map(|v| v.max(0.0)).collect(),
        Layer::Flatten => x.to_vec(),
        Layer::Dense { w, out, inp, b } => (0..*out)
            .map(|o| {
                let row = &w[o * inp..(o + 1) * inp];
                row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + b[o]
            })
            .collect(),
        Layer::Conv {
            w,
            wdims,
            b,
            stride,
            pad,
            dil,
            groups,
        } => {
            let (ci, h, wd) = (shape[0], shape[1], shape[2]);
            let (co, oh, ow) = (out_shape[0], out_shape[1], out_shape[2]);
            let [_, cig, kh, kw] = *wdims;
            let cog = co / groups;
            let mut y = vec![0.0; co * oh * ow];
            for o in 0..co {
                let g = o / cog;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b[o];
                        for c in 0..cig {
                            let cin = g * cig + c;
                            if cin >= ci {
                                continue;
                            }
                            for ky in 0..kh {
                                let iy = (oy * stride[0] + ky * dil[0]) as isize - pad[0] as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kw {
                                    let ix = (ox * stride[1] + kx * dil[1]) as isize - pad[1] as isize;
                                    if ix < 0 || ix >= wd as isize {
                                        continue;
                                    }
                                    acc += w[((o * cig + c) * kh + ky) * kw + kx]
                                        * x[(cin * h + iy as usize) * wd + ix as usize];
                                }
                            }
                        }
                        y[(o * oh + oy) * ow + ox] = acc;
                    }
                }
            }
            y
        }
        Layer::AvgPool { kernel, stride, pad } => {
            let (c, h, wd) = (shape[0], shape[1], shape[2]);
            let (oh, ow) = (out_shape[1], out_shape[2]);
            let area = (kernel[0] * kernel[1]) as f64;
            let mut y = vec![0.0; c * oh * ow];
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for ky in 0..kernel[0] {
                            let iy = (oy * stride[0] + ky) as isize - pad[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kernel[1] {
                                let ix = (ox * stride[1] + kx) as isize - pad[1] as isize;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                acc += x[(ch * h + iy as usize) * wd + ix as usize];
                            }
                        }
                        y[(ch * oh + oy) * ow + ox] = acc / area;
                    }
                }
            }
            y
        }
    }
}

impl Ann {
    /// Runs one sample (row-major, input shape) and returns every layer's output.
    pub fn forward_all(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let mut outs = Vec::with_capacity(self.layers.len());
        let mut cur = x.to_vec();
        let mut shape = self.input_shape.clone();
        for (_, l, os) in &self.layers {
            cur = apply(l, &cur, &shape, os);
            shape.clone_from(os);
            outs.push(cur.clone());
        }
        outs
    }
    /// Runs one sample and returns the network output.
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.forward_all(x).pop().unwrap_or_else(|| x.to_vec())
    }
    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }
}

// ------------------------------------------------------------------ parsing

#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    data: Vec<f64>,
}

fn tensor_to_const(file: &str, node: Option<&str>, field: &str, t: &pb::TensorProto) -> Result<Const, FrontendError> {
    use pb::tensor_proto::DataType as D;
    let e = |m: String| err(file, node, Some(field), m);
    if t.data_location() == pb::tensor_proto::DataLocation::External || !t.external_data.is_empty() {
        return Err(e(
            "tensor data stored in an external file is not supported; save the model with \
             `onnx.save(model, path, save_as_external_data=False)`"
                .into(),
        ));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(e(format!("negative dimension {d}")));
        }
        dims.push(d as usize);
    }
    let n = (if dims.contains(&0) {
        Some(0)
    } else {
        dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    })
    .ok_or_else(|| e(format!("dims {dims:?}: the element count overflows")))?;
    let raw = t.raw_data();
    let dt = D::try_from(t.data_type()).unwrap_or(D::Undefined);
    fn chunks<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        raw.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
    }
    let data: Vec<f64> = match dt {
        D::Float if !raw.is_empty() => chunks::<4>(raw).map(|b| f32::from_le_bytes(b) as f64).collect(),
        D::Float => t.float_data.iter().map(|&v| v as f64).collect(),
        D::Double if !raw.is_empty() => chunks::<8>(raw).map(f64::from_le_bytes).collect(),
        D::Double => t.double_data.clone(),
        D::Int64 if !raw.is_empty() => chunks::<8>(raw).map(|b| i64::from_le_bytes(b) as f64).collect(),
        D::Int64 => t.int64_data.iter().map(|&v| v as f64).collect(),
        D::Int32 if !raw.is_empty() => chunks::<4>(raw).map(|b| i32::from_le_bytes(b) as f64).collect(),
        D::Int32 => t.int32_data.iter().map(|&v| v as f64).collect(),
        other => {
            return Err(e(format!(
                "element type {} is not supported (float, double, int32, int64 are)",
                other.as_str_name()
            )));
        }
    };
    if data.len() != n {
        return Err(e(format!(
            "holds {} values but its dims {:?} need {n}",
            data.len(),
            dims
        )));
    }
    Ok(Const { dims, data })
}

struct Lower<'a> {
    file: &'a str,
    opset: i64,
    consts: HashMap<String, Const>,
}

fn attr<'m>(n: &'m pb::NodeProto, name: &str) -> Option<&'m pb::AttributeProto> {
    n.attribute.iter().find(|a| a.name() == name)
}
fn attr_i(n: &pb::NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map(|a| a.i()).unwrap_or(default)
}
fn attr_f(n: &pb::NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map(|a| a.f()).unwrap_or(default)
}
fn attr_ints(n: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}
fn attr_s(n: &pb::NodeProto, name: &str) -> Option<String> {
    attr(n, name).map(|a| String::from_utf8_lossy(a.s()).into_owned())
}

impl<'a> Lower<'a> {
    fn new(file: &'a str, model: &pb::ModelProto) -> Result<Self, FrontendError> {
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
            .map(|o| o.version())
            .unwrap_or(0);
        Ok(Lower {
            file,
            opset,
            consts: HashMap::new(),
        })
    }

    fn run(mut self, model: &pb::ModelProto) -> Result<Ann, FrontendError> {
        let file = self.file;
        let Some(graph) = model.graph.as_ref() else {
            return Err(err(file, None, Some("graph"), "the model has no graph"));
        };
        for t in &graph.initializer {
            let c = tensor_to_const(file, None, &format!("initializer `{}`", t.name()), t)?;
            self.consts.insert(t.name().to_string(), c);
        }
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !self.consts.contains_key(i.name()))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(err(
                file,
                None,
                Some("graph.input"),
                format!(
                    "expected exactly one data input (not an initializer), found {}: {:?}",
                    inputs.len(),
                    inputs.iter().map(|i| i.name()).collect::<Vec<_>>()
                ),
            ));
        };
        let input_shape = self.input_shape(input)?;
        let mut cur = input.name().to_string();
        let mut shape = input_shape.clone();
        let mut layers: Vec<(String, Layer, Vec<usize>)> = Vec::new();
        let mut dynamic: HashSet<String> = HashSet::from([cur.clone()]);
        let mut notes = Vec::new();
        let mut softmax: Option<String> = None;
        // Index in `layers` of the last weighted layer, when nothing but a
        // bias could still be folded into it.
        let mut foldable: Option<usize> = None;
        for (idx, n) in graph.node.iter().enumerate() {
            let nname = if n.name().is_empty() {
                format!("{}#{idx}", n.op_type())
            } else {
                n.name().to_string()
            };
            let nn = Some(nname.as_str());
            let ctx = format!(" (op {}, opset {})", n.op_type(), self.opset);
            if !(n.domain().is_empty() || n.domain() == "ai.onnx") {
                return Err(err(
                    file,
                    nn,
                    Some("domain"),
                    format!(
                        "operator {}.{} from a custom domain is not supported; supported ops: {}",
                        n.domain(),
                        n.op_type(),
                        SUPPORTED_OPS.join(", ")
                    ),
                ));
            }
            if let Some(s) = &softmax {
                return Err(err(
                    file,
                    nn,
                    None,
                    format!(
                        "{} after the Softmax `{s}`: Softmax is only supported as the last op{ctx}",
                        n.op_type()
                    ),
                ));
            }
            if n.op_type() == "Constant" {
                let out = n.output.first().cloned().unwrap_or_default();
                let c = if let Some(t) = attr(n, "value").and_then(|a| a.t.as_ref()) {
                    tensor_to_const(file, nn, "value", t)?
                } else if let Some(a) = attr(n, "value_float") {
                    Const {
                        dims: vec![],
                        data: vec![a.f() as f64],
                    }
                } else if let Some(a) = attr(n, "value_floats") {
                    Const {
                        dims: vec![a.floats.len()],
                        data: a.floats.iter().map(|&v| v as f64).collect(),
                    }
                } else if let Some(a) = attr(n, "value_int") {
                    Const {
                        dims: vec![],
                        data: vec![a.i() as f64],
                    }
                } else if let Some(a) = attr(n, "value_ints") {
                    Const {
                        dims: vec![a.ints.len()],
                        data: a.ints.iter().map(|&v| v as f64).collect(),
                    }
                } else {
                    return Err(err(file, nn, Some("value"), format!("Constant without a value{ctx}")));
                };
                self.consts.insert(out, c);
                continue;
            }
            // Classify inputs.
            let mut data_in: Option<usize> = None;
            for (k, i) in n.input.iter().enumerate() {
                if i.is_empty() || self.consts.contains_key(i) {
                    continue;
                }
                if *i == cur {
                    if data_in.is_some() {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!("uses the data tensor `{i}` twice; only chains are supported{ctx}"),
                        ));
                    }
                    data_in = Some(k);
                } else if dynamic.contains(i) {
                    return Err(err(
                        file,
                        nn,
                        Some(&format!("input `{i}`")),
                        format!(
                            "reads `{i}`, an earlier value that a later node already consumed: the network \
                             branches (skip connections, concatenation) and only chains are supported{ctx}"
                        ),
                    ));
                } else {
                    return Err(err(
                        file,
                        nn,
                        Some(&format!("input `{i}`")),
                        format!(
                            "missing initializer: `{i}` is neither the graph input, an initializer, a \
                             Constant nor the output of an earlier node{ctx}"
                        ),
                    ));
                }
            }
            let Some(k_data) = data_in else {
                return Err(err(
                    file,
                    nn,
                    None,
                    format!(
                        "computes only from constants; constant folding of {} is not supported{ctx}",
                        n.op_type()
                    ),
                ));
            };
            let cst = |k: usize, what: &str| -> Result<Option<&Const>, FrontendError> {
                match n.input.get(k) {
                    None => Ok(None),
                    Some(s) if s.is_empty() => Ok(None),
                    Some(s) => match self.consts.get(s) {
                        Some(c) => Ok(Some(c)),
                        None => Err(err(
                            file,
                            nn,
                            Some(&format!("input `{s}`")),
                            format!("{what} must be an initializer (constant), it is computed at run time{ctx}"),
                        )),
                    },
                }
            };
            let need = |k: usize, what: &str| -> Result<&Const, FrontendError> {
                cst(k, what)?.ok_or_else(|| err(file, nn, None, format!("{what} (input {k}) is missing{ctx}")))
            };
            let data_first = |what: &str| -> Result<(), FrontendError> {
                if k_data != 0 {
                    return Err(err(file, nn, None, format!("the data must be input 0 ({what}){ctx}")));
                }
                Ok(())
            };
            let mut push: Option<Layer> = None;
            let mut new_shape = shape.clone();
            match n.op_type() {
                "Identity" | "Dropout" => {
                    notes.push(format!("{} `{nname}` removed", n.op_type()));
                }
                "Softmax" | "LogSoftmax" => {
                    notes.push(format!(
                        "final {} `{nname}` dropped: the spike counts of the last layer are read out instead",
                        n.op_type()
                    ));
                    softmax = Some(nname.clone());
                }
                "Relu" => {
                    push = Some(Layer::Relu);
                }
                "Flatten" => {
                    let axis = attr_i(n, "axis", 1);
                    if axis != 1 {
                        return Err(err(
                            file,
                            nn,
                            Some("axis"),
                            format!(
                                "Flatten with axis {axis} is not supported (only axis 1: keep the batch axis){ctx}"
                            ),
                        ));
                    }
                    new_shape = vec![shape.iter().product()];
                    if shape.len() > 1 {
                        push = Some(Layer::Flatten);
                    }
                }
                "Reshape" => {
                    data_first("Reshape")?;
                    let t = need(1, "the target shape")?;
                    let numel: usize = shape.iter().product();
                    let d: Vec<i64> = t.data.iter().map(|&v| v as i64).collect();
                    let flat = match d.as_slice() {
                        [b, f] => matches!(*b, -1..=1) && (*f == -1 || *f == numel as i64),
                        _ => false,
                    };
                    if !flat {
                        return Err(err(
                            file,
                            nn,
                            Some("shape"),
                            format!(
                                "Reshape of {shape:?} (per sample) to {d:?} is not supported: only a reshape to \
                                 [batch, features] (a flatten) is{ctx}"
                            ),
                        ));
                    }
                    new_shape = vec![numel];
                    if shape.len() > 1 {
                        push = Some(Layer::Flatten);
                    }
                }
                "Conv" => {
                    data_first("Conv")?;
                    if shape.len() != 3 {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!(
                                "Conv over input {shape:?} (per sample): only 2-d convolution on [C, H, W] is \
                                 supported{ctx}"
                            ),
                        ));
                    }
                    let w = need(1, "the weight W")?;
                    if w.dims.len() != 4 {
                        return Err(err(
                            file,
                            nn,
                            Some("W"),
                            format!("weight dims {:?}: expected [C_out, C_in/group, kH, kW]{ctx}", w.dims),
                        ));
                    }
                    let groups = attr_i(n, "group", 1).max(1) as usize;
                    let wd = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
                    if wd[1] * groups != shape[0] || wd[0] % groups != 0 {
                        return Err(err(
                            file,
                            nn,
                            Some("W"),
                            format!(
                                "weight dims {:?} with group {groups} do not fit an input of {} channels{ctx}",
                                w.dims, shape[0]
                            ),
                        ));
                    }
                    if let Some(ks) = attr_ints(n, "kernel_shape")
                        && ks != [wd[2] as i64, wd[3] as i64]
                    {
                        return Err(err(
                            file,
                            nn,
                            Some("kernel_shape"),
                            format!("{ks:?} disagrees with the weight dims {:?}{ctx}", w.dims),
                        ));
                    }
                    let two = |name: &str| -> Result<[usize; 2], FrontendError> {
                        match attr_ints(n, name) {
                            None => Ok([1, 1]),
                            Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => Ok([v[0] as usize, v[1] as usize]),
                            Some(v) => Err(err(file, nn, Some(name), format!("{v:?}: expected 2 values ≥ 1{ctx}"))),
                        }
                    };
                    let stride = two("strides")?;
                    let dil = two("dilations")?;
                    let pad = pads2(file, nn, n, &shape[1..], [wd[2], wd[3]], stride, dil, &ctx)?;
                    let b = match cst(2, "the bias B")? {
                        Some(b) if b.data.len() == wd[0] => b.data.clone(),
                        Some(b) => {
                            return Err(err(
                                file,
                                nn,
                                Some("B"),
                                format!("bias has {} values, expected {}{ctx}", b.data.len(), wd[0]),
                            ));
                        }
                        None => vec![0.0; wd[0]],
                    };
                    let (Some(oh), Some(ow)) = (
                        out_len(shape[1], wd[2], stride[0], pad[0], dil[0]),
                        out_len(shape[2], wd[3], stride[1], pad[1], dil[1]),
                    ) else {
                        return Err(err(
                            file,
                            nn,
                            Some("W"),
                            format!("kernel larger than the padded input {shape:?}{ctx}"),
                        ));
                    };
                    new_shape = vec![wd[0], oh, ow];
                    push = Some(Layer::Conv {
                        w: w.data.clone(),
                        wdims: wd,
                        b,
                        stride,
                        pad,
                        dil,
                        groups,
                    });
                }
                "Gemm" | "MatMul" => {
                    data_first(n.op_type())?;
                    if shape.len() != 1 {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!(
                                "{} on a per-sample input of shape {shape:?}: insert a Flatten first (only \
                                 [batch, features] inputs are supported){ctx}",
                                n.op_type()
                            ),
                        ));
                    }
                    let is_gemm = n.op_type() == "Gemm";
                    if is_gemm && attr_i(n, "transA", 0) != 0 {
                        return Err(err(
                            file,
                            nn,
                            Some("transA"),
                            format!("transA = 1 is not supported{ctx}"),
                        ));
                    }
                    let bmat = need(1, "the weight B")?;
                    if bmat.dims.len() != 2 {
                        return Err(err(
                            file,
                            nn,
                            Some("B"),
                            format!("weight dims {:?}: expected 2-d{ctx}", bmat.dims),
                        ));
                    }
                    let trans_b = is_gemm && attr_i(n, "transB", 0) != 0;
                    let (out, inp) = if trans_b {
                        (bmat.dims[0], bmat.dims[1])
                    } else {
                        (bmat.dims[1], bmat.dims[0])
                    };
                    if inp != shape[0] {
                        return Err(err(
                            file,
                            nn,
                            Some("B"),
                            format!(
                                "weight dims {:?}{} need {inp} input features, the input has {}{ctx}",
                                bmat.dims,
                                if trans_b { " (transB)" } else { "" },
                                shape[0]
                            ),
                        ));
                    }
                    let alpha = if is_gemm { attr_f(n, "alpha", 1.0) as f64 } else { 1.0 };
                    let beta = if is_gemm { attr_f(n, "beta", 1.0) as f64 } else { 1.0 };
                    let mut w = vec![0.0; out * inp];
                    for o in 0..out {
                        for i in 0..inp {
                            w[o * inp + i] = alpha
                                * if trans_b {
                                    bmat.data[o * inp + i]
                                } else {
                                    bmat.data[i * out + o]
                                };
                        }
                    }
                    let b = match if is_gemm { cst(2, "the bias C")? } else { None } {
                        None => vec![0.0; out],
                        Some(c) if c.data.len() == out => c.data.iter().map(|v| v * beta).collect(),
                        Some(c) if c.data.len() == 1 => vec![c.data[0] * beta; out],
                        Some(c) => {
                            return Err(err(
                                file,
                                nn,
                                Some("C"),
                                format!("bias dims {:?} do not broadcast to [{out}]{ctx}", c.dims),
                            ));
                        }
                    };
                    new_shape = vec![out];
                    push = Some(Layer::Dense { w, out, inp, b });
                }
                "Add" => {
                    let other = need(1 - k_data.min(1), "the addend")?;
                    let Some(li) = foldable else {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!(
                                "Add is only supported as the bias of a directly preceding MatMul, Gemm or Conv{ctx}"
                            ),
                        ));
                    };
                    let (_, layer, _) = &mut layers[li];
                    let b = match layer {
                        Layer::Dense { b, .. } | Layer::Conv { b, .. } => b,
                        _ => unreachable_layer(file, nn)?,
                    };
                    let nb = b.len();
                    let per_channel = other.data.len() == nb
                        && (other.dims.len() <= 1
                            || other
                                .dims
                                .iter()
                                .rev()
                                .take(other.dims.len().saturating_sub(1))
                                .all(|&d| d == 1)
                            || shape.len() == 1);
                    if other.data.len() == 1 {
                        b.iter_mut().for_each(|v| *v += other.data[0]);
                    } else if per_channel {
                        b.iter_mut().zip(&other.data).for_each(|(v, a)| *v += a);
                    } else {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!(
                                "addend of dims {:?} is not a per-channel bias of the preceding layer \
                                 (output {shape:?}){ctx}",
                                other.dims
                            ),
                        ));
                    }
                    notes.push(format!("Add `{nname}` folded into the bias of `{}`", layers[li].0));
                }
                "BatchNormalization" => {
                    data_first("BatchNormalization")?;
                    if attr_i(n, "training_mode", 0) != 0 {
                        return Err(err(
                            file,
                            nn,
                            Some("training_mode"),
                            format!("training mode is not supported{ctx}"),
                        ));
                    }
                    let eps = attr_f(n, "epsilon", 1e-5) as f64;
                    let c = shape[0];
                    let get = |k: usize, what: &str| -> Result<Vec<f64>, FrontendError> {
                        let t = need(k, what)?;
                        if t.data.len() != c {
                            return Err(err(
                                file,
                                nn,
                                Some(what),
                                format!("has {} values, expected one per channel ({c}){ctx}", t.data.len()),
                            ));
                        }
                        Ok(t.data.clone())
                    };
                    let (gamma, beta, mean, var) = (
                        get(1, "scale")?,
                        get(2, "B")?,
                        get(3, "input_mean")?,
                        get(4, "input_var")?,
                    );
                    let Some(li) = foldable else {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!("BatchNormalization must directly follow a Conv or Gemm to be folded into it{ctx}"),
                        ));
                    };
                    let (_, layer, _) = &mut layers[li];
                    let (w, b, per_out) = match layer {
                        Layer::Dense { w, b, inp, .. } => (w, b, *inp),
                        Layer::Conv { w, b, wdims, .. } => (w, b, wdims[1] * wdims[2] * wdims[3]),
                        _ => unreachable_layer(file, nn)?,
                    };
                    for o in 0..c {
                        let s = gamma[o] / (var[o] + eps).sqrt();
                        w[o * per_out..(o + 1) * per_out].iter_mut().for_each(|v| *v *= s);
                        b[o] = (b[o] - mean[o]) * s + beta[o];
                    }
                    notes.push(format!("BatchNormalization `{nname}` folded into `{}`", layers[li].0));
                }
                "AveragePool" | "GlobalAveragePool" => {
                    data_first(n.op_type())?;
                    if shape.len() != 3 {
                        return Err(err(
                            file,
                            nn,
                            None,
                            format!("pooling needs a [C, H, W] input, got {shape:?}{ctx}"),
                        ));
                    }
                    let (kernel, stride, pad) = if n.op_type() == "GlobalAveragePool" {
                        ([shape[1], shape[2]], [shape[1], shape[2]], [0, 0])
                    } else {
                        let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
                        if ks.len() != 2 || ks.iter().any(|&k| k < 1) {
                            return Err(err(
                                file,
                                nn,
                                Some("kernel_shape"),
                                format!("{ks:?}: expected 2 values ≥ 1{ctx}"),
                            ));
                        }
                        let kernel = [ks[0] as usize, ks[1] as usize];
                        let stride = match attr_ints(n, "strides") {
                            None => [1, 1],
                            Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => [v[0] as usize, v[1] as usize],
                            Some(v) => {
                                return Err(err(
                                    file,
                                    nn,
                                    Some("strides"),
                                    format!("{v:?}: expected 2 values ≥ 1{ctx}"),
                                ));
                            }
                        };
                        if attr_i(n, "ceil_mode", 0) != 0 {
                            return Err(err(
                                file,
                                nn,
                                Some("ceil_mode"),
                                format!("ceil_mode = 1 is not supported{ctx}"),
                            ));
                        }
                        let pad = pads2(file, nn, n, &shape[1..], kernel, stride, [1, 1], &ctx)?;
                        if pad != [0, 0] && attr_i(n, "count_include_pad", 0) == 0 {
                            return Err(err(
                                file,
                                nn,
                                Some("count_include_pad"),
                                format!(
                                    "padded average pooling must count the padding (count_include_pad = 1) \
                                     to be a fixed sum pooling{ctx}"
                                ),
                            ));
                        }
                        (kernel, stride, pad)
                    };
                    let (Some(oh), Some(ow)) = (
                        out_len(shape[1], kernel[0], stride[0], pad[0], 1),
                        out_len(shape[2], kernel[1], stride[1], pad[1], 1),
                    ) else {
                        return Err(err(
                            file,
                            nn,
                            Some("kernel_shape"),
                            format!("window larger than the input {shape:?}{ctx}"),
                        ));
                    };
                    new_shape = vec![shape[0], oh, ow];
                    push = Some(Layer::AvgPool { kernel, stride, pad });
                }
                other => {
                    return Err(err(
                        file,
                        nn,
                        Some("op_type"),
                        format!(
                            "unsupported operator {other} (opset {}); supported ops: {}",
                            self.opset,
                            SUPPORTED_OPS.join(", ")
                        ),
                    ));
                }
            }
            foldable = match &push {
                Some(Layer::Conv { .. } | Layer::Dense { .. }) => Some(layers.len()),
                Some(_) => None,
                None => foldable,
            };
            let numel = new_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if numel.is_none_or(|e| e > MAX_LAYER_ELEMENTS) {
                return Err(err(
                    file,
                    nn,
                    Some("output shape"),
                    format!(
                        "the layer's output {new_shape:?} has more than {MAX_LAYER_ELEMENTS} elements per sample: \
                         its attributes (pads, strides, dilations, kernel) or its input claim more than a network can \
                         hold{ctx}"
                    ),
                ));
            }
            if let Some(l) = push {
                layers.push((nname.clone(), l, new_shape.clone()));
            }
            shape = new_shape;
            let out = n.output.first().cloned().unwrap_or_default();
            dynamic.insert(out.clone());
            cur = out;
        }
        let outs: Vec<&str> = graph.output.iter().map(|o| o.name()).collect();
        let out_name = match (softmax.as_ref(), outs.as_slice()) {
            (_, [o]) if *o == cur => o.to_string(),
            _ => {
                return Err(err(
                    file,
                    None,
                    Some("graph.output"),
                    format!("expected one graph output, the end of the chain `{cur}`; found {outs:?}"),
                ));
            }
        };
        if layers.is_empty() {
            return Err(err(file, None, Some("graph.node"), "the model has no layers"));
        }
        Ok(Ann {
            name: Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.to_string()),
            input_name: input.name().to_string(),
            output_name: out_name,
            input_shape,
            layers,
            opset: self.opset,
            notes,
        })
    }

    fn input_shape(&self, input: &pb::ValueInfoProto) -> Result<Vec<usize>, FrontendError> {
        use pb::tensor_shape_proto::dimension::Value as DV;
        use pb::type_proto::Value as TV;
        let file = self.file;
        let field = format!("input `{}`", input.name());
        let e = |m: &str| err(file, None, Some(&field), m.to_string());
        let Some(TV::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
            return Err(e("has no tensor type"));
        };
        let Some(shape) = t.shape.as_ref() else {
            return Err(e(
                "dynamic shape: the input has no shape; export with fixed input dimensions",
            ));
        };
        let mut dims = Vec::new();
        for (k, d) in shape.dim.iter().enumerate() {
            match &d.value {
                Some(DV::DimValue(v)) if *v > 0 => dims.push(*v as usize),
                _ if k == 0 => dims.push(1),
                Some(DV::DimParam(p)) => {
                    return Err(e(&format!(
                        "dynamic shape: dimension {k} is the symbol `{p}`; only the batch dimension (0) may be \
                         symbolic, export with fixed sizes"
                    )));
                }
                _ => {
                    return Err(e(&format!(
                        "dynamic shape: dimension {k} has no fixed size; only the batch dimension (0) may be \
                         unknown"
                    )));
                }
            }
        }
        if !(dims.len() == 2 || dims.len() == 4) {
            return Err(e(&format!(
                "input of rank {} ({:?}): expected [batch, features] or [batch, C, H, W]",
                dims.len(),
                dims
            )));
        }
        if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
            return Err(e(&format!("dims {dims:?}: the element count overflows")));
        }
        Ok(dims[1..].to_vec())
    }
}

fn unreachable_layer<T>(file: &str, node: Option<&str>) -> Result<T, FrontendError> {
    Err(err(file, node, None, "internal: no weighted layer to fold into"))
}

#[allow(clippy::too_many_arguments)]
fn pads2(
    file: &str,
    nn: Option<&str>,
    n: &pb::NodeProto,
    spatial: &[usize],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    ctx: &str,
) -> Result<[usize; 2], FrontendError> {
    let auto = attr_s(n, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" => match attr_ints(n, "pads") {
            None => Ok([0, 0]),
            Some(p) if p.len() == 4 && p.iter().all(|&x| x >= 0) => {
                if p[0] != p[2] || p[1] != p[3] {
                    return Err(err(
                        file,
                        nn,
                        Some("pads"),
                        format!("asymmetric padding {p:?} is not supported (begin must equal end){ctx}"),
                    ));
                }
                Ok([p[0] as usize, p[1] as usize])
            }
            Some(p) => Err(err(
                file,
                nn,
                Some("pads"),
                format!("{p:?}: expected 4 values ≥ 0{ctx}"),
            )),
        },
        "VALID" => Ok([0, 0]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut out = [0; 2];
            for a in 0..2 {
                let o = spatial[a].div_ceil(s[a]);
                let need = ((o - 1) * s[a] + d[a] * (k[a] - 1) + 1).saturating_sub(spatial[a]);
                if !need.is_multiple_of(2) {
                    return Err(err(
                        file,
                        nn,
                        Some("auto_pad"),
                        format!("{auto} needs asymmetric padding ({need} in total) here, not supported{ctx}"),
                    ));
                }
                out[a] = need / 2;
            }
            Ok(out)
        }
        other => Err(err(file, nn, Some("auto_pad"), format!("unknown value {other:?}{ctx}"))),
    }
}

// ------------------------------------------------------------------ conversion

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * (v.len() - 1) as f64).round() as usize;
    let rank = rank.min(v.len() - 1);
    let (_, x, _) = v.select_nth_unstable_by(rank, |a, b| a.total_cmp(b));
    *x
}

/// Stages: (layer range, index of the closing ReLU if any).
fn stages(ann: &Ann) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, (_, l, _)) in ann.layers.iter().enumerate() {
        if matches!(l, Layer::Relu) {
            out.push((start..i + 1, true));
            start = i + 1;
        }
    }
    if start < ann.layers.len() {
        out.push((start..ann.layers.len(), false));
    }
    out
}

fn build(file: &str, ann: Ann, opts: &ConvertOptions) -> Result<Conversion, FrontendError> {
    let dt = opts.dt.unwrap_or(nmc_ir::DEFAULT_DT);
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
    let st = stages(&ann);
    let mut warnings = Vec::new();
    // Activations at the end of each stage (after its ReLU, or the logits).
    let mut lambdas = vec![0.0; st.len()];
    let mut mean_rate: Vec<Option<f64>> = vec![None; st.len()];
    let mut saturated: Vec<Option<f64>> = vec![None; st.len()];
    let nsamples;
    match &opts.calibration {
        Some(cal) => {
            let n_in = ann.input_len();
            let dims = cal.shape();
            let ok = dims.len() == ann.input_shape.len() + 1 && dims[1..] == ann.input_shape[..];
            if !ok || dims[0] == 0 {
                return Err(err(
                    file,
                    None,
                    Some("calibration"),
                    format!(
                        "calibration data of shape {dims:?}: expected (N, {}) with N ≥ 1",
                        ann.input_shape
                            .iter()
                            .map(|d| d.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            nsamples = dims[0];
            let flat: Vec<f64> = cal.iter().copied().collect();
            let ends: Vec<usize> = st.iter().map(|(rg, _)| rg.end - 1).collect();
            let mut acts: Vec<Vec<f64>> = vec![Vec::new(); st.len()];
            for s in 0..nsamples {
                let outs = ann.forward_all(&flat[s * n_in..(s + 1) * n_in]);
                for (k, &e) in ends.iter().enumerate() {
                    acts[k].extend(outs[e].iter().copied().filter(|v| *v > 0.0));
                }
            }
            for (k, a) in acts.iter_mut().enumerate() {
                let total = nsamples * ann.layers[ends[k]].2.iter().product::<usize>();
                let lam = percentile(a, opts.percentile);
                lambdas[k] = lam;
                if lam > 0.0 {
                    let sum: f64 = a.iter().map(|v| (v / lam).min(1.0)).sum();
                    mean_rate[k] = Some(sum / total as f64 * opts.max_rate_hz);
                    saturated[k] = Some(a.iter().filter(|v| **v > lam).count() as f64 / total as f64);
                }
            }
        }
        None => {
            nsamples = 0;
            warnings.push(
                "no calibration data: weight-based normalisation (upper bounds for inputs in [0, 1]); firing \
                 rates will be low and accuracy may suffer; pass calibration inputs (`--calibrate X.npy`)"
                    .to_string(),
            );
            // Upper bound: positive parts of weights and biases on an all-ones input.
            let mut pos = ann.clone();
            for (_, l, _) in &mut pos.layers {
                if let Layer::Conv { w, b, .. } | Layer::Dense { w, b, .. } = l {
                    w.iter_mut().for_each(|v| *v = v.max(0.0));
                    b.iter_mut().for_each(|v| *v = v.max(0.0));
                }
            }
            let outs = pos.forward_all(&vec![1.0; ann.input_len()]);
            for (k, (rg, _)) in st.iter().enumerate() {
                lambdas[k] = outs[rg.end - 1].iter().copied().fold(0.0, f64::max);
            }
        }
    }
    for (k, lam) in lambdas.iter_mut().enumerate() {
        if !(*lam > 0.0 && lam.is_finite()) {
            warnings.push(format!(
                "layer ending at `{}` is never active (scale {lam}); using scale 1",
                ann.layers[st[k].0.end - 1].0
            ));
            *lam = 1.0;
        }
    }

    // Build the graph.
    let mut b = GraphBuilder::new(ann.name.clone());
    b.dt(dt);
    let bad = |e: nmc_ir::BuildError| FrontendError::Build {
        file: file.to_string(),
        source: Box::new(e),
        hint: None,
    };
    let mut names: HashSet<String> = HashSet::new();
    let mut unique = |s: &str| -> String {
        let base = sanitize(s);
        let mut n = base.clone();
        let mut k = 1;
        while names.contains(&n) {
            k += 1;
            n = format!("{base}_{k}");
        }
        names.insert(n.clone());
        n
    };
    let input = unique(&ann.input_name);
    b.node(
        input.clone(),
        Op::Input {
            shape: Shape::new(ann.input_shape.clone()),
        },
        BTreeMap::new(),
    )
    .map_err(bad)?;
    let mut prev = input;
    let mut layers_rep = Vec::new();
    let mut lam_prev = r;
    let n_stages = st.len();
    for (k, (rg, has_relu)) in st.iter().enumerate() {
        let lam = lambdas[k];
        let wf = lam_prev / lam;
        let bf = r / lam;
        let mut ops: Vec<(String, Op)> = Vec::new();
        let mut first_weighted = true;
        let mut onnx_nodes = Vec::new();
        let mut pending_div = 1.0; // avg-pool divisor waiting for the next weighted layer
        let mut last_weighted: Option<usize> = None; // index in `ops`
        for i in rg.clone() {
            let (name, layer, os) = &ann.layers[i];
            onnx_nodes.push(name.clone());
            let in_shape = if i == 0 { &ann.input_shape } else { &ann.layers[i - 1].2 };
            match layer {
                Layer::Relu => {}
                Layer::Flatten => ops.push((
                    unique(name),
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
                        unique(name),
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
                        unique(name),
                        Op::Affine {
                            weight: tensor(vec![*out, *inp], w.iter().map(|v| v * f).collect(), file, name)?,
                            bias: Some(Tensor::vector(b.iter().map(|v| v * bf).collect())),
                        },
                    ));
                }
                Layer::AvgPool { kernel, stride, pad } => {
                    let div = (kernel[0] * kernel[1]) as f64;
                    let _ = (in_shape, os);
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
                        unique(name),
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
                    unique(&format!("{}_scale", ann.layers[rg.start].0)),
                    Op::Scale {
                        scale: Tensor::scalar(wf),
                    },
                ),
            );
        }
        let last = &ann.layers[rg.end - 1];
        let pop_name = if *has_relu {
            unique(&last.0)
        } else {
            unique(&format!("{}_if", last.0))
        };
        let mut neuron = match opts.neuron {
            SpikingNeuron::If => Neuron::neutral(NeuronModel::If, Shape::new(last.2.clone())),
            SpikingNeuron::Lif { tau_mem } => {
                let mut n = Neuron::neutral(NeuronModel::Lif, Shape::new(last.2.clone()));
                n.tau_mem = vec![tau_mem; n.len()];
                n
            }
        };
        neuron.reset = opts.reset.unwrap_or(ResetMode::Zero);
        ops.push((pop_name.clone(), Op::Neuron(neuron)));
        for (name, op) in ops {
            b.node(name.clone(), op, BTreeMap::new()).map_err(bad)?;
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
        let _ = n_stages;
    }
    let out_shape = ann.layers.last().map(|l| l.2.clone()).unwrap_or_default();
    let out = unique(&ann.output_name);
    b.node(
        out.clone(),
        Op::Output {
            shape: Shape::new(out_shape),
        },
        BTreeMap::new(),
    )
    .map_err(bad)?;
    b.edge(prev, out);
    let output_scale = lam_prev / r;
    b.meta("source_format", Meta::Str("onnx".into()));
    b.meta("onnx_opset", Meta::Int(ann.opset));
    b.meta("onnx_output_scale", Meta::Float(output_scale));
    b.meta("onnx_max_rate_hz", Meta::Float(opts.max_rate_hz));
    if !warnings.is_empty() {
        b.meta("onnx_warning", Meta::Str(warnings.join("; ")));
    }
    let graph = b.build().map_err(bad)?;
    nmc_ir::verify(&graph).map_err(|errors| FrontendError::Verify {
        file: file.to_string(),
        errors,
    })?;
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
