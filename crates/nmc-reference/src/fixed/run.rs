//! The step loop of one batch item.

use super::ProbeState;
use super::arith::decay;
use super::plan::{ConvPlan, MapPlan, Plan, PopPlan, SourcePlan};
use bitvec::vec::BitVec;
use nmc_trace::{OverflowCounts, Register};

/// What one batch item produced.
pub(crate) struct ItemOutput {
    /// Per population: `steps × n` bits at `t·n + i`.
    pub(crate) spikes: Vec<BitVec>,
    /// Per population: `steps × n` voltages for non-spiking populations.
    pub(crate) voltages: Vec<Option<Vec<i64>>>,
    /// Per population: wraps and clips per register.
    pub(crate) counts: Vec<OverflowCounts>,
    /// The probed neuron's state per step (empty unless probed here).
    pub(crate) probe: Vec<ProbeState>,
    /// The item's first wrap or clip (in step, population, neuron, register order).
    pub(crate) first_overflow: Option<ItemOverflow>,
}

/// A wrap or clip of one batch item, by population index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemOverflow {
    pub(crate) population: usize,
    pub(crate) neuron: usize,
    pub(crate) step: usize,
    pub(crate) register: Register,
    pub(crate) exact: i128,
    pub(crate) stored: i64,
}

/// The mutable state of one population.
struct PopState {
    q: Vec<i128>,
    u: Vec<i64>,
    v: Vec<i64>,
    refractory: Vec<u32>,
    spiked: Vec<u8>,
}

/// The integer input values of one batch item: `t_len × features`,
/// row-major; step `t` reads time index `t mod t_len`.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    values: &'a [i64],
    t_len: usize,
    features: usize,
}

/// Past spikes of every population: population `k`'s spikes of step `s`
/// live in slot `s mod slots[k]` of `bits[k]` (`slots[k]` is 0 when nothing
/// reads `k`).
struct Rings {
    slots: Vec<usize>,
    bits: Vec<Vec<u8>>,
}

/// Where one population's wraps and clips go in step `step`.
struct Overflows<'a> {
    counts: &'a mut OverflowCounts,
    first: &'a mut Option<ItemOverflow>,
    strict: bool,
    population: usize,
    step: usize,
}

/// One neuron's registers after its update in one step.
#[derive(Clone, Copy)]
struct NeuronStep {
    q: i64,
    u: i64,
    v: i64,
    spike: bool,
}

/// Runs one batch item. `inputs` holds the integer input values, `t_len ×
/// features`, row-major; step `t` reads time index `t mod t_len`.
/// `float[k]`, when present, holds float host layer `k`'s spikes of this
/// item (`steps × n`, computed by `nmc_core::lif::host_spikes`): the layer
/// fires them and its integer compartment is not run.
pub(crate) fn run_item(
    plan: &Plan,
    float: &[Option<Vec<u8>>],
    inputs: &[i64],
    t_len: usize,
    steps: usize,
    strict: bool,
    probe: Option<(usize, usize)>,
) -> Result<ItemOutput, ItemOverflow> {
    let inputs = Inputs {
        values: inputs,
        t_len,
        features: plan.input.as_ref().map_or(0, |i| i.features),
    };
    let mut states = new_states(plan);
    let mut rings = Rings::new(plan, steps);
    let mut out = ItemOutput::new(plan, steps);
    let mut events: Vec<(usize, i64)> = Vec::new();

    for t in 0..steps {
        for (k, pop) in plan.pops.iter().enumerate() {
            let st = &mut states[k];
            if let Some(fs) = float.get(k).and_then(Option::as_ref) {
                fire_float(&mut out, k, t, pop.n, fs, st);
                continue;
            }
            deliver(plan, pop, t, inputs, &rings, &mut events, &mut st.q);
            for i in 0..pop.n {
                let mut overflows = Overflows {
                    counts: &mut out.counts[k],
                    first: &mut out.first_overflow,
                    strict,
                    population: k,
                    step: t,
                };
                let s = update_neuron(plan, pop, st, i, &mut overflows)?;
                record(&mut out, k, t * pop.n + i, s, st.refractory[i], probe == Some((k, i)));
            }
        }
        rings.store(&states, t);
    }
    Ok(out)
}

