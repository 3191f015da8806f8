//! # nmc-emu — bit-accurate emulation of a compiled artifact
//!
//! Runs exactly what would be deployed: an [`nmc_artifact::Artifact`] on the
//! target it carries, with integer arithmetic only. It never sees the IR or
//! the quantized model; the differential test (fixed reference = emulator,
//! bit for bit) keeps the two independent implementations honest.
//!
//! ## One step `t`
//! 1. **Deliver.** Events due at `t` are accumulated: a compartment that
//!    spiked at `t − L` (L = the target's chip latency, or its host latency
//!    for host compartments and input events) sends one event per route;
//!    each event adds its table's integer weights to the destination
//!    compartments' `q`. Real-valued inputs of step `t` are encoded to
//!    integers and multiplied into the host layers' `q` (latency 0).
//! 2. **Update** every compartment (target formats; docs/targets.md):
//!    `q ← fit_q(q)`; `u ← fit_u(decay(u, f_u) + q)`; `u2 ← fit_u(u + bias)`;
//!    `v ← clamp(decay(v, f_v) + u2, vmin, vmax)`; `v ← 0` while refractory;
//!    spike if spiking and `v > vth`, then `v ← 0` and the refractory counter
//!    is loaded; the counter then counts down. `decay(x, f) = sign(x)·((|x|·f)
//!    >> decay_bits)` with `f = 2^decay_bits − (stored decay + offset)`.
//! 3. **Send.** Spikes are queued for delivery at `t + L`.
//!
//! Batches run in parallel (rayon); results do not depend on the thread
//! count.

mod net;
pub mod numerics;

use bitvec::vec::BitVec;
use net::Net;
use nmc_artifact::{Artifact, Encoding, LayerLoc};
use numerics::Numerics;
use rayon::prelude::*;
use serde::Serialize;

/// Emulation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmuError {
    /// The artifact is structurally invalid.
    #[error("invalid artifact: {0}")]
    Invalid(String),
    /// The artifact's target description is invalid.
    #[error("artifact target: {0}")]
    Target(String),
    /// The input does not fit the artifact.
    #[error("input: {0}")]
    Input(String),
}

/// One input array: `(batch, steps, features)` row-major. A time axis
/// shorter than the emulated steps is repeated.
#[derive(Clone, Debug)]
pub struct InputData {
    /// Batch size.
    pub batch: usize,
    /// Steps in the data.
    pub steps: usize,
    /// Features per step.
    pub features: usize,
    /// Values, `batch × steps × features`.
    pub data: Vec<f64>,
}

/// Spikes of one layer: bit `(b·steps + t)·n + i`.
#[derive(Clone, Debug)]
pub struct LayerSpikes {
    /// Layer name.
    pub name: String,
    /// Layer shape.
    pub shape: Vec<usize>,
    /// Spike bits.
    pub spikes: BitVec,
}

/// Integer voltages of a non-spiking output layer, `(b·steps + t)·n + i`.
#[derive(Clone, Debug)]
pub struct LayerVoltages {
    /// Layer name.
    pub name: String,
    /// Voltages.
    pub v: Vec<i64>,
}

/// Activity of one core over the run (summed over the batch).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CoreActivity {
    /// Chip index.
    pub chip: u16,
    /// Core index.
    pub core: u16,
    /// Spikes emitted by its compartments.
    pub spikes: u64,
    /// Synaptic events (weight additions) into its compartments.
    pub syn_events: u64,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct EmuResult {
    /// Batch size.
    pub batch: usize,
    /// Steps run.
    pub steps: usize,
    /// Spikes per layer, in the artifact's layer order.
    pub layers: Vec<LayerSpikes>,
    /// Voltages of non-spiking layers.
    pub voltages: Vec<LayerVoltages>,
    /// Per-core activity.
    pub cores: Vec<CoreActivity>,
    /// Host spikes sent to the chip, total.
    pub host_spikes: u64,
    /// Synaptic events, total.
    pub syn_events: u64,
}

struct LayerInfo {
    name: String,
    shape: Vec<usize>,
    gidx: Vec<u32>,
    spiking: bool,
}

/// A compiled artifact ready to run any number of times.
pub struct Emulator {
    net: Net,
    layers: Vec<LayerInfo>,
    core_ids: Vec<(u16, u16)>,
}

/// Per-item output of one run.
struct ItemOut {
    spikes: BitVec,
    volts: Vec<Vec<i64>>,
    core_spikes: Vec<u64>,
    core_events: Vec<u64>,
    host_spikes: u64,
    probe: Vec<ProbeState>,
}

