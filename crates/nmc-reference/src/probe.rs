//! What a run records besides spikes: probes of one quantity of one node.

use serde::Serialize;

/// What a [`Probe`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ProbeKind {
    /// The node's output value each step (spikes as 0/1, a non-spiking
    /// population's voltage, an op's result).
    Value,
    /// A neuron population's membrane voltage after the spike/reset of the step.
    Voltage,
    /// A neuron population's synaptic current `i[t]`.
    Current,
}

impl ProbeKind {
    /// Lower-case name, used in `.npz` keys.
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Value => "value",
            ProbeKind::Voltage => "voltage",
            ProbeKind::Current => "current",
        }
    }
}

/// A request to record one quantity of one node at every step.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    /// Node name.
    pub node: String,
    /// What to record.
    pub kind: ProbeKind,
}

impl Probe {
    /// Records the output value of `node`.
    pub fn value(node: impl Into<String>) -> Self {
        Probe {
            node: node.into(),
            kind: ProbeKind::Value,
        }
    }
    /// Records the membrane voltage of neuron population `node`.
    pub fn voltage(node: impl Into<String>) -> Self {
        Probe {
            node: node.into(),
            kind: ProbeKind::Voltage,
        }
    }
    /// Records the synaptic current of neuron population `node`.
    pub fn current(node: impl Into<String>) -> Self {
        Probe {
            node: node.into(),
            kind: ProbeKind::Current,
        }
    }
}
