//! `nmc simulate`: the float reference on an input file, with a report of
//! per-layer spike counts and rates and the output nodes' readout.
//!
//! JSON schema `nmc.simulate/1`: `{schema, model, input, input_shape,
//! batch, steps, dt, rates: {dt, steps, batch, layers: [...]}, outputs:
//! [{name, features, kind, decision, sum_over_time: [[f64]] (batch ×
//! features), last_step: [[f64]], argmax: [usize] (batch)}]}`. `kind` is
//! `spikes` (decided by spike counts, `decision` = `sum`), `voltage` or
//! `readout`/`filtered readout` (decided by [`crate::readout::ReadoutDecision`]).

use crate::Error;
pub use crate::readout::{accuracy, argmax};
use nmc_ir::Graph;
use nmc_reference::{RateReport, SimOptions, SimResult, Stimulus};
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// Readout of one Output node.
#[derive(Debug, Clone, Serialize)]
pub struct OutputSummary {
    /// Output node name.
    pub name: String,
    /// Features per step.
    pub features: usize,
    /// What it records: `spikes`, `voltage`, `readout` or `filtered readout`.
    pub kind: &'static str,
    /// How `argmax` decides: `sum` (spike counts, always for `spikes`) or
    /// `last` (the value at the last step).
    pub decision: crate::readout::ReadoutDecision,
    /// Sum over time of the recorded value, per batch item (batch × features).
    /// For a spiking layer feeding the output this is the spike count.
    pub sum_over_time: Vec<Vec<f64>>,
    /// The value at the last step, per batch item (batch × features).
    pub last_step: Vec<Vec<f64>>,
    /// The decided class per batch item: argmax of `sum_over_time` or of
    /// `last_step`, by `decision`.
    pub argmax: Vec<usize>,
}

/// The `nmc simulate` report.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateReport {
    /// Schema id, `nmc.simulate/1`.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Input file as given.
    pub input: String,
    /// Shape of the input array as read.
    pub input_shape: Vec<usize>,
    /// Batch size.
    pub batch: usize,
    /// Steps simulated.
    pub steps: usize,
    /// Time step in seconds.
    pub dt: f64,
    /// dt, discretization and spike convention the model was read with.
    pub conventions: nmc_ir::Conventions,
    /// Per-layer spike counts and rates.
    pub rates: RateReport,
    /// Output readouts.
    pub outputs: Vec<OutputSummary>,
    /// Accuracy of the first output's argmax against the labels, when given.
    pub accuracy: Option<f64>,
}

/// Reads `input`, runs the float reference for `steps` (default: the
/// input's time axis), optionally writes spikes and outputs to `out` (.npz).
pub fn run(
    g: &Graph,
    input: &Path,
    steps: Option<usize>,
    out: Option<&Path>,
    labels: Option<&Path>,
    decision: Option<crate::readout::ReadoutDecision>,
) -> Result<SimulateReport, Error> {
    let shape = input_shape_of(g);
    let arr = nmc_reference::read_input(input, &shape)?;
    let input_shape = arr.shape().to_vec();
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    // Labels are read before the run, so a bad label file fails fast.
    let labels = labels.map(|p| read_labels(p, stim.batch())).transpose()?;
    let (report, res) = run_stimulus_with(
        g,
        &input.display().to_string(),
        input_shape,
        &stim,
        steps,
        labels.as_deref(),
        decision,
    )?;
    if let Some(p) = out {
        res.write_npz(p)?;
    }
    Ok(report)
}

/// One step of the model's first input (its shape without batch and time).
pub fn input_shape_of(g: &Graph) -> nmc_ir::Shape {
    g.input_nodes()
        .first()
        .map(|&i| g.node(i).out.shape.clone())
        .unwrap_or_default()
}

/// The float reference on a stimulus (`input` names its source and
/// `input_shape` the array's shape as given, for the report): the `nmc
/// simulate` report and the run itself (spikes, output traces). `labels`,
/// when given, must hold one class per batch item.
pub fn run_stimulus(
    g: &Graph,
    input: &str,
    input_shape: Vec<usize>,
    stim: &Stimulus,
    steps: Option<usize>,
    labels: Option<&[usize]>,
) -> Result<(SimulateReport, SimResult), Error> {
    run_stimulus_with(g, input, input_shape, stim, steps, labels, None)
}

