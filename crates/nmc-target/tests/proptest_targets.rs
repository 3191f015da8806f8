//! Random valid raw targets validate (and survive RON); a random field
//! pushed out of range is rejected with that field named.

use nmc_target::raw::{
    RawAxonKind, RawAxons, RawBias, RawCore, RawDecay, RawFormats, RawNeurons, RawProfiles, RawRefractory, RawRegister,
    RawSynapseCost, RawSystem, RawThreshold, RawTiming, RawVoltage, RawWeight,
};
use nmc_target::{NeuronModel, Overflow, RawTarget, ResetMode, SCHEMA_VERSION, Target, raw_from_ron_str};
use proptest::prelude::*;
use proptest::sample::subsequence;

fn overflow() -> impl Strategy<Value = Overflow> {
    prop_oneof![Just(Overflow::Wrap), Just(Overflow::Clip)]
}

/// (max_compartments, max_output_axon_slots, cores, chips, input axons)
fn sizes() -> impl Strategy<Value = (u32, u32, u32, u32, u32)> {
    (1u32..=4096, 2u32..=4096, 1u32..=256, 1u32..=64, 1u32..=8192)
}

fn axon_kind(max_compartments: u32) -> impl Strategy<Value = RawAxonKind> {
    (1u32..=2, 0u32..=16, 1u32..=8, any::<u32>()).prop_map(move |(slots, max_atom_bits, base_multiple, j)| {
        let steps = (max_compartments - 1) / base_multiple;
        RawAxonKind {
            slots,
            max_atom_bits,
            max_base: (j % (steps + 1)) * base_multiple,
            base_multiple,
        }
    })
}

/// (synapse cost, format_index_bits) for weight mantissa bits `m`.
fn synapse_cost(m: u32) -> impl Strategy<Value = RawSynapseCost> {
    (
        prop_oneof![Just(8u32), Just(16), Just(32), Just(64), Just(128)],
        1u32..=8,
        any::<u32>(),
        1u32..=6,
        0u32..=4,
        0u32..=3,
        subsequence((1u32..=16).collect::<Vec<_>>(), 0..=6),
    )
        .prop_map(
            move |(word_bits, run_length_bits, run, format_index_bits, delay_bits, tag_bits, extra)| {
                let mut weight_bits = extra;
                weight_bits.push(m);
                weight_bits.sort_unstable();
                weight_bits.dedup();
                RawSynapseCost {
                    word_bits,
                    max_run_length: 1 + run % (1 << run_length_bits),
                    format_index_bits,
                    run_length_bits,
                    delay_bits,
                    tag_bits,
                    weight_bits,
                    index_bits: vec![0, 6, 7, 8, 9, 10, 11, 12],
                }
            },
        )
}

