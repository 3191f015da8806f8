//! The bit-exact Xylo step (XyloSim's semantics; `docs/xylo.md` gives the
//! rule and the source lines it follows).
//!
//! [`Emulator::new`] compiles a checked [`Config`] into flat fan-out lists
//! (CSR) and flat register vectors; [`Emulator::step`] then runs one time
//! step without allocating and without dynamic dispatch. Repeated events on
//! one synapse are added as `k · w` in one saturating add: with one sign,
//! clamping after each of k adds or once after all k gives the same value
//! (the reference, `crate::reference`, adds them one by one).

use ndarray::{Array2, ArrayView2};

use crate::Error;
use crate::chip::Chip;
use crate::config::Config;
use crate::fixed::{Width, decay};
use crate::record::{Record, States};

/// What [`run`] records besides spike counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    /// Spike counts only.
    Spikes,
    /// Spike counts and every state register.
    States,
}

/// Check `config` against `chip`, then run `input` (steps × input channels,
/// event counts; columns = `config.inputs()`) from the zero state.
pub fn run(chip: &Chip, config: &Config, input: ArrayView2<'_, u32>, recording: Recording) -> Result<Record, Error> {
    let mut e = Emulator::new(chip, config)?;
    e.run(input, recording)
}

/// A fan-out list in CSR form: entries `ptr[i]..ptr[i + 1]` belong to source `i`.
#[derive(Debug, Clone, Default)]
struct Fanout {
    ptr: Vec<usize>,
    target: Vec<u32>,
    weight: Vec<i32>,
}

impl Fanout {
    fn push_source(&mut self) {
        if self.ptr.is_empty() {
            self.ptr.push(0);
        }
        self.ptr.push(self.target.len());
    }
    fn add(&mut self, target: usize, weight: i32) {
        self.target.push(target as u32);
        self.weight.push(weight);
        if let Some(last) = self.ptr.last_mut() {
            *last = self.target.len();
        }
    }
    /// Deliver `k` events from source `src` into `regs`.
    #[inline(always)]
    fn deliver(&self, src: usize, k: i32, regs: &mut [i32], w: Width) {
        let (a, b) = (self.ptr[src], self.ptr[src + 1]);
        for (&t, &wt) in self.target[a..b].iter().zip(&self.weight[a..b]) {
            let r = &mut regs[t as usize];
            *r = w.sat(*r + k * wt);
        }
    }
}

/// One population's neuron parameters, flat.
#[derive(Debug, Clone)]
struct Population {
    /// Synaptic states per neuron.
    states: usize,
    dash_mem: Vec<u32>,
    /// neuron * states + state.
    dash_syn: Vec<u32>,
    threshold: Vec<i32>,
    bias: Vec<i32>,
    /// Alias target, [`NO_ALIAS`] for none.
    alias: Vec<u32>,
    cap: u32,
}

const NO_ALIAS: u32 = u32::MAX;

/// One population's registers.
#[derive(Debug, Clone)]
struct Registers {
    isyn: Vec<i32>,
    vmem: Vec<i32>,
    spikes: Vec<u8>,
}

impl Registers {
    fn zeros(n: usize, states: usize) -> Self {
        Registers {
            isyn: vec![0; n * states],
            vmem: vec![0; n],
            spikes: vec![0; n],
        }
    }
}

/// A configured Xylo core and its state.
#[derive(Debug, Clone)]
pub struct Emulator {
    width: Width,
    input_cap: u32,
    inputs: usize,
    input: Fanout,
    recurrent: Fanout,
    readout: Fanout,
    hidden: Population,
    output: Population,
    hid: Registers,
    out: Registers,
}

