//! The nengo-loihi profile ([`crate::Profile::NengoLoihi`]): the integers
//! nengo-loihi 1.1's `builder/discretize.py` picks for a block, computed
//! from nmc's float population (docs/quantization.md §3, "The nengo-loihi
//! profile"). Each function names the nengo-loihi function it follows.
//!
//! nengo-loihi's float block, from nmc's population (nengo's LIF as
//! nmc_nengo exports it, `builder/ensemble.py` and `block.py`):
//! `vth = v_threshold/dt` (nengo-loihi's `vth = 1/dt`), `bias = v_leak +
//! r·w_in·b` (nengo's `J` bias), weights `r·w_in·W` (W with nengo's spike
//! height `1/dt` folded in on import), `decay_v = −expm1(−dt/τ_mem)`,
//! `decay_u = −expm1(−dt/τ_syn)` (1 without a synapse), stored as float32
//! as nengo-loihi's compartment arrays are.

use crate::choose::ConnIn;
use crate::error::QuantError;
use crate::linmap::LinMap;
use crate::lower::PopLowered;
use nmc_ir::NeuronModel;

const VTH_MAN_MAX: f64 = 131071.0; // 2^17 − 1
const VTH_EXP: i32 = 6;
const VTH_MAX: f64 = VTH_MAN_MAX * 64.0;
const BIAS_MAN_MAX: f64 = 4095.0;
const BIAS_EXP_MAX: i32 = 7;
const BIAS_MAX: f64 = BIAS_MAN_MAX * 128.0;
const MAX_DECAY: f32 = 4095.0;
const Q_BITS: i32 = 21;
/// `SynapseConfig.get_real_weight_exp`: `6 + weight_exp`.
const REAL_WEIGHT_EXP_OFFSET: i32 = 6;

/// The integers of one population under the profile.
pub(super) struct NengoInts {
    pub decay_u: Vec<u16>,
    pub decay_v: Vec<u16>,
    pub vth: Vec<i32>,
    pub bias_mant: Vec<i32>,
    pub bias_exp: Vec<u8>,
    pub refractory: u8,
    pub vmin_exp: u8,
    pub vmax_exp: u8,
    /// Per connection: weight exponent and nmc mantissas (value order of its map).
    pub conns: Vec<(i8, Vec<i64>)>,
    /// The voltage scale of the first block (nengo-loihi's `v_scale`, in
    /// nmc's units: integer voltage per float voltage).
    pub s: f64,
    /// How it was chosen, for the report.
    pub rule: String,
    /// The voltage scale per neuron (nengo-loihi's `v_scale` is per
    /// neuron and per block), in the same units.
    pub s_each: Vec<f64>,
}

fn pow2(e: i32) -> f64 {
    2f64.powi(e)
}

/// numpy's `np.round` (half to even).
fn rnd(x: f64) -> f64 {
    x.round_ties_even()
}

/// `discretize.decay_magnitude(decay, x0, bits=12, offset)`.
fn decay_magnitude(decay: f64, x0: f64, offset: f64) -> f64 {
    let q = 0.494;
    let r = (4096.0 - offset - decay) / 4096.0;
    let n = -((x0 * (1.0 - r) / q).ln_1p()) / r.ln();
    let principal = (1.0 - r.powf(n + 1.0)) / (1.0 - r);
    let loss = q / ((1.0 - r) * x0) * (n + 1.0 - (1.0 - r.powf(n + 1.0)) / (1.0 - r));
    principal - loss
}

/// `discretize.bias_to_manexp`.
fn bias_to_manexp(bias: f64) -> (i32, u8) {
    let r = (bias.abs() / BIAS_MAN_MAX).max(1.0);
    let exp = r.log2().ceil() as i32;
    let man = rnd(bias / pow2(exp)) as i32;
    (man, exp as u8)
}

