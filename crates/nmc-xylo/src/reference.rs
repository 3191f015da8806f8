//! A deliberately plain restatement of the Xylo step, written from the rule
//! (docs/xylo.md) rather than from the emulator: dense weight matrices,
//! `i64` arithmetic with explicit clamping, and every event added on its
//! own, in delivery order. Slow; for tests (emulator = reference).

// Indices mirror the rule's (neuron, state) subscripts on purpose.
#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, ArrayView2};

use crate::Error;
use crate::chip::Chip;
use crate::config::Config;
use crate::record::{Record, States};

/// The arithmetic of one register width.
struct Reg {
    lo: i64,
    hi: i64,
    span: i64,
}

impl Reg {
    fn new(bits: u32) -> Reg {
        Reg {
            lo: -(1 << (bits - 1)),
            hi: (1 << (bits - 1)) - 1,
            span: 1 << bits,
        }
    }
    /// Add, then clamp to the register (XyloSim's safe_add).
    fn add(&self, x: i64, y: i64) -> i64 {
        let z = x + y;
        if z > self.hi {
            self.hi
        } else if z < self.lo {
            self.lo
        } else {
            z
        }
    }
    /// Keep the low bits, as a C++ store into int16_t does.
    fn store(&self, v: i64) -> i64 {
        (v - self.lo).rem_euclid(self.span) + self.lo
    }
}

/// The decay step: `floor(v / 2^dash)`, or ±1 when that is 0 and v is not.
fn decay_step(v: i64, dash: i64) -> i64 {
    let q = v.div_euclid(1 << dash);
    if q != 0 {
        q
    } else if v > 0 {
        1
    } else if v < 0 {
        -1
    } else {
        0
    }
}

/// One neuron's update (decay, integrate, fire); returns its spike count.
struct Neuron<'a> {
    reg: &'a Reg,
    dash_mem: i64,
    dash_syn: [i64; 2],
    threshold: i64,
    bias: i64,
    cap: u32,
}

impl Neuron<'_> {
    fn update(&self, vmem: &mut i64, isyn: &mut [i64], already: u32) -> u32 {
        let mut total = 0;
        for (k, i) in isyn.iter_mut().enumerate() {
            *i -= decay_step(*i, self.dash_syn[k]);
            total += *i;
        }
        let leak = self.reg.store(-decay_step(*vmem, self.dash_mem));
        let mut dv = self.reg.add(leak, total);
        dv = self.reg.add(dv, self.bias);
        *vmem = self.reg.add(*vmem, dv);
        let mut count = already;
        loop {
            if *vmem < self.threshold || count >= self.cap {
                break;
            }
            count += 1;
            *vmem = self.reg.store(*vmem - self.threshold);
        }
        count
    }
}

