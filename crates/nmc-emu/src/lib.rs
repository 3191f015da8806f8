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
//! numbers. Every one is counted per layer and register
//! ([`nmc_trace::OverflowCounts`]) and the earliest (by step, batch item,
//! layer, neuron, register in step order) is the trace's first overflow;
//! with [`RunOptions::strict`] it is an error ([`EmuError::Overflow`]). The
//! checks sit on a branch that is not taken in a healthy run, so they cost a
//! compare each.
//!
//! ## Host readouts
//!
//! After the chip's run, each of the artifact's host readouts is computed
//! in `f64` from its chip layers' spikes of step `t − L` (`L` the target's
//! `timing.host_output_delay_steps`), in the artifact's order of operations
//! (the fixed reference's too), so A = B covers them bit for bit.
//!
//! ## Results
//!
//! A [`Trace`] (crate `nmc-trace`, the fixed reference's type too), one
//! readout trace per host readout, one
//! layer per artifact layer in the artifact's order — the model's
//! population order, which emission keeps, so A = B is `a == b` — and the
//! per-core activity beside it ([`EmuResult`]). With recorded host spikes the
//! host layer's record holds the spikes it was given.
//!
//! Batches run in parallel (rayon); results do not depend on the thread
//! count.

mod data;
mod error;
mod float_host;
mod formats;
mod item;
mod net;
pub mod numerics;
mod overflow;
mod readout;

use bitvec::vec::BitVec;
use data::LayerInfo;
pub use data::{InputData, ProbeState};
pub use error::EmuError;
use item::{ItemOut, ItemRun};
use net::Net;
use nmc_artifact::{Artifact, Encoding, LayerLoc};
use nmc_core::{Loc, Problem};
use nmc_trace::{LayerTrace, OverflowCounts, OverflowEvent};
pub use nmc_trace::{Register, Trace};
use numerics::Numerics;
use overflow::ItemOverflow;
use rayon::prelude::*;
use serde::Serialize;

/// Largest event count one input element may deliver in one step (the
/// fixed reference's bound too: [`nmc_core::input::MAX_EVENTS`]).
pub const MAX_EVENTS: u32 = nmc_core::input::MAX_EVENTS;

/// How to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Any wrap or clip is an error ([`EmuError::Overflow`]) instead of being counted.
    pub strict: bool,
    /// Record every compartment's `u` and `v` after every step
    /// ([`EmuResult::states`]; memory: 16 bytes per neuron and step).
    pub record_state: bool,
}

/// The registers of one layer after every step, at `(b·steps + t)·n + i`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerState {
    /// Synaptic current `u`.
    pub u: Vec<i64>,
    /// Voltage `v`.
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

/// The result of a run: the trace every integer execution produces (the
/// fixed reference's type too), and the emulator's own activity counters.
#[derive(Clone, Debug)]
pub struct EmuResult {
    /// Spikes, read-out voltages, overflow counts per register and the first
    /// overflow, one layer per artifact layer in the artifact's order.
    pub trace: Trace,
    /// Per-core activity.
    pub cores: Vec<CoreActivity>,
    /// Host spikes sent to the chip, total.
    pub host_spikes: u64,
    /// Synaptic events, total.
    pub syn_events: u64,
    /// With [`RunOptions::record_state`]: every layer's registers (artifact
    /// layer order).
    pub states: Option<Vec<LayerState>>,
}

/// A compiled artifact ready to run any number of times.
pub struct Emulator {
    net: Net,
    layers: Vec<LayerInfo>,
    /// Per global compartment: (layer, neuron), `u32::MAX` when in no layer.
    rev: Vec<(u32, u32)>,
    core_ids: Vec<(u16, u16)>,
    /// Host readouts, in the artifact's order, and their chip → host latency.
    readouts: Vec<readout::Readout>,
    readout_latency: usize,
    /// Float host layers (format 3).
    float_host: Vec<float_host::FloatHost>,
}

impl Emulator {
    /// Prepares an artifact for emulation with the given numerics (use
    /// [`Emulator::new`] to take them from the artifact's own target).
    pub fn with_numerics(a: &Artifact, num: Numerics) -> Result<Self, EmuError> {
        let host_output_latency = num.host_output_latency;
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
        let spiking: Vec<bool> = layers.iter().map(|l| l.spiking).collect();
        let (readouts, readout_latency) = readout::build(a, &spiking, host_output_latency)?;
        let float_host = float_host::build(a)?;
        Ok(Emulator {
            net,
            layers,
            rev,
            core_ids: a.cores.iter().map(|c| (c.chip, c.core)).collect(),
            readouts,
            readout_latency,
            float_host,
        })
    }

