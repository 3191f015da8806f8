//! # nmc-quant — float graph to the integers of a chip
//!
//! [`quantize`] turns a float [`nmc_ir::Graph`] into the
//! [`nmc_ir::qmodel::QModel`] a target runs, with a [`QuantReport`] of what
//! every choice costs. The algebra and the rounding rules are derived in
//! `docs/quantization.md`; in short:
//!
//! 1. **Lowering.** Every neuron node becomes a population (schedule
//!    order). Every chain of linear ops between a source (Input or
//!    population) and a population — Affine, Conv2d, Sum/AvgPool2d,
//!    Flatten, Scale, fan-in sums — becomes one connection: a lone Conv2d
//!    stays a convolution, a lone Affine (after Flatten) dense, anything
//!    else is composed exactly into sparse rows. Affine/Conv biases move to
//!    the neuron bias. Delay, Threshold, non-spiking readouts the target
//!    lacks, subtractive reset, `v_reset ≠ 0` and 1-d convolutions are
//!    [`QuantError`]s naming the node and field. A linear op straight into
//!    an Output (optionally through a readout synapse, see
//!    [`insert_readout_synapse`]) is a **host readout**
//!    ([`nmc_ir::qmodel::QReadout`]): float weights on chip spikes, run on
//!    the host, at the target's chip → host latency.
//! 2. **Neuron algebra.** Per population a voltage scale `s` (integer
//!    voltage per float voltage): `vth = s·v_threshold`, weights
//!    `w_int = s·g·W` with `g = γ_m'·r·γ_s'·w_in` (`γ' = 1 − α'` the chip's
//!    quantized decay gains, so steady states are exact; `γ_m' = 1` for IF,
//!    `γ_s' = 1` without a synapse), bias `s·γ_m'·(v_leak + r·w_in·b)`.
//!    Decays: `round(2^bits·(1 − α))` with `α` from the graph's
//!    discretization (exact or Euler), minus the chip's `decay_u` offset.
//! 3. **Integers.** `s` is searched per population: the largest octave
//!    allowed by the threshold, bias and weight-exponent ranges and by the
//!    worst-case accumulator/current/voltage (relaxed, with a warning,
//!    when that would cost weight precision), then within that octave the
//!    scale minimising the mean squared relative weight error (plus the
//!    threshold and bias rounding errors). Each connection gets the
//!    smallest weight exponent its largest weight fits. The report gives
//!    nengo-loihi's "largest weight → 255" error beside it.
//! 4. **Encoder** ([`EncoderMode`]). `Auto`: a population fed only from an
//!    Input through 1×1 convolutions runs on the host and its input is
//!    real-valued (`round(x·2^frac_bits)`, the `2^-frac_bits` folded into
//!    its weights); every other population is on chip and an Input it
//!    reads carries event counts. Latencies: chip→chip the target's
//!    synapse delay, host/events→chip the host delay, real→host 0.
//! 5. **Host layers** ([`HostLayers`]). `Float` (the default `Auto` under
//!    the nengo rule) also gives every host population its float model
//!    (`QPopulation::float`: `f64` weights, bias, the neuron's constants
//!    under the graph's rule), which both integer executions run instead
//!    of its integer compartment (docs/quantization.md §10).
//!
//! ## API
//!
//! - [`quantize`]`(graph, target, opts) -> Result<(QModel, QuantReport), QuantError>`
//! - [`QuantOptions`] (`scale_firing_rates`, `encoder`, `input_frac_bits`,
//!   `input_bits`, `max_input_events`, `forced_scales`, `host_layers`),
//!   [`EncoderMode`] and [`HostLayers`]
//! - [`apply_scale_firing_rates`]`(graph, s) -> Result<Graph, QuantError>`:
//!   the float graph NengoDL-style (gain × s, spike amplitude ÷ s).
//!   [`quantize`] applies it itself when `opts.scale_firing_rates ≠ 1`, so
//!   pass it the **original** graph; simulate the float reference on
//!   `apply_scale_firing_rates(graph, s)`.
//! - [`write_qmodel`]`(path, &QModel)`, [`read_qmodel`]`(path)`,
//!   [`qmodel_to_ron`], [`qmodel_from_ron`]: the RON file format (pretty,
//!   deterministic; reading checks `schema_version` and `QModel::check()`).
//! - [`QuantReport`]: `Serialize` (schema `nmc.quantize/1`, see
//!   [`REPORT_SCHEMA`], [`QuantReport::to_json`]) and `Display` (aligned
//!   tables).
//! - [`quantize_population_with_scale`]: one population at a forced scale
//!   (tests; reproducing a known conversion).
//!
//! ```no_run
//! use nmc_quant::{QuantOptions, quantize, write_qmodel};
//! let g = nmc_frontend::load(std::path::Path::new("net.nir"), &Default::default())?;
//! let t = nmc_target::Target::load("loihi1")?;
//! let (model, report) = quantize(&g, &t, &QuantOptions::default())?;
//! println!("{report}");
//! write_qmodel(std::path::Path::new("net.q.ron"), &model)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod algebra;
mod choose;
mod error;
mod io;
mod linmap;
mod lower;
mod onoff;
mod quantize;
mod readout;
mod report;
mod sfr;

pub use algebra::{chip_gamma, effective_tau, float_decay, stored_decay};
pub use error::QuantError;
pub use io::{qmodel_from_ron, qmodel_to_ron, read_qmodel, write_qmodel};
pub use onoff::insert_onoff_encoder;
pub use quantize::{quantize, quantize_population_with_scale};
pub use readout::{
    OUTPUT_SYNAPSE_KEY, OutputKind, READOUT_SYNAPSE_KEY, apply_output_synapses, insert_readout_synapse,
    is_readout_synapse, output_kind,
};
pub use report::{
    ConnectionReport, CostSide, DecayChange, InputReport, ParamChange, PopulationReport, ProfileCost, QuantReport,
    REPORT_SCHEMA, RateChange, ReadoutInputReport, ReadoutReport, Saturation, Totals, Warning,
};
pub use sfr::apply_scale_firing_rates;

