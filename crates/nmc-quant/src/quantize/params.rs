//! The bias/threshold phase of one population: threshold and bias
//! mantissas at the chosen scale, their report entries and warnings, and
//! the voltage bounds.

use super::neuron::NeuronState;
use super::warn;
use crate::choose::{g4, pow2, quant_bias};
use crate::error::QuantError;
use crate::lower::PopLowered;
use crate::report::{ParamChange, Warning};
use nmc_target::Target;

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)))
}

/// A spiking population's thresholds must be positive and finite.
pub(super) fn check_thresholds(target: &Target, p: &PopLowered) -> Result<(), QuantError> {
    let n = &p.neuron;
    if n.model.spikes()
        && let Some((i, t)) = n
            .v_threshold
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && **t > 0.0))
    {
        return Err(QuantError::unrepresentable(
            &p.name,
            "v_threshold",
            format!(
                "is {t} (neuron {i}); target `{}` spikes when v > vth_mant·2^{} with vth_mant ≥ 1, so the \
                 threshold must be positive and finite",
                target.name(),
                target.formats().threshold().shift()
            ),
        ));
    }
    Ok(())
}

/// The quantized thresholds.
pub(super) struct Thresholds {
    /// `vth_mant` per neuron (the largest mantissa for non-spiking models).
    pub vth: Vec<i32>,
    /// `2^shift`: the threshold is `vth_mant · ts`.
    pub ts: f64,
    /// Before and after (spiking models).
    pub report: Option<ParamChange>,
}

/// The threshold mantissas at scale `s`.
pub(super) fn thresholds(
    target: &Target,
    p: &PopLowered,
    s: f64,
    warnings: &mut Vec<Warning>,
) -> Result<Thresholds, QuantError> {
    let n = &p.neuron;
    let len = n.len();
    let spiking = n.model.spikes();
    let tf = target.formats().threshold();
    let ts = pow2(tf.shift() as i32);
    let mut vth = Vec::with_capacity(len);
    for d in 0..len {
        let m = if spiking {
            (s * n.v_threshold[d] / ts).round() as i64
        } else {
            tf.mantissa_max()
        };
        if tf.value(m).is_none() {
            return Err(QuantError::unrepresentable(
                &p.name,
                "v_threshold",
                format!(
                    "v_threshold = {} (neuron {d}) at voltage scale {} needs vth_mant = {m}, outside {}..={}",
                    g4(n.v_threshold[d]),
                    g4(s),
                    tf.mantissa_min(),
                    tf.mantissa_max()
                ),
            ));
        }
        vth.push(m as i32);
    }
    let threshold_report = spiking.then(|| {
        let before: Vec<f64> = n.v_threshold.clone();
        let after: Vec<f64> = vth.iter().map(|&m| f64::from(m) * ts / s).collect();
        let err = before
            .iter()
            .zip(&after)
            .fold(0.0f64, |m, (b, a)| m.max(((a - b) / b).abs()));
        let (b0, b1) = min_max(&before);
        let (a0, a1) = min_max(&after);
        ParamChange {
            before_min: b0,
            before_max: b1,
            after_min: a0,
            after_max: a1,
            max_rel_err: err,
        }
    });
    if let Some(t) = &threshold_report
        && t.max_rel_err > 0.01
    {
        warn(
            warnings,
            &p.name,
            "v_threshold",
            format!(
                "rounds with {:.2}% error (vth_mant too small at voltage scale {})",
                100.0 * t.max_rel_err,
                g4(s)
            ),
        );
    }
    Ok(Thresholds {
        vth,
        ts,
        report: threshold_report,
    })
}

/// The quantized biases.
pub(super) struct Biases {
    /// `bias_mant` per neuron.
    pub mant: Vec<i32>,
    /// `bias_exp` per neuron.
    pub exp: Vec<u8>,
    /// The chip bias per neuron back in float voltage per step.
    pub after: Vec<f64>,
    /// Before and after (non-zero biases).
    pub report: Option<ParamChange>,
}

