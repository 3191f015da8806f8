//! The validated [`Target`] and its accessor groups.
//!
//! The groups live in submodules: `sections` (system, core, axons, timing,
//! neurons) and `formats` (the integer formats and registers).

mod formats;
mod sections;

use crate::error::TargetError;
use crate::raw::RawTarget;
use crate::synapse::SynapseCost;
use crate::validate;

pub use formats::{
    BiasFormat, DecayFormat, Formats, RefractoryFormat, Register, ThresholdFormat, VoltageFormat, WeightFormat,
};
pub use sections::{AxonKind, AxonKindLimits, Axons, Core, Neurons, System, Timing};

/// The schema version this crate reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

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
        validate::validate(raw, origin)
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
