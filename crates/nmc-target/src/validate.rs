//! Validation of a [`RawTarget`]: every rule names the field it is
//! reported at (`Target::from_raw` builds the target from a valid one). The rules are listed in `docs/targets.md`.

use std::collections::HashSet;
use std::hash::Hash;

use crate::error::{Problem, TargetError};
use crate::raw::SCHEMA_VERSION;
use crate::raw::{RawAxonKind, RawTarget};

/// Widest integer a target may declare: values are computed in `i64`.
pub(crate) const MAX_VALUE_BITS: u32 = 63;
/// Widest synapse-memory word.
const MAX_WORD_BITS: u32 = 4096;
/// Most atom bits of a population axon.
const MAX_ATOM_BITS: u32 = 31;
/// Widest decay constant.
const MAX_DECAY_BITS: u32 = 31;
/// Longest delay, in steps (a sanity bound).
const MAX_DELAY_STEPS: u32 = 1 << 16;

struct Checker {
    problems: Vec<Problem>,
}

/// `2^b`, saturating.
fn pow2(b: u32) -> u128 {
    if b >= 127 { u128::MAX } else { 1u128 << b }
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn positive(&mut self, field: &str, v: u64) {
        if v == 0 {
            self.fail(field, "must be > 0");
        }
    }

    /// `v` in `lo..=hi`.
    fn within(&mut self, field: &str, v: i64, lo: i64, hi: i64) {
        if v < lo || v > hi {
            self.fail(field, format!("{v} is out of range: must be in {lo}..={hi}"));
        }
    }

    /// A bit width in `lo..=63`.
    fn width(&mut self, field: &str, v: u32, lo: u32) {
        if v < lo || v > MAX_VALUE_BITS {
            self.fail(
                field,
                format!("{v} bits is out of range: a width must be in {lo}..={MAX_VALUE_BITS} bits"),
            );
        }
    }

    /// `lo <= hi`, reported at `lo_field`.
    fn ordered(&mut self, lo_field: &str, lo: i64, hi_field: &str, hi: i64) {
        if lo > hi {
            self.fail(lo_field, format!("{lo} must be <= {hi_field} ({hi})"));
        }
    }

    fn distinct<T: Eq + Hash + std::fmt::Debug>(&mut self, field: &str, items: &[T]) {
        if items.is_empty() {
            self.fail(field, "must list at least one entry");
        }
        let mut seen = HashSet::new();
        for item in items {
            if !seen.insert(item) {
                self.fail(field, format!("{item:?} is listed twice"));
            }
        }
    }

    /// A non-empty, strictly increasing list of widths in `lo..=63`.
    fn width_list(&mut self, field: &str, items: &[u32], lo: u32) {
        if items.is_empty() {
            self.fail(field, "must list at least one width");
        }
        for &w in items {
            if w < lo || w > MAX_VALUE_BITS {
                self.fail(
                    field,
                    format!("{w} bits is out of range: a width must be in {lo}..={MAX_VALUE_BITS} bits"),
                );
            }
        }
        if items.windows(2).any(|p| p[0] >= p[1]) {
            self.fail(field, "must be strictly increasing");
        }
    }
}

fn check_axon_kind(c: &mut Checker, name: &str, k: &RawAxonKind, raw: &RawTarget) {
    let f = |leaf: &str| format!("axons.{name}.{leaf}");
    c.positive(&f("slots"), k.slots.into());
    if k.slots > raw.core.max_output_axon_slots {
        c.fail(
            &f("slots"),
            format!(
                "{} must be <= core.max_output_axon_slots ({})",
                k.slots, raw.core.max_output_axon_slots
            ),
        );
    }
    c.within(&f("max_atom_bits"), k.max_atom_bits.into(), 0, MAX_ATOM_BITS.into());
    c.positive(&f("base_multiple"), k.base_multiple.into());
    if k.base_multiple > 0 && !k.max_base.is_multiple_of(k.base_multiple) {
        c.fail(
            &f("max_base"),
            format!(
                "{} must be a multiple of base_multiple ({})",
                k.max_base, k.base_multiple
            ),
        );
    }
    if k.max_base >= raw.core.max_compartments.max(1) {
        c.fail(
            &f("max_base"),
            format!(
                "{} must be < core.max_compartments ({})",
                k.max_base, raw.core.max_compartments
            ),
        );
    }
}

