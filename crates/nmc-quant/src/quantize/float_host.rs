//! Float host layers: which host populations run the float model on the
//! host (`--host-layers`), and their `f64` weights, bias and neuron
//! constants (nmc_ir::qmodel, "Float host layers"). Nothing is quantized.

use super::Ctx;
use super::readout::weights;
use crate::error::QuantError;
use crate::lower::{PopLowered, chain_map};
use crate::{HostLayers, QuantOptions};
use nmc_ir::qmodel::{FloatHost, FloatNeuron};
use nmc_ir::{Discretization, Graph};

/// True when the host layers of `graph` run in float under `opts`:
/// `--host-layers float`, or `auto` with nengo's discretization.
pub(super) fn wanted(graph: &Graph, opts: &QuantOptions) -> bool {
    match opts.host_layers {
        HostLayers::Float => true,
        HostLayers::Integer => false,
        HostLayers::Auto => graph.discretization == Discretization::Nengo,
    }
}

/// The report's name of a float host layer's model.
pub(super) fn model_name(graph: &Graph) -> String {
    format!("float ({})", graph.discretization.name())
}

/// The float model of host population `p`: its one chain folded into one
/// `f64` map (a single Affine stays dense, a Conv becomes sparse rows with
/// inputs in increasing order), the chain's bias, and the neuron's
/// constants under the graph's rule.
pub(super) fn float_host(ctx: &Ctx<'_>, p: &PopLowered) -> Result<FloatHost, QuantError> {
    let [chain] = &p.chains[..] else {
        return Err(QuantError::unsupported(
            &p.name,
            "placement",
            format!(
                "a float host layer reads one input through one chain of linear ops; it has {} (use --host-layers \
                 integer)",
                p.chains.len()
            ),
        ));
    };
    if !p.neuron.model.spikes() {
        return Err(QuantError::unsupported(
            &p.name,
            "model",
            "a float host layer is a spiking population (use --host-layers integer)",
        ));
    }
    let (map, _) = chain_map(ctx.g, chain)?;
    let n = p.neuron.len();
    let bias = (0..n).map(|i| p.bias.get(i).copied().unwrap_or(0.0)).collect();
    let lif = p.neuron.float_step(ctx.g.dt, ctx.g.discretization);
    Ok(FloatHost {
        weights: weights(map),
        bias,
        neuron: FloatNeuron::from(&lif),
    })
}
