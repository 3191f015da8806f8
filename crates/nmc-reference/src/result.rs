//! What a simulation produces: spikes per layer, output traces, probes; and
//! writing them to `.npz`.

use crate::error::SimError;
use crate::probe::ProbeKind;
use bitvec::vec::BitVec;
use ndarray::{Array3, ArrayD, IxDyn};
use ndarray_npy::NpzWriter;
use nmc_ir::Shape;
use serde::Serialize;
use std::path::Path;

/// The result of a run over a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct SimResult {
    /// Time step in seconds.
    pub dt: f64,
    /// Steps simulated.
    pub steps: usize,
    /// Samples simulated.
    pub batch: usize,
    /// Spiking layers (spiking neuron populations and Threshold nodes), in
    /// schedule order.
    pub layers: Vec<LayerSpikes>,
    /// Output nodes, in schedule order.
    pub outputs: Vec<OutputTrace>,
    /// Non-spiking neuron populations (I, LI, CubaLI), in schedule order:
    /// they have no spikes and no rate.
    pub non_spiking: Vec<NonSpiking>,
    /// Probe traces, in the order the probes were given.
    pub probes: Vec<ProbeTrace>,
}

/// The spikes of one spiking layer over the whole run.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpikes {
    /// Node name.
    pub name: String,
    /// NIR model name (`IF`, `LIF`, `CubaLIF`, or `Threshold`).
    pub model: String,
    /// Population shape.
    pub shape: Shape,
    /// Samples.
    pub batch: usize,
    /// Steps.
    pub steps: usize,
    /// One bit per (sample, step, neuron), at index `(b·steps + t)·n + i`
    /// with `n` the number of neurons (row-major over `shape`).
    pub spikes: BitVec,
}

/// The value an Output node received at every step.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputTrace {
    /// Node name.
    pub name: String,
    /// Values, `(batch, steps, features)`.
    pub values: Array3<f64>,
}

/// A probed quantity at every step.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeTrace {
    /// Node name.
    pub node: String,
    /// What was recorded.
    pub kind: ProbeKind,
    /// Values, `(batch, steps, elements)`.
    pub values: Array3<f64>,
}

impl LayerSpikes {
    /// Number of neurons.
    pub fn neurons(&self) -> usize {
        self.shape.numel()
    }
    /// True when neuron `i` of sample `b` spiked at step `t` (false when out
    /// of range).
    pub fn spiked(&self, b: usize, t: usize, i: usize) -> bool {
        let n = self.neurons();
        if b >= self.batch || t >= self.steps || i >= n {
            return false;
        }
        self.spikes.get((b * self.steps + t) * n + i).is_some_and(|bit| *bit)
    }
    /// Spike count per neuron, summed over the batch.
    pub fn counts(&self) -> Vec<u64> {
        let n = self.neurons();
        let mut c = vec![0u64; n];
        if n > 0 {
            for idx in self.spikes.iter_ones() {
                c[idx % n] += 1;
            }
        }
        c
    }
    /// Spike count per neuron of sample `b`.
    pub fn counts_of(&self, b: usize) -> Vec<u64> {
        let n = self.neurons();
        let mut c = vec![0u64; n];
        if n > 0 && b < self.batch {
            let per = self.steps * n;
            for idx in self.spikes[b * per..(b + 1) * per].iter_ones() {
                c[idx % n] += 1;
            }
        }
        c
    }
    /// Total spikes over batch, steps and neurons.
    pub fn total(&self) -> u64 {
        self.spikes.count_ones() as u64
    }
    /// The steps at which neuron `i` of sample `b` spiked, ascending.
    pub fn spike_steps(&self, b: usize, i: usize) -> Vec<usize> {
        (0..self.steps).filter(|&t| self.spiked(b, t, i)).collect()
    }
    /// The spikes as a `uint8` array `(batch, steps, *shape)`.
    pub fn to_array(&self) -> ArrayD<u8> {
        let mut dims = vec![self.batch, self.steps];
        dims.extend_from_slice(self.shape.dims());
        let mut data = vec![0u8; self.spikes.len()];
        for idx in self.spikes.iter_ones() {
            data[idx] = 1;
        }
        ArrayD::from_shape_vec(IxDyn(&dims), data).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])))
    }
}

/// The `.npz` key of an array: `prefix.name` with `/` and `\` in `name`
/// replaced by `_` (so that the zip entry is not a directory path).
pub fn npz_key(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    format!("{prefix}.{clean}")
}

impl SimResult {
    /// The layer called `name`.
    pub fn layer(&self, name: &str) -> Option<&LayerSpikes> {
        self.layers.iter().find(|l| l.name == name)
    }
    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputTrace> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// Writes the result as a compressed `.npz`: `spikes.<layer>` (`uint8`,
    /// `(batch, steps, *shape)`) per spiking layer, `output.<name>`
    /// (`float64`, `(batch, steps, features)`) per Output node and
    /// `probe.<node>.<kind>` (`float64`) per probe; see [`npz_key`].
    pub fn write_npz(&self, path: &Path) -> Result<(), SimError> {
        let io_err = |source| SimError::Io {
            path: path.to_path_buf(),
            source,
        };
        let write_err = |e: ndarray_npy::WriteNpzError| SimError::Array {
            path: path.to_path_buf(),
            message: format!("cannot write .npz: {e}"),
        };
        let keys: Vec<(String, &str)> = self
            .layers
            .iter()
            .map(|l| (npz_key("spikes", &l.name), l.name.as_str()))
            .chain(
                self.outputs
                    .iter()
                    .map(|o| (npz_key("output", &o.name), o.name.as_str())),
            )
            .collect();
        check_unique_keys(path, &keys)?;
        // Written beside `path` and renamed over it once complete.
        let file = nmc_core::output::AtomicFile::create(path).map_err(io_err)?;
        let mut npz = NpzWriter::new_compressed(file);
        for l in &self.layers {
            npz.add_array(npz_key("spikes", &l.name), &l.to_array())
                .map_err(write_err)?;
        }
        for o in &self.outputs {
            npz.add_array(npz_key("output", &o.name), &o.values)
                .map_err(write_err)?;
        }
        for p in &self.probes {
            let key = format!("{}.{}", npz_key("probe", &p.node), p.kind.name());
            npz.add_array(key, &p.values).map_err(write_err)?;
        }
        let w = npz.finish().map_err(write_err)?;
        w.commit().map_err(io_err)
    }
}

/// Fails before anything is written when two names map to one `.npz` key
/// (`a\b` and `a_b` both become `…a_b`), naming both.
pub fn check_unique_keys(path: &Path, keys: &[(String, &str)]) -> Result<(), SimError> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (k, name) in keys {
        if let Some(first) = seen.insert(k.as_str(), name) {
            return Err(SimError::Array {
                path: path.to_path_buf(),
                message: format!(
                    "layers `{first}` and `{name}` map to the same .npz key `{k}`; rename one of them (nothing was \
                     written)"
                ),
            });
        }
    }
    Ok(())
}

/// A neuron population without spikes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NonSpiking {
    /// Node name.
    pub name: String,
    /// NIR model name (`I`, `LI`, `CubaLI`).
    pub model: String,
    /// Number of neurons.
    pub neurons: usize,
}
