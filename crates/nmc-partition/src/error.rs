//! The errors of partitioning and emission ([`PartitionError`]) and of
//! checking a placement or artifact ([`VerifyError`]).

use crate::report::PartitionReport;
use nmc_core::Problem;
use std::fmt;

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

/// A placement or artifact broke one or more rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct VerifyError {
    /// Every problem found: where (layer, block, connection, core, table,
    /// axon, compartment), which field (a resource's name for a limit), what.
    pub problems: Vec<Problem>,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s)", self.problems.len())?;
        for p in self.problems.iter().take(20) {
            write!(f, "\n  {p}")?;
        }
        if self.problems.len() > 20 {
            write!(f, "\n  … and {} more", self.problems.len() - 20)?;
        }
        Ok(())
    }
}
