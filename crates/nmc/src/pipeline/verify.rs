//! `verify` of a float network: the float reference, the compile with its
//! rates, A = B, and the deployed-vs-float comparison (report and HTML page).

use super::exact::run_a_and_b_with;
use super::golden::{check_golden, stimulus_crc};
use super::host::{check_spikes, host_shape};
use super::{Compiled, ExactCheck, compile_quantized, lags, population_rates, quantize, spikes_of};
use crate::Error;
use crate::compare::{LayerFidelity, Spikes, argmax_u32, layer_fidelity};
use crate::html::{OutputTraces, VerifyPage};
use crate::spikefile::GoldenCheck;
use nmc_ir::Graph;
use nmc_ir::qmodel::{QModel, Source};
use nmc_partition::PartitionOptions;
use nmc_quant::{QuantOptions, QuantReport};
use nmc_reference::{SimOptions, Stimulus};
use nmc_target::Target;
use serde::Serialize;
use std::path::Path;

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
    /// How readout outputs are decided (default per readout: `last` when
    /// filtered, else `sum`; [`crate::readout`]).
    pub readout_decision: Option<crate::readout::ReadoutDecision>,
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
    /// dt, discretization and spike convention the model was read with.
    pub conventions: nmc_ir::Conventions,
    /// scale_firing_rates applied to both sides.
    pub scale_firing_rates: f64,
    /// Cores and chips used.
    pub cores: usize,
    /// Chips used.
    pub chips: usize,
    /// Host (encoder) layers.
    pub host_layers: Vec<String>,
    /// The host layers that run the float model in `f64` (`--host-layers`);
    /// absent when none does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub float_host_layers: Vec<String>,
    /// The host layer did not run: recorded spikes (`--input-spikes`) were
    /// fed in its place, and the float reference starts after it.
    pub host_spikes_given: bool,
    /// A = B.
    pub exact: ExactCheck,
    /// Per layer, deployed vs float.
    pub layers: Vec<LayerFidelity>,
    /// Output agreement.
    pub output: Option<OutputAgreement>,
    /// Host readouts, deployed vs float.
    pub readouts: Vec<crate::readout::ReadoutAgreement>,
    /// Wraps and clips per layer (emulator; the fixed reference counts the
    /// same, or `exact` fails), layers with none left out.
    pub overflows: Vec<crate::activity::LayerOverflow>,
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
    let arr = nmc_reference::read_input(spikes, &shape)?;
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
    let max_lag = lag
        .iter()
        .chain(&super::host_readout_lags(q, &lag))
        .copied()
        .max()
        .unwrap_or(0);
    let run_steps = steps + max_lag;
    // 3. Fixed reference (A) and emulator (B) over the same, longer run.
    let batch = stim.batch();
    let (_, em, exact) = run_a_and_b_with(&compiled, target, stim, run_steps, opts.strict, host_spikes)?;
    let golden = match &opts.expect {
        Some(p) => check_golden(&compiled.artifact, &em, stimulus_crc(stim), p, opts.bless)?,
        None => None,
    };
    let b: Vec<Spikes<'_>> = em
        .trace
        .layers
        .iter()
        .map(|l| spikes_of(&l.name, l.neurons(), batch, run_steps, &l.spikes))
        .collect();
    // 4. B vs float: per layer, at the output, and a raster.
    let aligned = Aligned {
        q,
        float: &float,
        b: &b,
        lag: &lag,
        batch,
        steps,
    };
    let (layers, scatter) = aligned.layers();
    let (output, traces) = match aligned.output(opts.labels.as_deref()) {
        Some((o, t)) => (Some(o), Some(t)),
        None => (None, None),
    };
    let raster = aligned.raster();
    let readouts = readout_agreements(q, &float, &em.trace, &lag, steps, opts);
    let mut chips: Vec<u16> = compiled.artifact.cores.iter().map(|c| c.chip).collect();
    chips.sort_unstable();
    chips.dedup();
    let host_layers: Vec<String> = q
        .populations
        .iter()
        .filter(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .map(|p| p.name.clone())
        .collect();
    let float_host_layers: Vec<String> = q
        .populations
        .iter()
        .filter(|p| p.float.is_some())
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
        conventions: gf.conventions(),
        scale_firing_rates: opts.quant.scale_firing_rates,
        cores: compiled.artifact.cores.len(),
        chips: chips.len(),
        host_layers,
        float_host_layers,
        host_spikes_given: host_spikes,
        exact,
        layers,
        output,
        readouts,
        overflows: crate::activity::LayerOverflow::all(&em.trace)
            .into_iter()
            .filter(|o| o.total() > 0)
            .collect(),
        golden,
        warnings: float
            .rate_report()
            .warnings
            .into_iter()
            .map(|w| format!("float reference: {w}"))
            .collect(),
    };
    let page = VerifyPage {
        title: format!("nmc verify: {} on {}", report.model, report.target),
        summary: page_summary(&report),
        exact: Some(report.exact.equal),
        layers: report.layers.clone(),
        scatter,
        traces,
        raster,
        steps,
    };
    Ok(VerifyOutcome { report, page, compiled })
}

