//! The pipeline: load any model file, quantize, partition + emit (compile),
//! emulate, and verify (the three executions and their two comparisons).

use crate::Error;
use crate::compare::{LayerFidelity, Mismatch, Spikes, argmax_u32, first_mismatch, layer_fidelity};
use crate::html::{OutputTraces, VerifyPage};
use crate::spikefile::{GoldenCheck, GoldenComparer, SampleSpikes, SpikeHeader, SpikeWriter, input_crc};
use nmc_artifact::Artifact;
use nmc_emu::{EmuError, EmuResult, Emulator, InputData, RunOptions};
use nmc_ir::Graph;
use nmc_ir::qmodel::{QModel, Source};
use nmc_partition::{PartitionOptions, PartitionReport, Placement};
use nmc_quant::{QuantOptions, QuantReport};
use nmc_reference::{FixedOptions, SimOptions, Stimulus};
use nmc_target::Target;
use serde::Serialize;
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

/// Options of `verify`.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Quantization options (scale_firing_rates is applied to the float
    /// reference too, so both sides are the same network).
    pub quant: QuantOptions,
    /// Presentation time in steps (default: the input's time axis).
    pub steps: Option<usize>,
    /// Labels, one class per batch item.
    pub labels: Option<Vec<usize>>,
    /// Strict overflow mode: any wrap or clip in the fixed reference or the
    /// emulator is an error.
    pub strict: bool,
    /// Compare the emulated spikes with this golden spike file (or write it,
    /// with `bless`).
    pub expect: Option<std::path::PathBuf>,
    /// Write `expect` instead of comparing.
    pub bless: bool,
}

/// The A = B check.
#[derive(Debug, Clone, Serialize)]
pub struct ExactCheck {
    /// True when every spike of every layer agrees.
    pub equal: bool,
    /// Layers compared.
    pub layers: usize,
    /// (item, step, neuron) bits compared.
    pub bits: u64,
    /// The first mismatch, if any.
    pub mismatch: Option<Mismatch>,
    /// Whether both executions count the same wraps and clips per layer.
    pub overflow_counts_equal: bool,
    /// States of the mismatching neuron at the mismatch step: (q, u, v) of
    /// A and of B.
    pub state_a: Option<(i64, i64, i64)>,
    /// See `state_a`.
    pub state_b: Option<(i64, i64, i64)>,
    /// Integer voltages of non-spiking (read-out) populations compared
    /// (item × step × neuron values).
    pub voltages: u64,
    /// The first read-out voltage that differs, if any.
    pub voltage_mismatch: Option<VoltageMismatch>,
}

/// The first read-out voltage on which the fixed reference and the emulator
/// disagree (or a read-out population recorded by only one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoltageMismatch {
    /// Population name.
    pub layer: String,
    /// Batch item.
    pub batch_item: usize,
    /// Step.
    pub step: usize,
    /// Neuron index (row-major over the population shape).
    pub neuron: usize,
    /// The fixed reference's voltage (`None`: it recorded none).
    pub a: Option<i64>,
    /// The emulator's voltage (`None`: it recorded none).
    pub b: Option<i64>,
    /// Voltages that differ over all read-out populations.
    pub differing: u64,
}

/// Compares the recorded voltages of every non-spiking population: A = B
/// covers them as it covers spike bits. Returns (values compared, the
/// earliest difference in step order).
fn compare_voltages(fixed: &nmc_reference::FixedResult, em: &EmuResult) -> (u64, Option<VoltageMismatch>) {
    let (batch, steps) = (fixed.batch, fixed.steps);
    let mut compared = 0u64;
    let mut differing = 0u64;
    let mut first: Option<VoltageMismatch> = None;
    let note = |m: VoltageMismatch, first: &mut Option<VoltageMismatch>| {
        if first.as_ref().is_none_or(|f| m.step < f.step) {
            *first = Some(m);
        }
    };
    let names: Vec<&str> = fixed
        .layers
        .iter()
        .filter(|l| l.voltages.is_some())
        .map(|l| l.name.as_str())
        .chain(em.voltages.iter().map(|v| v.name.as_str()))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            continue;
        }
        let a = fixed.layer(name).and_then(|l| l.voltages.as_deref());
        let b = em.voltages.iter().find(|v| v.name == name).map(|v| v.v.as_slice());
        let n = fixed.layer(name).map_or(0, |l| l.neurons());
        match (a, b) {
            (Some(a), Some(b)) if a.len() == b.len() => {
                compared += a.len() as u64;
                if let Some(k) = a.iter().zip(b).position(|(x, y)| x != y) {
                    differing += a.iter().zip(b).filter(|(x, y)| x != y).count() as u64;
                    let n = n.max(1);
                    let (bt, i) = (k / n, k % n);
                    note(
                        VoltageMismatch {
                            layer: name.to_string(),
                            batch_item: bt / steps.max(1),
                            step: bt % steps.max(1),
                            neuron: i,
                            a: Some(a[k]),
                            b: Some(b[k]),
                            differing: 0,
                        },
                        &mut first,
                    );
                }
            }
            (a, b) => {
                // Recorded by one side only, or of different lengths.
                differing += (batch * steps * n.max(1)) as u64;
                note(
                    VoltageMismatch {
                        layer: name.to_string(),
                        batch_item: 0,
                        step: 0,
                        neuron: 0,
                        a: a.and_then(|v| v.first().copied()),
                        b: b.and_then(|v| v.first().copied()),
                        differing: 0,
                    },
                    &mut first,
                );
            }
        }
    }
    (
        compared,
        first.map(|mut m| {
            m.differing = differing;
            m
        }),
    )
}

