//! Checks of recorded host-layer spikes (`--input-spikes`): their values
//! and the host population's shape they must have.

use crate::Error;
use nmc_ir::qmodel::QModel;
use std::path::Path;

/// Checks that a recorded spike file (`--input-spikes`, dense or an events
/// list, for one step of shape `shape`) holds only 0 and 1: a neuron spikes
/// at most once per step.
pub fn check_spike_file(spikes: &Path, shape: &nmc_ir::Shape) -> Result<(), Error> {
    check_spikes(nmc_reference::read_input(spikes, shape)?.iter(), spikes)
}

/// The 0/1 check of [`check_spike_file`] on values already read from `spikes`.
pub(super) fn check_spikes<'a>(values: impl Iterator<Item = &'a f64>, spikes: &Path) -> Result<(), Error> {
    if let Some((i, x)) = values.enumerate().find(|&(_, &x)| x != 0.0 && x != 1.0) {
        return Err(Error::BadInput(format!(
            "--input-spikes {}: spikes must be 0 or 1 (one per neuron and step at most); element {i} \
             (row-major) is {x}",
            spikes.display()
        )));
    }
    Ok(())
}

/// The shape of `q`'s single host population (what `--input-spikes` holds
/// per step), or a usage error naming the spike file.
pub fn host_shape(q: &QModel, spikes: &Path) -> Result<nmc_ir::Shape, Error> {
    let hosts: Vec<&nmc_ir::qmodel::QPopulation> = q
        .populations
        .iter()
        .filter(|p| p.placement == nmc_ir::qmodel::Placement::Host)
        .collect();
    match hosts[..] {
        [h] => Ok(h.shape.clone()),
        _ => Err(Error::Usage(format!(
            "--input-spikes {}: model `{}` has {} host layers; recorded spikes replace exactly one \
             (a model without a host encoder takes event inputs: pass them with --input)",
            spikes.display(),
            q.name,
            hosts.len()
        ))),
    }
}