/// Every host readout of `q`, B's values (read at the readout's lag) against
/// the float reference's output it feeds.
fn readout_agreements(
    q: &QModel,
    float: &nmc_reference::SimResult,
    b: &nmc_trace::Trace,
    lag: &[usize],
    steps: usize,
    opts: &VerifyOptions,
) -> Vec<crate::readout::ReadoutAgreement> {
    use crate::readout::{ReadoutAgreement, ReadoutDecision, ReadoutValues};
    let mut out = Vec::new();
    for (r, &rlag) in q.readouts.iter().zip(&super::host_readout_lags(q, lag)) {
        let (Some(fo), Some(br)) = (
            float.outputs.iter().find(|o| o.name == r.output),
            b.host_readout(&r.name),
        ) else {
            continue;
        };
        let (batch, fsteps, n) = fo.values.dim();
        let fvals: Vec<f64> = fo.values.iter().copied().collect();
        if n != br.elements() || rlag + steps > b.steps || steps > fsteps {
            continue;
        }
        let decision = ReadoutDecision::resolve(opts.readout_decision, r.filter.is_some());
        out.push(ReadoutAgreement::of(
            (&r.name, &r.output, r.filter.map(|f| f.tau)),
            &ReadoutValues {
                values: &fvals,
                steps: fsteps,
                offset: 0,
            },
            &ReadoutValues {
                values: &br.values,
                steps: b.steps,
                offset: rlag,
            },
            batch,
            steps,
            n,
            decision,
            opts.labels.as_deref(),
        ));
    }
    out
}

/// Per layer, (float rate, deployed rate) in Hz per (item, neuron),
/// subsampled: the scatter plots of the HTML page.
type Scatter = Vec<(String, Vec<(f64, f64)>)>;

/// The float reference's spikes and B's of one `verify` run, each deployed
/// population read at its lag: what the deployed-vs-float comparisons read.
struct Aligned<'a> {
    /// The compiled model.
    q: &'a QModel,
    /// The float reference's result.
    float: &'a nmc_reference::SimResult,
    /// B's layers, in the artifact's order (with recorded host spikes, the
    /// host layer too; the float reference has none of that name).
    b: &'a [Spikes<'a>],
    /// Per population, its lag ([`lags`]).
    lag: &'a [usize],
    /// Batch size.
    batch: usize,
    /// Presentation time (float reference steps).
    steps: usize,
}

impl<'a> Aligned<'a> {
    /// The float spikes of `pop` and B's view of it, when the float
    /// reference records it as spiking and B has it.
    fn pair(&self, pop: &nmc_ir::qmodel::QPopulation) -> Option<(Spikes<'a>, &'a Spikes<'a>)> {
        let (Some(fl), Some(bl)) = (self.float.layer(&pop.name), self.b.iter().find(|s| s.name == pop.name)) else {
            return None;
        };
        Some((
            spikes_of(&fl.name, pop.shape.numel(), self.batch, self.steps, &fl.spikes),
            bl,
        ))
    }