impl std::fmt::Display for ExactCheck {
    /// The A = B lines of the verify reports: overflow-count agreement, then
    /// identical or the first difference with both executions' states.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.overflow_counts_equal {
            writeln!(
                f,
                "A ≠ B: the fixed reference and the emulator count different overflows"
            )?;
        }
        if let Some(v) = &self.voltage_mismatch {
            let show = |x: Option<i64>| x.map_or_else(|| "not recorded".to_string(), |x| x.to_string());
            writeln!(
                f,
                "A ≠ B: read-out voltages differ: first in layer `{}`, neuron {}, step {}, sample {}: reference {} / \
                 emulator {}; {} voltages differ",
                v.layer,
                v.neuron,
                v.step,
                v.batch_item,
                show(v.a),
                show(v.b),
                v.differing
            )?;
        }
        match &self.mismatch {
            None if self.voltage_mismatch.is_some() => writeln!(
                f,
                "spikes: fixed-point reference and emulated artifact identical ({} layers, {} spike bits)",
                self.layers, self.bits
            )?,
            None if self.voltages > 0 => writeln!(
                f,
                "A = B: fixed-point reference and emulated artifact identical ({} layers, {} spike bits, {} read-out \
                 voltages)",
                self.layers, self.bits, self.voltages
            )?,
            None => writeln!(
                f,
                "A = B: fixed-point reference and emulated artifact identical ({} layers, {} spike bits)",
                self.layers, self.bits
            )?,
            Some(m) => writeln!(
                f,
                "A ≠ B: first difference in layer `{}`, neuron {}, step {}, sample {}: reference {} / emulator {} (state q,u,v A {:?} B {:?}); {} bits differ",
                m.layer,
                m.neuron,
                m.step,
                m.batch_item,
                if m.a_spiked { "spiked" } else { "silent" },
                if m.b_spiked { "spiked" } else { "silent" },
                self.state_a,
                self.state_b,
                m.differing_bits
            )?,
        }
        Ok(())
    }
}

/// Output agreement between deployed and float.
#[derive(Debug, Clone, Serialize)]
pub struct OutputAgreement {
    /// Output layer name.
    pub layer: String,
    /// Fraction of items whose top-1 class (argmax of spike counts) agrees.
    pub top1_agreement: f64,
    /// Float accuracy against labels.
    pub float_accuracy: Option<f64>,
    /// Deployed accuracy against labels.
    pub deployed_accuracy: Option<f64>,
    /// Earliest (aligned) step at which some item's output spikes differ.
    pub first_divergent_step: Option<usize>,
    /// Items whose output spike trains differ at any step.
    pub items_diverging: usize,
}

/// The `nmc verify` report (JSON schema `nmc.verify/1`).
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Schema id.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Batch size.
    pub batch: usize,
    /// Presentation time (float reference steps).
    pub steps: usize,
    /// Steps the deployed executions ran (presentation + the largest lag).
    pub deployed_steps: usize,
    /// Time step, s.
    pub dt: f64,
    /// scale_firing_rates applied to both sides.
    pub scale_firing_rates: f64,
    /// Cores and chips used.
    pub cores: usize,
    /// Chips used.
    pub chips: usize,
    /// Host (encoder) layers.
    pub host_layers: Vec<String>,
    /// The host layer did not run: recorded spikes (`--input-spikes`) were
    /// fed in its place, and the float reference starts after it.
    pub host_spikes_given: bool,
    /// A = B.
    pub exact: ExactCheck,
    /// Per layer, deployed vs float.
    pub layers: Vec<LayerFidelity>,
    /// Output agreement.
    pub output: Option<OutputAgreement>,
    /// Wraps and clips per layer (emulator; the fixed reference counts the
    /// same, or `exact` fails), layers with none left out.
    pub overflows: Vec<nmc_emu::LayerOverflow>,
    /// The comparison with a golden spike file (`--expect`).
    pub golden: Option<GoldenCheck>,
    /// Layers of the float reference that never fired or fired on every step,
    /// with their likely causes (as `nmc simulate` reports them).
    pub warnings: Vec<String>,
}

/// What `verify` returns: the report, the HTML page, the compiled stages.
pub struct VerifyOutcome {
    /// The report.
    pub report: VerifyReport,
    /// The HTML page.
    pub page: VerifyPage,
    /// Compiled stages.
    pub compiled: Compiled,
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

/// Runs the three executions of a float graph on `stim` and compares them.
pub fn verify(g: &Graph, target: &Target, stim: &Stimulus, opts: &VerifyOptions) -> Result<VerifyOutcome, Error> {
    let gf = verify_graph(g, opts)?;
    let (q, qr) = verify_quantize(&gf, target, opts)?;
    verify_inner(&gf, q, qr, target, stim, opts, false)
}

/// [`verify`] with recorded spikes of the host layer in place of the real
/// input (`--input-spikes`, `(batch, steps, *host shape)` of 0/1): the float
/// reference runs the network downstream of the host layer
/// ([`Graph::with_input_at`]) on them, the fixed reference and the emulator
/// feed them to the chip after the target's host latency. Returns the spikes'
/// batch size too (for labels).
pub fn verify_host_spikes(
    g: &Graph,
    target: &Target,
    spikes: &Path,
    labels: Option<&Path>,
    opts: &VerifyOptions,
) -> Result<VerifyOutcome, Error> {
    let gf = verify_graph(g, opts)?;
    let (q, qr) = verify_quantize(&gf, target, opts)?;
    let shape = host_shape(&q, spikes)?;
    let host = q
        .populations
        .iter()
        .find(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let cut = gf
        .with_input_at(&host)
        .map_err(|m| Error::Usage(format!("--input-spikes {}: {m}", spikes.display())))?;
    let arr = nmc_reference::read_array(spikes)?;
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(spikes))?;
    check_spikes(stim.values().iter(), spikes)?;
    let mut opts = opts.clone();
    if let Some(p) = labels {
        opts.labels = Some(crate::simulate::read_labels(p, stim.batch())?);
    }
    verify_inner(&cut, q, qr, target, &stim, &opts, true)
}

/// The float network `verify` compares against: the on/off encoder and
/// `scale_firing_rates` applied, so both sides are one network.
fn verify_graph<'g>(g: &'g Graph, opts: &VerifyOptions) -> Result<std::borrow::Cow<'g, Graph>, Error> {
    let mut gf = std::borrow::Cow::Borrowed(g);
    if opts.quant.encoder == nmc_quant::EncoderMode::OnOff {
        gf = std::borrow::Cow::Owned(nmc_quant::insert_onoff_encoder(&gf)?);
    }
    let sfr = opts.quant.scale_firing_rates;
    if sfr != 1.0 {
        gf = std::borrow::Cow::Owned(nmc_quant::apply_scale_firing_rates(&gf, sfr)?);
    }
    Ok(gf)
}

/// Quantizes the `verify` network (already scaled and encoded: do not do either twice).
fn verify_quantize(gf: &Graph, target: &Target, opts: &VerifyOptions) -> Result<(QModel, QuantReport), Error> {
    let mut qopts = opts.quant.clone();
    qopts.scale_firing_rates = 1.0;
    if qopts.encoder == nmc_quant::EncoderMode::OnOff {
        qopts.encoder = nmc_quant::EncoderMode::Auto;
    }
    quantize(gf, target, &qopts)
}

