//! The neuron-state phase of one population: float and chip decays, the
//! input gains of weights and bias, the decay warnings, the refractory
//! delay and the report's decay changes.

use super::warn;
use crate::algebra::{Dynamics, dynamics, effective_tau};
use crate::choose::g4;
use crate::error::QuantError;
use crate::lower::PopLowered;
use crate::report::{DecayChange, Warning};
use nmc_ir::{Discretization, Graph};
use nmc_target::Target;

/// The decays and gains of one population.
pub(super) struct NeuronState {
    /// Float and chip decays and gains.
    pub dy: Dynamics,
    /// Per neuron `γ_m'·r·γ_s'·w_in`: weights are `s · gain · W`.
    pub gain: Vec<f64>,
    /// Bias per neuron in float voltage per step (chip gains): the bias is `s · bias_v`.
    pub bias_v: Vec<f64>,
    /// The float graph's membrane gain `1 − α_m` (1 for I/IF).
    pub float_gain_m: Vec<f64>,
    /// Bias per neuron in float voltage per step (float gains).
    pub bias_float: Vec<f64>,
}

/// Decays and gains: weights are s · g · W, biases s · b_v (docs/quantization.md).
pub(super) fn state(g: &Graph, target: &Target, p: &PopLowered) -> NeuronState {
    let f = target.formats();
    let n = &p.neuron;
    let len = n.len();
    let dy: Dynamics = dynamics(n, g.dt, g.discretization, f.decay());
    let gain: Vec<f64> = (0..len)
        .map(|d| dy.gain_m[d] * n.r[d] * dy.gain_s[d] * n.w_in[d])
        .collect();
    let leak = |d: usize| if n.model.leaks() { n.v_leak[d] } else { 0.0 };
    let bias_v: Vec<f64> = (0..len)
        .map(|d| dy.gain_m[d] * (leak(d) + n.r[d] * n.w_in[d] * p.bias[d]))
        .collect();
    let float_gain_m: Vec<f64> = (0..len)
        .map(|d| if n.model.leaks() { 1.0 - dy.alpha_m[d] } else { 1.0 })
        .collect();
    let bias_float: Vec<f64> = (0..len)
        .map(|d| float_gain_m[d] * (leak(d) + n.r[d] * n.w_in[d] * p.bias[d]))
        .collect();
    NeuronState {
        dy,
        gain,
        bias_v,
        float_gain_m,
        bias_float,
    }
}

/// Checks the stored membrane decays and warns about clamped, vanished or
/// much changed decays.
pub(super) fn decays(
    g: &Graph,
    target: &Target,
    p: &PopLowered,
    dy: &Dynamics,
    warnings: &mut Vec<Warning>,
) -> Result<(), QuantError> {
    let f = target.formats();
    let n = &p.neuron;
    let dt = g.dt;
    let disc = g.discretization;
    let dmax = f.decay().max();
    if let Some(d) = dy.decay_v.iter().find(|&&d| u32::from(d) > dmax) {
        return Err(QuantError::Internal {
            node: p.name.clone(),
            message: format!("decay_v {d} > {dmax}"),
        });
    }
    if let Some(i) = dy.v_clamped.iter().position(|&c| c) {
        let tau = n.tau_mem[i];
        let msg = if dy.decay_v[i] == 0 {
            format!(
                "τ_mem = {} s is so long that 2^{}·(1 − α) rounds to 0: the chip's membrane does not leak \
                 (weights keep the float gain, the leak is lost)",
                g4(tau),
                f.decay().bits()
            )
        } else {
            format!(
                "τ_mem = {} s is so short that the decay saturates at {} (α' = {}, float α = {})",
                g4(tau),
                dy.decay_v[i],
                g4(dy.chip_alpha_m[i]),
                g4(dy.alpha_m[i])
            )
        };
        warn(warnings, &p.name, "tau_mem", msg);
    } else if n.model.leaks() {
        // A large relative change of the leak rate.
        let i = 0;
        let gf = 1.0 - dy.alpha_m[i];
        let gc = 1.0 - dy.chip_alpha_m[i];
        if gf > 0.0 && ((gc - gf) / gf).abs() > 0.1 {
            warn(
                warnings,
                &p.name,
                "tau_mem",
                format!(
                    "τ_mem = {} s: decay_v = {} changes the leak per step by {:+.1}% (effective τ_mem {} s)",
                    g4(n.tau_mem[i]),
                    dy.decay_v[i],
                    100.0 * (gc - gf) / gf,
                    g4(effective_tau(dy.chip_alpha_m[i], dt, disc))
                ),
            );
        }
    }
    if n.model.has_synapse() {
        synapse_decay(g, target, p, dy, warnings);
    }
    Ok(())
}