    /// Prepares an artifact for emulation on the target it carries
    /// (`Artifact::target_ron`, validated by `nmc-target`).
    pub fn new(a: &Artifact) -> Result<Self, EmuError> {
        let t = nmc_target::Target::from_ron_str(&a.target_ron, &format!("target of artifact `{}`", a.model))
            .map_err(|e| EmuError::Target(Problem::new(Loc::Whole, "target_ron", e.to_string())))?;
        if t.name() != a.target_name {
            return Err(EmuError::Target(Problem::new(
                Loc::Whole,
                "target_name",
                format!(
                    "the artifact names target `{}` but carries the description of `{}`",
                    a.target_name,
                    t.name()
                ),
            )));
        }
        let num = Numerics::from_target(&t).map_err(EmuError::Target)?;
        a.check().map_err(EmuError::Invalid)?;
        formats::check(a, &t).map_err(EmuError::Invalid)?;
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
            return Err(EmuError::input(
                Loc::Whole,
                "inputs",
                format!(
                    "the artifact has {} inputs, {} given",
                    self.net.inputs.len(),
                    inputs.len()
                ),
            ));
        }
        let batch = inputs.first().map(|i| i.batch).unwrap_or(1);
        for (k, (inp, &(feats, enc))) in inputs.iter().zip(&self.net.inputs).enumerate() {
            if inp.features != feats {
                return Err(EmuError::input(
                    Loc::Input(k),
                    "features",
                    format!("{} per step, the model expects {feats}", inp.features),
                ));
            }
            if inp.batch != batch || inp.steps == 0 || inp.data.len() != inp.batch * inp.steps * inp.features {
                return Err(EmuError::input(
                    Loc::Input(k),
                    "data",
                    "inconsistent batch/steps/data length",
                ));
            }
            if let Some(x) = inp.data.iter().find(|x| !x.is_finite()) {
                return Err(EmuError::input(
                    Loc::Input(k),
                    "data",
                    format!("contains a non-finite value ({x})"),
                ));
            }
            if enc == Encoding::Events
                && let Some(x) = inp.data.iter().find(|x| !nmc_core::input::is_event_count(**x))
            {
                return Err(EmuError::input(
                    Loc::Input(k),
                    "data",
                    format!(
                        "carries events: values must be non-negative integer counts up to {MAX_EVENTS} \
                         per element and step, found {x}"
                    ),
                ));
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

    /// Every batch item in parallel, then the earliest overflow (by step,
    /// batch item, layer, neuron, register): the error in strict mode, else
    /// the trace's first overflow in the assembled result.
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
                let r = self.run_item(inputs, host, b, steps, None, *opts);
                progress();
                r
            })
            .collect();
        let first = items
            .iter()
            .enumerate()
            .filter_map(|(b, it)| it.first_overflow.map(|e| (b, e)))
            .min_by_key(|&(b, e)| (e.step, b, e))
            .map(|(b, e)| self.overflow_event(b, e));
        match first {
            Some(e) if opts.strict => Err(EmuError::Overflow(e)),
            first => Ok(self.assemble(items, batch, steps, first)),
        }
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
            return Err(EmuError::input(
                Loc::Whole,
                None,
                format!(
                    "input spikes replace the artifact's host layer, but it has {nh_layers} host layers \
                     (compile with an encoder, or give the spikes as --input to a model without one)"
                ),
            ));
        };
        if self.net.inputs.iter().any(|&(_, e)| e == Encoding::Events) {
            return Err(EmuError::input(
                Loc::Whole,
                None,
                "input spikes replace the host layer, but the artifact also reads event inputs",
            ));
        }
        let n = self.layers[li].gidx.len();
        if spikes.features != n {
            return Err(EmuError::input(
                Loc::Layer(name.to_string()),
                "features",
                format!(
                    "input spikes have {} values per step; host layer `{name}` has {n} neurons (shape {shape:?})",
                    spikes.features
                ),
            ));
        }
        if spikes.batch == 0 || spikes.steps == 0 || spikes.data.len() != spikes.batch * spikes.steps * n {
            return Err(EmuError::input(
                Loc::Layer(name.to_string()),
                "data",
                "input spikes: inconsistent batch/steps/data length",
            ));
        }
        if let Some((i, x)) = spikes.data.iter().enumerate().find(|&(_, &x)| x != 0.0 && x != 1.0) {
            let (b, t, j) = (i / (spikes.steps * n), i / n % spikes.steps, i % n);
            return Err(EmuError::input(
                Loc::Layer(name.to_string()),
                "data",
                format!(
                    "input spikes must be 0 or 1 (one spike per neuron and step at most); sample {b}, step {t}, \
                     neuron {j} of `{name}` is {x}"
                ),
            ));
        }
        self.run_batch(&[], Some((li, spikes)), spikes.batch, steps, opts, progress)
    }

    /// An item's overflow as the trace and the strict error name it.
    fn overflow_event(&self, b: usize, e: ItemOverflow) -> OverflowEvent {
        let layer = match self.layers.get(e.layer as usize) {
            Some(l) => l.name.clone(),
            None => "(compartment in no layer)".to_string(),
        };
        OverflowEvent {
            layer,
            neuron: e.neuron as usize,
            step: e.step,
            batch: b,
            register: e.register,
            exact: i128::from(e.exact),
            stored: e.stored,
        }
    }

    /// Runs every batch item for `steps` steps.
    pub fn run(&self, inputs: &[InputData], steps: usize) -> Result<EmuResult, EmuError> {
        self.run_with_progress(inputs, steps, &|| {})
    }

    fn assemble(&self, items: Vec<ItemOut>, batch: usize, steps: usize, first: Option<OverflowEvent>) -> EmuResult {
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
        let sizes: Vec<usize> = self.layers.iter().map(|l| l.gidx.len()).collect();
        let readouts = self
            .readouts
            .iter()
            .map(|r| readout::run(r, self.readout_latency, &bits, &sizes, batch, steps))
            .collect();
        let layers = self
            .layers
            .iter()
            .zip(bits)
            .enumerate()
            .map(|(li, (l, spikes))| {
                let mut overflows = OverflowCounts::default();
                for it in &items {
                    overflows.add(&it.overflow_counts[li]);
                }
                LayerTrace {
                    name: l.name.clone(),
                    shape: l.shape.clone(),
                    spikes,
                    voltages: (!l.spiking).then(|| items.iter().flat_map(|it| it.volts[li].iter().copied()).collect()),
                    overflows,
                }
            })
            .collect();
        let syn_events = cores.iter().map(|c| c.syn_events).sum();
        let states = items.first().is_some_and(|it| !it.states.is_empty()).then(|| {
            (0..self.layers.len())
                .map(|li| LayerState {
                    u: items.iter().flat_map(|it| it.states[li].0.iter().copied()).collect(),
                    v: items.iter().flat_map(|it| it.states[li].1.iter().copied()).collect(),
                })
                .collect()
        });
        EmuResult {
            states,
            trace: Trace {
                batch,
                steps,
                layers,
                readouts,
                first_overflow: first,
            },
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
            .ok_or_else(|| EmuError::input(Loc::Whole, "probe", format!("no neuron {neuron} in layer {layer}")))?;
        if b >= batch {
            return Err(EmuError::input(
                Loc::Whole,
                "probe",
                format!("batch item {b} of {batch}"),
            ));
        }
        Ok(self
            .run_item(inputs, None, b, steps, Some(*g as usize), RunOptions::default())
            .probe)
    }

    /// One batch item. `host`: recorded spikes of the (single) host layer, fed
    /// instead of running it (`(layer, spikes)`; see [`Emulator::run_host_spikes`]).
    /// Without them, float host layers are computed first and fired the same way.
    fn run_item(
        &self,
        inputs: &[InputData],
        host: Option<(usize, &InputData)>,
        b: usize,
        steps: usize,
        probe_cx: Option<usize>,
        opts: RunOptions,
    ) -> ItemOut {
        let float: Vec<(usize, Vec<u8>)> = match host {
            Some(_) => Vec::new(),
            None => self
                .float_host
                .iter()
                .map(|f| (f.layer, f.spikes(inputs, b, steps)))
                .collect(),
        };
        ItemRun {
            net: &self.net,
            layers: &self.layers,
            rev: &self.rev,
            inputs,
            host,
            float: &float,
            b,
            steps,
            probe_cx,
            strict: opts.strict,
            record_state: opts.record_state,
        }
        .run()
    }
}
