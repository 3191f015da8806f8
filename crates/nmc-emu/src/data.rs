//! Plain data crossing the emulator's boundary: input arrays, probe states, and the
//! per-layer view (name, shape, global compartments) the step loop records by.

use serde::Serialize;

/// One input array: `(batch, steps, features)` row-major. A time axis
/// shorter than the emulated steps is repeated.
#[derive(Clone, Debug)]
pub struct InputData {
    /// Batch size.
    pub batch: usize,
    /// Steps in the data.
    pub steps: usize,
    /// Features per step.
    pub features: usize,
    /// Values, `batch × steps × features`.
    pub data: Vec<f64>,
}

/// One artifact layer as the emulator sees it: name, shape, its global compartments.
pub(crate) struct LayerInfo {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) gidx: Vec<u32>,
    pub(crate) spiking: bool,
}

/// The state of one compartment after the update of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeState {
    /// Input accumulator as used this step (after fitting).
    pub q: i64,
    /// Current `u` after decay and input.
    pub u: i64,
    /// Voltage after the step (0 after a spike).
    pub v: i64,
    /// Refractory counter after the step.
    pub refractory: u8,
    /// Whether it spiked this step.
    pub spiked: bool,
}
