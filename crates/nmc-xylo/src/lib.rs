//! nmc's backend for the SynSense Xylo family (`family: "xylo-iaf"`):
//! XyloAudio 2 (SYNS61201) and XyloIMU (SYNS63300).
//!
//! - [`chip`]: what one chip holds ([`Chip`], read from `targets/xylo-*.ron`);
//! - [`config`]: a deployed configuration ([`Config`], rockpool's
//!   `XyloSim.from_specification` arguments, read from an `.npz`) and its
//!   checker against a chip;
//! - [`emu`]: the bit-exact integer emulator (XyloSim's semantics, see
//!   `docs/xylo.md`), recording a [`Record`];
//! - [`reference`]: a deliberately plain, event-by-event restatement of the
//!   same rule, for testing the emulator against;
//! - [`npz`]: the `.npz` reader and writer both use.
//!
//! ```no_run
//! use nmc_xylo::{Chip, Config, emu};
//! let chip = Chip::builtin("xylo-audio2").unwrap();
//! let config = Config::read_npz("net.spec.npz".as_ref()).unwrap();
//! let input = ndarray::Array2::<u32>::zeros((100, config.inputs()));
//! let record = emu::run(&chip, &config, input.view(), emu::Recording::States).unwrap();
//! record.write_npz("out.npz".as_ref()).unwrap();
//! ```

pub mod chip;
pub mod config;
pub mod emu;
mod error;
mod fixed;
pub mod npz;
pub mod quant;
mod record;
pub mod reference;

pub use chip::Chip;
pub use config::Config;
pub use error::Error;
pub use record::{Record, States};
