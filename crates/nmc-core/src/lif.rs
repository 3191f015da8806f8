//! The one `f64` step of a neuron population (docs/ir.md: the exact,
//! Euler and nengo rules), and the float host layer built on it.
//!
//! The float reference runs every population of a graph with [`Lif::step`];
//! the fixed reference and the emulator run a *float host layer* (the input
//! encoder computed in `f64` on the host, as nengo-loihi runs an off-chip
//! layer) with [`host_spikes`], which calls the same step. All three execute
//! the same `f64` operations in the same order, so a float host layer's
//! spikes are the float reference's spikes of that layer, bit for bit, and
//! both integer executions feed the chip the same spikes (A = B).
//!
//! The constants are precomputed from a neuron's parameters and the graph's
//! discretization rule by `nmc_ir::Neuron::float_step` (the IR owns the
//! rule, `Discretization::decay_gain`); the QModel and the artifact store
//! them as they are.

/// A population's per-neuron constants for the float step.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Lif {
    /// Synaptic decay per step (used where `syn[j]`).
    pub syn_decay: Vec<f64>,
    /// Synaptic input gain times `w_in` (used where `syn[j]`).
    pub syn_gain: Vec<f64>,
    /// False where `τ_syn = 0` (no synaptic state: `i = w_in·x`).
    pub syn: Vec<bool>,
    /// Input weight `w_in`.
    pub w_in: Vec<f64>,
    /// Membrane decay per step (exact/Euler rules).
    pub mem_decay: Vec<f64>,
    /// Membrane input gain per step (exact/Euler rules).
    pub mem_gain: Vec<f64>,
    /// Leak voltage.
    pub v_leak: Vec<f64>,
    /// Resistance `R`.
    pub r: Vec<f64>,
    /// Threshold `θ`.
    pub threshold: Vec<f64>,
    /// Reset voltage.
    pub v_reset: Vec<f64>,
    /// I/IF: `v += R·i` (no leak).
    pub integrator: bool,
    /// False for LI/CubaLI: the output is the voltage.
    pub spiking: bool,
    /// Subtractive reset (`v − θ`) instead of `v_reset`.
    pub subtract: bool,
    /// Refractory steps after a spike (exact/Euler rules).
    pub refractory_steps: u32,
    /// Lower voltage clamp (`−∞`: none).
    pub v_min: f64,
    /// nengo's rule, when the graph uses it.
    pub nengo: Option<NengoRule>,
}

/// The constants of nengo's LIF step (docs/ir.md, "nengo's LIF").
#[derive(Clone, PartialEq, Debug, Default)]
pub struct NengoRule {
    /// Time step in seconds.
    pub dt: f64,
    /// Membrane time constant per neuron (`τ_rc`).
    pub tau: Vec<f64>,
    /// Refractory period in seconds (continuous).
    pub t_ref: f64,
}

/// The state of one population for one sample (all zero at the start).
#[derive(Clone, PartialEq, Debug)]
pub struct LifState {
    /// Synaptic current.
    pub i: Vec<f64>,
    /// Membrane voltage.
    pub v: Vec<f64>,
    /// Remaining refractory steps.
    pub refr: Vec<u32>,
    /// nengo's rule: refractory time left, in seconds (≤ 0: none).
    pub refr_time: Vec<f64>,
}

impl LifState {
    /// The zero state of `n` neurons.
    pub fn new(n: usize) -> LifState {
        LifState {
            i: vec![0.0; n],
            v: vec![0.0; n],
            refr: vec![0; n],
            refr_time: vec![0.0; n],
        }
    }
}

