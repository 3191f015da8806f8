//! The quantized model: exactly the integers a target runs, layer by layer.
//!
//! Quantization (`nmc-quant`) turns a float [`crate::Graph`] into a
//! [`QModel`]; the fixed-point reference interprets it directly (spikes A),
//! the partitioner places it on cores, and the emitter turns it into the
//! deployable artifact. It is also a file format (RON, written and read by
//! `nmc-quant`), versioned by [`QMODEL_SCHEMA_VERSION`], so a network
//! quantized by another toolchain can be replayed.
//!
//! ## Shape of the model
//! A `QModel` is a list of neuron populations ([`QPopulation`]), each with
//! the integer compartment parameters of its neurons and the synaptic
//! connections ([`QConnection`]) that feed it. Every chain of linear float
//! ops between two populations (Affine, Conv, pooling, Flatten, Scale) has
//! been folded into one connection. Sources are graph inputs or other
//! populations. Populations are listed in the float graph's schedule order.
//!
//! ## Timing (chip semantics)
//! Unlike the float graph (docs/ir.md), every connection has an explicit
//! latency in steps ([`QConnection::latency`]): spikes a source emits at step
//! `t` are accumulated by the destination at step `t + latency`. On a
//! Loihi-like chip every on-chip hop takes the target's synapse latency
//! (1 step); connections from a host population to the chip add the host
//! latency; a host population reads the real-valued input with latency 0.
//! There is no same-step delivery, so update order within a step does not
//! matter on chip.
//!
//! ## Host readouts
//! A non-spiking linear output layer after the chip (an Affine or Conv
//! straight into an Output, optionally through a first-order lowpass, the
//! NengoDL probe's `synapse`) is a [`QReadout`]: it runs on the **host**, in
//! `f64`, from the chip populations' spikes (the mirror of the host
//! encoder), and is not a population. Its weights, bias and filter constants
//! are floats, recorded as such. At step `t`, for every element `i`:
//!
//! ```text
//! y = bias[i]
//! for each connection c (in order), if t ≥ c.latency:
//!     for each stored entry (i, j, w) of row i, in storage order:
//!         if source j spiked at step t − c.latency: y = y + w
//! value[i] = y                                  (no filter)
//! f[i] = decay · f[i] + gain · y; value[i] = f[i] (filter; f starts at 0)
//! ```
//!
//! each operation one IEEE-754 `f64` operation (no fused multiply-add), so
//! every execution that follows this order gets the same bits. Latencies
//! are the target's chip → host latency (`timing.host_output_delay_steps`).
//!
//! ## Integer step
//! The per-compartment step (accumulate, current decay, bias, voltage decay,
//! threshold, reset, refractory) and the widths and overflow rules of every
//! register are the target's (`targets/*.ron`, docs/targets.md); the
//! parameters here are the stored values (mantissas, exponents, stored
//! decays) the target's formulas take.

mod float_host;

pub use float_host::{FloatHost, FloatNengo, FloatNeuron};

use crate::fact::Shape;
use crate::op::NeuronModel;
use nmc_core::ConvGeom;
use serde::{Deserialize, Serialize};

/// Version of the [`QModel`] file format. Bump on any change to these types.
pub const QMODEL_SCHEMA_VERSION: u32 = 3;

/// Older schema versions [`QModel`] files may carry and are still read:
/// version 1 has no `readouts`, version 2 no float host layers
/// ([`QPopulation::float`]).
pub const QMODEL_SCHEMA_VERSIONS_READ: [u32; 3] = [1, 2, 3];

/// A quantized network for one target.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QModel {
    /// Must equal [`QMODEL_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Model name (from the float graph).
    pub name: String,
    /// Name of the target it was quantized for.
    pub target: String,
    /// Time step in seconds (for rates in reports; the chip has no clock unit).
    pub dt: f64,
    /// Graph inputs, in the float graph's order.
    pub inputs: Vec<QInput>,
    /// Neuron populations in schedule order.
    pub populations: Vec<QPopulation>,
    /// Graph outputs: which population (or input) each reads.
    pub outputs: Vec<QOutput>,
    /// Host readouts (schema 2; absent in version-1 files): the Outputs
    /// computed on the host from chip spikes, in the float graph's output
    /// order. Their Outputs are not in [`QModel::outputs`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readouts: Vec<QReadout>,
}