/// A float host layer's spikes of step `t` as population `k`'s.
fn fire_float(out: &mut ItemOutput, k: usize, t: usize, n: usize, spikes: &[u8], st: &mut PopState) {
    let row = &spikes[t * n..(t + 1) * n];
    st.spiked.copy_from_slice(row);
    for (i, &s) in row.iter().enumerate() {
        if s != 0 {
            out.spikes[k].set(t * n + i, true);
        }
    }
}

/// The zeroed state of every population.
fn new_states(plan: &Plan) -> Vec<PopState> {
    plan.pops
        .iter()
        .map(|p| PopState {
            q: vec![0; p.n],
            u: vec![0; p.n],
            v: vec![0; p.n],
            refractory: vec![0; p.n],
            spiked: vec![0; p.n],
        })
        .collect()
}

impl Rings {
    /// Empty rings for a run of `steps` steps.
    fn new(plan: &Plan, steps: usize) -> Rings {
        // Past spikes of population k at step s live in slot s mod slots[k];
        // every read is at least one step back, so the slot being written (t) is
        // never read in step t.
        let slots: Vec<usize> = plan
            .pops
            .iter()
            .map(|p| {
                if p.max_read_latency == 0 {
                    0
                } else {
                    p.max_read_latency.min(steps) + 1
                }
            })
            .collect();
        let bits = plan.pops.iter().zip(&slots).map(|(p, &r)| vec![0u8; r * p.n]).collect();
        Rings { slots, bits }
    }

    /// The spikes population `j` (of `nj` neurons) emitted at step `s`.
    #[inline]
    fn slot(&self, j: usize, nj: usize, s: usize) -> &[u8] {
        let slot = s % self.slots[j];
        &self.bits[j][slot * nj..(slot + 1) * nj]
    }

    /// Stores the spikes of step `t` of every population something reads.
    #[inline]
    fn store(&mut self, states: &[PopState], t: usize) {
        for (k, st) in states.iter().enumerate() {
            let r = self.slots[k];
            if r > 0 {
                let n = st.spiked.len();
                let slot = t % r;
                self.bits[k][slot * n..(slot + 1) * n].copy_from_slice(&st.spiked);
            }
        }
    }
}

impl ItemOutput {
    /// Empty records for a run of `steps` steps.
    fn new(plan: &Plan, steps: usize) -> ItemOutput {
        ItemOutput {
            spikes: plan.pops.iter().map(|p| BitVec::repeat(false, steps * p.n)).collect(),
            voltages: plan
                .pops
                .iter()
                .map(|p| (!p.spiking).then(|| vec![0i64; steps * p.n]))
                .collect(),
            counts: vec![OverflowCounts::default(); plan.pops.len()],
            probe: Vec::new(),
            first_overflow: None,
        }
    }
}

/// Delivery: sums into `q` (zeroed first) the weighted events every
/// connection of `pop` delivers at step `t`. `events` is scratch space.
#[inline]
fn deliver(
    plan: &Plan,
    pop: &PopPlan,
    t: usize,
    inputs: Inputs<'_>,
    rings: &Rings,
    events: &mut Vec<(usize, i64)>,
    q: &mut [i128],
) {
    q.fill(0);
    for conn in &pop.conns {
        if conn.latency > t {
            continue;
        }
        let s = t - conn.latency;
        events.clear();
        match conn.source {
            SourcePlan::Input => {
                if inputs.t_len == 0 || inputs.features == 0 {
                    continue;
                }
                input_events(inputs, s, events);
            }
            SourcePlan::Population(j) => spike_events(rings.slot(j, plan.pops[j].n, s), events),
        }
        accumulate(&conn.map, events, q);
    }
}