/// Float reference of `gf` on `stim`, compile of `q`, A and B, and the report.
fn verify_inner(
    gf: &Graph,
    q: QModel,
    qr: QuantReport,
    target: &Target,
    stim: &Stimulus,
    opts: &VerifyOptions,
    host_spikes: bool,
) -> Result<VerifyOutcome, Error> {
    let steps = opts.steps.unwrap_or(stim.steps());
    // Float, fixed and emulated spikes (one bit per neuron and step each, a few more
    // steps for the deployed runs), the emulator's per-step bookkeeping, output traces.
    crate::budget::check(
        "`nmc verify`: float, fixed-point and emulated spikes",
        stim.batch(),
        steps.saturating_add(16),
        3.0 * gf.neuron_count() as f64 / 8.0 + 8.0 + 8.0 * crate::simulate::output_features(gf) as f64,
    )?;
    // 1. Float reference.
    let float = nmc_reference::simulate(gf, stim, &SimOptions { steps: Some(steps) })?;
    // 2. Partition with the float rates.
    let secs = steps as f64 * float.dt;
    let rates = population_rates(&float, &q);
    let mut compiled = compile_quantized(
        q,
        target,
        &PartitionOptions {
            rates: Some(rates),
            ..Default::default()
        },
    )?;
    compiled.quant_report = Some(qr);
    let q = &compiled.qmodel;
    let lag = lags(q);
    let max_lag = lag.iter().copied().max().unwrap_or(0);
    let run_steps = steps + max_lag;
    // 3. Fixed reference (A) and emulator (B) over the same, longer run.
    let batch = stim.batch();
    let (fixed, em, exact) = run_a_and_b_with(&compiled, target, stim, run_steps, opts.strict, host_spikes)?;
    let golden = match &opts.expect {
        Some(p) => check_golden(&compiled.artifact, &em, stimulus_crc(stim), p, opts.bless)?,
        None => None,
    };
    let b = b_views(&fixed, &em, batch, run_steps)?;
    // B vs float, per layer (populations the float reference records as spiking).
    let mut layers = Vec::new();
    let mut scatter = Vec::new();
    for (p, pop) in q.populations.iter().enumerate() {
        let (Some(fl), Some(bl)) = (float.layer(&pop.name), b.iter().find(|s| s.name == pop.name)) else {
            continue;
        };
        let fs = spikes_of(&fl.name, pop.shape.numel(), batch, steps, &fl.spikes);
        layers.push(layer_fidelity(&fs, bl, steps, lag[p], float.dt));
        let cf = fs.counts(0, steps);
        let cd = bl.counts(lag[p], steps);
        let stride = (cf.len() / 1500).max(1);
        scatter.push((
            pop.name.clone(),
            cf.iter()
                .zip(&cd)
                .step_by(stride)
                .map(|(&x, &y)| (x as f64 / secs, y as f64 / secs))
                .collect(),
        ));
    }
    // Output agreement: the population the first Output records.
    let out_pop = q.outputs.first().and_then(|o| match o.source {
        Source::Population(k) => Some(k),
        Source::Input(_) => None,
    });
    let mut traces = None;
    let output = match out_pop {
        Some(k) => {
            let pop = &q.populations[k];
            match (float.layer(&pop.name), b.iter().find(|s| s.name == pop.name)) {
                (Some(fl), Some(bl)) => {
                    let n = pop.shape.numel();
                    let fs = spikes_of(&fl.name, n, batch, steps, &fl.spikes);
                    let cf = fs.counts(0, steps);
                    let cd = bl.counts(lag[k], steps);
                    let pf: Vec<usize> = (0..batch).map(|i| argmax_u32(&cf[i * n..(i + 1) * n])).collect();
                    let pd: Vec<usize> = (0..batch).map(|i| argmax_u32(&cd[i * n..(i + 1) * n])).collect();
                    let agree = pf.iter().zip(&pd).filter(|(a, b)| a == b).count() as f64 / batch.max(1) as f64;
                    let acc = |p: &[usize]| {
                        opts.labels
                            .as_ref()
                            .map(|y| p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / batch.max(1) as f64)
                    };
                    let mut first: Option<usize> = None;
                    let mut diverging = 0;
                    for item in 0..batch {
                        let d = (0..steps).find(|&t| (0..n).any(|i| fs.get(item, t, i) != bl.get(item, t + lag[k], i)));
                        if let Some(t) = d {
                            diverging += 1;
                            first = Some(first.map_or(t, |f: usize| f.min(t)));
                        }
                    }
                    let cum = |s: &Spikes<'_>, off: usize| -> Vec<Vec<u32>> {
                        (0..n)
                            .map(|i| {
                                let mut c = 0;
                                (0..steps)
                                    .map(|t| {
                                        c += s.get(0, t + off, i) as u32;
                                        c
                                    })
                                    .collect()
                            })
                            .collect()
                    };
                    traces = Some(OutputTraces {
                        sample: 0,
                        label: opts.labels.as_ref().and_then(|y| y.first().copied()),
                        float: cum(&fs, 0),
                        deployed: cum(bl, lag[k]),
                    });
                    Some(OutputAgreement {
                        layer: pop.name.clone(),
                        top1_agreement: agree,
                        float_accuracy: acc(&pf),
                        deployed_accuracy: acc(&pd),
                        first_divergent_step: first,
                        items_diverging: diverging,
                    })
                }
                _ => None,
            }
        }
        None => None,
    };
    // Raster: up to 3 layers × 4 most active neurons of sample 0.
    let mut raster = Vec::new();
    for (p, pop) in q
        .populations
        .iter()
        .enumerate()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let (Some(fl), Some(bl)) = (float.layer(&pop.name), b.iter().find(|s| s.name == pop.name)) else {
            continue;
        };
        let n = pop.shape.numel();
        let fs = spikes_of(&fl.name, n, batch, steps, &fl.spikes);
        let counts = fs.counts(0, steps);
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
        for &i in idx.iter().filter(|&&i| counts[i] > 0).take(4) {
            raster.push((
                format!("{}[{i}]", pop.name),
                (0..steps).filter(|&t| fs.get(0, t, i)).collect(),
                (0..steps).filter(|&t| bl.get(0, t + lag[p], i)).collect(),
            ));
        }
    }
    let cores = compiled.artifact.cores.len();
    let mut chips: Vec<u16> = compiled.artifact.cores.iter().map(|c| c.chip).collect();
    chips.sort_unstable();
    chips.dedup();
    let host_layers: Vec<String> = q
        .populations
        .iter()
        .filter(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .map(|p| p.name.clone())
        .collect();
    let report = VerifyReport {
        schema: "nmc.verify/1",
        model: gf.name.clone(),
        target: target.name().to_string(),
        batch,
        steps,
        deployed_steps: run_steps,
        dt: float.dt,
        scale_firing_rates: opts.quant.scale_firing_rates,
        cores,
        chips: chips.len(),
        host_layers,
        host_spikes_given: host_spikes,
        exact,
        layers,
        output,
        overflows: em.overflows.iter().filter(|o| o.total() > 0).cloned().collect(),
        golden,
        warnings: float
            .rate_report()
            .warnings
            .into_iter()
            .map(|w| format!("float reference: {w}"))
            .collect(),
    };
    let mut summary = vec![
        ("model".to_string(), report.model.clone()),
        (
            "target".to_string(),
            format!("{} ({} cores on {} chip(s))", report.target, cores, report.chips),
        ),
        (
            "input".to_string(),
            format!("{} samples × {} steps (deployed run {} steps)", batch, steps, run_steps),
        ),
        (
            "A = B".to_string(),
            if report.exact.equal {
                "identical".into()
            } else {
                "MISMATCH".into()
            },
        ),
    ];
    if let Some(o) = &report.output {
        summary.push(("top-1 agreement".into(), format!("{:.2}%", 100.0 * o.top1_agreement)));
        if let (Some(fa), Some(da)) = (o.float_accuracy, o.deployed_accuracy) {
            summary.push((
                "accuracy float / deployed".into(),
                format!("{:.2}% / {:.2}%", 100.0 * fa, 100.0 * da),
            ));
        }
    }
    let wraps: u64 = report.overflows.iter().map(|o| o.total()).sum();
    summary.push((
        "overflows".into(),
        if wraps == 0 {
            "none".into()
        } else {
            let layers: Vec<&str> = report.overflows.iter().map(|o| o.layer.as_str()).collect();
            format!("{wraps} wraps/clips in {}", layers.join(", "))
        },
    ));
    if let Some(g) = &report.golden {
        summary.push((
            "golden spikes".into(),
            if g.equal {
                format!("equal to {}", g.file)
            } else {
                format!("DIFFER from {}", g.file)
            },
        ));
    }
    let page = VerifyPage {
        title: format!("nmc verify: {} on {}", report.model, report.target),
        summary,
        exact: Some(report.exact.equal),
        layers: report.layers.clone(),
        scatter,
        traces,
        raster,
        steps,
    };
    Ok(VerifyOutcome { report, page, compiled })
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "verify: model {} on {}  {} samples × {} steps (deployed run {} steps, dt {} s, scale_firing_rates {})",
            self.model,
            self.target,
            self.batch,
            self.steps,
            self.deployed_steps,
            nmc_ir::num(self.dt),
            self.scale_firing_rates
        )?;
        writeln!(
            f,
            "deployment: {} cores on {} chip(s); host encoder: {}",
            self.cores,
            self.chips,
            if self.host_layers.is_empty() {
                "none".into()
            } else if self.host_spikes_given {
                format!(
                    "{} (not run: recorded spikes given with --input-spikes)",
                    self.host_layers.join(", ")
                )
            } else {
                self.host_layers.join(", ")
            }
        )?;
        writeln!(
            f,
            "{:<12} {:>8} {:>4} {:>11} {:>11} {:>10} {:>10} {:>8} {:>10}",
            "layer", "neurons", "lag", "float spk", "deploy spk", "float Hz", "deploy Hz", "corr", "|Δrate| Hz"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<12} {:>8} {:>4} {:>11} {:>11} {:>10.1} {:>10.1} {:>8} {:>10.2}",
                l.layer,
                l.neurons,
                l.lag,
                l.float_spikes,
                l.deployed_spikes,
                l.float_rate_hz,
                l.deployed_rate_hz,
                if l.rate_correlation.is_nan() {
                    "–".to_string()
                } else {
                    format!("{:.4}", l.rate_correlation)
                },
                l.mean_abs_rate_error_hz
            )?;
        }
        if let Some(o) = &self.output {
            write!(
                f,
                "output {}: top-1 agreement {:.2}%",
                o.layer,
                100.0 * o.top1_agreement
            )?;
            if let (Some(fa), Some(da)) = (o.float_accuracy, o.deployed_accuracy) {
                write!(f, "; accuracy float {:.2}%, deployed {:.2}%", 100.0 * fa, 100.0 * da)?;
            }
            match o.first_divergent_step {
                Some(t) => writeln!(
                    f,
                    "; outputs first differ at step {t} ({} samples differ)",
                    o.items_diverging
                )?,
                None => writeln!(f, "; output spike trains identical")?,
            }
        }
        f.write_str(&crate::activity::overflow_table(&self.overflows))?;
        for m in &self.warnings {
            writeln!(f, "warning: {m}")?;
        }
        write!(f, "{}", self.exact)?;
        if let Some(g) = &self.golden {
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

/// B's layers as spike views, in A's (the fixed reference's) layer order.
fn b_views<'a>(
    fixed: &nmc_reference::FixedResult,
    em: &'a EmuResult,
    batch: usize,
    steps: usize,
) -> Result<Vec<Spikes<'a>>, Error> {
    fixed
        .layers
        .iter()
        .map(|l| match em.layers.iter().find(|e| e.name == l.name) {
            Some(e) => Ok(spikes_of(&e.name, e.shape.iter().product(), batch, steps, &e.spikes)),
            None => Err(Error::Structure(format!("the artifact has no layer `{}`", l.name))),
        })
        .collect()
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

