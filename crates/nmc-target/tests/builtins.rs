//! The built-in targets parse, validate and hold the numbers of
//! /work/shared/design/loihi1.md (quoted next to each assertion).

use nmc_target::{
    AxonKind, NeuronModel, Overflow, ResetMode, SCHEMA_VERSION, Target, TargetError, builtin_names, builtin_source,
    render_table,
};

fn loihi1() -> Target {
    Target::builtin("loihi1").expect("loihi1 is built in")
}

fn tiny() -> Target {
    Target::builtin("tiny").expect("tiny is built in")
}

#[test]
fn builtin_names_all_load() {
    assert_eq!(builtin_names(), &["loihi1", "tiny"]);
    for name in builtin_names() {
        let src = builtin_source(name).expect("source embedded");
        // Parse with the real error path so a broken built-in shows its message.
        let t = Target::from_ron_str(src, &format!("targets/{name}.ron")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.name(), *name);
        assert_eq!(t.schema_version(), SCHEMA_VERSION);
        assert!(!t.description().is_empty());
        assert_eq!(
            Target::builtin(name).expect("built in").origin(),
            format!("builtin:{name}")
        );
    }
    assert!(Target::builtin("loihi2").is_none());
}

#[test]
fn loihi1_core_limits_match_the_doc() {
    let t = loihi1();
    // "1024 compartments (neurons) per core; 128 cores per chip."
    assert_eq!(t.core().max_compartments(), 1024);
    assert_eq!(t.system().cores_per_chip(), 128);
    // A multi-chip system (system configuration value).
    assert_eq!(t.system().max_chips(), 32);
    assert_eq!(t.system().max_cores(), 128 * 32);
    // "4096 input axons per core; 4096 output-axon slots per core (a population
    // axon of the 32-bit kind takes 2 slots)."
    assert_eq!(t.core().max_input_axons(), 4096);
    assert_eq!(t.core().max_output_axon_slots(), 4096);
    assert_eq!(t.axons().discrete().slots(), 1);
    assert_eq!(t.axons().population16().slots(), 1);
    assert_eq!(t.axons().population32().slots(), 2);
    // "1,048,576 synapse-memory bits per core (16384 words of 64 bits)."
    assert_eq!(t.core().synapse_memory_bits(), 1_048_576);
    assert_eq!(t.core().synapse_memory_bits(), 16384 * 64);
    // "order of 32 compartment profiles, 8–16 threshold profiles, 8–16 synapse
    // formats" (nengo-loihi: CX_PROFILES_MAX 32, VTH_PROFILES_MAX 8, SYNAPSE_FMTS_MAX 16).
    assert_eq!(t.core().max_compartment_profiles(), 32);
    assert_eq!(t.core().max_threshold_profiles(), 8);
    assert_eq!(t.core().max_synapse_formats(), 16);
    // "per-axon compartment base offset (0..255; multiples of 4 for the 16-bit kind)"
    let p16 = t.axons().kind(AxonKind::Population16);
    assert!(p16.base_allowed(0) && p16.base_allowed(252));
    assert!(!p16.base_allowed(2) && !p16.base_allowed(256));
    let p32 = t.axons().kind(AxonKind::Population32);
    assert!(p32.base_allowed(255) && p32.base_allowed(3) && !p32.base_allowed(256));
    assert_eq!(t.axons().discrete().max_atoms(), 1);
    assert_eq!(t.axons().population16().max_atoms(), 512);
}

