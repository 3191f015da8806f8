//! # nmc-frontend — model importers
//!
//! Reads model files into an [`nmc_ir::Graph`]. The one format today is
//! **NIR** (`.nir`, the HDF5 file written by Python `nir.write`, including
//! the older v0.1/v0.2 layout of the NIR paper's files).
//!
//! ```no_run
//! let g = nmc_frontend::load(std::path::Path::new("net.nir"), &Default::default())?;
//! println!("{g}");
//! # Ok::<(), nmc_frontend::FrontendError>(())
//! ```
//!
//! Import is two steps: the container is read into a format-neutral tree
//! (the only code that knows the HDF5 crate), then that tree is lowered into
//! the IR with [`nmc_ir::GraphBuilder`], which infers every edge's fact and
//! rejects shape mismatches. The result has passed [`nmc_ir::verify`].
//!
//! ## Conventions
//!
//! - **Node names** are the NIR names; nodes of nested subgraphs are
//!   inlined as `outer.inner`. A subgraph's Input/Output nodes are its ports
//!   and are spliced out (no pass-through node is left in the IR): the
//!   enclosing graph's edge into the subgraph feeds the successors of its
//!   Input node, and the edge out of it reads the predecessor of its Output
//!   node. A subgraph used as an edge endpoint must have exactly one Input
//!   (resp. Output) node.
//! - **Flatten** `start_dim`/`end_dim` index the per-step value without a
//!   batch axis (nir 1.0's rule); `input_type`, when given, must equal the
//!   incoming shape.
//! - **Conv padding** `"valid"` is 0; `"same"` needs stride 1 and becomes the
//!   symmetric padding `dilation·(k−1)/2`, an error when that is not whole.
//!   `input_shape` (spatial sizes, optionally with channels) must match the
//!   incoming value.
//! - **Neurons**: parameters are broadcast to one value per neuron, with
//!   [`nmc_ir::Neuron::neutral`] values for fields a model lacks; missing
//!   `v_reset` is 0 and missing `w_in` is 1 (as in nir). The population
//!   shape is that of the parameter arrays, or of the incoming value when
//!   every parameter is a single value. Reset mode is
//!   [`LoadOptions::reset`], default [`nmc_ir::ResetMode::Zero`] (NIR has no
//!   field for it). A node metadata value `refractory` or `t_ref` (seconds)
//!   sets the refractory period.
//! - **Metadata** is kept as [`nmc_ir::Meta`]: graph metadata on the graph
//!   (plus `nir_version` from the file's `/version`), node metadata on the
//!   node. A graph metadata `dt` sets the time step unless
//!   [`LoadOptions::dt`] is given; otherwise it is [`nmc_ir::DEFAULT_DT`].
//! - **Numbers** stored as float32, float64 or any integer type are
//!   converted explicitly to f64; other element types are an error naming
//!   the field.

mod error;
mod nir;
pub mod onnx;

pub use error::FrontendError;
pub use nir::{NIR_VERSION, to_nir_bytes, write_nir};

use nmc_ir::{Discretization, Graph, ResetMode, SpikeConvention};
use std::path::Path;

/// Options that complete or override what a model file says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// Time step in seconds. `None`: the file's graph metadata `dt` if it has
    /// one, else [`nmc_ir::DEFAULT_DT`].
    pub dt: Option<f64>,
    /// How neuron ODEs are discretized. `None`: [`Discretization::default`].
    pub discretization: Option<Discretization>,
    /// Reset mode of every spiking population. `None`: [`ResetMode::Zero`]
    /// (NIR's rule; NIR files do not record it).
    pub reset: Option<ResetMode>,
    /// What one spike is worth to the weights that read it. `None`: the
    /// file's graph metadata `spike_convention` (`step` or `impulse`), else
    /// [`SpikeConvention::Step`]. An impulse graph's `1/dt` is folded into
    /// the weights that read spikes when it is loaded.
    pub spike_convention: Option<SpikeConvention>,
}

/// Imports a model file, choosing the format from the extension (`.nir`,
/// `.onnx` with default conversion options: see [`onnx`]).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Graph, FrontendError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("nir") => load_nir(path, opts),
        Some("onnx") => load_onnx(path, opts, &onnx::ConvertOptions::default()),
        other => Err(FrontendError::UnsupportedFormat {
            file: path.display().to_string(),
            ext: match other {
                Some(e) => format!(".{e}"),
                None => "(no extension)".into(),
            },
        }),
    }
}

/// Converts an ONNX ANN into a spiking graph ([`onnx::convert`]); `opts`
/// supplies dt and reset when `convert` leaves them unset. Without
/// calibration data the normalisation is weight-based and the graph carries
/// the warning in its metadata `onnx_warning`.
pub fn load_onnx(path: &Path, opts: &LoadOptions, convert: &onnx::ConvertOptions) -> Result<Graph, FrontendError> {
    let mut c = convert.clone();
    c.dt = c.dt.or(opts.dt);
    c.reset = c.reset.or(opts.reset);
    Ok(onnx::convert(path, &c)?.graph)
}

/// Imports a NIR file (HDF5), whatever its extension.
pub fn load_nir(path: &Path, opts: &LoadOptions) -> Result<Graph, FrontendError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| FrontendError::Io {
        file: file.clone(),
        source,
    })?;
    nir::load(&file, bytes, opts)
}

/// Imports a NIR file from memory; `name` stands for the file in errors and
/// its stem names the graph.
pub fn load_nir_bytes(name: &str, bytes: &[u8], opts: &LoadOptions) -> Result<Graph, FrontendError> {
    nir::load(name, bytes.to_vec(), opts)
}
