//! The integer step (docs/loihi2.md §2, "one valid order for an emulator"):
//!
//! 1. every Dense/Sparse publishes the buffer it accumulated last step;
//! 2. sources and neurons step upstream first, each summing its senders'
//!    published values;
//! 3. every Dense/Sparse accumulates this step's input into its buffer.
//!
//! All memory is laid out before the first step: the hot loop allocates
//! nothing, hashes nothing and dispatches with one `match` per process per
//! step. Arithmetic is i64 with wrapping adds and products (Lava's int32
//! ports never get near that within the chip's ranges).

use ndarray::Array2;

use crate::chip::{Chip, Numerics};
use crate::input::{Input, InputError};
use crate::net::{ActMode, Conn, Kind, Net, Sdn};
use crate::record::Record;

/// Synapses of a connection, laid out by input (so a step walks only the
/// inputs that are non-zero).
#[derive(Debug)]
enum Synapses {
    /// Weights transposed: `inputs × outputs`, row j = input j's column.
    Dense(Vec<i64>),
    /// Per input j, `start[j]..start[j + 1]` into `(output, weight)`.
    Sparse { start: Vec<usize>, syn: Vec<(usize, i64)> },
}

#[derive(Debug)]
struct ConnState {
    syn: Synapses,
    weight_exp: i32,
    graded: bool,
    buf: Vec<i64>,
}

#[derive(Debug)]
struct LifState {
    fu: i64,
    fv: i64,
    vth: i64,
    bias: Vec<i64>,
    u: Vec<i64>,
    v: Vec<i64>,
}

#[derive(Debug)]
struct SdnState {
    sigma_on: bool,
    relu: bool,
    cum: bool,
    scale: u32,
    state_exp: u32,
    vth: i64,
    bias: Vec<i64>,
    sigma: Vec<i64>,
    act: Vec<i64>,
    residue: Vec<i64>,
    error: Vec<i64>,
}

#[derive(Debug)]
enum State {
    Source(Array2<i32>),
    Conn(ConnState),
    Lif(LifState),
    Sdn(SdnState),
}

#[derive(Debug)]
struct Unit {
    state: State,
    /// Output slice of `Machine::vals`.
    out: (usize, usize),
    /// Input width.
    width: usize,
    /// Output slices of the senders.
    senders: Vec<(usize, usize)>,
    /// First trace index of this process in the record.
    trace: usize,
}

/// A network laid out for stepping.
#[derive(Debug)]
pub struct Machine {
    num: Numerics,
    units: Vec<Unit>,
    order: Vec<usize>,
    conns: Vec<usize>,
    vals: Vec<i64>,
    scratch: Vec<i64>,
    t: usize,
}

/// Runs `net` for `steps` steps on `input` and records every variable.
pub fn run(chip: &Chip, net: &Net, input: &Input, steps: usize) -> Result<Record, InputError> {
    let mut m = Machine::new(chip, net, input)?;
    let mut rec = Record::for_net(net, steps);
    for _ in 0..steps {
        m.step(&mut rec);
    }
    Ok(rec)
}

fn conn_state(c: &Conn) -> ConnState {
    let w = c.effective_weights();
    let at = |i: usize, j: usize| w[i * c.inputs + j];
    let nonzero = w.iter().filter(|&&x| x != 0).count();
    let syn = if nonzero * 2 < w.len() {
        let mut start = Vec::with_capacity(c.inputs + 1);
        let mut syn = Vec::with_capacity(nonzero);
        for j in 0..c.inputs {
            start.push(syn.len());
            syn.extend((0..c.outputs).filter(|&i| at(i, j) != 0).map(|i| (i, at(i, j))));
        }
        start.push(syn.len());
        Synapses::Sparse { start, syn }
    } else {
        Synapses::Dense(
            (0..c.inputs)
                .flat_map(|j| (0..c.outputs).map(move |i| at(i, j)))
                .collect(),
        )
    };
    ConnState {
        syn,
        weight_exp: c.weight_exp,
        graded: c.num_message_bits > 0,
        buf: vec![0; c.outputs],
    }
}

