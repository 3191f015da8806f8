//! Float host layers (format 3): a host layer the host computes in `f64`
//! from the real-valued input — the float model with the graph's rule — in
//! place of its integer compartments (module documentation, "Float host
//! layers").

use crate::{Artifact, ReadoutWeights};
use nmc_core::lif::{FloatMap, Lif, NengoRule};
use nmc_core::{Loc, Problem};
use serde::{Deserialize, Serialize};

/// The float model of one host layer.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct FloatHostLayer {
    /// Index into [`Artifact::host`]: the host layer it replaces (its
    /// input, layer and routes are that layer's).
    pub host: u32,
    /// `f64` weights on the input's real values, rows over neurons.
    pub weights: ReadoutWeights,
    /// Bias per neuron.
    pub bias: Vec<f64>,
    /// The neuron constants ([`nmc_core::lif::Lif`], field for field).
    pub neuron: FloatNeuron,
}

/// The stored constants of [`nmc_core::lif::Lif`].
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
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
    pub nengo: Option<(f64, Vec<f64>, f64)>,
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
            nengo: l.nengo.as_ref().map(|n| (n.dt, n.tau.clone(), n.t_ref)),
        }
    }
}

impl FloatHostLayer {
    /// The neuron constants as the shared step reads them.
    pub fn lif(&self) -> Lif {
        let l = &self.neuron;
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
            nengo: l.nengo.as_ref().map(|(dt, tau, t_ref)| NengoRule {
                dt: *dt,
                tau: tau.clone(),
                t_ref: *t_ref,
            }),
        }
    }

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

impl Artifact {
    /// Float host layer `fi`: replaces an existing host layer (each at most
    /// once), its weights map that layer's real input to its neurons,
    /// finite weights and bias, a spiking neuron of its size.
    pub(crate) fn check_float_host(&self, fi: usize, f: &FloatHostLayer) -> Result<(), Problem> {
        let at = |field, m: String| Err(Problem::new(Loc::HostLayer(f.host as usize), field, m));
        let Some(h) = self.host.get(f.host as usize) else {
            return Err(Problem::new(
                Loc::Whole,
                "float_host",
                format!(
                    "float host layer {fi} replaces host layer {}, which does not exist",
                    f.host
                ),
            ));
        };
        if self.float_host[..fi].iter().any(|g| g.host == f.host) {
            return at("float_host", "has two float models".into());
        }
        let n = h.cx.len();
        let features = self
            .inputs
            .get(h.input as usize)
            .and_then(|i| crate::shape_len(&i.shape))
            .unwrap_or(0);
        if !f.map().fits(n, features) {
            return at(
                "float_host.weights",
                format!("must map the input's {features} values to the layer's {n} neurons"),
            );
        }
        let w = match &f.weights {
            ReadoutWeights::Dense { w, .. } | ReadoutWeights::Sparse { w, .. } => w,
        };
        if w.iter().chain(&f.bias).any(|x| !x.is_finite()) || f.bias.len() != n {
            return at(
                "float_host.bias",
                format!("weights and {n} biases must be finite numbers"),
            );
        }
        let lif = f.lif();
        if lif.len() != n || !lif.spiking {
            return at(
                "float_host.neuron",
                format!("must be a spiking population of {n} neurons"),
            );
        }
        if let Some(field) = lif.problem() {
            return at("float_host.neuron", format!("{field}: wrong length or not a number"));
        }
        Ok(())
    }
}
