//! The importer's error type: every message names the file, and the node
//! path and field when there is one.

use nmc_ir::{BuildError, OpError, VerifyError};

/// Why a model file could not be imported.
///
/// `Display` always starts with the file name, then names the node (as a
/// `.`-path for nodes inside nested subgraphs, e.g. `lif1.lif`) and the field
/// when the problem has one, e.g.
/// `braille.nir: node `fc1`, field `weight`: expected rank 2 [out, in], got rank 3 (shape [38,12,1])`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrontendError {
    /// The file could not be read from disk.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file's extension names no format this importer reads.
    #[error(
        "{file}: unsupported model format {ext}; supported formats: .nir (NIR graph in HDF5), .onnx (ANN, converted to a spiking network)"
    )]
    UnsupportedFormat {
        /// The file.
        file: String,
        /// What the extension was, for the message (`.onnx`, or `(no extension)`).
        ext: String,
    },
    /// The bytes are not a readable container (empty, truncated, not HDF5,
    /// damaged); nothing is known about nodes yet.
    #[error("{file}: {reason}")]
    Container {
        /// The file.
        file: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// The NIR content is invalid or unsupported at a node (or at graph
    /// level when `node` is `None`).
    #[error("{file}: {}", located(.node.as_deref(), .field.as_deref(), .message))]
    Nir {
        /// The file.
        file: String,
        /// Node path (`outer.inner` inside nested subgraphs).
        node: Option<String>,
        /// Field of the node (`weight`, `edges`, `metadata.dt`, ...).
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The ONNX model is malformed or uses something the converter does not
    /// support, at a node (or at graph level when `node` is `None`).
    #[error("{file}: {}", located(.node.as_deref(), .field.as_deref(), .message))]
    Onnx {
        /// The file.
        file: String,
        /// ONNX node name (or `op_type#index` when the node has no name).
        node: Option<String>,
        /// Attribute, input or field (`pads`, `initializer W`, ...).
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The graph builder rejected the lowered graph (shapes disagree along an
    /// edge, a node without input, ...). Its message names node and field.
    #[error("{file}: {}{}", build_message(.source), .hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Build {
        /// The file.
        file: String,
        /// What the builder said (boxed: it is large).
        #[source]
        source: Box<BuildError>,
        /// A likely cause, when the importer recognises one (e.g. a weight
        /// stored transposed).
        hint: Option<String>,
    },
    /// The lowered graph violates an IR invariant (e.g. a time constant ≤ 0).
    #[error("{file}: {}", verify_summary(.errors))]
    Verify {
        /// The file.
        file: String,
        /// Every violation found (at least one).
        errors: Vec<VerifyError>,
    },
}

fn located(node: Option<&str>, field: Option<&str>, message: &str) -> String {
    match (node, field) {
        (Some(n), Some(f)) => format!("node `{n}`, field `{f}`: {message}"),
        (Some(n), None) => format!("node `{n}`: {message}"),
        (None, Some(f)) => format!("field `{f}`: {message}"),
        (None, None) => message.to_string(),
    }
}

/// A builder error in the importer's `node `n`, field `f`: …` form.
fn build_message(e: &BuildError) -> String {
    match e {
        BuildError::Op { node, source, .. } => match source {
            OpError::InputShape { field, expected, got } => {
                located(Some(node), Some(field), &format!("expects input {expected}, got {got}"))
            }
            OpError::Param { field, message } => located(Some(node), Some(field), message),
            OpError::Arity(m) => located(Some(node), None, m),
        },
        other => other.to_string(),
    }
}

fn verify_one(e: &VerifyError) -> String {
    located(e.loc.node(), e.field, &e.message)
}

fn verify_summary(errors: &[VerifyError]) -> String {
    match errors {
        [] => "graph failed verification".into(),
        [one] => verify_one(one),
        [first, rest @ ..] => format!("{} (and {} more problems)", verify_one(first), rest.len()),
    }
}

impl FrontendError {
    /// The file the error is about, as given by the caller.
    pub fn file(&self) -> &str {
        match self {
            FrontendError::Io { file, .. }
            | FrontendError::UnsupportedFormat { file, .. }
            | FrontendError::Container { file, .. }
            | FrontendError::Nir { file, .. }
            | FrontendError::Onnx { file, .. }
            | FrontendError::Build { file, .. }
            | FrontendError::Verify { file, .. } => file,
        }
    }

    /// The node path the error is about, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            FrontendError::Nir { node, .. } | FrontendError::Onnx { node, .. } => node.as_deref(),
            FrontendError::Build { source, .. } => match source.as_ref() {
                BuildError::DuplicateNode(n) | BuildError::Unreachable(n) | BuildError::NoInput(n) => Some(n),
                BuildError::MissingNode { missing, .. } => Some(missing),
                BuildError::Op { node, .. } | BuildError::FanInMismatch { node, .. } => Some(node),
                _ => None,
            },
            FrontendError::Verify { errors, .. } => errors.first().and_then(|e| e.loc.node()),
            _ => None,
        }
    }

    /// The field of the node the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            FrontendError::Nir { field, .. } | FrontendError::Onnx { field, .. } => field.as_deref(),
            FrontendError::Build { source, .. } => match source.as_ref() {
                BuildError::Op {
                    source: OpError::InputShape { field, .. } | OpError::Param { field, .. },
                    ..
                } => Some(field),
                BuildError::MissingNode { .. } => Some("edges"),
                BuildError::BadDt(_) => Some("dt"),
                _ => None,
            },
            FrontendError::Verify { errors, .. } => errors.first().and_then(|e| e.field),
            _ => None,
        }
    }

    pub(crate) fn nir(file: &str, node: Option<&str>, field: Option<&str>, message: impl Into<String>) -> Self {
        FrontendError::Nir {
            file: file.to_string(),
            node: node.map(str::to_string),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}
