//! A target's rule with its numbers, and the table that compares targets.

use crate::{Applied, Bias, CurrentInput, Decay, Payload, Register, Reset, Rule, Threshold, WeightExponent};

/// Steps a spike takes per hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    /// Host input of step t is used by the first chip layer at t + this.
    pub host_to_chip: u32,
    /// A spike of step t reaches the next layer at t + this.
    pub chip_to_chip: u32,
    /// A recurrent spike of step t is used at t + this.
    pub recurrent: u32,
    /// A chip spike of step t is seen by the host at t + this (`None`: the
    /// target runs no host readout).
    pub chip_to_host: Option<u32>,
}

/// The numbers of a rule, from the sections of a family's file that hold
/// them (widths are magnitude bits, sign excluded; `None`: no bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbers {
    /// The accumulator's magnitude bits.
    pub accumulator_bits: Option<u32>,
    /// The current's magnitude bits (Lava's u: the span of its one wrap).
    pub current_bits: Option<u32>,
    /// The voltage's magnitude bits.
    pub voltage_bits: Option<u32>,
    /// Bits of a decay constant (12 for Loihi's multiplicative decays, the
    /// dash width for Xylo's shifts).
    pub decay_bits: u32,
    /// Synaptic states per neuron.
    pub synaptic_states: u32,
    /// Spikes per neuron per step, as the chip caps them (e.g. `31 hidden,
    /// 1 output`).
    pub spikes_per_step: String,
    /// Longest refractory period in steps (0: none).
    pub refractory_steps: u32,
    /// The stored weights' range (before the exponent or shift).
    pub weight_range: (i64, i64),
    /// Range of the weight exponent (or shift).
    pub weight_exponent: (i32, i32),
    /// Payload bits a spike may carry beyond "it fired" (0 for binary).
    pub payload_bits: u32,
    /// Steps per hop.
    pub latency: Latency,
}

/// One target's rule and numbers, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The target's name.
    pub name: String,
    /// Its family.
    pub family: String,
    /// What its file states (`None`: the step is not public).
    pub rule: Option<Rule>,
    /// The rule's numbers (`None` with `rule`).
    pub numbers: Option<Numbers>,
}

fn register(r: Register, bits: Option<u32>) -> String {
    let bits = match bits {
        Some(b) => format!(", {b} bits + sign"),
        None => String::new(),
    };
    match r {
        Register::Wrap => format!("wrap{bits}"),
        Register::WrapOnce => format!("one wrap per step{bits}"),
        Register::Clip => format!("clip{bits}"),
        Register::Saturate => format!("saturate{bits}"),
        Register::Unbounded => "unbounded (int32)".to_string(),
        Register::Absent => "none (events add to the current)".to_string(),
    }
}