/// Warns about a clamped or much changed synaptic decay.
fn synapse_decay(g: &Graph, target: &Target, p: &PopLowered, dy: &Dynamics, warnings: &mut Vec<Warning>) {
    let f = target.formats();
    let n = &p.neuron;
    if let Some(i) = dy.u_clamped.iter().position(|&c| c) {
        warn(
            warnings,
            &p.name,
            "tau_syn",
            format!(
                "τ_syn = {} s is so long that 2^{}·(1 − α) rounds below the chip's offset: decay_u = 0, the \
                 current decays by 1/{} per step (effective τ_syn {} s)",
                g4(n.tau_syn[i]),
                f.decay().bits(),
                f.decay().one(),
                g4(effective_tau(dy.chip_alpha_s[i], g.dt, g.discretization))
            ),
        );
    } else {
        let i = 0;
        let gf = 1.0 - dy.alpha_s[i];
        let gc = 1.0 - dy.chip_alpha_s[i];
        if gf > 0.0 && ((gc - gf) / gf).abs() > 0.1 {
            warn(
                warnings,
                &p.name,
                "tau_syn",
                format!(
                    "τ_syn = {} s: decay_u = {} changes the current's decay per step by {:+.1}%",
                    g4(n.tau_syn[i]),
                    dy.decay_u[i],
                    100.0 * (gc - gf) / gf
                ),
            );
        }
    }
}

/// Refractory: the float neuron holds n steps after a spike; the chip
/// holds D − 1 steps for a stored delay D (the counter is decremented in
/// the spike's own step), so D = n + 1 (0 for none). Returns `n` (rounded
/// float steps) and `D`.
pub(super) fn refractory(g: &Graph, target: &Target, p: &PopLowered) -> Result<(f64, u8), QuantError> {
    let f = target.formats();
    let n = &p.neuron;
    let dt = g.dt;
    let n_ref = (n.refractory / dt).round();
    let stored_ref = if n_ref <= 0.0 { 0.0 } else { n_ref + 1.0 };
    let rmax = f.refractory().max_steps().min(u32::from(u8::MAX));
    if stored_ref > f64::from(rmax) {
        return Err(QuantError::unrepresentable(
            &p.name,
            "refractory",
            format!(
                "{} s is {} steps at dt = {} s; target `{}` holds at most {} steps (stored delay ≤ {})",
                g4(n.refractory),
                n_ref,
                g4(dt),
                target.name(),
                rmax.saturating_sub(1),
                rmax
            ),
        ));
    }
    Ok((n_ref, stored_ref as u8))
}

fn decay_change(stored: &[u16], alpha: f64, chip_alpha: f64, dt: f64, disc: Discretization) -> DecayChange {
    DecayChange {
        stored_min: stored.iter().copied().min().unwrap_or(0),
        stored_max: stored.iter().copied().max().unwrap_or(0),
        alpha_before: alpha,
        alpha_after: chip_alpha,
        tau_before: effective_tau(alpha, dt, disc),
        tau_after: effective_tau(chip_alpha, dt, disc),
    }
}

/// The report's decay changes: (membrane `decay_v`, current `decay_u`).
pub(super) fn decay_changes(g: &Graph, p: &PopLowered, dy: &Dynamics) -> (DecayChange, DecayChange) {
    let n = &p.neuron;
    let dt = g.dt;
    let disc = g.discretization;
    let dc_v = decay_change(
        &dy.decay_v,
        dy.alpha_m[0],
        dy.chip_alpha_m[0],
        dt,
        if n.model.leaks() { disc } else { Discretization::Exact },
    );
    let dc_u = decay_change(&dy.decay_u, dy.alpha_s[0], dy.chip_alpha_s[0], dt, disc);
    let dc_u = if n.model.has_synapse() {
        dc_u
    } else {
        DecayChange {
            tau_before: 0.0,
            tau_after: 0.0,
            ..dc_u
        }
    };
    (dc_v, dc_u)
}
