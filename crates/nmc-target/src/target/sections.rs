//! The accessor groups of a [`Target`](super::Target) that hold limits:
//! `system`, `core`, `axons`, `timing` and `neurons`.

use crate::raw::{NeuronModel, ResetMode};

/// `system`: chips and cores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub(crate) cores_per_chip: u32,
    pub(crate) max_chips: u32,
}

impl System {
    /// Neuro-cores on one chip.
    pub fn cores_per_chip(&self) -> u32 {
        self.cores_per_chip
    }

    /// Chips in the largest system nmc may use (a system configuration value).
    pub fn max_chips(&self) -> u32 {
        self.max_chips
    }

    /// `cores_per_chip · max_chips`.
    pub fn max_cores(&self) -> u64 {
        u64::from(self.cores_per_chip) * u64::from(self.max_chips)
    }
}

/// `core`: per-core capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Core {
    pub(crate) max_compartments: u32,
    pub(crate) max_input_axons: u32,
    pub(crate) max_output_axon_slots: u32,
    pub(crate) synapse_memory_bits: u64,
    pub(crate) max_compartment_profiles: u32,
    pub(crate) max_threshold_profiles: u32,
    pub(crate) max_synapse_formats: u32,
}

impl Core {
    /// Compartments (neurons) per core.
    pub fn max_compartments(&self) -> u32 {
        self.max_compartments
    }

    /// Input axons per core; each axon counts once whatever its atoms.
    pub fn max_input_axons(&self) -> u32 {
        self.max_input_axons
    }

    /// Output-axon slots per core; an axon takes [`AxonKindLimits::slots`].
    pub fn max_output_axon_slots(&self) -> u32 {
        self.max_output_axon_slots
    }

    /// Synapse-memory bits per core (a whole number of words).
    pub fn synapse_memory_bits(&self) -> u64 {
        self.synapse_memory_bits
    }

    /// Distinct compartment profiles (decay_u, decay_v, refractory delay) per core.
    pub fn max_compartment_profiles(&self) -> u32 {
        self.max_compartment_profiles
    }

    /// Distinct threshold profiles (vth mantissas) per core.
    pub fn max_threshold_profiles(&self) -> u32 {
        self.max_threshold_profiles
    }

    /// Distinct synapse formats per core.
    pub fn max_synapse_formats(&self) -> u32 {
        self.max_synapse_formats
    }
}

/// A kind of input axon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AxonKind {
    /// One presynaptic neuron with its own synapse list.
    Discrete,
    /// Population axon of the 16-bit kind.
    Population16,
    /// Population axon of the 32-bit kind.
    Population32,
}

impl AxonKind {
    /// All kinds, in file order.
    pub const ALL: [AxonKind; 3] = [AxonKind::Discrete, AxonKind::Population16, AxonKind::Population32];

    /// The field name in `axons`.
    pub fn field_name(self) -> &'static str {
        match self {
            AxonKind::Discrete => "discrete",
            AxonKind::Population16 => "population16",
            AxonKind::Population32 => "population32",
        }
    }
}

/// `axons`: the limits of each input-axon kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axons {
    pub(crate) discrete: AxonKindLimits,
    pub(crate) population16: AxonKindLimits,
    pub(crate) population32: AxonKindLimits,
}

impl Axons {
    /// Discrete axons.
    pub fn discrete(&self) -> &AxonKindLimits {
        &self.discrete
    }

    /// 16-bit population axons.
    pub fn population16(&self) -> &AxonKindLimits {
        &self.population16
    }

    /// 32-bit population axons.
    pub fn population32(&self) -> &AxonKindLimits {
        &self.population32
    }

    /// The limits of `kind`.
    pub fn kind(&self, kind: AxonKind) -> &AxonKindLimits {
        match kind {
            AxonKind::Discrete => &self.discrete,
            AxonKind::Population16 => &self.population16,
            AxonKind::Population32 => &self.population32,
        }
    }
}

/// Limits of one input-axon kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonKindLimits {
    pub(crate) slots: u32,
    pub(crate) max_atom_bits: u32,
    pub(crate) max_base: u32,
    pub(crate) base_multiple: u32,
}

impl AxonKindLimits {
    /// Output-axon slots one axon of this kind takes in its source core.
    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// Bits of the atom a spike carries (0: no atom).
    pub fn max_atom_bits(&self) -> u32 {
        self.max_atom_bits
    }

    /// Atoms an axon of this kind can address: `2^max_atom_bits`.
    pub fn max_atoms(&self) -> u64 {
        1u64 << self.max_atom_bits
    }

    /// Largest compartment base offset.
    pub fn max_base(&self) -> u32 {
        self.max_base
    }

    /// Base offsets are multiples of this.
    pub fn base_multiple(&self) -> u32 {
        self.base_multiple
    }

    /// Whether `base` is a legal compartment base offset for this kind.
    pub fn base_allowed(&self, base: u32) -> bool {
        base <= self.max_base && base.is_multiple_of(self.base_multiple)
    }
}

/// `timing`: spike latencies, in steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub(crate) synapse_delay_steps: u32,
    pub(crate) host_input_extra_delay_steps: u32,
    pub(crate) host_output_delay_steps: Option<u32>,
}

impl Timing {
    /// A spike emitted at step `t` on chip is accumulated at step `t + synapse_delay_steps`.
    pub fn synapse_delay_steps(&self) -> u32 {
        self.synapse_delay_steps
    }

    /// Extra steps for spikes sent by the host.
    pub fn host_input_extra_delay_steps(&self) -> u32 {
        self.host_input_extra_delay_steps
    }

    /// A host spike for step `t` is accumulated at `t + host_input_delay_steps`
    /// (`synapse_delay_steps + host_input_extra_delay_steps`).
    pub fn host_input_delay_steps(&self) -> u32 {
        self.synapse_delay_steps + self.host_input_extra_delay_steps
    }

    /// A chip spike of step `t` is read by a host readout at step
    /// `t + host_output_delay_steps` (the chip → host hop); `None` when the
    /// target file does not state it (then it runs no host readouts).
    pub fn host_output_delay_steps(&self) -> Option<u32> {
        self.host_output_delay_steps
    }
}

/// `neurons`: supported dynamics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neurons {
    pub(crate) models: Vec<NeuronModel>,
    pub(crate) reset_modes: Vec<ResetMode>,
}

impl Neurons {
    /// Supported models, in file order.
    pub fn models(&self) -> &[NeuronModel] {
        &self.models
    }

    /// Whether `model` runs on the cores.
    pub fn supports_model(&self, model: NeuronModel) -> bool {
        self.models.contains(&model)
    }

    /// Supported reset rules, in file order.
    pub fn reset_modes(&self) -> &[ResetMode] {
        &self.reset_modes
    }

    /// Whether `mode` is implemented.
    pub fn supports_reset(&self, mode: ResetMode) -> bool {
        self.reset_modes.contains(&mode)
    }
}
