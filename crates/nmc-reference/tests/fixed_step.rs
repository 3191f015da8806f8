#![allow(clippy::unwrap_used)]
//! Golden unit vectors of the integer step, computed by hand (see the
//! comments). Every model is one neuron fed by event inputs through a dense
//! connection of latency 1, so an event at step `t` is accumulated at `t + 1`.

mod fixed_common;

use fixed_common::*;
use nmc_ir::qmodel::PerNeuron;
use nmc_reference::fixed::{FixedError, Register};
use nmc_trace::OverflowEvent;

/// loihi1 (u_offset 1): stored decay_u = 0 gives the factor 4096 − 1 − 0 = 4095.
/// One event through w_int = 64·2^6 = 4096 at step 0 reaches q at step 1:
///   u1 = 4096
///   u2 = (4096·4095) >> 12 = 4095
///   u3 = (4095·4095) >> 12 = 16769025 >> 12 = 4094   (4094·4096 = 16769024)
///   u4 = (4094·4095) >> 12 = 16764930 >> 12 = 4093   (4093·4096 = 16764928)
/// and the negative mirror truncates toward zero: −4096, −4095, −4094, −4093.
#[test]
fn current_decay_with_the_plus_one_offset() {
    let t = loihi1();
    let mut c = compartment();
    c.decay_u = PerNeuron::Uniform(0);
    for (mant, sign) in [(64i16, 1i64), (-64, -1)] {
        let m = one_neuron(&t, c.clone(), 0, vec![mant]);
        let r = probe_run(&m, &t, &events_at(5, &[(0, 1.0)]), false).unwrap();
        assert_eq!(column(&r.probe, |p| p.q), vec![0, 4096 * sign, 0, 0, 0]);
        assert_eq!(
            column(&r.probe, |p| p.u),
            vec![0, 4096 * sign, 4095 * sign, 4094 * sign, 4093 * sign]
        );
    }
    // Stored decay_u 1023 → factor 4096 − 1 − 1023 = 3072 (×3/4):
    //   4096 → 3072 → 2304 → 1728.
    c.decay_u = PerNeuron::Uniform(1023);
    let m = one_neuron(&t, c, 0, vec![64]);
    let r = probe_run(&m, &t, &events_at(5, &[(0, 1.0)]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.u), vec![0, 4096, 3072, 2304, 1728]);
}

/// A target without the offset (u_offset 0): stored decay_u = 0 is factor
/// 4096, no decay at all (u stays 4096); stored 1024 is the factor 3072 that
/// loihi1 reaches with stored 1023.
#[test]
fn current_decay_without_the_offset() {
    let t = loihi1_variant("loihi1-nooffset", "u_offset: 1", "u_offset: 0");
    let mut c = compartment();
    c.decay_u = PerNeuron::Uniform(0);
    let m = one_neuron(&t, c.clone(), 0, vec![64]);
    let r = probe_run(&m, &t, &events_at(5, &[(0, 1.0)]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.u), vec![0, 4096, 4096, 4096, 4096]);
    c.decay_u = PerNeuron::Uniform(1024);
    let m = one_neuron(&t, c, 0, vec![64]);
    let r = probe_run(&m, &t, &events_at(5, &[(0, 1.0)]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.u), vec![0, 4096, 3072, 2304, 1728]);
}

