//! The A = B check: the fixed-point reference (A) and the emulated artifact
//! (B) of a compiled model, run and compared as traces: A = B is
//! `a.trace == b.trace` (spikes, read-out voltages, overflow counts per
//! register, the first overflow), and the diagnostics are the traces'
//! [`Comparison`].

use super::{Compiled, emu_input};
use crate::Error;
use crate::compare::Mismatch;
use nmc_emu::{EmuResult, Emulator, RunOptions};
use nmc_reference::{FixedOptions, FixedResult, Stimulus};
use nmc_target::Target;
use nmc_trace::{Comparison, CountDifference, Difference, FirstOverflowDifference, OverflowEvent, Trace};
use serde::Serialize;

/// The first read-out voltage on which the fixed reference and the emulator
/// disagree.
pub type VoltageMismatch = nmc_trace::VoltageDifference;

/// The A = B check (the `exact` section of `nmc.verify/1`).
#[derive(Debug, Clone, Serialize)]
pub struct ExactCheck {
    /// A = B: the two traces are equal (every spike of every layer, every
    /// read-out voltage, every overflow count per layer and register, the
    /// first overflow).
    pub equal: bool,
    /// Layers compared.
    pub layers: usize,
    /// (item, step, neuron) bits compared.
    pub bits: u64,
    /// The first spike mismatch, if any.
    pub mismatch: Option<Mismatch>,
    /// Whether both executions count the same wraps and clips per layer and
    /// register.
    pub overflow_counts_equal: bool,
    /// States of the neuron at the first difference (a spike, else a
    /// read-out voltage, else the first overflow), at its step: (q, u, v)
    /// of A and of B.
    pub state_a: Option<(i64, i64, i64)>,
    /// See `state_a`.
    pub state_b: Option<(i64, i64, i64)>,
    /// Integer voltages of non-spiking (read-out) populations compared
    /// (item × step × neuron values).
    pub voltages: u64,
    /// The first read-out voltage that differs, if any.
    pub voltage_mismatch: Option<VoltageMismatch>,
    /// Host readouts compared.
    pub readouts: usize,
    /// Host readout `f64` values compared (item × step × element), by bits.
    pub readout_values: u64,
    /// The first host readout value that differs, if any.
    pub readout_mismatch: Option<nmc_trace::ReadoutDifference>,
    /// The first (layer, register) whose overflow counts differ, if any.
    pub overflow_count_mismatch: Option<CountDifference>,
    /// A's first overflow (B's too when `first_overflow_mismatch` is null).
    pub first_overflow: Option<OverflowEvent>,
    /// The first overflows, when they differ.
    pub first_overflow_mismatch: Option<FirstOverflowDifference>,
    /// The earliest difference of all ([`Comparison::first`]).
    pub first_difference: Option<Difference>,
}

impl ExactCheck {
    /// The check of A's trace against B's (no probe states yet); a structure
    /// difference (layers, shapes, kinds, batch or steps) is an error.
    pub fn of(a: &Trace, b: &Trace) -> Result<ExactCheck, Error> {
        let c: Comparison = a.compare(b);
        if let Some(s) = &c.structure {
            return Err(Error::Structure(format!(
                "the fixed reference and the emulator record different things: {s}"
            )));
        }
        let equal = a == b;
        debug_assert_eq!(equal, c.is_equal(), "a == b exactly when the comparison finds nothing");
        Ok(ExactCheck {
            equal,
            layers: a.layers.len(),
            bits: c.bits,
            overflow_counts_equal: c.counts.is_none(),
            state_a: None,
            state_b: None,
            voltages: c.voltages,
            readouts: a.readouts.len(),
            readout_values: c.readout_values,
            first_overflow: a.first_overflow.clone(),
            first_difference: c.first(),
            readout_mismatch: c.readout,
            mismatch: c.spikes,
            voltage_mismatch: c.voltage,
            overflow_count_mismatch: c.counts,
            first_overflow_mismatch: c.first_overflow,
        })
    }

