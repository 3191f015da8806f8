//! # nmc-trace — what an integer execution produces, and how two compare
//!
//! The fixed-point reference (`nmc_reference::simulate_fixed`, spikes A) and
//! the emulator (`nmc_emu::Emulator`, spikes B) are two independent
//! implementations of one integer semantics. Both return a [`Trace`]:
//!
//! * per layer ([`LayerTrace`], in the model's population order — the
//!   artifact's layer order, which emission keeps): its spike bits, the
//!   integer voltages of a non-spiking (read-out) layer, and its wraps and
//!   clips per [`Register`] ([`OverflowCounts`]);
//! * the run's first overflow ([`OverflowEvent`]: the earliest by step, then
//!   batch item, layer, neuron, register in step order), recorded in
//!   non-strict runs too; in strict mode the same event is the error.
//!
//! * per host readout ([`ReadoutTrace`], in the model's readout order): its
//!   `f64` values per step, compared **by bits** (both executions compute
//!   them with the same operations in the same order);
//!
//! A = B is therefore `a == b`, and [`Trace::first_difference`] (or the
//! whole [`Comparison`] of [`Trace::compare`]) says where they part: the
//! structure (batch, steps, layer names, order, shapes, kinds), a spike bit,
//! a read-out voltage, the first overflow, or an overflow count.
//! `a == b` exactly when [`Trace::first_difference`] is `None`.
//!
//! Bits and voltages are indexed `(b·steps + t)·n + i` for batch item `b`,
//! step `t` and neuron `i` (row-major over the layer shape).

mod diff;

pub use diff::{
    Comparison, CountDifference, Difference, FirstOverflowDifference, ReadoutDifference, SpikeDifference,
    StructureDifference, VoltageDifference,
};

use bitvec::vec::BitVec;
use serde::{Serialize, Serializer};
use std::fmt::{self, Write as _};

/// A state register of the integer compartment step, as overflow reports
/// name it. The variants are in step order (`q`, then `u`, `u + bias`, `v`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Register {
    /// `q`, the input accumulator (the target's `accumulator` register).
    Accumulator,
    /// `u`, the current (the target's `current` register).
    Current,
    /// `u + bias` (also the target's `current` register).
    CurrentBias,
    /// `v`, the voltage: its register and the neuron's `[vmin, vmax]`.
    Voltage,
}

impl Register {
    /// Every register, in step order.
    pub const ALL: [Register; 4] = [
        Register::Accumulator,
        Register::Current,
        Register::CurrentBias,
        Register::Voltage,
    ];

    /// Short name: `q`, `u`, `u+bias` or `v`.
    pub fn name(self) -> &'static str {
        match self {
            Register::Accumulator => "q",
            Register::Current => "u",
            Register::CurrentBias => "u+bias",
            Register::Voltage => "v",
        }
    }
}

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Serialised by its short name (`"q"`, `"u"`, `"u+bias"`, `"v"`), as the
/// text reports print it.
impl Serialize for Register {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Wraps (or clips) of each register of one layer, summed over the run and
/// the batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct OverflowCounts {
    /// Wraps (or clips) of `q` to the accumulator register.
    pub q: u64,
    /// Wraps (or clips) of `u` to the current register.
    pub u: u64,
    /// Wraps (or clips) of `u + bias` to the current register.
    pub u_bias: u64,
    /// Clips of `v` to its register, `vmax` or the target's widest `vmin`.
    pub v: u64,
}

impl OverflowCounts {
    /// The count of `r`.
    pub fn get(&self, r: Register) -> u64 {
        match r {
            Register::Accumulator => self.q,
            Register::Current => self.u,
            Register::CurrentBias => self.u_bias,
            Register::Voltage => self.v,
        }
    }

    /// One more wrap or clip of `r`.
    #[inline]
    pub fn count(&mut self, r: Register) {
        *self.slot(r) += 1;
    }

    /// Adds `other`'s counts (of another batch item or chunk).
    pub fn add(&mut self, other: &OverflowCounts) {
        for r in Register::ALL {
            *self.slot(r) += other.get(r);
        }
    }

    fn slot(&mut self, r: Register) -> &mut u64 {
        match r {
            Register::Accumulator => &mut self.q,
            Register::Current => &mut self.u,
            Register::CurrentBias => &mut self.u_bias,
            Register::Voltage => &mut self.v,
        }
    }

    /// Wraps of `q` (the reports' `q wraps`).
    pub fn q_wraps(&self) -> u64 {
        self.q
    }

    /// Wraps of `u` and of `u + bias`, both in the current register (the
    /// reports' `u wraps`).
    pub fn u_wraps(&self) -> u64 {
        self.u + self.u_bias
    }

    /// Clips of `v` (the reports' `v clips`).
    pub fn v_clips(&self) -> u64 {
        self.v
    }

    /// Every wrap and clip.
    pub fn total(&self) -> u64 {
        self.q + self.u + self.u_bias + self.v
    }
}

/// One wrap or clip: where and when, and the values before and after the
/// register's rule. A trace records its run's first; in strict mode it is
/// the error of both executions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[error(
    "overflow in layer `{layer}`, neuron {neuron}, step {step}, batch item {batch}: register {register} would be \
     {exact}, the target stores {stored}"
)]
pub struct OverflowEvent {
    /// Layer (population) name.
    pub layer: String,
    /// Neuron index within the layer (row-major over its shape).
    pub neuron: usize,
    /// Step.
    pub step: usize,
    /// Batch item.
    pub batch: usize,
    /// The register.
    pub register: Register,
    /// The exact value before the register's rule (and, for `v`, before the
    /// `[vmin, vmax]` clip).
    pub exact: i128,
    /// What the register holds afterwards (for `v`: after its register and
    /// the counted bounds, before a designed floor).
    pub stored: i64,
}

