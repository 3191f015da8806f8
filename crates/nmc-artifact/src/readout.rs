//! Host readouts: their types and their structural check.

use crate::{Artifact, LayerLoc, shape_len};
use nmc_core::{Loc, Problem};
use serde::{Deserialize, Serialize};

/// A non-spiking linear readout the host computes in `f64` from chip
/// layers' spikes (module documentation, "Host readouts").
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct HostReadout {
    /// Readout name (the float graph node).
    pub name: String,
    /// The graph output it feeds.
    pub output: String,
    /// Per-step shape.
    pub shape: Vec<usize>,
    /// Its inputs: chip layers' spikes through float weights.
    pub inputs: Vec<ReadoutInput>,
    /// Bias per element.
    pub bias: Vec<f64>,
    /// The lowpass filter, when there is one.
    pub filter: Option<ReadoutFilter>,
}

/// One input of a host readout.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ReadoutInput {
    /// Index into [`Artifact::layers`]: a chip layer.
    pub layer: u32,
    /// The weights, rows over readout elements.
    pub weights: ReadoutWeights,
}

/// Float weights of a readout input (the quantized model's layouts).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum ReadoutWeights {
    /// `[out, in]` row-major.
    Dense {
        /// Elements.
        out: usize,
        /// Source neurons.
        inp: usize,
        /// Weights.
        w: Vec<f64>,
    },
    /// Compressed sparse rows over elements.
    Sparse {
        /// Elements.
        out: usize,
        /// Source neurons.
        inp: usize,
        /// `out + 1` row pointers.
        row_ptr: Vec<u32>,
        /// Source neuron of each entry.
        col: Vec<u32>,
        /// Weight of each entry.
        w: Vec<f64>,
    },
}

/// A readout's lowpass: `f = decay·f + gain·y` per step.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct ReadoutFilter {
    /// Time constant, s (for reports).
    pub tau: f64,
    /// Decay per step.
    pub decay: f64,
    /// Input gain per step.
    pub gain: f64,
}

impl Artifact {
    /// Readout `ri`: its shape and bias, its inputs' chip layers, weight
    /// dimensions and sparse rows, and finite numbers everywhere.
    pub(crate) fn check_readout(&self, ri: usize, r: &HostReadout) -> Result<(), Problem> {
        let at = |field, m: String| {
            Err(Problem::new(
                Loc::Readout(ri),
                field,
                format!("readout `{}`: {m}", r.name),
            ))
        };
        let Some(n) = shape_len(&r.shape) else {
            return at("shape", format!("{:?} overflows usize", r.shape));
        };
        if r.bias.len() != n {
            return at("bias", format!("{} values for {n} elements", r.bias.len()));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(&r.bias) {
            return at("bias", "holds a value that is not a finite number".into());
        }
        if let Some(f) = r.filter
            && !finite(&[f.tau, f.decay, f.gain])
        {
            return at("filter", "holds a value that is not a finite number".into());
        }
        for (k, inp) in r.inputs.iter().enumerate() {
            let Some(l) = self.layers.get(inp.layer as usize) else {
                return at("inputs", format!("input {k} reads layer {} out of range", inp.layer));
            };
            let LayerLoc::Chip(locs) = &l.loc else {
                return at(
                    "inputs",
                    format!("input {k} reads layer `{}`, which is on the host, not on chip", l.name),
                );
            };
            let ok = match &inp.weights {
                ReadoutWeights::Dense { out, inp: i, w } => {
                    *out == n && *i == locs.len() && out.checked_mul(*i) == Some(w.len()) && finite(w)
                }
                ReadoutWeights::Sparse {
                    out,
                    inp: i,
                    row_ptr,
                    col,
                    w,
                } => {
                    *out == n
                        && *i == locs.len()
                        && row_ptr.len() == out + 1
                        && row_ptr.first() == Some(&0)
                        && row_ptr.windows(2).all(|p| p[0] <= p[1])
                        && row_ptr.last().map(|&p| p as usize) == Some(col.len())
                        && col.len() == w.len()
                        && col.iter().all(|&c| (c as usize) < *i)
                        && finite(w)
                }
            };
            if !ok {
                return at(
                    "inputs",
                    format!(
                        "input {k}: weights do not map layer `{}` ({} neurons) to {n} elements (or hold a \
                         non-finite value)",
                        l.name,
                        locs.len()
                    ),
                );
            }
        }
        Ok(())
    }
}
