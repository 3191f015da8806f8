//! The memory a run will need, checked before it starts: a `--steps` or
//! batch far beyond what fits is a usage error naming the figures, never an
//! allocation failure (an abort) halfway through.
//!
//! The limit is 4 GiB of recorded state (`NMC_MEMORY_LIMIT_MB` overrides it).
//! The estimate counts what grows with samples × steps: spike bits, recorded
//! traces, per-step bookkeeping; tables of the network itself are not
//! included.

use crate::Error;

/// Default limit on the estimated recorded state of one run, bytes.
pub const DEFAULT_LIMIT: u64 = 4 << 30;

/// The limit in force (`NMC_MEMORY_LIMIT_MB`, else [`DEFAULT_LIMIT`]).
pub fn limit() -> u64 {
    std::env::var("NMC_MEMORY_LIMIT_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_LIMIT, |mb| mb.saturating_mul(1 << 20))
}

/// Fails when `samples × steps × bytes_per_sample_step` exceeds the limit.
/// `what` names the run (e.g. "`nmc verify`: float, fixed and emulated spikes").
pub fn check(what: &str, samples: usize, steps: usize, bytes_per_sample_step: f64) -> Result<(), Error> {
    let need = samples as f64 * steps as f64 * bytes_per_sample_step;
    let lim = limit();
    if need > lim as f64 {
        return Err(Error::TooLarge(format!(
            "{what}: {samples} samples × {steps} steps need about {:.1} GiB of recorded state, over the {:.1} GiB \
             limit; lower --steps or the batch (`nmc emulate` streams 16 samples at a time), or raise \
             NMC_MEMORY_LIMIT_MB",
            need / f64::from(1u32 << 30),
            lim as f64 / f64::from(1u32 << 30)
        )));
    }
    Ok(())
}