/// Runs the fixed-point reference (A) and the emulated artifact (B) of a
/// compiled model for `run_steps` and compares them bit for bit; on a
/// mismatch, probes both at the first differing neuron and step.
pub fn run_a_and_b(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
) -> Result<(nmc_reference::FixedResult, EmuResult, ExactCheck), Error> {
    run_a_and_b_with(compiled, target, stim, run_steps, strict, false)
}

/// [`run_a_and_b`]; with `host_spikes`, `stim` holds recorded spikes of the
/// host layer: the fixed reference runs the model with the host population
/// replaced by an event input ([`QModel::with_host_spikes_input`]) and the
/// emulator feeds them in place of the artifact's host layer
/// ([`Emulator::run_host_spikes`]); A = B then covers every chip layer.
pub fn run_a_and_b_with(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
    host_spikes: bool,
) -> Result<(nmc_reference::FixedResult, EmuResult, ExactCheck), Error> {
    let cut;
    let q = if host_spikes {
        cut = compiled
            .qmodel
            .with_host_spikes_input()
            .map_err(nmc_reference::FixedError::from)?;
        &cut
    } else {
        &compiled.qmodel
    };
    let fixed = nmc_reference::simulate_fixed(
        q,
        target,
        stim,
        &FixedOptions {
            steps: Some(run_steps),
            strict,
            probe: None,
        },
    )?;
    let emu = Emulator::new(&compiled.artifact)?;
    let input = emu_input(stim);
    let em: EmuResult = if host_spikes {
        emu.run_host_spikes(&input, run_steps, &RunOptions { strict }, &|| {})?
    } else {
        emu.run_opts(std::slice::from_ref(&input), run_steps, &RunOptions { strict }, &|| {})?
    };
    let batch = stim.batch();
    // A = B.
    let a: Vec<Spikes<'_>> = fixed
        .layers
        .iter()
        .map(|l| spikes_of(&l.name, l.shape.numel(), batch, run_steps, &l.spikes))
        .collect();
    let b = b_views(&fixed, &em, batch, run_steps)?;
    let mismatch = first_mismatch(&a, &b).map_err(Error::Structure)?;
    let (mut state_a, mut state_b) = (None, None);
    if let Some(m) = &mismatch {
        let p = q.populations.iter().position(|p| p.name == m.layer).unwrap_or(0);
        if let Ok(fa) = nmc_reference::simulate_fixed(
            q,
            target,
            stim,
            &FixedOptions {
                steps: Some(m.step + 1),
                strict: false,
                probe: Some((p, m.neuron, m.batch_item)),
            },
        ) && let Some(s) = fa.probe.get(m.step)
        {
            state_a = Some((s.q, s.u, s.v));
        }
        let li = compiled
            .artifact
            .layers
            .iter()
            .position(|l| l.name == m.layer)
            .unwrap_or(0);
        if !host_spikes
            && let Ok(pb) = emu.probe(std::slice::from_ref(&input), m.batch_item, m.step + 1, li, m.neuron)
            && let Some(s) = pb.get(m.step)
        {
            state_b = Some((s.q, s.u, s.v));
        }
    }
    let bits: u64 = a.iter().map(|s| (s.n * s.batch * s.steps) as u64).sum();
    let overflow_counts_equal = fixed.overflows.iter().all(|o| {
        let e = em.overflows.iter().find(|e| e.layer == o.population);
        e.map_or(o.total() == 0, |e| {
            (e.q_wraps, e.u_wraps, e.v_clips) == (o.q_wraps, o.u_wraps, o.v_clips)
        })
    });
    let (voltages, voltage_mismatch) = compare_voltages(&fixed, &em);
    let exact = ExactCheck {
        equal: mismatch.is_none() && overflow_counts_equal && voltage_mismatch.is_none(),
        voltages,
        voltage_mismatch,
        overflow_counts_equal,
        layers: a.len(),
        bits,
        mismatch,
        state_a,
        state_b,
    };
    Ok((fixed, em, exact))
}

