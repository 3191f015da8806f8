//! A deliberately plain implementation of the step, written from
//! docs/loihi2.md alone and sharing no step code with [`crate::emu`]: dense
//! weight matrices, one neuron at a time, constants written out as the
//! document states them, and processes stepped by repeatedly picking any
//! whose same-step senders are done. Slow and obvious; used to test the
//! emulator (A = B).

use crate::input::{Input, InputError};
use crate::net::{ActMode, Conn, Kind, Net, SignMode};
use crate::record::Record;

/// §3: u wraps once into (−2^23, 2^23]; v clips at ±(2^23 − 1).
const TWO_POW_23: i64 = 8_388_608;
const TWO_POW_24: i64 = 16_777_216;

/// §2, steps 1–3 of "Once, in the first step": weights[out][in].
fn lava_weights(c: &Conn) -> Vec<Vec<i64>> {
    let passed = |i: usize, j: usize| c.weights[i * c.inputs + j];
    let all: Vec<i64> = c.weights.clone();
    let mode = match c.sign_mode {
        SignMode::Auto => {
            if all.iter().all(|&w| w >= 0) {
                SignMode::Excitatory
            } else if all.iter().all(|&w| w <= 0) {
                SignMode::Inhibitory
            } else {
                SignMode::Mixed
            }
        }
        m => m,
    };
    let mut out = vec![vec![0i64; c.inputs]; c.outputs];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            let w = passed(i, j);
            *cell = match mode {
                SignMode::Mixed => {
                    let k = 8 - c.num_weight_bits as i64 + 1;
                    let clipped = w.clamp(-256, 255);
                    clipped.div_euclid(1 << k) * (1 << k)
                }
                SignMode::Excitatory | SignMode::Auto => {
                    let k = 8 - c.num_weight_bits as i64;
                    let clipped = w.clamp(0, 255);
                    clipped / (1 << k) * (1 << k)
                }
                SignMode::Inhibitory => {
                    let k = 8 - c.num_weight_bits as i64;
                    let magnitude = (-w).clamp(0, 255);
                    -(magnitude / (1 << k) * (1 << k))
                }
            };
        }
    }
    out
}

/// x · 2^e with a floor toward −∞ for e < 0.
fn times_pow2(x: i64, e: i64) -> i64 {
    if e >= 0 {
        x.wrapping_mul(1 << e)
    } else {
        x.div_euclid(1 << -e)
    }
}

/// The product x · factor / 4096, rounded toward zero.
fn decay(x: i64, factor: i64) -> i64 {
    let p = x.wrapping_mul(factor);
    let q = p.abs() / 4096;
    if p < 0 { -q } else { q }
}

enum Proc {
    Source,
    Conn {
        w: Vec<Vec<i64>>,
        exp: i64,
        graded: bool,
        buffer: Vec<i64>,
    },
    Lif {
        du: i64,
        dv: i64,
        vth: i64,
        bias: Vec<i64>,
        u: Vec<i64>,
        v: Vec<i64>,
    },
    Sdn {
        sigma_delta: bool,
        st: Vec<[i64; 4]>,
    },
}