    /// Where to probe both executions: (layer, batch item, step, neuron) of
    /// the first spike mismatch, else of the first voltage mismatch, else of
    /// the earlier first overflow.
    fn probe_point(&self) -> Option<(&str, usize, usize, usize)> {
        if let Some(m) = &self.mismatch {
            return Some((&m.layer, m.batch_item, m.step, m.neuron));
        }
        if let Some(m) = &self.voltage_mismatch {
            return Some((&m.layer, m.batch_item, m.step, m.neuron));
        }
        let d = self.first_overflow_mismatch.as_ref()?;
        let e = [&d.a, &d.b].into_iter().flatten().min_by_key(|e| e.step)?;
        Some((&e.layer, e.batch, e.step, e.neuron))
    }
}

impl std::fmt::Display for ExactCheck {
    /// The A = B lines of the verify reports: each kind of difference, then
    /// identical spikes or the first spike difference with both executions'
    /// states.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.overflow_count_mismatch {
            writeln!(
                f,
                "A ≠ B: the fixed reference and the emulator count different overflows: first layer `{}`, register \
                 {}: reference {} / emulator {}; {} (layer, register) counts differ",
                c.layer, c.register, c.a, c.b, c.differing
            )?;
        }
        if let Some(d) = &self.first_overflow_mismatch {
            let show = |e: &Option<OverflowEvent>| e.as_ref().map_or_else(|| "none".to_string(), |e| e.to_string());
            writeln!(
                f,
                "A ≠ B: the first overflows differ: reference: {}; emulator: {}",
                show(&d.a),
                show(&d.b)
            )?;
        }
        if let Some(v) = &self.voltage_mismatch {
            writeln!(
                f,
                "A ≠ B: read-out voltages differ: first in layer `{}`, neuron {}, step {}, sample {}: reference {} / \
                 emulator {}; {} voltages differ",
                v.layer, v.neuron, v.step, v.batch_item, v.a, v.b, v.differing
            )?;
        }
        if let Some(r) = &self.readout_mismatch {
            writeln!(
                f,
                "A ≠ B: host readout values differ: first in readout `{}`, element {}, step {}, sample {}: \
                 reference {:e} / emulator {:e}; {} values differ",
                r.readout, r.element, r.step, r.batch_item, r.a, r.b, r.differing
            )?;
        }
        let others = self.voltage_mismatch.is_some()
            || self.readout_mismatch.is_some()
            || self.overflow_count_mismatch.is_some()
            || self.first_overflow_mismatch.is_some();
        match &self.mismatch {
            None if others => writeln!(
                f,
                "spikes: fixed-point reference and emulated artifact identical ({} layers, {} spike bits)",
                self.layers, self.bits
            )?,
            None if self.readouts > 0 => writeln!(
                f,
                "A = B: fixed-point reference and emulated artifact identical ({} layers, {} spike bits, {} read-out \
                 voltages, {} host readout values of {} readouts, bit for bit)",
                self.layers, self.bits, self.voltages, self.readout_values, self.readouts
            )?,
            None if self.voltages > 0 => writeln!(
                f,
                "A = B: fixed-point reference and emulated artifact identical ({} layers, {} spike bits, {} read-out \
                 voltages)",
                self.layers, self.bits, self.voltages
            )?,
            None => writeln!(
                f,
                "A = B: fixed-point reference and emulated artifact identical ({} layers, {} spike bits)",
                self.layers, self.bits
            )?,
            Some(m) => writeln!(
                f,
                "A ≠ B: first difference in layer `{}`, neuron {}, step {}, sample {}: reference {} / emulator {} (state q,u,v A {:?} B {:?}); {} bits differ",
                m.layer,
                m.neuron,
                m.step,
                m.batch_item,
                if m.a_spiked { "spiked" } else { "silent" },
                if m.b_spiked { "spiked" } else { "silent" },
                self.state_a,
                self.state_b,
                m.differing_bits
            )?,
        }
        if self.mismatch.is_none()
            && others
            && let (Some(a), Some(b)) = (self.state_a, self.state_b)
        {
            writeln!(f, "  state q,u,v at the first difference: A {a:?} B {b:?}")?;
        }
        Ok(())
    }
}

