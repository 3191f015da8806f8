//! Per-op kernels with their precomputed constants. Every `run` writes the
//! node's whole output slice and allocates nothing.

use crate::error::SimError;
use nmc_core::lif::{Lif, LifState};
use nmc_ir::{Discretization, Neuron, PoolKind, Tensor};

/// `y = W·x + b`, with `W` stored transposed (`[in][out]`) so that each
/// input touches one contiguous column; zero inputs (no spike) are skipped.
pub(super) struct AffinePlan {
    wt: Vec<f64>,
    bias: Vec<f64>,
    n_out: usize,
}

impl AffinePlan {
    pub(super) fn new(weight: &Tensor, bias: Option<&Tensor>) -> AffinePlan {
        let d = weight.shape().dims();
        let (n_out, n_in) = (d.first().copied().unwrap_or(0), d.get(1).copied().unwrap_or(0));
        let w = weight.data();
        let mut wt = vec![0.0; n_out * n_in];
        for o in 0..n_out {
            for j in 0..n_in {
                wt[j * n_out + o] = w[o * n_in + j];
            }
        }
        AffinePlan {
            wt,
            bias: bias.map(|b| b.data().to_vec()).unwrap_or_else(|| vec![0.0; n_out]),
            n_out,
        }
    }

    pub(super) fn run(&self, x: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&self.bias);
        if self.n_out == 0 {
            return;
        }
        for (&xj, col) in x.iter().zip(self.wt.chunks_exact(self.n_out)) {
            if xj != 0.0 {
                for (o, &w) in out.iter_mut().zip(col) {
                    *o += w * xj;
                }
            }
        }
    }
}

/// A 1-d or 2-d convolution as a scatter over a precomputed tap table: for
/// every input position, the list of `(kernel tap, output position)` pairs
/// it contributes to (padding, stride and dilation resolved once). A 1-d
/// convolution is a 2-d one of height 1.
pub(super) struct ConvPlan {
    c_in: usize,
    cin_pg: usize,
    cout_pg: usize,
    in_sp: usize,
    out_sp: usize,
    taps_per_kernel: usize,
    /// CSR row starts into `taps`, one row per input position (+1).
    tap_start: Vec<usize>,
    /// `(tap index, output position)`.
    taps: Vec<(u32, u32)>,
    /// Weights as `[c_in][cout_pg][tap]`: input channel `ci` feeds output
    /// channel `g·cout_pg + col` of its group `g = ci / cin_pg`.
    w: Vec<f64>,
    /// Bias per output channel.
    bias: Vec<f64>,
}