/// The state of one compartment after the update of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeState {
    /// Input accumulator as used this step (after fitting).
    pub q: i64,
    /// Current `u` after decay and input.
    pub u: i64,
    /// Voltage after the step (0 after a spike).
    pub v: i64,
    /// Refractory counter after the step.
    pub refractory: u8,
    /// Whether it spiked this step.
    pub spiked: bool,
}

impl Emulator {
    /// Prepares an artifact for emulation with the given numerics (use
    /// [`Emulator::new`] to take them from the artifact's own target).
    pub fn with_numerics(a: &Artifact, num: Numerics) -> Result<Self, EmuError> {
        let net = Net::build(a, num)?;
        let mut host_cx0 = Vec::new();
        let mut acc = 0u32;
        for h in &a.host {
            host_cx0.push(acc);
            acc += h.cx.len() as u32;
        }
        let mut layers = Vec::new();
        for l in &a.layers {
            let gidx: Vec<u32> = match &l.loc {
                LayerLoc::Host(h) => {
                    let c0 = host_cx0[*h as usize];
                    (0..a.host[*h as usize].cx.len() as u32).map(|i| c0 + i).collect()
                }
                LayerLoc::Chip(locs) => locs.iter().map(|&(c, k)| net.core_cx0[c as usize] + k as u32).collect(),
            };
            let spiking = gidx.iter().all(|&g| net.cx.spiking[g as usize]);
            layers.push(LayerInfo {
                name: l.name.clone(),
                shape: l.shape.clone(),
                gidx,
                spiking,
            });
        }
        Ok(Emulator {
            net,
            layers,
            core_ids: a.cores.iter().map(|c| (c.chip, c.core)).collect(),
        })
    }

    /// Prepares an artifact for emulation on the target it carries
    /// (`Artifact::target_ron`, validated by `nmc-target`).
    pub fn new(a: &Artifact) -> Result<Self, EmuError> {
        let t = nmc_target::Target::from_ron_str(&a.target_ron, &format!("target of artifact `{}`", a.model))
            .map_err(|e| EmuError::Target(e.to_string()))?;
        if t.name() != a.target_name {
            return Err(EmuError::Target(format!(
                "the artifact names target `{}` but carries the description of `{}`",
                a.target_name,
                t.name()
            )));
        }
        let num = Numerics::from_target(&t).map_err(EmuError::Target)?;
        Self::with_numerics(a, num)
    }

    /// Total compartments (host + chip).
    pub fn compartments(&self) -> usize {
        self.net.n_cx
    }

    /// Checks inputs against the artifact: count, feature sizes, batch
    /// agreement, finite values, and non-negative integer event counts.
    fn check_inputs(&self, inputs: &[InputData]) -> Result<usize, EmuError> {
        if inputs.len() != self.net.inputs.len() {
            return Err(EmuError::Input(format!(
                "the artifact has {} inputs, {} given",
                self.net.inputs.len(),
                inputs.len()
            )));
        }
        let batch = inputs.first().map(|i| i.batch).unwrap_or(1);
        for (k, (inp, &(feats, enc))) in inputs.iter().zip(&self.net.inputs).enumerate() {
            if inp.features != feats {
                return Err(EmuError::Input(format!(
                    "input {k} has {} features per step, the model expects {feats}",
                    inp.features
                )));
            }
            if inp.batch != batch || inp.steps == 0 || inp.data.len() != inp.batch * inp.steps * inp.features {
                return Err(EmuError::Input(format!(
                    "input {k}: inconsistent batch/steps/data length"
                )));
            }
            if let Some(x) = inp.data.iter().find(|x| !x.is_finite()) {
                return Err(EmuError::Input(format!("input {k} contains a non-finite value ({x})")));
            }
            if enc == Encoding::Events
                && let Some(x) = inp
                    .data
                    .iter()
                    .find(|x| **x < 0.0 || x.fract() != 0.0 || **x > u32::MAX as f64)
            {
                return Err(EmuError::Input(format!(
                    "input {k} carries events: values must be non-negative integer counts, found {x}"
                )));
            }
        }
        Ok(batch)
    }

    /// Runs every batch item for `steps` steps (in parallel over the batch),
    /// calling `progress` after each item.
    pub fn run_with_progress(
        &self,
        inputs: &[InputData],
        steps: usize,
        progress: &(dyn Fn() + Sync),
    ) -> Result<EmuResult, EmuError> {
        let batch = self.check_inputs(inputs)?;
        let items: Vec<ItemOut> = (0..batch)
            .into_par_iter()
            .map(|b| {
                let r = self.run_item(inputs, b, steps, None);
                progress();
                r
            })
            .collect();
        Ok(self.assemble(items, batch, steps))
    }