/// A non-spiking linear readout run on the host from chip spikes (module
/// documentation, "Host readouts").
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QReadout {
    /// Name of the float graph node whose value it is (the last linear op,
    /// or the lowpass node `<output>.synapse`).
    pub name: String,
    /// The Output node it feeds.
    pub output: String,
    /// Per-step shape of its value.
    pub shape: Shape,
    /// What it reads: chip populations' spikes, summed.
    pub inputs: Vec<QReadoutConnection>,
    /// Bias per element (`shape.numel()` values).
    pub bias: Vec<f64>,
    /// The lowpass filter, when there is one.
    pub filter: Option<ReadoutFilter>,
}

/// One connection of a [`QReadout`]: float weights on a chip population's
/// spikes.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QReadoutConnection {
    /// The population whose spikes it reads (always `Source::Population`).
    pub source: Source,
    /// Steps between a spike and its use (the target's chip → host latency).
    pub latency: u32,
    /// The weights.
    pub weights: ReadoutWeights,
    /// The float ops this connection was folded from (for reports).
    pub folded_from: Vec<String>,
}

/// Float weights of a readout connection, rows over destinations.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum ReadoutWeights {
    /// `[out, in]`, row-major.
    Dense {
        /// Readout elements.
        out: usize,
        /// Source neurons.
        inp: usize,
        /// Weights, `out × inp`.
        w: Vec<f64>,
    },
    /// Compressed sparse rows over readout elements (as [`QWeights::Sparse`]).
    Sparse {
        /// Readout elements.
        out: usize,
        /// Source neurons.
        inp: usize,
        /// Row pointers, `out + 1` entries.
        row_ptr: Vec<u32>,
        /// Source index of each entry.
        col: Vec<u32>,
        /// Weight of each entry.
        w: Vec<f64>,
    },
}

impl ReadoutWeights {
    /// (destination count, source count) of the map.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            ReadoutWeights::Dense { out, inp, .. } | ReadoutWeights::Sparse { out, inp, .. } => (*out, *inp),
        }
    }
    /// Number of stored weights.
    pub fn stored(&self) -> usize {
        match self {
            ReadoutWeights::Dense { w, .. } | ReadoutWeights::Sparse { w, .. } => w.len(),
        }
    }
}

/// The first-order lowpass of a readout (nengo's `Lowpass(tau)`, zero-order
/// hold): `f = decay · f + gain · y` per step.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadoutFilter {
    /// Time constant in seconds (for reports).
    pub tau: f64,
    /// `decay` per step (`exp(−dt/τ)` under the exact rule).
    pub decay: f64,
    /// Input gain per step (`1 − decay` under the exact rule).
    pub gain: f64,
}

/// A graph input.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QInput {
    /// Input node name.
    pub name: String,
    /// Per-step shape.
    pub shape: Shape,
    /// How the values become integers.
    pub encoding: InputEncoding,
}

/// How an input's values enter the integer world.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub enum InputEncoding {
    /// Real values (e.g. pixels), read only by host populations: each value
    /// `x` becomes `clamp(round(x · 2^frac_bits), min, max)` with `bits`-bit
    /// signed range, and a connection weight multiplies that integer.
    Real {
        /// Fractional bits of the integer input.
        frac_bits: u8,
        /// Total width, sign included.
        bits: u8,
    },
    /// Spikes or event counts: each value must be a non-negative integer and
    /// is the number of events delivered to the input axon that step
    /// (the weight is added that many times).
    Events,
}

/// Where a population runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Placement {
    /// On the host, before the chip: the input encoder.
    Host,
    /// On the chip's cores.
    Chip,
}

/// A value that is either the same for every neuron of a population or
/// given per neuron (row-major over the population shape).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum PerNeuron<T> {
    /// One value for all neurons.
    Uniform(T),
    /// One value per neuron.
    Each(Vec<T>),
}

