//! One batch item of an emulation, step by step: delivery of chip, host and input
//! spikes, the host layers' products, the compartment update (one monomorphised loop
//! per segment of shared constants) and recording. This is the emulator's hot loop:
//! every phase is an `#[inline(always)]` function over plain slices (the
//! compartment update, once per step, is out of line; see `update_segments`) (no hashing, no
//! dynamic dispatch, no allocation beyond the output vectors' growth).

use crate::data::{InputData, LayerInfo, ProbeState};
use crate::net::{self, Net};
use crate::numerics::{self, Numerics};
use crate::overflow::{ItemOverflow, OverflowSink};
use nmc_artifact::Encoding;
use nmc_trace::OverflowCounts;

/// Per-item output of one run.
pub(crate) struct ItemOut {
    pub(crate) fired: Vec<u32>,
    pub(crate) fired_ptr: Vec<usize>,
    pub(crate) volts: Vec<Vec<i64>>,
    pub(crate) core_events: Vec<u64>,
    pub(crate) probe: Vec<ProbeState>,
    /// Per layer (plus one slot for compartments in no layer): counts per register.
    pub(crate) overflow_counts: Vec<OverflowCounts>,
    /// The item's first overflow (in strict mode the item stopped at its step).
    pub(crate) first_overflow: Option<ItemOverflow>,
    /// With `record_state`: per layer, `u` and `v` after every step.
    pub(crate) states: Vec<(Vec<i64>, Vec<i64>)>,
}

/// One batch item to run: the network, what to record, and the request.
pub(crate) struct ItemRun<'a> {
    pub(crate) net: &'a Net,
    pub(crate) layers: &'a [LayerInfo],
    /// Per global compartment: (layer, neuron), `u32::MAX` when in no layer.
    pub(crate) rev: &'a [(u32, u32)],
    pub(crate) inputs: &'a [InputData],
    /// Recorded spikes of the (single) host layer, fed instead of running it.
    pub(crate) host: Option<(usize, &'a InputData)>,
    /// This item's spikes of the float host layers (`(layer, steps × n)`),
    /// fired as recorded host spikes are.
    pub(crate) float: &'a [(usize, Vec<u8>)],
    pub(crate) b: usize,
    pub(crate) steps: usize,
    pub(crate) probe_cx: Option<usize>,
    pub(crate) strict: bool,
    pub(crate) record_state: bool,
}

