//! # nmc-partition — from a quantized model to cores, chips and an artifact
//!
//! Three steps, each usable alone (docs/partition.md has the details):
//!
//! 1. [`partition`] places every chip population of a
//!    [`nmc_ir::qmodel::QModel`] on cores: convolution layers are cut into
//!    tiles of channels × rows × columns, other layers into ranges of
//!    neurons; the tile shapes are searched to use the fewest cores (then
//!    the fewest input axons), each input connection picks discrete or
//!    population axons, and cores are assigned to chips to keep spike
//!    traffic on chip. It returns a [`Placement`] (a serde side table) and a
//!    [`PartitionReport`] (text table, JSON `nmc.partition/1`, HTML core map).
//! 2. [`verify`] re-derives every count of a placement from the model and
//!    checks every limit of the target and that every neuron and synapse is
//!    placed exactly once; [`verify_artifact`] does the same from an emitted
//!    [`nmc_artifact::Artifact`] alone.
//! 3. [`emit`] writes the artifact: per core profiles, compartments, synapse
//!    formats, tables, axons and routes; host layers; input routes; layer
//!    maps; outputs.
//!
//! The cost model ([`CoreUsage`], [`Resource`]) is one set of functions
//! used by the search, the verifier and the emitter alike.
//!
//! ```
//! use nmc_partition::{partition, emit, verify, verify_artifact, PartitionOptions};
//! # fn model() -> nmc_ir::qmodel::QModel { nmc_partition::examples::dense_chain(&[20, 40, 10], 7) }
//! let target = nmc_target::Target::builtin("tiny").unwrap();
//! let model = model();
//! let (placement, report) = partition(&model, &target, &PartitionOptions::default()).unwrap();
//! verify(&model, &target, &placement).unwrap();
//! let artifact = emit(&model, &placement, &target).unwrap();
//! verify_artifact(&artifact, &target).unwrap();
//! assert_eq!(report.totals.cores as usize, artifact.cores.len());
//! ```

mod cost;
mod emit;
pub mod examples;
mod placement;
mod prep;
mod report;
mod search;
mod verify;

pub use cost::{CoreUsage, Resource};
pub use emit::emit;
pub use placement::{AxonMode, Block, CoreId, LayerPlacement, PLACEMENT_SCHEMA, Placement, Span, Tile, layout_index};
pub use prep::view_of;
pub use report::{CoreRow, HostRow, LayerRow, PARTITION_REPORT_SCHEMA, PartitionReport, ResourceAmount, Totals};
pub use search::partition;
pub use verify::{VerifyError, usage, verify, verify_artifact, verify_artifact_synapses};

/// Options of [`partition`].
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

/// Partitioning or emission failed.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// The model is structurally invalid.
    #[error("invalid model: {0}")]
    Model(#[from] nmc_ir::qmodel::QModelError),
    /// The model uses something the artifact cannot express.
    #[error("layer `{layer}`: {message}")]
    Unsupported {
        /// Population name.
        layer: String,
        /// What and why.
        message: String,
    },
    /// A connection's latency is not the one the chip gives it.
    #[error(
        "layer `{layer}`: inputs[{connection}] has latency {latency} but on this target that path takes {implied} steps"
    )]
    Latency {
        /// Population name.
        layer: String,
        /// Connection index.
        connection: usize,
        /// The model's latency.
        latency: u32,
        /// What the artifact implies.
        implied: u32,
    },
    /// A layer does not fit the target.
    #[error("layer `{layer}` does not fit: {detail} ({resource}: need {need}, a core offers {offer})")]
    NotFit {
        /// Population name (or `<model>`).
        layer: String,
        /// The resource that runs out.
        resource: String,
        /// What is needed.
        need: u64,
        /// What the target offers.
        offer: u64,
        /// Explanation.
        detail: String,
        /// The report up to the failure.
        report: Box<PartitionReport>,
    },
    /// Options do not match the model.
    #[error("options: {0}")]
    Options(String),
    /// The placement given to [`emit`] is invalid.
    #[error("invalid placement: {0}")]
    Invalid(#[from] VerifyError),
    /// The target could not be written as RON.
    #[error("target: {0}")]
    Target(String),
}
