//! Per-layer spike activity of an integer execution (fixed reference or
//! emulator), with rates from spike counts, and the `nmc emulate` report.
//!
//! JSON schema `nmc.emulate/1`: `{schema, model, target, batch, steps, dt,
//! layers: [{name, neurons, spikes, mean_rate_hz, max_rate_hz, silent,
//! at_ceiling}], cores: [{chip, core, spikes, syn_events}], host_spikes,
//! syn_events, output: {layer, argmax, accuracy}, overflows: [{layer,
//! q_wraps, u_wraps, v_clips}], golden: null | {file, equal, samples,
//! structure, layers: [{layer, spikes_expected, spikes_now, differing_bits,
//! samples_differing}], first: {layer, sample, step, neuron,
//! expected_spike}}, warnings: [string]}`.

use crate::compare::{Spikes, argmax_u32};
use serde::Serialize;
use std::fmt;

/// Activity of one layer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LayerActivity {
    /// Layer name.
    pub name: String,
    /// Neurons.
    pub neurons: usize,
    /// Spikes over all items and steps.
    pub spikes: u64,
    /// Mean rate per neuron, Hz (spikes / (steps·dt), averaged over items).
    pub mean_rate_hz: f64,
    /// Largest per-neuron rate (averaged over items), Hz.
    pub max_rate_hz: f64,
    /// Neurons that never spiked.
    pub silent: usize,
    /// Neurons that spiked on every step of every item (rate 1/dt, the
    /// ceiling), as the float reference counts them.
    pub at_ceiling: usize,
}

impl LayerActivity {
    /// Activity of a spike view over its whole recording.
    pub fn of(s: &Spikes<'_>, dt: f64) -> Self {
        let mut a = ActivityAcc::new(s.name, s.n, s.steps);
        a.add(s);
        a.finish(dt)
    }
}

/// [`LayerActivity`] accumulated over batches of samples (for streamed runs).
#[derive(Debug, Clone)]
pub struct ActivityAcc {
    name: String,
    steps: usize,
    batch: usize,
    per: Vec<u64>,
    ceiling: Vec<bool>,
}

impl ActivityAcc {
    /// No samples yet, `n` neurons, `steps` steps per sample.
    pub fn new(name: &str, n: usize, steps: usize) -> Self {
        ActivityAcc {
            name: name.to_string(),
            steps,
            batch: 0,
            per: vec![0; n],
            ceiling: vec![steps > 0; n],
        }
    }
    /// Adds the samples of a view (same neurons and steps).
    pub fn add(&mut self, s: &Spikes<'_>) {
        let c = s.counts(0, s.steps);
        for b in 0..s.batch {
            for (i, (per, ceil)) in self.per.iter_mut().zip(&mut self.ceiling).enumerate().take(s.n) {
                let k = c[b * s.n + i];
                *per += k as u64;
                if k as usize != self.steps {
                    *ceil = false;
                }
            }
        }
        self.batch += s.batch;
    }
    /// The activity so far.
    pub fn finish(&self, dt: f64) -> LayerActivity {
        let n = self.per.len();
        let secs = (self.steps as f64 * dt).max(f64::MIN_POSITIVE);
        let total: u64 = self.per.iter().sum();
        let items = self.batch.max(1) as f64;
        LayerActivity {
            name: self.name.clone(),
            neurons: n,
            spikes: total,
            mean_rate_hz: total as f64 / (items * n.max(1) as f64 * secs),
            max_rate_hz: self.per.iter().copied().max().unwrap_or(0) as f64 / (items * secs),
            silent: self.per.iter().filter(|&&k| k == 0).count(),
            at_ceiling: if self.batch == 0 {
                0
            } else {
                self.ceiling.iter().filter(|&&x| x).count()
            },
        }
    }
}

/// Renders activity rows as an aligned table.
pub fn table(rows: &[LayerActivity]) -> String {
    let mut s = format!(
        "{:<14} {:>8} {:>10} {:>9} {:>9} {:>7} {:>10}\n",
        "layer", "neurons", "spikes", "mean Hz", "max Hz", "silent", "at ceiling"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<14} {:>8} {:>10} {:>9.1} {:>9.1} {:>7} {:>10}\n",
            r.name, r.neurons, r.spikes, r.mean_rate_hz, r.max_rate_hz, r.silent, r.at_ceiling
        ));
    }
    s
}

