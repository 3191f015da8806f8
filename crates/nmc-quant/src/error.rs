//! Errors of quantization and of QModel file I/O.

use nmc_ir::qmodel::QModelError;

/// Why a graph could not be quantized, or a QModel file not read or written.
///
/// Graph errors name the node (its path), the field and what the target
/// supports; file errors name the file and, where known, line, column and
/// field.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    /// The network uses something the target (or the QModel format) cannot
    /// run: an op, a neuron model, a reset rule, a connection pattern.
    #[error("node `{node}`: {field}: {message}")]
    Unsupported {
        /// Node name (path).
        node: String,
        /// The field or aspect at fault (`op`, `model`, `reset`, `v_reset`, ...).
        field: String,
        /// What is wrong and what the target supports.
        message: String,
    },
    /// A parameter cannot be represented in the target's integer formats.
    #[error("node `{node}`: {field}: {message}")]
    Unrepresentable {
        /// Node name (the population, or the op a weight or bias came from).
        node: String,
        /// The parameter (`v_threshold`, `bias`, `weight`, `refractory`, ...).
        field: String,
        /// The value, the format's range and the conflicting constraint.
        message: String,
    },
    /// A quantization option is invalid.
    #[error("option {option}: {message}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A QModel file is not valid RON of the QModel schema.
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        /// The path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The parser's message (names the field for unknown or missing fields).
        message: String,
    },
    /// A QModel file of another schema version.
    #[error(
        "{path}: schema_version: {found} is not supported (this nmc reads QModel schema_version 1 and {supported})"
    )]
    SchemaVersion {
        /// The path.
        path: String,
        /// The version in the file.
        found: u64,
        /// The version this nmc reads.
        supported: u32,
    },
    /// A QModel file parsed but fails [`nmc_ir::qmodel::QModel::check`].
    #[error("{path}: {source}")]
    Check {
        /// The path.
        path: String,
        /// The structural problem (population and field).
        #[source]
        source: QModelError,
    },
    /// Serializing a QModel failed.
    #[error("{path}: cannot write the QModel: {message}")]
    Serialize {
        /// The path.
        path: String,
        /// The serializer's message.
        message: String,
    },
    /// A bug: a value the quantizer produced fails the target's own check.
    #[error("internal error: node `{node}`: {message}")]
    Internal {
        /// The node.
        node: String,
        /// What failed.
        message: String,
    },
}

impl QuantError {
    /// The node a graph error names (`None` for file and option errors).
    pub fn node(&self) -> Option<&str> {
        match self {
            QuantError::Unsupported { node, .. }
            | QuantError::Unrepresentable { node, .. }
            | QuantError::Internal { node, .. } => Some(node),
            _ => None,
        }
    }

    /// The field a graph error names (`None` for file and option errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            QuantError::Unsupported { field, .. } | QuantError::Unrepresentable { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn unsupported(node: &str, field: &str, message: impl Into<String>) -> Self {
        QuantError::Unsupported {
            node: node.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn unrepresentable(node: &str, field: &str, message: impl Into<String>) -> Self {
        QuantError::Unrepresentable {
            node: node.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}
