//! The legality rules of a model's inputs, connections and outputs on a
//! target: how many inputs, their encodings, which source a population may
//! read, the latency the target gives each path, and what an output may
//! record. The deployed artifact has exactly these paths (real-valued input
//! → host encoder, same step; event input or host encoder → chip, the
//! target's host latency; chip → chip, its synapse latency), so a model the
//! fixed reference runs is one `compile` can build and the emulator runs.

use super::error::{FixedError, param_err};
use nmc_ir::qmodel::{InputEncoding, Placement, QModel, QPopulation, Source};
use nmc_target::Target;

/// Checks every input, connection and output of `model` against `target`.
pub(crate) fn check(model: &QModel, target: &Target) -> Result<(), FixedError> {
    if model.inputs.len() > 1 {
        return Err(FixedError::InputCount {
            model: model.name.clone(),
            inputs: model.inputs.len(),
        });
    }
    for (k, inp) in model.inputs.iter().enumerate() {
        if let InputEncoding::Real { bits, .. } = inp.encoding {
            let r = nmc_core::input::REAL_BITS;
            if !r.contains(&bits) {
                return Err(param_err(
                    "<model>",
                    format!("inputs[{k}].encoding.bits"),
                    format!("is {bits}; a real input is encoded in {}..={} bits", r.start(), r.end()),
                ));
            }
        }
    }
    for p in &model.populations {
        if p.placement == Placement::Host && p.inputs.len() != 1 {
            return Err(param_err(
                &p.name,
                "inputs",
                format!(
                    "a host population (input encoder) has exactly one connection, from the real-valued input; \
                     it has {}",
                    p.inputs.len()
                ),
            ));
        }
        for ci in 0..p.inputs.len() {
            connection(model, target, p, ci)?;
        }
    }
    for o in &model.outputs {
        if let Source::Input(_) = o.source {
            return Err(param_err(
                "<model>",
                "outputs",
                format!(
                    "output `{}` records an input; outputs record populations (spikes or read-out voltages)",
                    o.name
                ),
            ));
        }
    }
    super::readout::check(model, target)
}

/// Connection `ci` of `p`: a source the population may read, at the latency
/// the target gives that path.
fn connection(model: &QModel, target: &Target, p: &QPopulation, ci: usize) -> Result<(), FixedError> {
    let conn = &p.inputs[ci];
    let timing = target.timing();
    let name = p.name.as_str();
    let field = |f: &str| format!("inputs[{ci}].{f}");
    let host = p.placement == Placement::Host;
    // (latency of the path, what it is, for messages)
    let (want, path) = match conn.source {
        Source::Input(k) => match model.inputs.get(k).map(|i| i.encoding) {
            Some(InputEncoding::Real { .. }) if host => (0, "a real-valued input into a host population"),
            Some(InputEncoding::Real { .. }) => {
                return Err(param_err(
                    name,
                    field("source"),
                    "reads a real-valued input, which only host populations (input encoders) may do",
                ));
            }
            _ if host => {
                return Err(param_err(
                    name,
                    field("source"),
                    "a host population (input encoder) reads a real-valued input, not events",
                ));
            }
            _ => (timing.host_input_delay_steps(), "an event input into the chip"),
        },
        Source::Population(s) => {
            let src = model.populations.get(s);
            if let Some(src) = src
                && !src.compartment.spiking
            {
                return Err(param_err(
                    name,
                    field("source"),
                    format!(
                        "reads population `{}`, which does not spike (its output is a voltage no connection carries)",
                        src.name
                    ),
                ));
            }
            if host {
                return Err(param_err(
                    name,
                    field("source"),
                    "a host population (input encoder) reads only the real-valued input, not a population",
                ));
            }
            match src.map(|s| s.placement) {
                Some(Placement::Host) => (timing.host_input_delay_steps(), "a host population to the chip"),
                _ => (timing.synapse_delay_steps(), "one chip population to another"),
            }
        }
    };
    if conn.latency != want {
        return Err(param_err(
            name,
            field("latency"),
            format!(
                "is {}, but on target `{}` a connection from {path} takes {want} steps (there is no other delay)",
                conn.latency,
                target.name()
            ),
        ));
    }
    Ok(())
}
