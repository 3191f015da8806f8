//! The Xylo path of the façade (`--target xylo-audio2|xylo-imu`): compile a
//! float graph to a configuration `.npz` (rockpool's specification form),
//! and emulate a configuration — nmc's or one a rockpool user already has —
//! on input events, bit-exact with XyloSim (docs/xylo.md).

use crate::Error;
use ndarray::{Array2, ArrayD, Axis};
use nmc_ir::Graph;
use nmc_xylo::npz::NpyArray;
use nmc_xylo::{Chip, Config, emu};
use std::path::Path;

/// `nmc compile MODEL --target xylo-*`: the configuration written to `out`
/// and the compile report.
pub fn compile(g: &Graph, chip: &Chip, out: &Path) -> Result<nmc_xylo::quant::QuantReport, Error> {
    let (cfg, report) = compile_in_memory(g, chip)?;
    cfg.write_npz(out).map_err(|e| Error::BadInput(e.to_string()))?;
    Ok(report)
}

/// `nmc partition MODEL --target xylo-*`: how the network fills the chip
/// (the compile report; nothing written). A network that does not fit is
/// [`Error::DoesNotFit`] naming the node and the limit.
pub fn partition(g: &Graph, chip: &Chip) -> Result<nmc_xylo::quant::QuantReport, Error> {
    Ok(compile_in_memory(g, chip)?.1)
}

fn compile_in_memory(g: &Graph, chip: &Chip) -> Result<(Config, nmc_xylo::quant::QuantReport), Error> {
    nmc_xylo::quant::compile(g, chip).map_err(|e| {
        let fit = matches!(
            e.field.as_str(),
            "hidden" | "neurons" | "shape" | "fit" | "outputs" | "inputs"
        );
        let msg = format!("{}: {e}", chip.name);
        if fit {
            Error::DoesNotFit(msg)
        } else {
            Error::BadInput(msg)
        }
    })
}

/// What `nmc emulate SPEC.npz --target xylo-*` ran.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmulateReport {
    /// The chip.
    pub target: String,
    /// The configuration file.
    pub config: String,
    /// Samples.
    pub batch: usize,
    /// Steps per sample.
    pub steps: usize,
    /// Hidden neurons / output neurons of the configuration.
    pub neurons: (usize, usize),
    /// Hidden spikes in all (counts), and the largest count of one neuron in one step.
    pub hidden_spikes: u64,
    /// See `hidden_spikes`.
    pub hidden_max_per_step: u8,
    /// Output spikes in all.
    pub output_spikes: u64,
    /// Per sample, the output neuron with the most spikes (first on ties).
    pub argmax: Vec<usize>,
}

impl std::fmt::Display for EmulateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} (bit-exact with XyloSim, docs/xylo.md): {} — {} samples × {} steps, {} hidden / {} output neurons",
            self.target, self.config, self.batch, self.steps, self.neurons.0, self.neurons.1
        )?;
        writeln!(
            f,
            "hidden spikes {} (at most {} per neuron and step; the chip caps 31), output spikes {}",
            self.hidden_spikes, self.hidden_max_per_step, self.output_spikes
        )?;
        let shown: Vec<String> = self.argmax.iter().take(16).map(|a| a.to_string()).collect();
        writeln!(
            f,
            "output: argmax of spike counts, first {}: [{}]",
            shown.len(),
            shown.join(", ")
        )
    }
}

/// The input events of one sample as the emulator takes them, or an error
/// naming the file, sample, step and channel.
fn counts(x: ndarray::ArrayView2<'_, f64>, path: &Path, b: usize) -> Result<Array2<u32>, Error> {
    let mut out = Array2::zeros(x.dim());
    for ((t, c), &v) in x.indexed_iter() {
        if !(v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)) {
            return Err(Error::BadInput(format!(
                "{}: sample {b}, step {t}, channel {c}: {v} is not an event count (a non-negative integer)",
                path.display()
            )));
        }
        out[[t, c]] = v as u32;
    }
    Ok(out)
}

