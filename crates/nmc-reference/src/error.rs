//! Errors of the reference simulators and of array I/O.

use nmc_ir::{Shape, VerifyError};
use std::path::PathBuf;

/// Everything that can go wrong when reading inputs, simulating or writing
/// results. Messages name the file, the node or the shape involved.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The graph fails [`nmc_ir::verify`].
    #[error("graph `{graph}` is invalid: {}", join_verify(.errors))]
    InvalidGraph {
        /// Graph name.
        graph: String,
        /// Every violated invariant.
        errors: Vec<VerifyError>,
    },
    /// The number of stimulus arrays differs from the number of Input nodes.
    #[error("graph `{graph}` has {expected} Input node(s) ({names}) but {got} input array(s) were given")]
    InputCount {
        /// Graph name.
        graph: String,
        /// Number of Input nodes.
        expected: usize,
        /// Their names, comma-separated.
        names: String,
        /// Number of stimuli given.
        got: usize,
    },
    /// An input array does not fit the model input.
    #[error(
        "input array of shape {got:?} does not fit the model input of shape {expected} ({features} features per \
         step): {hint}. Inputs are (batch, steps, features) (NengoDL's convention: samples, then time steps, then \
         the model input flattened row-major) or (steps, features) for one sample; (steps, {dims}) and \
         (batch, steps, {dims}) are accepted too"
    )]
    StimulusShape {
        /// Shape of the array given.
        got: Vec<usize>,
        /// The model input shape.
        expected: Shape,
        /// Features per step (elements of `expected`).
        features: usize,
        /// `expected` written as comma-separated dimensions.
        dims: String,
        /// What seems wrong.
        hint: String,
    },
    /// A stimulus has a different number of features than its Input node.
    #[error("input `{input}` has shape {expected} ({} features) but its stimulus has {got} features per step", .expected.numel())]
    FeatureMismatch {
        /// Input node name.
        input: String,
        /// Its shape.
        expected: Shape,
        /// Features of the stimulus.
        got: usize,
    },
    /// Several stimuli disagree on the batch size.
    #[error("input `{input}` has batch {got}, the first input has batch {expected}")]
    BatchMismatch {
        /// Input node name.
        input: String,
        /// Batch of the first stimulus.
        expected: usize,
        /// Batch of this one.
        got: usize,
    },
    /// A stimulus or a run with no samples or no time steps.
    #[error("{0}")]
    Empty(String),
    /// A stimulus holds NaN or an infinity.
    #[error("input value at batch {batch}, step {step}, feature {feature} is {value}; inputs must be finite")]
    NonFinite {
        /// Sample.
        batch: usize,
        /// Time index.
        step: usize,
        /// Feature index.
        feature: usize,
        /// The value.
        value: f64,
    },
    /// A probe names a node that does not exist or cannot be probed that way.
    #[error("probe `{node}`: {message}")]
    Probe {
        /// Node name as given.
        node: String,
        /// What is wrong.
        message: String,
    },
    /// A node's state would exceed the float reference's memory bound: its
    /// shape (or a delay's length in steps) comes from a file and claims more
    /// than a simulation can hold.
    #[error("node `{node}`, field `{field}`: {message}")]
    TooLarge {
        /// The node.
        node: String,
        /// The field whose value sets the size (`shape`, `delay`).
        field: &'static str,
        /// The figures.
        message: String,
    },
    /// A file could not be opened, read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not a valid `.npy`/`.npz` array file, or holds an array
    /// type that cannot be read.
    #[error("{}: {message}", .path.display())]
    Array {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the entry and dtype when known).
        message: String,
    },
}

fn join_verify(errors: &[VerifyError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}