impl<T: Copy> PerNeuron<T> {
    /// The value of neuron `i` (`Each` must have at least `i + 1` values;
    /// [`QModel::check`] guarantees this for every population).
    pub fn get(&self, i: usize) -> T {
        match self {
            PerNeuron::Uniform(v) => *v,
            PerNeuron::Each(v) => v[i],
        }
    }
    /// Number of stored values (1 for `Uniform`).
    pub fn stored_len(&self) -> usize {
        match self {
            PerNeuron::Uniform(_) => 1,
            PerNeuron::Each(v) => v.len(),
        }
    }
    /// Expands to `n` values.
    pub fn expand(&self, n: usize) -> Vec<T> {
        match self {
            PerNeuron::Uniform(v) => vec![*v; n],
            PerNeuron::Each(v) => v.clone(),
        }
    }
}

/// Integer compartment parameters, as the target stores them.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compartment {
    /// Stored current decay (the chip adds the target's `decay_u` offset).
    pub decay_u: PerNeuron<u16>,
    /// Stored voltage decay.
    pub decay_v: PerNeuron<u16>,
    /// Threshold mantissa (the target scales it by `2^threshold_shift`).
    pub vth_mant: PerNeuron<i32>,
    /// Bias mantissa.
    pub bias_mant: PerNeuron<i32>,
    /// Bias exponent.
    pub bias_exp: PerNeuron<u8>,
    /// Refractory delay in steps (0: none).
    pub refractory: PerNeuron<u8>,
    /// Voltage lower-limit exponent `k`: `vmin = −2^k + 1`.
    pub vmin_exp: u8,
    /// Voltage upper-limit exponent `m`: `vmax = 2^(9+2m) − 1`.
    pub vmax_exp: u8,
    /// False for non-spiking populations (LI/CubaLI read out as voltage):
    /// the threshold is never crossed.
    pub spiking: bool,
}

/// A neuron population: one layer of compartments.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QPopulation {
    /// Name of the float graph's neuron node.
    pub name: String,
    /// NIR model it came from (display only).
    pub model: NeuronModel,
    /// Population shape.
    pub shape: Shape,
    /// Host (input encoder) or chip.
    pub placement: Placement,
    /// Integer parameters.
    pub compartment: Compartment,
    /// Incoming connections; their contributions are summed into `q`.
    pub inputs: Vec<QConnection>,
    /// Float-to-integer scale of this population's voltage: integer voltage
    /// = `scale ·` float voltage (for reports and dequantized traces).
    pub scale: f64,
    /// A host population's float model (schema 3; module `float_host`):
    /// when present, the executions run it instead of the integer
    /// compartment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub float: Option<FloatHost>,
}

/// What a connection reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Source {
    /// Graph input `k` (index into [`QModel::inputs`]).
    Input(usize),
    /// Population `k` (index into [`QModel::populations`]).
    Population(usize),
}

/// A synaptic connection into a population: integer weights applied to the
/// source's spikes (or integer input values), with one weight exponent.
///
/// The value added to `q` for one source event through a weight of mantissa
/// `m` is `m · 2^(weight_shift + weight_exp)` (the target's weight format).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QConnection {
    /// Where the events come from.
    pub source: Source,
    /// Steps between a source event and its accumulation.
    pub latency: u32,
    /// Weight exponent shared by the connection.
    pub weight_exp: i8,
    /// Weight mantissas and their layout.
    pub weights: QWeights,
    /// The float ops this connection was folded from (for reports).
    pub folded_from: Vec<String>,
}