    /// B vs float per layer (populations the float reference records as
    /// spiking), and per layer the rate scatter of the HTML page.
    fn layers(&self) -> (Vec<LayerFidelity>, Scatter) {
        let steps = self.steps;
        let secs = steps as f64 * self.float.dt;
        let mut layers = Vec::new();
        let mut scatter = Vec::new();
        for (p, pop) in self.q.populations.iter().enumerate() {
            let Some((fs, bl)) = self.pair(pop) else {
                continue;
            };
            layers.push(layer_fidelity(&fs, bl, steps, self.lag[p], self.float.dt));
            let cf = fs.counts(0, steps);
            let cd = bl.counts(self.lag[p], steps);
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
        (layers, scatter)
    }

    /// Output agreement of the population the first Output records, and
    /// sample 0's cumulative output counts for the HTML page.
    fn output(&self, labels: Option<&[usize]>) -> Option<(OutputAgreement, OutputTraces)> {
        let k = self.q.outputs.first().and_then(|o| match o.source {
            Source::Population(k) => Some(k),
            Source::Input(_) => None,
        })?;
        let pop = &self.q.populations[k];
        let (fs, bl) = self.pair(pop)?;
        let (batch, steps, lag) = (self.batch, self.steps, self.lag[k]);
        let n = pop.shape.numel();
        let cf = fs.counts(0, steps);
        let cd = bl.counts(lag, steps);
        let pf: Vec<usize> = (0..batch).map(|i| argmax_u32(&cf[i * n..(i + 1) * n])).collect();
        let pd: Vec<usize> = (0..batch).map(|i| argmax_u32(&cd[i * n..(i + 1) * n])).collect();
        let agree = pf.iter().zip(&pd).filter(|(a, b)| a == b).count() as f64 / batch.max(1) as f64;
        let acc =
            |p: &[usize]| labels.map(|y| p.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / batch.max(1) as f64);
        let mut first: Option<usize> = None;
        let mut diverging = 0;
        for item in 0..batch {
            let d = (0..steps).find(|&t| (0..n).any(|i| fs.get(item, t, i) != bl.get(item, t + lag, i)));
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
        let traces = OutputTraces {
            sample: 0,
            label: labels.and_then(|y| y.first().copied()),
            float: cum(&fs, 0),
            deployed: cum(bl, lag),
        };
        let agreement = OutputAgreement {
            layer: pop.name.clone(),
            top1_agreement: agree,
            float_accuracy: acc(&pf),
            deployed_accuracy: acc(&pd),
            first_divergent_step: first,
            items_diverging: diverging,
        };
        Some((agreement, traces))
    }

    /// Raster: up to 3 layers × 4 most active neurons of sample 0.
    fn raster(&self) -> Vec<(String, Vec<usize>, Vec<usize>)> {
        let steps = self.steps;
        let mut raster = Vec::new();
        for (p, pop) in self
            .q
            .populations
            .iter()
            .enumerate()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            let Some((fs, bl)) = self.pair(pop) else {
                continue;
            };
            let n = pop.shape.numel();
            let counts = fs.counts(0, steps);
            let mut idx: Vec<usize> = (0..n).collect();
            idx.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
            for &i in idx.iter().filter(|&&i| counts[i] > 0).take(4) {
                raster.push((
                    format!("{}[{i}]", pop.name),
                    (0..steps).filter(|&t| fs.get(0, t, i)).collect(),
                    (0..steps).filter(|&t| bl.get(0, t + self.lag[p], i)).collect(),
                ));
            }
        }
        raster
    }
}

/// The summary lines (label, value) heading the HTML page of a report.
fn page_summary(report: &VerifyReport) -> Vec<(String, String)> {
    let mut summary = vec![
        ("model".to_string(), report.model.clone()),
        (
            "target".to_string(),
            format!("{} ({} cores on {} chip(s))", report.target, report.cores, report.chips),
        ),
        (
            "input".to_string(),
            format!(
                "{} samples × {} steps (deployed run {} steps)",
                report.batch, report.steps, report.deployed_steps
            ),
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
    for r in &report.readouts {
        summary.push((
            format!("readout {} ({})", r.readout, r.decision),
            match (r.float_accuracy, r.deployed_accuracy) {
                (Some(fa), Some(da)) => format!(
                    "agreement {:.2}%, accuracy float {:.2}% / deployed {:.2}%, max error {:.3e}",
                    100.0 * r.decision_agreement,
                    100.0 * fa,
                    100.0 * da,
                    r.max_abs_error
                ),
                _ => format!(
                    "agreement {:.2}%, max error {:.3e}",
                    100.0 * r.decision_agreement,
                    r.max_abs_error
                ),
            },
        ));
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
    summary
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
        writeln!(f, "conventions: {}", self.conventions)?;
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
                let named: Vec<String> = self
                    .host_layers
                    .iter()
                    .map(|h| match self.float_host_layers.contains(h) {
                        true => format!("{h} (float, f64)"),
                        false => h.clone(),
                    })
                    .collect();
                named.join(", ")
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
        for r in &self.readouts {
            write!(f, "{r}")?;
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
