//! Host readouts: their legality on a target, and their `f64` values from
//! the populations' spikes, in the order `nmc_ir::qmodel` documents
//! ("Host readouts"): per step and element, the bias, then every
//! connection's stored entries of the element's row in storage order whose
//! source spiked `latency` steps earlier, then the filter.

use super::error::{FixedError, param_err};
use bitvec::vec::BitVec;
use nmc_ir::qmodel::{Placement, QModel, ReadoutWeights, Source};
use nmc_target::Target;
use nmc_trace::ReadoutTrace;

/// The legality of every readout of `model` on `target`: it reads spiking
/// chip populations, at the target's chip → host latency (which the target
/// must state).
pub(crate) fn check(model: &QModel, target: &Target) -> Result<(), FixedError> {
    for r in &model.readouts {
        let Some(want) = target.timing().host_output_delay_steps() else {
            return Err(param_err(
                &r.name,
                "inputs",
                format!(
                    "is a host readout, but target `{}` states no chip → host latency \
                     (`timing.host_output_delay_steps`), so it runs no host readouts",
                    target.name()
                ),
            ));
        };
        for (ci, c) in r.inputs.iter().enumerate() {
            let field = |f: &str| format!("inputs[{ci}].{f}");
            let src = match c.source {
                Source::Population(k) => model.populations.get(k),
                Source::Input(_) => None,
            };
            let Some(src) = src else {
                return Err(param_err(
                    &r.name,
                    field("source"),
                    "a host readout reads spikes of chip populations",
                ));
            };
            if src.placement != Placement::Chip || !src.compartment.spiking {
                return Err(param_err(
                    &r.name,
                    field("source"),
                    format!(
                        "reads population `{}`, which is {}; a host readout reads spikes of chip populations",
                        src.name,
                        if src.placement == Placement::Host {
                            "on the host"
                        } else {
                            "not spiking"
                        }
                    ),
                ));
            }
            if c.latency != want {
                return Err(param_err(
                    &r.name,
                    field("latency"),
                    format!(
                        "is {}, but on target `{}` chip spikes reach the host after {want} steps",
                        c.latency,
                        target.name()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Rows of one readout connection, by destination element.
#[derive(Debug)]
enum Rows {
    Dense {
        inp: usize,
        w: Vec<f64>,
    },
    Sparse {
        row_ptr: Vec<usize>,
        col: Vec<usize>,
        w: Vec<f64>,
    },
}

#[derive(Debug)]
struct ConnPlan {
    source: usize,
    latency: usize,
    rows: Rows,
}

/// One readout, resolved.
#[derive(Debug)]
pub(crate) struct ReadoutPlan {
    name: String,
    shape: Vec<usize>,
    n: usize,
    bias: Vec<f64>,
    conns: Vec<ConnPlan>,
    filter: Option<(f64, f64)>,
}

/// The plans of every readout (the model is valid: [`check`] and
/// `QModel::check` passed).
pub(crate) fn plans(model: &QModel) -> Vec<ReadoutPlan> {
    model
        .readouts
        .iter()
        .map(|r| ReadoutPlan {
            name: r.name.clone(),
            shape: r.shape.dims().to_vec(),
            n: r.shape.numel(),
            bias: r.bias.clone(),
            conns: r
                .inputs
                .iter()
                .map(|c| ConnPlan {
                    source: match c.source {
                        Source::Population(k) | Source::Input(k) => k,
                    },
                    latency: c.latency as usize,
                    rows: match &c.weights {
                        ReadoutWeights::Dense { inp, w, .. } => Rows::Dense {
                            inp: *inp,
                            w: w.clone(),
                        },
                        ReadoutWeights::Sparse { row_ptr, col, w, .. } => Rows::Sparse {
                            row_ptr: row_ptr.iter().map(|&x| x as usize).collect(),
                            col: col.iter().map(|&x| x as usize).collect(),
                            w: w.clone(),
                        },
                    },
                })
                .collect(),
            filter: r.filter.map(|f| (f.decay, f.gain)),
        })
        .collect()
}

/// The readout's values over the batch: `spikes[b][k]` holds population
/// `k`'s bits of item `b` at `t·n_k + j`, `pop_n[k]` its size.
pub(crate) fn trace(plan: &ReadoutPlan, spikes: &[&[BitVec]], pop_n: &[usize], steps: usize) -> ReadoutTrace {
    let n = plan.n;
    let mut values = vec![0.0; spikes.len() * steps * n];
    let mut state = vec![0.0; n];
    for (b, item) in spikes.iter().enumerate() {
        state.fill(0.0);
        for t in 0..steps {
            for i in 0..n {
                let mut y = plan.bias[i];
                for c in &plan.conns {
                    if t < c.latency {
                        continue;
                    }
                    let sn = pop_n[c.source];
                    let bits = &item[c.source][(t - c.latency) * sn..(t - c.latency + 1) * sn];
                    match &c.rows {
                        Rows::Dense { inp, w } => {
                            for j in 0..*inp {
                                if bits[j] {
                                    y += w[i * inp + j];
                                }
                            }
                        }
                        Rows::Sparse { row_ptr, col, w } => {
                            for e in row_ptr[i]..row_ptr[i + 1] {
                                if bits[col[e]] {
                                    y += w[e];
                                }
                            }
                        }
                    }
                }
                let v = match plan.filter {
                    Some((decay, gain)) => {
                        state[i] = decay * state[i] + gain * y;
                        state[i]
                    }
                    None => y,
                };
                values[(b * steps + t) * n + i] = v;
            }
        }
    }
    ReadoutTrace {
        name: plan.name.clone(),
        shape: plan.shape.clone(),
        values,
    }
}
