//! A chip's **update rule** in one vocabulary for every family.
//!
//! Every target file with a public time step states its rule in a `rule:`
//! section ([`Rule`]): the neuron dynamics, when and how the current takes
//! its input, the decay kind, the overflow of each register and when it is
//! applied, the threshold comparison, the reset, where the weight exponent
//! and the bias enter, whether there is a refractory period, and what a
//! spike carries. The numbers of the rule (register widths, spikes per
//! step, latencies per hop, payload bits) stay in the sections of each
//! family's file that already hold them; [`Summary`] puts the two side by
//! side, and [`render`] prints the summaries of several targets as one
//! table (`nmc targets --rules`).
//!
//! A backend does not interpret a rule field at run time: it states the
//! rule its hot loops implement ([`Rule::differences`] against that), and a
//! file that states another rule is refused with the field, the value the
//! file gives and the value the backend runs. The rule selects the backend
//! (its family) once per command; within a backend the loops are
//! monomorphised, so no rule field is read per event.
//!
//! Delta and sigma-delta neurons (Loihi 2) are fixed by name (docs/loihi2.md
//! §4–5); the other fields describe a chip's integrate-and-fire neuron.

use serde::{Deserialize, Serialize};

mod summary;

pub use summary::{Latency, Numbers, Summary, render};

/// The `rule:` section of a target file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "rule")]
pub struct Rule {
    /// The neuron dynamics the cores run.
    pub neurons: Vec<Dynamics>,
    /// When the current (synaptic state) takes this step's input.
    pub current_input: CurrentInput,
    /// How a state decays.
    pub decay: Decay,
    /// Register overflow, and when it is applied.
    pub overflow: Overflow,
    /// The spike condition.
    pub threshold: Threshold,
    /// What a spike does to the voltage.
    pub reset: Reset,
    /// Whether a neuron is held after a spike for a number of steps.
    pub refractory: bool,
    /// Where the weight exponent (or shift) applies.
    pub weight_exponent: WeightExponent,
    /// Where the bias enters.
    pub bias: Bias,
    /// What a spike carries to its synapses.
    pub payload: Payload,
}

/// One neuron dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dynamics {
    /// Current-based LIF: a synaptic current (one or more states) integrated
    /// into a voltage, both decaying; IF and LIF are special cases.
    CubaLif,
    /// Lava's `Delta`: sends the change of its input once it exceeds the
    /// threshold, keeping the residue (docs/loihi2.md §4).
    Delta,
    /// Lava's `SigmaDelta`: integrates graded deltas, applies ReLU, and
    /// sends the change (docs/loihi2.md §5).
    SigmaDelta,
}

/// When the current takes this step's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CurrentInput {
    /// `u = decay(u) + input` (Loihi 1 and 2).
    DecayThenAdd,
    /// Deliveries are added first, then the state decays (Xylo: a synapse
    /// with `dash_syn = 0` clears its state before the voltage sees it).
    AddThenDecay,
}

/// How a state decays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decay {
    /// `x·(2^bits − d) >> bits`, the product rounded toward 0 (Loihi).
    Multiplicative,
    /// `x − (x >> dash)`, an arithmetic shift (floor), at least one step of
    /// 1 toward 0 while `x ≠ 0` (Xylo).
    BitShift,
}

/// Register overflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "rule.overflow")]
pub struct Overflow {
    /// When the bounds below are applied.
    pub applied: Applied,
    /// The input accumulator (the sum of one step's weights).
    pub accumulator: Register,
    /// The current (synaptic state).
    pub current: Register,
    /// The voltage.
    pub voltage: Register,
}

/// When overflow bounds are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    /// Once per register per step, on the step's result.
    PerStep,
    /// After every single addition, in delivery order (Xylo's `safe_add`).
    PerEvent,
}

/// What a register does at its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Register {
    /// Two's-complement wrap to the register's width.
    Wrap,
    /// One correction by the register's span per step (Lava's u: a value
    /// more than one span out stays out of range).
    WrapOnce,
    /// Clipped to the register's bounds.
    Clip,
    /// Saturated at the bounds.
    Saturate,
    /// No bound below the host integer's (Lava's int32 accumulator).
    Unbounded,
    /// The chip has no such register (Xylo adds each event to the current).
    Absent,
}

/// The spike condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Threshold {
    /// `v > vth`.
    Greater,
    /// `v ≥ vth`.
    GreaterEqual,
}

/// What a spike does to the voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reset {
    /// `v ← 0`.
    Zero,
    /// `v ← v − vth`, repeated while `v` is still at threshold, up to the
    /// chip's spikes per step.
    Subtract,
}

/// Where the weight exponent applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightExponent {
    /// To each weight before the sum (Loihi 1's `w_mant·2^(6+exp)`, Xylo's
    /// `w << shift`).
    PerWeight,
    /// To each connection's sum, with floor (Lava's Loihi 2).
    OnSum,
}