/// Integer weights and how they connect source elements to destination
/// neurons. Source and destination indices are row-major over the source
/// and destination shapes.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum QWeights {
    /// `[out, in]` mantissas, row-major.
    Dense {
        /// Destination neurons.
        out: usize,
        /// Source elements.
        inp: usize,
        /// Mantissas, `out × inp`.
        mant: Vec<i16>,
    },
    /// A 2-d convolution (cross-correlation) `[C_in, H, W] → [C_out, H', W']`
    /// with mantissas `[C_out, C_in/groups, kh, kw]`.
    Conv2d {
        /// Source shape `[C_in, H, W]`.
        in_shape: [usize; 3],
        /// Destination shape `[C_out, H', W']`.
        out_shape: [usize; 3],
        /// Kernel `[kh, kw]`.
        kernel: [usize; 2],
        /// Stride.
        stride: [usize; 2],
        /// Zero padding (both sides).
        padding: [usize; 2],
        /// Dilation.
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
        /// Mantissas `[C_out, C_in/groups, kh, kw]`, row-major.
        mant: Vec<i16>,
    },
    /// Any other linear map, as compressed sparse rows over destinations:
    /// for destination `d`, entries `row_ptr[d]..row_ptr[d+1]` of `col`
    /// (source index) and `mant`.
    Sparse {
        /// Destination neurons.
        out: usize,
        /// Source elements.
        inp: usize,
        /// Row pointers, `out + 1` entries.
        row_ptr: Vec<u32>,
        /// Source index of each entry.
        col: Vec<u32>,
        /// Mantissa of each entry.
        mant: Vec<i16>,
    },
}

/// A graph output.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QOutput {
    /// Output node name.
    pub name: String,
    /// What it records: a population's spikes (or voltage when not
    /// spiking), or an input.
    pub source: Source,
}

/// A structural problem in a [`QModel`] (one that would make an
/// interpreter index out of range): names the population and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("population `{population}`: {field}: {message}")]
pub struct QModelError {
    /// Population name (or `<model>`).
    pub population: String,
    /// Field path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl QWeights {
    /// (destination count, source count) of the map.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            QWeights::Dense { out, inp, .. } | QWeights::Sparse { out, inp, .. } => (*out, *inp),
            QWeights::Conv2d {
                in_shape, out_shape, ..
            } => (out_shape.iter().product(), in_shape.iter().product()),
        }
    }
    /// The convolution geometry of a `Conv2d` map (unchecked: see
    /// [`ConvGeom::check`]); `None` for other maps.
    pub fn conv_geom(&self) -> Option<ConvGeom> {
        match *self {
            QWeights::Conv2d {
                in_shape,
                out_shape,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                ..
            } => Some(ConvGeom {
                in_shape,
                out_shape,
                kernel,
                stride,
                padding,
                dilation,
                groups,
            }),
            _ => None,
        }
    }
    /// Number of stored weights.
    pub fn stored(&self) -> usize {
        match self {
            QWeights::Dense { mant, .. } | QWeights::Conv2d { mant, .. } | QWeights::Sparse { mant, .. } => mant.len(),
        }
    }
}

impl QModel {
    /// The model with its host population replaced by an event input of the
    /// same shape, named after it: what the chip sees when recorded spikes
    /// are fed in place of the host encoder (`--input-spikes`). Connections
    /// that read the host population read the new input with the same
    /// latency (the target's host latency either way), so a run of this
    /// model on spikes `s` equals a run of the original whose host layer
    /// fired `s`. The real-valued inputs only the host population read are
    /// dropped. Fails unless there is exactly one host population, read only
    /// by chip populations, and no chip population reads a graph input.
    pub fn with_host_spikes_input(&self) -> Result<QModel, QModelError> {
        let err = |m: String| QModelError {
            population: "<model>".into(),
            field: "populations".into(),
            message: m,
        };
        let hosts: Vec<usize> = (0..self.populations.len())
            .filter(|&k| self.populations[k].placement == Placement::Host)
            .collect();
        let [h] = hosts[..] else {
            return Err(err(format!(
                "recorded input spikes replace exactly one host population; the model has {}",
                hosts.len()
            )));
        };
        let host = &self.populations[h];
        let remap = |s: Source, who: &str| -> Result<Source, QModelError> {
            match s {
                Source::Population(k) if k == h => Ok(Source::Input(0)),
                Source::Population(k) => Ok(Source::Population(if k > h { k - 1 } else { k })),
                Source::Input(i) => Err(err(format!(
                    "{who} reads graph input {i} directly; with recorded host spikes only the host layer's \
                     spikes enter the chip"
                ))),
            }
        };
        let mut populations = Vec::with_capacity(self.populations.len() - 1);
        for (k, p) in self.populations.iter().enumerate() {
            if k == h {
                continue;
            }
            let mut p = p.clone();
            for c in &mut p.inputs {
                c.source = remap(c.source, &format!("population `{}`", p.name))?;
            }
            populations.push(p);
        }
        let mut outputs = Vec::with_capacity(self.outputs.len());
        for o in &self.outputs {
            let source = match o.source {
                Source::Input(_) => continue,
                s => remap(s, "an output")?,
            };
            outputs.push(QOutput {
                name: o.name.clone(),
                source,
            });
        }
        let mut readouts = self.readouts.clone();
        for r in &mut readouts {
            for c in &mut r.inputs {
                c.source = remap(c.source, &format!("readout `{}`", r.name))?;
            }
        }
        Ok(QModel {
            schema_version: self.schema_version,
            name: self.name.clone(),
            target: self.target.clone(),
            dt: self.dt,
            inputs: vec![QInput {
                name: host.name.clone(),
                shape: host.shape.clone(),
                encoding: InputEncoding::Events,
            }],
            populations,
            outputs,
            readouts,
        })
    }