/// `nmc emulate SPEC.npz --target xylo-*`: every sample of `input`
/// (`(batch, steps, channels)` or `(steps, channels)` event counts, dense or
/// an events list), `steps` repeating its time axis; `out` gets
/// `spikes.hidden`, `spikes.output` (`(batch, steps, n)` uint8) and with
/// `record_state` every register, `state.<layer>.<register>`.
pub fn emulate(
    chip: &Chip,
    spec: &Path,
    input: &Path,
    steps: Option<usize>,
    out: Option<&Path>,
    record_state: bool,
) -> Result<EmulateReport, Error> {
    let cfg = Config::read_npz(spec).map_err(|e| Error::BadInput(e.to_string()))?;
    cfg.check(chip)
        .map_err(|e| Error::BadInput(format!("{}: {e}", chip.name)))?;
    let shape = nmc_ir::Shape::new(vec![cfg.inputs()]);
    let arr = nmc_reference::read_input(input, &shape)?;
    let stim = nmc_reference::Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let steps = steps.unwrap_or(stim.steps());
    let recording = if record_state {
        emu::Recording::States
    } else {
        emu::Recording::Spikes
    };
    let mut e = emu::Emulator::new(chip, &cfg).map_err(|e| Error::BadInput(e.to_string()))?;
    let mut arrays: Vec<(String, Vec<NpyArray>)> = Vec::new();
    let (mut hidden_spikes, mut hidden_max, mut output_spikes, mut argmax) = (0u64, 0u8, 0u64, Vec::new());
    for b in 0..stim.batch() {
        let sample = stim.values().index_axis(Axis(0), b);
        let t_in = sample.dim().0;
        let tiled = ndarray::Array2::from_shape_fn((steps, cfg.inputs()), |(t, c)| sample[[t % t_in, c]]);
        let ev = counts(tiled.view(), input, b)?;
        e.reset();
        let rec = e
            .run(ev.view(), recording)
            .map_err(|e| Error::BadInput(format!("{}: {e}", input.display())))?;
        hidden_spikes += rec.spikes_hidden.iter().map(|&c| u64::from(c)).sum::<u64>();
        hidden_max = hidden_max.max(rec.spikes_hidden.iter().copied().max().unwrap_or(0));
        output_spikes += rec.spikes_output.iter().map(|&c| u64::from(c)).sum::<u64>();
        let per: Vec<u64> = rec
            .spikes_output
            .axis_iter(Axis(1))
            .map(|col| col.iter().map(|&c| u64::from(c)).sum())
            .collect();
        argmax.push(
            per.iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(i, _)| i),
        );
        if out.is_some() {
            for (k, (name, a)) in rec.arrays().into_iter().enumerate() {
                if arrays.len() <= k {
                    arrays.push((name, Vec::new()));
                }
                arrays[k].1.push(a);
            }
        }
    }
    if let Some(p) = out {
        let stacked: Vec<(String, NpyArray)> = arrays
            .into_iter()
            .map(|(name, parts)| stack(parts).map(|a| (name, a)))
            .collect::<Result<_, _>>()?;
        nmc_xylo::npz::write_npz(p, &stacked).map_err(|e| Error::BadInput(e.to_string()))?;
    }
    Ok(EmulateReport {
        target: chip.name.clone(),
        config: spec.display().to_string(),
        batch: stim.batch(),
        steps,
        neurons: (cfg.hidden(), cfg.outputs()),
        hidden_spikes,
        hidden_max_per_step: hidden_max,
        output_spikes,
        argmax,
    })
}

/// The samples' arrays of one name stacked along a new batch axis.
fn stack(parts: Vec<NpyArray>) -> Result<NpyArray, Error> {
    fn st<T: Clone>(v: Vec<ArrayD<T>>) -> Result<ArrayD<T>, Error> {
        let views: Vec<_> = v.iter().map(|a| a.view()).collect();
        ndarray::stack(Axis(0), &views).map_err(|e| Error::Internal(format!("xylo record: {e}")))
    }
    let mut u8s = Vec::new();
    let mut i16s = Vec::new();
    let mut i64s = Vec::new();
    for p in parts {
        match p {
            NpyArray::U8(a) => u8s.push(a),
            NpyArray::I16(a) => i16s.push(a),
            NpyArray::I64(a) => i64s.push(a),
        }
    }
    Ok(if !u8s.is_empty() {
        NpyArray::U8(st(u8s)?)
    } else if !i16s.is_empty() {
        NpyArray::I16(st(i16s)?)
    } else {
        NpyArray::I64(st(i64s)?)
    })
}
