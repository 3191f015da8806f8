//! What a quantization profile costs against nmc's own search, per
//! population. Under [`crate::Profile::NengoLoihi`] the population first
//! goes through nmc's search (its integers are computed and kept aside),
//! then nengo-loihi's rule replaces every integer. This module recomputes
//! the report's error columns from the integers the model now holds (so the
//! population and connection tables describe what is deployed) and keeps
//! nmc's figures beside them ([`crate::report::ProfileCost`]).

use super::nengo_loihi::NengoInts;
use super::neuron::NeuronState;
use super::params::{Biases, Thresholds};
use super::weights::Weights;
use crate::choose::{ConnIn, pow2};
use crate::linmap::LinMap;
use crate::report::{CostSide, ParamChange};
use nmc_target::Target;

/// nmc's search, kept aside before a profile replaced its integers.
pub(super) struct Searched {
    /// Its voltage scale.
    pub s: f64,
    /// Its weight errors (RMS and max, relative, over the population) and
    /// the non-zero weights it rounded to zero.
    pub weights: (f64, f64, usize),
    /// Its threshold and bias changes.
    pub threshold: Option<ParamChange>,
    pub bias: Option<ParamChange>,
    /// What the rate estimate reads of it.
    pub vth: Vec<i32>,
    pub bias_after: Vec<f64>,
    pub gamma_w: f64,
}

impl Searched {
    /// Records nmc's choice.
    pub fn keep(s: f64, w: &Weights, th: &Thresholds, bias: &Biases) -> Searched {
        Searched {
            s,
            weights: pop_weight_err(w),
            threshold: th.report.clone(),
            bias: bias.report.clone(),
            vth: th.vth.clone(),
            bias_after: bias.after.clone(),
            gamma_w: w.gamma_w,
        }
    }

    /// The report side of nmc's search, with its predicted rate change.
    pub fn side(&self, rate_change_pct: Option<f64>) -> CostSide {
        CostSide {
            scale: self.s,
            weight_rms_err: self.weights.0,
            weight_max_err: self.weights.1,
            zeroed: self.weights.2,
            threshold_err: self.threshold.as_ref().map(|t| t.max_rel_err),
            bias_err: self.bias.as_ref().map(|b| b.max_rel_err),
            rate_change_pct,
        }
    }
}

/// Population weight errors of `w`'s report entries: (RMS over all
/// weights, max, zeroed).
fn pop_weight_err(w: &Weights) -> (f64, f64, usize) {
    let rms = if w.err.cnt > 0 {
        (w.err.se / w.err.cnt as f64).sqrt()
    } else {
        0.0
    };
    let max = w.reports.iter().fold(0.0f64, |m, r| m.max(r.max_abs_err));
    (rms, max, w.reports.iter().map(|r| r.zeroed).sum())
}

/// The report side of the integers a population holds (after
/// [`apply`]), with its predicted rate change.
pub(super) fn held_side(s: f64, w: &Weights, th: &Thresholds, bias: &Biases, rate_change_pct: Option<f64>) -> CostSide {
    let (rms, max, zeroed) = pop_weight_err(w);
    CostSide {
        scale: s,
        weight_rms_err: rms,
        weight_max_err: max,
        zeroed,
        threshold_err: th.report.as_ref().map(|t| t.max_rel_err),
        bias_err: bias.report.as_ref().map(|b| b.max_rel_err),
        rate_change_pct,
    }
}

/// The voltage scale of the neuron a value of `map` feeds (nengo-loihi's
/// `v_scale` is per neuron): dense and sparse maps by row; a convolution
/// shares each weight among neurons, so its values use the mean scale.
fn row_scales(map: &LinMap, s_each: &[f64]) -> Vec<f64> {
    let mean = s_each.iter().sum::<f64>() / s_each.len().max(1) as f64;
    let at = |d: usize| s_each.get(d).copied().unwrap_or(mean);
    match map {
        LinMap::Dense { out, inp, .. } => (0..out * inp).map(|j| at(j / (*inp).max(1))).collect(),
        LinMap::Conv { w, .. } => vec![mean; w.len()],
        LinMap::Sparse(c) => {
            let mut v = Vec::with_capacity(c.val.len());
            for (d, r) in c.row_ptr.windows(2).enumerate() {
                v.extend(std::iter::repeat_n(at(d), r[1] - r[0]));
            }
            v
        }
    }
}

/// Recomputes the weight, threshold and bias error columns (and the rate
/// estimate's inputs) from the profile's integers `nl`.
pub(super) fn apply(
    target: &Target,
    ns: &NeuronState,
    v_threshold: &[f64],
    conns: &[ConnIn],
    nl: &NengoInts,
    (w, th, bias): (&mut Weights, &mut Thresholds, &mut Biases),
) {
    let wf = target.formats().weight();
    let (mut se, mut cnt, mut num, mut den) = (0.0, 0usize, 0.0, 0.0);
    for ((r, c), (e, mant)) in w.reports.iter_mut().zip(conns).zip(&nl.conns) {
        let e = i32::from(*e);
        let vals = c.map.values();
        let scales = row_scales(&c.map, &nl.s_each);
        let mixed = mant.iter().any(|&m| m > 0) && mant.iter().any(|&m| m < 0);
        let (mut sq, mut mx, mut zeroed) = (0.0, 0.0f64, 0usize);
        for ((&a, &m), &s) in vals.iter().zip(mant).zip(&scales) {
            let wi = wf
                .weight_int(m, e, mixed)
                .map_or(m as f64 * pow2(wf.scale_shift() as i32 + e), |x| x as f64);
            let norm = if c.max_abs > 0.0 { s * c.max_abs } else { 1.0 };
            let err = (wi - s * a) / norm;
            sq += err * err;
            mx = mx.max(err.abs());
            zeroed += usize::from(a != 0.0 && m == 0);
            num += wi * a;
            den += s * a * a;
        }
        r.rms_err = (sq / vals.len().max(1) as f64).sqrt();
        r.max_abs_err = mx;
        r.zeroed = zeroed;
        r.zeroed_pct = if r.nonzero > 0 {
            100.0 * zeroed as f64 / r.nonzero as f64
        } else {
            0.0
        };
        se += sq;
        cnt += vals.len();
    }
    w.err.se = se;
    w.err.cnt = cnt;
    w.gamma_w = if den > 0.0 { num / den } else { 1.0 };
    if let Some(t) = th.report.as_mut() {
        let after: Vec<f64> = nl
            .vth
            .iter()
            .zip(&nl.s_each)
            .map(|(&m, &s)| f64::from(m) * th.ts / s)
            .collect();
        let (lo, hi) = min_max(&after);
        t.after_min = lo;
        t.after_max = hi;
        t.max_rel_err = after
            .iter()
            .zip(v_threshold)
            .fold(0.0f64, |m, (a, b)| m.max(((a - b) / b).abs()));
    }
    bias.after = nl
        .bias_mant
        .iter()
        .zip(&nl.bias_exp)
        .zip(&nl.s_each)
        .map(|((&m, &e), &s)| f64::from(m) * pow2(i32::from(e)) / s)
        .collect();
    if let Some(b) = bias.report.as_mut() {
        let bmax = ns.bias_float.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let (lo, hi) = min_max(&bias.after);
        b.after_min = lo;
        b.after_max = hi;
        b.max_rel_err = ns
            .bias_float
            .iter()
            .zip(&bias.after)
            .fold(0.0f64, |m, (f, a)| m.max((a - f).abs() / bmax.max(f64::MIN_POSITIVE)));
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)))
}
