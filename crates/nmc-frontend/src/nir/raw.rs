//! The format-neutral tree a NIR container is read into.
//!
//! This is the boundary between the container reader ([`super::hdf5`], the
//! only module that knows the HDF5 crate) and the lowering into nmc-ir
//! ([`super::lower`], which only sees this tree). Another container reader
//! (a different HDF5 crate, an in-memory test builder) only has to produce a
//! [`Group`].
//!
//! The reader is deliberately lazy about errors below the top level: a member
//! it cannot read becomes [`Item::Unreadable`] and a dataset of a type it does
//! not convert becomes [`Data::Unsupported`], so the lowering, which knows the
//! node path and field name, reports them.

use std::collections::BTreeMap;

/// A group: named members (datasets and sub-groups), sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Group {
    /// Members by name.
    pub items: BTreeMap<String, Item>,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A sub-group.
    Group(Group),
    /// A dataset.
    Value(Value),
    /// A member that exists but could not be read (the reader's message).
    Unreadable(String),
}

/// A dataset: its shape and its elements, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Value {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements.
    pub data: Data,
}

/// Dataset elements, converted explicitly from the stored type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    /// Strings (fixed-length or variable-length, UTF-8 or ASCII).
    Str(Vec<String>),
    /// Floating point, widened to f64; the stored type's name (`float32`, ...).
    Float(Vec<f64>, &'static str),
    /// Integers, widened to i64; the stored type's name (`int64`, ...).
    Int(Vec<i64>, &'static str),
    /// A type this importer does not convert; a description of it.
    Unsupported(String),
}

impl Value {
    /// Number of elements the shape describes.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    /// The stored type, for messages.
    pub fn dtype(&self) -> String {
        match &self.data {
            Data::Str(_) => "string".into(),
            Data::Float(_, t) | Data::Int(_, t) => (*t).into(),
            Data::Unsupported(d) => d.clone(),
        }
    }
}

/// Why a container could not be opened at all (nothing about nodes yet).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContainerError {
    /// Zero bytes.
    Empty,
    /// Shorter than the container says it is.
    Truncated {
        /// Bytes present.
        len: u64,
        /// Bytes the container header announces.
        expected: u64,
    },
    /// No container signature: not this format at all.
    NotContainer(String),
    /// The container is damaged or uses something the reader cannot decode.
    Corrupt(String),
}