impl ItemRun<'_> {
    /// Runs the item for `steps` steps (fewer when strict mode meets an overflow).
    pub(crate) fn run(&self) -> ItemOut {
        let net = self.net;
        let num = &net.num;
        let n = net.n_cx;
        let (lc, lh) = (num.chip_latency as usize, num.host_latency as usize);
        let mut q = vec![0i64; n];
        let mut u = vec![0i64; n];
        let mut v = vec![0i64; n];
        let mut refr = vec![0u8; n];
        // Fired compartments, in index order, step by step: fired[fired_ptr[t]..fired_ptr[t+1]].
        let mut fired: Vec<u32> = Vec::new();
        let mut fired_ptr: Vec<usize> = Vec::with_capacity(self.steps + 1);
        fired_ptr.push(0);
        let mut core_events = vec![0u64; net.core_cx0.len()];
        let mut volts: Vec<Vec<i64>> = self
            .layers
            .iter()
            .map(|l| {
                if l.spiking {
                    Vec::new()
                } else {
                    Vec::with_capacity(self.steps * l.gidx.len())
                }
            })
            .collect();
        let mut probe = Vec::new();
        let mut states: Vec<(Vec<i64>, Vec<i64>)> = if self.record_state {
            self.layers
                .iter()
                .map(|l| {
                    let n = self.steps * l.gidx.len();
                    (Vec::with_capacity(n), Vec::with_capacity(n))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut ov = OverflowSink {
            net,
            rev: self.rev,
            counts: vec![OverflowCounts::default(); self.layers.len() + 1],
            step: 0,
            first: None,
        };
        let mut xint: Vec<Vec<i64>> = net.inputs.iter().map(|&(f, _)| vec![0i64; f]).collect();

        for t in 0..self.steps {
            // 1a. Chip spikes sent at t − lc, host spikes sent at t − lh (host compartments
            //     come first in every step's list).
            if t >= lc {
                let list = &fired[fired_ptr[t - lc]..fired_ptr[t - lc + 1]];
                let first_chip = list.partition_point(|&g| (g as usize) < net.n_host_cx);
                route_all(net, &list[first_chip..], &mut q, &mut core_events);
            }
            if t >= lh {
                let list = &fired[fired_ptr[t - lh]..fired_ptr[t - lh + 1]];
                let first_chip = list.partition_point(|&g| (g as usize) < net.n_host_cx);
                route_all(net, &list[..first_chip], &mut q, &mut core_events);
                // 1b. Input events of step t − lh.
                self.deliver_events(t - lh, &mut q, &mut core_events);
            }
            // 1c. Real-valued inputs of this step into the host layers (latency 0).
            if self.host.is_none() && self.float.is_empty() {
                self.fit_real_inputs(t, &mut xint);
                host_products(net, &xint, &mut q);
            }
            // 2. Update every compartment, one run of shared constants at a time.
            let probe_q = self.probe_cx.map(|p| num.q.fit(q[p]));
            ov.step = t;
            // Recorded host spikes: the host layer "fires" them and is not updated.
            let first_cx = self.fire_recorded_host(t, &mut fired);
            let st = State {
                q: &mut q,
                u: &mut u,
                v: &mut v,
                refr: &mut refr,
                fired: &mut fired,
            };
            update_segments(net, first_cx, st, &mut ov);
            fired_ptr.push(fired.len());
            // 3. Record.
            if let (Some(p), Some(qp)) = (self.probe_cx, probe_q) {
                probe.push(ProbeState {
                    q: qp,
                    u: u[p],
                    v: v[p],
                    refractory: refr[p],
                    spiked: fired[fired_ptr[t]..].binary_search(&(p as u32)).is_ok(),
                });
            }
            self.record_volts(&v, &mut volts);
            for (l, (su, sv)) in self.layers.iter().zip(states.iter_mut()) {
                su.extend(l.gidx.iter().map(|&g| u[g as usize]));
                sv.extend(l.gidx.iter().map(|&g| v[g as usize]));
            }
            if self.strict && ov.first.is_some() {
                // Strict mode stops this item at the step of its first overflow.
                break;
            }
        }
        let (overflow_counts, first_overflow) = (ov.counts, ov.first);
        ItemOut {
            fired,
            fired_ptr,
            volts,
            core_events,
            probe,
            overflow_counts,
            first_overflow,
            states,
        }
    }

    /// The features of input `inp` at step `t` of this item (time axis repeated).
    #[inline(always)]
    fn row<'d>(&self, inp: &'d InputData, t: usize) -> &'d [f64] {
        let base = (self.b * inp.steps + t % inp.steps) * inp.features;
        &inp.data[base..base + inp.features]
    }

    /// Delivers the event-encoded inputs of step `t` (each element's count of events).
    #[inline(always)]
    fn deliver_events(&self, t: usize, q: &mut [i64], core_events: &mut [u64]) {
        let net = self.net;
        for (k, inp) in self.inputs.iter().enumerate() {
            if net.inputs[k].1 != Encoding::Events {
                continue;
            }
            let p = &net.in_route_ptr[k];
            for (e, &x) in self.row(inp, t).iter().enumerate() {
                if x > 0.0 {
                    for r in p[e] as usize..p[e + 1] as usize {
                        deliver(
                            net,
                            q,
                            core_events,
                            net.in_route_axon[k][r],
                            net.in_route_atom[k][r],
                            x as u32,
                        );
                    }
                }
            }
        }
    }

    /// Fixes the real-valued inputs of step `t` to the host layers' integer format.
    #[inline(always)]
    fn fit_real_inputs(&self, t: usize, xint: &mut [Vec<i64>]) {
        for (k, inp) in self.inputs.iter().enumerate() {
            if let Encoding::Real { frac_bits, bits } = self.net.inputs[k].1 {
                // `bits` is in nmc_core::input::REAL_BITS (checked by `Net::build`).
                let hi = (1i64 << (bits - 1)) - 1;
                let scale = 2f64.powi(i32::from(frac_bits));
                for (xi, &x) in xint[k].iter_mut().zip(self.row(inp, t)) {
                    *xi = ((x * scale).round() as i64).clamp(-hi - 1, hi);
                }
            }
        }
    }

    /// With recorded host spikes: appends step `t`'s spikes of the host layer to `fired`
    /// (sorted) and returns the first compartment to update (past the host layer);
    /// otherwise returns 0 (every compartment is updated).
    #[inline(always)]
    fn fire_recorded_host(&self, t: usize, fired: &mut Vec<u32>) -> u32 {
        if !self.float.is_empty() {
            let start = fired.len();
            for (li, spikes) in self.float {
                let gidx = &self.layers[*li].gidx;
                let n = gidx.len();
                for (j, &s) in spikes[t * n..(t + 1) * n].iter().enumerate() {
                    if s != 0 {
                        fired.push(gidx[j]);
                    }
                }
            }
            fired[start..].sort_unstable();
            return self.net.n_host_cx as u32;
        }
        let Some((li, hs)) = self.host else {
            return 0;
        };
        let row = (self.b * hs.steps + t % hs.steps) * hs.features;
        let start = fired.len();
        for (j, &x) in hs.data[row..row + hs.features].iter().enumerate() {
            if x != 0.0 {
                fired.push(self.layers[li].gidx[j]);
            }
        }
        fired[start..].sort_unstable();
        self.net.n_host_cx as u32
    }

    /// Appends this step's voltages of every non-spiking layer.
    #[inline(always)]
    fn record_volts(&self, v: &[i64], volts: &mut [Vec<i64>]) {
        for (li, l) in self.layers.iter().enumerate() {
            if !l.spiking {
                volts[li].extend(l.gidx.iter().map(|&g| v[g as usize]));
            }
        }
    }
}

