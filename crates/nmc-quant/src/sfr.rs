//! `scale_firing_rates`, NengoDL style: every spiking population fires `S`
//! times as often while the network computes the same function.

use crate::error::QuantError;
use nmc_ir::{Graph, Meta, NodeId, Op};

/// Returns the float graph with firing rates scaled by `s` (NengoDL's
/// `scale_firing_rates`): every spiking population's input gain `r` is
/// multiplied by `s`, and the amplitude of its spikes is divided by `s`
/// ([`nmc_ir::amplitude::scale_spike_amplitude`] with `1/s`: the weights of
/// every Affine/Conv/Scale that reads only spikes, directly or through
/// pooling/flatten, are divided by `s`; their biases are kept; any other
/// reader gets a Scale node `<population>.amplitude` of `1/s` on the edge). Graph inputs are unaffected except through the first layer's
/// gain; Output nodes still record spikes (whose counts grow `s`-fold).
///
/// With reset to zero and `v_leak = 0`, multiplying `r` by `s` is exactly
/// equivalent to dividing the threshold by `s`; for `v_leak ≠ 0` only the
/// input gain is scaled (the leak target stays).
pub fn apply_scale_firing_rates(g: &Graph, s: f64) -> Result<Graph, QuantError> {
    if !(s.is_finite() && s > 0.0) {
        return Err(QuantError::Option {
            option: "scale_firing_rates",
            message: format!("must be a positive number, is {s}"),
        });
    }
    if s == 1.0 {
        return Ok(g.clone());
    }
    let bad = |e: nmc_ir::BuildError| QuantError::Internal {
        node: g.name.clone(),
        message: format!("rebuilding the graph with scaled firing rates: {e}"),
    };
    let (mut out, _) = nmc_ir::amplitude::scale_spike_amplitude(g, 1.0 / s, "amplitude").map_err(bad)?;
    let spiking: Vec<NodeId> = out
        .node_ids()
        .filter(|&i| matches!(&out.node(i).op, Op::Neuron(nn) if nn.model.spikes()))
        .collect();
    for i in spiking {
        out.edit_op(i, |op| {
            if let Op::Neuron(nn) = op {
                nn.r.iter_mut().for_each(|r| *r *= s)
            }
        })
        .map_err(|errs| QuantError::Internal {
            node: out.node(i).name.clone(),
            message: format!(
                "scaling the input gain by {s}: {}",
                errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
            ),
        })?;
    }
    let prev = match g.meta.get("scale_firing_rates") {
        Some(Meta::Float(x)) => *x,
        _ => 1.0,
    };
    out.meta.insert("scale_firing_rates".into(), Meta::Float(prev * s));
    Ok(out)
}
