//! Every validation rule rejects a broken target and names the field.

use nmc_target::{NeuronModel, RawTarget, ResetMode, Target, TargetError};

fn loihi1() -> RawTarget {
    Target::builtin("loihi1").expect("built in").to_raw()
}

fn tiny() -> RawTarget {
    Target::builtin("tiny").expect("built in").to_raw()
}

/// Applies `edit` to `base`, expects rejection naming `field`, and returns the message.
fn rejects(base: RawTarget, field: &str, edit: impl FnOnce(&mut RawTarget)) -> String {
    let mut raw = base;
    edit(&mut raw);
    let e = Target::from_raw(raw, "targets/x.ron").expect_err("must be rejected");
    let msg = e.to_string();
    assert!(
        e.field_paths().iter().any(|p| p == field),
        "expected {field} in {:?}\n{msg}",
        e.field_paths()
    );
    assert!(msg.contains(&format!("targets/x.ron: {field}: ")), "{msg}");
    msg
}

#[test]
fn the_example_message() {
    let msg = rejects(loihi1(), "core.max_compartments", |r| r.core.max_compartments = 0);
    assert!(
        msg.contains("targets/x.ron: core.max_compartments: must be > 0"),
        "{msg}"
    );
}

#[test]
fn all_problems_are_reported_together() {
    let mut raw = loihi1();
    raw.system.cores_per_chip = 0;
    raw.formats.decay.u_offset = 5;
    raw.neurons.models.clear();
    let e = Target::from_raw(raw, "x.ron").expect_err("invalid");
    let TargetError::Invalid { problems, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(problems.len(), 3, "{e}");
    assert_eq!(
        e.field_paths(),
        ["system.cores_per_chip", "formats.decay.u_offset", "neurons.models"]
    );
    assert_eq!(e.to_string().lines().count(), 3);
}

#[test]
fn schema_version_of_a_raw_target() {
    let mut raw = loihi1();
    raw.schema_version = 2;
    let e = Target::from_raw(raw, "x.ron").expect_err("invalid");
    assert!(matches!(e, TargetError::SchemaVersion { found: 2, .. }), "{e:?}");
}

#[test]
fn identity() {
    rejects(loihi1(), "name", |r| r.name.clear());
    let msg = rejects(loihi1(), "name", |r| r.name = "my chip".into());
    assert!(msg.contains("may contain only"), "{msg}");
    rejects(loihi1(), "description", |r| r.description = "  ".into());
}

#[test]
fn system() {
    rejects(loihi1(), "system.cores_per_chip", |r| r.system.cores_per_chip = 0);
    rejects(loihi1(), "system.max_chips", |r| r.system.max_chips = 0);
}

#[test]
fn core_limits() {
    rejects(loihi1(), "core.max_compartments", |r| r.core.max_compartments = 0);
    rejects(loihi1(), "core.max_input_axons", |r| r.core.max_input_axons = 0);
    rejects(loihi1(), "core.max_output_axon_slots", |r| {
        r.core.max_output_axon_slots = 0
    });
    rejects(loihi1(), "core.synapse_memory_bits", |r| r.core.synapse_memory_bits = 0);
    let msg = rejects(loihi1(), "core.synapse_memory_bits", |r| {
        r.core.synapse_memory_bits = 1000
    });
    assert!(msg.contains("whole number of synapse_cost.word_bits"), "{msg}");
}

#[test]
fn profile_tables() {
    rejects(loihi1(), "core.profiles.compartment", |r| {
        r.core.profiles.compartment = 0
    });
    rejects(loihi1(), "core.profiles.threshold", |r| r.core.profiles.threshold = 0);
    rejects(loihi1(), "core.profiles.synapse_format", |r| {
        r.core.profiles.synapse_format = 0
    });
    // 17 formats cannot be named by a 4-bit format index.
    let msg = rejects(loihi1(), "core.profiles.synapse_format", |r| {
        r.core.profiles.synapse_format = 17
    });
    assert!(msg.contains("format_index_bits"), "{msg}");
}

#[test]
fn axon_kinds() {
    rejects(loihi1(), "axons.discrete.slots", |r| r.axons.discrete.slots = 0);
    rejects(tiny(), "axons.population32.slots", |r| r.axons.population32.slots = 65);
    rejects(loihi1(), "axons.population16.max_atom_bits", |r| {
        r.axons.population16.max_atom_bits = 32
    });
    rejects(loihi1(), "axons.population16.base_multiple", |r| {
        r.axons.population16.base_multiple = 0
    });
    let msg = rejects(loihi1(), "axons.population16.max_base", |r| {
        r.axons.population16.max_base = 254
    });
    assert!(msg.contains("multiple of base_multiple"), "{msg}");
    let msg = rejects(tiny(), "axons.population32.max_base", |r| {
        r.axons.population32.max_base = 32
    });
    assert!(msg.contains("core.max_compartments"), "{msg}");
}

#[test]
fn synapse_cost() {
    rejects(loihi1(), "synapse_cost.word_bits", |r| r.synapse_cost.word_bits = 0);
    rejects(loihi1(), "synapse_cost.max_run_length", |r| {
        r.synapse_cost.max_run_length = 0
    });
    // 65 synapses do not fit a 6-bit run length.
    rejects(loihi1(), "synapse_cost.max_run_length", |r| {
        r.synapse_cost.max_run_length = 65
    });
    rejects(loihi1(), "synapse_cost.format_index_bits", |r| {
        r.synapse_cost.format_index_bits = 64
    });
    rejects(loihi1(), "synapse_cost.run_length_bits", |r| {
        r.synapse_cost.run_length_bits = 64
    });
    rejects(loihi1(), "synapse_cost.delay_bits", |r| r.synapse_cost.delay_bits = 64);
    rejects(loihi1(), "synapse_cost.tag_bits", |r| r.synapse_cost.tag_bits = 100);
    rejects(loihi1(), "synapse_cost.weight_bits", |r| {
        r.synapse_cost.weight_bits.clear()
    });
    rejects(loihi1(), "synapse_cost.weight_bits", |r| {
        r.synapse_cost.weight_bits = vec![8, 4]
    });
    rejects(loihi1(), "synapse_cost.weight_bits", |r| {
        r.synapse_cost.weight_bits = vec![0, 8]
    });
    let msg = rejects(loihi1(), "synapse_cost.weight_bits", |r| {
        r.synapse_cost.weight_bits = vec![1, 2, 4]
    });
    assert!(msg.contains("formats.weight.mantissa_bits"), "{msg}");
    rejects(loihi1(), "synapse_cost.index_bits", |r| {
        r.synapse_cost.index_bits.clear()
    });
    rejects(loihi1(), "synapse_cost.index_bits", |r| {
        r.synapse_cost.index_bits = vec![0, 6, 6, 10]
    });
    rejects(loihi1(), "synapse_cost.index_bits", |r| {
        r.synapse_cost.index_bits = vec![6, 64]
    });
    // 9 bits address 512 compartments, not 1024.
    let msg = rejects(loihi1(), "synapse_cost.index_bits", |r| {
        r.synapse_cost.index_bits = vec![0, 6, 7, 8, 9]
    });
    assert!(msg.contains("cannot address core.max_compartments"), "{msg}");
}

#[test]
fn width_over_63_bits() {
    for field in [
        "formats.accumulator.magnitude_bits",
        "formats.current.magnitude_bits",
        "formats.voltage.magnitude_bits",
    ] {
        let msg = rejects(loihi1(), field, |r| match field {
            "formats.accumulator.magnitude_bits" => r.formats.accumulator.magnitude_bits = 64,
            "formats.current.magnitude_bits" => r.formats.current.magnitude_bits = 64,
            _ => r.formats.voltage.magnitude_bits = 64,
        });
        assert!(msg.contains("64 bits is out of range"), "{msg}");
    }
    rejects(loihi1(), "formats.accumulator.magnitude_bits", |r| {
        r.formats.accumulator.magnitude_bits = 0
    });
    rejects(loihi1(), "formats.weight.mantissa_bits", |r| {
        r.formats.weight.mantissa_bits = 64
    });
    rejects(loihi1(), "formats.weight.scale_shift", |r| {
        r.formats.weight.scale_shift = 64
    });
    rejects(loihi1(), "formats.threshold.shift", |r| r.formats.threshold.shift = 64);
    rejects(loihi1(), "formats.bias.mantissa_bits", |r| {
        r.formats.bias.mantissa_bits = 64
    });
}

#[test]
fn weight_format() {
    rejects(loihi1(), "formats.weight.mantissa_bits", |r| {
        r.formats.weight.mantissa_bits = 0
    });
    rejects(loihi1(), "formats.weight.exp_min", |r| r.formats.weight.exp_min = 8);
    rejects(loihi1(), "formats.weight.exp_min", |r| r.formats.weight.exp_min = -100);
    rejects(loihi1(), "formats.weight.exp_max", |r| r.formats.weight.exp_max = 100);
    rejects(loihi1(), "formats.weight.mixed_sign_even", |r| {
        r.formats.weight.mantissa_bits = 1;
        r.synapse_cost.weight_bits = vec![1];
    });
    rejects(loihi1(), "formats.weight.granularity_shift", |r| {
        r.formats.weight.granularity_shift = 7
    });
    // 8 + 6 + 8 = 22 bits do not fit the 21-bit accumulator.
    let msg = rejects(loihi1(), "formats.weight.exp_max", |r| r.formats.weight.exp_max = 8);
    assert!(msg.contains("formats.accumulator"), "{msg}");
    // At exp −8 mantissas must be multiples of 2^8 > 255.
    let msg = rejects(loihi1(), "formats.weight.exp_min", |r| r.formats.weight.exp_min = -8);
    assert!(msg.contains("no non-zero mantissa"), "{msg}");
}

#[test]
fn threshold_and_bias() {
    rejects(loihi1(), "formats.threshold.mantissa_bits", |r| {
        r.formats.threshold.mantissa_bits = 0
    });
    // 26 + 6 > 31 voltage bits.
    rejects(loihi1(), "formats.threshold.mantissa_bits", |r| {
        r.formats.threshold.mantissa_bits = 26
    });
    rejects(loihi1(), "formats.bias.mantissa_bits", |r| {
        r.formats.bias.mantissa_bits = 0
    });
    rejects(loihi1(), "formats.bias.exp_min", |r| r.formats.bias.exp_min = 8);
    // 12 + 12 > 23 current bits.
    let msg = rejects(loihi1(), "formats.bias.exp_max", |r| r.formats.bias.exp_max = 12);
    assert!(msg.contains("formats.current"), "{msg}");
}

#[test]
fn decay_and_refractory() {
    rejects(loihi1(), "formats.decay.bits", |r| r.formats.decay.bits = 0);
    rejects(loihi1(), "formats.decay.bits", |r| r.formats.decay.bits = 32);
    // 24 decay bits times a 40-bit voltage overflow 63 bits.
    rejects(loihi1(), "formats.decay.bits", |r| {
        r.formats.voltage.magnitude_bits = 40;
        r.formats.decay.bits = 24;
    });
    rejects(loihi1(), "formats.decay.u_offset", |r| r.formats.decay.u_offset = 2);
    rejects(loihi1(), "formats.decay.v_offset", |r| r.formats.decay.v_offset = 2);
    rejects(loihi1(), "formats.refractory.max_steps", |r| {
        r.formats.refractory.max_steps = 1 << 20
    });
}

#[test]
fn voltage_bounds() {
    rejects(loihi1(), "formats.voltage.vmin_exp_min", |r| {
        r.formats.voltage.vmin_exp_min = 32
    });
    // vmin = −2^32 + 1 does not fit 31 bits.
    rejects(loihi1(), "formats.voltage.vmin_exp_max", |r| {
        r.formats.voltage.vmin_exp_max = 32
    });
    rejects(loihi1(), "formats.voltage.vmax_exp_min", |r| {
        r.formats.voltage.vmax_exp_min = 8
    });
    // vmax exponent out of range: 9 + 2·12 = 33 > 31.
    let msg = rejects(loihi1(), "formats.voltage.vmax_exp_max", |r| {
        r.formats.voltage.vmax_exp_max = 12
    });
    assert!(msg.contains("2^33 - 1"), "{msg}");
    rejects(loihi1(), "formats.voltage.vmax_exp_max", |r| {
        r.formats.voltage.vmax_base = 30
    });
}

#[test]
fn timing() {
    rejects(loihi1(), "timing.synapse_delay_steps", |r| {
        r.timing.synapse_delay_steps = 0
    });
    rejects(loihi1(), "timing.host_input_extra_delay_steps", |r| {
        r.timing.host_input_extra_delay_steps = 1 << 20
    });
    rejects(loihi1(), "timing.host_output_delay_steps", |r| {
        r.timing.host_output_delay_steps = Some(0)
    });
}

#[test]
fn neurons() {
    rejects(loihi1(), "neurons.models", |r| r.neurons.models.clear());
    rejects(loihi1(), "neurons.models", |r| r.neurons.models.push(NeuronModel::Lif));
    rejects(loihi1(), "neurons.reset_modes", |r| r.neurons.reset_modes.clear());
    rejects(loihi1(), "neurons.reset_modes", |r| {
        r.neurons.reset_modes = vec![ResetMode::Zero, ResetMode::Zero]
    });
}

#[test]
fn valid_variants_are_accepted() {
    // A target may support subtractive reset, more models, wider words ...
    let mut raw = loihi1();
    raw.name = "loihi1-variant".into();
    raw.neurons.reset_modes.push(ResetMode::Subtract);
    raw.neurons.models.push(NeuronModel::Li);
    raw.system.max_chips = 2;
    raw.synapse_cost.delay_bits = 3;
    let t = Target::from_raw(raw, "variant.ron").expect("valid");
    assert!(t.neurons().supports_reset(ResetMode::Subtract));
    assert_eq!(t.system().max_cores(), 256);
    // One 8-bit dense weight with 3 delay bits: 11 + 10 = 21 → 64.
    assert_eq!(t.synapse_bits(1, 8, false), 64);
}