/// The record of one layer over a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTrace {
    /// Layer (population) name.
    pub name: String,
    /// Layer shape (its neurons are row-major over it).
    pub shape: Vec<usize>,
    /// One bit per (item, step, neuron) at `(b·steps + t)·n + i`; all 0 for
    /// a non-spiking layer.
    pub spikes: BitVec,
    /// For a non-spiking (read-out) layer: `v` after each step, at
    /// `(b·steps + t)·n + i`; `None` for a spiking layer.
    pub voltages: Option<Vec<i64>>,
    /// Wraps and clips per register.
    pub overflows: OverflowCounts,
}

impl LayerTrace {
    /// Number of neurons.
    pub fn neurons(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the layer spikes (a non-spiking layer records voltages).
    pub fn spiking(&self) -> bool {
        self.voltages.is_none()
    }

    /// Total spikes over batch, steps and neurons.
    pub fn total(&self) -> u64 {
        self.spikes.count_ones() as u64
    }
}

/// The values of one host readout over a run (a non-spiking linear output
/// layer computed on the host in `f64` from chip spikes).
///
/// Equality compares the values **by bits** (`f64::to_bits`), so `==` is
/// an equivalence (a NaN equals itself, `0.0` and `-0.0` differ) and A = B
/// means the same bits.
#[derive(Clone, Debug)]
pub struct ReadoutTrace {
    /// Readout name.
    pub name: String,
    /// Per-step shape (its elements are row-major over it).
    pub shape: Vec<usize>,
    /// The value after each step, at `(b·steps + t)·n + i`.
    pub values: Vec<f64>,
}

impl ReadoutTrace {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

impl PartialEq for ReadoutTrace {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.shape == other.shape
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for ReadoutTrace {}

/// What an integer execution produces (module documentation).
///
/// Invariant of a trace a producer returns (fields are public for tests and
/// for consumers that reorder; [`Trace::compare`] reports a violation as a
/// [`StructureDifference::Length`] and never panics): every layer holds
/// `batch · steps · neurons` spike bits and, when non-spiking, as many
/// voltages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Samples.
    pub batch: usize,
    /// Steps.
    pub steps: usize,
    /// One record per layer, in population order.
    pub layers: Vec<LayerTrace>,
    /// One record per host readout, in the model's readout order.
    pub readouts: Vec<ReadoutTrace>,
    /// The earliest wrap or clip of the run (by step, batch item, layer,
    /// neuron, register in step order), if any.
    pub first_overflow: Option<OverflowEvent>,
}

impl Trace {
    /// The index of layer `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.layers.iter().position(|l| l.name == name)
    }

    /// The layer `name`.
    pub fn layer(&self, name: &str) -> Option<&LayerTrace> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The host readout `name`.
    pub fn host_readout(&self, name: &str) -> Option<&ReadoutTrace> {
        self.readouts.iter().find(|r| r.name == name)
    }

    /// True when neuron `i` of layer `k` spiked at step `t` of item `b`
    /// (false out of range).
    pub fn spiked(&self, k: usize, b: usize, t: usize, i: usize) -> bool {
        self.index(k, b, t, i)
            .and_then(|at| self.layers[k].spikes.get(at).map(|bit| *bit))
            .unwrap_or(false)
    }

    /// The voltage of neuron `i` of the non-spiking layer `k` after step `t`
    /// of item `b` (`None` out of range or for a spiking layer).
    pub fn voltage(&self, k: usize, b: usize, t: usize, i: usize) -> Option<i64> {
        let at = self.index(k, b, t, i)?;
        self.layers[k].voltages.as_ref()?.get(at).copied()
    }

    fn index(&self, k: usize, b: usize, t: usize, i: usize) -> Option<usize> {
        let n = self.layers.get(k)?.neurons();
        (b < self.batch && t < self.steps && i < n).then(|| (b * self.steps + t) * n + i)
    }

    /// Wraps and clips over all layers.
    pub fn total_overflows(&self) -> u64 {
        self.layers.iter().map(|l| l.overflows.total()).sum()
    }

    /// The spike train of item `b` as text: one line `t: layer: i j k` per
    /// step and layer with at least one spike, in step then layer order,
    /// neuron indices ascending.
    pub fn spike_listing(&self, b: usize) -> String {
        let mut s = String::new();
        for t in 0..self.steps {
            for (k, l) in self.layers.iter().enumerate() {
                let ids: Vec<String> = (0..l.neurons())
                    .filter(|&i| self.spiked(k, b, t, i))
                    .map(|i| i.to_string())
                    .collect();
                if !ids.is_empty() {
                    let _ = writeln!(s, "{t}: {}: {}", l.name, ids.join(" "));
                }
            }
        }
        s
    }

    /// Everything in which `other` (B) differs from `self` (A).
    pub fn compare(&self, other: &Trace) -> Comparison {
        diff::compare(self, other)
    }

    /// The earliest difference between `self` (A) and `other` (B), `None`
    /// exactly when `self == other` (see [`Comparison::first`] for the order).
    pub fn first_difference(&self, other: &Trace) -> Option<Difference> {
        self.compare(other).first()
    }
}