/// The host layers' integer products of this step's fixed inputs, into `q`.
#[inline(always)]
fn host_products(net: &Net, xint: &[Vec<i64>], q: &mut [i64]) {
    for h in &net.host {
        let xs = &xint[h.input];
        for o in 0..h.n {
            let (e0, e1) = (h.row_ptr[o] as usize, h.row_ptr[o + 1] as usize);
            let acc: i64 = h.col[e0..e1]
                .iter()
                .zip(&h.w[e0..e1])
                .map(|(&c, &w)| w * xs[c as usize])
                .sum();
            q[h.cx0 + o] += acc;
        }
    }
}

/// Updates every segment from compartment `first_cx` on (segments before it are
/// skipped, one straddling it is clipped). Kept out of line: inlined into the
/// step loop it cost 4.4 % more instructions per item (callgrind, mnist_conv, 8
/// digits × 20 steps: 205.0 M vs 194.3 M for `ItemRun::run` inclusive); the call
/// happens once per step.
#[inline(never)]
fn update_segments(net: &Net, first_cx: u32, mut st: State<'_>, ov: &mut OverflowSink<'_>) {
    let num = &net.num;
    let bias = &net.cx.bias;
    let one = 1i64 << num.decay_bits;
    for seg in &net.segments {
        if seg.end <= first_cx {
            continue;
        }
        let clipped;
        let seg = if seg.start < first_cx {
            clipped = net::Segment {
                start: first_cx,
                ..*seg
            };
            &clipped
        } else {
            seg
        };
        let st = st.reborrow();
        // Monomorphised for the common constants: u = q when the current decays
        // fully (no synapse), v not decayed when there is no leak (IF).
        match (seg.fu == 0, seg.fv == one) {
            (true, true) => update::<true, true>(num, seg, bias, st, ov),
            (true, false) => update::<true, false>(num, seg, bias, st, ov),
            (false, true) => update::<false, true>(num, seg, bias, st, ov),
            (false, false) => update::<false, false>(num, seg, bias, st, ov),
        }
    }
}

/// Sends one spike of each compartment in `srcs` along its routes.
#[inline(always)]
fn route_all(net: &Net, srcs: &[u32], q: &mut [i64], core_events: &mut [u64]) {
    for &src in srcs {
        route(net, src, q, core_events);
    }
}

/// Sends one spike of compartment `src` along its routes.
#[inline]
fn route(net: &Net, src: u32, q: &mut [i64], core_events: &mut [u64]) {
    let (r0, r1) = (
        net.route_ptr[src as usize] as usize,
        net.route_ptr[src as usize + 1] as usize,
    );
    for r in r0..r1 {
        deliver(net, q, core_events, net.route_axon[r], net.route_atom[r], 1);
    }
}

/// Mutable compartment state of one batch item.
struct State<'a> {
    q: &'a mut [i64],
    u: &'a mut [i64],
    v: &'a mut [i64],
    refr: &'a mut [u8],
    fired: &'a mut Vec<u32>,
}

impl State<'_> {
    /// The same state, borrowed again for one segment's update.
    #[inline(always)]
    fn reborrow(&mut self) -> State<'_> {
        State {
            q: self.q,
            u: self.u,
            v: self.v,
            refr: self.refr,
            fired: self.fired,
        }
    }
}

