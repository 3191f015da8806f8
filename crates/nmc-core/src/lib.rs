//! # nmc-core — rules every nmc stage shares
//!
//! A leaf crate (no dependencies): what more than one crate must do the same
//! way, defined once.
//!
//! - [`output`]: files appear whole or not at all ([`output::AtomicFile`]),
//!   and two paths are compared by file identity ([`output::same_file`]).
//! - [`text`]: text tables that cannot fail on long names.
//! - [`conv`]: the one geometry of a 2-d convolution every stage uses.
//! - [`input`]: the stimulus limits both integer executions apply (event
//!   counts, real-input widths).
//! - [`loc`]: where a problem is ([`Loc`], [`Problem`]): the location
//!   vocabulary of the verifiers, the artifact check and the emulator.
//! - [`lif`]: the one `f64` step of a neuron population (float reference)
//!   and the float host layer on it (fixed reference and emulator).

pub mod conv;
pub mod input;
pub mod lif;
pub mod loc;
pub mod output;
pub mod text;

pub use conv::ConvGeom;
pub use loc::{CoreId, Loc, Problem};
