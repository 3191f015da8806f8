//! Firing rates from spike counts, and their terminal table.

pub use crate::result::NonSpiking;
use crate::result::SimResult;
use serde::Serialize;
use std::fmt;

/// Per-layer spike counts and rates of a run. Every rate is
/// `spikes / (steps · dt)` per neuron, averaged over the batch, computed from
/// spike counts — never from an amplitude-scaled output value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateReport {
    /// Time step in seconds.
    pub dt: f64,
    /// Steps per sample.
    pub steps: usize,
    /// Samples.
    pub batch: usize,
    /// Spiking layers in schedule order.
    pub layers: Vec<LayerRates>,
    /// Neuron populations that do not spike (I, LI, CubaLI): no rate.
    pub non_spiking: Vec<NonSpiking>,
    /// Layers whose activity says the network is probably not what was
    /// meant: the first layer (schedule order) that never fired, and every
    /// layer whose neurons all fired on every step, each naming the layer and
    /// the likely causes.
    pub warnings: Vec<String>,
}

/// Spike statistics of one spiking layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRates {
    /// Node name.
    pub name: String,
    /// NIR model name (`IF`, `LIF`, `CubaLIF`, `Threshold`).
    pub model: String,
    /// Number of neurons.
    pub neurons: usize,
    /// Total spikes over batch, steps and neurons.
    pub spikes: u64,
    /// Mean over neurons of the per-neuron rate, Hz.
    pub mean_rate_hz: f64,
    /// Highest per-neuron rate, Hz.
    pub max_rate_hz: f64,
    /// Neurons that never spiked (in any sample).
    pub silent: usize,
    /// Neurons that spiked on every step of every sample (rate `1/dt`).
    pub at_ceiling: usize,
    /// The highest possible rate, `1/dt`, Hz.
    pub ceiling_hz: f64,
}

impl SimResult {
    /// Rates of every spiking layer, from spike counts:
    /// `rate_i = count_i / (batch · steps · dt)` for neuron `i` (its count
    /// summed over the batch), `mean_rate_hz` the mean of `rate_i` over the
    /// layer, `max_rate_hz` the largest.
    pub fn rate_report(&self) -> RateReport {
        let denom = self.batch as f64 * self.steps as f64 * self.dt;
        let full = (self.batch * self.steps) as u64;
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let counts = l.counts();
                let total: u64 = counts.iter().sum();
                let max = counts.iter().copied().max().unwrap_or(0);
                let n = counts.len();
                let rate = |c: u64| if denom > 0.0 { c as f64 / denom } else { 0.0 };
                LayerRates {
                    name: l.name.clone(),
                    model: l.model.clone(),
                    neurons: n,
                    spikes: total,
                    mean_rate_hz: if n > 0 { rate(total) / n as f64 } else { 0.0 },
                    max_rate_hz: rate(max),
                    silent: counts.iter().filter(|&&c| c == 0).count(),
                    at_ceiling: if full > 0 {
                        counts.iter().filter(|&&c| c == full).count()
                    } else {
                        0
                    },
                    ceiling_hz: 1.0 / self.dt,
                }
            })
            .collect::<Vec<LayerRates>>();
        let stats: Vec<LayerStat<'_>> = layers.iter().map(LayerStat::from).collect();
        let warnings = activity_warnings(&stats, self.batch, self.steps);
        RateReport {
            dt: self.dt,
            steps: self.steps,
            batch: self.batch,
            layers,
            non_spiking: self.non_spiking.clone(),
            warnings,
        }
    }
}