impl ConvPlan {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: &[usize],
        padding: &[usize],
        dilation: &[usize],
        groups: usize,
        in_shape: &[usize],
        out_shape: &[usize],
    ) -> ConvPlan {
        let wd = weight.shape().dims();
        let c_out = wd.first().copied().unwrap_or(0);
        let cin_pg = wd.get(1).copied().unwrap_or(0);
        let groups = groups.max(1);
        let cout_pg = c_out / groups;
        let c_in = cin_pg * groups;
        // Lift 1-d to 2-d (height 1).
        let two = |v: &[usize], fill: usize| -> [usize; 2] {
            if v.len() >= 2 {
                [v[0], v[1]]
            } else {
                [fill, v.first().copied().unwrap_or(fill)]
            }
        };
        let k = two(&wd[2.min(wd.len())..], 1);
        let s = two(stride, 1);
        let p = two(padding, 0);
        let dl = two(dilation, 1);
        let ih = two(&in_shape[1.min(in_shape.len())..], 1);
        let oh = two(&out_shape[1.min(out_shape.len())..], 1);
        let taps_per_kernel = k[0] * k[1];
        let in_sp = ih[0] * ih[1];
        let out_sp = oh[0] * oh[1];
        // For input row y and tap a: output row o with o·s − p + a·d = y.
        let hit = |y: usize, a: usize, dim: usize| -> Option<usize> {
            let num = (y + p[dim]).checked_sub(a * dl[dim])?;
            if !num.is_multiple_of(s[dim]) {
                return None;
            }
            let o = num / s[dim];
            (o < oh[dim]).then_some(o)
        };
        let mut tap_start = Vec::with_capacity(in_sp + 1);
        let mut taps = Vec::new();
        for y in 0..ih[0] {
            for x in 0..ih[1] {
                tap_start.push(taps.len());
                for a in 0..k[0] {
                    let Some(oy) = hit(y, a, 0) else { continue };
                    for b in 0..k[1] {
                        let Some(ox) = hit(x, b, 1) else { continue };
                        taps.push(((a * k[1] + b) as u32, (oy * oh[1] + ox) as u32));
                    }
                }
            }
        }
        tap_start.push(taps.len());
        let wdat = weight.data();
        let mut w = vec![0.0; c_in * cout_pg * taps_per_kernel];
        for ci in 0..c_in {
            let g = ci / cin_pg.max(1);
            let ci_local = ci % cin_pg.max(1);
            for col in 0..cout_pg {
                let co = g * cout_pg + col;
                for tap in 0..taps_per_kernel {
                    w[(ci * cout_pg + col) * taps_per_kernel + tap] =
                        wdat[(co * cin_pg + ci_local) * taps_per_kernel + tap];
                }
            }
        }
        ConvPlan {
            c_in,
            cin_pg,
            cout_pg,
            in_sp,
            out_sp,
            taps_per_kernel,
            tap_start,
            taps,
            w,
            bias: bias.map(|b| b.data().to_vec()).unwrap_or_else(|| vec![0.0; c_out]),
        }
    }

    pub(super) fn run(&self, x: &[f64], out: &mut [f64]) {
        for (row, &b) in out.chunks_exact_mut(self.out_sp.max(1)).zip(&self.bias) {
            row.fill(b);
        }
        let k = self.taps_per_kernel;
        for ci in 0..self.c_in {
            let g = ci / self.cin_pg;
            let xin = &x[ci * self.in_sp..(ci + 1) * self.in_sp];
            for (pos, &xv) in xin.iter().enumerate() {
                if xv == 0.0 {
                    continue;
                }
                let taps = &self.taps[self.tap_start[pos]..self.tap_start[pos + 1]];
                if taps.is_empty() {
                    continue;
                }
                for col in 0..self.cout_pg {
                    let co = g * self.cout_pg + col;
                    let wrow = &self.w[(ci * self.cout_pg + col) * k..(ci * self.cout_pg + col + 1) * k];
                    let orow = &mut out[co * self.out_sp..(co + 1) * self.out_sp];
                    for &(tap, op) in taps {
                        orow[op as usize] += wrow[tap as usize] * xv;
                    }
                }
            }
        }
    }
}

/// 2-d sum/average pooling as a gather over a precomputed window table.
pub(super) struct PoolPlan {
    channels: usize,
    in_sp: usize,
    out_sp: usize,
    /// CSR row starts into `window`, one row per output position (+1).
    start: Vec<usize>,
    /// Input positions inside each window (padding excluded).
    window: Vec<u32>,
    /// 1 for sum, `1/(kh·kw)` for average (padding counts as zeros).
    scale: f64,
}

impl PoolPlan {
    pub(super) fn new(
        kind: PoolKind,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        in_shape: &[usize],
        out_shape: &[usize],
    ) -> PoolPlan {
        let dim = |v: &[usize], i: usize| v.get(i).copied().unwrap_or(0);
        let (channels, ih, iw) = (dim(in_shape, 0), dim(in_shape, 1), dim(in_shape, 2));
        let (oh, ow) = (dim(out_shape, 1), dim(out_shape, 2));
        let mut start = Vec::with_capacity(oh * ow + 1);
        let mut window = Vec::new();
        for oy in 0..oh {
            for ox in 0..ow {
                start.push(window.len());
                for a in 0..kernel[0] {
                    let Some(y) = (oy * stride[0] + a).checked_sub(padding[0]) else {
                        continue;
                    };
                    if y >= ih {
                        continue;
                    }
                    for b in 0..kernel[1] {
                        let Some(x) = (ox * stride[1] + b).checked_sub(padding[1]) else {
                            continue;
                        };
                        if x < iw {
                            window.push((y * iw + x) as u32);
                        }
                    }
                }
            }
        }
        start.push(window.len());
        let scale = match kind {
            PoolKind::Sum => 1.0,
            PoolKind::Avg => 1.0 / (kernel[0] * kernel[1]).max(1) as f64,
        };
        PoolPlan {
            channels,
            in_sp: ih * iw,
            out_sp: oh * ow,
            start,
            window,
            scale,
        }
    }

