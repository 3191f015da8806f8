//! Every stored integer of an artifact against the formats of the target it
//! carries: the emulator runs only values the target can hold, as the fixed
//! reference's `validate` does for a quantized model. Without this, a
//! hand-edited `.nmca` (a decay of 4096 on a 12-bit target, a refractory
//! delay past its counter) would run with a silently clamped value.

use nmc_artifact::{Artifact, CxProfile, HostWeights};
use nmc_core::{CoreId, Loc, Problem};
use nmc_target::Target;

/// Checks every profile, compartment bias and synapse format of `a` (chip
/// cores and host layers) against `t`'s formats.
pub(crate) fn check(a: &Artifact, t: &Target) -> Result<(), Problem> {
    for (k, h) in a.host.iter().enumerate() {
        for (i, p) in h.profiles.iter().enumerate() {
            profile(t, p).map_err(|(field, m)| Problem::new(Loc::HostLayer(k), field, format!("profile {i}: {m}")))?;
        }
        for (i, c) in h.cx.iter().enumerate() {
            let exp = h.profiles.get(usize::from(c.profile)).map_or(0, |p| p.bias_exp);
            bias(t, c.bias_mant, exp)
                .map_err(|(field, m)| Problem::new(Loc::HostLayer(k), field, format!("compartment {i}: {m}")))?;
        }
        let mant: &[i16] = match &h.weights {
            HostWeights::Dense { mant, .. } | HostWeights::Conv2d { mant, .. } => mant,
        };
        weights(t, h.weight_exp, mant.iter().copied())
            .map_err(|(field, m)| Problem::new(Loc::HostLayer(k), field, m))?;
    }
    for (ci, core) in a.cores.iter().enumerate() {
        let at = || Loc::Core {
            index: ci,
            id: Some(CoreId {
                chip: core.chip,
                core: core.core,
            }),
        };
        for (i, p) in core.profiles.iter().enumerate() {
            profile(t, p).map_err(|(field, m)| Problem::new(at(), field, format!("profile {i}: {m}")))?;
        }
        for (i, c) in core.cx.iter().enumerate() {
            let exp = core.profiles.get(usize::from(c.profile)).map_or(0, |p| p.bias_exp);
            bias(t, c.bias_mant, exp).map_err(|(field, m)| {
                Problem::new(
                    Loc::Compartment {
                        core: ci,
                        compartment: i,
                    },
                    field,
                    m,
                )
            })?;
        }
        for (ti, table) in core.tables.iter().enumerate() {
            let Some(f) = core.formats.get(usize::from(table.format)) else {
                continue; // Artifact::check names a missing format
            };
            weights(t, f.weight_exp, table.syns.iter().map(|s| s.mant))
                .map_err(|(field, m)| Problem::new(Loc::Table { core: ci, table: ti }, field, m))?;
        }
    }
    Ok(())
}

type Bad = (&'static str, String);

fn profile(t: &Target, p: &CxProfile) -> Result<(), Bad> {
    let f = t.formats();
    let dmax = f.decay().max();
    for (field, d) in [("decay_u", p.decay_u), ("decay_v", p.decay_v)] {
        if u32::from(d) > dmax {
            return Err((field, format!("is {d}; the target's decays are 0..={dmax}")));
        }
    }
    let th = f.threshold();
    if th.value(i64::from(p.vth_mant)).is_none() {
        return Err((
            "vth_mant",
            format!(
                "is {}; the target's threshold mantissas are {}..={}",
                p.vth_mant,
                th.mantissa_min(),
                th.mantissa_max()
            ),
        ));
    }
    let b = f.bias();
    if !b.exp_range().contains(&u32::from(p.bias_exp)) {
        return Err((
            "bias_exp",
            format!(
                "is {}; the target's bias exponents are {}..={}",
                p.bias_exp,
                b.exp_min(),
                b.exp_max()
            ),
        ));
    }
    let rmax = f.refractory().max_steps();
    if u32::from(p.refractory) > rmax {
        return Err((
            "refractory",
            format!("is {} steps; the target allows at most {rmax}", p.refractory),
        ));
    }
    let v = f.voltage();
    if v.vmin(u32::from(p.vmin_exp)).is_none() {
        let r = v.vmin_exp_range();
        return Err((
            "vmin_exp",
            format!(
                "is {}; the target's vmin exponents are {}..={}",
                p.vmin_exp,
                r.start(),
                r.end()
            ),
        ));
    }
    if v.vmax(u32::from(p.vmax_exp)).is_none() {
        let r = v.vmax_exp_range();
        return Err((
            "vmax_exp",
            format!(
                "is {}; the target's vmax exponents are {}..={}",
                p.vmax_exp,
                r.start(),
                r.end()
            ),
        ));
    }
    Ok(())
}

fn bias(t: &Target, mant: i32, exp: u8) -> Result<(), Bad> {
    let b = t.formats().bias();
    if i64::from(mant).unsigned_abs() > b.mantissa_max().unsigned_abs() {
        return Err((
            "bias_mant",
            format!(
                "is {mant}; the target's bias mantissas satisfy |m| <= {}",
                b.mantissa_max()
            ),
        ));
    }
    if b.value(i64::from(mant), u32::from(exp)).is_none() {
        return Err(("bias_mant", format!("{mant} · 2^{exp} does not fit the target's bias")));
    }
    Ok(())
}

/// The exponent in range and every mantissa within the widest legal
/// magnitude at it (the single-sign bound; the partitioner's emission and
/// the fixed reference hold each table to its own sign rule).
fn weights(t: &Target, exp: i8, mant: impl Iterator<Item = i16>) -> Result<(), Bad> {
    let w = t.formats().weight();
    let exp = i32::from(exp);
    if !w.exp_range().contains(&exp) {
        let r = w.exp_range();
        return Err((
            "weight_exp",
            format!(
                "is {exp}; the target's weight exponents are {}..={}",
                r.start(),
                r.end()
            ),
        ));
    }
    let max = w.max_abs_mantissa(exp, false).unsigned_abs();
    for (j, m) in mant.enumerate() {
        if i64::from(m).unsigned_abs() > max {
            return Err((
                "mant",
                format!("synapse {j}: weight mantissa {m} exceeds the target's |m| <= {max} at exponent {exp}"),
            ));
        }
    }
    Ok(())
}