/// For each stored value of `map`, the destination neurons that use it.
fn value_rows(map: &LinMap) -> Vec<std::ops::Range<usize>> {
    match map {
        LinMap::Dense { out, inp, .. } => (0..out * inp).map(|i| (i / inp)..(i / inp + 1)).collect(),
        LinMap::Sparse(c) => {
            let mut v = Vec::with_capacity(c.val.len());
            for d in 0..c.out {
                for _ in c.row_ptr[d]..c.row_ptr[d + 1] {
                    v.push(d..d + 1);
                }
            }
            v
        }
        LinMap::Conv { geom, w } => {
            let per = geom.per_channel().max(1);
            let plane = geom.plane();
            (0..w.len()).map(|i| (i / per) * plane..(i / per + 1) * plane).collect()
        }
    }
}

/// `discretize.discretize_weights(synapse_cfg, w)` (lossy two-part shift)
/// in nmc's form `mant · 2^(6 + e)`: `w` already scaled (float32).
fn discretize_weight(w: f32, shift_bits: i32, weight_exp: i32) -> i64 {
    let m = f64::from((1i32 << (8 - shift_bits)) - 1);
    let w1 = f64::from((w / (pow2(shift_bits) as f32)).round_ties_even()).clamp(-m, m);
    let s2 = shift_bits + weight_exp;
    // the stored value is shift(w1, s2) << 6; nmc's mantissa is that / 2^(6 + e)
    if s2 < 0 {
        let w2 = (rnd(w1 * pow2(s2)) / pow2(s2)).clamp(-m, m);
        let shifted = (w2 as i64) >> (-s2);
        shifted << (-weight_exp) as u32
    } else {
        (w1 as i64) << shift_bits as u32
    }
}

type Rows = Vec<std::ops::Range<usize>>;

/// nengo-loihi's float block and its discretized decays.
struct FloatBlock {
    vth_f: Vec<f64>,
    bias_f: Vec<f64>,
    decay_u: Vec<u16>,
    decay_v: Vec<u16>,
    u_inf: Vec<f64>,
    v_inf: Vec<f64>,
    /// Per connection, the destination neurons of each stored value.
    rows: Vec<Rows>,
    /// Per connection, the float32 weights `r·w_in·W/dt` per stored value.
    wf: Vec<Vec<f32>>,
}

/// The float block (`build_lif`, `configure_lif`, `configure_filter`) and
/// the decays of `discretize_compartment`.
fn float_block(dt: f64, p: &PopLowered, conns: &[ConnIn], gain_m: &[f64], gain_s: &[f64]) -> FloatBlock {
    let n = &p.neuron;
    let len = n.len();
    let leaky = n.model.leaks();
    let decay_v_f: Vec<f32> = (0..len)
        .map(|d| {
            if leaky {
                (-(-dt / n.tau_mem[d]).exp_m1()) as f32
            } else {
                0.0
            }
        })
        .collect();
    let decay_u_f: Vec<f32> = (0..len)
        .map(|d| {
            if n.model.has_synapse() && n.tau_syn[d] > 0.0 {
                (-(-dt / n.tau_syn[d]).exp_m1()) as f32
            } else {
                1.0
            }
        })
        .collect();
    let scale_v = leaky && decay_v_f.iter().all(|&x| f64::from(x) > 0.5 / 4096.0);
    let vth_f: Vec<f64> = (0..len).map(|d| f64::from((n.v_threshold[d] / dt) as f32)).collect();
    let bias_f: Vec<f64> = (0..len)
        .map(|d| {
            let leak = if leaky { n.v_leak[d] } else { 0.0 };
            f64::from(((leak + n.r[d] * n.w_in[d] * p.bias[d]) / dt) as f32)
        })
        .collect();
    // decay_u·4095 − 1 clipped, decay_v·4095, in float32
    let decay_u: Vec<u16> = decay_u_f
        .iter()
        .map(|&x| (x * MAX_DECAY - 1.0).clamp(0.0, MAX_DECAY).round_ties_even() as u16)
        .collect();
    let decay_v: Vec<u16> = decay_v_f
        .iter()
        .map(|&x| (x * MAX_DECAY).round_ties_even() as u16)
        .collect();
    let u_inf = decay_u
        .iter()
        .map(|&d| 1.0 / decay_magnitude(f64::from(d), 2097152.0, 1.0))
        .collect();
    let v_inf = decay_v
        .iter()
        .map(|&d| {
            if scale_v {
                1.0 / decay_magnitude(f64::from(d), 2097152.0, 0.0)
            } else {
                1.0
            }
        })
        .collect();
    let rows: Vec<Rows> = conns.iter().map(|c| value_rows(&c.map)).collect();
    let wf = conns
        .iter()
        .zip(&rows)
        .map(|(c, rs)| {
            c.map
                .values()
                .iter()
                .zip(rs)
                .map(|(&a, r)| (a / (gain_m[r.start] * gain_s[r.start] * dt)) as f32)
                .collect()
        })
        .collect();
    FloatBlock {
        vth_f,
        bias_f,
        decay_u,
        decay_v,
        u_inf,
        v_inf,
        rows,
        wf,
    }
}