impl Lif {
    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.w_in.len()
    }

    /// True for a population of no neurons.
    pub fn is_empty(&self) -> bool {
        self.w_in.is_empty()
    }

    /// The name of the first per-neuron vector whose length is not
    /// `self.len()`, or of the first constant that is NaN: what a reader
    /// of a stored `Lif` checks before running it.
    pub fn problem(&self) -> Option<&'static str> {
        let n = self.len();
        let vecs: [(&'static str, &[f64]); 9] = [
            ("syn_decay", &self.syn_decay),
            ("syn_gain", &self.syn_gain),
            ("w_in", &self.w_in),
            ("mem_decay", &self.mem_decay),
            ("mem_gain", &self.mem_gain),
            ("v_leak", &self.v_leak),
            ("r", &self.r),
            ("threshold", &self.threshold),
            ("v_reset", &self.v_reset),
        ];
        for (name, v) in vecs {
            if v.len() != n || v.iter().any(|x| x.is_nan()) {
                return Some(name);
            }
        }
        if self.syn.len() != n {
            return Some("syn");
        }
        if self.v_min.is_nan() {
            return Some("v_min");
        }
        if let Some(ng) = &self.nengo {
            if ng.tau.len() != n || ng.tau.iter().any(|x| x.is_nan()) {
                return Some("nengo.tau");
            }
            if !(ng.dt.is_finite() && ng.dt > 0.0) {
                return Some("nengo.dt");
            }
            if ng.t_ref.is_nan() {
                return Some("nengo.t_ref");
            }
        }
        None
    }

    /// One step: input `x` (one value per neuron), output spikes (1.0/0.0)
    /// or voltages into `out`, state `st` advanced.
    pub fn step(&self, x: &[f64], out: &mut [f64], st: &mut LifState) {
        if let Some(ng) = &self.nengo {
            return self.step_nengo(ng, x, out, st);
        }
        for j in 0..out.len() {
            let i = if self.syn[j] {
                self.syn_decay[j] * st.i[j] + self.syn_gain[j] * x[j]
            } else {
                self.w_in[j] * x[j]
            };
            st.i[j] = i;
            if st.refr[j] > 0 {
                st.refr[j] -= 1;
                st.v[j] = self.v_reset[j];
                out[j] = 0.0;
                continue;
            }
            let mut v = if self.integrator {
                st.v[j] + self.r[j] * i
            } else {
                self.mem_decay[j] * st.v[j] + self.mem_gain[j] * (self.v_leak[j] + self.r[j] * i)
            };
            if v < self.v_min {
                v = self.v_min;
            }
            if self.spiking {
                if v > self.threshold[j] {
                    out[j] = 1.0;
                    v = if self.subtract {
                        v - self.threshold[j]
                    } else {
                        self.v_reset[j]
                    };
                    st.refr[j] = self.refractory_steps;
                } else {
                    out[j] = 0.0;
                }
            } else {
                out[j] = v;
            }
            st.v[j] = v;
        }
    }

    /// nengo 3's `LIF.step`, generalised to nmc's parameters (threshold
    /// `θ`, `v_reset`, subtractive reset, I/IF/LI models): the input current
    /// `J = v_leak + R·i` is held over the step; a refractory neuron
    /// integrates only the part of the step after its refractory time ends;
    /// `v ← v − (J − v)·expm1(−Δt/τ)`; a spike when `v > θ`, whose time
    /// within the step `t* = dt + τ·log1p(−(v − θ)/(J − θ))` starts a
    /// refractory time `T_ref + t*`; then `v ← max(v, v_min)` and the reset.
    /// A synaptic current (CubaLIF/CubaLI) reaches the membrane one step
    /// after its input, as a nengo `Lowpass` synapse does: the membrane
    /// reads the current of the previous step, then the current takes this
    /// step's input. Likewise a non-spiking population (a filter: LI, a
    /// readout synapse) outputs its voltage of the previous step.
    fn step_nengo(&self, ng: &NengoRule, x: &[f64], out: &mut [f64], st: &mut LifState) {
        let dt = ng.dt;
        for j in 0..out.len() {
            let i = if self.syn[j] {
                let old = st.i[j];
                st.i[j] = self.syn_decay[j] * old + self.syn_gain[j] * x[j];
                old
            } else {
                let i = self.w_in[j] * x[j];
                st.i[j] = i;
                i
            };
            let rt = st.refr_time[j] - dt;
            st.refr_time[j] = rt;
            let delta_t = (dt - rt).clamp(0.0, dt);
            let v_before = st.v[j];
            let mut v = v_before;
            let big_j = if self.integrator {
                self.r[j] * i
            } else {
                self.v_leak[j] + self.r[j] * i
            };
            if self.integrator {
                // No leak: the charge of the part of the step not refractory.
                v += big_j * (delta_t / dt);
            } else {
                v -= (big_j - v) * (-delta_t / ng.tau[j]).exp_m1();
            }
            let spiked = self.spiking && v > self.threshold[j];
            let t_spike = if spiked && !self.integrator {
                dt + ng.tau[j] * (-(v - self.threshold[j]) / (big_j - self.threshold[j])).ln_1p()
            } else {
                dt
            };
            if v < self.v_min {
                v = self.v_min;
            }
            if spiked {
                v = if self.subtract {
                    v - self.threshold[j]
                } else {
                    self.v_reset[j]
                };
                st.refr_time[j] = ng.t_ref + t_spike;
                out[j] = 1.0;
            } else {
                // A non-spiking population is a filter (a nengo Probe's or
                // Lowpass's synapse): its output is read one step after
                // its update, as nengo reads a synapse.
                out[j] = if self.spiking { 0.0 } else { v_before };
            }
            st.v[j] = v;
        }
    }
}