/// Check, then run `input` (steps × channels) from zero, recording every
/// register. Same contract as [`crate::emu::run`] with `Recording::States`.
pub fn run(chip: &Chip, config: &Config, input: ArrayView2<'_, u32>) -> Result<Record, Error> {
    config.check(chip)?;
    if input.ncols() != config.inputs() {
        return Err(Error::Input {
            message: format!(
                "has {} channels, the configuration has {} (weights_in rows)",
                input.ncols(),
                config.inputs()
            ),
        });
    }
    let reg = Reg::new(chip.formats.state_bits);
    let states = chip.synapses.hidden_states as usize;
    let (h, o, steps) = (config.hidden(), config.outputs(), input.nrows());
    let oen_start = h - config.output_expansion();
    let shifted = |w: i64, s: i64| reg.store(w * (1 << s));
    let syns = states.min(config.states());

    let mut vmem = vec![0i64; h];
    let mut isyn = vec![vec![0i64; states]; h];
    let mut vmem_out = vec![0i64; o];
    let mut isyn_out = vec![vec![0i64; 1]; o];
    let mut last = vec![0u32; h];

    let mut rec = Record {
        spikes_hidden: Array2::zeros((steps, h)),
        spikes_output: Array2::zeros((steps, o)),
        states: Some(States {
            hidden_vmem: Array2::zeros((steps, h)),
            hidden_isyn: Array2::zeros((steps, h)),
            hidden_isyn2: (states == 2).then(|| Array2::zeros((steps, h))),
            output_vmem: Array2::zeros((steps, o)),
            output_isyn: Array2::zeros((steps, o)),
        }),
    };
    let cap_in = chip.caps.input_events_per_step;
    let cap_h = chip.caps.hidden_spikes_per_step;

    for t in 0..steps {
        // Input events, one at a time.
        for ch in 0..config.inputs() {
            for _ in 0..input[[t, ch]].min(cap_in) {
                for post in 0..config.input_expansion() {
                    for s in 0..syns {
                        let w = config.weights_in[[ch, post, s]];
                        if w != 0 {
                            isyn[post][s] = reg.add(isyn[post][s], shifted(w, config.weight_shift_in));
                        }
                    }
                }
            }
        }
        // Last step's hidden spikes, one at a time: recurrent, then readout.
        for pre in 0..h {
            for _ in 0..last[pre].min(cap_h) {
                for post in 0..h {
                    for s in 0..syns {
                        let w = config.weights_rec[[pre, post, s]];
                        if w != 0 {
                            isyn[post][s] = reg.add(isyn[post][s], shifted(w, config.weight_shift_rec));
                        }
                    }
                }
                if pre >= oen_start {
                    for post in 0..o {
                        let w = config.weights_out[[pre - oen_start, post]];
                        if w != 0 {
                            isyn_out[post][0] = reg.add(isyn_out[post][0], shifted(w, config.weight_shift_out));
                        }
                    }
                }
            }
        }
        // Hidden neurons in order; aliases add to the target's count.
        let mut now = vec![0u32; h];
        for n in 0..h {
            let neuron = Neuron {
                reg: &reg,
                dash_mem: config.dash_mem[n],
                dash_syn: [config.dash_syn[n], config.dash_syn_2[n]],
                threshold: config.threshold[n],
                bias: config.bias[n],
                cap: cap_h,
            };
            now[n] = neuron.update(&mut vmem[n], &mut isyn[n], now[n]);
            let a = config.aliases[n];
            if a >= 0 {
                let a = a as usize;
                now[a] = (now[a] + now[n]).min(cap_h);
            }
        }
        let mut now_out = vec![0u32; o];
        for n in 0..o {
            let neuron = Neuron {
                reg: &reg,
                dash_mem: config.dash_mem_out[n],
                dash_syn: [config.dash_syn_out[n], 0],
                threshold: config.threshold_out[n],
                bias: config.bias_out[n],
                cap: chip.caps.output_spikes_per_step,
            };
            now_out[n] = neuron.update(&mut vmem_out[n], &mut isyn_out[n], 0);
        }
        record_step(&mut rec, t, &now, &now_out, &vmem, &isyn, &vmem_out, &isyn_out);
        last = now;
    }
    Ok(rec)
}

#[allow(clippy::too_many_arguments)]
fn record_step(
    rec: &mut Record,
    t: usize,
    now: &[u32],
    now_out: &[u32],
    vmem: &[i64],
    isyn: &[Vec<i64>],
    vmem_out: &[i64],
    isyn_out: &[Vec<i64>],
) {
    for (n, &c) in now.iter().enumerate() {
        rec.spikes_hidden[[t, n]] = c as u8;
    }
    for (n, &c) in now_out.iter().enumerate() {
        rec.spikes_output[[t, n]] = c as u8;
    }
    let Some(st) = rec.states.as_mut() else { return };
    for n in 0..vmem.len() {
        st.hidden_vmem[[t, n]] = vmem[n] as i16;
        st.hidden_isyn[[t, n]] = isyn[n][0] as i16;
        if let Some(i2) = st.hidden_isyn2.as_mut() {
            i2[[t, n]] = isyn[n][1] as i16;
        }
    }
    for n in 0..vmem_out.len() {
        st.output_vmem[[t, n]] = vmem_out[n] as i16;
        st.output_isyn[[t, n]] = isyn_out[n][0] as i16;
    }
}
