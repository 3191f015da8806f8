//! Shared helpers: fixture paths, small graphs, and a direct implementation
//! of the chip's integer step (loihi1.md) for one population.
#![allow(clippy::unwrap_used, clippy::needless_range_loop, dead_code)]

use nmc_ir::qmodel::{InputEncoding, PerNeuron, QPopulation, QWeights};
use nmc_ir::{Graph, GraphBuilder, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_target::Target;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures() -> PathBuf {
    let dir = match std::env::var_os("NMC_SHARED_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => repo().join("../shared/fixtures"),
    };
    assert!(dir.is_dir(), "shared fixtures not found at {}", dir.display());
    dir
}

pub fn loihi1() -> Target {
    Target::builtin("loihi1").unwrap()
}

pub fn load(path: &std::path::Path) -> Graph {
    nmc_frontend::load(path, &Default::default()).unwrap()
}

pub fn tensor(shape: &[usize], data: Vec<f64>) -> Tensor {
    Tensor::new(Shape::new(shape.to_vec()), data).unwrap()
}

/// `input[n_in] → fc (Affine) → pop (neuron) → output`.
pub fn dense_graph(neuron: Neuron, w: Vec<f64>, bias: Option<Vec<f64>>, dt: f64) -> Graph {
    let n_out = neuron.len();
    let n_in = w.len() / n_out;
    let mut b = GraphBuilder::new("t");
    b.dt(dt);
    b.node(
        "input",
        Op::Input {
            shape: Shape::new([n_in]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node(
        "fc",
        Op::Affine {
            weight: tensor(&[n_out, n_in], w),
            bias: bias.map(Tensor::vector),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.node("pop", Op::Neuron(neuron), BTreeMap::new()).unwrap();
    b.node(
        "output",
        Op::Output {
            shape: Shape::new([n_out]),
        },
        BTreeMap::new(),
    )
    .unwrap();
    b.edge("input", "fc").edge("fc", "pop").edge("pop", "output");
    b.build().unwrap()
}

/// A neuron population of `n` with uniform parameters.
pub fn neuron(model: NeuronModel, n: usize, tau_mem: f64, tau_syn: f64, r: f64, thr: f64) -> Neuron {
    let mut p = Neuron::neutral(model, Shape::new([n]));
    if model.leaks() {
        p.tau_mem = vec![tau_mem; n];
    }
    if model.has_synapse() {
        p.tau_syn = vec![tau_syn; n];
    }
    p.r = vec![r; n];
    if model.spikes() {
        p.v_threshold = vec![thr; n];
    }
    p
}

fn expand<T: Copy>(p: &PerNeuron<T>, n: usize) -> Vec<T> {
    p.expand(n)
}

/// The integer weights `[out][in]` of a connection (dense expansion).
pub fn weights_int(w: &QWeights, exp: i8, target: &Target) -> Vec<Vec<i64>> {
    let wf = target.formats().weight();
    let (out, inp) = w.dims();
    let mut m = vec![vec![0i64; inp]; out];
    let mant: Vec<i64> = match w {
        QWeights::Dense { mant, .. } | QWeights::Conv2d { mant, .. } | QWeights::Sparse { mant, .. } => {
            mant.iter().map(|&x| i64::from(x)).collect()
        }
    };
    let mixed = mant.iter().any(|&x| x > 0) && mant.iter().any(|&x| x < 0);
    let wi = |x: i64| wf.weight_int(x, i32::from(exp), mixed).unwrap();
    match w {
        QWeights::Dense { inp, .. } => {
            for (i, &x) in mant.iter().enumerate() {
                m[i / inp][i % inp] = wi(x);
            }
        }
        QWeights::Sparse { row_ptr, col, .. } => {
            for d in 0..out {
                for e in row_ptr[d] as usize..row_ptr[d + 1] as usize {
                    m[d][col[e] as usize] += wi(mant[e]);
                }
            }
        }
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            ..
        } => {
            let (cig, cog) = (in_shape[0] / groups, out_shape[0] / groups);
            for o in 0..out_shape[0] {
                let g = o / cog;
                for oy in 0..out_shape[1] {
                    for ox in 0..out_shape[2] {
                        let d = (o * out_shape[1] + oy) * out_shape[2] + ox;
                        for c in 0..cig {
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let iy = (oy * stride[0] + ky * dilation[0]) as i64 - padding[0] as i64;
                                    let ix = (ox * stride[1] + kx * dilation[1]) as i64 - padding[1] as i64;
                                    if iy < 0 || ix < 0 || iy >= in_shape[1] as i64 || ix >= in_shape[2] as i64 {
                                        continue;
                                    }
                                    let j = ((g * cig + c) * in_shape[1] + iy as usize) * in_shape[2] + ix as usize;
                                    let k = ((o * cig + c) * kernel[0] + ky) * kernel[1] + kx;
                                    m[d][j] += wi(mant[k]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    m
}

/// Runs one population of `q` through the chip's integer step (loihi1.md,
/// with the target's formats), fed by `events[t][j]` on connection 0 (with
/// its latency). Returns voltages (after reset) and spikes per step.
pub fn chip_run(q: &QPopulation, target: &Target, events: &[Vec<i64>]) -> (Vec<Vec<i64>>, Vec<Vec<bool>>) {
    let f = target.formats();
    let n = q.shape.numel();
    let c = &q.compartment;
    let du = expand(&c.decay_u, n);
    let dv = expand(&c.decay_v, n);
    let vth: Vec<i64> = expand(&c.vth_mant, n)
        .iter()
        .map(|&m| f.threshold().value(i64::from(m)).unwrap())
        .collect();
    let bias: Vec<i64> = expand(&c.bias_mant, n)
        .iter()
        .zip(expand(&c.bias_exp, n))
        .map(|(&m, e)| f.bias().value(i64::from(m), u32::from(e)).unwrap())
        .collect();
    let refr = expand(&c.refractory, n);
    let vmin = f.voltage().vmin(u32::from(c.vmin_exp)).unwrap();
    let vmax = f.voltage().vmax(u32::from(c.vmax_exp)).unwrap();
    let conn = &q.inputs[0];
    let w = weights_int(&conn.weights, conn.weight_exp, target);
    let lat = conn.latency as usize;
    let d = f.decay();
    let (mut u, mut v, mut cnt) = (vec![0i64; n], vec![0i64; n], vec![0u32; n]);
    let mut vs = Vec::new();
    let mut ss = Vec::new();
    for t in 0..events.len() {
        let mut vt = vec![0; n];
        let mut st = vec![false; n];
        for i in 0..n {
            let mut q = 0i64;
            if t >= lat {
                for (j, &e) in events[t - lat].iter().enumerate() {
                    q += e * w[i][j];
                }
            }
            let q = f.accumulator().apply(q);
            u[i] = f
                .current()
                .apply(d.apply(u[i], d.u_factor(u32::from(du[i])).unwrap()) + q);
            let u2 = f.current().apply(u[i] + bias[i]);
            let mut vv = f
                .voltage()
                .register()
                .apply(d.apply(v[i], d.v_factor(u32::from(dv[i])).unwrap()) + u2);
            vv = vv.clamp(vmin, vmax);
            if cnt[i] > 0 {
                vv = 0;
            }
            if c.spiking && vv > vth[i] {
                st[i] = true;
                vv = 0;
                cnt[i] = u32::from(refr[i]);
            }
            cnt[i] = cnt[i].saturating_sub(1);
            v[i] = vv;
            vt[i] = vv;
        }
        vs.push(vt);
        ss.push(st);
    }
    (vs, ss)
}

/// Float simulation of one population fed by `x[t]` (already weighted,
/// bias included) with the IR's semantics (docs/ir.md), exact or Euler.
pub fn float_run(n: &Neuron, dt: f64, euler: bool, x: &[Vec<f64>]) -> Vec<Vec<bool>> {
    let len = n.len();
    let dec = |tau: f64| -> (f64, f64) {
        if tau.is_infinite() {
            (1.0, 0.0)
        } else if euler {
            (1.0 - dt / tau, dt / tau)
        } else {
            let g = -(-dt / tau).exp_m1();
            (1.0 - g, g)
        }
    };
    let (mut i_s, mut v) = (vec![0.0; len], vec![0.0; len]);
    let nref = (n.refractory / dt).round() as u32;
    let mut hold = vec![0u32; len];
    let mut out = Vec::new();
    for xt in x {
        let mut st = vec![false; len];
        for k in 0..len {
            let cur = if n.model.has_synapse() && n.tau_syn[k] > 0.0 {
                let (a, g) = dec(n.tau_syn[k]);
                i_s[k] = a * i_s[k] + g * n.w_in[k] * xt[k];
                i_s[k]
            } else {
                n.w_in[k] * xt[k]
            };
            if hold[k] > 0 {
                hold[k] -= 1;
                v[k] = n.v_reset[k];
                continue;
            }
            if n.model.leaks() {
                let (a, g) = dec(n.tau_mem[k]);
                v[k] = a * v[k] + g * (n.v_leak[k] + n.r[k] * cur);
            } else {
                v[k] += n.r[k] * cur;
            }
            if n.model.spikes() && v[k] > n.v_threshold[k] {
                st[k] = true;
                v[k] = n.v_reset[k];
                hold[k] = nref;
            }
        }
        out.push(st);
    }
    out
}

/// `InputEncoding::Events` check helper.
pub fn is_events(e: InputEncoding) -> bool {
    e == InputEncoding::Events
}
