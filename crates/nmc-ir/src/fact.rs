//! Edge facts: what a value flowing along an edge looks like.
//!
//! Every edge of a [`crate::Graph`] carries a [`Fact`]: the shape of the value
//! and its numeric [`Format`]. Facts are computed when a node is wired (from
//! the node's op and the facts of its inputs), so a shape error surfaces at
//! the node that causes it, not later in a simulator.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A tensor shape, outermost dimension first (NIR's layout: conv values are
/// `[C, H, W]`, dense values `[N]`). A scalar has the empty shape.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// A shape from its dimensions.
    pub fn new(dims: impl Into<Vec<usize>>) -> Self {
        Shape(dims.into())
    }
    /// Number of elements (1 for a scalar). Saturates instead of overflowing,
    /// so a hostile shape cannot wrap around to a small number.
    pub fn numel(&self) -> usize {
        self.0.iter().fold(1usize, |a, &d| a.saturating_mul(d))
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

/// The numeric format of the values on an edge.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Format {
    /// Real values (f64 in the float reference).
    Float,
    /// Binary events: 0 or 1 per element per step. Produced by spiking
    /// neuron populations; what the next layer sees is `1 × weight`.
    Spike,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Float => write!(f, "f64"),
            Format::Spike => write!(f, "spike"),
        }
    }
}

/// What is known about a value: its shape and numeric format.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Fact {
    /// Shape of the value at one time step.
    pub shape: Shape,
    /// Numeric format.
    pub format: Format,
}

impl Fact {
    /// A fact from a shape and a format.
    pub fn new(shape: Shape, format: Format) -> Self {
        Fact { shape, format }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.format, self.shape)
    }
}
