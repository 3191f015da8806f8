//! Host readouts: `f64` linear maps of chip layers' spikes, computed on the
//! host after the chip's run, at the target's chip → host latency.
//!
//! The order of operations is the artifact's ("Host readouts" in
//! `nmc_artifact`): per element the bias, then every input's row entries in
//! storage order whose source spiked `latency` steps earlier, then the
//! filter. Dense inputs are applied event by event (for each spiking source
//! neuron in ascending order, its column to every element), which adds to
//! each element the same terms in the same order as a row-by-row loop.

use crate::error::EmuError;
use bitvec::vec::BitVec;
use nmc_artifact::{Artifact, LayerLoc, ReadoutWeights};
use nmc_core::{Loc, Problem};
use nmc_trace::ReadoutTrace;

/// One readout input, laid out for the step.
enum Map {
    /// Column-major `[inp][out]`: the column of source neuron `j` is
    /// `wt[j·out..(j+1)·out]`.
    Dense { wt: Vec<f64> },
    /// Rows over elements.
    Sparse {
        row_ptr: Vec<usize>,
        col: Vec<usize>,
        w: Vec<f64>,
    },
}

struct Input {
    layer: usize,
    map: Map,
}

/// A readout ready to run.
pub(crate) struct Readout {
    name: String,
    shape: Vec<usize>,
    n: usize,
    bias: Vec<f64>,
    inputs: Vec<Input>,
    filter: Option<(f64, f64)>,
}

/// The readouts of `a` (already structurally checked by `Artifact::check`):
/// each must read spiking chip layers (`spiking[l]`), and the target must
/// state its chip → host latency when there is any.
pub(crate) fn build(a: &Artifact, spiking: &[bool], latency: Option<u32>) -> Result<(Vec<Readout>, usize), EmuError> {
    if a.readouts.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let Some(latency) = latency else {
        return Err(EmuError::Target(Problem::new(
            Loc::Whole,
            "target_ron",
            format!(
                "the artifact has {} host readouts but its target states no chip → host latency \
                 (timing.host_output_delay_steps)",
                a.readouts.len()
            ),
        )));
    };
    let mut out = Vec::with_capacity(a.readouts.len());
    for (ri, r) in a.readouts.iter().enumerate() {
        let mut inputs = Vec::with_capacity(r.inputs.len());
        for inp in &r.inputs {
            let l = inp.layer as usize;
            let chip = matches!(a.layers.get(l).map(|x| &x.loc), Some(LayerLoc::Chip(_)));
            if !chip || !spiking.get(l).copied().unwrap_or(false) {
                return Err(EmuError::Invalid(Problem::new(
                    Loc::Readout(ri),
                    "inputs",
                    format!(
                        "readout `{}` reads layer {l}, which is not a spiking chip layer",
                        r.name
                    ),
                )));
            }
            let map = match &inp.weights {
                ReadoutWeights::Dense { out, inp, w } => {
                    let mut wt = vec![0.0; w.len()];
                    for i in 0..*out {
                        for j in 0..*inp {
                            wt[j * out + i] = w[i * inp + j];
                        }
                    }
                    Map::Dense { wt }
                }
                ReadoutWeights::Sparse { row_ptr, col, w, .. } => Map::Sparse {
                    row_ptr: row_ptr.iter().map(|&p| p as usize).collect(),
                    col: col.iter().map(|&c| c as usize).collect(),
                    w: w.clone(),
                },
            };
            inputs.push(Input { layer: l, map });
        }
        out.push(Readout {
            name: r.name.clone(),
            shape: r.shape.clone(),
            n: r.shape.iter().product(),
            bias: r.bias.clone(),
            inputs,
            filter: r.filter.map(|f| (f.decay, f.gain)),
        });
    }
    Ok((out, latency as usize))
}

/// The readout's values over the batch from the layers' spike bits
/// (`bits[l]` at `(b·steps + t)·n_l + j`, `sizes[l]` = `n_l`).
pub(crate) fn run(
    r: &Readout,
    latency: usize,
    bits: &[BitVec],
    sizes: &[usize],
    batch: usize,
    steps: usize,
) -> ReadoutTrace {
    let n = r.n;
    let mut values = vec![0.0; batch * steps * n];
    let mut state = vec![0.0; n];
    let mut y = vec![0.0; n];
    for b in 0..batch {
        state.fill(0.0);
        for t in 0..steps {
            y.copy_from_slice(&r.bias);
            if t >= latency {
                let s = t - latency;
                for inp in &r.inputs {
                    let m = sizes[inp.layer];
                    let base = (b * steps + s) * m;
                    let src = &bits[inp.layer][base..base + m];
                    match &inp.map {
                        Map::Dense { wt } => {
                            for j in src.iter_ones() {
                                for (yi, &w) in y.iter_mut().zip(&wt[j * n..(j + 1) * n]) {
                                    *yi += w;
                                }
                            }
                        }
                        Map::Sparse { row_ptr, col, w } => {
                            for (i, yi) in y.iter_mut().enumerate() {
                                for e in row_ptr[i]..row_ptr[i + 1] {
                                    if src[col[e]] {
                                        *yi += w[e];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let row = &mut values[(b * steps + t) * n..(b * steps + t + 1) * n];
            match r.filter {
                Some((decay, gain)) => {
                    for ((f, &yi), v) in state.iter_mut().zip(&y).zip(row.iter_mut()) {
                        *f = decay * *f + gain * yi;
                        *v = *f;
                    }
                }
                None => row.copy_from_slice(&y),
            }
        }
    }
    ReadoutTrace {
        name: r.name.clone(),
        shape: r.shape.clone(),
        values,
    }
}
