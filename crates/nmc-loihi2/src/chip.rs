//! The chip description, read from `targets/loihi2.ron` (built in): the
//! integer widths and rules of Lava 0.10's fixed_pt step, the latencies and
//! the per-core capacities (estimates, each with its source).

use serde::{Deserialize, Serialize};

/// The schema version of `targets/loihi2.ron` this crate reads.
pub const SCHEMA_VERSION: u64 = 1;

/// The family every chip of this crate belongs to.
pub const FAMILY: &str = "lava-loihi2";

/// Built-in chips: name, origin shown in messages, RON source.
const BUILTINS: &[(&str, &str, &str)] = &[("loihi2", "builtin:loihi2", include_str!("../../../targets/loihi2.ron"))];

/// The integer rules of the step (docs/loihi2.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numerics {
    /// Weight scale in bits (weights are clipped to this 8-bit scale).
    pub weight_bits: u32,
    /// Smallest `num_weight_bits`.
    pub num_weight_bits_min: u32,
    /// Largest `num_weight_bits`.
    pub num_weight_bits_max: u32,
    /// Smallest `weight_exp` accepted.
    pub weight_exp_min: i32,
    /// Largest `weight_exp` accepted.
    pub weight_exp_max: i32,
    /// Largest `num_message_bits` (0 = binary spikes).
    pub num_message_bits_max: u32,
    /// Largest LIF `du` / `dv`.
    pub decay_max: u32,
    /// Decay products are shifted right by this (rounded toward 0).
    pub decay_shift: u32,
    /// Added to `du` in the current decay factor.
    pub du_offset: u32,
    /// Added to `dv` in the voltage decay factor.
    pub dv_offset: u32,
    /// Largest LIF `vth` mantissa.
    pub vth_max: u32,
    /// `vth` is used as `vth << vth_shift`.
    pub vth_shift: u32,
    /// `a_in` enters u as `a << act_shift`.
    pub act_shift: u32,
    /// Smallest `bias_mant`.
    pub bias_mant_min: i32,
    /// Largest `bias_mant`.
    pub bias_mant_max: i32,
    /// Smallest `bias_exp` (negative = floor shift).
    pub bias_exp_min: i32,
    /// Largest `bias_exp`.
    pub bias_exp_max: i32,
    /// u is corrected once per step by ± this into (−u_wrap/2, u_wrap/2].
    pub u_wrap: i64,
    /// v is clipped to ±v_clip.
    pub v_clip: i64,
    /// Largest Delta/SigmaDelta `spike_exp` and `state_exp`.
    pub sdn_exp_max: u32,
    /// Largest Delta/SigmaDelta `vth`.
    pub sdn_vth_max: i64,
    /// Largest |SigmaDelta `bias`|.
    pub sdn_bias_max: i64,
    /// Width of a payload (source data, OutPort values).
    pub payload_bits: u32,
}

/// Latencies in time steps (docs/loihi2.md §2–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Steps one Dense or Sparse adds.
    pub connection_steps: u32,
    /// Steps a neuron (LIF, Delta, SigmaDelta) adds.
    pub neuron_steps: u32,
    /// Source → directly driven process.
    pub host_input_steps: u32,
    /// Spike → readout.
    pub host_output_steps: u32,
    /// Largest synaptic delay of the (unused here) delay models.
    pub max_synaptic_delay: u32,
}

/// Chip totals (public).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipTotals {
    /// Neuro-cores per chip.
    pub neuro_cores: u32,
    /// Embedded x86 cores per chip.
    pub embedded_cores: u32,
    /// Neurons per chip.
    pub neurons_per_chip: u64,
    /// Synapses per chip.
    pub synapses_per_chip: u64,
}

/// A capacity with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// The number.
    pub value: u64,
    /// True when it is not a published per-core figure.
    pub estimate: bool,
    /// Where it comes from.
    pub source: String,
}

/// Per-core capacities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreCapacity {
    /// Neurons per core.
    pub neurons: Capacity,
    /// Synapses per core.
    pub synapses: Capacity,
    /// SRAM bytes per core.
    pub sram_bytes: Capacity,
}

/// The file as written (`deny_unknown_fields`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChip {
    schema_version: u64,
    name: String,
    family: String,
    description: String,
    numerics: Numerics,
    latency: Latency,
    chip: ChipTotals,
    core: CoreCapacity,
    not_public: Vec<String>,
    rule: nmc_rule::Rule,
}

/// A Loihi 2 chip description, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chip {
    name: String,
    description: String,
    numerics: Numerics,
    latency: Latency,
    totals: ChipTotals,
    core: CoreCapacity,
    not_public: Vec<String>,
    rule: nmc_rule::Rule,
}

