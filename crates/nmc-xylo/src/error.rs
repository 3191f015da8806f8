//! The crate's one error type: every message names the file (or `<memory>`)
//! and the field it is about.

use std::fmt;

/// An index into an array, printed as `[i, j, k]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At(pub Vec<usize>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = self.0.iter().map(|i| i.to_string()).collect();
        write!(f, "[{}]", parts.join(", "))
    }
}

/// What went wrong, with the file and field it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{file}: {message}")]
    Io {
        /// The path.
        file: String,
        /// What the OS said.
        message: String,
    },
    /// A chip description is malformed or inconsistent.
    #[error("{file}: {field}: {message}")]
    Chip {
        /// The `.ron` file (or the built-in name).
        file: String,
        /// The field, as a RON path (`populations.hidden`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A configuration (or an array of an `.npz`) is malformed, out of
    /// range, or does not fit the chip.
    #[error("{file}: {field}{at}: {message}")]
    Config {
        /// The `.npz` file, or `<memory>`.
        file: String,
        /// The array (`weights_rec`, `aliases`, ...).
        field: String,
        /// The element, when one is at fault.
        at: At,
        /// What is wrong.
        message: String,
    },
    /// The input raster does not fit the configuration.
    #[error("input: {message}")]
    Input {
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// A [`Error::Config`] about a whole array.
    pub(crate) fn config(file: &str, field: &str, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            field: field.into(),
            at: At(Vec::new()),
            message: message.into(),
        }
    }
    /// A [`Error::Config`] about one element.
    pub(crate) fn config_at(file: &str, field: &str, at: &[usize], message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            field: field.into(),
            at: At(at.to_vec()),
            message: message.into(),
        }
    }
    /// The field a [`Error::Config`] or [`Error::Chip`] names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Config { field, .. } | Error::Chip { field, .. } => Some(field),
            _ => None,
        }
    }
}