/// The non-zero input values of time index `s mod t_len`, as `(feature, value)`.
#[inline]
fn input_events(inputs: Inputs<'_>, s: usize, events: &mut Vec<(usize, i64)>) {
    let (t_len, features) = (inputs.t_len, inputs.features);
    let row = &inputs.values[(s % t_len) * features..(s % t_len + 1) * features];
    events.extend(row.iter().enumerate().filter(|(_, x)| **x != 0).map(|(j, &x)| (j, x)));
}

/// The spikes of one ring slot, as `(neuron, 1)`.
#[inline]
fn spike_events(bits: &[u8], events: &mut Vec<(usize, i64)>) {
    events.extend(bits.iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, _)| (i, 1)));
}

impl Overflows<'_> {
    /// Counts a wrap or clip of `reg` at neuron `i` and keeps the item's
    /// first (the run visits step, population, neuron and register in
    /// order); a strict run stops there.
    #[inline]
    fn flag(&mut self, reg: Register, i: usize, exact: i128, stored: i64) -> Result<(), ItemOverflow> {
        self.counts.count(reg);
        let e = ItemOverflow {
            population: self.population,
            neuron: i,
            step: self.step,
            register: reg,
            exact,
            stored,
        };
        if self.strict {
            return Err(e);
        }
        self.first.get_or_insert(e);
        Ok(())
    }
}

/// Compartment update of neuron `i` of `pop`: its accumulated `q` through
/// the current and voltage registers to a spike, in the target's order.
#[inline]
fn update_neuron(
    plan: &Plan,
    pop: &PopPlan,
    st: &mut PopState,
    i: usize,
    overflows: &mut Overflows<'_>,
) -> Result<NeuronStep, ItemOverflow> {
    // 1. q, fitted to the accumulator.
    let q_exact = st.q[i];
    let q = plan.acc.apply(q_exact);
    if i128::from(q) != q_exact {
        overflows.flag(Register::Accumulator, i, q_exact, q)?;
    }
    // 2. u = decay(u) + q, fitted to the current register.
    let u_exact = decay(st.u[i], pop.u_factor[i], plan.decay_bits) + i128::from(q);
    let u = plan.cur.apply(u_exact);
    if i128::from(u) != u_exact {
        overflows.flag(Register::Current, i, u_exact, u)?;
    }
    // 3. u2 = u + bias, fitted to the current register.
    let u2_exact = i128::from(u) + i128::from(pop.bias[i]);
    let u2 = plan.cur.apply(u2_exact);
    if i128::from(u2) != u2_exact {
        overflows.flag(Register::CurrentBias, i, u2_exact, u2)?;
    }
    // 4. v = decay(v) + u2, fitted to the voltage register, clipped to [vmin, vmax].
    let v_exact = decay(st.v[i], pop.v_factor[i], plan.decay_bits) + i128::from(u2);
    let v_sat = plan.volt.apply(v_exact).clamp(pop.vmin_counted, pop.vmax);
    if i128::from(v_sat) != v_exact {
        overflows.flag(Register::Voltage, i, v_exact, v_sat)?;
    }
    // A vmin narrower than the widest is the neuron's floor: applied, not counted.
    let mut v = v_sat.max(pop.vmin);
    // 5. Refractory: held at 0.
    if st.refractory[i] > 0 {
        v = 0;
    }
    // 6. Spike strictly above threshold; reset to 0, start the refractory count.
    let spike = pop.spiking && v > pop.vth[i];
    if spike {
        v = 0;
        st.refractory[i] = pop.refractory[i];
    }
    // 7. The refractory counter decreases, not below 0.
    st.refractory[i] = st.refractory[i].saturating_sub(1);

    debug_assert!((plan.acc.min()..=plan.acc.max()).contains(&q));
    debug_assert!((plan.cur.min()..=plan.cur.max()).contains(&u));
    debug_assert!((plan.cur.min()..=plan.cur.max()).contains(&u2));
    debug_assert!((pop.vmin.min(0)..=pop.vmax.max(0)).contains(&v));
    st.u[i] = u;
    st.v[i] = v;
    st.spiked[i] = u8::from(spike);
    Ok(NeuronStep { q, u, v, spike })
}