/// Why a chip description was rejected. Messages start with the origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// No built-in chip has this name.
    #[error("no built-in Loihi 2 chip `{0}` (built in: loihi2)")]
    UnknownBuiltin(String),
    /// Not RON, or not of the schema's shape.
    #[error("{origin}: {message}")]
    Syntax {
        /// Where the text came from.
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A field breaks a rule of the schema.
    #[error("{origin}: {field}: {message}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// Field path, e.g. `numerics.decay_shift`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl Chip {
    /// A built-in chip by name (`loihi2`).
    pub fn builtin(name: &str) -> Result<Chip, ChipError> {
        let (_, origin, src) = BUILTINS
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| ChipError::UnknownBuiltin(name.to_string()))?;
        chip_of_ron(src, origin)
    }

    /// The built-in chip's RON source, comments included.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTINS.iter().find(|(n, _, _)| *n == name).map(|(_, _, s)| *s)
    }

    /// Names of the built-in chips.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTINS.iter().map(|(n, _, _)| *n).collect()
    }

    /// The chip's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The family (`lava-loihi2`).
    pub fn family(&self) -> &str {
        FAMILY
    }

    /// One line saying what this is.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The integer rules.
    pub fn numerics(&self) -> &Numerics {
        &self.numerics
    }

    /// The latencies.
    pub fn latency(&self) -> &Latency {
        &self.latency
    }

    /// Chip totals.
    pub fn totals(&self) -> &ChipTotals {
        &self.totals
    }

    /// Per-core capacities (estimates, with sources).
    pub fn core(&self) -> &CoreCapacity {
        &self.core
    }

    /// Parses and validates a chip description; `origin` (a path) starts
    /// every error message.
    pub fn from_ron_str(src: &str, origin: &str) -> Result<Chip, ChipError> {
        chip_of_ron(src, origin)
    }

    /// Reads a chip description file (`family: "lava-loihi2"`).
    pub fn read(path: &std::path::Path) -> Result<Chip, ChipError> {
        let origin = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| ChipError::Syntax {
            origin: origin.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Chip::from_ron_str(&src, &origin)
    }

    /// The update rule the file states (equal to [`Chip::runs`]).
    pub fn rule(&self) -> &nmc_rule::Rule {
        &self.rule
    }

    /// The update rule this crate's emulator and reference run (Lava 0.10
    /// fixed_pt, docs/loihi2.md §2–5).
    pub fn runs() -> nmc_rule::Rule {
        use nmc_rule::*;
        Rule {
            neurons: vec![Dynamics::CubaLif, Dynamics::Delta, Dynamics::SigmaDelta],
            current_input: CurrentInput::DecayThenAdd,
            decay: Decay::Multiplicative,
            overflow: Overflow {
                applied: Applied::PerStep,
                accumulator: Register::Unbounded,
                current: Register::WrapOnce,
                voltage: Register::Clip,
            },
            threshold: Threshold::Greater,
            reset: Reset::Zero,
            refractory: false,
            weight_exponent: WeightExponent::OnSum,
            bias: Bias::IntoVoltage,
            payload: Payload::Graded,
        }
    }

    /// The rule with its numbers, for `nmc targets --rules`.
    pub fn rule_summary(&self) -> nmc_rule::Summary {
        let n = &self.numerics;
        let l = &self.latency;
        let bits = |span: i64| 63 - span.leading_zeros();
        nmc_rule::Summary {
            name: self.name.clone(),
            family: FAMILY.to_string(),
            rule: Some(self.rule.clone()),
            numbers: Some(nmc_rule::Numbers {
                accumulator_bits: None,
                // u is corrected by u_wrap = 2^24 into (-2^23, 2^23].
                current_bits: Some(bits(n.u_wrap).saturating_sub(1)),
                // v is clipped to +-v_clip = +-(2^23 - 1).
                voltage_bits: Some(bits(n.v_clip + 1)),
                decay_bits: n.decay_shift,
                synaptic_states: 1,
                spikes_per_step: "1 (LIF); Delta/SigmaDelta send one graded value".to_string(),
                refractory_steps: 0,
                // MIXED clips to [-2^bits, 2^bits - 1] [LD clip_weights].
                weight_range: (-(1i64 << n.weight_bits), (1i64 << n.weight_bits) - 1),
                weight_exponent: (n.weight_exp_min, n.weight_exp_max),
                payload_bits: n.num_message_bits_max,
                latency: nmc_rule::Latency {
                    host_to_chip: l.host_input_steps + l.connection_steps,
                    chip_to_chip: l.connection_steps + l.neuron_steps,
                    recurrent: l.connection_steps + l.neuron_steps,
                    chip_to_host: Some(l.host_output_steps),
                },
            }),
        }
    }

    /// Limits that no public source gives.
    pub fn not_public(&self) -> &[String] {
        &self.not_public
    }
}