/// One block's scale: per neuron `v_scale`, `w_scale`, the block's weight
/// exponent, `vth` and `bias` before mantissa/exponent, and the rule.
struct BlockScale {
    v_scale: Vec<f64>,
    w_scale: f64,
    w_exp: i32,
    vth: Vec<f64>,
    bias: Vec<f64>,
    rule: String,
}

/// `discretize_compartment`'s choice of `v_scale` for neurons `idx`.
fn block_scale(name: &str, fb: &FloatBlock, idx: std::ops::Range<usize>, w_max: f32) -> Result<BlockScale, QuantError> {
    let (b0, b1) = (idx.start, idx.end);
    let b_max = idx.clone().fold(0f64, |m, d| m.max(fb.bias_f[d].abs()));
    let vth_of = |vs: &[f64]| -> Vec<f64> { idx.clone().zip(vs).map(|(d, v)| rnd(fb.vth_f[d] * v)).collect() };
    if f64::from(w_max) > 1e-8 {
        let ws = 255.0 / f64::from(w_max);
        for e in (-7..=0).rev() {
            let vs: Vec<f64> = idx
                .clone()
                .map(|d| 1.0 / (fb.u_inf[d] * fb.v_inf[d]) * ws * pow2(REAL_WEIGHT_EXP_OFFSET + e))
                .collect();
            let th = vth_of(&vs);
            let bi: Vec<f64> = idx
                .clone()
                .zip(&vs)
                .map(|(d, v)| rnd(fb.bias_f[d] * v * fb.v_inf[d]))
                .collect();
            if th.iter().all(|&t| t <= VTH_MAX) && bi.iter().all(|b| b.abs() <= BIAS_MAX) {
                return Ok(BlockScale {
                    v_scale: vs,
                    w_scale: ws,
                    w_exp: e,
                    vth: th,
                    bias: bi,
                    rule: format!("nengo-loihi: 255/w_max, weight_exp {e}"),
                });
            }
        }
        return Err(QuantError::unrepresentable(
            name,
            "weight_exp",
            format!("neurons {b0}..{b1}: nengo-loihi's discretize finds no weight exponent (BuildError)"),
        ));
    }
    if b_max > 1e-8 {
        let mut b_scale = BIAS_MAX / b_max;
        while b_scale * b_max > 1.0 {
            let vs: Vec<f64> = idx.clone().map(|d| b_scale / fb.v_inf[d]).collect();
            let th = vth_of(&vs);
            if th.iter().all(|&t| t <= VTH_MAX) {
                return Ok(BlockScale {
                    v_scale: vs,
                    w_scale: 0.0,
                    w_exp: 0,
                    vth: th,
                    bias: idx.clone().map(|d| rnd(fb.bias_f[d] * b_scale)).collect(),
                    rule: "nengo-loihi: no weights, bias at BIAS_MAX".into(),
                });
            }
            b_scale /= 2.0;
        }
        return Err(QuantError::unrepresentable(
            name,
            "bias",
            format!("neurons {b0}..{b1}: nengo-loihi finds no bias scaling (BuildError)"),
        ));
    }
    let vth_max = VTH_MAX.min(pow2(Q_BITS) - 1.0);
    let top = idx.clone().fold(f64::NEG_INFINITY, |m, d| m.max(fb.vth_f[d]));
    let vs = vec![vth_max / (top + 1.0); b1 - b0];
    Ok(BlockScale {
        vth: vth_of(&vs),
        bias: idx
            .clone()
            .zip(&vs)
            .map(|(d, v)| rnd(fb.bias_f[d] * v * fb.v_inf[d]))
            .collect(),
        v_scale: vs,
        w_scale: 0.0,
        w_exp: 0,
        rule: "nengo-loihi: no weights and no bias".into(),
    })
}

