//! # The fixed-point reference ("spikes A")
//!
//! [`simulate_fixed`] interprets a [`QModel`] with a [`Target`]'s integer
//! semantics, population by population, with no cores and no routing. It is
//! the definition the emulator (`nmc-emu`, which runs the placed and routed
//! artifact) must match bit for bit; the two are written independently.
//!
//! ## Validation
//!
//! Before running: [`QModel::check`]; the model's `target` equals
//! [`Target::name`]; at most one model input; and every parameter lies in the
//! target's formats, with errors naming the population and field
//! ([`FixedError::Parameter`]): `decay_u`, `decay_v` ≤ `decay.max()`;
//! `vth_mant` in the threshold mantissa range; `|bias_mant|` ≤ the bias
//! mantissa maximum and `bias_exp` in its range; `refractory` ≤
//! `refractory.max_steps`; `vmin_exp`, `vmax_exp` in range; `weight_exp` in
//! range and every weight mantissa legal (`weight_int(m, exp, mixed)` is
//! some), where a connection's synapse format is *mixed-sign* when its
//! mantissas have both signs. Paths and timing: the paths of the deployed
//! artifact only, each with the latency the target gives it (no other
//! delay exists on chip): a `Real` input is read only by a `Host`
//! population, which has that one connection (latency 0); an `Events` input
//! or a host population is read by chip populations at the target's host
//! latency; a chip population by chip populations at its synapse latency; a
//! connection may not read a non-spiking population (its output is a
//! voltage); outputs record populations. `Real { bits }` is in
//! [`nmc_core::input::REAL_BITS`].
//!
//! ## State and one step
//!
//! Per neuron: `q` (accumulator), `u` (current), `v` (voltage) and a
//! refractory counter `r`, all 0 at the start. `e_src[s]` is what a source
//! emitted at step `s` (0 for `s < 0`):
//!
//! * a population: its spike bit (0/1) at step `s`;
//! * an `Events` input: the event count `stim[b, s mod T, j]`, which must be
//!   a non-negative integer ≤ [`nmc_core::input::MAX_EVENTS`] (the
//!   emulator's bound: both executions accept the same stimuli);
//! * a `Real { frac_bits, bits }` input:
//!   `clamp(round(x · 2^frac_bits), −2^(bits−1), 2^(bits−1) − 1)` with
//!   `x = stim[b, s mod T, j]` and `round` = `f64::round` (half away from zero).
//!
//! `T` is the stimulus time axis; the run has `S` = [`FixedOptions::steps`]
//! (default `T`) steps, tiling or truncating the stimulus like the float
//! reference. Writing `fit_R(x)` for bringing an exact integer into register
//! `R` by its overflow rule (`Wrap`: keep the low `magnitude_bits + 1` bits,
//! two's complement; `Clip`: saturate at `−2^b`, `2^b − 1`), and
//! `decay(x, f) = sign(x) · ((|x| · f) >> decay.bits)` (magnitude truncated
//! toward zero), step `t = 0 … S−1` computes, for every population and every
//! neuron `i` (order between populations is irrelevant: every population
//! read is at least one step old):
//!
//! ```text
//! w_int(m)  = m · 2^(weight.scale_shift + weight_exp)          (exact for legal mantissas)
//! q*        = Σ_connections Σ_src w_int(W[i, src]) · e_src[t − latency]
//! 1. q      = fit_accumulator(q*)
//! 2. u      = fit_current(decay(u, f_u) + q)        f_u = 2^bits − u_offset − decay_u
//! 3. u2     = fit_current(u + bias)                 bias = bias_mant · 2^bias_exp
//! 4. v      = clamp(fit_voltage(decay(v, f_v) + u2), vmin, vmax)
//!                                                   f_v = 2^bits − v_offset − decay_v
//!                                                   vmin = −2^vmin_exp + 1
//!                                                   vmax = 2^(vmax_base + vmax_step · vmax_exp) − 1
//! 5. if r > 0: v = 0
//! 6. spike  = spiking ∧ v > vth_mant · 2^threshold.shift      (strictly greater)
//!    if spike: v = 0, r = refractory
//! 7. r      = max(r − 1, 0)
//! ```
//!
//! `u` keeps the value of step 2 (the bias is added afresh each step). A
//! refractory delay `d` therefore holds `v` at 0 for the `d − 1` steps after
//! a spike; the earliest next spike is `d` steps later (`d ≤ 1`: none held).
//!
//! Weight layouts: `Dense` is `[out, in]` row-major; `Conv2d` is a
//! cross-correlation over `[C, H, W]` row-major sources,
//! `q*[co, oy, ox] += Σ_{ci ∈ group(co)} Σ_{ky,kx} W[co, ci mod (C_in/G), ky, kx] ·
//! e[ci, oy·stride_h − pad_h + ky·dil_h, ox·stride_w − pad_w + kx·dil_w]`
//! with zero outside the source; `Sparse` is CSR over destinations.
//!
//! ## Timing
//!
//! A population's spikes at step `t` reach a connection of latency `L` at
//! step `t + L`; events of input time index `s` (step `s` of the run) at
//! `s + L`. Latencies are the model's ([`nmc_ir::qmodel::QConnection::latency`]),
//! and validation requires each to be the one the target gives its path: 1
//! for on-chip connections and the target's host latency (1 on loihi1, 2 on
//! tiny) for host → chip ones.
//! Past spikes are kept in a ring buffer per population sized by the largest
//! latency reading it.
//!
//! ## Overflow
//!
//! A *wrap* is a `fit` that changed `q`, `u` or `u2`; a *clip* of `v` is step
//! 4 changing `v` by its register, by `vmax`, or by `vmin` when `vmin` is the
//! target's widest (`vmin_exp` at its maximum). A narrower `vmin` is the
//! neuron's own floor (nengo's `min_voltage`, 0 in nengo-loihi): `v` is held
//! there as the neuron model says, and that is not counted. Every one is counted per
//! population and register ([`nmc_trace::OverflowCounts`], summed over the
//! batch), and the earliest (by step, then batch item, population, neuron,
//! register in step order) is the trace's `first_overflow`. With
//! [`FixedOptions::strict`] that event is an error instead
//! ([`FixedError::Overflow`]). Strict mode counts the `vmax` and widest-`vmin`
//! clips as well: the float model has no such bounds, so a clipped `v` is a
//! place where the integer run departs from it.
//!
//! ## Float host layers
//!
//! A host population with a float model ([`nmc_ir::qmodel::FloatHost`])
//! is not run as an integer compartment: before the item's run, its spikes
//! over all steps are computed from the item's real-valued input by
//! [`nmc_core::lif::host_spikes`] (the float reference's population step,
//! shared with the emulator), and in each step the population fires them.
//! Its record holds those spikes, no overflows and no probe states.
//!
//! ## Host readouts
//!
//! A model's host readouts ([`nmc_ir::qmodel::QReadout`]) read spiking chip
//! populations at the target's chip → host latency
//! (`timing.host_output_delay_steps`, which the target must state). After
//! the integer run, each readout's `f64` value of step `t` is computed from
//! the population spikes of step `t − latency` in the order the QModel
//! documents (bias, then each connection's row entries in storage order,
//! then `f = decay·f + gain·y`), so the emulator, which follows the same
//! order, produces the same bits.
//!
//! ## Results
//!
//! A [`Trace`] (crate `nmc-trace`, the type the emulator returns too): one
//! layer per population in model order, one readout trace per host readout, spikes at bit `(b·steps + t)·n + i`
//! as in the float reference, for non-spiking populations the voltage after
//! each step at the same index, the overflow counts per register and the
//! first overflow. A probe `(population, neuron, batch item)` records
//! [`ProbeState`] after each step, beside the trace. Batch items run in
//! parallel (rayon); results do not depend on the thread count.