/// Recording: a neuron of population `k` at record index `at` (`t·n + i`),
/// its spike, its voltage (non-spiking populations) and, when `probed`, its
/// state with the refractory counter `refractory`.
#[inline]
fn record(out: &mut ItemOutput, k: usize, at: usize, s: NeuronStep, refractory: u32, probed: bool) {
    if s.spike {
        out.spikes[k].set(at, true);
    }
    if let Some(volts) = &mut out.voltages[k] {
        volts[at] = s.v;
    }
    if probed {
        out.probe.push(ProbeState {
            q: s.q,
            u: s.u,
            v: s.v,
            refractory,
            spiked: s.spike,
        });
    }
}

/// Adds the weighted events of one connection to `q`. Sums are exact in
/// `i128` (wrapping arithmetic keeps the low bits exact in any case).
fn accumulate(map: &MapPlan, events: &[(usize, i64)], q: &mut [i128]) {
    match map {
        MapPlan::Dense { out, wt } => {
            for &(j, e) in events {
                let e = i128::from(e);
                let row = &wt[j * out..(j + 1) * out];
                for (qd, &w) in q.iter_mut().zip(row) {
                    *qd = qd.wrapping_add(i128::from(w).wrapping_mul(e));
                }
            }
        }
        MapPlan::Sparse { col_ptr, rows, w } => {
            for &(j, e) in events {
                let e = i128::from(e);
                for idx in col_ptr[j]..col_ptr[j + 1] {
                    let d = rows[idx];
                    q[d] = q[d].wrapping_add(i128::from(w[idx]).wrapping_mul(e));
                }
            }
        }
        MapPlan::Conv(c) => conv_scatter(c, events, q),
    }
}

/// Cross-correlation, event by event: source `(ci, y, x)` reaches output
/// `(co, oy, ox)` through kernel tap `(ky, kx)` when
/// `y = oy·stride − pad + ky·dil` (and likewise for x), for every `co` of
/// `ci`'s group.
fn conv_scatter(c: &ConvPlan, events: &[(usize, i64)], q: &mut [i128]) {
    let [h, w] = c.in_hw;
    let [_, oh, ow] = c.out_shape;
    let [kh, kw] = c.kernel;
    let hw = h * w;
    for &(j, e) in events {
        let e = i128::from(e);
        let ci = j / hw;
        let y = (j / w) % h;
        let x = j % w;
        let g = ci / c.cin_per_group;
        let cil = ci % c.cin_per_group;
        for co in g * c.cout_per_group..(g + 1) * c.cout_per_group {
            let wbase = (co * c.cin_per_group + cil) * kh * kw;
            for ky in 0..kh {
                let Some(oy) = out_index(y, ky, c.padding[0], c.dilation[0], c.stride[0], oh) else {
                    continue;
                };
                for kx in 0..kw {
                    let Some(ox) = out_index(x, kx, c.padding[1], c.dilation[1], c.stride[1], ow) else {
                        continue;
                    };
                    let d = (co * oh + oy) * ow + ox;
                    q[d] = q[d].wrapping_add(i128::from(c.w[wbase + ky * kw + kx]).wrapping_mul(e));
                }
            }
        }
    }
}

/// The output index `o` with `o·stride − pad + k·dil = y`, if any.
fn out_index(y: usize, k: usize, pad: usize, dil: usize, stride: usize, len: usize) -> Option<usize> {
    let num = (y + pad).checked_sub(k * dil)?;
    if !num.is_multiple_of(stride) {
        return None;
    }
    let o = num / stride;
    (o < len).then_some(o)
}