/// The warnings of [`RateReport::warnings`]. Only the first silent layer is
/// named as the place to look: the silent layers after it may be silent only
/// because it is.
/// `layers`: (name, neurons, spikes, neurons at the ceiling) of each
/// spiking layer in schedule order.
pub fn activity_warnings(layers: &[LayerStat<'_>], batch: usize, steps: usize) -> Vec<String> {
    let mut w = Vec::new();
    if batch == 0 || steps == 0 {
        return w;
    }
    if let Some(k) = layers.iter().position(|l| l.neurons > 0 && l.spikes == 0) {
        let l = &layers[k];
        let later: Vec<&str> = layers[k + 1..]
            .iter()
            .filter(|l| l.neurons > 0 && l.spikes == 0)
            .map(|l| l.name)
            .collect();
        let mut m = format!(
            "layer `{}` ({} neurons) never fired in {batch} sample(s) × {steps} steps. Likely causes: the spike \
             convention (a network trained with spikes of height 1/dt, as nengo's, has weights dt times smaller \
             than one that counts a spike as 1 per step: read it with `--spike-convention impulse`), the weight or input scale (scale_firing_rates, input \
             gain), or the threshold and bias",
            l.name, l.neurons
        );
        if !later.is_empty() {
            m.push_str(&format!(
                "; later silent layers, possibly only because of it: {}",
                later.join(", ")
            ));
        }
        w.push(m);
    }
    for l in layers.iter().filter(|l| l.neurons > 0 && l.at_ceiling == l.neurons) {
        w.push(format!(
            "layer `{}`: every one of its {} neurons fired on every step (rate 1/dt): its rates no longer follow \
             its input. Likely causes: the spike convention (weights meant for spikes of height 1 per step read \
             as 1/dt impulses: read it with `--spike-convention step`), too large a weight or input scale, a threshold or bias off by a unit, or too \
             coarse a dt",
            l.name, l.neurons
        ));
    }
    w
}

/// What [`activity_warnings`] reads of one spiking layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerStat<'a> {
    /// Layer name.
    pub name: &'a str,
    /// Neurons.
    pub neurons: usize,
    /// Spikes over the whole run.
    pub spikes: u64,
    /// Neurons that fired on every step of every sample.
    pub at_ceiling: usize,
}

impl<'a> From<&'a LayerRates> for LayerStat<'a> {
    fn from(l: &'a LayerRates) -> Self {
        LayerStat {
            name: &l.name,
            neurons: l.neurons,
            spikes: l.spikes,
            at_ceiling: l.at_ceiling,
        }
    }
}

fn hz(x: f64) -> String {
    format!("{x:.1}")
}

impl fmt::Display for RateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "spike rates: dt {} s, {} steps, batch {}; rates = spikes / (steps·dt), from spike counts, mean over \
             the batch; ceiling 1/dt = {} Hz",
            nmc_ir::num(self.dt),
            self.steps,
            self.batch,
            hz(1.0 / self.dt)
        )?;
        if self.layers.is_empty() {
            writeln!(f, "no spiking layers")?;
        } else {
            let header = [
                "layer",
                "model",
                "neurons",
                "spikes",
                "mean Hz",
                "max Hz",
                "silent",
                "at ceiling",
            ];
            let rows: Vec<[String; 8]> = self
                .layers
                .iter()
                .map(|l| {
                    [
                        l.name.clone(),
                        l.model.clone(),
                        l.neurons.to_string(),
                        l.spikes.to_string(),
                        hz(l.mean_rate_hz),
                        hz(l.max_rate_hz),
                        l.silent.to_string(),
                        l.at_ceiling.to_string(),
                    ]
                })
                .collect();
            let mut w = header.map(|h| h.chars().count());
            for r in &rows {
                for (k, c) in r.iter().enumerate() {
                    w[k] = w[k].max(c.chars().count());
                }
            }
            let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
                let mut s = String::new();
                for (k, c) in cells.iter().enumerate() {
                    let pad = w[k].saturating_sub(c.chars().count());
                    if k > 0 {
                        s.push_str("  ");
                    }
                    if k < 2 {
                        s.push_str(c);
                        s.extend(std::iter::repeat_n(' ', pad));
                    } else {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(c);
                    }
                }
                writeln!(f, "{}", s.trim_end())
            };
            line(f, &header.map(String::from))?;
            for r in &rows {
                line(f, r)?;
            }
            let ceiling: usize = self.layers.iter().map(|l| l.at_ceiling).sum();
            if ceiling > 0 {
                writeln!(
                    f,
                    "note: {ceiling} neuron(s) spiked on every step: their rate is capped at 1/dt and no longer \
                     follows their input (use a smaller dt or lower input gains)"
                )?;
            }
        }
        for m in &self.warnings {
            writeln!(f, "warning: {m}")?;
        }
        if !self.non_spiking.is_empty() {
            let list: Vec<String> = self
                .non_spiking
                .iter()
                .map(|p| format!("{} ({}, {})", p.name, p.model, p.neurons))
                .collect();
            writeln!(
                f,
                "not spiking (no rate; values via outputs or probes): {}",
                list.join(", ")
            )?;
        }
        Ok(())
    }
}