mod arith;
mod error;
mod paths;
mod plan;
mod readout;
mod run;

pub use error::FixedError;
pub use nmc_trace::{Register, Trace};

use crate::stimulus::Stimulus;
use bitvec::vec::BitVec;
use nmc_ir::Shape;
use nmc_ir::qmodel::{InputEncoding, QModel};
use nmc_target::Target;
use nmc_trace::{LayerTrace, OverflowEvent};
use rayon::prelude::*;

/// How to run [`simulate_fixed`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixedOptions {
    /// Steps to run; `None`: the stimulus's time axis. A longer run tiles the
    /// stimulus along time (step `t` reads `t mod T`), a shorter one truncates it.
    pub steps: Option<usize>,
    /// Any wrap of `q`, `u`, `u + bias` or clip of `v` is an error
    /// ([`FixedError::Overflow`]) instead of being counted.
    pub strict: bool,
    /// Record the state of `(population, neuron, batch item)` every step.
    pub probe: Option<(usize, usize, usize)>,
}

/// The probed neuron's state at the end of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeState {
    /// The accumulator after fitting (step 1).
    pub q: i64,
    /// The current `u` (step 2; without the bias).
    pub u: i64,
    /// The voltage after clip, refractory hold and reset.
    pub v: i64,
    /// The refractory counter after its decrement.
    pub refractory: u32,
    /// Whether the neuron spiked this step.
    pub spiked: bool,
}