/// Checks every rule, section by section in file order, collecting the problems.
fn check(c: &mut Checker, raw: &RawTarget) {
    check_identity(c, raw);
    check_system(c, raw);
    check_core(c, raw);
    check_axons(c, raw);
    check_synapse_cost(c, raw);
    check_registers(c, raw);
    check_weight(c, raw);
    check_threshold(c, raw);
    check_bias(c, raw);
    check_decay(c, raw);
    check_refractory(c, raw);
    check_timing(c, raw);
    check_neurons(c, raw);
    check_rule(c, raw);
}

/// `name` and `description`.
fn check_identity(c: &mut Checker, raw: &RawTarget) {
    if raw.name.is_empty() {
        c.fail("name", "must not be empty");
    } else if !raw
        .name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
    {
        c.fail(
            "name",
            format!(
                "`{}` may contain only ASCII letters, digits, `_`, `-` and `.`",
                raw.name
            ),
        );
    }
    if raw.description.trim().is_empty() {
        c.fail("description", "must not be empty");
    }
}

/// `system`.
fn check_system(c: &mut Checker, raw: &RawTarget) {
    c.positive("system.cores_per_chip", raw.system.cores_per_chip.into());
    c.positive("system.max_chips", raw.system.max_chips.into());
}

/// `core` (against `synapse_cost`).
fn check_core(c: &mut Checker, raw: &RawTarget) {
    let core = &raw.core;
    let sc = &raw.synapse_cost;
    c.positive("core.max_compartments", core.max_compartments.into());
    c.positive("core.max_input_axons", core.max_input_axons.into());
    c.positive("core.max_output_axon_slots", core.max_output_axon_slots.into());
    c.positive("core.synapse_memory_bits", core.synapse_memory_bits);
    if sc.word_bits > 0 && !core.synapse_memory_bits.is_multiple_of(u64::from(sc.word_bits)) {
        c.fail(
            "core.synapse_memory_bits",
            format!(
                "{} must be a whole number of synapse_cost.word_bits ({})",
                core.synapse_memory_bits, sc.word_bits
            ),
        );
    }
    c.positive("core.profiles.compartment", core.profiles.compartment.into());
    c.positive("core.profiles.threshold", core.profiles.threshold.into());
    c.positive("core.profiles.synapse_format", core.profiles.synapse_format.into());
    if u128::from(core.profiles.synapse_format) > pow2(sc.format_index_bits) {
        c.fail(
            "core.profiles.synapse_format",
            format!(
                "{} formats cannot be named by synapse_cost.format_index_bits ({} bits)",
                core.profiles.synapse_format, sc.format_index_bits
            ),
        );
    }
}

/// `axons`, each kind against `core`.
fn check_axons(c: &mut Checker, raw: &RawTarget) {
    check_axon_kind(c, "discrete", &raw.axons.discrete, raw);
    check_axon_kind(c, "population16", &raw.axons.population16, raw);
    check_axon_kind(c, "population32", &raw.axons.population32, raw);
}

/// `synapse_cost` (against `core` and the weight format).
fn check_synapse_cost(c: &mut Checker, raw: &RawTarget) {
    let core = &raw.core;
    let sc = &raw.synapse_cost;
    c.within("synapse_cost.word_bits", sc.word_bits.into(), 1, MAX_WORD_BITS.into());
    c.positive("synapse_cost.max_run_length", sc.max_run_length.into());
    c.width("synapse_cost.format_index_bits", sc.format_index_bits, 0);
    c.width("synapse_cost.run_length_bits", sc.run_length_bits, 0);
    if u128::from(sc.max_run_length) > pow2(sc.run_length_bits) {
        c.fail(
            "synapse_cost.max_run_length",
            format!(
                "{} synapses cannot be counted in synapse_cost.run_length_bits ({} bits)",
                sc.max_run_length, sc.run_length_bits
            ),
        );
    }
    c.width("synapse_cost.delay_bits", sc.delay_bits, 0);
    c.width("synapse_cost.tag_bits", sc.tag_bits, 0);
    c.width_list("synapse_cost.weight_bits", &sc.weight_bits, 1);
    if !sc.weight_bits.contains(&raw.formats.weight.mantissa_bits) {
        c.fail(
            "synapse_cost.weight_bits",
            format!(
                "must include formats.weight.mantissa_bits ({})",
                raw.formats.weight.mantissa_bits
            ),
        );
    }
    c.width_list("synapse_cost.index_bits", &sc.index_bits, 0);
    let widest_index = sc.index_bits.iter().copied().max().unwrap_or(0);
    if pow2(widest_index) < u128::from(core.max_compartments) {
        c.fail(
            "synapse_cost.index_bits",
            format!(
                "the widest index ({widest_index} bits) cannot address core.max_compartments ({})",
                core.max_compartments
            ),
        );
    }
}

