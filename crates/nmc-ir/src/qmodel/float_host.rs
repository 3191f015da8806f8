//! Float host layers (schema 3): a host population that runs the float
//! model on the host in `f64` — the graph's own discretization rule, its
//! float weights, bias and neuron constants, from the real-valued input —
//! as nengo-loihi runs an off-chip layer. Its spikes reach the chip exactly
//! as an integer host layer's do (the same connections, the target's host
//! latency).
//!
//! Per step `t`, with `x` the input's real values of step `t`:
//! `y = bias`; for every neuron `o` and stored entry `(o, j, w)` of row `o`
//! in storage order with `x[j] ≠ 0`, `y[o] = y[o] + w·x[j]`; then the one
//! float population step [`nmc_core::lif::Lif::step`] on `y` (each
//! operation one IEEE-754 `f64` operation, no fused multiply-add). The
//! float reference's Affine and Conv kernels add in this order, so a layer
//! fed by one Affine or Conv gets the float reference's bits exactly.
//!
//! The population keeps its integer compartment and connection (what
//! `--host-layers integer` runs, and what the reports compare against);
//! when [`QPopulation::float`] is present, both integer executions run the
//! float layer instead and never read the integer one.

use super::{QModel, QModelError, QPopulation, ReadoutWeights};
use nmc_core::lif::{FloatMap, Lif, NengoRule};
use serde::{Deserialize, Serialize};

/// The float model of a host population (module documentation).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatHost {
    /// `f64` weights on the real values of the population's one input
    /// (`inputs[0].source`), rows over its neurons.
    pub weights: ReadoutWeights,
    /// Bias added to every step's weighted input, per neuron.
    pub bias: Vec<f64>,
    /// The neuron constants under the graph's discretization rule.
    pub neuron: FloatNeuron,
}

/// The stored constants of [`nmc_core::lif::Lif`] (field for field).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FloatNeuron {
    pub syn_decay: Vec<f64>,
    pub syn_gain: Vec<f64>,
    pub syn: Vec<bool>,
    pub w_in: Vec<f64>,
    pub mem_decay: Vec<f64>,
    pub mem_gain: Vec<f64>,
    pub v_leak: Vec<f64>,
    pub r: Vec<f64>,
    pub threshold: Vec<f64>,
    pub v_reset: Vec<f64>,
    pub integrator: bool,
    pub spiking: bool,
    pub subtract: bool,
    pub refractory_steps: u32,
    pub v_min: f64,
    /// nengo's rule: `(dt, τ per neuron, T_ref)`.
    pub nengo: Option<FloatNengo>,
}

/// nengo's rule constants ([`nmc_core::lif::NengoRule`]).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FloatNengo {
    pub dt: f64,
    pub tau: Vec<f64>,
    pub t_ref: f64,
}

impl From<&Lif> for FloatNeuron {
    fn from(l: &Lif) -> FloatNeuron {
        FloatNeuron {
            syn_decay: l.syn_decay.clone(),
            syn_gain: l.syn_gain.clone(),
            syn: l.syn.clone(),
            w_in: l.w_in.clone(),
            mem_decay: l.mem_decay.clone(),
            mem_gain: l.mem_gain.clone(),
            v_leak: l.v_leak.clone(),
            r: l.r.clone(),
            threshold: l.threshold.clone(),
            v_reset: l.v_reset.clone(),
            integrator: l.integrator,
            spiking: l.spiking,
            subtract: l.subtract,
            refractory_steps: l.refractory_steps,
            v_min: l.v_min,
            nengo: l.nengo.as_ref().map(|n| FloatNengo {
                dt: n.dt,
                tau: n.tau.clone(),
                t_ref: n.t_ref,
            }),
        }
    }
}

impl From<&FloatNeuron> for Lif {
    fn from(l: &FloatNeuron) -> Lif {
        Lif {
            syn_decay: l.syn_decay.clone(),
            syn_gain: l.syn_gain.clone(),
            syn: l.syn.clone(),
            w_in: l.w_in.clone(),
            mem_decay: l.mem_decay.clone(),
            mem_gain: l.mem_gain.clone(),
            v_leak: l.v_leak.clone(),
            r: l.r.clone(),
            threshold: l.threshold.clone(),
            v_reset: l.v_reset.clone(),
            integrator: l.integrator,
            spiking: l.spiking,
            subtract: l.subtract,
            refractory_steps: l.refractory_steps,
            v_min: l.v_min,
            nengo: l.nengo.as_ref().map(|n| NengoRule {
                dt: n.dt,
                tau: n.tau.clone(),
                t_ref: n.t_ref,
            }),
        }
    }
}

impl FloatHost {
    /// The weights as the shared kernel reads them.
    pub fn map(&self) -> FloatMap<'_> {
        match &self.weights {
            ReadoutWeights::Dense { out, inp, w } => FloatMap::Dense {
                out: *out,
                inp: *inp,
                w,
            },
            ReadoutWeights::Sparse {
                out,
                inp,
                row_ptr,
                col,
                w,
            } => FloatMap::Sparse {
                out: *out,
                inp: *inp,
                row_ptr,
                col,
                w,
            },
        }
    }
}

impl QModel {
    /// The structure of a population's float host layer: schema 3, a host
    /// population with one connection from a real-valued input, weights
    /// and bias of its dimensions, finite numbers, a spiking neuron of its
    /// size.
    pub(super) fn check_float_host(&self, p: &QPopulation, f: &FloatHost) -> Result<(), QModelError> {
        let err = |field: &str, m: String| QModelError {
            population: p.name.clone(),
            field: format!("float.{field}"),
            message: m,
        };
        if self.schema_version < 3 {
            return Err(err(
                "",
                format!(
                    "schema_version {} has no float host layers (write schema_version 3)",
                    self.schema_version
                ),
            ));
        }
        if p.placement != super::Placement::Host {
            return Err(err(
                "",
                "a float layer runs on the host; this population is on the chip".into(),
            ));
        }
        let [c] = &p.inputs[..] else {
            return Err(err(
                "weights",
                format!(
                    "a float host layer reads one input; the population has {} connections",
                    p.inputs.len()
                ),
            ));
        };
        let super::Source::Input(k) = c.source else {
            return Err(err("weights", "a float host layer reads a graph input".into()));
        };
        let n = p.shape.numel();
        let features = self.inputs.get(k).map_or(0, |i| i.shape.numel());
        if !f.map().fits(n, features) {
            return Err(err(
                "weights",
                format!("must map the input's {features} values to the {n} neurons (consistent rows)"),
            ));
        }
        let w = match &f.weights {
            ReadoutWeights::Dense { w, .. } | ReadoutWeights::Sparse { w, .. } => w,
        };
        if let Some(i) = w.iter().position(|x| !x.is_finite()) {
            return Err(err(
                &format!("weights.w[{i}]"),
                format!("is {}, not a finite number", w[i]),
            ));
        }
        if f.bias.len() != n || f.bias.iter().any(|b| !b.is_finite()) {
            return Err(err("bias", format!("must be {n} finite numbers")));
        }
        let lif = Lif::from(&f.neuron);
        if lif.len() != n {
            return Err(err("neuron", format!("has {} neurons, the population {n}", lif.len())));
        }
        if let Some(field) = lif.problem() {
            return Err(err(&format!("neuron.{field}"), "wrong length or not a number".into()));
        }
        if !lif.spiking {
            return Err(err("neuron.spiking", "a host layer spikes".into()));
        }
        Ok(())
    }
}
