//! The emulator's error type.

use nmc_trace::OverflowEvent;

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
    /// Strict mode: a register wrapped or the voltage was clipped — the
    /// earliest (by step, batch item, layer, neuron, register), the same
    /// event a run without strict mode records as its trace's first overflow.
    #[error("{0} (strict mode)")]
    Overflow(OverflowEvent),
}