    /// Number of elements a source produces per step.
    pub fn source_len(&self, s: Source) -> Option<usize> {
        match s {
            Source::Input(k) => self.inputs.get(k).map(|i| i.shape.numel()),
            Source::Population(k) => self.populations.get(k).map(|p| p.shape.numel()),
        }
    }

    /// Structural checks every reader runs before interpreting a model:
    /// schema version, sources exist, weight dimensions match source and
    /// destination sizes, per-neuron vectors have one entry per neuron,
    /// sparse indices are in range, conv geometry is consistent. Numeric
    /// ranges against a target are checked by the quantizer and the
    /// partitioner, not here.
    pub fn check(&self) -> Result<(), QModelError> {
        let err = |p: &str, f: &str, m: String| QModelError {
            population: p.to_string(),
            field: f.to_string(),
            message: m,
        };
        if !QMODEL_SCHEMA_VERSIONS_READ.contains(&self.schema_version) {
            return Err(err(
                "<model>",
                "schema_version",
                format!(
                    "is {}, this nmc reads versions 1 to {QMODEL_SCHEMA_VERSION}",
                    self.schema_version
                ),
            ));
        }
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(err("<model>", "dt", format!("must be positive, is {}", self.dt)));
        }
        for p in &self.populations {
            let n = p.shape.numel();
            let c = &p.compartment;
            let lens = [
                ("compartment.decay_u", c.decay_u.stored_len()),
                ("compartment.decay_v", c.decay_v.stored_len()),
                ("compartment.vth_mant", c.vth_mant.stored_len()),
                ("compartment.bias_mant", c.bias_mant.stored_len()),
                ("compartment.bias_exp", c.bias_exp.stored_len()),
                ("compartment.refractory", c.refractory.stored_len()),
            ];
            for (f, l) in lens {
                if l != 1 && l != n {
                    return Err(err(&p.name, f, format!("has {l} values for {n} neurons")));
                }
            }
            for (ci, conn) in p.inputs.iter().enumerate() {
                let field = format!("inputs[{ci}]");
                let src_len = self
                    .source_len(conn.source)
                    .ok_or_else(|| err(&p.name, &field, format!("source {:?} does not exist", conn.source)))?;
                let (d, s) = conn.weights.dims();
                if d != n || s != src_len {
                    return Err(err(
                        &p.name,
                        &field,
                        format!("weights map {s} → {d} elements, but the source has {src_len} and the population {n}"),
                    ));
                }
                match &conn.weights {
                    QWeights::Dense { out, inp, mant } => {
                        if mant.len() != out * inp {
                            return Err(err(
                                &p.name,
                                &field,
                                format!("dense mantissas: {} for {out}×{inp}", mant.len()),
                            ));
                        }
                    }
                    QWeights::Sparse {
                        out,
                        inp,
                        row_ptr,
                        col,
                        mant,
                    } => {
                        let ok = row_ptr.len() == out + 1
                            && row_ptr.first() == Some(&0)
                            && row_ptr.windows(2).all(|w| w[0] <= w[1])
                            && row_ptr.last().map(|&l| l as usize) == Some(col.len())
                            && col.len() == mant.len()
                            && col.iter().all(|&c| (c as usize) < *inp);
                        if !ok {
                            return Err(err(
                                &p.name,
                                &field,
                                "sparse weights: inconsistent row_ptr/col/mant".into(),
                            ));
                        }
                    }
                    QWeights::Conv2d { mant, .. } => {
                        let geom_ok = conn
                            .weights
                            .conv_geom()
                            .is_some_and(|g| g.check().is_ok() && g.weight_len() == Some(mant.len()));
                        if !geom_ok {
                            return Err(err(&p.name, &field, "conv2d weights: geometry is inconsistent".into()));
                        }
                    }
                }
            }
        }
        for p in &self.populations {
            if let Some(f) = &p.float {
                self.check_float_host(p, f)?;
            }
        }
        for o in &self.outputs {
            if self.source_len(o.source).is_none() {
                return Err(err(
                    "<model>",
                    "outputs",
                    format!("output `{}` reads a missing source", o.name),
                ));
            }
        }
        if self.schema_version == 1 && !self.readouts.is_empty() {
            return Err(err(
                "<model>",
                "readouts",
                "schema_version 1 has no host readouts (write schema_version 2)".into(),
            ));
        }
        for r in &self.readouts {
            self.check_readout(r)?;
        }
        Ok(())
    }

    /// The structure of one readout: bias and weight dimensions, sources
    /// that are populations, sparse indices in range, finite numbers.
    fn check_readout(&self, r: &QReadout) -> Result<(), QModelError> {
        let err = |f: String, m: String| QModelError {
            population: r.name.clone(),
            field: f,
            message: m,
        };
        let n = r.shape.numel();
        if r.bias.len() != n {
            return Err(err(
                "bias".into(),
                format!("has {} values for {n} elements", r.bias.len()),
            ));
        }
        if let Some(i) = r.bias.iter().position(|b| !b.is_finite()) {
            return Err(err(
                format!("bias[{i}]"),
                format!("is {}, not a finite number", r.bias[i]),
            ));
        }
        if let Some(f) = r.filter {
            for (name, v) in [("tau", f.tau), ("decay", f.decay), ("gain", f.gain)] {
                if !v.is_finite() {
                    return Err(err(format!("filter.{name}"), format!("is {v}, not a finite number")));
                }
            }
        }
        for (ci, c) in r.inputs.iter().enumerate() {
            let field = format!("inputs[{ci}]");
            let Source::Population(k) = c.source else {
                return Err(err(
                    format!("{field}.source"),
                    format!("is {:?}; a host readout reads populations' spikes", c.source),
                ));
            };
            let src_len = self
                .populations
                .get(k)
                .map(|p| p.shape.numel())
                .ok_or_else(|| err(format!("{field}.source"), format!("population {k} does not exist")))?;
            let (d, s) = c.weights.dims();
            if d != n || s != src_len {
                return Err(err(
                    field,
                    format!("weights map {s} → {d} elements, but the source has {src_len} and the readout {n}"),
                ));
            }
            let ok = match &c.weights {
                ReadoutWeights::Dense { out, inp, w } => w.len() == out * inp,
                ReadoutWeights::Sparse {
                    out,
                    inp,
                    row_ptr,
                    col,
                    w,
                } => {
                    row_ptr.len() == out + 1
                        && row_ptr.first() == Some(&0)
                        && row_ptr.windows(2).all(|w| w[0] <= w[1])
                        && row_ptr.last().map(|&l| l as usize) == Some(col.len())
                        && col.len() == w.len()
                        && col.iter().all(|&c| (c as usize) < *inp)
                }
            };
            if !ok {
                return Err(err(
                    format!("{field}.weights"),
                    "inconsistent dimensions or sparse rows".into(),
                ));
            }
            let w = match &c.weights {
                ReadoutWeights::Dense { w, .. } | ReadoutWeights::Sparse { w, .. } => w,
            };
            if let Some(i) = w.iter().position(|x| !x.is_finite()) {
                return Err(err(
                    format!("{field}.weights.w[{i}]"),
                    format!("is {}, not a finite number", w[i]),
                ));
            }
        }
        Ok(())
    }
}
