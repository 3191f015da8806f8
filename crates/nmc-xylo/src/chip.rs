//! What one Xylo chip holds: populations, limits, integer formats, caps and
//! latencies, read from a RON file (`targets/xylo-audio2.ron`,
//! `targets/xylo-imu.ron`; every number there cites its source).
//!
//! The emulator's semantics are XyloSim's; a chip file chooses the sizes and
//! widths it runs at, and [`Chip::from_ron_str`] refuses files the emulator
//! cannot honour (e.g. latencies other than 0 / 1 / 1).

use serde::{Deserialize, Serialize};

use crate::Error;

/// The built-in chips: (name, RON text).
const BUILTIN: &[(&str, &str)] = &[
    ("xylo-audio2", include_str!("../../../targets/xylo-audio2.ron")),
    ("xylo-imu", include_str!("../../../targets/xylo-imu.ron")),
];

/// The only family this crate emulates.
pub const FAMILY: &str = "xylo-iaf";

/// A Xylo chip description (`schema_version: 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chip {
    /// Must be 1.
    pub schema_version: u32,
    /// What `--target` accepts (`xylo-audio2`).
    pub name: String,
    /// Must be `"xylo-iaf"`: the neuron and network model of `docs/xylo.md`.
    pub family: String,
    /// One line for listings.
    pub description: String,
    /// Fixed population sizes.
    pub populations: Populations,
    /// Synaptic states per neuron.
    pub synapses: Synapses,
    /// Connectivity limits.
    pub limits: Limits,
    /// Integer widths (bits, sign included).
    pub formats: Formats,
    /// Per-step event caps.
    pub caps: Caps,
    /// Delivery latencies, in time steps.
    pub timing: Timing,
    /// The update rule in the vocabulary every family shares; must be
    /// [`Chip::runs`] (checked at load).
    pub rule: nmc_rule::Rule,
}

/// The chip's one core: fixed populations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Populations {
    /// Input channels.
    pub inputs: u32,
    /// Hidden neurons.
    pub hidden: u32,
    /// Output (readout) neurons.
    pub outputs: u32,
    /// Hidden neurons that input weights may reach (the first ones: IEN).
    pub max_input_expansion: u32,
    /// Hidden neurons that output weights may leave (the last ones: OEN).
    pub max_output_expansion: u32,
}

/// Synaptic states (currents) per neuron.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synapses {
    /// Per hidden neuron: 1 or 2.
    pub hidden_states: u32,
    /// Per output neuron: 1.
    pub output_states: u32,
}

/// Connectivity limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Recurrent targets one hidden neuron may have (an entry per target
    /// neuron, whatever its synaptic states).
    pub max_fanout_per_neuron: u32,
    /// Recurrent entries shared by all hidden neurons; `None`: not known,
    /// not checked.
    pub recurrent_pool: Option<u32>,
    /// Alias targets per hidden neuron: 1.
    pub aliases_per_neuron: u32,
}

/// Integer widths, in bits (signed values include the sign bit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formats {
    /// Membrane potential and synaptic currents (signed).
    pub state_bits: u32,
    /// Weights (signed).
    pub weight_bits: u32,
    /// Thresholds (signed).
    pub threshold_bits: u32,
    /// Biases (signed).
    pub bias_bits: u32,
    /// Decay bit-shifts (unsigned).
    pub dash_bits: u32,
    /// Weight left-shifts, one per matrix (unsigned).
    pub weight_shift_bits: u32,
}

/// Per-step caps on events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// Input events per channel per step taken (more are dropped).
    pub input_events_per_step: u32,
    /// Spikes a hidden neuron emits per step at most.
    pub hidden_spikes_per_step: u32,
    /// Spikes an output neuron emits per step at most.
    pub output_spikes_per_step: u32,
}

/// Delivery latencies (steps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Input event at step t → hidden neurons update at t + this.
    pub input_to_hidden: u32,
    /// Hidden spike at t → hidden neurons at t + this.
    pub hidden_to_hidden: u32,
    /// Hidden spike at t → output neurons at t + this.
    pub hidden_to_output: u32,
}