/// The compartment update of one segment (constants hoisted). `FULL_U`:
/// the current decays fully each step (`u = q`); `NO_LEAK`: the voltage does
/// not decay. Both are exact special cases of the general formula.
#[inline(always)]
fn update<const FULL_U: bool, const NO_LEAK: bool>(
    num: &Numerics,
    seg: &net::Segment,
    bias: &[i64],
    st: State<'_>,
    ov: &mut OverflowSink<'_>,
) {
    let (fu, fv, vth, r0, spiking) = (seg.fu, seg.fv, seg.vth, seg.refr, seg.spiking);
    // With a clipping voltage register the two clips merge into one.
    let m = (1i64 << (num.v.bits - 1)) - 1;
    let (lo, hi, v_wraps) = match num.v.overflow {
        numerics::Overflow::Clip => (seg.vmin.max(-m - 1), seg.vmax.min(m), false),
        numerics::Overflow::Wrap => (seg.vmin, seg.vmax, true),
    };
    // A vmin narrower than the target's widest is the neuron's floor (nengo's
    // min_voltage): holding v there is not a clip. Decided on the cold path.
    let floor_is_design = seg.vmin > num.vmin_widest;
    let range = seg.start as usize..seg.end as usize;
    let (q, u, v, refr) = (
        &mut st.q[range.clone()],
        &mut st.u[range.clone()],
        &mut st.v[range.clone()],
        &mut st.refr[range.clone()],
    );
    let bias = &bias[range];
    // (A voltage is ≤ vth after every update only when vth ≥ 0: a spike resets it to 0.)
    let may_rest = FULL_U && NO_LEAK && vth >= 0;
    for i in 0..q.len() {
        // At rest: an IF compartment (instant current, no leak) with no input, no bias and
        // no refractory count keeps its voltage (always ≤ vth after an update), cannot spike,
        // and its current becomes 0. Skipping it is exact.
        if may_rest && q[i] == 0 && bias[i] == 0 && refr[i] == 0 {
            u[i] = 0;
            continue;
        }
        let q_exact = q[i];
        let qi = num.q.fit(q_exact);
        q[i] = 0;
        let u_exact = if FULL_U { qi } else { num.decay(u[i], fu) + qi };
        let ui = num.u.fit(u_exact);
        u[i] = ui;
        let u2_exact = ui + bias[i];
        let u2 = num.u.fit(u2_exact);
        let vd = if NO_LEAK { v[i] } else { num.decay(v[i], fv) };
        let v_exact = vd + u2;
        let mut vi = if v_wraps { num.v.fit(v_exact) } else { v_exact }.clamp(lo, hi);
        // One test for all four registers; the cold path sorts out which.
        if ((qi ^ q_exact) | (ui ^ u_exact) | (u2 ^ u2_exact) | (vi ^ v_exact)) != 0 {
            let in_register = if v_wraps {
                num.v.fit(v_exact) == v_exact
            } else {
                (-m - 1..=m).contains(&v_exact)
            };
            // Held at a designed floor only: not a clip (reported as unchanged).
            let v_seen = if floor_is_design && v_exact < lo && in_register {
                v_exact
            } else {
                vi
            };
            ov.hits(
                seg.start + i as u32,
                [(q_exact, qi), (u_exact, ui), (u2_exact, u2), (v_exact, v_seen)],
            );
        }
        let ri = refr[i];
        if ri > 0 {
            vi = 0;
        }
        if spiking && vi > vth {
            vi = 0;
            refr[i] = r0.saturating_sub(1);
            st.fired.push(seg.start + i as u32);
        } else {
            refr[i] = ri.saturating_sub(1);
        }
        v[i] = vi;
    }
}

#[inline]
fn deliver(net: &Net, q: &mut [i64], core_events: &mut [u64], gaxon: u32, atom: u16, count: u32) {
    let t = net.axon_table[gaxon as usize] as usize;
    let base = net.axon_base[gaxon as usize] as usize;
    let a0 = net.table_atoms[t] as usize + atom as usize;
    let syn = &net.syn[net.atom_ptr[a0] as usize..net.atom_ptr[a0 + 1] as usize];
    let q = &mut q[base..];
    if count == 1 {
        for &(cx, w) in syn {
            q[cx as usize] += w as i64;
        }
    } else {
        let c = count as i64;
        for &(cx, w) in syn {
            q[cx as usize] += w as i64 * c;
        }
    }
    core_events[net.core_of_axon[gaxon as usize] as usize] += (syn.len() as u64) * count as u64;
}
