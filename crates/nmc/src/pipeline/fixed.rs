//! The fixed-point reference of a quantized model on an input file
//! (`nmc simulate model.q.ron`).

use super::spikes_of;
use crate::Error;
use crate::compare::Spikes;
use nmc_ir::qmodel::{QModel, Source};
use nmc_reference::{FixedOptions, Stimulus};
use nmc_target::Target;
use std::path::Path;

/// The fixed-point reference of a quantized model on an input file, as an
/// activity report (the `nmc simulate model.q.ron` command).
pub fn simulate_fixed_file(
    q: &QModel,
    target: &Target,
    input: &Path,
    steps: Option<usize>,
    labels: Option<&Path>,
    strict: bool,
    out: Option<&Path>,
) -> Result<crate::activity::EmulateReport, Error> {
    let shape = q.inputs.first().map(|i| i.shape.clone()).unwrap_or_default();
    let arr = nmc_reference::read_input(input, &shape)?;
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let steps = steps.unwrap_or(stim.steps());
    crate::budget::check(
        "`nmc simulate` (fixed point): spikes",
        stim.batch(),
        steps,
        q.populations.iter().map(|p| p.shape.numel()).sum::<usize>() as f64 / 8.0 + 8.0,
    )?;
    let labels = match labels {
        Some(p) => Some(crate::simulate::read_labels(p, stim.batch())?),
        None => None,
    };
    let res = nmc_reference::simulate_fixed(
        q,
        target,
        &stim,
        &FixedOptions {
            steps: Some(steps),
            strict,
            probe: None,
        },
    )?
    .trace;
    let batch = stim.batch();
    if let Some(p) = out {
        let layers: Vec<(&str, &[usize], &bitvec::vec::BitVec)> = res
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.shape.as_slice(), &l.spikes))
            .collect();
        super::emulate::write_spikes_npz(p, &layers, batch, steps, None)?;
    }
    let views: Vec<Spikes<'_>> = res
        .layers
        .iter()
        .map(|l| spikes_of(&l.name, l.neurons(), batch, steps, &l.spikes))
        .collect();
    let output = q.outputs.first().and_then(|o| match o.source {
        Source::Population(k) => views.get(k).map(|v| crate::activity::Readout::of(v, labels.as_deref())),
        Source::Input(_) => None,
    });
    let readouts = q
        .readouts
        .iter()
        .zip(&res.readouts)
        .map(|(r, t)| {
            let d = crate::readout::ReadoutDecision::resolve(None, r.filter.is_some());
            let n = t.elements();
            let argmax: Vec<usize> = (0..batch)
                .map(|b| d.decide(&t.values[b * steps * n..(b + 1) * steps * n], 0, steps, n))
                .collect();
            crate::activity::ReadoutResult {
                readout: r.name.clone(),
                output: r.output.clone(),
                synapse_tau: r.filter.map(|f| f.tau),
                decision: d,
                accuracy: labels.as_deref().map(|y| crate::simulate::accuracy(&argmax, y)),
                argmax,
            }
        })
        .collect();
    let layers: Vec<crate::activity::LayerActivity> = views
        .iter()
        .map(|v| crate::activity::LayerActivity::of(v, q.dt))
        .collect();
    Ok(crate::activity::EmulateReport {
        schema: "nmc.emulate/1",
        model: q.name.clone(),
        target: format!("{} (fixed-point reference)", target.name()),
        batch,
        steps,
        dt: q.dt,
        warnings: crate::activity::warnings_of(
            &layers,
            &res.layers.iter().map(|l| l.spiking()).collect::<Vec<_>>(),
            batch,
            steps,
        ),
        layers,
        cores: Vec::new(),
        host_spikes: 0,
        syn_events: 0,
        output,
        readouts,
        overflows: crate::activity::LayerOverflow::all(&res),
        golden: None,
    })
}