/// Runs the fixed-point reference (A) and the emulated artifact (B) of a
/// compiled model for `run_steps` and compares their traces; on a
/// difference, probes both at its neuron and step.
pub fn run_a_and_b(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
) -> Result<(FixedResult, EmuResult, ExactCheck), Error> {
    run_a_and_b_with(compiled, target, stim, run_steps, strict, false)
}

/// [`run_a_and_b`]; with `host_spikes`, `stim` holds recorded spikes of the
/// host layer: the fixed reference runs the model with the host population
/// replaced by an event input ([`QModel::with_host_spikes_input`]) and the
/// emulator feeds them in place of the artifact's host layer
/// ([`Emulator::run_host_spikes`]); A = B then covers every chip layer (the
/// host layer is an input of both, not an execution: B's record of it is
/// left out of the comparison, and kept in the returned result).
///
/// [`QModel::with_host_spikes_input`]: nmc_ir::qmodel::QModel::with_host_spikes_input
pub fn run_a_and_b_with(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
    host_spikes: bool,
) -> Result<(FixedResult, EmuResult, ExactCheck), Error> {
    let cut;
    let q = if host_spikes {
        cut = compiled
            .qmodel
            .with_host_spikes_input()
            .map_err(nmc_reference::FixedError::from)?;
        &cut
    } else {
        &compiled.qmodel
    };
    let fixed = nmc_reference::simulate_fixed(
        q,
        target,
        stim,
        &FixedOptions {
            steps: Some(run_steps),
            strict,
            probe: None,
        },
    )?;
    let emu = Emulator::new(&compiled.artifact)?;
    let input = emu_input(stim);
    let mut em: EmuResult = if host_spikes {
        emu.run_host_spikes(
            &input,
            run_steps,
            &RunOptions {
                strict,
                ..Default::default()
            },
            &|| {},
        )?
    } else {
        emu.run_opts(
            std::slice::from_ref(&input),
            run_steps,
            &RunOptions {
                strict,
                ..Default::default()
            },
            &|| {},
        )?
    };
    // A = B.
    let host = match emu.host_layer() {
        Some((k, _, _)) if host_spikes => Some(k),
        _ => None,
    };
    let given = host.map(|k| em.trace.layers.remove(k));
    let check = ExactCheck::of(&fixed.trace, &em.trace);
    if let (Some(k), Some(l)) = (host, given) {
        em.trace.layers.insert(k, l);
    }
    let mut exact = check?;
    if let Some((layer, item, step, neuron)) = exact.probe_point() {
        let (layer, item, step, neuron) = (layer.to_string(), item, step, neuron);
        exact.state_a = probe_a(q, target, stim, &layer, item, step, neuron);
        let li = compiled.artifact.layers.iter().position(|l| l.name == layer);
        if !host_spikes
            && let Some(li) = li
            && let Ok(pb) = emu.probe(std::slice::from_ref(&input), item, step + 1, li, neuron)
            && let Some(s) = pb.get(step)
        {
            exact.state_b = Some((s.q, s.u, s.v));
        }
    }
    Ok((fixed, em, exact))
}

/// A's state (q, u, v) of neuron `neuron` of population `layer` at step
/// `step` of item `item`, from a probed run of the fixed reference.
fn probe_a(
    q: &nmc_ir::qmodel::QModel,
    target: &Target,
    stim: &Stimulus,
    layer: &str,
    item: usize,
    step: usize,
    neuron: usize,
) -> Option<(i64, i64, i64)> {
    let p = q.populations.iter().position(|p| p.name == layer)?;
    let fa = nmc_reference::simulate_fixed(
        q,
        target,
        stim,
        &FixedOptions {
            steps: Some(step + 1),
            strict: false,
            probe: Some((p, neuron, item)),
        },
    )
    .ok()?;
    let s = fa.probe.get(step)?;
    Some((s.q, s.u, s.v))
}
