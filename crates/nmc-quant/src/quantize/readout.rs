//! The host readouts of the QModel: every chain folded into one float map,
//! the readout synapse's `r` and `v_leak` folded into weights and bias, its
//! `τ` into the filter constants, each connection at the target's chip →
//! host latency. Nothing is quantized: the host computes in `f64`.

use super::Ctx;
use crate::error::QuantError;
use crate::linmap::LinMap;
use crate::lower::{ReadoutLowered, SrcRef, chain_map};
use crate::report::{ReadoutInputReport, ReadoutReport};
use nmc_ir::qmodel::{QReadout, QReadoutConnection, ReadoutFilter, ReadoutWeights, Source};

/// The float map as readout weights: dense stays dense, anything else
/// (a convolution, a composition) becomes sparse rows.
pub(super) fn weights(map: LinMap) -> ReadoutWeights {
    match map {
        LinMap::Dense { out, inp, w } => ReadoutWeights::Dense { out, inp, w },
        LinMap::Conv { geom, w } => sparse(crate::linmap::Csr::from_conv(&geom, &w)),
        LinMap::Sparse(c) => sparse(c),
    }
}

fn sparse(c: crate::linmap::Csr) -> ReadoutWeights {
    ReadoutWeights::Sparse {
        out: c.out,
        inp: c.inp,
        row_ptr: c
            .row_ptr
            .iter()
            .map(|&r| u32::try_from(r).unwrap_or(u32::MAX))
            .collect(),
        col: c.col,
        w: c.val,
    }
}

/// The QModel readout of `r`, and its report entry.
pub(super) fn readout(ctx: &Ctx<'_>, r: &ReadoutLowered) -> Result<(QReadout, ReadoutReport), QuantError> {
    let n = r.shape.numel();
    let latency = ctx.target.timing().host_output_delay_steps().ok_or_else(|| {
        QuantError::unsupported(
            &r.name,
            "output",
            format!(
                "is a host readout of chip spikes (feeding Output `{}`), but target `{}` states no chip → host \
                 latency (`timing.host_output_delay_steps` in its file), so it runs no host readouts",
                r.output,
                ctx.target.name()
            ),
        )
    })?;
    // The synapse's input gain and leak, per element (1 and 0 without one).
    let (gain_r, leak, filter) = match &r.synapse {
        Some(li) => {
            let tau = li.tau_mem.first().copied().unwrap_or(f64::INFINITY);
            if let Some(i) = li.tau_mem.iter().position(|&t| t != tau) {
                return Err(QuantError::unsupported(
                    &r.name,
                    "tau_mem",
                    format!(
                        "a readout synapse has one time constant; element {i} has {} but element 0 {tau}",
                        li.tau_mem[i]
                    ),
                ));
            }
            if !(tau.is_finite() && tau > 0.0) {
                return Err(QuantError::unsupported(
                    &r.name,
                    "tau_mem",
                    format!("a readout synapse needs a positive finite time constant, is {tau}"),
                ));
            }
            let (decay, gain) = ctx.g.discretization.decay_gain(ctx.g.dt, tau);
            (
                li.r.clone(),
                li.v_leak.clone(),
                Some(ReadoutFilter { tau, decay, gain }),
            )
        }
        None => (vec![1.0; n], vec![0.0; n], None),
    };
    let mut inputs = Vec::with_capacity(r.chains.len());
    let mut reports = Vec::with_capacity(r.chains.len());
    for c in &r.chains {
        let SrcRef::Pop(k) = ctx.src_ref(c.source) else {
            return Err(QuantError::unsupported(
                &r.name,
                "input",
                "a host readout reads spikes of chip populations, not an input",
            ));
        };
        let source_name = ctx.low.pops[k].name.clone();
        if ctx.host[k] {
            return Err(QuantError::unsupported(
                &r.name,
                "input",
                format!(
                    "reads host population `{source_name}` (the input encoder): a host readout reads spikes of chip \
                     populations"
                ),
            ));
        }
        let (mut map, folded) = chain_map(ctx.g, c)?;
        if gain_r.iter().any(|&x| x != 1.0) {
            map.scale_rows(&gain_r);
        }
        let w = weights(map);
        reports.push(ReadoutInputReport {
            source: source_name,
            folded_from: folded.clone(),
            layout: match &w {
                ReadoutWeights::Dense { .. } => "dense",
                ReadoutWeights::Sparse { .. } => "sparse",
            }
            .into(),
            latency,
            weights: w.stored(),
        });
        inputs.push(QReadoutConnection {
            source: Source::Population(k),
            latency,
            weights: w,
            folded_from: folded,
        });
    }
    let bias: Vec<f64> = (0..n)
        .map(|i| gain_r[i] * r.bias.get(i).copied().unwrap_or(0.0) + leak[i])
        .collect();
    let report = ReadoutReport {
        name: r.name.clone(),
        output: r.output.clone(),
        placement: "host".into(),
        shape: r.shape.dims().to_vec(),
        elements: n,
        inputs: reports,
        synapse_tau: filter.map(|f| f.tau),
        decay: filter.map(|f| f.decay),
        gain: filter.map(|f| f.gain),
        biased: bias.iter().filter(|&&b| b != 0.0).count(),
    };
    let q = QReadout {
        name: r.name.clone(),
        output: r.output.clone(),
        shape: r.shape.clone(),
        inputs,
        bias,
        filter,
    };
    Ok((q, report))
}
