//! Choosing the integers of one population: the voltage scale `s`, one
//! weight exponent per connection, and the threshold, bias, decay and
//! refractory values (docs/quantization.md, "Choosing integers").

use crate::error::QuantError;
use crate::linmap::LinMap;
use nmc_target::{Target, WeightFormat};

/// A connection prepared for quantization: its values are the integer
/// voltage each source event adds **per unit of scale** (`A = g·W`, with
/// `2^-frac_bits` folded in for real inputs), so the chip weight is `s·A`.
#[derive(Clone, Debug)]
pub(crate) struct ConnIn {
    /// Display name of the source.
    pub source_name: String,
    /// Ops folded into it.
    pub folded_from: Vec<String>,
    /// Scaled float map.
    pub map: LinMap,
    /// `max |A|`.
    pub max_abs: f64,
    /// Both signs present (a mixed-sign synapse format).
    pub mixed: bool,
    /// Values used by the scale search (all, or an even subsample of large maps).
    pub sample: Vec<f64>,
    /// The largest source value the register bounds assume: 1 for spikes
    /// and (one) event, `2^frac_bits` for a real input at `|x| = 1`.
    pub event_max: f64,
}

impl ConnIn {
    pub fn new(source_name: String, folded_from: Vec<String>, map: LinMap, event_max: f64) -> ConnIn {
        let v = map.values();
        let max_abs = v.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let mixed = v.iter().any(|&x| x > 0.0) && v.iter().any(|&x| x < 0.0);
        const MAX_SAMPLE: usize = 65536;
        let sample: Vec<f64> = if v.len() <= MAX_SAMPLE {
            v.to_vec()
        } else {
            let stride = v.len().div_ceil(MAX_SAMPLE);
            let mut s: Vec<f64> = v.iter().step_by(stride).copied().collect();
            // Keep the largest value: it decides the exponent.
            if let Some(&m) = v.iter().max_by(|a, b| a.abs().total_cmp(&b.abs())) {
                s.push(m);
            }
            s
        };
        ConnIn {
            source_name,
            folded_from,
            map,
            max_abs,
            mixed,
            sample,
            event_max,
        }
    }

