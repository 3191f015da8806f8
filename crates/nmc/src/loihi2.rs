//! The Loihi 2 path of the façade (`--target loihi2`, Lava 0.10 fixed_pt
//! semantics): emulate a deployed network in Lava's process form — the JSON
//! a Lava user describes their processes and connections with
//! (docs/loihi2.md) — on a recorded input, bit-exact with Lava's
//! `Loihi2SimCfg(select_tag="fixed_pt")`; and compile a float model (a NIR
//! graph) into such a network (`nmc compile MODEL.nir --target loihi2 -o
//! NET.json`).

use crate::Error;
use nmc_loihi2::{Chip, Input, Net, emu};
use std::path::Path;

pub use nmc_loihi2::compile::CompileReport;

/// `nmc compile MODEL --target loihi2 -o NET.json`: lowers `g` to a Lava
/// process network (`nmc_loihi2::compile`) and writes it in Lava's JSON
/// process form, which `nmc emulate NET.json --target loihi2` reads. A graph
/// the compile cannot map is [`Error::BadInput`] naming the node and field.
pub fn compile(g: &nmc_ir::Graph, chip: &Chip, out: &Path) -> Result<CompileReport, Error> {
    let (net, report) =
        nmc_loihi2::compile::compile(g, chip).map_err(|e| Error::BadInput(format!("{}: {e}", chip.name())))?;
    net.write_lava_json(out)
        .map_err(|e| Error::BadInput(format!("{}: cannot write: {e}", out.display())))?;
    Ok(report)
}

/// What `nmc emulate NET.json --target loihi2` ran.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmulateReport {
    /// The chip.
    pub target: String,
    /// The network file.
    pub network: String,
    /// Steps run.
    pub steps: usize,
    /// Per process: name, kind of output, and the sum of |s_out| over the run
    /// (spike count for LIF, total payload magnitude for graded senders).
    pub processes: Vec<(String, i64)>,
}

impl std::fmt::Display for EmulateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} (Lava 0.10 fixed_pt semantics, docs/loihi2.md): {} — {} steps",
            self.target, self.network, self.steps
        )?;
        for (name, total) in &self.processes {
            writeln!(f, "  {name:<16} Σ|s_out| = {total}")?;
        }
        Ok(())
    }
}

/// `nmc emulate NET.json --target loihi2 --input X.npy`: `X` is the data of
/// the network's one source, `(steps, channels)` (nmc's time-first order;
/// Lava's RingBuffer holds its transpose), integers; `steps` defaults to its
/// length, and a longer run repeats it as a RingBuffer does. `out` gets
/// `spikes.<proc>` and `state.<proc>.<var>` (int64, steps × neurons).
pub fn emulate(
    chip: &Chip,
    network: &Path,
    input: Option<&Path>,
    steps: Option<usize>,
    out: Option<&Path>,
) -> Result<EmulateReport, Error> {
    let net = Net::read_lava_json(chip, network).map_err(|e| Error::BadInput(e.to_string()))?;
    let (data, len) = match input {
        Some(p) => {
            let a = nmc_reference::read_array(p)?;
            let a2 = match a.ndim() {
                2 => a,
                3 if a.shape()[0] == 1 => a.index_axis_move(ndarray::Axis(0), 0),
                _ => {
                    return Err(Error::BadInput(format!(
                        "{}: a Loihi 2 source takes (steps, channels), or (1, steps, channels); the file has shape {:?}",
                        p.display(),
                        a.shape()
                    )));
                }
            };
            let a2 = a2
                .into_dimensionality::<ndarray::Ix2>()
                .map_err(|e| Error::Internal(e.to_string()))?;
            let mut data = ndarray::Array2::<i32>::zeros((a2.ncols(), a2.nrows()));
            for ((t, c), &v) in a2.indexed_iter() {
                if v.fract() != 0.0 || v.abs() > f64::from(i32::MAX) {
                    return Err(Error::BadInput(format!(
                        "{}: step {t}, channel {c}: {v} is not an int32 payload",
                        p.display()
                    )));
                }
                data[[c, t]] = v as i32;
            }
            let len = a2.nrows();
            (Some(data), len)
        }
        None => (None, 0),
    };
    let steps = steps.or((len > 0).then_some(len)).ok_or_else(|| {
        Error::Usage(format!(
            "{}: give --steps (there is no --input to take the length from)",
            network.display()
        ))
    })?;
    let input = data.map_or_else(Input::none, Input::single);
    let rec =
        emu::run(chip, &net, &input, steps).map_err(|e| Error::BadInput(format!("{}: {e}", network.display())))?;
    if let Some(p) = out {
        rec.write_npz(p).map_err(|e| Error::BadInput(e.to_string()))?;
    }
    let processes = net
        .processes()
        .iter()
        .filter_map(|pr| {
            let name = pr.name.clone();
            rec.get(&format!("{name}.s_out"))
                .map(|t| (name, t.data.iter().map(|x| x.abs()).sum()))
        })
        .collect();
    Ok(EmulateReport {
        target: chip.name().to_string(),
        network: network.display().to_string(),
        steps,
        processes,
    })
}
