//! The update rule this family runs (`nmc_rule::Rule`), and the summary
//! `nmc targets --rules` prints.
//!
//! The Loihi compartment family runs one rule: its integer step is in
//! `nmc-emu` and `nmc-reference` (docs/targets.md, "One time step"). The
//! only rule fields a file may choose are the overflow of the three
//! registers, which `formats.*.overflow` also states and the emulator
//! honours (`Wrap` or `Clip`); the `rule:` section must agree with them.

use nmc_rule::{
    Applied, Bias, CurrentInput, Decay, Dynamics, Latency, Numbers, Overflow as RuleOverflow, Payload, Register, Reset,
    Rule, Summary, Threshold, WeightExponent,
};

use crate::raw::{Overflow, RawTarget};

fn register(o: Overflow) -> Register {
    match o {
        Overflow::Wrap => Register::Wrap,
        Overflow::Clip => Register::Clip,
    }
}

/// The rule the emulator and the fixed reference run for `raw`: the
/// compartment step, with the registers' overflow from `formats`.
pub fn family_rule(raw: &RawTarget) -> Rule {
    let f = &raw.formats;
    Rule {
        neurons: vec![Dynamics::CubaLif],
        current_input: CurrentInput::DecayThenAdd,
        decay: Decay::Multiplicative,
        overflow: RuleOverflow {
            applied: Applied::PerStep,
            accumulator: register(f.accumulator.overflow),
            current: register(f.current.overflow),
            voltage: register(f.voltage.overflow),
        },
        threshold: Threshold::Greater,
        reset: Reset::Zero,
        refractory: true,
        weight_exponent: WeightExponent::PerWeight,
        bias: Bias::IntoCurrent,
        payload: Payload::Binary,
    }
}

/// The family's name in rule tables.
pub const FAMILY: &str = "loihi";

/// `raw`'s rule with its numbers.
pub(crate) fn summary(raw: &RawTarget) -> Summary {
    let f = &raw.formats;
    let t = &raw.timing;
    let hop = t.synapse_delay_steps;
    Summary {
        name: raw.name.clone(),
        family: FAMILY.to_string(),
        rule: Some(raw.rule.clone().unwrap_or_else(|| family_rule(raw))),
        numbers: Some(Numbers {
            accumulator_bits: Some(f.accumulator.magnitude_bits),
            current_bits: Some(f.current.magnitude_bits),
            voltage_bits: Some(f.voltage.magnitude_bits),
            decay_bits: f.decay.bits,
            synaptic_states: 1,
            spikes_per_step: "1".to_string(),
            refractory_steps: f.refractory.max_steps,
            weight_range: {
                let m = (1i64 << f.weight.mantissa_bits.min(62)) - 1;
                (-m, m)
            },
            weight_exponent: (f.weight.exp_min, f.weight.exp_max),
            payload_bits: 0,
            latency: Latency {
                host_to_chip: hop.saturating_add(t.host_input_extra_delay_steps),
                chip_to_chip: hop,
                recurrent: hop,
                chip_to_host: t.host_output_delay_steps,
            },
        }),
    }
}