    /// Runs every batch item for `steps` steps.
    pub fn run(&self, inputs: &[InputData], steps: usize) -> Result<EmuResult, EmuError> {
        self.run_with_progress(inputs, steps, &|| {})
    }

    fn assemble(&self, items: Vec<ItemOut>, batch: usize, steps: usize) -> EmuResult {
        let n_cx = self.net.n_cx;
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut voltages = Vec::new();
        for (li, l) in self.layers.iter().enumerate() {
            let n = l.gidx.len();
            let mut bits = BitVec::repeat(false, batch * steps * n);
            for (b, it) in items.iter().enumerate() {
                for t in 0..steps {
                    let row = t * n_cx;
                    let out = (b * steps + t) * n;
                    for (j, &g) in l.gidx.iter().enumerate() {
                        if it.spikes[row + g as usize] {
                            bits.set(out + j, true);
                        }
                    }
                }
            }
            layers.push(LayerSpikes {
                name: l.name.clone(),
                shape: l.shape.clone(),
                spikes: bits,
            });
            if !l.spiking {
                let mut v = Vec::with_capacity(batch * steps * n);
                for it in &items {
                    v.extend_from_slice(&it.volts[li]);
                }
                voltages.push(LayerVoltages {
                    name: l.name.clone(),
                    v,
                });
            }
        }
        let mut cores: Vec<CoreActivity> = self
            .core_ids
            .iter()
            .map(|&(chip, core)| CoreActivity {
                chip,
                core,
                ..Default::default()
            })
            .collect();
        let mut host_spikes = 0;
        for it in &items {
            for (c, a) in cores.iter_mut().enumerate() {
                a.spikes += it.core_spikes[c];
                a.syn_events += it.core_events[c];
            }
            host_spikes += it.host_spikes;
        }
        let syn_events = cores.iter().map(|c| c.syn_events).sum();
        EmuResult {
            batch,
            steps,
            layers,
            voltages,
            cores,
            host_spikes,
            syn_events,
        }
    }

    /// Runs batch item `b` and records the state of neuron `neuron` of layer
    /// `layer` (artifact layer order) at every step: for tests and for
    /// explaining a mismatch.
    pub fn probe(
        &self,
        inputs: &[InputData],
        b: usize,
        steps: usize,
        layer: usize,
        neuron: usize,
    ) -> Result<Vec<ProbeState>, EmuError> {
        let batch = self.check_inputs(inputs)?;
        let g = self
            .layers
            .get(layer)
            .and_then(|l| l.gidx.get(neuron))
            .ok_or_else(|| EmuError::Input(format!("no neuron {neuron} in layer {layer}")))?;
        if b >= batch {
            return Err(EmuError::Input(format!("batch item {b} of {batch}")));
        }
        Ok(self.run_item(inputs, b, steps, Some(*g as usize)).probe)
    }

