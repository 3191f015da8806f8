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
//!
//! Code layout: `read` decodes tensors and attributes, `lower` walks the
//! node list and `ops` lowers each operator, `ann` holds the ANN and its
//! float interpreter, `calibrate` finds the scales and `snn` builds the
//! spiking graph; `report` is the conversion report.

#[allow(missing_docs, clippy::all, clippy::pedantic, rust_2018_idioms, unreachable_pub)]
pub mod pb;

mod ann;
mod calibrate;
mod lower;
mod ops;
mod read;
mod report;
mod snn;

pub use ann::{Ann, Layer};
pub use report::{ConvertReport, LayerReport};

use crate::FrontendError;
use ndarray::ArrayD;
use nmc_ir::{Graph, ResetMode};
use prost::Message;
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

/// What the converted network's last layer (the logits) becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogitsLayer {
    /// A spiking layer like the others; classes are decided by spike counts
    /// (default; close logits can tie in whole counts).
    #[default]
    Spikes,
    /// A linear readout (the last Gemm/Conv straight into the Output, run on
    /// the host from the chip's spikes): its value per step is the logits
    /// times `rate_per_step/λ`, so classes are decided by potentials, not by
    /// whole spike counts.
    Readout,
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
    /// The last layer: spikes (default) or a linear readout.
    pub logits: LogitsLayer,
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
            logits: LogitsLayer::Spikes,
        }
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
    snn::build(name, ann, opts)
}

/// Parses and lowers an ONNX model into its ANN layer chain (no conversion).
pub fn parse(name: &str, bytes: &[u8]) -> Result<Ann, FrontendError> {
    let model = pb::ModelProto::decode(bytes).map_err(|e| FrontendError::Container {
        file: name.to_string(),
        reason: format!("not a valid ONNX model (protobuf decode failed: {e})"),
    })?;
    lower::Lower::new(name, &model)?.run(&model)
}

fn err(file: &str, node: Option<&str>, field: Option<&str>, message: impl Into<String>) -> FrontendError {
    FrontendError::Onnx {
        file: file.to_string(),
        node: node.map(str::to_string),
        field: field.map(str::to_string),
        message: message.into(),
    }
}