impl Emulator {
    /// Check `config` against `chip` and compile it.
    pub fn new(chip: &Chip, config: &Config) -> Result<Emulator, Error> {
        config.check(chip)?;
        let width = Width::new(chip.formats.state_bits);
        let s = chip.synapses.hidden_states as usize;
        let (h, o) = (config.hidden(), config.outputs());
        // XyloLayer::deliver_spikes passes `weight << weight_bitshift` as an
        // int16_t: the shifted weight is stored in a state-width register.
        let shifted = |w: i64, sh: i64| width.wrap((w as i32) << sh);
        let used = s.min(config.states());
        let mut input = Fanout::default();
        for ch in 0..config.inputs() {
            input.push_source();
            for post in 0..config.input_expansion() {
                for st in 0..used {
                    let w = config.weights_in[[ch, post, st]];
                    if w != 0 {
                        input.add(post * s + st, shifted(w, config.weight_shift_in));
                    }
                }
            }
        }
        let (mut recurrent, mut readout) = (Fanout::default(), Fanout::default());
        let first_oen = h - config.output_expansion();
        for pre in 0..h {
            recurrent.push_source();
            for post in 0..h {
                for st in 0..used {
                    let w = config.weights_rec[[pre, post, st]];
                    if w != 0 {
                        recurrent.add(post * s + st, shifted(w, config.weight_shift_rec));
                    }
                }
            }
            readout.push_source();
            if pre >= first_oen {
                for post in 0..o {
                    let w = config.weights_out[[pre - first_oen, post]];
                    if w != 0 {
                        readout.add(post, shifted(w, config.weight_shift_out));
                    }
                }
            }
        }
        let u = |v: &ndarray::Array1<i64>| v.iter().map(|&x| x as u32).collect::<Vec<_>>();
        let i = |v: &ndarray::Array1<i64>| v.iter().map(|&x| x as i32).collect::<Vec<_>>();
        let mut dash_syn = Vec::with_capacity(h * s);
        for n in 0..h {
            dash_syn.push(config.dash_syn[n] as u32);
            if s == 2 {
                dash_syn.push(config.dash_syn_2[n] as u32);
            }
        }
        let hidden = Population {
            states: s,
            dash_mem: u(&config.dash_mem),
            dash_syn,
            threshold: i(&config.threshold),
            bias: i(&config.bias),
            alias: config
                .aliases
                .iter()
                .map(|&a| if a < 0 { NO_ALIAS } else { a as u32 })
                .collect(),
            cap: chip.caps.hidden_spikes_per_step,
        };
        let output = Population {
            states: 1,
            dash_mem: u(&config.dash_mem_out),
            dash_syn: u(&config.dash_syn_out),
            threshold: i(&config.threshold_out),
            bias: i(&config.bias_out),
            alias: vec![NO_ALIAS; o],
            cap: chip.caps.output_spikes_per_step,
        };
        Ok(Emulator {
            width,
            input_cap: chip.caps.input_events_per_step,
            inputs: config.inputs(),
            input,
            recurrent,
            readout,
            hid: Registers::zeros(h, s),
            out: Registers::zeros(o, 1),
            hidden,
            output,
        })
    }

    /// Back to the zero state (no spikes in flight).
    pub fn reset(&mut self) {
        for r in [&mut self.hid, &mut self.out] {
            r.isyn.fill(0);
            r.vmem.fill(0);
            r.spikes.fill(0);
        }
    }

    /// One time step; `events[c]` input events on channel c (`inputs()` of them).
    pub fn step(&mut self, events: &[u32]) {
        let w = self.width;
        // 1. Input events of this step (XyloLayer::evolve, first deliver_spikes).
        for (ch, &n) in events.iter().enumerate().take(self.inputs) {
            let k = n.min(self.input_cap) as i32;
            if k > 0 {
                self.input.deliver(ch, k, &mut self.hid.isyn, w);
            }
        }
        // 2. Hidden spikes of the previous step, to hidden then output neurons.
        for pre in 0..self.hid.spikes.len() {
            let k = u32::from(self.hid.spikes[pre]).min(self.hidden.cap) as i32;
            if k > 0 {
                self.recurrent.deliver(pre, k, &mut self.hid.isyn, w);
                self.readout.deliver(pre, k, &mut self.out.isyn, w);
            }
        }
        // 3. Clear the spike buffers, then evolve both populations in order.
        self.hid.spikes.fill(0);
        self.out.spikes.fill(0);
        evolve(&self.hidden, &mut self.hid, w);
        evolve(&self.output, &mut self.out, w);
    }