/// decay_v 163 → factor 4096 − 163 = 3933; decay_u 4095 → factor 0 (u = q).
/// One event through w_int = 10·2^6 = 640:
///   v1 = 640
///   v2 = (640·3933) >> 12 = 2517120 >> 12 = 614   (614·4096 = 2514944)
///   v3 = (614·3933) >> 12 = 2414862 >> 12 = 589   (589·4096 = 2412544)
///   v4 = (589·3933) >> 12 = 2316537 >> 12 = 565   (565·4096 = 2314240)
///   v5 = (565·3933) >> 12 = 2222145 >> 12 = 542   (542·4096 = 2220032)
/// The current does not persist: u = 640 at step 1 only.
#[test]
fn voltage_decay() {
    let t = loihi1();
    let mut c = compartment();
    c.decay_v = PerNeuron::Uniform(163);
    let m = one_neuron(&t, c.clone(), 0, vec![10]);
    let r = probe_run(&m, &t, &events_at(6, &[(0, 1.0)]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![0, 640, 614, 589, 565, 542]);
    assert_eq!(column(&r.probe, |p| p.u), vec![0, 640, 0, 0, 0, 0]);
    // Negative voltages decay toward zero by the same magnitudes.
    let m = one_neuron(&t, c, 0, vec![-10]);
    let r = probe_run(&m, &t, &events_at(6, &[(0, 1.0)]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![0, -640, -614, -589, -565, -542]);
}

/// bias = bias_mant · 2^bias_exp = 3 · 16 = 48, no leak, vth = 2 · 64 = 128:
///   v0 = 48, v1 = 96, v2 = 144 > 128 → spike, v = 0; v3 = 48, v4 = 96, v5 spike.
/// The bias is added to u2 only: the stored current u stays 0.
#[test]
fn bias_mantissa_and_exponent() {
    let t = loihi1();
    let mut c = compartment();
    c.bias_mant = PerNeuron::Uniform(3);
    c.bias_exp = PerNeuron::Uniform(4);
    c.vth_mant = PerNeuron::Uniform(2);
    let m = one_neuron(&t, c, 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(7, &[]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![48, 96, 0, 48, 96, 0, 48]);
    assert_eq!(
        column(&r.probe, |p| p.spiked),
        vec![false, false, true, false, false, true, false]
    );
    assert_eq!(column(&r.probe, |p| p.u), vec![0; 7]);
    assert_eq!(r.trace.layers[0].total(), 2);
}

/// bias 64 (1 · 2^6), vth = 2 · 64 = 128: v reaches exactly 128 at step 1 and
/// does not spike (strictly greater), 192 at step 2 spikes. With vth = 64 the
/// neuron spikes at 128 (step 1), then every second step.
#[test]
fn threshold_crossing_is_strict() {
    let t = loihi1();
    let mut c = compartment();
    c.bias_mant = PerNeuron::Uniform(1);
    c.bias_exp = PerNeuron::Uniform(6);
    c.vth_mant = PerNeuron::Uniform(2);
    let m = one_neuron(&t, c.clone(), 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(6, &[]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![64, 128, 0, 64, 128, 0]);
    assert_eq!(r.trace.layers[0].spikes.iter_ones().collect::<Vec<_>>(), vec![2, 5]);
    c.vth_mant = PerNeuron::Uniform(1);
    let m = one_neuron(&t, c, 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(6, &[]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![64, 0, 64, 0, 64, 0]);
    assert_eq!(r.trace.layers[0].spikes.iter_ones().collect::<Vec<_>>(), vec![1, 3, 5]);
}

/// A bias far above threshold (4095 · 2^7 = 524160 > vth 64) makes the
/// neuron spike whenever it may. Spike at t sets the counter to d, step 7
/// decrements it to d − 1; the following steps with counter > 0 hold v at 0.
///   d = 2: t0 spike (r 2 → 1); t1 held (r 1 → 0); t2 spike …  → 1 step held.
///   d = 3: t0 spike (r → 2); t1 held (r → 1); t2 held (r → 0); t3 spike … → 2 held.
///   d = 0 and d = 1: a spike every step, none held.
#[test]
fn refractory_holds_v_at_zero() {
    let t = loihi1();
    let mut c = compartment();
    c.bias_mant = PerNeuron::Uniform(4095);
    c.bias_exp = PerNeuron::Uniform(7);
    c.vth_mant = PerNeuron::Uniform(1);
    let run = |d: u8| {
        let mut c = c.clone();
        c.refractory = PerNeuron::Uniform(d);
        let m = one_neuron(&t, c, 0, vec![0]);
        probe_run(&m, &t, &events_at(7, &[]), false).unwrap()
    };
    let r = run(2);
    assert_eq!(
        column(&r.probe, |p| p.spiked),
        vec![true, false, true, false, true, false, true]
    );
    assert_eq!(column(&r.probe, |p| p.v), vec![0; 7]);
    assert_eq!(column(&r.probe, |p| p.refractory), vec![1, 0, 1, 0, 1, 0, 1]);
    let held = r.probe.iter().filter(|p| !p.spiked).count();
    assert_eq!(held, 3, "one step held after each of the first three spikes");

    let r = run(3);
    assert_eq!(
        column(&r.probe, |p| p.spiked),
        vec![true, false, false, true, false, false, true]
    );
    assert_eq!(column(&r.probe, |p| p.refractory), vec![2, 1, 0, 2, 1, 0, 2]);
    for d in [0, 1] {
        let r = run(d);
        assert!(r.probe.iter().all(|p| p.spiked), "refractory {d}");
        assert!(r.probe.iter().all(|p| p.refractory == 0));
    }
}

/// w_int = 128 · 2^(6+7) = 2^20. Event counts 1, 2, 3 at steps 0..2 give
/// q* = 2^20, 2^21, 3·2^20 at steps 1..3; the accumulator holds 21 bits +
/// sign and wraps: 2^21 → −2^21 = −2097152, 3·2^20 → 3·2^20 − 2^22 = −1048576.
#[test]
fn q_wraps_at_2_pow_21() {
    let t = loihi1();
    let m = one_neuron(&t, compartment(), 7, vec![128]);
    let s = events_at(5, &[(0, 1.0), (1, 2.0), (2, 3.0)]);
    let r = probe_run(&m, &t, &s, false).unwrap();
    assert_eq!(column(&r.probe, |p| p.q), vec![0, 1_048_576, -2_097_152, -1_048_576, 0]);
    assert_eq!(r.trace.layers[0].overflows.q_wraps(), 2);
    match probe_run(&m, &t, &s, true) {
        Err(FixedError::Overflow(OverflowEvent {
            layer,
            neuron,
            step,
            register,
            exact,
            stored,
            ..
        })) => {
            assert_eq!((layer.as_str(), neuron, step), ("n", 0, 2));
            assert_eq!(register, Register::Accumulator);
            assert_eq!((exact, stored), (2_097_152, -2_097_152));
        }
        other => panic!("expected a q overflow, got {other:?}"),
    }
    // Events never wrap through the event count itself: two inputs of one event
    // each are the same as one input with two events.
    let m2 = one_neuron(&t, compartment(), 7, vec![128, 128]);
    let s2 = stim(&[vec![1.0, 1.0], vec![0.0, 0.0], vec![0.0, 0.0]]);
    let r2 = probe_run(&m2, &t, &s2, false).unwrap();
    assert_eq!(column(&r2.probe, |p| p.q), vec![0, -2_097_152, 0]);
}

/// decay_u 0 (factor 4095), q = 254 · 2^13 = 2080768 every step from step 1
/// (2080768 = 508 · 4096):
///   u1 = 2080768
///   u2 = (2080768 − 508) + 2080768 = 4161028
///   u3 = ⌊4161028 · 4095/4096⌋ + 2080768 = (4161028 − 1015.88…) → 4160012 + 2080768 = 6240780
///   u4 = ⌊6240780 · 4095/4096⌋ + 2080768 = 6239256 + 2080768 = 8320024   (< 2^23 = 8388608)
///   u5 = ⌊8320024 · 4095/4096⌋ + 2080768 = 8317992 + 2080768 = 10398760 → − 2^24 = −6378456
/// (non-spiking, decay_v 4095, so v stays inside its bounds).
/// With a bias of 524160 (4095 · 2^7), u2 = u + bias already wraps at step 4:
///   8320024 + 524160 = 8844184 → 8844184 − 2^24 = −7933032.
#[test]
fn u_wraps_at_2_pow_23() {
    let t = loihi1();
    let mut c = compartment();
    c.decay_u = PerNeuron::Uniform(0);
    c.decay_v = PerNeuron::Uniform(4095);
    c.spiking = false;
    let m = one_neuron(&t, c.clone(), 7, vec![254]);
    let s = events_at(6, &[(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]);
    let r = probe_run(&m, &t, &s, false).unwrap();
    assert_eq!(
        column(&r.probe, |p| p.u),
        vec![0, 2_080_768, 4_161_028, 6_240_780, 8_320_024, -6_378_456]
    );
    assert_eq!(
        (
            r.trace.layers[0].overflows.q_wraps(),
            r.trace.layers[0].overflows.u_wraps(),
            r.trace.layers[0].overflows.v_clips()
        ),
        (0, 1, 0)
    );
    // Non-spiking: the voltages are recorded, v = (v >> 12) + u.
    assert_eq!(
        r.trace.layers[0].voltages.as_deref().unwrap(),
        &[0, 2_080_768, 4_161_536, 6_241_796, 8_321_547, -6_376_425]
    );
    match probe_run(&m, &t, &s, true) {
        Err(FixedError::Overflow(OverflowEvent {
            step,
            register,
            exact,
            stored,
            ..
        })) => {
            assert_eq!((step, register), (5, Register::Current));
            assert_eq!((exact, stored), (10_398_760, -6_378_456));
        }
        other => panic!("expected a u overflow, got {other:?}"),
    }

    c.bias_mant = PerNeuron::Uniform(4095);
    c.bias_exp = PerNeuron::Uniform(7);
    let m = one_neuron(&t, c, 7, vec![254]);
    let err = probe_run(&m, &t, &s, true).unwrap_err();
    let FixedError::Overflow(OverflowEvent {
        step,
        register,
        exact,
        stored,
        ..
    }) = &err
    else {
        panic!("expected an overflow, got {err}");
    };
    assert_eq!((*step, *register), (4, Register::CurrentBias));
    assert_eq!((*exact, *stored), (8_844_184, -7_933_032));
    assert!(err.to_string().contains("register u+bias"), "{err}");
}

/// vmax = 2^(9 + 2·0) − 1 = 511 with vmax_exp 0; bias 200, no leak:
///   v = 200, 400, 600 → 511, 711 → 511, …  (3 clips in 5 steps).
/// vmin = −2^5 + 1 = −31 with vmin_exp 5; bias −5 · 2^2 = −20:
///   v = −20, −40 → −31, −51 → −31, …: held at the floor, but a vmin narrower
///   than the target's widest is the neuron's own floor (nengo's
///   min_voltage), so none of it is a clip.
/// At the widest vmin (vmin_exp 31, −2^31 + 1) the clamp is saturation and
/// counts: bias −4095 · 2^7 = −524160 per step passes it at the 4098th step.
#[test]
fn v_clips_at_vmin_and_vmax() {
    let t = loihi1();
    let mut c = compartment();
    c.vmax_exp = 0;
    c.bias_mant = PerNeuron::Uniform(200);
    let m = one_neuron(&t, c.clone(), 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(5, &[]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![200, 400, 511, 511, 511]);
    assert_eq!(r.trace.layers[0].overflows.v_clips(), 3);
    let err = probe_run(&m, &t, &events_at(5, &[]), true).unwrap_err();
    assert!(
        matches!(
            err,
            FixedError::Overflow(OverflowEvent {
                step: 2,
                register: Register::Voltage,
                exact: 600,
                stored: 511,
                ..
            })
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    for part in ["layer `n`", "neuron 0", "step 2", "register v"] {
        assert!(msg.contains(part), "`{msg}` lacks `{part}`");
    }

    c.vmax_exp = 7;
    c.vmin_exp = 5;
    c.bias_mant = PerNeuron::Uniform(-5);
    c.bias_exp = PerNeuron::Uniform(2);
    let m = one_neuron(&t, c.clone(), 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(5, &[]), false).unwrap();
    assert_eq!(column(&r.probe, |p| p.v), vec![-20, -31, -31, -31, -31]);
    assert_eq!(r.trace.layers[0].overflows.v_clips(), 0);
    assert!(
        probe_run(&m, &t, &events_at(5, &[]), true).is_ok(),
        "a designed floor is not an overflow"
    );

    c.vmin_exp = 31;
    c.bias_mant = PerNeuron::Uniform(-4095);
    c.bias_exp = PerNeuron::Uniform(7);
    let m = one_neuron(&t, c, 0, vec![0]);
    let r = probe_run(&m, &t, &events_at(4100, &[]), false).unwrap();
    let v = column(&r.probe, |p| p.v);
    assert_eq!(v[4096], -524_160 * 4097);
    assert_eq!(v[4097..], [-(1i64 << 31) + 1; 3]);
    assert_eq!(r.trace.layers[0].overflows.v_clips(), 3);
}

/// The refractory hold happens after the clip and is not itself a clip; a
/// neuron held at 0 still integrates its current.
#[test]
fn current_evolves_while_refractory() {
    let t = loihi1();
    let mut c = compartment();
    c.decay_u = PerNeuron::Uniform(0); // u decays by 4095/4096
    c.vth_mant = PerNeuron::Uniform(1); // 64
    c.refractory = PerNeuron::Uniform(3);
    let m = one_neuron(&t, c, 0, vec![2]); // w_int 128
    let s = events_at(5, &[(0, 1.0)]);
    let r = probe_run(&m, &t, &s, false).unwrap();
    // t1: u = 128, v = 128 > 64 → spike, r = 3 → 2. t2: u = 127, v held 0, r → 1.
    // t3: u = 126, held, r → 0. t4: u = 125, v = 125 > 64 → spike.
    assert_eq!(column(&r.probe, |p| p.u), vec![0, 128, 127, 126, 125]);
    assert_eq!(column(&r.probe, |p| p.spiked), vec![false, true, false, false, true]);
    assert_eq!(r.trace.total_overflows(), 0);
}