/// Reads an input array for graph `g` (and labels checked against its batch).
pub fn read_stimulus(g: &Graph, input: &Path, labels: Option<&Path>) -> Result<(Stimulus, Option<Vec<usize>>), Error> {
    let arr = nmc_reference::read_array(input)?;
    let shape = g
        .input_nodes()
        .first()
        .map(|&i| g.node(i).out.shape.clone())
        .unwrap_or_default();
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

/// How [`emulate_file`] runs and what it writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmulateOptions<'a> {
    /// Steps to run (default: the input's time axis).
    pub steps: Option<usize>,
    /// Labels (.npy) for the readout's accuracy.
    pub labels: Option<&'a Path>,
    /// Write every layer's spikes to this `.npz` (holds the whole run in memory).
    pub out: Option<&'a Path>,
    /// Stream every layer's spikes to this spike file (`.nmcs`, bounded memory).
    pub spikes: Option<&'a Path>,
    /// Compare the run with this golden spike file (or write it, with `bless`).
    pub expect: Option<&'a Path>,
    /// Write `expect` instead of comparing with it.
    pub bless: bool,
    /// Strict overflow mode.
    pub strict: bool,
    /// The input file holds recorded spikes of the artifact's host layer,
    /// `(batch, steps, *host shape)` of 0/1 (`--input-spikes`), fed instead
    /// of running the host layer on real-valued input.
    pub host_spikes: bool,
}

/// Samples emulated at a time by [`emulate_file`]: memory holds one chunk's
/// spikes. A constant, so results never depend on the machine.
pub const EMULATE_CHUNK: usize = 16;

/// The spike-file header of an emulated run.
fn spike_header(a: &Artifact, steps: usize, batch: usize, input_crc: u32) -> SpikeHeader {
    SpikeHeader {
        nmc_version: env!("CARGO_PKG_VERSION").to_string(),
        model: a.model.clone(),
        target: a.target_name.clone(),
        steps: steps as u64,
        batch: batch as u64,
        input_crc,
        layers: a
            .layers
            .iter()
            .map(|l| (l.name.clone(), l.shape.iter().map(|&d| d as u64).collect()))
            .collect(),
    }
}

/// The CRC of a stimulus, as recorded in spike files.
pub fn stimulus_crc(stim: &Stimulus) -> u32 {
    let v = stim.values();
    let (b, t, f) = v.dim();
    input_crc(&[b, t, f], v.iter().copied())
}

/// Sample `b` of an emulator result, as a spike-file record.
pub fn sample_spikes(res: &EmuResult, b: usize) -> SampleSpikes {
    SampleSpikes {
        layers: res
            .layers
            .iter()
            .map(|l| {
                let len = res.steps * l.shape.iter().product::<usize>();
                l.spikes[b * len..(b + 1) * len].iter_ones().map(|x| x as u64).collect()
            })
            .collect(),
    }
}

/// Where the samples of a run go: a spike file, a golden comparison, both.
struct SampleSinks {
    writers: Vec<SpikeWriter>,
    cmp: Option<GoldenComparer>,
    neurons: Vec<u64>,
}