/// [`run_stimulus`] with the decision rule of value outputs (`None`: each
/// output's default, [`crate::readout`]).
pub fn run_stimulus_with(
    g: &Graph,
    input: &str,
    input_shape: Vec<usize>,
    stim: &Stimulus,
    steps: Option<usize>,
    labels: Option<&[usize]>,
    decision: Option<crate::readout::ReadoutDecision>,
) -> Result<(SimulateReport, SimResult), Error> {
    if let Some(y) = labels
        && y.len() != stim.batch()
    {
        return Err(Error::Labels {
            path: input.to_string(),
            message: format!("{} labels for a batch of {} inputs", y.len(), stim.batch()),
        });
    }
    crate::budget::check(
        "`nmc simulate`: float spikes and output traces",
        stim.batch(),
        steps.unwrap_or(stim.steps()),
        g.neuron_count() as f64 / 8.0 + 8.0 * output_features(g) as f64,
    )?;
    let res = nmc_reference::simulate(g, stim, &SimOptions { steps })?;
    let outputs: Vec<OutputSummary> = res.outputs.iter().map(|o| summary(g, o, decision)).collect();
    let accuracy = labels.and_then(|y| outputs.first().map(|o| accuracy(&o.argmax, y)));
    let report = SimulateReport {
        schema: "nmc.simulate/1",
        model: g.name.clone(),
        input: input.to_string(),
        input_shape,
        batch: res.batch,
        steps: res.steps,
        dt: res.dt,
        conventions: g.conventions(),
        rates: res.rate_report(),
        outputs,
        accuracy,
    };
    Ok((report, res))
}

/// The summary of one output: sums, last values and the decided class.
fn summary(
    g: &Graph,
    o: &nmc_reference::OutputTrace,
    decision: Option<crate::readout::ReadoutDecision>,
) -> OutputSummary {
    use crate::readout::ReadoutDecision;
    use nmc_quant::OutputKind;
    let (b, t, f) = o.values.dim();
    let kind = g
        .find(&o.name)
        .map_or(OutputKind::Spikes, |id| nmc_quant::output_kind(g, id));
    let (kind_name, decision) = match kind {
        OutputKind::Spikes => ("spikes", ReadoutDecision::Sum),
        OutputKind::Voltage => ("voltage", ReadoutDecision::resolve(decision, false)),
        OutputKind::Readout { filtered } => (
            if filtered { "filtered readout" } else { "readout" },
            ReadoutDecision::resolve(decision, filtered),
        ),
    };
    let sums: Vec<Vec<f64>> = (0..b)
        .map(|bi| {
            let item = o.values.index_axis(ndarray::Axis(0), bi);
            (0..f).map(|fi| item.index_axis(ndarray::Axis(1), fi).sum()).collect()
        })
        .collect();
    let last: Vec<Vec<f64>> = (0..b)
        .map(|bi| {
            (0..f)
                .map(|fi| if t > 0 { o.values[[bi, t - 1, fi]] } else { 0.0 })
                .collect()
        })
        .collect();
    let argmax = match decision {
        ReadoutDecision::Sum => sums.iter().map(|s| argmax(s)).collect(),
        ReadoutDecision::Last => last.iter().map(|s| argmax(s)).collect(),
    };
    OutputSummary {
        name: o.name.clone(),
        features: f,
        kind: kind_name,
        decision,
        sum_over_time: sums,
        last_step: last,
        argmax,
    }
}

/// Reads a label file: one integer class per batch item (any integer or
/// float dtype holding whole numbers), checked against the batch size.
pub fn read_labels(p: &Path, batch: usize) -> Result<Vec<usize>, Error> {
    let a = nmc_reference::read_array(p)?;
    let bad = |message: String| Error::Labels {
        path: p.display().to_string(),
        message,
    };
    if a.len() != batch {
        return Err(bad(format!(
            "{} labels (shape {:?}) for a batch of {batch} inputs",
            a.len(),
            a.shape()
        )));
    }
    a.iter()
        .enumerate()
        .map(|(i, &x)| {
            if x >= 0.0 && x.fract() == 0.0 && x < u32::MAX as f64 {
                Ok(x as usize)
            } else {
                Err(bad(format!("label {i} is {x}, not a class index")))
            }
        })
        .collect()
}

impl fmt::Display for SimulateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "float reference: model {}  input {} {:?}  batch {}  steps {}  dt {} s",
            self.model,
            self.input,
            self.input_shape,
            self.batch,
            self.steps,
            nmc_ir::num(self.dt)
        )?;
        writeln!(f, "conventions: {}", self.conventions)?;
        write!(f, "{}", self.rates)?;
        if let Some(a) = self.accuracy {
            writeln!(f, "accuracy against labels: {:.2}% ({} samples)", 100.0 * a, self.batch)?;
        }
        for o in &self.outputs {
            let shown = o.argmax.len().min(10);
            let rule = match (o.kind, o.decision) {
                ("spikes", _) => String::new(),
                (k, crate::readout::ReadoutDecision::Sum) => format!(", {k}"),
                (k, crate::readout::ReadoutDecision::Last) => format!(", {k}: argmax of the last step"),
            };
            let of = if o.decision == crate::readout::ReadoutDecision::Sum {
                "argmax of sum over time, "
            } else {
                ""
            };
            writeln!(
                f,
                "output {} ({} features{rule}): {of}first {shown} of {}: {:?}",
                o.name,
                o.features,
                o.argmax.len(),
                &o.argmax[..shown]
            )?;
        }
        Ok(())
    }
}

/// Features recorded by the output nodes (one f64 trace each).
pub(crate) fn output_features(g: &Graph) -> usize {
    g.output_nodes().iter().map(|&o| g.node(o).out.shape.numel()).sum()
}