fn formats() -> impl Strategy<Value = RawFormats> {
    (
        // weight: m, s, e_max, extra accumulator bits, exp span, granularity
        (
            1u32..=10,
            0u32..=8,
            0i32..=8,
            0u32..=8,
            0i32..=10,
            any::<u32>(),
            any::<bool>(),
        ),
        // voltage bits, threshold, vmin, vmax
        (
            1u32..=40,
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            0u32..=3,
            any::<u32>(),
            any::<u32>(),
        ),
        // current bits, bias
        (1u32..=40, any::<u32>(), any::<u32>(), any::<u32>()),
        // decay, refractory, overflows
        (
            1u32..=16,
            0u32..=1,
            0u32..=1,
            0u32..=255,
            overflow(),
            overflow(),
            overflow(),
        ),
    )
        .prop_map(|(w, v, b, d)| {
            let (m, s, e_max, extra, span, g_raw, even) = w;
            let g = g_raw % (s + 1);
            let accumulator_bits = m + s + e_max.unsigned_abs() + extra;
            let e_min = (e_max - span).max(g as i32 - s as i32 - m as i32 + 1);
            let (vbits, t1, t2, k_raw, b_raw, step, mmax_raw, mmin_raw) = v;
            let tm = 1 + t1 % vbits;
            let ts = t2 % (vbits - tm + 1);
            let vmin_exp_max = k_raw % (vbits + 1);
            let vmax_base = b_raw % (vbits + 1);
            // With step 0 any m is fine; otherwise base + step·m must fit.
            let vmax_exp_max = (mmax_raw % 8).min((vbits - vmax_base).checked_div(step).unwrap_or(u32::MAX));
            let (ubits, b1, b2, b3) = b;
            let bm = 1 + b1 % ubits;
            let be_max = b2 % (ubits - bm + 1);
            let (dbits, uo, vo, refr, o1, o2, o3) = d;
            RawFormats {
                weight: RawWeight {
                    mantissa_bits: m,
                    mixed_sign_even: even && m >= 2,
                    exp_min: e_min,
                    exp_max: e_max,
                    scale_shift: s,
                    granularity_shift: g,
                },
                threshold: RawThreshold {
                    mantissa_bits: tm,
                    shift: ts,
                },
                bias: RawBias {
                    mantissa_bits: bm,
                    exp_min: b3 % (be_max + 1),
                    exp_max: be_max,
                },
                decay: RawDecay {
                    bits: dbits,
                    u_offset: uo,
                    v_offset: vo,
                },
                refractory: RawRefractory { max_steps: refr },
                accumulator: RawRegister {
                    magnitude_bits: accumulator_bits,
                    overflow: o1,
                },
                current: RawRegister {
                    magnitude_bits: ubits,
                    overflow: o2,
                },
                voltage: RawVoltage {
                    magnitude_bits: vbits,
                    overflow: o3,
                    vmin_exp_min: k_raw % (vmin_exp_max + 1),
                    vmin_exp_max,
                    vmax_base,
                    vmax_step: step,
                    vmax_exp_min: mmin_raw % (vmax_exp_max + 1),
                    vmax_exp_max,
                },
            }
        })
}

fn valid_raw() -> impl Strategy<Value = RawTarget> {
    (
        sizes(),
        formats(),
        "[a-z][a-z0-9_.-]{0,10}",
        "[A-Za-z][A-Za-z0-9 ]{0,20}",
    )
        .prop_flat_map(|((c, out_slots, cores, chips, in_axons), formats, name, description)| {
            let m = formats.weight.mantissa_bits;
            (
                Just((c, out_slots, cores, chips, in_axons)),
                Just(formats),
                Just((name, description)),
                synapse_cost(m),
                (axon_kind(c), axon_kind(c), axon_kind(c)),
                (1u64..=20000, 1u32..=64, 1u32..=32, any::<u32>()),
                (1u32..=4, 0u32..=4),
                subsequence(
                    vec![
                        NeuronModel::I,
                        NeuronModel::If,
                        NeuronModel::Li,
                        NeuronModel::Lif,
                        NeuronModel::CubaLi,
                        NeuronModel::CubaLif,
                    ],
                    1..=6,
                ),
                subsequence(vec![ResetMode::Zero, ResetMode::Subtract], 1..=2),
            )
        })
        .prop_map(
            |(
                (c, out_slots, cores, chips, in_axons),
                formats,
                (name, description),
                synapse_cost,
                (discrete, population16, population32),
                (words, cx_profiles, vth_profiles, fmt_raw),
                (delay, host),
                models,
                reset_modes,
            )| {
                let formats_max = 1u32 << synapse_cost.format_index_bits;
                let mut raw = RawTarget {
                    schema_version: SCHEMA_VERSION,
                    name,
                    description,
                    system: RawSystem {
                        cores_per_chip: cores,
                        max_chips: chips,
                    },
                    core: RawCore {
                        max_compartments: c,
                        max_input_axons: in_axons,
                        max_output_axon_slots: out_slots,
                        synapse_memory_bits: words * u64::from(synapse_cost.word_bits),
                        profiles: RawProfiles {
                            compartment: cx_profiles,
                            threshold: vth_profiles,
                            synapse_format: 1 + fmt_raw % formats_max,
                        },
                    },
                    axons: RawAxons {
                        discrete,
                        population16,
                        population32,
                    },
                    synapse_cost,
                    formats,
                    timing: RawTiming {
                        synapse_delay_steps: delay,
                        host_input_extra_delay_steps: host,
                        host_output_delay_steps: Some(delay),
                    },
                    neurons: RawNeurons { models, reset_modes },
                    rule: None,
                };
                // Half the files state the rule the formats imply.
                if fmt_raw % 2 == 0 {
                    raw.rule = Some(nmc_target::family_rule(&raw));
                }
                raw
            },
        )
}

