//! The neuron algebra: float decays and gains of the IR's discretization,
//! and the chip's stored decays (docs/quantization.md, "Neuron algebra").

use nmc_ir::{Discretization, Neuron};
use nmc_target::DecayFormat;

/// Decay `α` and input gain `γ` of one time constant under the graph's
/// discretization: the IR's one rule ([`Discretization::decay_gain`], which
/// the float reference runs), so the quantizer's float-side estimates and
/// the float reference cannot drift apart.
pub fn float_decay(tau: f64, dt: f64, disc: Discretization) -> (f64, f64) {
    disc.decay_gain(dt, tau)
}

/// The stored decay of a gain `γ`: `round(2^bits · γ)` minus the chip's
/// offset, clamped to `0..=max`. Returns `(stored, clamped)` where `clamped`
/// says the rounded value was outside the stored range.
pub fn stored_decay(gamma: f64, offset: u32, f: &DecayFormat) -> (u16, bool) {
    let d = (f.one() as f64 * gamma).round() - f64::from(offset);
    let max = f64::from(f.max());
    let c = d.clamp(0.0, max);
    (c as u16, c != d)
}

/// The chip's effective gain `γ' = (stored + offset) / 2^bits` (so the decay
/// per step is `α' = 1 − γ'`).
pub fn chip_gamma(stored: u16, offset: u32, f: &DecayFormat) -> f64 {
    (f64::from(stored) + f64::from(offset)) / f.one() as f64
}

/// The effective time constant of a decay `α` (in the graph's
/// discretization's convention): exact `−dt / ln α`, Euler `dt / (1 − α)`;
/// `+∞` for `α = 1`, `0` for `α = 0`.
pub fn effective_tau(alpha: f64, dt: f64, disc: Discretization) -> f64 {
    if alpha >= 1.0 {
        return f64::INFINITY;
    }
    if alpha <= 0.0 && disc != Discretization::Euler {
        return 0.0;
    }
    match disc {
        Discretization::Exact | Discretization::Nengo => -dt / alpha.ln(),
        Discretization::Euler => dt / (1.0 - alpha),
    }
}

/// Per-neuron float and chip constants of one population.
#[derive(Clone, Debug)]
pub(crate) struct Dynamics {
    /// Float membrane decay and gain (IF/I: 1 and 0; the gain used for the
    /// input is then 1, see `gain_m`).
    pub alpha_m: Vec<f64>,
    /// Float synaptic decay (0 without a synapse).
    pub alpha_s: Vec<f64>,
    /// Stored decay_v.
    pub decay_v: Vec<u16>,
    /// Stored decay_u.
    pub decay_u: Vec<u16>,
    /// Chip membrane decay `α_m'`.
    pub chip_alpha_m: Vec<f64>,
    /// Chip current decay `α_s'`.
    pub chip_alpha_s: Vec<f64>,
    /// Membrane input gain used for weights and bias: the chip's `γ_m'`
    /// (so steady states are exact), the float `γ_m` when the chip's leak
    /// vanished (`decay_v = 0`), 1 for I/IF.
    pub gain_m: Vec<f64>,
    /// Synaptic input gain: the chip's `γ_s'` for Cuba models, 1 otherwise.
    pub gain_s: Vec<f64>,
    /// Per neuron: the membrane decay was clamped (τ too short) or vanished (τ too long).
    pub v_clamped: Vec<bool>,
    /// Per neuron: the current decay was clamped or vanished.
    pub u_clamped: Vec<bool>,
}

