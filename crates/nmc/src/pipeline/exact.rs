//! The A = B check: the fixed-point reference (A) and the emulated artifact
//! (B) of a compiled model, run and compared bit for bit (spikes, overflow
//! counts, read-out voltages).

use super::{Compiled, emu_input, spikes_of};
use crate::Error;
use crate::compare::{Mismatch, Spikes, first_mismatch};
use nmc_emu::{EmuResult, Emulator, RunOptions};
use nmc_reference::{FixedOptions, Stimulus};
use nmc_target::Target;
use serde::Serialize;

/// The A = B check.
#[derive(Debug, Clone, Serialize)]
pub struct ExactCheck {
    /// True when every spike of every layer agrees.
    pub equal: bool,
    /// Layers compared.
    pub layers: usize,
    /// (item, step, neuron) bits compared.
    pub bits: u64,
    /// The first mismatch, if any.
    pub mismatch: Option<Mismatch>,
    /// Whether both executions count the same wraps and clips per layer.
    pub overflow_counts_equal: bool,
    /// States of the mismatching neuron at the mismatch step: (q, u, v) of
    /// A and of B.
    pub state_a: Option<(i64, i64, i64)>,
    /// See `state_a`.
    pub state_b: Option<(i64, i64, i64)>,
    /// Integer voltages of non-spiking (read-out) populations compared
    /// (item × step × neuron values).
    pub voltages: u64,
    /// The first read-out voltage that differs, if any.
    pub voltage_mismatch: Option<VoltageMismatch>,
}

/// The first read-out voltage on which the fixed reference and the emulator
/// disagree (or a read-out population recorded by only one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoltageMismatch {
    /// Population name.
    pub layer: String,
    /// Batch item.
    pub batch_item: usize,
    /// Step.
    pub step: usize,
    /// Neuron index (row-major over the population shape).
    pub neuron: usize,
    /// The fixed reference's voltage (`None`: it recorded none).
    pub a: Option<i64>,
    /// The emulator's voltage (`None`: it recorded none).
    pub b: Option<i64>,
    /// Voltages that differ over all read-out populations.
    pub differing: u64,
}

/// Compares the recorded voltages of every non-spiking population: A = B
/// covers them as it covers spike bits. Returns (values compared, the
/// earliest difference in step order).
fn compare_voltages(fixed: &nmc_reference::FixedResult, em: &EmuResult) -> (u64, Option<VoltageMismatch>) {
    let (batch, steps) = (fixed.batch, fixed.steps);
    let mut compared = 0u64;
    let mut differing = 0u64;
    let mut first: Option<VoltageMismatch> = None;
    let note = |m: VoltageMismatch, first: &mut Option<VoltageMismatch>| {
        if first.as_ref().is_none_or(|f| m.step < f.step) {
            *first = Some(m);
        }
    };
    let names: Vec<&str> = fixed
        .layers
        .iter()
        .filter(|l| l.voltages.is_some())
        .map(|l| l.name.as_str())
        .chain(em.voltages.iter().map(|v| v.name.as_str()))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            continue;
        }
        let a = fixed.layer(name).and_then(|l| l.voltages.as_deref());
        let b = em.voltages.iter().find(|v| v.name == name).map(|v| v.v.as_slice());
        let n = fixed.layer(name).map_or(0, |l| l.neurons());
        match (a, b) {
            (Some(a), Some(b)) if a.len() == b.len() => {
                compared += a.len() as u64;
                if let Some(k) = a.iter().zip(b).position(|(x, y)| x != y) {
                    differing += a.iter().zip(b).filter(|(x, y)| x != y).count() as u64;
                    let n = n.max(1);
                    let (bt, i) = (k / n, k % n);
                    note(
                        VoltageMismatch {
                            layer: name.to_string(),
                            batch_item: bt / steps.max(1),
                            step: bt % steps.max(1),
                            neuron: i,
                            a: Some(a[k]),
                            b: Some(b[k]),
                            differing: 0,
                        },
                        &mut first,
                    );
                }
            }
            (a, b) => {
                // Recorded by one side only, or of different lengths.
                differing += (batch * steps * n.max(1)) as u64;
                note(
                    VoltageMismatch {
                        layer: name.to_string(),
                        batch_item: 0,
                        step: 0,
                        neuron: 0,
                        a: a.and_then(|v| v.first().copied()),
                        b: b.and_then(|v| v.first().copied()),
                        differing: 0,
                    },
                    &mut first,
                );
            }
        }
    }
    (
        compared,
        first.map(|mut m| {
            m.differing = differing;
            m
        }),
    )
}