/// What [`simulate_fixed`] produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedResult {
    /// Spikes, read-out voltages, overflow counts and the first overflow,
    /// one layer per population in model order.
    pub trace: Trace,
    /// The probe's state per step (empty without a probe).
    pub probe: Vec<ProbeState>,
}

/// Checks that `model` is legal on `target`: its structure, the target it
/// names, its inputs, the path and latency of every connection, its outputs,
/// and every stored integer against the target's formats (decays, thresholds, biases, refractory delays, voltage bounds,
/// weight mantissas at their exponent in their synapse format). The fixed
/// reference runs exactly the models this accepts, and the partitioner
/// (`nmc compile`) calls it first, so the two cannot disagree about what is
/// legal. Errors name the population and field.
pub fn validate(model: &QModel, target: &Target) -> Result<(), FixedError> {
    plan::validate(model, target)
}

/// Runs `model` on `target`'s integer semantics over the batch of `stim`
/// (see the module documentation for the exact step).
///
/// `stim` drives the model's input (a model with one input; a model without
/// inputs takes a stimulus of 0 features, for batch and length only).
pub fn simulate_fixed(
    model: &QModel,
    target: &Target,
    stim: &Stimulus,
    opts: &FixedOptions,
) -> Result<FixedResult, FixedError> {
    let plan = plan::build(model, target)?;
    let features = plan.input.as_ref().map_or(0, |i| i.features);
    if stim.features() != features {
        return Err(FixedError::Stimulus(crate::SimError::FeatureMismatch {
            input: plan
                .input
                .as_ref()
                .map_or_else(|| "<none>".to_string(), |i| i.name.clone()),
            expected: model
                .inputs
                .first()
                .map_or_else(|| Shape::new(vec![0]), |i| i.shape.clone()),
            got: stim.features(),
        }));
    }
    let steps = opts.steps.unwrap_or(stim.steps());
    if steps == 0 {
        return Err(FixedError::Empty("a run of 0 steps".into()));
    }
    let batch = stim.batch();
    if let Some((p, i, b)) = opts.probe {
        let pop = plan.pops.get(p).ok_or_else(|| {
            FixedError::Probe(format!(
                "population {p} does not exist ({} populations)",
                plan.pops.len()
            ))
        })?;
        if i >= pop.n {
            return Err(FixedError::Probe(format!(
                "population `{}` has {} neurons, not neuron {i}",
                pop.name, pop.n
            )));
        }
        if b >= batch {
            return Err(FixedError::Probe(format!(
                "batch item {b} does not exist (batch {batch})"
            )));
        }
    }

    // Integer inputs per batch item (only the time indices the run reads).
    let t_len = stim.steps().min(steps);
    let mut inputs: Vec<Vec<i64>> = Vec::with_capacity(batch);
    for b in 0..batch {
        let sample = &stim.sample(b)[..t_len * features];
        let ints = match &plan.input {
            None => Vec::new(),
            Some(inp) => encode(inp, b, features, sample)?,
        };
        inputs.push(ints);
    }

    let results: Vec<_> = (0..batch)
        .into_par_iter()
        .map(|b| {
            let probe = opts.probe.and_then(|(p, i, pb)| (pb == b).then_some((p, i)));
            let float = float_host_spikes(model, &stim.sample(b)[..t_len * features], t_len, steps);
            run::run_item(&plan, &float, &inputs[b], t_len, steps, opts.strict, probe)
        })
        .collect();

    let mut items = Vec::with_capacity(batch);
    let mut strict_first: Option<(usize, run::ItemOverflow)> = None;
    for (b, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) => items.push(o),
            Err(e) => earliest(&mut strict_first, b, e),
        }
    }
    if let Some((b, e)) = strict_first {
        return Err(FixedError::Overflow(event(&plan, b, e)));
    }
    let mut first = None;
    for (b, item) in items.iter().enumerate() {
        if let Some(e) = item.first_overflow {
            earliest(&mut first, b, e);
        }
    }
    let first_overflow = first.map(|(b, e)| event(&plan, b, e));
    let probe = match opts.probe {
        Some((_, _, pb)) => items
            .get_mut(pb)
            .map(|i| std::mem::take(&mut i.probe))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let pop_n: Vec<usize> = plan.pops.iter().map(|p| p.n).collect();
    let item_spikes: Vec<&[BitVec]> = items.iter().map(|i| &i.spikes[..]).collect();
    let readouts = readout::plans(model)
        .iter()
        .map(|r| readout::trace(r, &item_spikes, &pop_n, steps))
        .collect();
    Ok(FixedResult {
        trace: Trace {
            batch,
            steps,
            layers: layers(&plan, &items, batch, steps),
            readouts,
            first_overflow,
        },
        probe,
    })
}

