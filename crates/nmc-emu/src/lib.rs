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
//! ## Overflow
//!
//! A *wrap* is a `fit` that changed `q`, `u` or `u + bias`; a *clip* is the
//! voltage step changing `v` by its register, `vmax`, or the target's widest
//! `vmin` (a narrower vmin is the neuron's floor, not counted) — the same
//! definitions as the fixed-point reference, which must count the same
//! numbers. Every one is counted per layer ([`LayerOverflow`]); with
//! [`RunOptions::strict`] the earliest (by step, batch item, layer, neuron,
//! register in step order) is an error ([`EmuError::Overflow`]). The checks
//! sit on a branch that is not taken in a healthy run, so they cost a compare
//! each.
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

/// Largest event count one input element may deliver in one step: with
/// weights below 2^24 and fan-ins below 2^19 the accumulator's 64-bit sum
/// cannot overflow (the register's own wrap is then applied exactly).
pub const MAX_EVENTS: u32 = 1 << 20;

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
    /// Strict mode: a register wrapped or the voltage was clipped.
    #[error(
        "overflow in layer `{layer}`, neuron {neuron}, step {step}, batch item {batch}: register {register} \
         would be {exact}, the target stores {stored} (strict mode)"
    )]
    Overflow {
        /// Layer name (artifact layer order).
        layer: String,
        /// Neuron index within the layer (row-major).
        neuron: usize,
        /// Step.
        step: usize,
        /// Batch item.
        batch: usize,
        /// The register.
        register: Register,
        /// The exact value before fitting.
        exact: i64,
        /// What the register holds after its overflow rule.
        stored: i64,
    },
}

/// A state register of the compartment step, as named in overflow reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Register {
    /// `q`, the input accumulator.
    Accumulator,
    /// `u`, the current.
    Current,
    /// `u + bias` (the current register).
    CurrentBias,
    /// `v`, the voltage: its register and `[vmin, vmax]`.
    Voltage,
}

impl Register {
    /// Short name: `q`, `u`, `u+bias` or `v` (as the fixed reference names them).
    pub fn name(self) -> &'static str {
        match self {
            Register::Accumulator => "q",
            Register::Current => "u",
            Register::CurrentBias => "u+bias",
            Register::Voltage => "v",
        }
    }
}

impl std::fmt::Display for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Wraps and clips of one layer over a run, summed over the batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LayerOverflow {
    /// Layer name.
    pub layer: String,
    /// Wraps (or clips) of `q` to the accumulator register.
    pub q_wraps: u64,
    /// Wraps (or clips) of `u` and of `u + bias` to the current register.
    pub u_wraps: u64,
    /// Clips of `v` to `[vmin, vmax]` (or its register).
    pub v_clips: u64,
}

impl LayerOverflow {
    /// `q_wraps + u_wraps + v_clips`.
    pub fn total(&self) -> u64 {
        self.q_wraps + self.u_wraps + self.v_clips
    }
}

/// How to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Any wrap or clip is an error ([`EmuError::Overflow`]) instead of being counted.
    pub strict: bool,
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
    /// Wraps and clips per layer, in the artifact's layer order.
    pub overflows: Vec<LayerOverflow>,
}

impl EmuResult {
    /// Wraps and clips of the whole run.
    pub fn total_overflows(&self) -> u64 {
        self.overflows.iter().map(LayerOverflow::total).sum()
    }
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
    /// Per global compartment: (layer, neuron), `u32::MAX` when in no layer.
    rev: Vec<(u32, u32)>,
    core_ids: Vec<(u16, u16)>,
}

/// Per-item output of one run.
struct ItemOut {
    fired: Vec<u32>,
    fired_ptr: Vec<usize>,
    volts: Vec<Vec<i64>>,
    core_events: Vec<u64>,
    probe: Vec<ProbeState>,
    /// Per layer (plus one slot for compartments in no layer): q, u, v counts.
    overflow_counts: Vec<[u64; 3]>,
    /// Strict mode: the first overflow (the item stopped at its step).
    first_overflow: Option<OverflowEvent>,
}

