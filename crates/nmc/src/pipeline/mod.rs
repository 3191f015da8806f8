//! The pipeline: load any model file, quantize, partition + emit (compile),
//! emulate, and verify (the three executions and their two comparisons).
//!
//! This module holds loading and compiling and the helpers the stages share;
//! the stages live in submodules, their items re-exported here.

mod convert;
mod emulate;
mod exact;
mod fixed;
mod golden;
mod host;
mod quantized;
mod verify;

pub use convert::conversion_accuracy;
pub use emulate::{EMULATE_CHUNK, EmulateOptions, emulate_file};
pub use exact::{ExactCheck, VoltageMismatch, run_a_and_b, run_a_and_b_with};
pub use fixed::simulate_fixed_file;
pub use golden::{check_golden, sample_spikes, stimulus_crc};
pub use host::{check_spike_file, host_shape};
pub use quantized::{QuantVerifyReport, verify_quantized};
pub use verify::{OutputAgreement, VerifyOptions, VerifyOutcome, VerifyReport, verify, verify_host_spikes};

use crate::Error;
use crate::compare::Spikes;
use nmc_artifact::Artifact;
use nmc_emu::InputData;
use nmc_ir::Graph;
use nmc_ir::qmodel::{QModel, Source};
use nmc_partition::{PartitionOptions, PartitionReport, Placement};
use nmc_quant::{QuantOptions, QuantReport};
use nmc_reference::{SimOptions, Stimulus};
use nmc_target::Target;
use std::path::Path;

/// A model file of any stage.
#[derive(Debug)]
pub enum AnyModel {
    /// A float network (`.nir`).
    Float(Box<Graph>),
    /// A quantized model (`.q.ron` / `.ron`).
    Quant(Box<QModel>),
    /// A compiled artifact (`.nmca`).
    Artifact(Box<Artifact>),
}

/// Loads a model by extension: `.nir` (float), `.ron` (quantized model),
/// `.nmca` (artifact).
pub fn load_any(path: &Path, opts: &crate::LoadOptions) -> Result<AnyModel, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "ron" => Ok(AnyModel::Quant(Box::new(nmc_quant::read_qmodel(path)?))),
        "nmca" => Ok(AnyModel::Artifact(Box::new(Artifact::read(path)?))),
        _ => Ok(AnyModel::Float(Box::new(crate::load_model(path, opts)?))),
    }
}

/// Everything `compile` produces.
#[derive(Debug)]
pub struct Compiled {
    /// The quantized model.
    pub qmodel: QModel,
    /// Its quantization report (absent when the input was already quantized).
    pub quant_report: Option<QuantReport>,
    /// Where everything goes.
    pub placement: Placement,
    /// The partition report.
    pub partition_report: PartitionReport,
    /// The deployable artifact.
    pub artifact: Artifact,
}

/// Quantizes a float graph for `target`.
pub fn quantize(g: &Graph, target: &Target, opts: &QuantOptions) -> Result<(QModel, QuantReport), Error> {
    Ok(nmc_quant::quantize(g, target, opts)?)
}

/// Partitions and emits a quantized model. The model is first checked by the
/// fixed reference's validator (`nmc_reference::validate`): `compile`
/// accepts exactly the integers the fixed reference runs.
pub fn compile_quantized(q: QModel, target: &Target, popts: &PartitionOptions) -> Result<Compiled, Error> {
    nmc_reference::validate(&q, target)?;
    let (placement, partition_report) = nmc_partition::partition(&q, target, popts)?;
    let artifact = nmc_partition::emit(&q, &placement, target)?;
    nmc_partition::verify_artifact(&artifact, target).map_err(nmc_partition::PartitionError::from)?;
    Ok(Compiled {
        qmodel: q,
        quant_report: None,
        placement,
        partition_report,
        artifact,
    })
}

