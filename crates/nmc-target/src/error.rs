//! Errors of loading and validating a target.

use std::fmt;

/// One broken rule of a target file: the field path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `core.max_compartments`.
    pub field: String,
    /// What the rule requires, e.g. `must be > 0`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a target could not be loaded.
///
/// Every message starts with the origin (a file path, or `builtin:NAME`);
/// syntax errors add `line:column`, validation errors the field path.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The text is not RON, or not of the schema's shape (wrong type, ...).
    #[error("{origin}:{line}:{col}: {message}")]
    Syntax {
        /// Where the text came from.
        origin: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// A field the schema does not have.
    #[error("{origin}:{line}:{col}: unknown field `{field}` in {section}; expected one of: {expected}")]
    UnknownField {
        /// Where the text came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The unknown field's name.
        field: String,
        /// The section (struct) it appeared in, e.g. `core.profiles`.
        section: String,
        /// The fields that section has, comma-separated.
        expected: String,
    },
    /// A field the schema requires is absent.
    #[error("{origin}:{line}:{col}: missing field `{field}` in {section}")]
    MissingField {
        /// Where the text came from.
        origin: String,
        /// 1-based line (where the section ends).
        line: usize,
        /// 1-based column.
        col: usize,
        /// The missing field's name.
        field: String,
        /// The section (struct) that lacks it.
        section: String,
    },
    /// `schema_version` is not the one this nmc reads.
    #[error("{origin}: schema_version: {found} is not supported (this nmc reads schema_version {supported})")]
    SchemaVersion {
        /// Where the text came from.
        origin: String,
        /// The version in the file.
        found: u64,
        /// The version this crate reads.
        supported: u32,
    },
    /// The file parsed but breaks validation rules; all of them are listed.
    #[error("{}", join_problems(origin, problems))]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// Every broken rule, in schema order.
        problems: Vec<Problem>,
    },
    /// The file could not be read.
    #[error("{path}: cannot read target file: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Neither a built-in name nor an existing file.
    #[error("unknown target `{name}`: not a built-in target ({builtins}) and no such file")]
    NotFound {
        /// What was asked for.
        name: String,
        /// The built-in names, comma-separated.
        builtins: String,
    },
    /// Serializing to RON failed (should not happen for a valid target).
    #[error("cannot write target `{name}` as RON: {message}")]
    Serialize {
        /// The target's name.
        name: String,
        /// The serializer's message.
        message: String,
    },
}

fn join_problems(origin: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{origin}: {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl TargetError {
    /// The field paths this error names: every broken rule's field for
    /// [`TargetError::Invalid`], the field for unknown/missing fields,
    /// `schema_version` for a version mismatch, nothing otherwise.
    pub fn field_paths(&self) -> Vec<String> {
        match self {
            TargetError::Invalid { problems, .. } => problems.iter().map(|p| p.field.clone()).collect(),
            TargetError::UnknownField { section, field, .. } | TargetError::MissingField { section, field, .. } => {
                if section == crate::raw::TOP_SECTION {
                    vec![field.clone()]
                } else {
                    vec![format!("{section}.{field}")]
                }
            }
            TargetError::SchemaVersion { .. } => vec!["schema_version".to_string()],
            _ => Vec::new(),
        }
    }
}
