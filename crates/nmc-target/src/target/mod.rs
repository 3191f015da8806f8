//! The validated [`Target`] and its accessor groups.
//!
//! The groups live in submodules: `sections` (system, core, axons, timing,
//! neurons) and `formats` (the integer formats and registers).

mod formats;
mod sections;

use crate::error::TargetError;
use crate::raw::{RawAxonKind, RawTarget};
use crate::synapse::SynapseCost;
use crate::validate;

pub use formats::{
    BiasFormat, DecayFormat, Formats, RefractoryFormat, Register, ThresholdFormat, VoltageFormat, WeightFormat,
};
pub use sections::{AxonKind, AxonKindLimits, Axons, Core, Neurons, System, Timing};

pub use crate::raw::SCHEMA_VERSION;

/// A validated chip description.
///
/// Built only by [`Target::from_raw`] (and the loaders on top of it), so
/// every invariant of `docs/targets.md` holds: every count is positive,
/// every width is at most 63 bits, every range is ordered, and the widths
/// agree with one another (a largest weight fits the accumulator, the
/// largest threshold fits the voltage register, the index widths can
/// address every compartment, ...). Accessors are grouped like the file's
/// sections: [`Target::system`], [`Target::core`], [`Target::axons`],
/// [`Target::synapse_cost`], [`Target::formats`], [`Target::timing`],
/// [`Target::neurons`].
///
/// Two targets are equal when their files say the same thing, wherever
/// they were loaded from.
#[derive(Debug, Clone)]
pub struct Target {
    pub(crate) raw: RawTarget,
    pub(crate) origin: String,
    pub(crate) system: System,
    pub(crate) core: Core,
    pub(crate) axons: Axons,
    pub(crate) synapse_cost: SynapseCost,
    pub(crate) formats: Formats,
    pub(crate) timing: Timing,
    pub(crate) neurons: Neurons,
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        // Everything else is derived from the raw form.
        self.raw == other.raw
    }
}

impl Eq for Target {}

impl Target {
    /// Validates a raw target. `origin` (a path, or `builtin:NAME`) starts
    /// every error message. All broken rules are reported at once.
    pub fn from_raw(raw: RawTarget, origin: &str) -> Result<Target, TargetError> {
        let core_index_bits = validate::validate(&raw, origin)?;
        Ok(Self::assemble(raw, origin, core_index_bits))
    }

    /// The target of a raw form that passed [`validate::validate`].
    fn assemble(raw: RawTarget, origin: &str, core_index_bits: u32) -> Target {
        let f = &raw.formats;
        Target {
            origin: origin.to_string(),
            system: System {
                cores_per_chip: raw.system.cores_per_chip,
                max_chips: raw.system.max_chips,
            },
            core: Core {
                max_compartments: raw.core.max_compartments,
                max_input_axons: raw.core.max_input_axons,
                max_output_axon_slots: raw.core.max_output_axon_slots,
                synapse_memory_bits: raw.core.synapse_memory_bits,
                max_compartment_profiles: raw.core.profiles.compartment,
                max_threshold_profiles: raw.core.profiles.threshold,
                max_synapse_formats: raw.core.profiles.synapse_format,
            },
            axons: Axons {
                discrete: axon_kind(&raw.axons.discrete),
                population16: axon_kind(&raw.axons.population16),
                population32: axon_kind(&raw.axons.population32),
            },
            synapse_cost: SynapseCost::from_raw(&raw.synapse_cost, core_index_bits),
            formats: Formats {
                weight: WeightFormat {
                    mantissa_bits: f.weight.mantissa_bits,
                    mixed_sign_even: f.weight.mixed_sign_even,
                    exp_min: f.weight.exp_min,
                    exp_max: f.weight.exp_max,
                    scale_shift: f.weight.scale_shift,
                    granularity_shift: f.weight.granularity_shift,
                },
                threshold: ThresholdFormat {
                    mantissa_bits: f.threshold.mantissa_bits,
                    shift: f.threshold.shift,
                },
                bias: BiasFormat {
                    mantissa_bits: f.bias.mantissa_bits,
                    exp_min: f.bias.exp_min,
                    exp_max: f.bias.exp_max,
                },
                decay: DecayFormat {
                    bits: f.decay.bits,
                    u_offset: f.decay.u_offset,
                    v_offset: f.decay.v_offset,
                },
                refractory: RefractoryFormat {
                    max_steps: f.refractory.max_steps,
                },
                accumulator: Register::from_raw(&f.accumulator),
                current: Register::from_raw(&f.current),
                voltage: VoltageFormat {
                    register: Register {
                        magnitude_bits: f.voltage.magnitude_bits,
                        overflow: f.voltage.overflow,
                    },
                    vmin_exp_min: f.voltage.vmin_exp_min,
                    vmin_exp_max: f.voltage.vmin_exp_max,
                    vmax_base: f.voltage.vmax_base,
                    vmax_step: f.voltage.vmax_step,
                    vmax_exp_min: f.voltage.vmax_exp_min,
                    vmax_exp_max: f.voltage.vmax_exp_max,
                },
            },
            timing: Timing {
                synapse_delay_steps: raw.timing.synapse_delay_steps,
                host_input_extra_delay_steps: raw.timing.host_input_extra_delay_steps,
                host_output_delay_steps: raw.timing.host_output_delay_steps,
            },
            neurons: Neurons {
                models: raw.neurons.models.clone(),
                reset_modes: raw.neurons.reset_modes.clone(),
            },
            raw,
        }
    }