/// Wraps and clips of one layer as the reports give them (`overflows` of
/// `nmc.emulate/1` and `nmc.verify/1`): the trace's per-register counts, with
/// the current register's two (`u`, `u + bias`) summed as `u_wraps`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LayerOverflow {
    /// Layer name.
    pub layer: String,
    /// Wraps (or clips) of `q` to the accumulator register.
    pub q_wraps: u64,
    /// Wraps (or clips) of `u` and of `u + bias` to the current register.
    pub u_wraps: u64,
    /// Clips of `v` to `[vmin, vmax]` (or its register).
    pub v_clips: u64,
}

impl LayerOverflow {
    /// The report row of one layer of a trace.
    pub fn of(l: &nmc_trace::LayerTrace) -> LayerOverflow {
        LayerOverflow {
            layer: l.name.clone(),
            q_wraps: l.overflows.q_wraps(),
            u_wraps: l.overflows.u_wraps(),
            v_clips: l.overflows.v_clips(),
        }
    }

    /// The rows of every layer of a trace, in its order.
    pub fn all(t: &nmc_trace::Trace) -> Vec<LayerOverflow> {
        t.layers.iter().map(LayerOverflow::of).collect()
    }

    /// `q_wraps + u_wraps + v_clips`.
    pub fn total(&self) -> u64 {
        self.q_wraps + self.u_wraps + self.v_clips
    }

    /// Adds another chunk's counts of the same layer.
    pub fn add(&mut self, o: &LayerOverflow) {
        self.q_wraps += o.q_wraps;
        self.u_wraps += o.u_wraps;
        self.v_clips += o.v_clips;
    }
}

/// The overflow lines of a report: `overflows: none …`, or a table of the
/// layers with wraps or clips.
pub fn overflow_table(overflows: &[LayerOverflow]) -> String {
    let hit: Vec<_> = overflows.iter().filter(|o| o.total() > 0).collect();
    if hit.is_empty() {
        return "overflows: none (no register wrapped, no voltage clipped)\n".to_string();
    }
    let mut s = format!(
        "overflows (counted; --strict makes the first an error):\n  {:<14} {:>10} {:>10} {:>10}\n",
        "layer", "q wraps", "u wraps", "v clips"
    );
    for o in hit {
        s.push_str(&format!(
            "  {:<14} {:>10} {:>10} {:>10}\n",
            o.layer, o.q_wraps, o.u_wraps, o.v_clips
        ));
    }
    s
}

/// Output readout of an integer execution.
#[derive(Debug, Clone, Serialize)]
pub struct Readout {
    /// Output layer.
    pub layer: String,
    /// Argmax of spike counts per item.
    pub argmax: Vec<usize>,
    /// Accuracy against labels, when given.
    pub accuracy: Option<f64>,
}

impl Readout {
    /// Argmax of counts per item (and accuracy when labels are given).
    pub fn of(s: &Spikes<'_>, labels: Option<&[usize]>) -> Self {
        let c = s.counts(0, s.steps);
        let argmax: Vec<usize> = (0..s.batch).map(|b| argmax_u32(&c[b * s.n..(b + 1) * s.n])).collect();
        let accuracy = labels.map(|y| crate::simulate::accuracy(&argmax, y));
        Readout {
            layer: s.name.to_string(),
            argmax,
            accuracy,
        }
    }
}

/// The decisions of one host readout of an emulated run.
#[derive(Debug, Clone, Serialize)]
pub struct ReadoutResult {
    /// Readout name.
    pub readout: String,
    /// The output it feeds.
    pub output: String,
    /// Its lowpass time constant (s), when filtered.
    pub synapse_tau: Option<f64>,
    /// How the class is decided (`last` or `sum`).
    pub decision: crate::readout::ReadoutDecision,
    /// The decided class per item.
    pub argmax: Vec<usize>,
    /// Accuracy against labels, when given.
    pub accuracy: Option<f64>,
}

