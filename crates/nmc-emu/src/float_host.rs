//! Float host layers (artifact format 3): the host layer computed in `f64`
//! from the real-valued input by the one shared float step
//! ([`nmc_core::lif::host_spikes`], the fixed reference's too), before the
//! item's integer run; the step loop then fires its spikes as it fires
//! recorded host spikes, so they take the host layer's routes and the
//! target's host latency.

use crate::data::InputData;
use crate::error::EmuError;
use nmc_artifact::{Artifact, FloatHostLayer, LayerLoc};
use nmc_core::lif::Lif;
use nmc_core::{Loc, Problem};

/// One float host layer, ready to run.
pub(crate) struct FloatHost {
    /// Index into the artifact's layers.
    pub(crate) layer: usize,
    /// Index into the inputs.
    input: usize,
    lif: Lif,
    model: FloatHostLayer,
}

/// The artifact's float host layers. Their compartments come before every
/// other (host compartments first), and the step loop skips updating all
/// host compartments when it fires given spikes, so a float host layer must
/// not share the host with an integer one.
pub(crate) fn build(a: &Artifact) -> Result<Vec<FloatHost>, EmuError> {
    if !a.float_host.is_empty() && a.float_host.len() != a.host.len() {
        return Err(EmuError::Invalid(Problem::new(
            Loc::Whole,
            "float_host",
            format!(
                "{} of {} host layers are float; the emulator runs all host layers in float or none",
                a.float_host.len(),
                a.host.len()
            ),
        )));
    }
    let mut out = Vec::with_capacity(a.float_host.len());
    for f in &a.float_host {
        let h = &a.host[f.host as usize];
        let layer = h.layer as usize;
        if !matches!(a.layers.get(layer).map(|l| &l.loc), Some(LayerLoc::Host(i)) if *i == f.host) {
            return Err(EmuError::Invalid(Problem::new(
                Loc::HostLayer(f.host as usize),
                "layer",
                format!("layer {layer} is not this host layer"),
            )));
        }
        out.push(FloatHost {
            layer,
            input: h.input as usize,
            lif: f.lif(),
            model: f.clone(),
        });
    }
    Ok(out)
}

impl FloatHost {
    /// This layer's spikes of batch item `b` over `steps` steps (`steps ×
    /// n`, 1 where a neuron spiked).
    pub(crate) fn spikes(&self, inputs: &[InputData], b: usize, steps: usize) -> Vec<u8> {
        let inp = &inputs[self.input];
        let len = inp.steps * inp.features;
        let sample = &inp.data[b * len..(b + 1) * len];
        nmc_core::lif::host_spikes(self.model.map(), &self.model.bias, &self.lif, sample, inp.steps, steps)
    }
}
