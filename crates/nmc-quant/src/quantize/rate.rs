//! The rate phase of one population: the float and chip steady-state
//! firing rates under a representative constant input.

use super::neuron::NeuronState;
use super::scaled::Scaled;
use crate::lower::PopLowered;
use crate::report::RateChange;
use nmc_ir::Graph;

/// Float steady-state rate (spikes/step) of a neuron under a constant drive
/// `d` per step (voltage units): IF `1/(θ/d + ½ + n)`; leaky with decay
/// `α`: the continuous crossing time `T = ln(v∞/(v∞−θ)) / ln(1/α)` with
/// `v∞ = d/(1−α)`, rate `1/(T + ½ + n)`; capped at `1/(n+1)`.
fn closed_form_rate(theta: f64, alpha: f64, d: f64, n_ref: f64) -> f64 {
    if d <= 0.0 || theta <= 0.0 {
        return 0.0;
    }
    let t = if alpha >= 1.0 {
        theta / d
    } else {
        let v_inf = d / (1.0 - alpha);
        if v_inf <= theta {
            return 0.0;
        }
        (v_inf / (v_inf - theta)).ln() / (1.0 / alpha).ln()
    };
    (1.0 / (t + 0.5 + n_ref)).min(1.0 / (n_ref + 1.0))
}

/// nengo's continuous steady-state rate (spikes/step) under the same drive:
/// the crossing time `T` as above plus the refractory period `T_ref/dt`,
/// with no half step (nengo interpolates the spike time within its step
/// and its refractory period is continuous): `1/(T + T_ref/dt)`.
fn nengo_rate(theta: f64, alpha: f64, d: f64, t_ref_steps: f64) -> f64 {
    let whole = closed_form_rate(theta, alpha, d, 0.0);
    if whole <= 0.0 {
        return 0.0;
    }
    let t = if alpha >= 1.0 {
        theta / d
    } else {
        let v_inf = d / (1.0 - alpha);
        (v_inf / (v_inf - theta)).ln() / (1.0 / alpha).ln()
    };
    1.0 / (t + t_ref_steps).max(f64::MIN_POSITIVE)
}

/// Rate under a representative constant input (spiking models). Under the
/// nengo rule the float side is nengo's continuous rate, so the change is
/// also what whole-step refractory periods and uninterpolated spike times
/// cost on the chip.
pub(super) fn rate(g: &Graph, p: &PopLowered, ns: &NeuronState, sc: &Scaled) -> Option<RateChange> {
    let ints = RateInts {
        s: sc.s,
        vth0: sc.th.vth.first().copied().unwrap_or(0),
        ts: sc.th.ts,
        bias_after: &sc.bias.after,
        gamma_w: sc.weights.gamma_w,
    };
    rate_of(g, p, ns, sc.n_ref, &ints)
}

/// The rate of nmc's own search when a profile replaced its integers
/// (`None` without a profile or for non-spiking models).
pub(super) fn searched_rate(g: &Graph, p: &PopLowered, ns: &NeuronState, sc: &Scaled) -> Option<RateChange> {
    let nmc = sc.searched.as_ref()?;
    let ints = RateInts {
        s: nmc.s,
        vth0: nmc.vth.first().copied().unwrap_or(0),
        ts: sc.th.ts,
        bias_after: &nmc.bias_after,
        gamma_w: nmc.gamma_w,
    };
    rate_of(g, p, ns, sc.n_ref, &ints)
}

/// What the rate estimate reads of a population's integers.
struct RateInts<'a> {
    s: f64,
    /// Neuron 0's threshold mantissa.
    vth0: i32,
    /// Threshold mantissa unit.
    ts: f64,
    /// The chip bias per neuron in float voltage per step.
    bias_after: &'a [f64],
    /// The least-squares weight gain.
    gamma_w: f64,
}

fn rate_of(g: &Graph, p: &PopLowered, ns: &NeuronState, n_ref: f64, q: &RateInts<'_>) -> Option<RateChange> {
    let n = &p.neuron;
    let dy = &ns.dy;
    let len = n.len();
    let dt = g.dt;
    let s = q.s;
    n.model.spikes().then(|| {
        let d0 = 0;
        let nref = n_ref.max(0.0);
        let alpha = if n.model.leaks() { dy.alpha_m[d0] } else { 1.0 };
        let theta = n.v_threshold[d0];
        // The representative input: IF/I 0.1·θ per step; leaky models a
        // drive whose steady-state voltage is 1.5·θ.
        let drive = if alpha < 1.0 {
            1.5 * theta * (1.0 - alpha)
        } else {
            0.1 * theta
        };
        let b_float = ns.bias_float.iter().sum::<f64>() / len.max(1) as f64;
        let b_after = q.bias_after.iter().sum::<f64>() / len.max(1) as f64;
        let d_syn = (drive - b_float).max(0.0);
        let d_total = d_syn + b_float;
        let before = if g.discretization == nmc_ir::Discretization::Nengo {
            nengo_rate(theta, alpha, d_total, n.refractory / dt)
        } else {
            closed_form_rate(theta, alpha, d_total, nref)
        };
        let chip_alpha = if n.model.leaks() { dy.chip_alpha_m[d0] } else { 1.0 };
        let ratio = if n.model.leaks() && ns.float_gain_m[d0] > 0.0 {
            dy.gain_m[d0] / ns.float_gain_m[d0]
        } else {
            1.0
        };
        let theta_after = f64::from(q.vth0) * q.ts / s;
        let after = closed_form_rate(theta_after, chip_alpha, q.gamma_w * d_syn * ratio + b_after, nref);
        RateChange {
            drive: d_total,
            before_hz: before / dt,
            after_hz: after / dt,
            change_pct: if before > 0.0 {
                100.0 * (after - before) / before
            } else {
                0.0
            },
        }
    })
}