/// The `nmc emulate` report.
#[derive(Debug, Clone, Serialize)]
pub struct EmulateReport {
    /// Schema id.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Batch size.
    pub batch: usize,
    /// Steps run.
    pub steps: usize,
    /// dt, s.
    pub dt: f64,
    /// Per layer.
    pub layers: Vec<LayerActivity>,
    /// Per core.
    pub cores: Vec<nmc_emu::CoreActivity>,
    /// Host spikes sent to the chip.
    pub host_spikes: u64,
    /// Synaptic events.
    pub syn_events: u64,
    /// Output readout.
    pub output: Option<Readout>,
    /// Host readouts (computed on the host from chip spikes).
    pub readouts: Vec<ReadoutResult>,
    /// Wraps and clips of the integer registers per layer (all zero in a
    /// healthy deployment; `--strict` turns the first into an error).
    pub overflows: Vec<LayerOverflow>,
    /// The comparison with a golden spike file (`--expect`).
    pub golden: Option<crate::spikefile::GoldenCheck>,
    /// Silent or saturated spiking layers, with their likely causes
    /// (`nmc_reference::activity_warnings`).
    pub warnings: Vec<String>,
}

/// The activity warnings of spiking `layers` (`spiking[k]` for layer `k`).
pub fn warnings_of(layers: &[LayerActivity], spiking: &[bool], batch: usize, steps: usize) -> Vec<String> {
    let stats: Vec<nmc_reference::LayerStat<'_>> = layers
        .iter()
        .zip(spiking)
        .filter(|(_, s)| **s)
        .map(|(l, _)| nmc_reference::LayerStat {
            name: &l.name,
            neurons: l.neurons,
            spikes: l.spikes,
            at_ceiling: l.at_ceiling,
        })
        .collect();
    nmc_reference::activity_warnings(&stats, batch, steps)
}

impl fmt::Display for EmulateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "emulated {} on {}: {} samples × {} steps, dt {} s; rates = spikes / (steps·dt)",
            self.model,
            self.target,
            self.batch,
            self.steps,
            nmc_ir::num(self.dt)
        )?;
        f.write_str(&table(&self.layers))?;
        let busiest = self.cores.iter().max_by_key(|c| c.syn_events);
        writeln!(
            f,
            "{} cores; {} synaptic events; {} host spikes sent to the chip{}",
            self.cores.len(),
            self.syn_events,
            self.host_spikes,
            busiest
                .map(|c| format!(
                    "; busiest core: chip {} core {} ({} events)",
                    c.chip, c.core, c.syn_events
                ))
                .unwrap_or_default()
        )?;
        if let Some(o) = &self.output {
            let shown = o.argmax.len().min(10);
            write!(
                f,
                "output {}: argmax of spike counts, first {shown}: {:?}",
                o.layer,
                &o.argmax[..shown]
            )?;
            if let Some(a) = o.accuracy {
                write!(f, "; accuracy {:.2}%", 100.0 * a)?;
            }
            writeln!(f)?;
        }
        for r in &self.readouts {
            let shown = r.argmax.len().min(10);
            write!(
                f,
                "host readout {} -> output {} ({}): argmax of {}, first {shown}: {:?}",
                r.readout,
                r.output,
                r.synapse_tau
                    .map_or("no synapse".to_string(), |t| format!("lowpass {} s", nmc_ir::num(t))),
                match r.decision {
                    crate::readout::ReadoutDecision::Last => "the last step",
                    crate::readout::ReadoutDecision::Sum => "the sum over time",
                },
                &r.argmax[..shown]
            )?;
            if let Some(a) = r.accuracy {
                write!(f, "; accuracy {:.2}%", 100.0 * a)?;
            }
            writeln!(f)?;
        }
        f.write_str(&overflow_table(&self.overflows))?;
        for m in &self.warnings {
            writeln!(f, "warning: {m}")?;
        }
        if let Some(g) = &self.golden {
            write!(f, "{g}")?;
        }
        Ok(())
    }
}
