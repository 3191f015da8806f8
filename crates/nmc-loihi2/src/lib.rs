//! nmc's Loihi 2 backend, bit-exact against Lava 0.10's fixed_pt simulation
//! (docs/loihi2.md).
//!
//! - [`Chip`]: the target description `targets/loihi2.ron` (built in);
//! - [`Net`]: the deployed network (RingBuffer sources, Dense, Sparse, LIF,
//!   Delta, SigmaDelta), read from Lava-fixture JSON with
//!   [`Net::from_lava_json`] or built with [`Net::new`], checked field by
//!   field;
//! - [`compile::compile`]: nmc's IR (a NIR graph) lowered to a [`Net`],
//!   with a report; [`Net::to_lava_json`] writes it back in Lava's form;
//! - [`emu::run`]: the integer step, recording every variable of every
//!   process ([`Record`], with an npz writer);
//! - [`reference::run`]: a deliberately plain second implementation of the
//!   same step, for A = B tests.
//!
//! ```
//! use nmc_loihi2::{emu, Chip, Input, Net};
//! let chip = Chip::builtin("loihi2").unwrap();
//! let json = r#"{"processes": [
//!     {"name": "src", "kind": "source", "shape": [1]},
//!     {"name": "d", "kind": "dense", "shape": [1, 1], "weights": [[10]]},
//!     {"name": "lif", "kind": "lif", "shape": [1], "du": 4095, "dv": 163, "vth": 25}],
//!   "connections": [["src", "d"], ["d", "lif"]]}"#;
//! let net = Net::from_lava_json(&chip, json, "example.json").unwrap();
//! let input = Input::single(ndarray::Array2::from_shape_vec((1, 3), vec![1, 0, 0]).unwrap());
//! let rec = emu::run(&chip, &net, &input, 3).unwrap();
//! assert_eq!(rec.get("lif.v").unwrap().data, vec![0, 640, 614]);
//! ```

pub mod chip;
pub mod compile;
mod compile_report;
pub mod emu;
pub mod input;
pub mod lava_json;
mod lava_write;
pub mod net;
pub mod record;
pub mod reference;

pub use chip::{Chip, ChipError};
pub use input::{Input, InputError};
pub use net::{Net, NetError};
pub use record::{Record, Trace};