impl Summary {
    /// The rows of this target's column: (field, value), in the order of
    /// [`ROWS`].
    pub fn cells(&self) -> Vec<String> {
        let (Some(r), Some(n)) = (&self.rule, &self.numbers) else {
            let mut v = vec![self.family.clone(), "not public (placement only)".to_string()];
            v.resize(ROWS.len(), "-".to_string());
            return v;
        };
        let neurons = r
            .neurons
            .iter()
            .map(|d| format!("{d:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let current_input = match r.current_input {
            CurrentInput::DecayThenAdd => "decay, then add input",
            CurrentInput::AddThenDecay => "add input, then decay",
        };
        let decay = match r.decay {
            Decay::Multiplicative => format!("multiplicative, {}-bit, toward 0", n.decay_bits),
            Decay::BitShift => format!("x - (x >> dash), {}-bit dash, floor, min step 1", n.decay_bits),
        };
        let applied = match r.overflow.applied {
            Applied::PerStep => "once per step",
            Applied::PerEvent => "after every event",
        };
        let threshold = match r.threshold {
            Threshold::Greater => "v > vth",
            Threshold::GreaterEqual => "v >= vth",
        };
        let reset = match r.reset {
            Reset::Zero => "v = 0",
            Reset::Subtract => "v = v - vth",
        };
        let refractory = if r.refractory {
            format!("up to {} steps", n.refractory_steps)
        } else {
            "none".to_string()
        };
        let (lo, hi) = n.weight_exponent;
        let weight_exponent = match r.weight_exponent {
            WeightExponent::PerWeight => format!("per weight, {lo}..{hi}"),
            WeightExponent::OnSum => format!("on each connection's sum (floor), {lo}..{hi}"),
        };
        let bias = match r.bias {
            Bias::IntoCurrent => "into u (u + bias, u's width), then v",
            Bias::IntoVoltage => "into v",
        };
        let payload = match r.payload {
            Payload::Binary => "binary".to_string(),
            Payload::Count => format!("spike count ({} bits)", n.payload_bits),
            Payload::Graded => format!("graded, up to {} message bits", n.payload_bits),
        };
        let l = n.latency;
        let host_out = l.chip_to_host.map_or("no host readout".to_string(), |d| d.to_string());
        vec![
            self.family.clone(),
            neurons,
            n.synaptic_states.to_string(),
            current_input.to_string(),
            decay,
            applied.to_string(),
            register(r.overflow.accumulator, n.accumulator_bits),
            register(r.overflow.current, n.current_bits),
            register(r.overflow.voltage, n.voltage_bits),
            threshold.to_string(),
            reset.to_string(),
            n.spikes_per_step.clone(),
            refractory,
            format!("{}..{}", n.weight_range.0, n.weight_range.1),
            weight_exponent,
            bias.to_string(),
            payload,
            l.host_to_chip.to_string(),
            l.chip_to_chip.to_string(),
            l.recurrent.to_string(),
            host_out,
        ]
    }
}

/// The row names of [`render`], one per [`Summary::cells`] entry.
pub const ROWS: &[&str] = &[
    "family",
    "neurons",
    "synaptic states",
    "current input",
    "decay",
    "overflow applied",
    "accumulator",
    "current",
    "voltage",
    "threshold",
    "reset",
    "spikes per step",
    "refractory",
    "weight",
    "weight exponent",
    "bias",
    "payload",
    "steps host->chip",
    "steps chip->chip",
    "steps recurrent",
    "steps chip->host",
];

/// The summaries as one table: a row per rule field, a column per target.
pub fn render(summaries: &[Summary]) -> String {
    let mut header = vec!["rule"];
    header.extend(summaries.iter().map(|s| s.name.as_str()));
    let columns: Vec<Vec<String>> = summaries.iter().map(Summary::cells).collect();
    let rows: Vec<Vec<String>> = ROWS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut row = vec![name.to_string()];
            row.extend(columns.iter().map(|c| c[i].clone()));
            row
        })
        .collect();
    nmc_core::text::render(&header, &rows, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dynamics, Overflow};

    #[test]
    fn every_row_has_a_cell_and_the_table_shows_the_values() {
        let s = Summary {
            name: "x".into(),
            family: "f".into(),
            rule: Some(Rule {
                neurons: vec![Dynamics::CubaLif],
                current_input: CurrentInput::AddThenDecay,
                decay: Decay::BitShift,
                overflow: Overflow {
                    applied: Applied::PerEvent,
                    accumulator: Register::Absent,
                    current: Register::Saturate,
                    voltage: Register::Saturate,
                },
                threshold: Threshold::GreaterEqual,
                reset: Reset::Subtract,
                refractory: false,
                weight_exponent: WeightExponent::PerWeight,
                bias: Bias::IntoVoltage,
                payload: Payload::Count,
            }),
            numbers: Some(Numbers {
                accumulator_bits: None,
                current_bits: Some(15),
                voltage_bits: Some(15),
                decay_bits: 4,
                synaptic_states: 2,
                spikes_per_step: "31 hidden, 1 output".into(),
                refractory_steps: 0,
                weight_range: (-128, 127),
                weight_exponent: (0, 7),
                payload_bits: 5,
                latency: Latency {
                    host_to_chip: 0,
                    chip_to_chip: 1,
                    recurrent: 1,
                    chip_to_host: Some(0),
                },
            }),
        };
        assert_eq!(s.cells().len(), ROWS.len());
        let closed = Summary {
            name: "c".into(),
            family: "g".into(),
            rule: None,
            numbers: None,
        };
        assert_eq!(closed.cells().len(), ROWS.len());
        let t = render(&[s, closed]);
        assert!(t.contains("saturate, 15 bits + sign"), "{t}");
        assert!(t.contains("v >= vth"), "{t}");
        assert!(t.contains("not public"), "{t}");
        assert_eq!(t.lines().count(), ROWS.len() + 1, "{t}");
    }
}
