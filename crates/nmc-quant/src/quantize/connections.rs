//! The connection phase of one population: each input chain composed into
//! one map, scaled by the neuron gains (and `2^-frac_bits` for a real
//! input), with its source, latency and event bound.

use super::Ctx;
use crate::choose::{ConnIn, pow2};
use crate::error::QuantError;
use crate::lower::{PopLowered, SrcRef, chain_map};
use nmc_ir::qmodel::InputEncoding;

/// Where a connection comes from.
pub(super) struct ConnMeta {
    /// The source it reads.
    pub src: SrcRef,
    /// Its latency in steps.
    pub latency: u32,
    /// The source's name (without the folded input scale).
    pub source_name: String,
}

/// The connections of population `p` (gains per neuron `gain`), ready for
/// the scale search, with their sources.
pub(super) fn connections(
    ctx: &Ctx<'_>,
    p: &PopLowered,
    gain: &[f64],
) -> Result<(Vec<ConnIn>, Vec<ConnMeta>), QuantError> {
    let g = ctx.g;
    let len = p.neuron.len();
    let timing = ctx.target.timing();
    let mut conns = Vec::with_capacity(p.chains.len());
    let mut meta = Vec::with_capacity(p.chains.len());
    for c in &p.chains {
        let (mut map, folded) = chain_map(g, c)?;
        let src = ctx.src_ref(c.source);
        // (latency, factor folded into the weights, largest source value).
        let (latency, factor, event_max): (u32, f64, f64) = match src {
            SrcRef::Input(i) => match ctx.encodings[i] {
                InputEncoding::Real { frac_bits, .. } => {
                    let f = pow2(-i32::from(frac_bits));
                    (0, f, 1.0 / f)
                }
                InputEncoding::Events => (
                    timing.host_input_delay_steps(),
                    1.0,
                    f64::from(ctx.opts.max_input_events),
                ),
            },
            SrcRef::Pop(j) => (
                if ctx.host[j] {
                    timing.host_input_delay_steps()
                } else {
                    timing.synapse_delay_steps()
                },
                1.0,
                1.0,
            ),
        };
        map.scale_rows(gain);
        if factor != 1.0 {
            map.values_mut().iter_mut().for_each(|x| *x *= factor);
        }
        let (out, inp) = map.dims();
        if out != len {
            return Err(QuantError::Internal {
                node: p.name.clone(),
                message: format!("connection maps to {out} neurons, population has {len}"),
            });
        }
        if inp > u32::MAX as usize || map.values().len() > u32::MAX as usize {
            return Err(QuantError::unsupported(
                &p.name,
                "weights",
                "a connection has more than 2^32 sources or weights",
            ));
        }
        let mut name = ctx.source_name(src);
        if factor != 1.0 {
            name = format!("{name} (×2^-{})", ctx.opts.input_frac_bits);
        }
        meta.push(ConnMeta {
            src,
            latency,
            source_name: ctx.source_name(src),
        });
        conns.push(ConnIn::new(name, folded, map, event_max));
    }
    Ok((conns, meta))
}