/// The registers `formats.accumulator`, `formats.current` and `formats.voltage`: checked first, the formats are checked against them.
fn check_registers(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    c.width("formats.accumulator.magnitude_bits", f.accumulator.magnitude_bits, 1);
    c.width("formats.current.magnitude_bits", f.current.magnitude_bits, 1);
    let v = &f.voltage;
    c.width("formats.voltage.magnitude_bits", v.magnitude_bits, 1);
    c.ordered(
        "formats.voltage.vmin_exp_min",
        v.vmin_exp_min.into(),
        "formats.voltage.vmin_exp_max",
        v.vmin_exp_max.into(),
    );
    if v.vmin_exp_max > v.magnitude_bits {
        c.fail(
            "formats.voltage.vmin_exp_max",
            format!(
                "{}: vmin = -2^k + 1 must fit formats.voltage.magnitude_bits ({})",
                v.vmin_exp_max, v.magnitude_bits
            ),
        );
    }
    c.ordered(
        "formats.voltage.vmax_exp_min",
        v.vmax_exp_min.into(),
        "formats.voltage.vmax_exp_max",
        v.vmax_exp_max.into(),
    );
    let vmax_bits = u64::from(v.vmax_base) + u64::from(v.vmax_step) * u64::from(v.vmax_exp_max);
    if vmax_bits > u64::from(v.magnitude_bits) {
        c.fail(
            "formats.voltage.vmax_exp_max",
            format!(
                "{}: vmax = 2^(vmax_base + vmax_step·m) - 1 = 2^{vmax_bits} - 1 must fit formats.voltage.magnitude_bits ({})",
                v.vmax_exp_max, v.magnitude_bits
            ),
        );
    }
}

/// `formats.weight` (against the accumulator).
fn check_weight(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    let w = &f.weight;
    c.width("formats.weight.mantissa_bits", w.mantissa_bits, 1);
    c.within(
        "formats.weight.exp_min",
        w.exp_min.into(),
        -i64::from(MAX_VALUE_BITS),
        MAX_VALUE_BITS.into(),
    );
    c.within(
        "formats.weight.exp_max",
        w.exp_max.into(),
        -i64::from(MAX_VALUE_BITS),
        MAX_VALUE_BITS.into(),
    );
    c.ordered(
        "formats.weight.exp_min",
        w.exp_min.into(),
        "formats.weight.exp_max",
        w.exp_max.into(),
    );
    if w.mixed_sign_even && w.mantissa_bits < 2 {
        c.fail(
            "formats.weight.mixed_sign_even",
            format!(
                "even mantissas need formats.weight.mantissa_bits >= 2 (is {})",
                w.mantissa_bits
            ),
        );
    }
    c.width("formats.weight.scale_shift", w.scale_shift, 0);
    if w.granularity_shift > w.scale_shift {
        c.fail(
            "formats.weight.granularity_shift",
            format!(
                "{} must be <= formats.weight.scale_shift ({})",
                w.granularity_shift, w.scale_shift
            ),
        );
    }
    let top = i64::from(w.mantissa_bits) + i64::from(w.scale_shift) + i64::from(w.exp_max);
    if top > i64::from(f.accumulator.magnitude_bits) {
        c.fail(
            "formats.weight.exp_max",
            format!(
                "{}: the largest weight (2^{top}) must fit formats.accumulator.magnitude_bits ({})",
                w.exp_max, f.accumulator.magnitude_bits
            ),
        );
    }
    let lost = i64::from(w.granularity_shift) - i64::from(w.scale_shift) - i64::from(w.exp_min);
    if lost >= i64::from(w.mantissa_bits) {
        c.fail(
            "formats.weight.exp_min",
            format!(
                "{}: no non-zero mantissa is representable (mantissas must be multiples of 2^{lost})",
                w.exp_min
            ),
        );
    }
}

/// `formats.threshold` (against the voltage register).
fn check_threshold(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    let v = &raw.formats.voltage;
    let t = &f.threshold;
    c.width("formats.threshold.mantissa_bits", t.mantissa_bits, 1);
    c.width("formats.threshold.shift", t.shift, 0);
    if u64::from(t.mantissa_bits) + u64::from(t.shift) > u64::from(v.magnitude_bits) {
        c.fail(
            "formats.threshold.mantissa_bits",
            format!(
                "{}: the largest threshold (2^(mantissa_bits + shift)) must fit formats.voltage.magnitude_bits ({})",
                t.mantissa_bits, v.magnitude_bits
            ),
        );
    }
}

