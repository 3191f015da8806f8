//! The emulator's error type and the state registers its overflow reports name.

use nmc_core::{Loc, Problem};
use serde::Serialize;

/// Emulation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    /// The artifact is structurally invalid: where (core, table, host
    /// layer, layer, …), which field, what.
    #[error("invalid artifact: {0}")]
    Invalid(Problem),
    /// The artifact's target description is invalid, or one the emulator
    /// cannot run (the field names the artifact's or the target's).
    #[error("artifact target: {0}")]
    Target(Problem),
    /// The input does not fit the artifact: the problem is at an input
    /// ([`nmc_core::Loc::Input`]), a host layer, a layer, or the run as a
    /// whole (field `steps`, `batch`, …). `file` is the input file, when the
    /// caller knows it (the emulator does not).
    #[error("input: {}{problem}", .file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Input {
        /// The input file, named by the caller.
        file: Option<String>,
        /// What is wrong, and where.
        problem: Problem,
    },
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

impl EmuError {
    /// An input error at `loc`, about `field`, with no file named.
    pub fn input(loc: Loc, field: impl Into<Option<&'static str>>, message: impl Into<String>) -> Self {
        EmuError::Input {
            file: None,
            problem: Problem::new(loc, field, message),
        }
    }
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