impl SampleSinks {
    fn new(
        header: &SpikeHeader,
        spikes: Option<&Path>,
        expect: Option<&Path>,
        bless: bool,
    ) -> Result<SampleSinks, Error> {
        let same = matches!((spikes, expect), (Some(s), Some(e)) if nmc_core::output::same_file(s, e));
        if !bless && same {
            // Writing the file would truncate the golden it is compared with.
            return Err(Error::Usage(
                "--spikes and --expect name the same file: to record a golden file use --expect FILE --bless".into(),
            ));
        }
        let mut writers = Vec::new();
        if let Some(p) = spikes {
            writers.push(SpikeWriter::create(p, header.clone())?);
        }
        let mut cmp = None;
        if let Some(p) = expect {
            if bless {
                if !same {
                    writers.push(SpikeWriter::create(p, header.clone())?);
                }
            } else {
                cmp = Some(GoldenComparer::open(p, header)?);
            }
        }
        let neurons = header.layers.iter().map(|(_, s)| s.iter().product()).collect();
        Ok(SampleSinks { writers, cmp, neurons })
    }
    fn push(&mut self, res: &EmuResult) -> Result<(), Error> {
        if self.writers.is_empty() && self.cmp.is_none() {
            return Ok(());
        }
        for b in 0..res.batch {
            let s = sample_spikes(res, b);
            for w in &mut self.writers {
                w.push(&s)?;
            }
            if let Some(c) = &mut self.cmp {
                c.push(&s, &self.neurons)?;
            }
        }
        Ok(())
    }
    fn finish(self) -> Result<Option<GoldenCheck>, Error> {
        for w in self.writers {
            w.finish()?;
        }
        Ok(match self.cmp {
            Some(c) => Some(c.finish()?),
            None => None,
        })
    }
}

/// Compares a whole emulator result with a golden spike file, or writes it
/// (`bless`). `None` when blessing.
pub fn check_golden(
    a: &Artifact,
    res: &EmuResult,
    input_crc: u32,
    path: &Path,
    bless: bool,
) -> Result<Option<GoldenCheck>, Error> {
    let header = spike_header(a, res.steps, res.batch, input_crc);
    let mut sinks = SampleSinks::new(&header, None, Some(path), bless)?;
    sinks.push(res)?;
    sinks.finish()
}