    /// The target's name (what `--target` accepts for a built-in).
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// One line describing the target.
    pub fn description(&self) -> &str {
        &self.raw.description
    }

    /// The schema version of the file it came from (always [`SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> u32 {
        self.raw.schema_version
    }

    /// Where it was loaded from: a file path, or `builtin:NAME`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Chips and cores.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Per-core capacity limits.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Input-axon kinds.
    pub fn axons(&self) -> &Axons {
        &self.axons
    }

    /// The synapse-memory costing rule.
    pub fn synapse_cost(&self) -> &SynapseCost {
        &self.synapse_cost
    }

    /// Integer formats and registers.
    pub fn formats(&self) -> &Formats {
        &self.formats
    }

    /// Spike latencies.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Supported neuron models and reset rules.
    pub fn neurons(&self) -> &Neurons {
        &self.neurons
    }

    /// The update rule: the one the file states (checked at load to be the
    /// one the emulator runs), or, for a file without a `rule` section,
    /// that rule ([`crate::family_rule`]).
    pub fn rule(&self) -> nmc_rule::Rule {
        self.raw.rule.clone().unwrap_or_else(|| crate::family_rule(&self.raw))
    }

    /// The rule with its numbers, for `nmc targets --rules`.
    pub fn rule_summary(&self) -> nmc_rule::Summary {
        crate::rule::summary(&self.raw)
    }

    /// The serde form this target was validated from.
    pub fn raw(&self) -> &RawTarget {
        &self.raw
    }

    /// A copy of the serde form (edit it and [`Target::from_raw`] again to
    /// derive a variant target).
    pub fn to_raw(&self) -> RawTarget {
        self.raw.clone()
    }

    /// The target as pretty RON (without the comments of the file), for
    /// `nmc targets --show`. Parsing it gives back an equal target.
    pub fn to_ron(&self) -> Result<String, TargetError> {
        crate::parse::to_ron(&self.raw)
    }

    /// Synapse-memory bits of one synapse list or population table of
    /// `n_weights` weights stored `weight_bits` wide (see
    /// [`SynapseCost::bits`]). `indexed` lists (sparse lists and population
    /// tables) pay [`SynapseCost::core_index_bits`] per synapse, the width
    /// that addresses every compartment of a core; use
    /// [`SynapseCost::bits`] with [`SynapseCost::index_bits_for`] to pay only
    /// for the largest index actually stored, as nengo-loihi does.
    pub fn synapse_bits(&self, n_weights: usize, weight_bits: u32, indexed: bool) -> u64 {
        let index_bits = if indexed {
            self.synapse_cost.core_index_bits()
        } else {
            0
        };
        self.synapse_cost.bits(n_weights, weight_bits, index_bits)
    }
}

fn axon_kind(k: &RawAxonKind) -> AxonKindLimits {
    AxonKindLimits {
        slots: k.slots,
        max_atom_bits: k.max_atom_bits,
        max_base: k.max_base,
        base_multiple: k.base_multiple,
    }
}
