//! The emulator's error type.

use nmc_core::{Loc, Problem};
use nmc_trace::OverflowEvent;

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
    /// Strict mode: a register wrapped or the voltage was clipped — the
    /// earliest (by step, batch item, layer, neuron, register), the same
    /// event a run without strict mode records as its trace's first overflow.
    #[error("{0} (strict mode)")]
    Overflow(OverflowEvent),
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