/// Emulates an artifact on an input file, [`EMULATE_CHUNK`] samples at a
/// time: the `nmc emulate` report (with the golden comparison when
/// `expect` is given), optionally streaming every sample's spikes to a
/// spike file. Memory: the input array, the emulator, one chunk's spikes and
/// per-layer counters; `out` (`.npz`, `spikes.<layer>`, uint8 `(batch,
/// steps, *shape)`) alone keeps the whole run. A progress bar shows on a
/// terminal.
pub fn emulate_file(
    a: &Artifact,
    input: &Path,
    opts: &EmulateOptions<'_>,
) -> Result<crate::activity::EmulateReport, Error> {
    use crate::activity::ActivityAcc;
    use std::io::IsTerminal;
    let arr = nmc_reference::read_array(input)?;
    let emu = Emulator::new(a)?;
    let in_shape = if opts.host_spikes {
        let (_, _, shape) = emu.host_layer().ok_or_else(|| {
            Error::Usage(format!(
                "--input-spikes {}: the artifact has {} host layers; recorded spikes replace exactly one \
                 (an artifact without a host encoder takes event inputs: pass them with --input)",
                input.display(),
                a.host.len()
            ))
        })?;
        nmc_ir::Shape::new(shape.to_vec())
    } else {
        a.inputs
            .first()
            .map(|i| nmc_ir::Shape::new(i.shape.clone()))
            .unwrap_or_default()
    };
    let stim = Stimulus::from_array(arr, &in_shape).map_err(crate::input_error(input))?;
    let steps = opts.steps.unwrap_or(stim.steps());
    if steps == 0 {
        return Err(EmuError::Input("nothing to emulate: the number of steps is 0".into()).into());
    }
    let batch = stim.batch();
    let labels = match opts.labels {
        Some(p) => Some(crate::simulate::read_labels(p, batch)?),
        None => None,
    };
    let neurons: usize = a.layers.iter().map(|l| l.shape.iter().product::<usize>()).sum();
    crate::budget::check(
        "`nmc emulate`: one chunk of emulated spikes",
        batch.min(EMULATE_CHUNK),
        steps,
        neurons as f64 / 8.0 + 8.0,
    )?;
    if opts.out.is_some() {
        // The .npz keeps every spike of the run, one byte each while written.
        crate::budget::check(
            "`nmc emulate --out`: every spike of the run",
            batch,
            steps,
            1.125 * neurons as f64,
        )?;
    }
    let header = spike_header(a, steps, batch, stimulus_crc(&stim));
    let mut sinks = SampleSinks::new(&header, opts.spikes, opts.expect, opts.bless)?;
    let bar = if std::io::stderr().is_terminal() && batch > 1 {
        indicatif::ProgressBar::new(batch as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut acc: Vec<ActivityAcc> = a
        .layers
        .iter()
        .map(|l| ActivityAcc::new(&l.name, l.shape.iter().product(), steps))
        .collect();
    let out_layer = a.outputs.first().map(|o| o.layer as usize);
    let mut argmax = Vec::with_capacity(batch);
    let mut cores: Vec<nmc_emu::CoreActivity> = Vec::new();
    let mut overflows: Vec<nmc_emu::LayerOverflow> = Vec::new();
    let (mut host_spikes, mut syn_events) = (0, 0);
    let mut whole: Option<Vec<bitvec::vec::BitVec>> =
        opts.out.map(|_| vec![bitvec::vec::BitVec::new(); a.layers.len()]);
    let v = stim.values();
    let (_, t_in, feats) = v.dim();
    let run = RunOptions { strict: opts.strict };
    let mut b0 = 0;
    while b0 < batch {
        let b1 = (b0 + EMULATE_CHUNK).min(batch);
        let chunk = InputData {
            batch: b1 - b0,
            steps: t_in,
            features: feats,
            data: v.as_slice().map_or_else(
                || {
                    (b0..b1)
                        .flat_map(|b| v.index_axis(ndarray::Axis(0), b).iter().copied().collect::<Vec<_>>())
                        .collect()
                },
                |s| s[b0 * t_in * feats..b1 * t_in * feats].to_vec(),
            ),
        };
        let res = if opts.host_spikes {
            emu.run_host_spikes(&chunk, steps, &run, &|| bar.inc(1))
        } else {
            emu.run_opts(std::slice::from_ref(&chunk), steps, &run, &|| bar.inc(1))
        };
        let res = res.map_err(|e| match e {
            EmuError::Overflow {
                layer,
                neuron,
                step,
                batch,
                register,
                exact,
                stored,
            } => EmuError::Overflow {
                layer,
                neuron,
                step,
                batch: batch + b0,
                register,
                exact,
                stored,
            },
            EmuError::Input(m) => EmuError::Input(format!("{}: {m}", input.display())),
            e => e,
        })?;
        for (k, l) in res.layers.iter().enumerate() {
            let view = spikes_of(&l.name, l.shape.iter().product(), res.batch, steps, &l.spikes);
            acc[k].add(&view);
            if out_layer == Some(k) {
                let c = view.counts(0, steps);
                argmax.extend((0..res.batch).map(|b| crate::compare::argmax_u32(&c[b * view.n..(b + 1) * view.n])));
            }
            if let Some(w) = &mut whole {
                w[k].extend_from_bitslice(&l.spikes);
            }
        }
        if cores.is_empty() {
            cores = res.cores.clone();
            overflows = res.overflows.clone();
        } else {
            for (c, r) in cores.iter_mut().zip(&res.cores) {
                c.spikes += r.spikes;
                c.syn_events += r.syn_events;
            }
            for (o, r) in overflows.iter_mut().zip(&res.overflows) {
                o.q_wraps += r.q_wraps;
                o.u_wraps += r.u_wraps;
                o.v_clips += r.v_clips;
            }
        }
        host_spikes += res.host_spikes;
        syn_events += res.syn_events;
        sinks.push(&res)?;
        b0 = b1;
    }
    bar.finish_and_clear();
    let golden = sinks.finish()?;
    if let (Some(p), Some(w)) = (opts.out, &whole) {
        write_spikes_npz(p, a, w, batch, steps)?;
    }
    let output = out_layer.and_then(|k| a.layers.get(k)).map(|l| {
        let accuracy = labels.as_deref().map(|y| crate::simulate::accuracy(&argmax, y));
        crate::activity::Readout {
            layer: l.name.clone(),
            argmax: argmax.clone(),
            accuracy,
        }
    });
    let layers: Vec<crate::activity::LayerActivity> = acc.iter().map(|x| x.finish(a.dt)).collect();
    let warnings = crate::activity::warnings_of(&layers, &emu.layer_spiking(), batch, steps);
    Ok(crate::activity::EmulateReport {
        schema: "nmc.emulate/1",
        model: a.model.clone(),
        target: a.target_name.clone(),
        batch,
        steps,
        dt: a.dt,
        layers,
        warnings,
        cores,
        host_spikes,
        syn_events,
        output,
        overflows,
        golden,
    })
}

fn write_spikes_npz(
    p: &Path,
    a: &Artifact,
    bits: &[bitvec::vec::BitVec],
    batch: usize,
    steps: usize,
) -> Result<(), Error> {
    let io = |e: String| Error::Io {
        path: p.display().to_string(),
        source: std::io::Error::other(e),
    };
    let keys: Vec<(String, &str)> = a
        .layers
        .iter()
        .map(|l| (nmc_reference::npz_key("spikes", &l.name), l.name.as_str()))
        .collect();
    nmc_reference::check_unique_keys(p, &keys)?;
    // Written beside `p` and renamed over it once complete.
    let f = nmc_core::output::AtomicFile::create(p).map_err(|source| Error::Io {
        path: p.display().to_string(),
        source,
    })?;
    let mut w = ndarray_npy::NpzWriter::new_compressed(f);
    for (l, b) in a.layers.iter().zip(bits) {
        let mut shape = vec![batch, steps];
        shape.extend_from_slice(&l.shape);
        let data: Vec<u8> = b.iter().map(|b| *b as u8).collect();
        let arr = ndarray::ArrayD::from_shape_vec(shape, data).map_err(|e| io(e.to_string()))?;
        w.add_array(nmc_reference::npz_key("spikes", &l.name), &arr)
            .map_err(|e| io(e.to_string()))?;
    }
    let f = w.finish().map_err(|e| io(e.to_string()))?;
    f.commit().map_err(|source| Error::Io {
        path: p.display().to_string(),
        source,
    })
}

/// The fixed-point reference of a quantized model on an input file, as an
/// activity report (the `nmc simulate model.q.ron` command).
pub fn simulate_fixed_file(
    q: &QModel,
    target: &Target,
    input: &Path,
    steps: Option<usize>,
    labels: Option<&Path>,
    strict: bool,
) -> Result<crate::activity::EmulateReport, Error> {
    let arr = nmc_reference::read_array(input)?;
    let shape = q.inputs.first().map(|i| i.shape.clone()).unwrap_or_default();
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let steps = steps.unwrap_or(stim.steps());
    crate::budget::check(
        "`nmc simulate` (fixed point): spikes",
        stim.batch(),
        steps,
        q.populations.iter().map(|p| p.shape.numel()).sum::<usize>() as f64 / 8.0 + 8.0,
    )?;
    let labels = match labels {
        Some(p) => Some(crate::simulate::read_labels(p, stim.batch())?),
        None => None,
    };
    let res = nmc_reference::simulate_fixed(
        q,
        target,
        &stim,
        &FixedOptions {
            steps: Some(steps),
            strict,
            probe: None,
        },
    )?;
    let batch = stim.batch();
    let views: Vec<Spikes<'_>> = res
        .layers
        .iter()
        .map(|l| spikes_of(&l.name, l.shape.numel(), batch, steps, &l.spikes))
        .collect();
    let output = q.outputs.first().and_then(|o| match o.source {
        Source::Population(k) => views.get(k).map(|v| crate::activity::Readout::of(v, labels.as_deref())),
        Source::Input(_) => None,
    });
    let layers: Vec<crate::activity::LayerActivity> = views
        .iter()
        .map(|v| crate::activity::LayerActivity::of(v, q.dt))
        .collect();
    Ok(crate::activity::EmulateReport {
        schema: "nmc.emulate/1",
        model: q.name.clone(),
        target: format!("{} (fixed-point reference)", target.name()),
        batch,
        steps,
        dt: q.dt,
        warnings: crate::activity::warnings_of(
            &layers,
            &res.layers.iter().map(|l| l.spiking).collect::<Vec<_>>(),
            batch,
            steps,
        ),
        layers,
        cores: Vec::new(),
        host_spikes: 0,
        syn_events: 0,
        output,
        overflows: res
            .overflows
            .iter()
            .map(|o| nmc_emu::LayerOverflow {
                layer: o.population.clone(),
                q_wraps: o.q_wraps,
                u_wraps: o.u_wraps,
                v_clips: o.v_clips,
            })
            .collect(),
        golden: None,
    })
}

/// The A = B report of a quantized model (no float network to compare with).
#[derive(Debug, Clone, Serialize)]
pub struct QuantVerifyReport {
    /// Schema id, `nmc.verify-quantized/1`.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Target.
    pub target: String,
    /// Batch.
    pub batch: usize,
    /// Steps run.
    pub steps: usize,
    /// Cores used.
    pub cores: usize,
    /// The check.
    pub exact: ExactCheck,
    /// The comparison with a golden spike file (`--expect`).
    pub golden: Option<GoldenCheck>,
}

impl std::fmt::Display for QuantVerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "verify (quantized model, no float reference): {} on {} ({} cores), {} samples × {} steps",
            self.model, self.target, self.cores, self.batch, self.steps
        )?;
        write!(f, "{}", self.exact)?;
        if let Some(g) = &self.golden {
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

/// Checks that a recorded spike file (`--input-spikes`) holds only 0 and 1:
/// a neuron spikes at most once per step.
pub fn check_spike_file(spikes: &Path) -> Result<(), Error> {
    check_spikes(nmc_reference::read_array(spikes)?.iter(), spikes)
}

/// The 0/1 check of [`check_spike_file`] on values already read from `spikes`.
fn check_spikes<'a>(values: impl Iterator<Item = &'a f64>, spikes: &Path) -> Result<(), Error> {
    if let Some((i, x)) = values.enumerate().find(|&(_, &x)| x != 0.0 && x != 1.0) {
        return Err(Error::BadInput(format!(
            "--input-spikes {}: spikes must be 0 or 1 (one per neuron and step at most); element {i} \
             (row-major) is {x}",
            spikes.display()
        )));
    }
    Ok(())
}

/// The shape of `q`'s single host population (what `--input-spikes` holds
/// per step), or a usage error naming the spike file.
pub fn host_shape(q: &QModel, spikes: &Path) -> Result<nmc_ir::Shape, Error> {
    let hosts: Vec<&nmc_ir::qmodel::QPopulation> = q
        .populations
        .iter()
        .filter(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .collect();
    match hosts[..] {
        [h] => Ok(h.shape.clone()),
        _ => Err(Error::Usage(format!(
            "--input-spikes {}: model `{}` has {} host layers; recorded spikes replace exactly one \
             (a model without a host encoder takes event inputs: pass them with --input)",
            spikes.display(),
            q.name,
            hosts.len()
        ))),
    }
}

/// Compiles a quantized model and checks A = B on an input file (with
/// `host_spikes`, recorded spikes of its host layer).
pub fn verify_quantized(
    q: QModel,
    target: &Target,
    input: &Path,
    steps: Option<usize>,
    strict: bool,
    expect: Option<(&Path, bool)>,
    host_spikes: bool,
) -> Result<QuantVerifyReport, Error> {
    let arr = nmc_reference::read_array(input)?;
    let shape = if host_spikes {
        host_shape(&q, input)?
    } else {
        q.inputs.first().map(|i| i.shape.clone()).unwrap_or_default()
    };
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let steps = steps.unwrap_or(stim.steps());
    crate::budget::check(
        "`nmc verify` (quantized model): fixed-point and emulated spikes",
        stim.batch(),
        steps,
        2.0 * q.populations.iter().map(|p| p.shape.numel()).sum::<usize>() as f64 / 8.0 + 8.0,
    )?;
    let compiled = compile_quantized(q, target, &PartitionOptions::default())?;
    let (_, em, exact) = run_a_and_b_with(&compiled, target, &stim, steps, strict, host_spikes)?;
    let golden = match expect {
        Some((p, bless)) => check_golden(&compiled.artifact, &em, stimulus_crc(&stim), p, bless)?,
        None => None,
    };
    Ok(QuantVerifyReport {
        schema: "nmc.verify-quantized/1",
        model: compiled.qmodel.name.clone(),
        target: target.name().to_string(),
        batch: stim.batch(),
        steps,
        cores: compiled.artifact.cores.len(),
        exact,
        golden,
    })
}

/// Measures a converted ONNX network: the ANN's accuracy (its own forward
/// pass) against the spiking network's float-reference accuracy at each
/// presentation time, then the float reference's per-layer rates (from spike
/// counts, with the neurons at the 1/dt ceiling) at the longest one.
pub fn conversion_accuracy(
    onnx: &Path,
    g: &Graph,
    input: &Path,
    labels: &Path,
    steps_list: &[usize],
) -> Result<String, Error> {
    use std::fmt::Write as _;
    let (stim, labels) = read_stimulus(g, input, Some(labels))?;
    let labels = labels.unwrap_or_default();
    let bytes = std::fs::read(onnx).map_err(|source| Error::Io {
        path: onnx.display().to_string(),
        source,
    })?;
    let ann = nmc_frontend::onnx::parse(&onnx.display().to_string(), &bytes)?;
    let v = stim.values();
    let (batch, _, feats) = v.dim();
    let ann_pred: Vec<usize> = (0..batch)
        .map(|b| {
            let x: Vec<f64> = (0..feats).map(|f| v[[b, 0, f]]).collect();
            crate::simulate::argmax(&ann.forward(&x))
        })
        .collect();
    let ann_acc = crate::simulate::accuracy(&ann_pred, &labels);
    let mut s = format!(
        "accuracy on {} (batch {batch}): ANN {:.2}% (first time step of each sample)\n{:>8} {:>14}\n",
        input.display(),
        100.0 * ann_acc,
        "steps",
        "SNN (float)"
    );
    let mut last = None;
    for &steps in steps_list {
        let res = nmc_reference::simulate(g, &stim, &SimOptions { steps: Some(steps) })?;
        let pred: Vec<usize> = match res.outputs.first() {
            Some(o) => (0..batch)
                .map(|b| {
                    let item = o.values.index_axis(ndarray::Axis(0), b);
                    let sums: Vec<f64> = (0..item.dim().1)
                        .map(|f| item.index_axis(ndarray::Axis(1), f).sum())
                        .collect();
                    crate::simulate::argmax(&sums)
                })
                .collect(),
            None => Vec::new(),
        };
        let _ = writeln!(
            s,
            "{steps:>8} {:>13.2}%",
            100.0 * crate::simulate::accuracy(&pred, &labels)
        );
        last = Some(res);
    }
    if let Some(res) = last {
        s.push_str(&res.rate_report().to_string());
    }
    Ok(s)
}