/// The bias mantissas and exponents at scale `s`.
pub(super) fn biases(
    target: &Target,
    p: &PopLowered,
    ns: &NeuronState,
    s: f64,
    warnings: &mut Vec<Warning>,
) -> Result<Biases, QuantError> {
    let bf = target.formats().bias();
    let len = p.neuron.len();
    let mut bias_m = Vec::with_capacity(len);
    let mut bias_e = Vec::with_capacity(len);
    for (d, &b) in ns.bias_v.iter().enumerate() {
        let Some((m, e)) = quant_bias(target, s * b) else {
            return Err(QuantError::unrepresentable(
                &p.name,
                "bias",
                format!(
                    "{} per step (neuron {d}, from {}) is {} at voltage scale {}, beyond the largest bias {} \
                     (|bias_mant| ≤ {}, bias_exp ≤ {})",
                    g4(b),
                    if p.bias_ops.is_empty() {
                        "v_leak".to_string()
                    } else {
                        p.bias_ops.join(", ")
                    },
                    g4(s * b),
                    g4(s),
                    bf.max_value(),
                    bf.mantissa_max(),
                    bf.exp_max()
                ),
            ));
        };
        if bf.value(m, e).is_none() {
            return Err(QuantError::Internal {
                node: p.name.clone(),
                message: format!("bias {m}·2^{e} out of range"),
            });
        }
        bias_m.push(m as i32);
        bias_e.push(e as u8);
    }
    let bias_after: Vec<f64> = bias_m
        .iter()
        .zip(&bias_e)
        .map(|(&m, &e)| f64::from(m) * pow2(i32::from(e)) / s)
        .collect();
    let bias_float = &ns.bias_float;
    let bmax = bias_float.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
    let bias_report = (bmax > 0.0).then(|| {
        let (b0, b1) = min_max(bias_float);
        let (a0, a1) = min_max(&bias_after);
        let err = bias_float
            .iter()
            .zip(&bias_after)
            .fold(0.0f64, |m, (b, a)| m.max((a - b).abs() / bmax));
        ParamChange {
            before_min: b0,
            before_max: b1,
            after_min: a0,
            after_max: a1,
            max_rel_err: err,
        }
    });
    bias_warnings(p, &ns.bias_v, &bias_m, s, warnings);
    Ok(Biases {
        mant: bias_m,
        exp: bias_e,
        after: bias_after,
        report: bias_report,
    })
}

/// Warns about biases rounded to zero and about a bias the float graph
/// filters through the synaptic current.
fn bias_warnings(p: &PopLowered, bias_v: &[f64], bias_m: &[i32], s: f64, warnings: &mut Vec<Warning>) {
    let n = &p.neuron;
    let len = n.len();
    let bias_zeroed = bias_v
        .iter()
        .zip(bias_m)
        .filter(|(b, m)| **b != 0.0 && **m == 0)
        .count();
    if bias_zeroed > 0 {
        warn(
            warnings,
            &p.name,
            "bias",
            format!(
                "{bias_zeroed} of {len} non-zero biases round to zero at voltage scale {}",
                g4(s)
            ),
        );
    }
    if n.model.has_synapse() && p.bias.iter().any(|&b| b != 0.0) {
        warn(
            warnings,
            &p.name,
            "bias",
            format!(
                "the float graph filters the bias of {} through the synaptic current (τ_syn); the chip adds its \
                 bias after the current, so it acts at once: steady state equal (bias = s·γ_m·r·w_in·b), \
                 transient differs for about τ_syn",
                p.bias_ops
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// The voltage bounds: `vmax` the widest the target allows; `vmin` the
/// widest too, unless the population has a voltage floor `v_min` (nengo's
/// `min_voltage`), which maps to the representable `vmin = −2^k + 1`
/// nearest `s·v_min` (nengo-loihi's mapping: `min_voltage = 0` is
/// `vmin = 0`).
pub(super) struct VoltageBounds {
    /// Stored `vmin_exp`.
    pub vmin_exp: u8,
    /// Stored `vmax_exp`.
    pub vmax_exp: u8,
    /// The largest voltage at `vmax_exp`.
    pub vmax: i64,
}

/// The voltage bounds; a spiking threshold must lie below `vmax`. A floor
/// the chip cannot hold exactly is a warning naming what was stored.
pub(super) fn voltage_bounds(
    target: &Target,
    p: &PopLowered,
    s: f64,
    vth: &[i32],
    warnings: &mut Vec<Warning>,
) -> Result<VoltageBounds, QuantError> {
    let f = target.formats();
    let tf = f.threshold();
    let vf = f.voltage();
    let vmin_exp = match p.neuron.v_min {
        x if x == f64::NEG_INFINITY => *vf.vmin_exp_range().end(),
        x => {
            let want = s * x;
            let best = vf
                .vmin_exp_range()
                .filter_map(|k| vf.vmin(k).map(|v| (k, v)))
                .min_by(|a, b| (a.1 as f64 - want).abs().total_cmp(&(b.1 as f64 - want).abs()))
                .map(|(k, _)| k)
                .unwrap_or(*vf.vmin_exp_range().end());
            let got = vf.vmin(best).unwrap_or(vf.lowest_vmin());
            if (got as f64 - want).abs() > 0.5 {
                warnings.push(Warning {
                    layer: p.name.clone(),
                    parameter: "v_min".into(),
                    message: format!(
                        "the voltage floor v_min = {x} is {want:.1} on the chip; the nearest floor it can hold \
                         is vmin = {got} (= {:.4} in float units: vmin is −2^k + 1)",
                        got as f64 / s
                    ),
                });
            }
            best
        }
    };
    let vmax_exp = *vf.vmax_exp_range().end();
    let vmax = vf.vmax(vmax_exp).unwrap_or(i64::MAX);
    if p.neuron.model.spikes()
        && let Some(&m) = vth.iter().max()
        && (i64::from(m) << tf.shift()) >= vmax
    {
        return Err(QuantError::unrepresentable(
            &p.name,
            "v_threshold",
            format!("vth = {} is not below vmax = {vmax}", i64::from(m) << tf.shift()),
        ));
    }
    Ok(VoltageBounds {
        vmin_exp: vmin_exp as u8,
        vmax_exp: vmax_exp as u8,
        vmax,
    })
}