    /// Spikes of the last step, per hidden neuron.
    pub fn hidden_spikes(&self) -> &[u8] {
        &self.hid.spikes
    }
    /// Spikes of the last step, per output neuron.
    pub fn output_spikes(&self) -> &[u8] {
        &self.out.spikes
    }

    /// Run `input` (steps × channels) from the current state.
    pub fn run(&mut self, input: ArrayView2<'_, u32>, recording: Recording) -> Result<Record, Error> {
        let (steps, cols) = input.dim();
        if cols != self.inputs {
            return Err(Error::Input {
                message: format!(
                    "has {cols} channels, the configuration has {} (weights_in rows)",
                    self.inputs
                ),
            });
        }
        let (h, o, s) = (self.hid.vmem.len(), self.out.vmem.len(), self.hidden.states);
        let mut spikes_hidden = Array2::<u8>::zeros((steps, h));
        let mut spikes_output = Array2::<u8>::zeros((steps, o));
        let want = recording == Recording::States;
        let sized = |n: usize| Array2::<i16>::zeros((if want { steps } else { 0 }, n));
        let (mut hv, mut hi, mut hi2, mut ov, mut oi) = (
            sized(h),
            sized(h),
            sized(if s == 2 { h } else { 0 }),
            sized(o),
            sized(o),
        );
        let mut row = vec![0u32; cols];
        for t in 0..steps {
            for (r, &x) in row.iter_mut().zip(input.row(t)) {
                *r = x;
            }
            self.step(&row);
            copy_u8(&self.hid.spikes, spikes_hidden.row_mut(t));
            copy_u8(&self.out.spikes, spikes_output.row_mut(t));
            if want {
                copy_i16(self.hid.vmem.iter().copied(), hv.row_mut(t));
                copy_i16(self.hid.isyn.iter().step_by(s).copied(), hi.row_mut(t));
                if s == 2 {
                    copy_i16(self.hid.isyn.iter().skip(1).step_by(2).copied(), hi2.row_mut(t));
                }
                copy_i16(self.out.vmem.iter().copied(), ov.row_mut(t));
                copy_i16(self.out.isyn.iter().copied(), oi.row_mut(t));
            }
        }
        let states = want.then(|| States {
            hidden_vmem: hv,
            hidden_isyn: hi,
            hidden_isyn2: (s == 2).then_some(hi2),
            output_vmem: ov,
            output_isyn: oi,
        });
        Ok(Record {
            spikes_hidden,
            spikes_output,
            states,
        })
    }
}

fn copy_u8(src: &[u8], mut dst: ndarray::ArrayViewMut1<'_, u8>) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = v;
    }
}

fn copy_i16(src: impl Iterator<Item = i32>, mut dst: ndarray::ArrayViewMut1<'_, i16>) {
    for (d, v) in dst.iter_mut().zip(src) {
        *d = v as i16;
    }
}

/// XyloLayer::evolve_neurons over one population, in neuron order, with
/// XyloIAFNeuron::evolve per neuron.
#[inline]
fn evolve(p: &Population, r: &mut Registers, w: Width) {
    let s = p.states;
    for n in 0..r.vmem.len() {
        let mut sum = 0i32;
        for j in 0..s {
            let i = &mut r.isyn[n * s + j];
            *i -= decay(*i, p.dash_syn[n * s + j]);
            sum += *i;
        }
        let v = r.vmem[n];
        // `int16_t dv_mem = -decay(v_mem, dash_mem)`: the negation is stored
        // in the register width (so −(−32768) is −32768 again).
        let mut dv = w.wrap(-decay(v, p.dash_mem[n]));
        dv = w.sat(dv + sum);
        dv = w.sat(dv + p.bias[n]);
        let mut v = w.sat(v + dv);
        let th = p.threshold[n];
        let mut k = u32::from(r.spikes[n]);
        while v >= th && k < p.cap {
            k += 1;
            v = w.wrap(v - th);
        }
        r.vmem[n] = v;
        r.spikes[n] = k as u8;
        let a = p.alias[n];
        if a != NO_ALIAS {
            let a = a as usize;
            r.spikes[a] = (u32::from(r.spikes[a]) + k).min(p.cap) as u8;
        }
    }
}