/// One wrap or clip, by position in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct OverflowEvent {
    step: usize,
    layer: u32,
    neuron: u32,
    register: Register,
    exact: i64,
    stored: i64,
}

/// Where the update loop reports overflows (off the hot path).
struct OverflowSink<'a> {
    rev: &'a [(u32, u32)],
    counts: Vec<[u64; 3]>,
    strict: bool,
    step: usize,
    first: Option<OverflowEvent>,
}

impl OverflowSink<'_> {
    /// Records every register of compartment `cx` whose stored value
    /// differs from its exact one: `[q, u, u + bias, v]` as (exact, stored).
    #[cold]
    #[inline(never)]
    fn hits(&mut self, cx: u32, regs: [(i64, i64); 4]) {
        const ORDER: [Register; 4] = [
            Register::Accumulator,
            Register::Current,
            Register::CurrentBias,
            Register::Voltage,
        ];
        for (reg, (exact, stored)) in ORDER.into_iter().zip(regs) {
            if exact != stored {
                self.hit(reg, cx, exact, stored);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn hit(&mut self, register: Register, cx: u32, exact: i64, stored: i64) {
        let (layer, neuron) = self.rev[cx as usize];
        let slot = if layer == u32::MAX {
            self.counts.len() - 1
        } else {
            layer as usize
        };
        let k = match register {
            Register::Accumulator => 0,
            Register::Current | Register::CurrentBias => 1,
            Register::Voltage => 2,
        };
        self.counts[slot][k] += 1;
        if self.strict {
            let e = OverflowEvent {
                step: self.step,
                layer,
                neuron: if layer == u32::MAX { cx } else { neuron },
                register,
                exact,
                stored,
            };
            if self.first.is_none_or(|f| e < f) {
                self.first = Some(e);
            }
        }
    }
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
        let mut rev = vec![(u32::MAX, 0u32); net.n_cx];
        for (li, l) in layers.iter().enumerate() {
            for (j, &g) in l.gidx.iter().enumerate() {
                rev[g as usize] = (li as u32, j as u32);
            }
        }
        Ok(Emulator {
            net,
            layers,
            rev,
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
                    .find(|x| **x < 0.0 || x.fract() != 0.0 || **x > MAX_EVENTS as f64)
            {
                return Err(EmuError::Input(format!(
                    "input {k} carries events: values must be non-negative integer counts up to {MAX_EVENTS} \
                     per element and step, found {x}"
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
        self.run_opts(inputs, steps, &RunOptions::default(), progress)
    }

    /// Runs every batch item for `steps` steps (in parallel over the batch)
    /// with `opts`, calling `progress` after each item. In strict mode the
    /// earliest overflow (by step, batch item, layer, neuron, register) is the
    /// error.
    pub fn run_opts(
        &self,
        inputs: &[InputData],
        steps: usize,
        opts: &RunOptions,
        progress: &(dyn Fn() + Sync),
    ) -> Result<EmuResult, EmuError> {
        let batch = self.check_inputs(inputs)?;
        self.run_batch(inputs, None, batch, steps, opts, progress)
    }

    /// Every batch item in parallel, then the earliest strict overflow (by
    /// step, batch item, layer, neuron, register) or the assembled result.
    fn run_batch(
        &self,
        inputs: &[InputData],
        host: Option<(usize, &InputData)>,
        batch: usize,
        steps: usize,
        opts: &RunOptions,
        progress: &(dyn Fn() + Sync),
    ) -> Result<EmuResult, EmuError> {
        let items: Vec<ItemOut> = (0..batch)
            .into_par_iter()
            .map(|b| {
                let r = self.run_item(inputs, host, b, steps, None, opts.strict);
                progress();
                r
            })
            .collect();
        if let Some((b, e)) = items
            .iter()
            .enumerate()
            .filter_map(|(b, it)| it.first_overflow.map(|e| (b, e)))
            .min_by_key(|&(b, e)| (e.step, b, e))
        {
            return Err(self.overflow_error(b, e));
        }
        Ok(self.assemble(items, batch, steps))
    }

    /// Whether each layer (artifact layer order) spikes; non-spiking layers
    /// are read out as voltages.
    pub fn layer_spiking(&self) -> Vec<bool> {
        self.layers.iter().map(|l| l.spiking).collect()
    }

    /// The artifact's host layer, when it has exactly one: (layer index in
    /// the artifact's layer order, name, shape).
    pub fn host_layer(&self) -> Option<(usize, &str, &[usize])> {
        match self.host_layers()[..] {
            [i] => Some((i, self.layers[i].name.as_str(), self.layers[i].shape.as_slice())),
            _ => None,
        }
    }

    /// Indices of the layers on the host (all their compartments before the chip's).
    fn host_layers(&self) -> Vec<usize> {
        let nh = self.net.n_host_cx as u32;
        (0..self.layers.len())
            .filter(|&i| {
                let g = &self.layers[i].gidx;
                !g.is_empty() && g.iter().all(|&g| g < nh)
            })
            .collect()
    }

    /// Runs every batch item with recorded spikes in place of the host layer
    /// (`--input-spikes`): `spikes` is `(batch, steps, host neurons)` of 0/1;
    /// at step `t` the host layer fires exactly the neurons marked at
    /// `t mod steps`, which reach the chip after the target's host latency,
    /// as its own spikes would. The host layer is not updated and the
    /// real-valued inputs are not read. The artifact must have exactly one
    /// host layer and no event inputs.
    pub fn run_host_spikes(
        &self,
        spikes: &InputData,
        steps: usize,
        opts: &RunOptions,
        progress: &(dyn Fn() + Sync),
    ) -> Result<EmuResult, EmuError> {
        let Some((li, name, shape)) = self.host_layer() else {
            let nh_layers = self.host_layers().len();
            return Err(EmuError::Input(format!(
                "input spikes replace the artifact's host layer, but it has {nh_layers} host layers \
                 (compile with an encoder, or give the spikes as --input to a model without one)"
            )));
        };
        if self.net.inputs.iter().any(|&(_, e)| e == Encoding::Events) {
            return Err(EmuError::Input(
                "input spikes replace the host layer, but the artifact also reads event inputs".into(),
            ));
        }
        let n = self.layers[li].gidx.len();
        if spikes.features != n {
            return Err(EmuError::Input(format!(
                "input spikes have {} values per step; host layer `{name}` has {n} neurons (shape {shape:?})",
                spikes.features
            )));
        }
        if spikes.batch == 0 || spikes.steps == 0 || spikes.data.len() != spikes.batch * spikes.steps * n {
            return Err(EmuError::Input(
                "input spikes: inconsistent batch/steps/data length".into(),
            ));
        }
        if let Some((i, x)) = spikes.data.iter().enumerate().find(|&(_, &x)| x != 0.0 && x != 1.0) {
            let (b, t, j) = (i / (spikes.steps * n), i / n % spikes.steps, i % n);
            return Err(EmuError::Input(format!(
                "input spikes must be 0 or 1 (one spike per neuron and step at most); sample {b}, step {t}, \
                 neuron {j} of `{name}` is {x}"
            )));
        }
        self.run_batch(&[], Some((li, spikes)), spikes.batch, steps, opts, progress)
    }

    fn overflow_error(&self, b: usize, e: OverflowEvent) -> EmuError {
        let layer = match self.layers.get(e.layer as usize) {
            Some(l) => l.name.clone(),
            None => "(compartment in no layer)".to_string(),
        };
        EmuError::Overflow {
            layer,
            neuron: e.neuron as usize,
            step: e.step,
            batch: b,
            register: e.register,
            exact: e.exact,
            stored: e.stored,
        }
    }

    /// Runs every batch item for `steps` steps.
    pub fn run(&self, inputs: &[InputData], steps: usize) -> Result<EmuResult, EmuError> {
        self.run_with_progress(inputs, steps, &|| {})
    }

    fn assemble(&self, items: Vec<ItemOut>, batch: usize, steps: usize) -> EmuResult {
        let net = &self.net;
        let mut bits: Vec<BitVec> = self
            .layers
            .iter()
            .map(|l| BitVec::repeat(false, batch * steps * l.gidx.len()))
            .collect();
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
        for (b, it) in items.iter().enumerate() {
            for t in 0..steps {
                for &g in &it.fired[it.fired_ptr[t]..it.fired_ptr[t + 1]] {
                    let c = net.core_of_cx[g as usize];
                    if c == u32::MAX {
                        host_spikes += 1;
                    } else {
                        cores[c as usize].spikes += 1;
                    }
                    let (li, j) = self.rev[g as usize];
                    if li != u32::MAX {
                        let n = self.layers[li as usize].gidx.len();
                        bits[li as usize].set((b * steps + t) * n + j as usize, true);
                    }
                }
            }
            for (c, a) in cores.iter_mut().enumerate() {
                a.syn_events += it.core_events[c];
            }
        }
        let mut voltages = Vec::new();
        for (li, l) in self.layers.iter().enumerate() {
            if !l.spiking {
                let mut v = Vec::with_capacity(batch * steps * l.gidx.len());
                for it in &items {
                    v.extend_from_slice(&it.volts[li]);
                }
                voltages.push(LayerVoltages {
                    name: l.name.clone(),
                    v,
                });
            }
        }
        let layers = self
            .layers
            .iter()
            .zip(bits)
            .map(|(l, spikes)| LayerSpikes {
                name: l.name.clone(),
                shape: l.shape.clone(),
                spikes,
            })
            .collect();
        let syn_events = cores.iter().map(|c| c.syn_events).sum();
        let mut overflows: Vec<LayerOverflow> = self
            .layers
            .iter()
            .map(|l| LayerOverflow {
                layer: l.name.clone(),
                ..Default::default()
            })
            .collect();
        for it in &items {
            for (o, c) in overflows.iter_mut().zip(&it.overflow_counts) {
                o.q_wraps += c[0];
                o.u_wraps += c[1];
                o.v_clips += c[2];
            }
        }
        EmuResult {
            batch,
            steps,
            layers,
            voltages,
            cores,
            host_spikes,
            syn_events,
            overflows,
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
        Ok(self.run_item(inputs, None, b, steps, Some(*g as usize), false).probe)
    }

    /// One batch item. `host`: recorded spikes of the (single) host layer, fed
    /// instead of running it (`(layer, spikes)`; see [`Emulator::run_host_spikes`]).
    fn run_item(
        &self,
        inputs: &[InputData],
        host: Option<(usize, &InputData)>,
        b: usize,
        steps: usize,
        probe_cx: Option<usize>,
        strict: bool,
    ) -> ItemOut {
        let net = &self.net;
        let num = &net.num;
        let n = net.n_cx;
        let nh = net.n_host_cx;
        let (lc, lh) = (num.chip_latency as usize, num.host_latency as usize);
        let mut q = vec![0i64; n];
        let mut u = vec![0i64; n];
        let mut v = vec![0i64; n];
        let mut refr = vec![0u8; n];
        // Fired compartments, in index order, step by step: fired[fired_ptr[t]..fired_ptr[t+1]].
        let mut fired: Vec<u32> = Vec::new();
        let mut fired_ptr: Vec<usize> = Vec::with_capacity(steps + 1);
        fired_ptr.push(0);
        let mut core_events = vec![0u64; net.core_cx0.len()];
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
        let mut ov = OverflowSink {
            rev: &self.rev,
            counts: vec![[0; 3]; self.layers.len() + 1],
            strict,
            step: 0,
            first: None,
        };
        let mut xint: Vec<Vec<i64>> = net.inputs.iter().map(|&(f, _)| vec![0i64; f]).collect();
        let row_of = |inp: &InputData, t: usize| {
            let base = (b * inp.steps + t % inp.steps) * inp.features;
            base..base + inp.features
        };

        for t in 0..steps {
            // 1a. Chip spikes sent at t − lc, host spikes sent at t − lh (host compartments
            //     come first in every step's list).
            if t >= lc {
                let list = &fired[fired_ptr[t - lc]..fired_ptr[t - lc + 1]];
                let first_chip = list.partition_point(|&g| (g as usize) < nh);
                for &src in &list[first_chip..] {
                    self.route(src, &mut q, &mut core_events);
                }
            }
            if t >= lh {
                let list = &fired[fired_ptr[t - lh]..fired_ptr[t - lh + 1]];
                let first_chip = list.partition_point(|&g| (g as usize) < nh);
                for &src in &list[..first_chip] {
                    self.route(src, &mut q, &mut core_events);
                }
                // 1b. Input events of step t − lh.
                for (k, inp) in inputs.iter().enumerate() {
                    if net.inputs[k].1 != Encoding::Events {
                        continue;
                    }
                    let p = &net.in_route_ptr[k];
                    for (e, &x) in inp.data[row_of(inp, t - lh)].iter().enumerate() {
                        if x > 0.0 {
                            for r in p[e] as usize..p[e + 1] as usize {
                                deliver(
                                    net,
                                    &mut q,
                                    &mut core_events,
                                    net.in_route_axon[k][r],
                                    net.in_route_atom[k][r],
                                    x as u32,
                                );
                            }
                        }
                    }
                }
            }
            // 1c. Real-valued inputs of this step into the host layers (latency 0).
            for (k, inp) in inputs.iter().enumerate().filter(|_| host.is_none()) {
                if let Encoding::Real { frac_bits, bits } = net.inputs[k].1 {
                    let hi = (1i64 << (bits.clamp(2, 32) - 1)) - 1;
                    let scale = (1u64 << frac_bits.min(40)) as f64;
                    for (xi, &x) in xint[k].iter_mut().zip(&inp.data[row_of(inp, t)]) {
                        *xi = ((x * scale).round() as i64).clamp(-hi - 1, hi);
                    }
                }
            }
            for h in net.host.iter().filter(|_| host.is_none()) {
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
            // 2. Update every compartment, one run of shared constants at a time.
            let probe_q = probe_cx.map(|p| num.q.fit(q[p]));
            let bias = &net.cx.bias;
            let one = 1i64 << num.decay_bits;
            ov.step = t;
            // Recorded host spikes: the host layer "fires" them and is not updated.
            let first_cx = if let Some((li, hs)) = host {
                let row = (b * hs.steps + t % hs.steps) * hs.features;
                let start = fired.len();
                for (j, &x) in hs.data[row..row + hs.features].iter().enumerate() {
                    if x != 0.0 {
                        fired.push(self.layers[li].gidx[j]);
                    }
                }
                fired[start..].sort_unstable();
                nh as u32
            } else {
                0
            };
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
                let st = State {
                    q: &mut q,
                    u: &mut u,
                    v: &mut v,
                    refr: &mut refr,
                    fired: &mut fired,
                };
                // Monomorphised for the common constants: u = q when the current decays
                // fully (no synapse), v not decayed when there is no leak (IF).
                match (seg.fu == 0, seg.fv == one) {
                    (true, true) => update::<true, true>(num, seg, bias, st, &mut ov),
                    (true, false) => update::<true, false>(num, seg, bias, st, &mut ov),
                    (false, true) => update::<false, true>(num, seg, bias, st, &mut ov),
                    (false, false) => update::<false, false>(num, seg, bias, st, &mut ov),
                }
            }
            fired_ptr.push(fired.len());
            if let (Some(p), Some(qp)) = (probe_cx, probe_q) {
                probe.push(ProbeState {
                    q: qp,
                    u: u[p],
                    v: v[p],
                    refractory: refr[p],
                    spiked: fired[fired_ptr[t]..].binary_search(&(p as u32)).is_ok(),
                });
            }
            for (li, l) in self.layers.iter().enumerate() {
                if !l.spiking {
                    volts[li].extend(l.gidx.iter().map(|&g| v[g as usize]));
                }
            }
            if ov.first.is_some() {
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
        }
    }

    /// Sends one spike of compartment `src` along its routes.
    #[inline]
    fn route(&self, src: u32, q: &mut [i64], core_events: &mut [u64]) {
        let net = &self.net;
        let (r0, r1) = (
            net.route_ptr[src as usize] as usize,
            net.route_ptr[src as usize + 1] as usize,
        );
        for r in r0..r1 {
            deliver(net, q, core_events, net.route_axon[r], net.route_atom[r], 1);
        }
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