    /// How the report and errors name the connection.
    pub fn label(&self) -> String {
        if self.folded_from.is_empty() {
            format!("the connection from `{}`", self.source_name)
        } else {
            format!(
                "the connection from `{}` (folded from {})",
                self.source_name,
                self.folded_from
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// `2^e` for a possibly negative `e`.
pub(crate) fn pow2(e: i32) -> f64 {
    2f64.powi(e)
}

/// The integer weight unit at exponent `e`: `2^(scale_shift + e)`.
pub(crate) fn unit(wf: &WeightFormat, e: i32) -> f64 {
    pow2(wf.scale_shift() as i32 + e)
}

/// The mantissa of the scaled weight `x` at exponent `e`: the nearest legal
/// multiple of the mantissa step, clamped to the legal range.
pub(crate) fn quant_mant(wf: &WeightFormat, x: f64, e: i32, mixed: bool) -> i64 {
    let step = wf.mantissa_step(e, mixed) as f64;
    let max = wf.max_abs_mantissa(e, mixed) as f64;
    ((x / unit(wf, e) / step).round() * step).clamp(-max, max) as i64
}

/// The smallest exponent at which the largest scaled weight `x_max` fits:
/// `x_max / unit ≤ max_mantissa + step/2`, so that clamping to the largest
/// mantissa costs at most half a step, like rounding (the smallest exponent
/// has the finest grid).
pub(crate) fn fit_exp(wf: &WeightFormat, x_max: f64, mixed: bool) -> Option<i32> {
    wf.exp_range().find(|&e| {
        let step = wf.mantissa_step(e, mixed) as f64;
        x_max / unit(wf, e) <= (wf.max_abs_mantissa(e, mixed) as f64 + step / 2.0) * (1.0 + 1e-12)
    })
}

/// The smallest exponent whose mantissa step is the format's base step
/// (below it the chip's granularity drops low bits).
pub(crate) fn full_precision_exp(wf: &WeightFormat, mixed: bool) -> i32 {
    let base = wf.mantissa_step(wf.exp_max(), mixed);
    wf.exp_range()
        .find(|&e| wf.mantissa_step(e, mixed) == base)
        .unwrap_or(wf.exp_max())
}

/// A bound on the scale, with what imposes it.
#[derive(Clone, Debug)]
pub(crate) struct Bound {
    pub value: f64,
    pub field: &'static str,
    pub what: String,
}

/// Everything the scale search needs about a population.
pub(crate) struct PopIn<'a> {
    pub name: &'a str,
    pub spiking: bool,
    /// Spiking thresholds (float voltage).
    pub thresholds: &'a [f64],
    /// Bias per neuron in float voltage per step (chip gains).
    pub bias_v: &'a [f64],
    pub conns: &'a [ConnIn],
    /// `1 / γ_s'`: the current's steady-state gain (1 without a synapse).
    pub u_gain_max: f64,
    /// The membrane's steady-state gain `1/γ_m'` (non-spiking leaky readouts), `None` when unbounded.
    pub v_gain_max: Option<f64>,
    /// Every input is present every step (a host encoder reading real values).
    pub all_inputs_present: bool,
}

/// Bounds on the scale.
pub(crate) struct Bounds {
    pub hi_hard: Vec<Bound>,
    pub lo_hard: Vec<Bound>,
    pub hi_soft: Vec<Bound>,
    pub lo_soft: Vec<Bound>,
    /// Worst-case `|q|` per unit of scale (binary events, or |x| ≤ 1 for real inputs).
    pub q_worst: f64,
    /// Typical `|q|` per unit of scale (the larger half of the same-sign inputs).
    pub q_typical: f64,
    /// The neuron with the worst sum.
    pub worst_row: usize,
}

pub(crate) fn bounds(p: &PopIn<'_>, target: &Target) -> Bounds {
    let f = target.formats();
    let mut b = Bounds {
        hi_hard: Vec::new(),
        lo_hard: Vec::new(),
        hi_soft: Vec::new(),
        lo_soft: Vec::new(),
        q_worst: 0.0,
        q_typical: 0.0,
        worst_row: 0,
    };
    let thr_max = p.thresholds.iter().copied().fold(0.0f64, f64::max);
    let thr_min = p.thresholds.iter().copied().fold(f64::INFINITY, f64::min);
    if p.spiking && thr_max > 0.0 {
        threshold_bounds(&mut b, target, thr_min, thr_max);
    }
    let bias_max = p.bias_v.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
    if bias_max > 0.0 {
        b.hi_hard.push(Bound {
            value: f.bias().max_value() as f64 / bias_max,
            field: "bias",
            what: format!(
                "the bias of {} per step (|bias_mant| ≤ {}, bias_exp ≤ {})",
                g4(bias_max),
                f.bias().mantissa_max(),
                f.bias().exp_max()
            ),
        });
    }
    for c in p.conns {
        if c.max_abs > 0.0 {
            weight_bounds(&mut b, f.weight(), c);
        }
    }
    worst_case_sums(&mut b, p);
    register_bounds(&mut b, p, target, thr_max, bias_max);
    b
}

/// The threshold mantissa's bounds: fits (hard high), non-zero (hard low),
/// ≥ 64 for < 1% rounding error (soft low).
fn threshold_bounds(b: &mut Bounds, target: &Target, thr_min: f64, thr_max: f64) {
    let tf = target.formats().threshold();
    let ts = pow2(tf.shift() as i32);
    b.hi_hard.push(Bound {
        value: (tf.mantissa_max() as f64 + 0.49) * ts / thr_max,
        field: "v_threshold",
        what: format!(
            "the threshold mantissa of v_threshold = {} (vth = vth_mant·2^{}, vth_mant ≤ {})",
            g4(thr_max),
            tf.shift(),
            tf.mantissa_max()
        ),
    });
    b.lo_hard.push(Bound {
        value: 0.5 * ts / thr_min,
        field: "v_threshold",
        what: format!(
            "a non-zero threshold mantissa for v_threshold = {} (vth = vth_mant·2^{}, vth_mant ≥ {})",
            g4(thr_min),
            tf.shift(),
            tf.mantissa_min()
        ),
    });
    b.lo_soft.push(Bound {
        value: 64.0 * ts / thr_min,
        field: "v_threshold",
        what: "a threshold mantissa ≥ 64 (< 1% rounding error)".into(),
    });
}

/// A connection's weight bounds: its largest weight fits the largest exponent
/// (hard high), not all weights round to zero (hard low), full mantissa
/// precision (soft low).
fn weight_bounds(b: &mut Bounds, wf: &WeightFormat, c: &ConnIn) {
    let e_max = wf.exp_max();
    let top = wf.max_abs_mantissa(e_max, c.mixed) as f64 * unit(wf, e_max);
    b.hi_hard.push(Bound {
        value: top / c.max_abs,
        field: "weight",
        what: format!(
            "the largest weight of {} at the largest weight exponent {e_max} (|w_mant| ≤ {})",
            c.label(),
            wf.max_abs_mantissa(e_max, c.mixed)
        ),
    });
    let e_min = wf.exp_min();
    let least = wf.mantissa_step(e_min, c.mixed) as f64 * unit(wf, e_min);
    b.lo_hard.push(Bound {
        value: 0.5 * least / c.max_abs * (1.0 + 1e-9),
        field: "weight",
        what: format!(
            "keeping the weights of {} from all rounding to zero (its largest weight must reach half the \
             smallest non-zero |w_int| = {} at weight_exp {e_min})",
            c.label(),
            g4(least)
        ),
    });
    let e_full = full_precision_exp(wf, c.mixed);
    b.lo_soft.push(Bound {
        value: 0.5 * wf.max_abs_mantissa(e_full, c.mixed) as f64 * unit(wf, e_full) / c.max_abs,
        field: "weight",
        what: format!("full mantissa precision for {}", c.label()),
    });
}

/// Accumulator per unit scale. Worst case: every same-sign input of one
/// neuron active in the same step (one event each; real inputs at
/// |x| ≤ 1). Typical case: the larger half of them (a host encoder's
/// real inputs are all present every step, so there it is the worst case).
fn worst_case_sums(b: &mut Bounds, p: &PopIn<'_>) {
    let n = p.conns.first().map(|c| c.map.dims().0).unwrap_or(0);
    let mut vals: Vec<f64> = Vec::new();
    let top_half = |v: &mut Vec<f64>| -> (f64, f64) {
        v.sort_by(|a, b| b.total_cmp(a));
        let all: f64 = v.iter().sum();
        let half: f64 = v.iter().take(v.len().div_ceil(2)).sum();
        (all, half)
    };
    for d in 0..n {
        vals.clear();
        for c in p.conns {
            vals.extend(c.map.row_values(d).into_iter().map(|x| x * c.event_max));
        }
        let mut pos: Vec<f64> = vals.iter().copied().filter(|&x| x > 0.0).collect();
        let mut neg: Vec<f64> = vals.iter().filter(|&&x| x < 0.0).map(|x| -x).collect();
        let (pa, ph) = top_half(&mut pos);
        let (na, nh) = top_half(&mut neg);
        if pa.max(na) > b.q_worst {
            b.q_worst = pa.max(na);
            b.worst_row = d;
        }
        b.q_typical = b.q_typical.max(ph.max(nh));
    }
    if p.all_inputs_present {
        b.q_typical = b.q_worst;
    }
}

/// The register bounds (accumulator, current, voltage): hard for the typical
/// case, soft for the worst case.
fn register_bounds(b: &mut Bounds, p: &PopIn<'_>, target: &Target, thr_max: f64, bias_max: f64) {
    let f = target.formats();
    let acc = f.accumulator();
    let cur = f.current();
    let vmax = target
        .formats()
        .voltage()
        .vmax(*target.formats().voltage().vmax_exp_range().end())
        .unwrap_or(i64::MAX) as f64;
    for (q, hard) in [(b.q_typical, true), (b.q_worst, false)] {
        let case = if hard {
            if p.all_inputs_present {
                "all inputs at |x| ≤ 1"
            } else {
                "the larger half of the same-sign inputs of one neuron in one step"
            }
        } else {
            "all same-sign inputs of one neuron in one step"
        };
        let mut list = Vec::new();
        if q > 0.0 {
            list.push(Bound {
                value: acc.max() as f64 / q,
                field: "accumulator",
                what: format!("the accumulator (±2^{}) with {case}", acc.magnitude_bits()),
            });
        }
        let u = q * p.u_gain_max + bias_max;
        if u > 0.0 {
            list.push(Bound {
                value: cur.max() as f64 / u,
                field: "current",
                what: format!("the current u + bias (±2^{}) with {case}", cur.magnitude_bits()),
            });
        }
        let v = if p.spiking {
            Some(thr_max + u)
        } else {
            p.v_gain_max.map(|g| u * g)
        };
        if let Some(v) = v
            && v > 0.0
        {
            list.push(Bound {
                value: vmax / v,
                field: "voltage",
                what: format!("the voltage below vmax = {} with {case}", vmax as i64),
            });
        }
        if hard {
            b.hi_hard.extend(list);
        } else {
            b.hi_soft.extend(list);
        }
    }
}

/// Short float formatting for messages.
pub(crate) fn g4(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{x:.3e}")
    }
}

fn binding_min(v: &[Bound]) -> Option<&Bound> {
    v.iter().min_by(|a, b| a.value.total_cmp(&b.value))
}

fn binding_max(v: &[Bound]) -> Option<&Bound> {
    v.iter().max_by(|a, b| a.value.total_cmp(&b.value))
}

/// The error for two hard bounds that cannot both hold.
fn conflict(name: &str, lo: &Bound, hi: &Bound) -> QuantError {
    let field = if lo.field == "bias" || hi.field == "bias" {
        "bias"
    } else if lo.field == "v_threshold" || hi.field == "v_threshold" {
        "v_threshold"
    } else {
        "weight"
    };
    QuantError::unrepresentable(
        name,
        field,
        format!(
            "cannot be represented: {} needs a voltage scale ≥ {}, but {} allows at most {}",
            lo.what,
            g4(lo.value),
            hi.what,
            g4(hi.value)
        ),
    )
}

/// The outcome of the scale search.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub s: f64,
    pub exps: Vec<i32>,
    /// How the scale was chosen, for the report.
    pub rule: String,
}

/// Search objective of a candidate scale: the mean squared relative weight
/// error over all weights (each relative to its connection's largest), and
/// as a second key the squared largest relative threshold error plus the
/// mean squared relative bias error. `None` when a weight exponent is out
/// of range.
fn objective(p: &PopIn<'_>, target: &Target, s: f64) -> Option<(f64, f64, Vec<i32>)> {
    let f = target.formats();
    let wf = f.weight();
    let mut exps = Vec::with_capacity(p.conns.len());
    let (mut sum, mut count) = (0.0, 0usize);
    for c in p.conns {
        if c.max_abs <= 0.0 {
            exps.push(0);
            continue;
        }
        let e = fit_exp(wf, s * c.max_abs, c.mixed)?;
        exps.push(e);
        let u = unit(wf, e);
        let norm = s * c.max_abs;
        for &a in &c.sample {
            let m = quant_mant(wf, s * a, e, c.mixed) as f64;
            let err = (m * u - s * a) / norm;
            sum += err * err;
        }
        count += c.sample.len();
    }
    let jw = if count > 0 { sum / count as f64 } else { 0.0 };
    let mut j = 0.0;
    if p.spiking {
        let ts = pow2(f.threshold().shift() as i32);
        let mut worst = 0.0f64;
        for &t in p.thresholds {
            let m = (s * t / ts).round();
            worst = worst.max(((m * ts - s * t) / (s * t)).abs());
        }
        j += worst * worst;
    }
    let bmax = p.bias_v.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
    if bmax > 0.0 {
        let step = (p.bias_v.len() / 4096).max(1);
        let (mut bs, mut bc) = (0.0, 0usize);
        for &b in p.bias_v.iter().step_by(step) {
            let q = quant_bias(target, s * b).map(|(m, e)| m as f64 * pow2(e as i32))?;
            let err = (q - s * b) / (s * bmax);
            bs += err * err;
            bc += 1;
        }
        j += bs / bc.max(1) as f64;
    }
    Some((jw, j, exps))
}

/// The bias as mantissa and exponent: the smallest exponent whose mantissa
/// fits (finest grid), `None` when even the largest does not.
pub(crate) fn quant_bias(target: &Target, x: f64) -> Option<(i64, u32)> {
    let bf = target.formats().bias();
    bf.exp_range().find_map(|e| {
        let m = (x / pow2(e as i32)).round();
        (m.abs() <= bf.mantissa_max() as f64).then_some((m as i64, e))
    })
}

/// Chooses the scale and the weight exponents.
pub(crate) fn choose(p: &PopIn<'_>, target: &Target, forced: Option<f64>) -> Result<Choice, QuantError> {
    let b = bounds(p, target);
    let hi_hard = binding_min(&b.hi_hard);
    let lo_hard = binding_max(&b.lo_hard);
    if let (Some(lo), Some(hi)) = (lo_hard, hi_hard)
        && hi.value < lo.value
    {
        return Err(conflict(p.name, lo, hi));
    }
    let wf = target.formats().weight();
    if let Some(s) = forced {
        return forced_choice(p, wf, s, lo_hard, hi_hard);
    }
    let (top, rule) = search_top(&b, hi_hard);
    let lo = lo_hard.map(|x| x.value).unwrap_or(0.0);
    let bottom = (top / 2.0).max(lo);
    let cands = candidates(p, wf, top, bottom);
    match best_scale(p, target, cands) {
        Some((s, exps)) => Ok(Choice { s, exps, rule }),
        None => Err(QuantError::Internal {
            node: p.name.to_string(),
            message: format!("no feasible scale in [{}, {}]", g4(bottom), g4(top)),
        }),
    }
}

/// A forced scale: checked against the hard bounds, each connection at the
/// smallest exponent its largest weight fits.
fn forced_choice(
    p: &PopIn<'_>,
    wf: &WeightFormat,
    s: f64,
    lo_hard: Option<&Bound>,
    hi_hard: Option<&Bound>,
) -> Result<Choice, QuantError> {
    if let Some(hi) = hi_hard
        && s > hi.value
    {
        return Err(QuantError::unrepresentable(
            p.name,
            hi.field,
            format!(
                "the forced voltage scale {} is too large: {} allows at most {}",
                g4(s),
                hi.what,
                g4(hi.value)
            ),
        ));
    }
    if let Some(lo) = lo_hard
        && s < lo.value
    {
        return Err(QuantError::unrepresentable(
            p.name,
            lo.field,
            format!(
                "the forced voltage scale {} is too small: {} needs at least {}",
                g4(s),
                lo.what,
                g4(lo.value)
            ),
        ));
    }
    let exps = p
        .conns
        .iter()
        .map(|c| fit_exp(wf, s * c.max_abs, c.mixed).unwrap_or(0))
        .collect();
    Ok(Choice {
        s,
        exps,
        rule: "forced".into(),
    })
}

/// The top of the search octave and what sets it (the report's rule).
fn search_top(b: &Bounds, hi_hard: Option<&Bound>) -> (f64, String) {
    let hard_hi = hi_hard.map(|x| x.value).unwrap_or(f64::INFINITY);
    let soft_hi = binding_min(&b.hi_soft).map(|x| x.value).unwrap_or(f64::INFINITY);
    let prec = binding_max(&b.lo_soft).map(|x| x.value).unwrap_or(0.0);
    let (mut top, mut rule) = if soft_hi >= prec {
        let t = hard_hi.min(soft_hi);
        let by = if hard_hi <= soft_hi {
            hi_hard
        } else {
            binding_min(&b.hi_soft)
        };
        (t, by.map(|x| x.what.clone()).unwrap_or_else(|| "nothing".into()))
    } else {
        // Keeping the worst case safe would cost precision: keep precision,
        // report the risk.
        (
            hard_hi.min(2.0 * prec),
            format!(
                "{}, above the worst case of {} (see saturation)",
                binding_max(&b.lo_soft).map(|x| x.what.clone()).unwrap_or_default(),
                binding_min(&b.hi_soft).map(|x| x.what.clone()).unwrap_or_default()
            ),
        )
    };
    if !top.is_finite() {
        // Nothing bounds the scale (no weights, bias or threshold): any scale is exact.
        top = 1.0;
        rule = "unconstrained".into();
    }
    (top, rule)
}

/// Candidates: every legal top mantissa of each connection's largest
/// weight (the largest few connections) and an even log grid, each
/// folded into (top/2, top]. No candidate clips a weight, so every
/// weight is within half a mantissa step of its scaled float value.
fn candidates(p: &PopIn<'_>, wf: &WeightFormat, top: f64, bottom: f64) -> Vec<f64> {
    let fold = |s: f64| -> Option<f64> {
        if !(s.is_finite() && s > 0.0) {
            return None;
        }
        let k = (top / s).log2().floor();
        let mut v = s * 2f64.powf(k);
        if v > top {
            v /= 2.0;
        }
        (v >= bottom && v <= top).then_some(v)
    };
    let mut cands: Vec<f64> = vec![top];
    for i in 0..64 {
        let s = top * 2f64.powf(-f64::from(i) / 64.0);
        if s >= bottom {
            cands.push(s);
        }
    }
    let mut by_size: Vec<&ConnIn> = p.conns.iter().filter(|c| c.max_abs > 0.0).collect();
    by_size.sort_by_key(|c| std::cmp::Reverse(c.map.values().len()));
    for c in by_size.iter().take(4) {
        let e = wf.exp_max();
        let max = wf.max_abs_mantissa(e, c.mixed);
        let step = wf.mantissa_step(e, c.mixed);
        // The top weight at max + step/2 (clamped to max: nengo-loihi's
        // 255 for mixed-sign formats), then at every legal mantissa.
        for top_m in [max as f64 + step as f64 / 2.0, max as f64 + step as f64 / 4.0] {
            if let Some(s) = fold(top_m * unit(wf, e) / c.max_abs) {
                cands.push(s);
            }
        }
        let mut m = max;
        while m > max / 2 {
            if let Some(s) = fold(m as f64 * unit(wf, e) / c.max_abs) {
                cands.push(s);
            }
            m -= step;
        }
    }
    cands
}

/// The best candidate and its exponents, lexicographic: weight error; then
/// threshold and bias error; then the larger scale. Weight errors within
/// 1e-6 (relative) count as equal.
fn best_scale(p: &PopIn<'_>, target: &Target, cands: Vec<f64>) -> Option<(f64, Vec<i32>)> {
    let mut best: Option<(f64, f64, f64, Vec<i32>)> = None;
    for s in cands {
        let Some((jw, jt, exps)) = objective(p, target, s) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some((bw, bt, bs, _)) => {
                let tw = 1e-6 * bw.max(jw) + 1e-30;
                let tt = 1e-9 * bt.max(jt) + 1e-300;
                if (jw - bw).abs() > tw {
                    jw < *bw
                } else if (jt - bt).abs() > tt {
                    jt < *bt
                } else {
                    s > *bs
                }
            }
        };
        if better {
            best = Some((jw, jt, s, exps));
        }
    }
    best.map(|(_, _, s, exps)| (s, exps))
}