use std::collections::BTreeMap;

/// Which populations run on the host as input encoders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EncoderMode {
    /// A population fed only from Inputs through 1×1 (pointwise) 2-d
    /// convolutions is a host encoder reading real-valued input; every
    /// other population is on chip.
    #[default]
    Auto,
    /// No host populations: every input carries events.
    None,
    /// Insert a fixed on/off encoder (see [`insert_onoff_encoder`]) in front
    /// of a model that reads real values without an encoder of its own, then
    /// place it on the host as `Auto` does.
    OnOff,
}

/// How host layers (input encoders) run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HostLayers {
    /// `Float` when the graph's discretization is nengo's (as nengo-loihi
    /// runs an off-chip layer), `Integer` otherwise.
    #[default]
    Auto,
    /// The float model on the host, in `f64` (nmc_ir::qmodel, "Float host
    /// layers").
    Float,
    /// An integer compartment with the chip's step.
    Integer,
}

impl HostLayers {
    /// `float`, `integer` or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            HostLayers::Auto => "auto",
            HostLayers::Float => "float",
            HostLayers::Integer => "integer",
        }
    }
}

/// Which rule chooses the integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// nmc's own error-minimising search (docs/quantization.md §3).
    #[default]
    Nmc,
    /// The integers nengo-loihi 1.1's `builder/discretize.py` picks, per
    /// block (docs/quantization.md §3, "The nengo-loihi profile"); chip
    /// populations only (host layers keep nmc's).
    NengoLoihi,
}

impl Profile {
    /// `nmc` or `nengo-loihi`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Nmc => "nmc",
            Profile::NengoLoihi => "nengo-loihi",
        }
    }
    /// Parses `nmc` or `nengo-loihi`.
    pub fn named(s: &str) -> Option<Profile> {
        match s {
            "nmc" => Some(Profile::Nmc),
            "nengo-loihi" | "nengo_loihi" => Some(Profile::NengoLoihi),
            _ => None,
        }
    }
}

/// Quantization options.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantOptions {
    /// NengoDL's `scale_firing_rates` (default 1): applied to the graph by
    /// [`quantize`] (see [`apply_scale_firing_rates`]).
    pub scale_firing_rates: f64,
    /// Encoder placement (default [`EncoderMode::Auto`]).
    pub encoder: EncoderMode,
    /// Fractional bits of a real-valued input (default 8).
    pub input_frac_bits: u8,
    /// Width of a real-valued input, sign included (default 16; at most
    /// the end of [`nmc_core::input::REAL_BITS`], 32).
    pub input_bits: u8,
    /// The largest event count per input element and step that the
    /// register bounds assume for `Events` inputs (default 1: spikes).
    /// Binned event-camera frames (e.g. N-MNIST) carry larger counts; a
    /// count above the bound can wrap the accumulator of the first layer
    /// (the report lists the safe counts). At most
    /// [`nmc_core::input::MAX_EVENTS`], what both executions accept.
    pub max_input_events: u32,
    /// Voltage scales to use instead of the searched ones, by population
    /// name (default none).
    pub forced_scales: BTreeMap<String, f64>,
    /// How host layers run (default [`HostLayers::Auto`]).
    pub host_layers: HostLayers,
    /// Which rule chooses the integers (default [`Profile::Nmc`]).
    pub profile: Profile,
    /// Under [`Profile::NengoLoihi`]: the neurons per nengo-loihi block of a
    /// population, by name (nengo-loihi's `BlockShape`; default: the whole
    /// population is one block). nengo-loihi discretizes each block alone.
    pub nengo_loihi_blocks: BTreeMap<String, usize>,
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            scale_firing_rates: 1.0,
            encoder: EncoderMode::Auto,
            input_frac_bits: 8,
            input_bits: 16,
            max_input_events: 1,
            forced_scales: BTreeMap::new(),
            host_layers: HostLayers::Auto,
            profile: Profile::Nmc,
            nengo_loihi_blocks: BTreeMap::new(),
        }
    }
}

impl QuantOptions {
    /// Sets `scale_firing_rates`.
    pub fn scale_firing_rates(mut self, s: f64) -> Self {
        self.scale_firing_rates = s;
        self
    }
    /// Sets the encoder mode.
    pub fn encoder(mut self, e: EncoderMode) -> Self {
        self.encoder = e;
        self
    }
    /// Sets the real input's fractional bits and width.
    pub fn input_format(mut self, frac_bits: u8, bits: u8) -> Self {
        self.input_frac_bits = frac_bits;
        self.input_bits = bits;
        self
    }
    /// Sets the largest event count per input and step of `Events` inputs.
    pub fn max_input_events(mut self, n: u32) -> Self {
        self.max_input_events = n;
        self
    }
    /// Sets how host layers run.
    pub fn host_layers(mut self, h: HostLayers) -> Self {
        self.host_layers = h;
        self
    }
    /// Sets the profile.
    pub fn profile(mut self, p: Profile) -> Self {
        self.profile = p;
        self
    }
    /// Under the nengo-loihi profile, splits `population` into blocks of `n` neurons.
    pub fn nengo_loihi_block(mut self, population: impl Into<String>, n: usize) -> Self {
        self.nengo_loihi_blocks.insert(population.into(), n);
        self
    }
    /// Forces the voltage scale of one population.
    pub fn force_scale(mut self, population: impl Into<String>, s: f64) -> Self {
        self.forced_scales.insert(population.into(), s);
        self
    }
}
