//! The quantization report: what was chosen and what it costs, per
//! population and connection, as JSON (`nmc.quantize/1`) or an aligned
//! terminal table.

use serde::Serialize;

/// JSON schema id of [`QuantReport`].
pub const REPORT_SCHEMA: &str = "nmc.quantize/1";

/// The report of one quantization.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantReport {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Time step (s).
    pub dt: f64,
    /// The float graph's discretization (`exact`, `euler` or `nengo`).
    pub discretization: String,
    /// The source's spike convention (`step`, or `impulse`: its `1/dt` is
    /// folded into the weights that read spikes).
    pub spike_convention: String,
    /// `scale_firing_rates` the graph was quantized with (already applied to
    /// the graph by the caller, see [`crate::apply_scale_firing_rates`]).
    pub scale_firing_rates: f64,
    /// Encoder mode (`auto` or `none`).
    pub encoder: String,
    /// Graph inputs and how they are encoded.
    pub inputs: Vec<InputReport>,
    /// One entry per population, in QModel order.
    pub populations: Vec<PopulationReport>,
    /// Host readouts (float, on the host, from chip spikes), in output order.
    pub readouts: Vec<ReadoutReport>,
    /// Every warning, naming layer and parameter.
    pub warnings: Vec<Warning>,
    /// Totals over the model.
    pub totals: Totals,
}

/// A host readout: a non-spiking linear output layer run on the host in
/// `f64` from chip spikes (nothing quantized).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadoutReport {
    /// The node whose value it is.
    pub name: String,
    /// The Output it feeds.
    pub output: String,
    /// Always `host`.
    pub placement: String,
    /// Per-step shape.
    pub shape: Vec<usize>,
    /// Elements.
    pub elements: usize,
    /// Its connections from chip populations.
    pub inputs: Vec<ReadoutInputReport>,
    /// The lowpass time constant (s), when filtered.
    pub synapse_tau: Option<f64>,
    /// The filter's decay per step.
    pub decay: Option<f64>,
    /// The filter's input gain per step.
    pub gain: Option<f64>,
    /// Elements with a non-zero bias.
    pub biased: usize,
}

/// One connection of a host readout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadoutInputReport {
    /// The chip population whose spikes it reads.
    pub source: String,
    /// Float ops folded into it.
    pub folded_from: Vec<String>,
    /// `dense` or `sparse`.
    pub layout: String,
    /// The chip → host latency in steps.
    pub latency: u32,
    /// Stored (f64) weights.
    pub weights: usize,
}

/// One graph input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputReport {
    /// Input name.
    pub name: String,
    /// Per-step shape.
    pub shape: Vec<usize>,
    /// `real` or `events`.
    pub encoding: String,
    /// Fractional bits of a real input.
    pub frac_bits: Option<u8>,
    /// Width of a real input.
    pub bits: Option<u8>,
    /// Events inputs: the largest count per element and step the register
    /// bounds assume.
    pub max_events: Option<u32>,
    /// Populations reading it.
    pub readers: Vec<String>,
}

/// A parameter before (float) and after (dequantized: integer / scale).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamChange {
    /// Smallest float value over the neurons.
    pub before_min: f64,
    /// Largest float value.
    pub before_max: f64,
    /// Smallest dequantized value.
    pub after_min: f64,
    /// Largest dequantized value.
    pub after_max: f64,
    /// Largest relative error over the neurons (relative to the largest |value| for biases).
    pub max_rel_err: f64,
}

/// A decay before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecayChange {
    /// Smallest stored value.
    pub stored_min: u16,
    /// Largest stored value.
    pub stored_max: u16,
    /// Float decay per step `α` (neuron 0).
    pub alpha_before: f64,
    /// Chip decay per step `α'` (neuron 0).
    pub alpha_after: f64,
    /// Float time constant (s, neuron 0; `null` in JSON for ∞).
    pub tau_before: f64,
    /// Effective time constant of the chip's decay in the same discretization.
    pub tau_after: f64,
}

/// One connection into a population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectionReport {
    /// Source population or input.
    pub source: String,
    /// Float ops folded into it.
    pub folded_from: Vec<String>,
    /// `dense`, `conv2d` or `sparse`.
    pub layout: String,
    /// Latency in steps.
    pub latency: u32,
    /// Stored weights.
    pub weights: usize,
    /// Non-zero float weights.
    pub nonzero: usize,
    /// The shared weight exponent.
    pub weight_exp: i8,
    /// Both signs present (mixed-sign synapse format).
    pub mixed_sign: bool,
    /// Largest |mantissa| used.
    pub max_mantissa: i64,
    /// Largest |dequantized − float| relative to the connection's largest |w|.
    pub max_abs_err: f64,
    /// RMS of (dequantized − float) relative to the largest |w|.
    pub rms_err: f64,
    /// Non-zero float weights whose mantissa is 0.
    pub zeroed: usize,
    /// `zeroed` as a percentage of `nonzero`.
    pub zeroed_pct: f64,
    /// The same RMS error under nengo-loihi's rule (largest weight of the
    /// population → 255, mixed-sign mantissas rounded to even and clipped to
    /// 254, weaker connections shifted by `floor(log2(max/max_i))`).
    pub nengo_rms_err: f64,
    /// The weight exponent nengo-loihi would use (its `w_exp = 0` case).
    pub nengo_weight_exp: i32,
}

