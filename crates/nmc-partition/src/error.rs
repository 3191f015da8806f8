//! The error of partitioning and emission ([`PartitionError`]).

use crate::report::PartitionReport;
use crate::verify::VerifyError;

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
    /// The placement given to [`emit`](crate::emit) is invalid.
    #[error("invalid placement: {0}")]
    Invalid(#[from] VerifyError),
    /// The target could not be written as RON.
    #[error("target: {0}")]
    Target(String),
}
