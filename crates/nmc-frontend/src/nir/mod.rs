//! The NIR importer: parse (container → [`raw`] tree) then lower (raw tree →
//! [`nmc_ir::Graph`]).
//!
//! - [`hdf5`] reads the HDF5 container into the format-neutral [`raw`] tree;
//!   it is the only module that knows the HDF5 crate.
//! - [`lower`] interprets the NIR layout (`/version`, `/node` = the top
//!   NIRGraph with `nodes/<name>/…` and `edges`), inlines nested subgraphs
//!   and builds the IR graph with [`nmc_ir::GraphBuilder`].

mod fields;
mod hdf5;
mod lower;
mod raw;
mod write;
pub use write::{NIR_VERSION, to_nir_bytes, write_nir};

use crate::{FrontendError, LoadOptions};
use nmc_ir::Graph;
use raw::ContainerError;

/// Parses and lowers the bytes of a `.nir` file; `file` names it in errors.
pub(crate) fn load(file: &str, bytes: Vec<u8>, opts: &LoadOptions) -> Result<Graph, FrontendError> {
    let budget = hdf5::decoded_budget(bytes.len() as u64);
    let tree = hdf5::read(bytes).map_err(|e| FrontendError::Container {
        file: file.to_string(),
        reason: container_reason(e),
    })?;
    lower::lower(file, &tree, opts, budget)
}

fn container_reason(e: ContainerError) -> String {
    match e {
        ContainerError::Empty => "empty file (0 bytes); expected a NIR graph (an HDF5 file)".into(),
        ContainerError::Truncated { len, expected } if expected > len => {
            format!("truncated HDF5 file: it has {len} bytes but its superblock says the file is {expected} bytes")
        }
        ContainerError::Truncated { len, .. } => {
            format!("truncated HDF5 file: it ends inside the HDF5 header ({len} bytes)")
        }
        ContainerError::NotContainer(why) => {
            format!("not an HDF5 file ({why}); a .nir file is the HDF5 file written by Python `nir.write`")
        }
        ContainerError::Corrupt(why) => format!("damaged or unsupported HDF5 file: {why}"),
    }
}
