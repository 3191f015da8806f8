//! The emulator's error type and the state registers its overflow reports name.

use serde::Serialize;

/// Emulation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    /// The artifact is structurally invalid.
    #[error("invalid artifact: {0}")]
    Invalid(String),
    /// The artifact's target description is invalid.
    #[error("artifact target: {0}")]
    Target(String),
    /// The input does not fit the artifact.
    #[error("input: {0}")]
    Input(String),
    /// Strict mode: a register wrapped or the voltage was clipped.
    #[error(
        "overflow in layer `{layer}`, neuron {neuron}, step {step}, batch item {batch}: register {register} \
         would be {exact}, the target stores {stored} (strict mode)"
    )]
    Overflow {
        /// Layer name (artifact layer order).
        layer: String,
        /// Neuron index within the layer (row-major).
        neuron: usize,
        /// Step.
        step: usize,
        /// Batch item.
        batch: usize,
        /// The register.
        register: Register,
        /// The exact value before fitting.
        exact: i64,
        /// What the register holds after its overflow rule.
        stored: i64,
    },
}

/// A state register of the compartment step, as named in overflow reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Register {
    /// `q`, the input accumulator.
    Accumulator,
    /// `u`, the current.
    Current,
    /// `u + bias` (the current register).
    CurrentBias,
    /// `v`, the voltage: its register and `[vmin, vmax]`.
    Voltage,
}

impl Register {
    /// Short name: `q`, `u`, `u+bias` or `v` (as the fixed reference names them).
    pub fn name(self) -> &'static str {
        match self {
            Register::Accumulator => "q",
            Register::Current => "u",
            Register::CurrentBias => "u+bias",
            Register::Voltage => "v",
        }
    }
}

impl std::fmt::Display for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
