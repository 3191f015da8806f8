//! The serde form of a target file: plain public structs, one per RON
//! section, parsed with `deny_unknown_fields` and checked by nothing but
//! serde. [`crate::Target::from_raw`] validates one into a [`crate::Target`].
//!
//! Every struct's serde name is the path of its section in the file (or,
//! for the few structs used by several sections, a name the parser maps back
//! to the section), so "unknown field" and "missing field" errors can name
//! the section.
//! `docs/targets.md` describes every field, its unit and its range.

use serde::{Deserialize, Serialize};

/// How messages name the top level of a file.
/// The schema version this crate reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

pub(crate) const TOP_SECTION: &str = "the top level";

/// Serde names of the structs used by more than one section, and the
/// sections (field name, path) they can stand for.
pub(crate) const SHARED_SECTIONS: &[(&str, &[(&str, &str)])] = &[
    ("target", &[]),
    (
        "axon_kind",
        &[
            ("discrete", "axons.discrete"),
            ("population16", "axons.population16"),
            ("population32", "axons.population32"),
        ],
    ),
    (
        "register",
        &[("accumulator", "formats.accumulator"), ("current", "formats.current")],
    ),
];

/// A whole target file (schema version [`crate::SCHEMA_VERSION`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "target")]
pub struct RawTarget {
    /// Version of this schema; must be [`crate::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Short name used with `--target` (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Chips and cores of the system.
    pub system: RawSystem,
    /// Capacity limits of one core.
    pub core: RawCore,
    /// The kinds of input axon and what each costs.
    pub axons: RawAxons,
    /// How synapse memory is counted.
    pub synapse_cost: RawSynapseCost,
    /// Integer formats and registers of the neuron model.
    pub formats: RawFormats,
    /// Spike delivery latencies.
    pub timing: RawTiming,
    /// Which neuron models and reset rules the chip implements.
    pub neurons: RawNeurons,
    /// The update rule, in the vocabulary every family shares
    /// (`nmc_rule::Rule`); this family runs one rule, checked at load.
    /// Optional so that files and artifacts written before the section
    /// existed still load: absent, it is [`crate::family_rule`] (this family
    /// runs no other). Every built-in states it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "plain_option")]
    pub rule: Option<nmc_rule::Rule>,
}

/// `system`: how many cores and chips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "system")]
pub struct RawSystem {
    /// Neuro-cores on one chip.
    pub cores_per_chip: u32,
    /// Chips in the largest system nmc may map onto (a system configuration
    /// value, not a property of one chip).
    pub max_chips: u32,
}

/// `core`: per-core capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "core")]
pub struct RawCore {
    /// Compartments (neurons) per core.
    pub max_compartments: u32,
    /// Input axons per core (each axon counts once, whatever its atoms).
    pub max_input_axons: u32,
    /// Output-axon slots per core (see `axons.*.slots`).
    pub max_output_axon_slots: u32,
    /// Synapse-memory bits per core (a multiple of `synapse_cost.word_bits`).
    pub synapse_memory_bits: u64,
    /// Sizes of the per-core configuration tables.
    pub profiles: RawProfiles,
}

/// `core.profiles`: per-core configuration table sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "core.profiles")]
pub struct RawProfiles {
    /// Distinct compartment profiles (decay_u, decay_v, refractory delay).
    pub compartment: u32,
    /// Distinct threshold profiles (vth mantissa).
    pub threshold: u32,
    /// Distinct synapse formats (weight bits, weight exponent, index bits, compression).
    pub synapse_format: u32,
}

/// `axons`: the three kinds of input axon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "axons")]
pub struct RawAxons {
    /// One presynaptic neuron, its own synapse list.
    pub discrete: RawAxonKind,
    /// Population axon, 16-bit kind.
    pub population16: RawAxonKind,
    /// Population axon, 32-bit kind.
    pub population32: RawAxonKind,
}

/// `axons.discrete`, `axons.population16`, `axons.population32`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "axon_kind")]
pub struct RawAxonKind {
    /// Output-axon slots one axon of this kind takes in its source core.
    pub slots: u32,
    /// Bits of the atom (population index) a spike carries; 0 for discrete axons.
    pub max_atom_bits: u32,
    /// Largest per-axon compartment base offset (0 when the kind has none).
    pub max_base: u32,
    /// Base offsets must be multiples of this.
    pub base_multiple: u32,
}

/// `synapse_cost`: the rule that turns a synapse list into memory bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "synapse_cost")]
pub struct RawSynapseCost {
    /// Bits of one synapse-memory word; each run is rounded up to whole words.
    pub word_bits: u32,
    /// Most synapses in one run.
    pub max_run_length: u32,
    /// Run header: bits of the synapse-format index.
    pub format_index_bits: u32,
    /// Run header: bits of the run length (stored as length − 1).
    pub run_length_bits: u32,
    /// Per-synapse delay bits.
    pub delay_bits: u32,
    /// Per-synapse tag (learning) bits.
    pub tag_bits: u32,
    /// Stored weight widths a synapse format may choose, increasing.
    pub weight_bits: Vec<u32>,
    /// Index widths a sparse synapse format may choose, increasing (0 = a
    /// single target needs no index).
    pub index_bits: Vec<u32>,
}

impl RawSynapseCost {
    /// The first listed index width that addresses `compartments` compartments.
    pub(crate) fn index_bits_for_compartments(&self, compartments: u32) -> Option<u32> {
        let max_index = u64::from(compartments.saturating_sub(1));
        let needed = u64::BITS - max_index.leading_zeros();
        self.index_bits.iter().copied().find(|&b| b >= needed)
    }
}