/// Quantizes, partitions and emits a float graph.
pub fn compile(g: &Graph, target: &Target, qopts: &QuantOptions, popts: &PartitionOptions) -> Result<Compiled, Error> {
    let (q, qr) = quantize(g, target, qopts)?;
    let mut c = compile_quantized(q, target, popts)?;
    c.quant_report = Some(qr);
    // The integers carry no conventions; the float model's are reported.
    c.partition_report.conventions = Some(g.conventions().to_string());
    Ok(c)
}

/// The stimulus as the emulator takes it.
pub fn emu_input(stim: &Stimulus) -> InputData {
    let v = stim.values();
    let (batch, steps, features) = v.dim();
    InputData {
        batch,
        steps,
        features,
        data: v.iter().copied().collect(),
    }
}

/// Per population of `q`, the steps by which its chip spikes lag the float
/// reference: along forward connections the sum of the connections'
/// latencies (the float graph delivers forward spikes in the same step).
/// Recurrent connections (from a population later in order) are skipped.
pub fn lags(q: &QModel) -> Vec<usize> {
    let mut lag = vec![0usize; q.populations.len()];
    for (p, pop) in q.populations.iter().enumerate() {
        let best = pop
            .inputs
            .iter()
            .filter_map(|c| match c.source {
                Source::Input(_) => Some(c.latency as usize),
                Source::Population(s) if s < p => Some(lag[s] + c.latency as usize),
                Source::Population(_) => None,
            })
            .min();
        lag[p] = best.unwrap_or(0);
    }
    lag
}

/// Per host readout of `q`, the steps by which its deployed values lag the
/// float reference: its source's lag plus the chip → host latency (the
/// smallest over its connections), given the populations' `lags`.
pub fn host_readout_lags(q: &QModel, lags: &[usize]) -> Vec<usize> {
    q.readouts
        .iter()
        .map(|r| {
            r.inputs
                .iter()
                .filter_map(|c| match c.source {
                    Source::Population(k) => lags.get(k).map(|l| l + c.latency as usize),
                    Source::Input(_) => None,
                })
                .min()
                .unwrap_or(0)
        })
        .collect()
}

fn spikes_of<'a>(name: &'a str, n: usize, batch: usize, steps: usize, bits: &'a bitvec::vec::BitVec) -> Spikes<'a> {
    Spikes {
        name,
        n,
        batch,
        steps,
        bits,
    }
}

/// Per population of `q` (by name), per neuron, the float reference's
/// firing rate in Hz averaged over the batch (0 for populations the float
/// reference does not record as spiking).
fn population_rates(res: &nmc_reference::SimResult, q: &QModel) -> Vec<Vec<f64>> {
    let secs = res.steps as f64 * res.dt;
    q.populations
        .iter()
        .map(|p| {
            let mut r = vec![0.0; p.shape.numel()];
            if let Some(l) = res.layer(&p.name) {
                for b in 0..l.batch {
                    for (i, c) in l.counts_of(b).iter().enumerate().take(r.len()) {
                        r[i] += *c as f64 / secs / l.batch as f64;
                    }
                }
            }
            r
        })
        .collect()
}

/// Reads an input array for graph `g` (and labels checked against its batch).
pub fn read_stimulus(g: &Graph, input: &Path, labels: Option<&Path>) -> Result<(Stimulus, Option<Vec<usize>>), Error> {
    let shape = g
        .input_nodes()
        .first()
        .map(|&i| g.node(i).out.shape.clone())
        .unwrap_or_default();
    let arr = nmc_reference::read_input(input, &shape)?;
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let labels = match labels {
        Some(p) => Some(crate::simulate::read_labels(p, stim.batch())?),
        None => None,
    };
    Ok((stim, labels))
}

/// Firing rates (Hz, per population of `q`, per neuron, mean over the
/// batch) of the float reference of `g` on an input file, for partitioning.
pub fn float_rates(g: &Graph, q: &QModel, input: &Path, steps: Option<usize>) -> Result<Vec<Vec<f64>>, Error> {
    let (stim, _) = read_stimulus(g, input, None)?;
    let res = nmc_reference::simulate(g, &stim, &SimOptions { steps })?;
    Ok(population_rates(&res, q))
}