/// Where the bias enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bias {
    /// Added to the current in a temporary of the current's width, which
    /// then enters the voltage (Loihi 1: `u2 = u + bias`).
    IntoCurrent,
    /// Added to the voltage (Lava's Loihi 2, Xylo).
    IntoVoltage,
}

/// What a spike carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// A spike is 1.
    Binary,
    /// A spike count per step, each count delivering the weight that many
    /// times (Xylo).
    Count,
    /// An integer payload multiplied into the weight (Loihi 2).
    Graded,
}

/// One field where a stated rule differs from the one a backend runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The field's path in the file, e.g. `rule.reset`.
    pub field: &'static str,
    /// What the file states.
    pub stated: String,
    /// What the backend runs.
    pub runs: String,
}

impl Difference {
    /// The message a backend refuses the file with: `runner` names who runs
    /// the other rule (e.g. "the xylo-iaf family (nmc-xylo, XyloSim's step)").
    pub fn refusal(&self, runner: &str) -> String {
        format!(
            "the file states {}, but {runner} runs {}; `nmc targets --rules` shows the rule of every built-in family",
            self.stated, self.runs
        )
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the file states {}, the backend runs {}",
            self.field, self.stated, self.runs
        )
    }
}

impl Rule {
    /// Every field where `self` (what a file states) differs from `runs`
    /// (what a backend implements), in file order. Empty: the backend runs
    /// exactly the stated rule.
    pub fn differences(&self, runs: &Rule) -> Vec<Difference> {
        let mut out = Vec::new();
        // One field: its path in the file and its place in the struct.
        macro_rules! field {
            ($path:literal, $($f:ident).+) => {
                let (stated, run) = (format!("{:?}", self.$($f).+), format!("{:?}", runs.$($f).+));
                if stated != run {
                    out.push(Difference {
                        field: $path,
                        stated,
                        runs: run,
                    });
                }
            };
        }
        field!("rule.neurons", neurons);
        field!("rule.current_input", current_input);
        field!("rule.decay", decay);
        field!("rule.overflow.applied", overflow.applied);
        field!("rule.overflow.accumulator", overflow.accumulator);
        field!("rule.overflow.current", overflow.current);
        field!("rule.overflow.voltage", overflow.voltage);
        field!("rule.threshold", threshold);
        field!("rule.reset", reset);
        field!("rule.refractory", refractory);
        field!("rule.weight_exponent", weight_exponent);
        field!("rule.bias", bias);
        field!("rule.payload", payload);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn loihi() -> Rule {
        Rule {
            neurons: vec![Dynamics::CubaLif],
            current_input: CurrentInput::DecayThenAdd,
            decay: Decay::Multiplicative,
            overflow: Overflow {
                applied: Applied::PerStep,
                accumulator: Register::Wrap,
                current: Register::Wrap,
                voltage: Register::Clip,
            },
            threshold: Threshold::Greater,
            reset: Reset::Zero,
            refractory: true,
            weight_exponent: WeightExponent::PerWeight,
            bias: Bias::IntoCurrent,
            payload: Payload::Binary,
        }
    }

    #[test]
    fn equal_rules_have_no_difference_and_each_field_is_named() {
        let r = loihi();
        assert!(r.differences(&r).is_empty());
        let mut s = r.clone();
        s.reset = Reset::Subtract;
        s.overflow.voltage = Register::Saturate;
        let d = s.differences(&r);
        assert_eq!(
            d.iter().map(|d| d.field).collect::<Vec<_>>(),
            ["rule.overflow.voltage", "rule.reset"]
        );
        assert_eq!(d[1].stated, "Subtract");
        assert_eq!(d[1].runs, "Zero");
        assert_eq!(
            d[1].to_string(),
            "rule.reset: the file states Subtract, the backend runs Zero"
        );
        assert!(
            d[1].refusal("family f")
                .starts_with("the file states Subtract, but family f runs Zero; ")
        );
    }

    #[test]
    fn the_section_reads_from_ron_and_refuses_unknown_fields() {
        let text = "(neurons: [CubaLif], current_input: DecayThenAdd, decay: Multiplicative, \
                    overflow: (applied: PerStep, accumulator: Wrap, current: Wrap, voltage: Clip), \
                    threshold: Greater, reset: Zero, refractory: true, weight_exponent: PerWeight, \
                    bias: IntoCurrent, payload: Binary)";
        assert_eq!(ron::from_str::<Rule>(text).unwrap(), loihi());
        let extra = text.replace("payload: Binary)", "payload: Binary, spikes: 2)");
        assert!(
            ron::from_str::<Rule>(&extra)
                .unwrap_err()
                .to_string()
                .contains("spikes")
        );
    }
}
