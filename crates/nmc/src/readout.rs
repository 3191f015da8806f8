//! Decisions on readout outputs (argmax of the last step or of the sum over
//! time) and the float-vs-deployed comparison of host readouts.
//!
//! An output that records **spikes** is decided by its spike counts (argmax
//! of the sum over time), always. An output that records a **value** (a host
//! readout, or a non-spiking population's voltage) is decided by
//! [`ReadoutDecision`]: `last` — argmax of the value at the last step of the
//! presentation (NengoDL's `predictions[out_p_filt][:, -1]`), or `sum` —
//! argmax of the sum over the presentation. The default is `last` for a
//! readout read through a readout synapse (lowpass: its last value is the
//! filtered answer) and `sum` otherwise (an unfiltered readout's last step
//! holds one step's spikes only).

use serde::Serialize;
use std::fmt;

/// How the class of a value output is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadoutDecision {
    /// Argmax of the value at the last step.
    Last,
    /// Argmax of the sum of the values over time.
    Sum,
}

impl ReadoutDecision {
    /// `choice`, or the default: `last` for a filtered readout, else `sum`.
    pub fn resolve(choice: Option<ReadoutDecision>, filtered: bool) -> ReadoutDecision {
        choice.unwrap_or(if filtered {
            ReadoutDecision::Last
        } else {
            ReadoutDecision::Sum
        })
    }

    /// `last` or `sum`.
    pub fn name(self) -> &'static str {
        match self {
            ReadoutDecision::Last => "last",
            ReadoutDecision::Sum => "sum",
        }
    }

    /// The class of one item: `values[(t0 + t)·n + i]` for `t < steps`.
    pub fn decide(self, values: &[f64], t0: usize, steps: usize, n: usize) -> usize {
        match self {
            ReadoutDecision::Last if steps > 0 => {
                let at = (t0 + steps - 1) * n;
                argmax(&values[at..at + n])
            }
            _ => {
                let mut sum = vec![0.0; n];
                for t in t0..t0 + steps {
                    for (s, v) in sum.iter_mut().zip(&values[t * n..(t + 1) * n]) {
                        *s += v;
                    }
                }
                argmax(&sum)
            }
        }
    }
}

impl fmt::Display for ReadoutDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A host readout deployed vs the float reference (the `readouts` of
/// `nmc.verify/1`).
#[derive(Debug, Clone, Serialize)]
pub struct ReadoutAgreement {
    /// Readout name.
    pub readout: String,
    /// The output it feeds.
    pub output: String,
    /// Elements.
    pub elements: usize,
    /// The lowpass time constant (s), when filtered.
    pub synapse_tau: Option<f64>,
    /// Steps by which the deployed readout lags the float one (the chip's
    /// latencies plus the chip → host latency).
    pub lag: usize,
    /// The decision rule of both sides.
    pub decision: ReadoutDecision,
    /// Largest |deployed − float| over items, steps and elements.
    pub max_abs_error: f64,
    /// RMS of deployed − float.
    pub rms_error: f64,
    /// Largest |float| (the scale of the errors).
    pub max_abs_float: f64,
    /// Fraction of items whose decided class agrees.
    pub decision_agreement: f64,
    /// Float accuracy against labels.
    pub float_accuracy: Option<f64>,
    /// Deployed accuracy against labels.
    pub deployed_accuracy: Option<f64>,
}

/// One side of a readout comparison: values at `(b·steps + t)·n + i`.
pub struct ReadoutValues<'a> {
    /// The values.
    pub values: &'a [f64],
    /// Steps per item in `values`.
    pub steps: usize,
    /// The first step compared.
    pub offset: usize,
}

impl ReadoutAgreement {
    /// Compares `deployed` with `float` over `steps` steps of `batch` items
    /// of `n` elements, deciding both with `decision`.
    #[allow(clippy::too_many_arguments)]
    pub fn of(
        (readout, output, synapse_tau): (&str, &str, Option<f64>),
        float: &ReadoutValues<'_>,
        deployed: &ReadoutValues<'_>,
        batch: usize,
        steps: usize,
        n: usize,
        decision: ReadoutDecision,
        labels: Option<&[usize]>,
    ) -> ReadoutAgreement {
        let (mut max_err, mut sq, mut max_f, mut count) = (0.0f64, 0.0f64, 0.0f64, 0usize);
        let mut pf = Vec::with_capacity(batch);
        let mut pd = Vec::with_capacity(batch);
        for b in 0..batch {
            let fv = &float.values[b * float.steps * n..(b + 1) * float.steps * n];
            let dv = &deployed.values[b * deployed.steps * n..(b + 1) * deployed.steps * n];
            for t in 0..steps {
                for i in 0..n {
                    let x = fv[(float.offset + t) * n + i];
                    let y = dv[(deployed.offset + t) * n + i];
                    max_err = max_err.max((y - x).abs());
                    max_f = max_f.max(x.abs());
                    sq += (y - x) * (y - x);
                    count += 1;
                }
            }
            pf.push(decision.decide(fv, float.offset, steps, n));
            pd.push(decision.decide(dv, deployed.offset, steps, n));
        }
        let agree = pf.iter().zip(&pd).filter(|(a, b)| a == b).count() as f64 / batch.max(1) as f64;
        ReadoutAgreement {
            readout: readout.to_string(),
            output: output.to_string(),
            elements: n,
            synapse_tau,
            lag: deployed.offset.saturating_sub(float.offset),
            decision,
            max_abs_error: max_err,
            rms_error: (sq / count.max(1) as f64).sqrt(),
            max_abs_float: max_f,
            decision_agreement: agree,
            float_accuracy: labels.map(|y| accuracy(&pf, y)),
            deployed_accuracy: labels.map(|y| accuracy(&pd, y)),
        }
    }
}

impl fmt::Display for ReadoutAgreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "host readout {} -> output {} ({} elements, {}, lag {}): max |deployed − float| {:.4e} (float values up \
             to {:.4e}, rms {:.4e}); decision {}: agreement {:.2}%",
            self.readout,
            self.output,
            self.elements,
            self.synapse_tau
                .map_or("no synapse".to_string(), |t| format!("lowpass {} s", nmc_ir::num(t))),
            self.lag,
            self.max_abs_error,
            self.max_abs_float,
            self.rms_error,
            self.decision,
            100.0 * self.decision_agreement
        )?;
        if let (Some(a), Some(b)) = (self.float_accuracy, self.deployed_accuracy) {
            write!(f, "; accuracy float {:.2}%, deployed {:.2}%", 100.0 * a, 100.0 * b)?;
        }
        writeln!(f)
    }
}

/// Index of the largest value (first on ties); 0 for an empty slice.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Fraction of predictions equal to the labels.
pub fn accuracy(pred: &[usize], labels: &[usize]) -> f64 {
    let n = pred.len().min(labels.len());
    if n == 0 {
        return 0.0;
    }
    pred.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / n as f64
}