/// `formats`: integer formats of parameters and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats")]
pub struct RawFormats {
    /// Synaptic weights.
    pub weight: RawWeight,
    /// Firing threshold.
    pub threshold: RawThreshold,
    /// Constant bias current.
    pub bias: RawBias,
    /// Current and voltage decay constants.
    pub decay: RawDecay,
    /// Refractory delay.
    pub refractory: RawRefractory,
    /// The input accumulator `q`.
    pub accumulator: RawRegister,
    /// The current `u` (and `u + bias`).
    pub current: RawRegister,
    /// The voltage `v`.
    pub voltage: RawVoltage,
}

/// `formats.weight`: `w_int = w_mant · 2^(scale_shift + exp)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.weight")]
pub struct RawWeight {
    /// `|w_mant| < 2^mantissa_bits` (the sign is extra).
    pub mantissa_bits: u32,
    /// Mixed-sign formats keep `w_mant` even (the lowest stored bit holds the sign).
    pub mixed_sign_even: bool,
    /// Smallest weight exponent.
    pub exp_min: i32,
    /// Largest weight exponent.
    pub exp_max: i32,
    /// Fixed left shift applied to every weight.
    pub scale_shift: u32,
    /// `w_int` is always a multiple of `2^granularity_shift` (low mantissa bits
    /// are lost for negative exponents).
    pub granularity_shift: u32,
}

/// `formats.threshold`: `vth = vth_mant · 2^shift`, `vth_mant` in `1..2^mantissa_bits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.threshold")]
pub struct RawThreshold {
    /// Bits of the (positive) threshold mantissa.
    pub mantissa_bits: u32,
    /// Fixed left shift of the threshold.
    pub shift: u32,
}

/// `formats.bias`: `bias = bias_mant · 2^bias_exp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.bias")]
pub struct RawBias {
    /// `|bias_mant| < 2^mantissa_bits` (the sign is extra).
    pub mantissa_bits: u32,
    /// Smallest bias exponent.
    pub exp_min: u32,
    /// Largest bias exponent.
    pub exp_max: u32,
}

/// `formats.decay`: 12-bit style decay constants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.decay")]
pub struct RawDecay {
    /// Decay constants are in `0..2^bits`; decays divide by `2^bits`.
    pub bits: u32,
    /// The chip adds this to the stored `decay_u`.
    pub u_offset: u32,
    /// The chip adds this to the stored `decay_v`.
    pub v_offset: u32,
}

/// `formats.refractory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.refractory")]
pub struct RawRefractory {
    /// Largest refractory delay, in steps.
    pub max_steps: u32,
}

/// `formats.accumulator`, `formats.current`: a signed state register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "register")]
pub struct RawRegister {
    /// Bits besides the sign: the register holds `-2^b ..= 2^b - 1`.
    pub magnitude_bits: u32,
    /// What happens to a result outside that range.
    pub overflow: Overflow,
}

/// `formats.voltage`: the voltage register and its programmable clip bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "formats.voltage")]
pub struct RawVoltage {
    /// Bits besides the sign of the voltage register.
    pub magnitude_bits: u32,
    /// What happens to a result outside the register range.
    pub overflow: Overflow,
    /// Smallest `k` of `vmin = -2^k + 1`.
    pub vmin_exp_min: u32,
    /// Largest `k` of `vmin = -2^k + 1`.
    pub vmin_exp_max: u32,
    /// `vmax = 2^(vmax_base + vmax_step·m) - 1`.
    pub vmax_base: u32,
    /// See `vmax_base`.
    pub vmax_step: u32,
    /// Smallest `m`.
    pub vmax_exp_min: u32,
    /// Largest `m`.
    pub vmax_exp_max: u32,
}

/// `timing`: when spikes arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "timing")]
pub struct RawTiming {
    /// Steps between a spike on chip and its arrival at its target axons.
    pub synapse_delay_steps: u32,
    /// Extra steps for spikes sent by the host.
    pub host_input_extra_delay_steps: u32,
    /// Steps between a chip spike and its use by a host readout (the
    /// chip → host hop: a spike of step `t` enters the readout's value of
    /// step `t + host_output_delay_steps`). Optional: a target that does not
    /// state it runs no host readouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_output_delay_steps: Option<u32>,
}

/// `neurons`: supported dynamics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "neurons")]
pub struct RawNeurons {
    /// Neuron models the cores implement.
    pub models: Vec<NeuronModel>,
    /// Reset rules the cores implement.
    pub reset_modes: Vec<ResetMode>,
}

/// What a register does with a result outside its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Overflow {
    /// Two's complement wrap-around: the high bits are dropped.
    Wrap,
    /// Saturation at the nearest bound.
    Clip,
}

/// A neuron model (same names as `nmc-ir`'s `NeuronModel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NeuronModel {
    /// Integrator, no spikes.
    I,
    /// Integrate-and-fire.
    If,
    /// Leaky integrator, no spikes.
    Li,
    /// Leaky integrate-and-fire.
    Lif,
    /// Current-based leaky integrator, no spikes.
    CubaLi,
    /// Current-based leaky integrate-and-fire.
    CubaLif,
}

/// What a spike does to the voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResetMode {
    /// `v ← 0`.
    Zero,
    /// `v ← v − vth`.
    Subtract,
}

/// An optional section written as the section itself (`rule: (...)`), not
/// RON's `Some((...))`: absent means `None`.
mod plain_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<nmc_rule::Rule>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(rule) => rule.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<nmc_rule::Rule>, D::Error> {
        nmc_rule::Rule::deserialize(d).map(Some)
    }
}