type Perturbation = (&'static str, fn(&mut RawTarget, u32));

/// The file's `rule` section, stated first if the file had none.
fn stated(r: &mut RawTarget) -> &mut nmc_rule::Rule {
    let implied = nmc_target::family_rule(r);
    r.rule.get_or_insert(implied)
}

/// Each edit breaks exactly the rule reported at its field, whatever the valid target.
const PERTURBATIONS: &[Perturbation] = &[
    ("name", |r, _| r.name.clear()),
    ("system.cores_per_chip", |r, _| r.system.cores_per_chip = 0),
    ("system.max_chips", |r, _| r.system.max_chips = 0),
    ("core.max_compartments", |r, _| r.core.max_compartments = 0),
    ("core.max_input_axons", |r, _| r.core.max_input_axons = 0),
    ("core.max_output_axon_slots", |r, _| r.core.max_output_axon_slots = 0),
    ("core.synapse_memory_bits", |r, x| {
        r.core.synapse_memory_bits += 1 + u64::from(x % 7)
    }),
    ("core.profiles.compartment", |r, _| r.core.profiles.compartment = 0),
    ("core.profiles.threshold", |r, _| r.core.profiles.threshold = 0),
    ("core.profiles.synapse_format", |r, x| {
        r.core.profiles.synapse_format = (1 << r.synapse_cost.format_index_bits) + 1 + x % 100
    }),
    ("axons.discrete.max_atom_bits", |r, x| {
        r.axons.discrete.max_atom_bits = 32 + x % 100
    }),
    ("axons.population16.base_multiple", |r, _| {
        r.axons.population16.base_multiple = 0
    }),
    ("axons.population32.max_base", |r, x| {
        r.axons.population32.max_base = r.core.max_compartments + x % 100
    }),
    ("axons.population32.slots", |r, _| r.axons.population32.slots = 0),
    ("synapse_cost.word_bits", |r, _| r.synapse_cost.word_bits = 0),
    ("synapse_cost.max_run_length", |r, x| {
        r.synapse_cost.max_run_length = (1 << r.synapse_cost.run_length_bits) + 1 + x % 100
    }),
    ("synapse_cost.weight_bits", |r, _| {
        let m = r.formats.weight.mantissa_bits;
        r.synapse_cost.weight_bits.retain(|&b| b != m)
    }),
    ("synapse_cost.index_bits", |r, _| r.synapse_cost.index_bits.reverse()),
    ("synapse_cost.delay_bits", |r, x| {
        r.synapse_cost.delay_bits = 64 + x % 1000
    }),
    ("formats.accumulator.magnitude_bits", |r, x| {
        r.formats.accumulator.magnitude_bits = 64 + x % 1000
    }),
    ("formats.current.magnitude_bits", |r, _| {
        r.formats.current.magnitude_bits = 0
    }),
    ("formats.voltage.magnitude_bits", |r, x| {
        r.formats.voltage.magnitude_bits = 64 + x % 1000
    }),
    ("formats.voltage.vmin_exp_max", |r, x| {
        r.formats.voltage.vmin_exp_max = r.formats.voltage.magnitude_bits + 1 + x % 10
    }),
    ("formats.voltage.vmax_exp_min", |r, x| {
        r.formats.voltage.vmax_exp_min = r.formats.voltage.vmax_exp_max + 1 + x % 10
    }),
    ("formats.weight.exp_min", |r, x| {
        r.formats.weight.exp_min = r.formats.weight.exp_max + 1 + (x % 10) as i32
    }),
    ("formats.weight.exp_max", |r, x| {
        let w = &r.formats.weight;
        let fits = r.formats.accumulator.magnitude_bits as i32 - w.mantissa_bits as i32 - w.scale_shift as i32;
        r.formats.weight.exp_max = fits + 1 + (x % 10) as i32
    }),
    ("formats.weight.mixed_sign_even", |r, _| {
        r.formats.weight.mixed_sign_even = true;
        r.formats.weight.mantissa_bits = 1;
        r.synapse_cost.weight_bits = vec![1];
    }),
    ("formats.weight.granularity_shift", |r, x| {
        r.formats.weight.granularity_shift = r.formats.weight.scale_shift + 1 + x % 10
    }),
    ("formats.threshold.mantissa_bits", |r, x| {
        r.formats.threshold.mantissa_bits = r.formats.voltage.magnitude_bits + 1 + x % 10
    }),
    ("formats.bias.exp_min", |r, x| {
        r.formats.bias.exp_min = r.formats.bias.exp_max + 1 + x % 10
    }),
    ("formats.decay.bits", |r, x| r.formats.decay.bits = 32 + x % 100),
    ("formats.decay.u_offset", |r, x| r.formats.decay.u_offset = 2 + x % 100),
    ("timing.synapse_delay_steps", |r, _| r.timing.synapse_delay_steps = 0),
    ("neurons.models", |r, _| r.neurons.models.clear()),
    ("neurons.reset_modes", |r, _| {
        let first = r.neurons.reset_modes[0];
        r.neurons.reset_modes.push(first)
    }),
    ("rule.reset", |r, _| stated(r).reset = nmc_rule::Reset::Subtract),
    ("rule.weight_exponent", |r, _| {
        stated(r).weight_exponent = nmc_rule::WeightExponent::OnSum
    }),
    // The stated overflow must be the one formats.current.overflow gives.
    ("rule.overflow.current", |r, _| {
        let o = &mut stated(r).overflow.current;
        *o = match *o {
            nmc_rule::Register::Wrap => nmc_rule::Register::Clip,
            _ => nmc_rule::Register::Wrap,
        }
    }),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_valid_targets_validate(raw in valid_raw()) {
        let t = Target::from_raw(raw.clone(), "random.ron").map_err(|e| TestCaseError::fail(format!("{e}\n{raw:#?}")))?;
        // Raw → RON → raw is the identity.
        let ron = t.to_ron().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = raw_from_ron_str(&ron, "random.ron").map_err(|e| TestCaseError::fail(format!("{e}\n{ron}")))?;
        prop_assert_eq!(&back, &raw);
        // Derived numbers are consistent with the file.
        prop_assert!(t.formats().weight().max_abs_weight_int() <= t.formats().accumulator().max());
        prop_assert!(t.formats().threshold().max_value() <= t.formats().voltage().register().max());
        prop_assert!(t.formats().bias().max_value() <= t.formats().current().max());
        prop_assert!(t.formats().voltage().lowest_vmin() >= t.formats().voltage().register().min());
        prop_assert!(t.formats().voltage().highest_vmax() <= t.formats().voltage().register().max());
        let sc = t.synapse_cost();
        prop_assert!(sc.index_bits_for(u64::from(t.core().max_compartments() - 1)).is_some());
        let one_run = t.synapse_bits(sc.max_run_length() as usize, 8, true);
        prop_assert_eq!(one_run % u64::from(sc.word_bits()), 0);
        for e in t.formats().weight().exp_range() {
            let wf = t.formats().weight();
            prop_assert!(wf.max_abs_mantissa(e, true) > 0, "exp {}", e);
            prop_assert!(wf.weight_int(wf.max_abs_mantissa(e, true), e, true).is_some());
        }
    }

    #[test]
    fn perturbed_fields_are_named(raw in valid_raw(), which in 0..PERTURBATIONS.len(), x in any::<u32>()) {
        let (field, edit) = PERTURBATIONS[which];
        let mut broken = raw;
        edit(&mut broken, x);
        let e = Target::from_raw(broken, "random.ron").err();
        prop_assert!(e.is_some(), "{} accepted", field);
        let e = e.expect("checked");
        prop_assert!(e.field_paths().iter().any(|p| p == field), "{} not in {:?}: {}", field, e.field_paths(), e);
        prop_assert!(e.to_string().contains(&format!("random.ron: {field}: ")), "{}", e);
    }
}