    pub(super) fn run(&self, x: &[f64], out: &mut [f64]) {
        for c in 0..self.channels {
            let xin = &x[c * self.in_sp..(c + 1) * self.in_sp];
            let orow = &mut out[c * self.out_sp..(c + 1) * self.out_sp];
            for (op, o) in orow.iter_mut().enumerate() {
                let mut acc = 0.0;
                for &ip in &self.window[self.start[op]..self.start[op + 1]] {
                    acc += xin[ip as usize];
                }
                *o = acc * self.scale;
            }
        }
    }
}

/// Per-element delay line: `y[t] = x[t − d]`, zero while `t < d`.
pub(super) struct DelayPlan {
    pub(super) state: usize,
    /// Delay of each element in steps.
    d: Vec<usize>,
    /// Ring length in steps: `max d + 1`.
    pub(super) ring: usize,
}

/// `x` in plain notation when short, else in scientific notation.
fn short_num(x: f64) -> String {
    if x.is_finite() && x.abs() < 1e12 {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The longest delay the float reference runs, in steps (2^20).
pub const MAX_DELAY_STEPS: usize = 1 << 20;

impl DelayPlan {
    /// The delays of `node` in steps (`round(delay / dt)`); a delay that is
    /// not a finite number ≥ 0 or longer than [`MAX_DELAY_STEPS`] is an error
    /// (it comes from a file, and the ring is allocated from it).
    pub(super) fn new(node: &str, delay_s: &[f64], dt: f64, state: usize) -> Result<DelayPlan, SimError> {
        let mut d = Vec::with_capacity(delay_s.len());
        for (i, &s) in delay_s.iter().enumerate() {
            let steps = (s / dt).round();
            if !(steps.is_finite() && steps >= 0.0 && steps <= MAX_DELAY_STEPS as f64) {
                return Err(SimError::TooLarge {
                    node: node.to_string(),
                    field: "delay",
                    message: format!(
                        "element {i}: {} s is {} steps of {dt} s; a delay must be a finite number of seconds \
                         ≥ 0 and at most {MAX_DELAY_STEPS} steps",
                        short_num(s),
                        short_num(steps)
                    ),
                });
            }
            d.push(steps as usize);
        }
        let ring = d.iter().copied().max().unwrap_or(0) + 1;
        Ok(DelayPlan { state, d, ring })
    }

    pub(super) fn run(&self, t: usize, x: &[f64], out: &mut [f64], buf: &mut [f64]) {
        let n = x.len();
        let slot = t % self.ring;
        buf[slot * n..(slot + 1) * n].copy_from_slice(x);
        for (i, (o, &d)) in out.iter_mut().zip(&self.d).enumerate() {
            *o = if t >= d {
                buf[((t - d) % self.ring) * n + i]
            } else {
                0.0
            };
        }
    }
}

/// Decay and input gain of a time constant under a discretization rule
/// (the IR's one rule, [`Discretization::decay_gain`]).
pub fn decay_gain(disc: Discretization, dt: f64, tau: f64) -> (f64, f64) {
    disc.decay_gain(dt, tau)
}

/// A neuron population: the one float step ([`nmc_core::lif::Lif`],
/// shared with the float host layers of the integer executions) and the
/// index of its state.
pub(super) struct NeuronPlan {
    pub(super) state: usize,
    lif: Lif,
}

impl NeuronPlan {
    pub(super) fn new(n: &Neuron, dt: f64, disc: Discretization, state: usize) -> NeuronPlan {
        NeuronPlan {
            state,
            lif: n.float_step(dt, disc),
        }
    }

    pub(super) fn run(&self, x: &[f64], out: &mut [f64], st: &mut NeuronState) {
        self.lif.step(x, out, st)
    }
}

/// State of one neuron population for one sample.
pub(super) type NeuronState = LifState;