fn sdn_state(s: &Sdn, sigma_on: bool) -> SdnState {
    let scale = s.spike_exp + s.state_exp;
    let n = s.neurons;
    SdnState {
        sigma_on,
        relu: sigma_on && s.act_mode == ActMode::Relu,
        cum: s.cum_error,
        scale,
        state_exp: s.state_exp,
        vth: s.vth << scale,
        bias: if sigma_on {
            s.bias.iter().map(|b| b << scale).collect()
        } else {
            vec![0; n]
        },
        sigma: vec![0; n],
        act: vec![0; n],
        residue: vec![0; n],
        error: vec![0; n],
    }
}

impl Machine {
    /// Lays out `net` with `input` (checked against the sources).
    pub fn new(chip: &Chip, net: &Net, input: &Input) -> Result<Machine, InputError> {
        let num = *chip.numerics();
        let data = input.resolve(net)?;
        let mut offsets = Vec::with_capacity(net.processes().len());
        let mut total = 0;
        for p in net.processes() {
            offsets.push((total, p.kind.output_width()));
            total += p.kind.output_width();
        }
        let mut units = Vec::with_capacity(net.processes().len());
        let mut trace = 0;
        for (i, p) in net.processes().iter().enumerate() {
            let state = match &p.kind {
                Kind::Source(_) => State::Source(data[i].cloned().unwrap_or_default()),
                Kind::Dense(c) | Kind::Sparse(c) => State::Conn(conn_state(c)),
                Kind::Lif(l) => State::Lif(LifState {
                    fu: (1i64 << num.decay_shift) - i64::from(l.du + num.du_offset),
                    fv: (1i64 << num.decay_shift) - i64::from(l.dv + num.dv_offset),
                    vth: i64::from(l.vth) << num.vth_shift,
                    bias: l
                        .bias_mant
                        .iter()
                        .zip(&l.bias_exp)
                        .map(|(&m, &e)| shift(m.into(), e))
                        .collect(),
                    u: vec![0; l.neurons],
                    v: vec![0; l.neurons],
                }),
                Kind::Delta(s) => State::Sdn(sdn_state(s, false)),
                Kind::SigmaDelta(s) => State::Sdn(sdn_state(s, true)),
            };
            let senders = net
                .connections()
                .iter()
                .filter(|e| e.1 == i)
                .map(|e| offsets[e.0])
                .collect();
            units.push(Unit {
                state,
                out: offsets[i],
                width: p.kind.input_width(),
                senders,
                trace,
            });
            trace += p.kind.variables().len();
        }
        let width = units.iter().map(|u| u.width).max().unwrap_or(0);
        Ok(Machine {
            num,
            units,
            order: net.order().to_vec(),
            conns: (0..net.processes().len())
                .filter(|&i| net.processes()[i].kind.is_connection())
                .collect(),
            vals: vec![0; total],
            scratch: vec![0; width],
            t: 0,
        })
    }

    /// One time step; appends this step's values to `rec`.
    pub fn step(&mut self, rec: &mut Record) {
        for &i in &self.conns {
            let u = &self.units[i];
            if let State::Conn(c) = &u.state {
                self.vals[u.out.0..u.out.0 + u.out.1].copy_from_slice(&c.buf);
            }
        }
        for k in 0..self.order.len() {
            let i = self.order[k];
            self.step_unit(i, rec);
        }
        for k in 0..self.conns.len() {
            let i = self.conns[k];
            self.step_unit(i, rec);
        }
        self.t += 1;
    }