/// Runs `net` for `steps` steps on `input`, the plain way.
pub fn run(net: &Net, input: &Input, steps: usize) -> Result<Record, InputError> {
    let data = input.resolve(net)?;
    let ps = net.processes();
    let mut procs: Vec<Proc> = ps
        .iter()
        .map(|p| match &p.kind {
            Kind::Source(_) => Proc::Source,
            Kind::Dense(c) | Kind::Sparse(c) => Proc::Conn {
                w: lava_weights(c),
                exp: c.weight_exp.into(),
                graded: c.num_message_bits > 0,
                buffer: vec![0; c.outputs],
            },
            Kind::Lif(l) => Proc::Lif {
                du: l.du.into(),
                dv: l.dv.into(),
                vth: i64::from(l.vth) * 64,
                bias: (0..l.neurons)
                    .map(|i| times_pow2(l.bias_mant[i].into(), l.bias_exp[i].into()))
                    .collect(),
                u: vec![0; l.neurons],
                v: vec![0; l.neurons],
            },
            Kind::Delta(s) => Proc::Sdn {
                sigma_delta: false,
                st: vec![[0; 4]; s.neurons],
            },
            Kind::SigmaDelta(s) => Proc::Sdn {
                sigma_delta: true,
                st: vec![[0; 4]; s.neurons],
            },
        })
        .collect();
    let mut rec = Record::for_net(net, steps);
    let first_trace: Vec<usize> = ps
        .iter()
        .scan(0, |t, p| {
            let here = *t;
            *t += p.kind.variables().len();
            Some(here)
        })
        .collect();
    for t in 0..steps {
        // What each process sends in this step; Dense/Sparse send first.
        let mut sent: Vec<Option<Vec<i64>>> = vec![None; ps.len()];
        for (i, p) in procs.iter().enumerate() {
            if let Proc::Conn { buffer, .. } = p {
                sent[i] = Some(buffer.clone());
            }
        }
        let received = |sent: &[Option<Vec<i64>>], i: usize| -> Option<Vec<i64>> {
            let mut sum = vec![0i64; ps[i].kind.input_width()];
            for &(s, d) in net.connections() {
                if d == i {
                    let x = sent[s].as_ref()?;
                    for k in 0..sum.len() {
                        sum[k] = sum[k].wrapping_add(x[k]);
                    }
                }
            }
            Some(sum)
        };
        let mut done: Vec<bool> = ps.iter().map(|p| p.kind.is_connection()).collect();
        while done.iter().any(|d| !d) {
            for i in 0..ps.len() {
                if done[i] {
                    continue;
                }
                let Some(a) = received(&sent, i) else { continue };
                let vals = neuron_step(&ps[i].kind, &mut procs[i], &a, data[i], t);
                for (k, v) in vals.iter().enumerate() {
                    rec.push(first_trace[i] + k, v);
                }
                sent[i] = vals.last().cloned();
                done[i] = true;
            }
        }
        for i in 0..ps.len() {
            if let Proc::Conn { w, exp, graded, buffer } = &mut procs[i] {
                let s = received(&sent, i).unwrap_or_default();
                for (out, row) in w.iter().enumerate() {
                    let mut acc = 0i64;
                    for (j, &x) in s.iter().enumerate() {
                        if *graded {
                            acc = acc.wrapping_add(row[j].wrapping_mul(x));
                        } else if x != 0 {
                            acc = acc.wrapping_add(row[j]);
                        }
                    }
                    buffer[out] = times_pow2(acc, *exp);
                }
                rec.push(first_trace[i], sent[i].as_deref().unwrap_or(&[]));
            }
        }
    }
    Ok(rec)
}

/// One source or neuron process for one step: its recorded variables in
/// [`Kind::variables`] order (the last is what it sends).
fn neuron_step(
    kind: &Kind,
    proc: &mut Proc,
    a: &[i64],
    data: Option<&ndarray::Array2<i32>>,
    t: usize,
) -> Vec<Vec<i64>> {
    match (kind, proc) {
        (Kind::Source(_), Proc::Source) => {
            // Cannot fail: `Input::resolve`, checked before the first step,
            // errors unless every source process has its data.
            let d = data.expect("Input::resolve gives every source its data");
            vec![d.column(t % d.ncols()).iter().map(|&x| i64::from(x)).collect()]
        }
        (
            Kind::Lif(_),
            Proc::Lif {
                du,
                dv,
                vth,
                bias,
                u,
                v,
            },
        ) => {
            let mut s = vec![0; u.len()];
            for i in 0..u.len() {
                let mut cur = decay(u[i], 4096 - (*du + 1)) + a[i] * 64;
                if cur > TWO_POW_23 {
                    cur -= TWO_POW_24;
                } else if cur <= -TWO_POW_23 {
                    cur += TWO_POW_24;
                }
                u[i] = cur;
                let volt = decay(v[i], 4096 - *dv) + cur + bias[i];
                v[i] = volt.clamp(-(TWO_POW_23 - 1), TWO_POW_23 - 1);
                if v[i] > *vth {
                    s[i] = 1;
                    v[i] = 0;
                }
            }
            vec![u.clone(), v.clone(), s]
        }
        (Kind::Delta(p) | Kind::SigmaDelta(p), Proc::Sdn { sigma_delta, st }) => {
            let scale = 1i64 << (p.spike_exp + p.state_exp);
            let (mut sig, mut act, mut res, mut out) = (vec![], vec![], vec![], vec![]);
            for (i, [sigma, old_act, residue, error]) in st.iter_mut().enumerate() {
                let new_act = if *sigma_delta {
                    *sigma += a[i];
                    let x = *sigma + p.bias[i] * scale;
                    if p.act_mode == ActMode::Relu && x < 0 { 0 } else { x }
                } else {
                    a[i] * scale
                };
                let delta = new_act - *old_act + *residue;
                let s = if p.cum_error {
                    *error += delta;
                    let s = if error.abs() >= p.vth * scale { delta } else { 0 };
                    if s != 0 {
                        *error = 0;
                    }
                    s
                } else if delta.abs() >= p.vth * scale {
                    delta
                } else {
                    0
                };
                *residue = delta - s;
                *old_act = new_act;
                sig.push(*sigma);
                act.push(new_act);
                res.push(*residue);
                out.push(s.div_euclid(1 << p.state_exp));
            }
            if *sigma_delta {
                vec![sig, act, res, out]
            } else {
                vec![act, res, out]
            }
        }
        _ => unreachable!("procs are built from the same kinds"),
    }
}