    fn run_item(&self, inputs: &[InputData], b: usize, steps: usize, probe_cx: Option<usize>) -> ItemOut {
        let net = &self.net;
        let num = &net.num;
        let n = net.n_cx;
        let ring_len = net.max_latency as usize + 1;
        let mut q = vec![0i64; n];
        let mut u = vec![0i64; n];
        let mut v = vec![0i64; n];
        let mut refr = vec![0u8; n];
        let mut pending: Vec<Vec<u32>> = vec![Vec::new(); ring_len];
        let mut pending_in: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); ring_len];
        let mut spikes = BitVec::repeat(false, steps * n);
        let ncores = net.core_cx0.len();
        let mut core_spikes = vec![0u64; ncores];
        let mut core_events = vec![0u64; ncores];
        let mut host_spikes = 0u64;
        let mut volts: Vec<Vec<i64>> = self
            .layers
            .iter()
            .map(|l| {
                if l.spiking {
                    Vec::new()
                } else {
                    Vec::with_capacity(steps * l.gidx.len())
                }
            })
            .collect();
        let mut probe = Vec::new();
        let mut xint: Vec<Vec<i64>> = net.inputs.iter().map(|&(f, _)| vec![0i64; f]).collect();
        // Which core owns a chip compartment: binary search on core_cx0.
        let core_of_cx = |g: usize| -> usize { net.core_cx0.partition_point(|&c0| c0 as usize <= g) - 1 };

        for t in 0..steps {
            let slot = t % ring_len;
            // 1a. Deliver compartment spikes due now.
            let due = std::mem::take(&mut pending[slot]);
            for &src in &due {
                let (r0, r1) = (
                    net.route_ptr[src as usize] as usize,
                    net.route_ptr[src as usize + 1] as usize,
                );
                for r in r0..r1 {
                    deliver(net, &mut q, &mut core_events, net.route_axon[r], net.route_atom[r], 1);
                }
            }
            let mut due = due;
            due.clear();
            pending[slot] = due;
            // 1b. Deliver input events due now.
            let due_in = std::mem::take(&mut pending_in[slot]);
            for &(k, e, count) in &due_in {
                let (k, e) = (k as usize, e as usize);
                let p = &net.in_route_ptr[k];
                for r in p[e] as usize..p[e + 1] as usize {
                    deliver(
                        net,
                        &mut q,
                        &mut core_events,
                        net.in_route_axon[k][r],
                        net.in_route_atom[k][r],
                        count,
                    );
                }
            }
            let mut due_in = due_in;
            due_in.clear();
            pending_in[slot] = due_in;
            // 1c. Inputs of this step.
            for (k, inp) in inputs.iter().enumerate() {
                let ts = t % inp.steps;
                let base = (b * inp.steps + ts) * inp.features;
                let row = &inp.data[base..base + inp.features];
                match net.inputs[k].1 {
                    Encoding::Real { frac_bits, bits } => {
                        let hi = (1i64 << (bits.clamp(2, 32) - 1)) - 1;
                        for (xi, &x) in xint[k].iter_mut().zip(row) {
                            *xi = ((x * (1u64 << frac_bits.min(40)) as f64).round() as i64).clamp(-hi - 1, hi);
                        }
                    }
                    Encoding::Events => {
                        let s = (t + num.host_latency as usize) % ring_len;
                        for (e, &x) in row.iter().enumerate() {
                            if x > 0.0 {
                                pending_in[s].push((k as u32, e as u32, x as u32));
                            }
                        }
                    }
                }
            }
            for h in &net.host {
                let xs = &xint[h.input];
                for o in 0..h.n {
                    let mut acc = 0i64;
                    for e in h.row_ptr[o] as usize..h.row_ptr[o + 1] as usize {
                        acc += h.w[e] * xs[h.col[e] as usize];
                    }
                    q[h.cx0 + o] += acc;
                }
            }
            // 2. Update every compartment.
            let cx = &net.cx;
            let row = t * n;
            for i in 0..n {
                let qi = num.q.fit(q[i]);
                q[i] = 0;
                let mut fired = false;
                let ui = num.u.fit(num.decay(u[i], cx.fu[i]) + qi);
                u[i] = ui;
                let u2 = num.u.fit(ui + cx.bias[i]);
                let mut vi = num.v.fit(num.decay(v[i], cx.fv[i]) + u2).clamp(cx.vmin[i], cx.vmax[i]);
                if refr[i] > 0 {
                    vi = 0;
                }
                if cx.spiking[i] && vi > cx.vth[i] {
                    vi = 0;
                    fired = true;
                    refr[i] = cx.refr[i];
                    spikes.set(row + i, true);
                    let lat = if i < net.n_host_cx {
                        host_spikes += 1;
                        num.host_latency
                    } else {
                        core_spikes[core_of_cx(i)] += 1;
                        num.chip_latency
                    };
                    pending[(t + lat as usize) % ring_len].push(i as u32);
                }
                refr[i] = refr[i].saturating_sub(1);
                v[i] = vi;
                if probe_cx == Some(i) {
                    probe.push(ProbeState {
                        q: qi,
                        u: ui,
                        v: vi,
                        refractory: refr[i],
                        spiked: fired,
                    });
                }
            }
            for (li, l) in self.layers.iter().enumerate() {
                if !l.spiking {
                    volts[li].extend(l.gidx.iter().map(|&g| v[g as usize]));
                }
            }
        }
        ItemOut {
            spikes,
            volts,
            core_spikes,
            core_events,
            host_spikes,
            probe,
        }
    }
}

#[inline]
fn deliver(net: &Net, q: &mut [i64], core_events: &mut [u64], gaxon: u32, atom: u16, count: u32) {
    let t = net.axon_table[gaxon as usize] as usize;
    let base = net.axon_base[gaxon as usize] as usize;
    let a0 = net.table_atoms[t] as usize + atom as usize;
    let (s0, s1) = (net.atom_ptr[a0] as usize, net.atom_ptr[a0 + 1] as usize);
    let c = count as i64;
    for s in s0..s1 {
        q[base + net.syn_cx[s] as usize] += net.syn_w[s] as i64 * c;
    }
    core_events[net.core_of_axon[gaxon as usize] as usize] += ((s1 - s0) as u64) * count as u64;
}
