//! The options of [`partition`](crate::partition): rates and a baseline.

/// Options of [`partition`](crate::partition).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartitionOptions {
    /// Per population, per neuron, the firing rate in Hz (from the float
    /// reference), used to weigh spike traffic between chips and to estimate
    /// host spikes per step. Without it every route counts 1.
    pub rates: Option<Vec<Vec<f64>>>,
    /// A core count to compare with in the report (e.g. nengo-loihi's).
    pub baseline: Option<Baseline>,
}

/// Another tool's core count for the same network, shown in the report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Baseline {
    /// Who produced it (e.g. `nengo-loihi`).
    pub name: String,
    /// Its core count.
    pub cores: u64,
}