fn chip_of_ron(src: &str, origin: &str) -> Result<Chip, ChipError> {
    let raw: RawChip = ron::from_str(src).map_err(|e| ChipError::Syntax {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    let bad = |field: &str, message: String| ChipError::Invalid {
        origin: origin.to_string(),
        field: field.to_string(),
        message,
    };
    if raw.schema_version != SCHEMA_VERSION {
        return Err(bad(
            "schema_version",
            format!("{} is not {SCHEMA_VERSION}", raw.schema_version),
        ));
    }
    if raw.family != FAMILY {
        return Err(bad("family", format!("`{}` is not `{FAMILY}`", raw.family)));
    }
    check_numerics(&raw.numerics).map_err(|(f, m)| bad(&format!("numerics.{f}"), m))?;
    for (f, c) in [
        ("neurons", &raw.core.neurons),
        ("synapses", &raw.core.synapses),
        ("sram_bytes", &raw.core.sram_bytes),
    ] {
        if c.value == 0 || c.source.trim().is_empty() {
            return Err(bad(&format!("core.{f}"), "needs a value > 0 and a source".into()));
        }
    }
    if let Some(d) = raw.rule.differences(&Chip::runs()).first() {
        return Err(bad(
            d.field,
            d.refusal("the lava-loihi2 family (nmc-loihi2, Lava 0.10's fixed_pt step)"),
        ));
    }
    Ok(Chip {
        name: raw.name,
        description: raw.description,
        numerics: raw.numerics,
        latency: raw.latency,
        totals: raw.chip,
        core: raw.core,
        not_public: raw.not_public,
        rule: raw.rule,
    })
}

/// The numeric rules must keep every emulator shift and product inside i64.
fn check_numerics(n: &Numerics) -> Result<(), (&'static str, String)> {
    let range = |f: &'static str, v: i64, lo: i64, hi: i64| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err((f, format!("{v} is outside {lo}..={hi}")))
        }
    };
    range("weight_bits", n.weight_bits.into(), 1, 16)?;
    range(
        "num_weight_bits_min",
        n.num_weight_bits_min.into(),
        1,
        n.weight_bits.into(),
    )?;
    range(
        "num_weight_bits_max",
        n.num_weight_bits_max.into(),
        n.num_weight_bits_min.into(),
        n.weight_bits.into(),
    )?;
    range("weight_exp_min", n.weight_exp_min.into(), -16, 0)?;
    range("weight_exp_max", n.weight_exp_max.into(), 0, 16)?;
    range("decay_shift", n.decay_shift.into(), 1, 16)?;
    range("decay_max", n.decay_max.into(), 0, (1 << n.decay_shift.min(16)) - 1)?;
    range("vth_shift", n.vth_shift.into(), 0, 16)?;
    range("act_shift", n.act_shift.into(), 0, 16)?;
    range("bias_exp_min", n.bias_exp_min.into(), -16, 0)?;
    range("bias_exp_max", n.bias_exp_max.into(), 0, 16)?;
    range("u_wrap", n.u_wrap, 2, 1 << 40)?;
    range("v_clip", n.v_clip, 1, 1 << 40)?;
    range("sdn_exp_max", n.sdn_exp_max.into(), 0, 16)?;
    range("payload_bits", n.payload_bits.into(), 1, 32)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_builtin_states_the_rule_this_crate_runs_and_another_is_refused() {
        let c = Chip::builtin("loihi2").unwrap();
        assert_eq!(c.rule(), &Chip::runs());
        let src = Chip::builtin_source("loihi2").unwrap();
        let per_weight = src.replacen("weight_exponent: OnSum", "weight_exponent: PerWeight", 1);
        assert_ne!(per_weight, src);
        match chip_of_ron(&per_weight, "mine.ron").unwrap_err() {
            ChipError::Invalid { origin, field, message } => {
                assert_eq!((origin.as_str(), field.as_str()), ("mine.ron", "rule.weight_exponent"));
                assert!(
                    message.contains("states PerWeight") && message.contains("runs OnSum"),
                    "{message}"
                );
            }
            e => panic!("{e}"),
        }
        let summary = c.rule_summary();
        let cells = summary.cells();
        assert!(
            cells.contains(&"one wrap per step, 23 bits + sign".to_string()),
            "{cells:?}"
        );
        assert!(cells.contains(&"clip, 23 bits + sign".to_string()), "{cells:?}");
    }
}