/// The `f64` weights of a float host layer, rows over its neurons.
#[derive(Clone, Copy, Debug)]
pub enum FloatMap<'a> {
    /// `[out, in]`, row-major.
    Dense {
        /// Neurons.
        out: usize,
        /// Input features.
        inp: usize,
        /// Weights, `out × inp`.
        w: &'a [f64],
    },
    /// Compressed sparse rows: neuron `o` reads entries
    /// `row_ptr[o]..row_ptr[o+1]` of `col` and `w`.
    Sparse {
        /// Neurons.
        out: usize,
        /// Input features.
        inp: usize,
        /// `out + 1` row starts.
        row_ptr: &'a [u32],
        /// Input index of each entry (increasing within a row).
        col: &'a [u32],
        /// Weight of each entry.
        w: &'a [f64],
    },
}

impl FloatMap<'_> {
    /// True when the dimensions and indices are consistent with `out`
    /// neurons and `inp` features.
    pub fn fits(&self, n_out: usize, n_in: usize) -> bool {
        match *self {
            FloatMap::Dense { out, inp, w } => out == n_out && inp == n_in && w.len() == out * inp,
            FloatMap::Sparse {
                out,
                inp,
                row_ptr,
                col,
                w,
            } => {
                out == n_out
                    && inp == n_in
                    && row_ptr.len() == out + 1
                    && row_ptr.first() == Some(&0)
                    && row_ptr.windows(2).all(|p| p[0] <= p[1])
                    && row_ptr.last().map(|&l| l as usize) == Some(col.len())
                    && col.len() == w.len()
                    && col.iter().all(|&c| (c as usize) < inp)
            }
        }
    }

    /// `y = bias`, then for every neuron `o` and every stored entry
    /// `(o, j, w)` in storage order whose input `x[j]` is not 0,
    /// `y[o] = y[o] + w·x[j]`: the float reference's Affine and Conv
    /// kernels add in this order (input index increasing), so a single
    /// Affine or Conv gives its bits exactly.
    pub fn apply(&self, bias: &[f64], x: &[f64], y: &mut [f64]) {
        y.copy_from_slice(bias);
        match *self {
            FloatMap::Dense { out, inp, w } => {
                for (j, &xj) in x.iter().enumerate().take(inp) {
                    if xj != 0.0 {
                        for (o, yo) in y.iter_mut().enumerate().take(out) {
                            *yo += w[o * inp + j] * xj;
                        }
                    }
                }
            }
            FloatMap::Sparse { row_ptr, col, w, .. } => {
                for (o, yo) in y.iter_mut().enumerate() {
                    for e in row_ptr[o] as usize..row_ptr[o + 1] as usize {
                        let xj = x[col[e] as usize];
                        if xj != 0.0 {
                            *yo += w[e] * xj;
                        }
                    }
                }
            }
        }
    }
}

/// The spikes of a float host layer over one sample: `input` is the
/// real-valued input, `t_len × features` row-major (step `t` reads row
/// `t mod t_len`); the result is `steps × n` bytes, 1 where neuron `i`
/// spiked at step `t` (index `t·n + i`). Each step: `y = map(bias, x)`,
/// then [`Lif::step`].
pub fn host_spikes(map: FloatMap<'_>, bias: &[f64], lif: &Lif, input: &[f64], t_len: usize, steps: usize) -> Vec<u8> {
    let n = lif.len();
    let features = input.len() / t_len.max(1);
    let mut st = LifState::new(n);
    let mut y = vec![0.0; n];
    let mut out = vec![0.0; n];
    let mut spikes = vec![0u8; steps * n];
    for t in 0..steps {
        let r = t % t_len.max(1);
        map.apply(bias, &input[r * features..(r + 1) * features], &mut y);
        lif.step(&y, &mut out, &mut st);
        for (s, &o) in spikes[t * n..(t + 1) * n].iter_mut().zip(&out) {
            *s = u8::from(o != 0.0);
        }
    }
    spikes
}