impl std::fmt::Display for ExactCheck {
    /// The A = B lines of the verify reports: overflow-count agreement, then
    /// identical or the first difference with both executions' states.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.overflow_counts_equal {
            writeln!(
                f,
                "A ≠ B: the fixed reference and the emulator count different overflows"
            )?;
        }
        if let Some(v) = &self.voltage_mismatch {
            let show = |x: Option<i64>| x.map_or_else(|| "not recorded".to_string(), |x| x.to_string());
            writeln!(
                f,
                "A ≠ B: read-out voltages differ: first in layer `{}`, neuron {}, step {}, sample {}: reference {} / \
                 emulator {}; {} voltages differ",
                v.layer,
                v.neuron,
                v.step,
                v.batch_item,
                show(v.a),
                show(v.b),
                v.differing
            )?;
        }
        match &self.mismatch {
            None if self.voltage_mismatch.is_some() => writeln!(
                f,
                "spikes: fixed-point reference and emulated artifact identical ({} layers, {} spike bits)",
                self.layers, self.bits
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
        Ok(())
    }
}

/// B's layers as spike views, in A's (the fixed reference's) layer order.
pub(super) fn b_views<'a>(
    fixed: &nmc_reference::FixedResult,
    em: &'a EmuResult,
    batch: usize,
    steps: usize,
) -> Result<Vec<Spikes<'a>>, Error> {
    fixed
        .layers
        .iter()
        .map(|l| match em.layers.iter().find(|e| e.name == l.name) {
            Some(e) => Ok(spikes_of(&e.name, e.shape.iter().product(), batch, steps, &e.spikes)),
            None => Err(Error::Structure(format!("the artifact has no layer `{}`", l.name))),
        })
        .collect()
}

/// Runs the fixed-point reference (A) and the emulated artifact (B) of a
/// compiled model for `run_steps` and compares them bit for bit; on a
/// mismatch, probes both at the first differing neuron and step.
pub fn run_a_and_b(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
) -> Result<(nmc_reference::FixedResult, EmuResult, ExactCheck), Error> {
    run_a_and_b_with(compiled, target, stim, run_steps, strict, false)
}

/// [`run_a_and_b`]; with `host_spikes`, `stim` holds recorded spikes of the
/// host layer: the fixed reference runs the model with the host population
/// replaced by an event input ([`QModel::with_host_spikes_input`]) and the
/// emulator feeds them in place of the artifact's host layer
/// ([`Emulator::run_host_spikes`]); A = B then covers every chip layer.
///
/// [`QModel::with_host_spikes_input`]: nmc_ir::qmodel::QModel::with_host_spikes_input
pub fn run_a_and_b_with(
    compiled: &Compiled,
    target: &Target,
    stim: &Stimulus,
    run_steps: usize,
    strict: bool,
    host_spikes: bool,
) -> Result<(nmc_reference::FixedResult, EmuResult, ExactCheck), Error> {
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
    let em: EmuResult = if host_spikes {
        emu.run_host_spikes(&input, run_steps, &RunOptions { strict }, &|| {})?
    } else {
        emu.run_opts(std::slice::from_ref(&input), run_steps, &RunOptions { strict }, &|| {})?
    };
    let batch = stim.batch();
    // A = B.
    let a: Vec<Spikes<'_>> = fixed
        .layers
        .iter()
        .map(|l| spikes_of(&l.name, l.shape.numel(), batch, run_steps, &l.spikes))
        .collect();
    let b = b_views(&fixed, &em, batch, run_steps)?;
    let mismatch = first_mismatch(&a, &b).map_err(Error::Structure)?;
    let (mut state_a, mut state_b) = (None, None);
    if let Some(m) = &mismatch {
        let p = q.populations.iter().position(|p| p.name == m.layer).unwrap_or(0);
        if let Ok(fa) = nmc_reference::simulate_fixed(
            q,
            target,
            stim,
            &FixedOptions {
                steps: Some(m.step + 1),
                strict: false,
                probe: Some((p, m.neuron, m.batch_item)),
            },
        ) && let Some(s) = fa.probe.get(m.step)
        {
            state_a = Some((s.q, s.u, s.v));
        }
        let li = compiled
            .artifact
            .layers
            .iter()
            .position(|l| l.name == m.layer)
            .unwrap_or(0);
        if !host_spikes
            && let Ok(pb) = emu.probe(std::slice::from_ref(&input), m.batch_item, m.step + 1, li, m.neuron)
            && let Some(s) = pb.get(m.step)
        {
            state_b = Some((s.q, s.u, s.v));
        }
    }
    let bits: u64 = a.iter().map(|s| (s.n * s.batch * s.steps) as u64).sum();
    let overflow_counts_equal = fixed.overflows.iter().all(|o| {
        let e = em.overflows.iter().find(|e| e.layer == o.population);
        e.map_or(o.total() == 0, |e| {
            (e.q_wraps, e.u_wraps, e.v_clips) == (o.q_wraps, o.u_wraps, o.v_clips)
        })
    });
    let (voltages, voltage_mismatch) = compare_voltages(&fixed, &em);
    let exact = ExactCheck {
        equal: mismatch.is_none() && overflow_counts_equal && voltage_mismatch.is_none(),
        voltages,
        voltage_mismatch,
        overflow_counts_equal,
        layers: a.len(),
        bits,
        mismatch,
        state_a,
        state_b,
    };
    Ok((fixed, em, exact))
}