/// Float and chip decays of a population (docs/quantization.md).
pub(crate) fn dynamics(n: &Neuron, dt: f64, disc: Discretization, f: &DecayFormat) -> Dynamics {
    let len = n.len();
    let mut d = Dynamics {
        alpha_m: Vec::with_capacity(len),
        alpha_s: Vec::with_capacity(len),
        decay_v: Vec::with_capacity(len),
        decay_u: Vec::with_capacity(len),
        chip_alpha_m: Vec::with_capacity(len),
        chip_alpha_s: Vec::with_capacity(len),
        gain_m: Vec::with_capacity(len),
        gain_s: Vec::with_capacity(len),
        v_clamped: Vec::with_capacity(len),
        u_clamped: Vec::with_capacity(len),
    };
    let full_u = f.max() as u16;
    for i in 0..len {
        // Membrane.
        if n.model.leaks() {
            let (a, g) = float_decay(n.tau_mem[i], dt, disc);
            let (dv, clamped) = stored_decay(g, f.v_offset(), f);
            let cg = chip_gamma(dv, f.v_offset(), f);
            let vanished = g > 0.0 && dv == 0 && f.v_offset() == 0;
            d.alpha_m.push(a);
            d.decay_v.push(dv);
            d.chip_alpha_m.push(1.0 - cg);
            d.gain_m.push(if vanished { g } else { cg });
            d.v_clamped.push(clamped || vanished);
        } else {
            d.alpha_m.push(1.0);
            d.decay_v.push(0);
            d.chip_alpha_m.push(1.0 - chip_gamma(0, f.v_offset(), f));
            d.gain_m.push(1.0);
            d.v_clamped.push(false);
        }
        // Synaptic current.
        if n.model.has_synapse() && n.tau_syn[i] > 0.0 {
            let (a, g) = float_decay(n.tau_syn[i], dt, disc);
            let (du, clamped) = stored_decay(g, f.u_offset(), f);
            let cg = chip_gamma(du, f.u_offset(), f);
            d.alpha_s.push(a);
            d.decay_u.push(du);
            d.chip_alpha_s.push(1.0 - cg);
            d.gain_s.push(cg);
            // Clamped at the top is the instant current, which is what τ → 0 means.
            d.u_clamped.push(clamped && du == 0);
        } else {
            d.alpha_s.push(0.0);
            d.decay_u.push(full_u);
            d.chip_alpha_s.push(1.0 - chip_gamma(full_u, f.u_offset(), f));
            d.gain_s.push(1.0);
            d.u_clamped.push(false);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt() -> DecayFormat {
        nmc_target::Target::builtin("loihi1")
            .expect("builtin")
            .formats()
            .decay()
            .clone()
    }

    #[test]
    fn euler_and_exact() {
        let (a, g) = float_decay(2.5e-3, 1e-4, Discretization::Euler);
        assert!((a - 0.96).abs() < 1e-12 && (g - 0.04).abs() < 1e-12);
        let (a, g) = float_decay(1e-3, 1e-3, Discretization::Exact);
        assert!((a - (-1.0f64).exp()).abs() < 1e-12 && (a + g - 1.0).abs() < 1e-12);
        assert_eq!(float_decay(f64::INFINITY, 1e-3, Discretization::Exact), (1.0, 0.0));
    }

    #[test]
    fn stored_decays_round_on_4096_with_offsets() {
        let f = fmt();
        // 4096 · 0.04 = 163.84 → 164 (round); the NIR paper's int(4095 · 0.04) is 163.
        assert_eq!(stored_decay(0.04, 0, &f), (164, false));
        // Current: full decay (γ = 1) is 4096 − 1 = 4095, the stored maximum.
        assert_eq!(stored_decay(1.0, 1, &f), (4095, false));
        // Voltage: full decay would be 4096, one more than storable.
        assert_eq!(stored_decay(1.0, 0, &f), (4095, true));
        // Vanishing current decay: 0 − 1 is clamped to 0 (factor 4095/4096).
        assert_eq!(stored_decay(1e-6, 1, &f), (0, true));
        assert!((chip_gamma(164, 0, &f) - 164.0 / 4096.0).abs() < 1e-15);
        assert!((chip_gamma(4095, 1, &f) - 1.0).abs() < 1e-15);
    }
}