/// Records `v` as the value of `slot`, or fails when a block already chose another.
fn agree<T: PartialEq + Copy + std::fmt::Debug>(
    slot: &mut Option<T>,
    v: T,
    name: &str,
    field: &str,
    what: &str,
) -> Result<(), QuantError> {
    match *slot {
        None => {
            *slot = Some(v);
            Ok(())
        }
        Some(x) if x != v => Err(QuantError::unsupported(
            name,
            field,
            format!("{what}: nengo-loihi's blocks pick {x:?} and {v:?}; one nmc value holds one"),
        )),
        _ => Ok(()),
    }
}

/// `discretize_synapse` for every connection restricted to neurons `idx`.
fn block_synapses(
    name: &str,
    fb: &FloatBlock,
    conns: &[ConnIn],
    idx: &std::ops::Range<usize>,
    sc: &BlockScale,
    exps: &mut [Option<i32>],
    mants: &mut [Vec<Option<i64>>],
) -> Result<(), QuantError> {
    let in_block = |r: &std::ops::Range<usize>| r.start < idx.end && r.end > idx.start;
    let w_maxs = block_w_maxs(fb, idx);
    let w_max = f64::from(w_maxs.iter().fold(0f32, |m, &x| m.max(x)));
    for (k, c) in conns.iter().enumerate() {
        let wmi = f64::from(w_maxs[k]);
        // dw_exp = floor(log2(w_max / w_max_i)), w_exp2 = max(w_exp − dw_exp, −6)
        let (e2, dw) = if wmi > 1e-16 {
            let dw = (w_max / wmi).log2().floor() as i32;
            ((sc.w_exp - dw).max(-6), dw)
        } else if !fb.rows[k].iter().any(in_block) {
            continue;
        } else {
            (-6, sc.w_exp + 6)
        };
        let what = format!("connection from {}", c.source_name);
        agree(&mut exps[k], e2, name, "weight_exp", &what)?;
        let shift_bits = i32::from(c.mixed);
        let ws = (sc.w_scale * pow2(dw)) as f32;
        for (i, (&w, r)) in fb.wf[k].iter().zip(&fb.rows[k]).enumerate() {
            if in_block(r) {
                agree(
                    &mut mants[k][i],
                    discretize_weight(w * ws, shift_bits, e2),
                    name,
                    "weights",
                    &what,
                )?;
            }
        }
    }
    Ok(())
}

/// `Synapse.max_abs_weight` of each connection within neurons `idx`.
fn block_w_maxs(fb: &FloatBlock, idx: &std::ops::Range<usize>) -> Vec<f32> {
    fb.wf
        .iter()
        .zip(&fb.rows)
        .map(|(w, rs)| {
            w.iter()
                .zip(rs)
                .filter(|(_, r)| r.start < idx.end && r.end > idx.start)
                .fold(0f32, |m, (&x, _)| m.max(x.abs()))
        })
        .collect()
}

