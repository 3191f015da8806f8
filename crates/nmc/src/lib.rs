//! # nmc — the neuromorphic model compiler
//!
//! This crate is the façade over the pipeline crates and the home of the
//! `nmc` command-line tool. Library users call the functions here; the
//! binary (`src/main.rs`, one module per command under `src/cli/`) only
//! parses arguments, prints, and maps errors to exit codes (docs/cli.md).
//!
//! Pipeline: [`load_model`] (frontend) → float reference
//! ([`nmc_reference::simulate`]) → quantize → partition → emit → emulate →
//! verify. See docs/architecture.md.

pub mod activity;
pub mod budget;
pub mod chips;
pub mod compare;
pub mod exit;
pub mod html;
pub mod inspect;
pub mod loihi2;
pub mod pipeline;
pub mod readout;
pub mod simulate;
pub mod speck;
pub mod spikefile;
pub mod xylo;

pub use nmc_frontend::LoadOptions;
pub use nmc_ir::Graph;
/// The trace of an integer execution and its comparison (crate `nmc-trace`).
pub use nmc_trace as trace;

use std::path::Path;

/// Errors of the façade, classified for exit codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file could not be read or is invalid.
    #[error(transparent)]
    Frontend(#[from] nmc_frontend::FrontendError),
    /// Simulation input or execution problem.
    #[error(transparent)]
    Sim(#[from] nmc_reference::SimError),
    /// Quantization failed (unsupported or unrepresentable network).
    #[error(transparent)]
    Quant(#[from] nmc_quant::QuantError),
    /// Partitioning or emission failed (e.g. the network does not fit).
    #[error(transparent)]
    Partition(#[from] nmc_partition::PartitionError),
    /// The fixed-point reference failed (invalid model, or an overflow in strict mode).
    #[error(transparent)]
    Fixed(#[from] nmc_reference::FixedError),
    /// The emulator failed.
    #[error(transparent)]
    Emu(#[from] nmc_emu::EmuError),
    /// An artifact could not be read or written.
    #[error(transparent)]
    Artifact(#[from] nmc_artifact::ArtifactError),
    /// A target could not be loaded.
    #[error(transparent)]
    Target(#[from] nmc_target::TargetError),
    /// The network does not fit a chip whose placement is not `nmc-partition`'s
    /// (a Xylo chip's populations): the message names the chip, node and limit.
    #[error("{0}")]
    DoesNotFit(String),
    /// A DYNAP-CNN chip file could not be read or is invalid.
    #[error(transparent)]
    Chip(#[from] nmc_speck::ChipError),
    /// The network does not group into DYNAP-CNN layers, or its layers do
    /// not fit the chip (a rule, a memory, too many layers, Hall's condition).
    /// (Boxed: it is large.)
    #[error(transparent)]
    Speck(Box<nmc_speck::SpeckError>),
    /// Two stages disagree on the structure of the network (a bug).
    #[error("internal inconsistency: {0}")]
    Structure(String),
    /// A spike file could not be read, written, or compared.
    #[error(transparent)]
    SpikeFile(#[from] spikefile::SpikeFileError),
    /// Options that contradict each other.
    #[error("{0}")]
    Usage(String),
    /// An input file's content is wrong, or a file of the wrong kind for the
    /// command (names the file).
    #[error("{0}")]
    BadInput(String),
    /// Verification failed: the emulated artifact differs from the
    /// fixed-point reference, or deployed spikes differ from a golden file.
    #[error("{0}")]
    Mismatch(String),
    /// A bug in nmc that is not a structural disagreement (e.g. a report that
    /// cannot be rendered).
    #[error("{0}")]
    Internal(String),
    /// The run would need more memory than the limit (docs/reliability.md).
    #[error("{0}")]
    TooLarge(String),
    /// An input array does not fit the model (feature count, NaN/Inf value):
    /// the message names the input file, then the index or the shapes.
    #[error("{path}: {error}")]
    Input {
        /// The input file.
        path: String,
        /// What is wrong (not a `source`: the message already includes it;
        /// boxed: it is large).
        error: Box<nmc_reference::SimError>,
    },
    /// A label file is unusable.
    #[error("{path}: {message}")]
    Labels {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error (docs/cli.md).
    pub fn exit_code(&self) -> i32 {
        // Exhaustive on purpose: a new variant must be given its code here (and a row in
        // the table test, crates/nmc/tests/exit_codes.rs).
        match self {
            Error::Partition(nmc_partition::PartitionError::NotFit { .. }) | Error::DoesNotFit(_) | Error::Speck(_) => {
                exit::DOES_NOT_FIT
            }
            Error::Fixed(nmc_reference::FixedError::Overflow(_)) | Error::Emu(nmc_emu::EmuError::Overflow(_)) => {
                exit::OVERFLOW
            }
            Error::Structure(_) | Error::Internal(_) => exit::INTERNAL,
            Error::TooLarge(_) | Error::Usage(_) => exit::USAGE,
            Error::Mismatch(_) => exit::MISMATCH,
            Error::Frontend(_)
            | Error::Sim(_)
            | Error::Quant(_)
            | Error::Partition(_)
            | Error::Fixed(_)
            | Error::Emu(_)
            | Error::Artifact(_)
            | Error::Target(_)
            | Error::Chip(_)
            | Error::SpikeFile(_)
            | Error::BadInput(_)
            | Error::Input { .. }
            | Error::Labels { .. }
            | Error::Io { .. } => exit::INPUT_ERROR,
        }
    }
}

impl From<nmc_speck::SpeckError> for Error {
    fn from(e: nmc_speck::SpeckError) -> Self {
        Error::Speck(Box::new(e))
    }
}

/// Wraps a stimulus error with the input file's name.
pub(crate) fn input_error(path: &Path) -> impl FnOnce(nmc_reference::SimError) -> Error + '_ {
    move |error| Error::Input {
        path: path.display().to_string(),
        error: Box::new(error),
    }
}

/// Loads a model file (NIR `.nir`) into a verified graph. The library never
/// prints: what the model makes questionable is returned by
/// [`load_warnings`], for the caller to show.
pub fn load_model(path: &Path, opts: &LoadOptions) -> Result<Graph, Error> {
    Ok(nmc_frontend::load(path, opts)?)
}

/// Warnings about a loaded float model, without the file name (the CLI
/// prints `warning: FILE: …`). Nodes from which no Output node can be
/// reached are legal but useless (they are simulated and placed on the
/// chip, and nothing reads them): one warning names the first
/// ([`dead_ends`]).
pub fn load_warnings(g: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    let dead = dead_ends(g);
    if let Some(first) = dead.first() {
        let more = match dead.len() {
            1 => String::new(),
            n => format!(" (and {} more nodes)", n - 1),
        };
        out.push(format!(
            "node `{first}`{more} reaches no Output node: it is computed but nothing reads it"
        ));
    }
    // Node metadata nmc does not apply but a user may expect applied.
    for id in g.node_ids() {
        let n = g.node(id);
        if n.meta.contains_key("v_init") {
            out.push(format!(
                "node `{}`: metadata v_init (initial voltages) is not applied: every nmc execution starts \
                 each voltage at 0, as the chip does (in nengo, set initial_state={{\"voltage\": Choice([0])}} \
                 to compare)",
                n.name
            ));
        }
    }
    out
}

/// The nodes (insertion order) from which no Output node is reachable;
/// empty when the graph has no Output node at all. Linear in the graph.
pub fn dead_ends(g: &Graph) -> Vec<String> {
    let mut live = vec![false; g.node_count()];
    let mut stack = g.output_nodes();
    if stack.is_empty() {
        return Vec::new();
    }
    for o in &stack {
        live[o.index()] = true;
    }
    while let Some(n) = stack.pop() {
        for (_, p) in g.inputs(n) {
            if !live[p.index()] {
                live[p.index()] = true;
                stack.push(p);
            }
        }
    }
    g.node_ids()
        .filter(|i| !live[i.index()])
        .map(|i| g.node(i).name.clone())
        .collect()
}