/// Per population, the spikes of its float host layer over one sample
/// (`steps × n`; `None` for every other population): the real values
/// `sample` (`t_len × features`) through the one shared float step.
fn float_host_spikes(model: &QModel, sample: &[f64], t_len: usize, steps: usize) -> Vec<Option<Vec<u8>>> {
    model
        .populations
        .iter()
        .map(|p| {
            p.float.as_ref().map(|f| {
                let lif = nmc_core::lif::Lif::from(&f.neuron);
                nmc_core::lif::host_spikes(f.map(), &f.bias, &lif, sample, t_len, steps)
            })
        })
        .collect()
}

/// Keeps in `first` the earlier of it and item `b`'s first overflow: by
/// step, then batch item (items are offered in order; within an item the
/// run met its first in population, neuron, register order).
fn earliest(first: &mut Option<(usize, run::ItemOverflow)>, b: usize, e: run::ItemOverflow) {
    if first.as_ref().is_none_or(|(_, f)| e.step < f.step) {
        *first = Some((b, e));
    }
}

/// An item's overflow as the trace and the strict error name it.
fn event(plan: &plan::Plan, b: usize, e: run::ItemOverflow) -> OverflowEvent {
    OverflowEvent {
        layer: plan.pops[e.population].name.clone(),
        neuron: e.neuron,
        step: e.step,
        batch: b,
        register: e.register,
        exact: e.exact,
        stored: e.stored,
    }
}

/// Every population's record over the batch, in model order.
fn layers(plan: &plan::Plan, items: &[run::ItemOutput], batch: usize, steps: usize) -> Vec<LayerTrace> {
    plan.pops
        .iter()
        .enumerate()
        .map(|(k, pop)| {
            let mut spikes = BitVec::with_capacity(batch * steps * pop.n);
            let mut voltages = (!pop.spiking).then(|| Vec::with_capacity(batch * steps * pop.n));
            let mut overflows = nmc_trace::OverflowCounts::default();
            for item in items {
                spikes.extend_from_bitslice(&item.spikes[k]);
                if let (Some(all), Some(v)) = (&mut voltages, &item.voltages[k]) {
                    all.extend_from_slice(v);
                }
                overflows.add(&item.counts[k]);
            }
            LayerTrace {
                name: pop.name.clone(),
                shape: pop.shape.dims().to_vec(),
                spikes,
                voltages,
                overflows,
            }
        })
        .collect()
}

/// The integer values of one sample's input, `t_len × features`.
fn encode(inp: &plan::InputPlan, b: usize, features: usize, sample: &[f64]) -> Result<Vec<i64>, FixedError> {
    match inp.encoding {
        InputEncoding::Events => sample
            .iter()
            .enumerate()
            .map(|(idx, &x)| {
                if nmc_core::input::is_event_count(x) {
                    Ok(x as i64)
                } else {
                    Err(FixedError::NotAnEventCount {
                        input: inp.name.clone(),
                        batch: b,
                        step: idx / features.max(1),
                        feature: idx % features.max(1),
                        value: x,
                    })
                }
            })
            .collect(),
        InputEncoding::Real { frac_bits, bits } => {
            let scale = 2f64.powi(i32::from(frac_bits));
            let half = 2f64.powi(i32::from(bits) - 1);
            let hi = (1i64 << (bits - 1)) - 1;
            let lo = -(1i64 << (bits - 1));
            Ok(sample
                .iter()
                .map(|&x| {
                    let r = (x * scale).round();
                    if r >= half {
                        hi
                    } else if r < -half {
                        lo
                    } else {
                        r as i64
                    }
                })
                .collect())
        }
    }
}