impl Chip {
    /// The names [`Chip::builtin`] knows.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// The RON source of a built-in chip, comments included.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
    }

    /// A built-in chip by name (`xylo-audio2`, `xylo-imu`).
    pub fn builtin(name: &str) -> Result<Chip, Error> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Chip::from_ron_str(text, &format!("<builtin {n}>")),
            None => Err(Error::Chip {
                file: name.into(),
                field: "name".into(),
                message: format!(
                    "no built-in Xylo chip of that name (known: {})",
                    Chip::builtin_names().collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// Parse and validate a chip description; `file` names it in errors.
    pub fn from_ron_str(text: &str, file: &str) -> Result<Chip, Error> {
        let chip: Chip = ron::from_str(text).map_err(|e| Error::Chip {
            file: file.into(),
            field: "<ron>".into(),
            message: e.to_string(),
        })?;
        chip.validate(file)?;
        Ok(chip)
    }

    /// Read a chip description from a `.ron` file.
    pub fn read(path: &std::path::Path) -> Result<Chip, Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Chip::from_ron_str(&text, &file)
    }

    /// The rules a chip must satisfy for the emulator to honour it.
    fn validate(&self, file: &str) -> Result<(), Error> {
        let bad = |field: &str, message: String| Error::Chip {
            file: file.into(),
            field: field.into(),
            message,
        };
        if self.schema_version != 1 {
            return Err(bad(
                "schema_version",
                format!("is {}, only 1 is known", self.schema_version),
            ));
        }
        if self.family != FAMILY {
            return Err(bad(
                "family",
                format!("is {:?}, this crate emulates {FAMILY:?}", self.family),
            ));
        }
        let ok_name = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if !ok_name {
            return Err(bad(
                "name",
                "must be non-empty ASCII letters, digits, '_', '-', '.'".into(),
            ));
        }
        let p = &self.populations;
        for (f, v, max) in [
            ("populations.inputs", p.inputs, 1 << 16),
            ("populations.hidden", p.hidden, 1 << 16),
            ("populations.outputs", p.outputs, 1 << 16),
            ("populations.max_input_expansion", p.max_input_expansion, p.hidden),
            ("populations.max_output_expansion", p.max_output_expansion, p.hidden),
            (
                "limits.max_fanout_per_neuron",
                self.limits.max_fanout_per_neuron,
                p.hidden,
            ),
            ("limits.aliases_per_neuron", self.limits.aliases_per_neuron, 1),
            ("synapses.hidden_states", self.synapses.hidden_states, 2),
            ("synapses.output_states", self.synapses.output_states, 1),
        ] {
            if v == 0 || v > max {
                return Err(bad(f, format!("is {v}, must be in 1..={max}")));
            }
        }
        let fm = &self.formats;
        for (f, v, lo, hi) in [
            ("formats.state_bits", fm.state_bits, 2, 16),
            ("formats.weight_bits", fm.weight_bits, 2, 8),
            ("formats.threshold_bits", fm.threshold_bits, 2, fm.state_bits),
            ("formats.bias_bits", fm.bias_bits, 2, fm.state_bits),
            ("formats.dash_bits", fm.dash_bits, 1, 4),
            ("formats.weight_shift_bits", fm.weight_shift_bits, 1, 4),
        ] {
            if v < lo || v > hi {
                return Err(bad(f, format!("is {v}, must be in {lo}..={hi}")));
            }
        }
        let c = &self.caps;
        for (f, v) in [
            ("caps.input_events_per_step", c.input_events_per_step),
            ("caps.hidden_spikes_per_step", c.hidden_spikes_per_step),
            ("caps.output_spikes_per_step", c.output_spikes_per_step),
        ] {
            if v == 0 || v > 255 {
                return Err(bad(f, format!("is {v}, must be in 1..=255 (spike counts are 8-bit)")));
            }
        }
        if let Some(d) = self.rule.differences(&Chip::runs()).first() {
            return Err(bad(
                d.field,
                d.refusal("the xylo-iaf family (nmc-xylo, XyloSim's step)"),
            ));
        }
        let t = &self.timing;
        if (t.input_to_hidden, t.hidden_to_hidden, t.hidden_to_output) != (0, 1, 1) {
            return Err(bad(
                "timing",
                "the Xylo step delivers input at 0 and hidden spikes at 1 step: must be 0, 1, 1".into(),
            ));
        }
        Ok(())
    }

    /// The update rule this crate's emulator and reference run (XyloSim's
    /// step, docs/xylo.md "The step").
    pub fn runs() -> nmc_rule::Rule {
        use nmc_rule::*;
        Rule {
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
        }
    }

    /// The rule with its numbers, for `nmc targets --rules`.
    pub fn rule_summary(&self) -> nmc_rule::Summary {
        let state = self.formats.state_bits - 1;
        let c = &self.caps;
        let t = &self.timing;
        nmc_rule::Summary {
            name: self.name.clone(),
            family: FAMILY.to_string(),
            rule: Some(self.rule.clone()),
            numbers: Some(nmc_rule::Numbers {
                accumulator_bits: None,
                current_bits: Some(state),
                voltage_bits: Some(state),
                decay_bits: self.formats.dash_bits,
                synaptic_states: self.synapses.hidden_states,
                spikes_per_step: format!(
                    "{} hidden, {} output; input events <= {}",
                    c.hidden_spikes_per_step, c.output_spikes_per_step, c.input_events_per_step
                ),
                refractory_steps: 0,
                weight_range: signed_range(self.formats.weight_bits),
                weight_exponent: (0, self.max_weight_shift() as i32),
                payload_bits: u32::BITS - c.hidden_spikes_per_step.leading_zeros(),
                latency: nmc_rule::Latency {
                    host_to_chip: t.input_to_hidden,
                    chip_to_chip: t.hidden_to_output,
                    recurrent: t.hidden_to_hidden,
                    chip_to_host: Some(0),
                },
            }),
        }
    }

    /// Largest decay shift (`2^dash_bits − 1`).
    pub fn max_dash(&self) -> u32 {
        (1 << self.formats.dash_bits) - 1
    }

    /// Largest weight shift (`2^weight_shift_bits − 1`).
    pub fn max_weight_shift(&self) -> u32 {
        (1 << self.formats.weight_shift_bits) - 1
    }
}

/// The range of a signed value of `bits` bits.
pub(crate) fn signed_range(bits: u32) -> (i64, i64) {
    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        let a = Chip::builtin("xylo-audio2").expect("audio2");
        assert_eq!(
            (a.populations.hidden, a.populations.outputs, a.synapses.hidden_states),
            (1000, 8, 2)
        );
        let i = Chip::builtin("xylo-imu").expect("imu");
        assert_eq!(
            (i.populations.hidden, i.populations.outputs, i.synapses.hidden_states),
            (496, 16, 1)
        );
        assert!(Chip::builtin("loihi1").is_err());
    }

    #[test]
    fn bad_family_is_named() {
        let text = BUILTIN[0].1.replace("family: \"xylo-iaf\"", "family: \"loihi\"");
        let e = Chip::from_ron_str(&text, "x.ron").expect_err("family");
        assert_eq!(e.field(), Some("family"), "{e}");
    }

    #[test]
    fn the_builtins_state_the_rule_this_crate_runs_and_another_is_refused() {
        for (name, text) in BUILTIN {
            assert_eq!(Chip::builtin(name).unwrap().rule, Chip::runs(), "{name}");
            let zero = text.replacen("reset: Subtract", "reset: Zero", 1);
            assert_ne!(&zero, text);
            let e = Chip::from_ron_str(&zero, "mine.ron").expect_err("reset");
            assert_eq!(e.field(), Some("rule.reset"), "{e}");
            let m = e.to_string();
            assert!(
                m.contains("mine.ron") && m.contains("states Zero") && m.contains("runs Subtract"),
                "{m}"
            );
        }
        let no_rule = BUILTIN[0].1.split("\n    rule: (").next().unwrap().to_string() + "\n)";
        let e = Chip::from_ron_str(&no_rule, "old.ron").expect_err("a Xylo file states its rule");
        assert!(e.to_string().contains("rule"), "{e}");
    }
}
