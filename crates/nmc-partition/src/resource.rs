//! The limited per-core resources ([`Resource`]) and what one core needs of
//! each ([`CoreUsage`]): the cost model's public vocabulary.

use nmc_target::Target;
use serde::Serialize;
use std::fmt;

/// A per-core resource with a limit in the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Resource {
    /// Compartments (neurons).
    Compartments,
    /// Input axons.
    InputAxons,
    /// Output-axon slots of the core's compartments.
    OutputSlots,
    /// Synapse-memory bits.
    SynapseBits,
    /// Distinct (decay_u, decay_v, refractory) sets.
    CompartmentProfiles,
    /// Distinct threshold mantissas.
    ThresholdProfiles,
    /// Distinct synapse formats.
    SynapseFormats,
    /// Distinct voltage limits (vmin, vmax): one pair per core.
    VoltageLimits,
}

impl Resource {
    /// All resources, in report order.
    pub const ALL: [Resource; 8] = [
        Resource::Compartments,
        Resource::InputAxons,
        Resource::OutputSlots,
        Resource::SynapseBits,
        Resource::CompartmentProfiles,
        Resource::ThresholdProfiles,
        Resource::SynapseFormats,
        Resource::VoltageLimits,
    ];
    /// Name used in reports and errors.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Compartments => "compartments",
            Resource::InputAxons => "input axons",
            Resource::OutputSlots => "output-axon slots",
            Resource::SynapseBits => "synapse-memory bits",
            Resource::CompartmentProfiles => "compartment profiles",
            Resource::ThresholdProfiles => "threshold profiles",
            Resource::SynapseFormats => "synapse formats",
            Resource::VoltageLimits => "voltage limits",
        }
    }
    /// Short column name.
    pub fn short(self) -> &'static str {
        match self {
            Resource::Compartments => "cx",
            Resource::InputAxons => "axons",
            Resource::OutputSlots => "slots",
            Resource::SynapseBits => "syn bits",
            Resource::CompartmentProfiles => "cx prof",
            Resource::ThresholdProfiles => "vth prof",
            Resource::SynapseFormats => "formats",
            Resource::VoltageLimits => "vlimits",
        }
    }
    /// The target's limit per core.
    pub fn limit(self, t: &Target) -> u64 {
        let c = t.core();
        match self {
            Resource::Compartments => u64::from(c.max_compartments()),
            Resource::InputAxons => u64::from(c.max_input_axons()),
            Resource::OutputSlots => u64::from(c.max_output_axon_slots()),
            Resource::SynapseBits => c.synapse_memory_bits(),
            Resource::CompartmentProfiles => u64::from(c.max_compartment_profiles()),
            Resource::ThresholdProfiles => u64::from(c.max_threshold_profiles()),
            Resource::SynapseFormats => u64::from(c.max_synapse_formats()),
            Resource::VoltageLimits => 1,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything one core needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoreUsage {
    /// Compartments.
    pub compartments: u64,
    /// Input axons.
    pub input_axons: u64,
    /// Output-axon slots used by its compartments' routes.
    pub output_slots: u64,
    /// Synapse-memory bits.
    pub synapse_bits: u64,
    /// Distinct (decay_u, decay_v, refractory).
    pub compartment_profiles: u64,
    /// Distinct threshold mantissas.
    pub threshold_profiles: u64,
    /// Distinct synapse formats.
    pub synapse_formats: u64,
    /// Distinct (vmin_exp, vmax_exp).
    pub voltage_limits: u64,
}

impl CoreUsage {
    /// The amount of `r`.
    pub fn get(&self, r: Resource) -> u64 {
        match r {
            Resource::Compartments => self.compartments,
            Resource::InputAxons => self.input_axons,
            Resource::OutputSlots => self.output_slots,
            Resource::SynapseBits => self.synapse_bits,
            Resource::CompartmentProfiles => self.compartment_profiles,
            Resource::ThresholdProfiles => self.threshold_profiles,
            Resource::SynapseFormats => self.synapse_formats,
            Resource::VoltageLimits => self.voltage_limits,
        }
    }
    /// Fraction of the limit of `r` used.
    pub fn utilisation(&self, t: &Target, r: Resource) -> f64 {
        self.get(r) as f64 / r.limit(t) as f64
    }
    /// The first resource over its limit: (resource, need, offer).
    pub fn over(&self, t: &Target) -> Option<(Resource, u64, u64)> {
        Resource::ALL
            .iter()
            .map(|&r| (r, self.get(r), r.limit(t)))
            .find(|&(_, need, offer)| need > offer)
    }
    /// The most used resource relative to its limit (ties: report order;
    /// voltage limits, one per core, only when exceeded).
    pub fn binding(&self, t: &Target) -> Resource {
        if self.voltage_limits > 1 {
            return Resource::VoltageLimits;
        }
        let mut best = Resource::Compartments;
        let mut u = -1.0;
        for r in Resource::ALL.into_iter().filter(|&r| r != Resource::VoltageLimits) {
            let x = self.utilisation(t, r);
            if x > u {
                u = x;
                best = r;
            }
        }
        best
    }
    /// The largest utilisation over all resources (voltage limits only
    /// when exceeded).
    pub fn max_utilisation(&self, t: &Target) -> f64 {
        Resource::ALL
            .iter()
            .filter(|&&r| r != Resource::VoltageLimits || self.voltage_limits > 1)
            .map(|&r| self.utilisation(t, r))
            .fold(0.0, f64::max)
    }
}