/// The integers nengo-loihi 1.1 picks for population `p` split into
/// blocks of `block` neurons (`discretize_block` per block).
pub(super) fn discretize(
    dt: f64,
    p: &PopLowered,
    conns: &[ConnIn],
    gain_m: &[f64],
    gain_s: &[f64],
    block: usize,
) -> Result<NengoInts, QuantError> {
    let n = &p.neuron;
    let len = n.len();
    let name = &p.name;
    if !matches!(n.model, NeuronModel::Lif | NeuronModel::CubaLif | NeuronModel::If) {
        return Err(QuantError::unsupported(
            name,
            "model",
            format!(
                "the nengo-loihi profile follows nengo-loihi's LIF and SpikingRectifiedLinear blocks; {} is neither",
                n.model.nir_name()
            ),
        ));
    }
    let fb = float_block(dt, p, conns, gain_m, gain_s);
    let block = block.clamp(1, len.max(1));
    let (mut vth, mut bias_mant, mut bias_exp) = (vec![0i32; len], vec![0i32; len], vec![0u8; len]);
    let (mut vmin_exp, mut first) = (None, None);
    let mut s_each = vec![1.0; len];
    let mut mants: Vec<Vec<Option<i64>>> = fb.wf.iter().map(|w| vec![None; w.len()]).collect();
    let mut exps: Vec<Option<i32>> = vec![None; conns.len()];
    for b0 in (0..len).step_by(block) {
        let idx = b0..(b0 + block).min(len);
        let w_max = block_w_maxs(&fb, &idx).iter().fold(0f32, |m, &x| m.max(x));
        let sc = block_scale(name, &fb, idx.clone(), w_max)?;
        // vth_to_manexp, bias_to_manexp
        for (i, d) in idx.clone().enumerate() {
            let m = rnd(sc.vth[i] / pow2(VTH_EXP));
            if !(m > 0.0 && m <= VTH_MAN_MAX) {
                return Err(QuantError::unrepresentable(
                    name,
                    "v_threshold",
                    format!("neuron {d}: nengo-loihi's vth mantissa {m} is outside 1..={VTH_MAN_MAX}"),
                ));
            }
            vth[d] = m as i32;
            let (bm, be) = bias_to_manexp(sc.bias[i]);
            if i32::from(be) > BIAS_EXP_MAX {
                return Err(QuantError::unrepresentable(
                    name,
                    "bias",
                    format!("neuron {d}: bias exponent {be} > 7"),
                ));
            }
            (bias_mant[d], bias_exp[d]) = (bm, be);
            s_each[d] = sc.v_scale[i] / dt;
        }
        // vmin from min_voltage: vmine = clip(round(log2(−v_scale·vmin + 1)), 0, 31)
        let vs0 = sc.v_scale[0];
        let vmin = if n.v_min.is_finite() {
            vs0 * n.v_min.min(0.0)
        } else {
            f64::NEG_INFINITY
        };
        let vme = rnd((-vmin + 1.0).log2()).clamp(0.0, 31.0) as u8;
        agree(&mut vmin_exp, vme, name, "v_min", "vmin_exp")?;
        block_synapses(name, &fb, conns, &idx, &sc, &mut exps, &mut mants)?;
        first.get_or_insert((vs0 / dt, sc.rule));
    }
    let conns_out = exps
        .iter()
        .zip(mants)
        .map(|(e, m)| (e.unwrap_or(0) as i8, m.into_iter().map(|x| x.unwrap_or(0)).collect()))
        .collect();
    let (s, rule) = first.unwrap_or((1.0, String::new()));
    Ok(NengoInts {
        decay_u: fb.decay_u,
        decay_v: fb.decay_v,
        vth,
        bias_mant,
        bias_exp,
        // configure_lif: refract_delay = round(tau_ref/dt) + 1
        refractory: (rnd(n.refractory / dt) + 1.0).min(255.0) as u8,
        vmin_exp: vmin_exp.unwrap_or(0),
        // vmax = inf: vmaxe = clip(round((log2(inf) − 9)/2), 0, 7) = 7
        vmax_exp: 7,
        conns: conns_out,
        s,
        rule,
        s_each,
    })
}