/// Worst-case register use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Saturation {
    /// Worst-case |q| (all same-sign inputs of one neuron in one step; one
    /// event per input; real inputs at |x| ≤ 1).
    pub accumulator_worst: f64,
    /// Largest accumulator value.
    pub accumulator_max: i64,
    /// Worst-case |u + bias|.
    pub current_worst: f64,
    /// Largest current value.
    pub current_max: i64,
    /// Worst-case voltage (threshold + current for spiking populations).
    pub voltage_worst: f64,
    /// vmax.
    pub voltage_max: i64,
    /// True when a worst case exceeds its register.
    pub overflow_possible: bool,
    /// The fewest simultaneous input events that overflow the accumulator
    /// (largest positive weights first), when it can overflow.
    pub events_to_overflow: Option<usize>,
    /// Same-sign inputs of the worst neuron.
    pub fan_in_same_sign: usize,
    /// Populations reading a graph input: the largest |x| (real input) or
    /// event count per input (events) for which the worst case stays
    /// within the accumulator.
    pub safe_input: Option<f64>,
    /// The input read is real-valued (else events).
    pub input_real: bool,
}

/// Predicted steady-state firing rate under a representative constant input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateChange {
    /// The float drive per step (voltage per step, neuron 0, bias
    /// included): IF `0.1·θ`; leaky models `1.5·θ·(1 − α)` (steady state
    /// 1.5·θ); the population's mean bias when that alone is larger.
    pub drive: f64,
    /// Float closed form (Hz).
    pub before_hz: f64,
    /// Chip closed form with the dequantized parameters (Hz).
    pub after_hz: f64,
    /// `(after − before) / before`, in percent.
    pub change_pct: f64,
}

/// One population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PopulationReport {
    /// Population name.
    pub name: String,
    /// NIR model.
    pub model: String,
    /// `host` or `chip`.
    pub placement: String,
    /// Neurons.
    pub neurons: usize,
    /// Shape.
    pub shape: Vec<usize>,
    /// Voltage scale `s` (integer voltage per float voltage).
    pub scale: f64,
    /// How `s` was chosen.
    pub scale_rule: String,
    /// Incoming connections.
    pub connections: Vec<ConnectionReport>,
    /// Threshold (float voltage); `None` for non-spiking populations.
    pub threshold: Option<ParamChange>,
    /// Bias (float voltage per step); `None` when there is none.
    pub bias: Option<ParamChange>,
    /// Current decay.
    pub decay_u: DecayChange,
    /// Voltage decay.
    pub decay_v: DecayChange,
    /// Stored refractory delay (steps).
    pub refractory: u8,
    /// vmin exponent.
    pub vmin_exp: u8,
    /// vmax exponent.
    pub vmax_exp: u8,
    /// Register headroom.
    pub saturation: Saturation,
    /// Predicted rate change (`None` for non-spiking populations).
    pub rate: Option<RateChange>,
    /// `float` for a float host layer (the float model runs on the host in
    /// `f64` under the named rule, e.g. `float (nengo)`; the integers above
    /// are kept but not run); absent for every other population.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_model: Option<String>,
    /// Under a profile other than nmc's (`--profile nengo-loihi`): the
    /// profile's figures (what the model holds; the columns above) beside
    /// those of nmc's own search for the same population, which the model
    /// does not use. Absent under nmc's profile and for host layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_cost: Option<ProfileCost>,
}

/// One population's figures under a quantization profile and under nmc's
/// own search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProfileCost {
    /// The profile (`nengo-loihi`).
    pub profile: String,
    /// Its integers (the model holds these).
    pub held: CostSide,
    /// nmc's search for the same population.
    pub nmc: CostSide,
}

/// The error figures of one choice of integers for a population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostSide {
    /// Voltage scale (of neuron 0 when it varies per neuron).
    pub scale: f64,
    /// RMS relative weight error over the population's weights.
    pub weight_rms_err: f64,
    /// Largest relative weight error.
    pub weight_max_err: f64,
    /// Non-zero float weights rounded to zero.
    pub zeroed: usize,
    /// Largest relative threshold error (spiking models).
    pub threshold_err: Option<f64>,
    /// Largest bias error relative to the largest |bias| (when biased).
    pub bias_err: Option<f64>,
    /// Predicted rate change against the float model, in percent (spiking models).
    pub rate_change_pct: Option<f64>,
}

/// A warning: which layer, which parameter, what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Layer (population, input or op name).
    pub layer: String,
    /// Parameter or aspect.
    pub parameter: String,
    /// What happened.
    pub message: String,
}

/// Totals over the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Populations.
    pub populations: usize,
    /// Host populations.
    pub host_populations: usize,
    /// Neurons.
    pub neurons: usize,
    /// Neurons on chip.
    pub chip_neurons: usize,
    /// Connections.
    pub connections: usize,
    /// Stored weights.
    pub weights: usize,
    /// Non-zero float weights.
    pub nonzero: usize,
    /// Non-zero weights rounded to zero.
    pub zeroed: usize,
    /// `zeroed` in percent of `nonzero`.
    pub zeroed_pct: f64,
    /// RMS relative weight error over all weights.
    pub rms_err: f64,
    /// The same under nengo-loihi's rule.
    pub nengo_rms_err: f64,
    /// Warnings.
    pub warnings: usize,
}

impl QuantReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

mod text;
