//! # nmc-speck — SynSense Speck (DYNAP-CNN) placement
//!
//! Speck has 9 cores; each runs one layer (convolution → IAF neurons → sum
//! pooling) out of its own kernel, neuron and bias memory. This crate
//! decides, exactly as sinabs 3.1.3 does, how much memory each layer needs
//! and which core can take it, and when no assignment exists it says why.
//! The chip's time step is not public (it lives in SynSense's closed
//! samna), so this backend places and reports; it does not emulate.
//!
//! - [`chip`]: the chip description, `targets/speck.ron` (built in);
//! - [`layers`]: the layer description and the chip's layer rules;
//! - [`lower`]: a NIR graph (nmc's IR) grouped into layers, as sinabs' `DynapcnnNetwork` does;
//! - [`memory`]: per-layer kernel/neuron/bias memory (sinabs' `memory_summary`);
//! - [`place`]: the layer → core matching and the reasons it can fail;
//! - [`report`]: the partition report, text and JSON.
//!
//! ```
//! use nmc_speck::{Chip, Layer, place};
//! let chip = Chip::builtin("speck").unwrap();
//! let conv = |name: &str, c: u32, f: u32, hw: u32| Layer {
//!     name: name.into(),
//!     input: [c, hw, hw],
//!     kernel: [f, c, 3, 3],
//!     stride: [1, 1],
//!     padding: [1, 1],
//!     pooling: vec![[1, 1]],
//!     destinations: vec![],
//!     output: [f, hw, hw],
//!     bias: false,
//!     neuron: "iaf".into(),
//! };
//! let p = place(&chip, &[conv("a", 2, 16, 32), conv("b", 16, 64, 32)]).unwrap();
//! // b: kernel 16·2^(4+6) = 16384, neuron 64·2^(5+5) = 65536: cores 0-2 only.
//! assert!(p.layers[1].core <= 2);
//! println!("{}", p.report());
//! ```
#![forbid(unsafe_code)]

pub mod chip;
pub mod layers;
pub mod lower;
pub mod memory;
pub mod place;
pub mod report;

pub use chip::{Chip, ChipError, CoreMemory, Limits};
pub use layers::{Layer, LayerError, check};
pub use lower::{LowerError, Lowered, SpeckError, lower, partition};
pub use memory::Memory;
pub use place::{NoFit, PlaceError, Placed, Placement, assign, place};
pub use report::{Report, Row, Usage};
