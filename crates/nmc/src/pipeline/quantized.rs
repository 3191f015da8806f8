//! `verify` of a quantized model: compile and the A = B check alone (no
//! float network to compare with).

use super::exact::run_a_and_b_with;
use super::golden::{check_golden, stimulus_crc};
use super::host::host_shape;
use super::{ExactCheck, compile_quantized};
use crate::Error;
use crate::spikefile::GoldenCheck;
use nmc_ir::qmodel::QModel;
use nmc_partition::PartitionOptions;
use nmc_reference::Stimulus;
use nmc_target::Target;
use serde::Serialize;
use std::path::Path;

/// The A = B report of a quantized model (no float network to compare with).
#[derive(Debug, Clone, Serialize)]
pub struct QuantVerifyReport {
    /// Schema id, `nmc.verify-quantized/1`.
    pub schema: &'static str,
    /// Model name.
    pub model: String,
    /// Target.
    pub target: String,
    /// Batch.
    pub batch: usize,
    /// Steps run.
    pub steps: usize,
    /// Cores used.
    pub cores: usize,
    /// The check.
    pub exact: ExactCheck,
    /// The comparison with a golden spike file (`--expect`).
    pub golden: Option<GoldenCheck>,
}

impl std::fmt::Display for QuantVerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "verify (quantized model, no float reference): {} on {} ({} cores), {} samples × {} steps",
            self.model, self.target, self.cores, self.batch, self.steps
        )?;
        write!(f, "{}", self.exact)?;
        if let Some(g) = &self.golden {
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

/// Compiles a quantized model and checks A = B on an input file (with
/// `host_spikes`, recorded spikes of its host layer).
pub fn verify_quantized(
    q: QModel,
    target: &Target,
    input: &Path,
    steps: Option<usize>,
    strict: bool,
    expect: Option<(&Path, bool)>,
    host_spikes: bool,
) -> Result<QuantVerifyReport, Error> {
    let shape = if host_spikes {
        host_shape(&q, input)?
    } else {
        q.inputs.first().map(|i| i.shape.clone()).unwrap_or_default()
    };
    let arr = nmc_reference::read_input(input, &shape)?;
    let stim = Stimulus::from_array(arr, &shape).map_err(crate::input_error(input))?;
    let steps = steps.unwrap_or(stim.steps());
    crate::budget::check(
        "`nmc verify` (quantized model): fixed-point and emulated spikes",
        stim.batch(),
        steps,
        2.0 * q.populations.iter().map(|p| p.shape.numel()).sum::<usize>() as f64 / 8.0 + 8.0,
    )?;
    let compiled = compile_quantized(q, target, &PartitionOptions::default())?;
    let (_, em, exact) = run_a_and_b_with(&compiled, target, &stim, steps, strict, host_spikes)?;
    let golden = match expect {
        Some((p, bless)) => check_golden(&compiled.artifact, &em, stimulus_crc(&stim), p, bless)?,
        None => None,
    };
    Ok(QuantVerifyReport {
        schema: "nmc.verify-quantized/1",
        model: compiled.qmodel.name.clone(),
        target: target.name().to_string(),
        batch: stim.batch(),
        steps,
        cores: compiled.artifact.cores.len(),
        exact,
        golden,
    })
}