/// `formats.bias` (against the current register).
fn check_bias(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    let b = &f.bias;
    c.width("formats.bias.mantissa_bits", b.mantissa_bits, 1);
    c.ordered(
        "formats.bias.exp_min",
        b.exp_min.into(),
        "formats.bias.exp_max",
        b.exp_max.into(),
    );
    if u64::from(b.mantissa_bits) + u64::from(b.exp_max) > u64::from(f.current.magnitude_bits) {
        c.fail(
            "formats.bias.exp_max",
            format!(
                "{}: the largest bias (2^(mantissa_bits + exp_max)) must fit formats.current.magnitude_bits ({})",
                b.exp_max, f.current.magnitude_bits
            ),
        );
    }
}

/// `formats.decay` (against the current and voltage registers).
fn check_decay(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    let v = &raw.formats.voltage;
    let d = &f.decay;
    if d.bits == 0 || d.bits > MAX_DECAY_BITS {
        c.fail(
            "formats.decay.bits",
            format!("{} bits is out of range: must be in 1..={MAX_DECAY_BITS}", d.bits),
        );
    }
    let widest_state = f.current.magnitude_bits.max(v.magnitude_bits);
    if u64::from(d.bits) + u64::from(widest_state) > u64::from(MAX_VALUE_BITS) {
        c.fail(
            "formats.decay.bits",
            format!(
                "{}: decay products (state · 2^bits) must fit 63 bits; the widest of formats.current and \
                 formats.voltage has {widest_state}",
                d.bits
            ),
        );
    }
    c.within("formats.decay.u_offset", d.u_offset.into(), 0, 1);
    c.within("formats.decay.v_offset", d.v_offset.into(), 0, 1);
}

/// `formats.refractory`.
fn check_refractory(c: &mut Checker, raw: &RawTarget) {
    let f = &raw.formats;
    c.within(
        "formats.refractory.max_steps",
        f.refractory.max_steps.into(),
        0,
        MAX_DELAY_STEPS.into(),
    );
}

/// `timing`.
fn check_timing(c: &mut Checker, raw: &RawTarget) {
    c.within(
        "timing.synapse_delay_steps",
        raw.timing.synapse_delay_steps.into(),
        1,
        MAX_DELAY_STEPS.into(),
    );
    c.within(
        "timing.host_input_extra_delay_steps",
        raw.timing.host_input_extra_delay_steps.into(),
        0,
        MAX_DELAY_STEPS.into(),
    );
    if let Some(d) = raw.timing.host_output_delay_steps {
        c.within("timing.host_output_delay_steps", d.into(), 1, MAX_DELAY_STEPS.into());
    }
}

/// `neurons`.
fn check_neurons(c: &mut Checker, raw: &RawTarget) {
    c.distinct("neurons.models", &raw.neurons.models);
    c.distinct("neurons.reset_modes", &raw.neurons.reset_modes);
}

/// `rule`: the stated update rule must be the one this family runs
/// (`crate::family_rule`), field by field.
fn check_rule(c: &mut Checker, raw: &RawTarget) {
    let runs = crate::rule::family_rule(raw);
    let Some(stated) = &raw.rule else { return };
    for d in stated.differences(&runs) {
        let source = match d.field {
            "rule.overflow.accumulator" => ", by formats.accumulator.overflow,",
            "rule.overflow.current" => ", by formats.current.overflow,",
            "rule.overflow.voltage" => ", by formats.voltage.overflow,",
            _ => "",
        };
        let runner = format!("the loihi compartment family (nmc-emu, nmc-reference){source}");
        c.fail(d.field, d.refusal(&runner));
    }
}

/// Checks `raw` against every rule (see [`crate::Target::from_raw`]), all
/// broken rules at once; on success, the index width that addresses every
/// compartment of a core (the one derived number the target needs).
pub(crate) fn validate(raw: &RawTarget, origin: &str) -> Result<u32, TargetError> {
    if raw.schema_version != SCHEMA_VERSION {
        return Err(TargetError::SchemaVersion {
            origin: origin.to_string(),
            found: raw.schema_version.into(),
            supported: SCHEMA_VERSION,
        });
    }
    let mut c = Checker { problems: Vec::new() };
    check(&mut c, raw);
    let core_index_bits = raw.synapse_cost.index_bits_for_compartments(raw.core.max_compartments);
    let core_index_bits = match core_index_bits {
        Some(bits) if c.problems.is_empty() => bits,
        _ => {
            return Err(TargetError::Invalid {
                origin: origin.to_string(),
                problems: c.problems,
            });
        }
    };

    Ok(core_index_bits)
}