#[test]
fn loihi1_synapse_cost_matches_the_doc() {
    let sc = loihi1().synapse_cost().clone();
    // "split into runs of up to 64 weights; a run costs n × (weight bits + delay
    // bits + tag bits, + index bits when stored sparse) + 4 + 6 header bits,
    // rounded up to a multiple of 64."
    assert_eq!(sc.max_run_length(), 64);
    assert_eq!(sc.format_index_bits(), 4);
    assert_eq!(sc.run_length_bits(), 6);
    assert_eq!(sc.run_header_bits(), 10);
    assert_eq!(sc.word_bits(), 64);
    assert_eq!(sc.delay_bits(), 0);
    assert_eq!(sc.tag_bits(), 0);
    // "population tables are stored with index bits (6..12, enough to address the core's compartments)"
    assert_eq!(sc.index_bits(), &[0, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(sc.core_index_bits(), 10);
    assert_eq!(sc.weight_bits(), &[1, 2, 3, 4, 5, 6, 8]);
}

#[test]
fn loihi1_formats_match_the_doc() {
    let t = loihi1();
    let f = t.formats();
    // "w_int = w_mant · 2^(6 + weight_exp), w_mant 8-bit signed (... even, |w_mant| ≤ 254),
    // weight_exp in −7..7"
    let w = f.weight();
    assert_eq!(w.mantissa_bits(), 8);
    assert!(w.mixed_sign_even());
    assert_eq!(w.exp_range(), -7..=7);
    assert_eq!(w.scale_shift(), 6);
    assert_eq!(w.max_abs_mantissa(0, true), 254);
    assert_eq!(w.max_abs_mantissa(0, false), 255);
    assert_eq!(w.weight_int(254, 0, true), Some(254 * 64));
    assert_eq!(w.weight_int(10, 0, true), Some(640)); // the NIR trace: one spike adds 640 = 10·2^6
    assert_eq!(w.weight_int(255, 0, true), None); // odd in a mixed-sign format
    assert_eq!(w.weight_int(-254, 7, true), Some(-254 * (1 << 13)));
    assert_eq!(w.weight_int(2, 8, true), None); // exponent out of range
    // "Threshold: vth = vth_mant · 2^6, vth_mant in 1..2^17−1."
    let th = f.threshold();
    assert_eq!((th.mantissa_bits(), th.shift()), (17, 6));
    assert_eq!((th.mantissa_min(), th.mantissa_max()), (1, (1 << 17) - 1));
    assert_eq!(th.value(25), Some(1600)); // the NIR trace's threshold 1600 = 25·2^6
    assert_eq!(th.value(0), None);
    // "Bias: bias = bias_mant · 2^bias_exp, bias_mant 12 bits + sign, bias_exp 0..7."
    let b = f.bias();
    assert_eq!((b.mantissa_bits(), b.mantissa_max()), (12, 4095));
    assert_eq!(b.exp_range(), 0..=7);
    assert_eq!(b.value(-4095, 7), Some(-4095 * 128));
    assert_eq!(b.value(4096, 0), None);
    // "Decays: decay_u, decay_v in 0..4095 ... the chip adds 1 to decay_u"
    let d = f.decay();
    assert_eq!((d.bits(), d.max(), d.one()), (12, 4095, 4096));
    assert_eq!((d.u_offset(), d.v_offset()), (1, 0));
    assert_eq!(d.u_factor(4095), Some(0)); // 4096 − 1 − 4095
    assert_eq!(d.v_factor(163), Some(4096 - 163));
    // The NIR trace: 640 → 614 → 589 → 565 with decay_v = 163.
    let fv = d.v_factor(163).expect("in range");
    assert_eq!(d.apply(640, fv), 614);
    assert_eq!(d.apply(614, fv), 589);
    assert_eq!(d.apply(589, fv), 565);
    assert_eq!(d.apply(-640, fv), -614); // sign · (|x|·f >> 12)
    // "Refractory delay at most 63 steps"
    assert_eq!(f.refractory().max_steps(), 63);
    // "q (input accumulator) 21 bits + sign, wraps; u (current) 23 bits + sign, wraps"
    assert_eq!(
        (f.accumulator().magnitude_bits(), f.accumulator().overflow()),
        (21, Overflow::Wrap)
    );
    assert_eq!(
        (f.current().magnitude_bits(), f.current().overflow()),
        (23, Overflow::Wrap)
    );
    assert_eq!(f.accumulator().apply(1 << 21), -(1 << 21));
    assert_eq!(f.current().apply((1 << 23) + 5), -(1 << 23) + 5);
    // "v is clipped to [vmin, vmax] with vmin = −2^k + 1 (k in 0..31) and vmax = 2^(9+2m) − 1 (m in 0..7)"
    let v = f.voltage();
    assert_eq!(v.register().overflow(), Overflow::Clip);
    assert_eq!(v.vmin_exp_range(), 0..=31);
    assert_eq!(v.vmax_exp_range(), 0..=7);
    assert_eq!(v.vmin(0), Some(0));
    assert_eq!(v.vmin(31), Some(-(1i64 << 31) + 1));
    assert_eq!(v.vmin(32), None);
    assert_eq!(v.vmax(0), Some(511));
    assert_eq!(v.vmax(7), Some((1 << 23) - 1));
    assert_eq!(v.vmax(8), None);
    assert_eq!((v.lowest_vmin(), v.highest_vmax()), (-(1i64 << 31) + 1, (1 << 23) - 1));
}

#[test]
fn loihi1_timing_and_neurons_match_the_doc() {
    let t = loihi1();
    // "spikes sent at step t−1 arrive at step t; spikes the host sends at its
    // step t−1 arrive at chip step t too" (nengo-loihi 1.1's emulator)
    assert_eq!(t.timing().synapse_delay_steps(), 1);
    assert_eq!(t.timing().host_input_extra_delay_steps(), 0);
    assert_eq!(t.timing().host_input_delay_steps(), 1);
    assert_eq!(t.timing().host_output_delay_steps(), Some(1));
    // tiny keeps the longer host path, so both latencies stay exercised.
    let tiny = tiny();
    assert_eq!(tiny.timing().host_input_delay_steps(), 2);
    assert_eq!(tiny.timing().host_output_delay_steps(), Some(2));
    // "on a spike v = 0": reset to zero, no subtractive reset.
    let n = t.neurons();
    assert!(n.supports_reset(ResetMode::Zero));
    assert!(!n.supports_reset(ResetMode::Subtract));
    for m in [NeuronModel::If, NeuronModel::Lif, NeuronModel::CubaLif] {
        assert!(n.supports_model(m), "{m:?}");
    }
    assert!(!n.supports_model(NeuronModel::Li));
}

#[test]
fn tiny_is_small_with_loihi1_numerics() {
    let (l, t) = (loihi1(), tiny());
    assert_eq!(t.system().cores_per_chip(), 4);
    assert!((2..=4).contains(&t.system().max_chips()));
    assert_eq!(t.core().max_compartments(), 32);
    assert_eq!(t.core().max_input_axons(), 64);
    assert_eq!(t.core().max_output_axon_slots(), 64);
    assert_eq!(t.core().synapse_memory_bits(), 4096);
    assert_eq!(t.core().max_compartment_profiles(), 4);
    assert_eq!(t.core().max_threshold_profiles(), 4);
    assert_eq!(t.core().max_synapse_formats(), 4);
    assert_eq!(t.synapse_cost().core_index_bits(), 6);
    // Same numerics, same costing rule (except the core-size-dependent index width).
    assert_eq!(t.formats(), l.formats());
    assert_eq!(t.timing().synapse_delay_steps(), l.timing().synapse_delay_steps());
    // …except the host latency: tiny keeps 2 steps (loihi1 1) so both are exercised.
    assert_eq!(t.timing().host_input_delay_steps(), 2);
    assert_eq!(t.neurons(), l.neurons());
    assert_eq!(t.synapse_bits(64, 8, false), l.synapse_bits(64, 8, false));
    for kind in AxonKind::ALL {
        assert_eq!(t.axons().kind(kind).slots(), l.axons().kind(kind).slots());
        assert!(t.axons().kind(kind).max_base() < t.core().max_compartments());
    }
    // Seven dense runs of 64 8-bit weights fit a tiny core, eight do not.
    assert!(7 * t.synapse_bits(64, 8, false) <= t.core().synapse_memory_bits());
    assert!(8 * t.synapse_bits(64, 8, false) > t.core().synapse_memory_bits());
}

#[test]
fn raw_ron_raw_round_trip() {
    for name in builtin_names() {
        let t = Target::builtin(name).expect("built in");
        let ron = t.to_ron().expect("serializes");
        let back = Target::from_ron_str(&ron, "shown.ron").unwrap_or_else(|e| panic!("{e}\n{ron}"));
        assert_eq!(back.raw(), t.raw());
        assert_eq!(back.to_raw(), t.to_raw());
        assert_eq!(back.formats(), t.formats());
        // Writing again gives the same text.
        assert_eq!(back.to_ron().expect("serializes"), ron);
    }
}

#[test]
fn load_by_name_path_or_neither() {
    assert_eq!(Target::load("tiny").expect("built in").name(), "tiny");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../targets/loihi1.ron");
    let t = Target::load(path).expect("file loads");
    assert_eq!(t.name(), "loihi1");
    assert_eq!(t.origin(), path);
    assert_eq!(t.raw(), loihi1().raw());
    assert_eq!(t, loihi1()); // equality ignores the origin
    assert_ne!(t, tiny());

    let e = Target::load("no-such-chip").expect_err("neither");
    assert!(matches!(e, TargetError::NotFound { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("no-such-chip") && msg.contains("loihi1") && msg.contains("tiny"),
        "{msg}"
    );

    let dir = std::env::temp_dir().join(format!("nmc-target-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, "(schema_version: 1, name: \"x\")").expect("write");
    let e = Target::load(bad.to_str().expect("utf-8")).expect_err("incomplete file");
    assert!(e.to_string().starts_with(bad.to_str().expect("utf-8")), "{e}");
    let e = Target::from_file(&dir).expect_err("a directory is not a file");
    assert!(matches!(e, TargetError::Io { .. }), "{e:?}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn table_lists_key_limits_aligned() {
    let table = render_table(&[loihi1(), tiny()]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("target"));
    for needle in [
        "cores/chip",
        "chips",
        "compartments/core",
        "axons in",
        "axons out",
        "synapse bits/core",
        "weight bits",
    ] {
        assert!(lines[0].contains(needle), "{needle}: {table}");
    }
    let loihi: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(loihi, ["loihi1", "128", "32", "1024", "4096", "4096", "1048576", "8"]);
    let tiny: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(tiny, ["tiny", "4", "4", "32", "64", "64", "4096", "8"]);
    // Right-aligned numbers: every line has the same length.
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
    let row = loihi1().summary_row();
    assert_eq!(row.synapse_bits_per_core, 1_048_576);
    assert_eq!(render_table(&[]).lines().count(), 1);
}