    fn step_unit(&mut self, i: usize, rec: &mut Record) {
        let u = &mut self.units[i];
        let a = &mut self.scratch[..u.width];
        a.fill(0);
        for &(o, n) in &u.senders {
            for (x, y) in a.iter_mut().zip(&self.vals[o..o + n]) {
                *x = x.wrapping_add(*y);
            }
        }
        let (o, n) = u.out;
        let out = &mut self.vals[o..o + n];
        let tr = u.trace;
        match &mut u.state {
            State::Source(d) => {
                let col = self.t % d.ncols().max(1);
                for (y, x) in out.iter_mut().zip(d.column(col)) {
                    *y = i64::from(*x);
                }
                rec.push(tr, out);
            }
            State::Conn(c) => {
                accumulate(c, a);
                rec.push(tr, out);
            }
            State::Lif(l) => {
                lif_step(&self.num, l, a, out);
                rec.push(tr, &l.u);
                rec.push(tr + 1, &l.v);
                rec.push(tr + 2, out);
            }
            State::Sdn(s) => {
                sdn_step(s, a, out);
                let mut t = tr;
                if s.sigma_on {
                    rec.push(t, &s.sigma);
                    t += 1;
                }
                rec.push(t, &s.act);
                rec.push(t + 1, &s.residue);
                rec.push(t + 2, out);
            }
        }
    }
}

/// x · 2^e, a floor for e < 0.
fn shift(x: i64, e: i32) -> i64 {
    if e > 0 { x << e } else { x >> (-e) }
}

fn accumulate(c: &mut ConnState, s: &[i64]) {
    c.buf.fill(0);
    let n = c.buf.len();
    for (j, &x) in s.iter().enumerate() {
        if x == 0 {
            continue;
        }
        let g = if c.graded { x } else { 1 };
        match &c.syn {
            Synapses::Dense(wt) => {
                for (b, w) in c.buf.iter_mut().zip(&wt[j * n..(j + 1) * n]) {
                    *b = b.wrapping_add(w.wrapping_mul(g));
                }
            }
            Synapses::Sparse { start, syn } => {
                for &(i, w) in &syn[start[j]..start[j + 1]] {
                    c.buf[i] = c.buf[i].wrapping_add(w.wrapping_mul(g));
                }
            }
        }
    }
    for b in c.buf.iter_mut() {
        *b = shift(*b, c.weight_exp);
    }
}

/// sign(x·f) · (|x·f| >> k): the product rounded toward 0.
fn decay(x: i64, f: i64, k: u32) -> i64 {
    let p = x.wrapping_mul(f);
    p.signum() * (p.unsigned_abs() >> k) as i64
}

fn lif_step(num: &Numerics, l: &mut LifState, a: &[i64], out: &mut [i64]) {
    let half = num.u_wrap / 2;
    for i in 0..l.u.len() {
        let mut u = decay(l.u[i], l.fu, num.decay_shift).wrapping_add(a[i] << num.act_shift);
        if u > half {
            u -= num.u_wrap;
        } else if u <= -half {
            u += num.u_wrap;
        }
        let v = decay(l.v[i], l.fv, num.decay_shift)
            .wrapping_add(u)
            .wrapping_add(l.bias[i])
            .clamp(-num.v_clip, num.v_clip);
        let spike = v > l.vth;
        l.u[i] = u;
        l.v[i] = if spike { 0 } else { v };
        out[i] = i64::from(spike);
    }
}

fn sdn_step(s: &mut SdnState, a: &[i64], out: &mut [i64]) {
    for i in 0..s.act.len() {
        let act = if s.sigma_on {
            s.sigma[i] = s.sigma[i].wrapping_add(a[i]);
            let x = s.sigma[i].wrapping_add(s.bias[i]);
            if s.relu { x.max(0) } else { x }
        } else {
            a[i] << s.scale
        };
        let delta = act.wrapping_sub(s.act[i]).wrapping_add(s.residue[i]);
        let fire = if s.cum {
            s.error[i] = s.error[i].wrapping_add(delta);
            s.error[i].unsigned_abs() >= s.vth.unsigned_abs()
        } else {
            delta.unsigned_abs() >= s.vth.unsigned_abs()
        };
        let spike = if fire { delta } else { 0 };
        if s.cum && spike != 0 {
            s.error[i] = 0;
        }
        s.residue[i] = delta - spike;
        s.act[i] = act;
        out[i] = spike >> s.state_exp;
    }
}
