//! The edge cases docs/loihi2.md spells out, each on a tiny network run by
//! both the emulator and the reference.
#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use nmc_loihi2::{Chip, Input, Net, Record, emu, reference};

fn run(json: &str, data: Vec<Vec<i32>>, steps: usize) -> Record {
    let chip = Chip::builtin("loihi2").unwrap();
    let net = Net::from_lava_json(&chip, json, "edge.json").unwrap();
    let (c, l) = (data.len(), data[0].len());
    let input = Input::single(Array2::from_shape_vec((c, l), data.concat()).unwrap());
    let a = emu::run(&chip, &net, &input, steps).unwrap();
    assert_eq!(a, reference::run(&net, &input, steps).unwrap());
    a
}

fn lif_direct(n: usize, lif: &str) -> String {
    format!(
        r#"{{"processes": [{{"name": "src", "kind": "source", "shape": [{n}]}},
            {{"name": "lif", "kind": "lif", "shape": [{n}], {lif}}}],
           "connections": [["src", "lif"]]}}"#
    )
}

#[test]
fn u_wraps_once_with_lavas_edges() {
    // du = 4095: u' = a << 6. +2^23 stays, -2^23 becomes +2^23, 2^23 + 64
    // becomes 64 - 2^23, and 4·2^23 stays out of range after one correction.
    let a = [1 << 17, -(1 << 17), (1 << 17) + 1, 1 << 19];
    let r = run(
        &lif_direct(4, r#""du": 4095, "dv": 4095, "vth": 131071"#),
        a.iter().map(|&x| vec![x]).collect(),
        1,
    );
    let t = 1i64 << 23;
    assert_eq!(r.get("lif.u").unwrap().data, vec![t, t, 64 - t, 4 * t - 2 * t]);
}

#[test]
fn v_clips_and_a_clipped_v_still_fires_at_the_largest_threshold() {
    let r = run(
        &lif_direct(2, r#""du": 4095, "dv": 4095, "vth": 131071"#),
        vec![vec![1 << 17], vec![-(1 << 17)]],
        1,
    );
    // v = u = +2^23 clips to 2^23 - 1 > 131071 << 6 and fires (v = 0); -2^23 -> ... +2^23 too.
    assert_eq!(r.get("lif.s_out").unwrap().data, vec![1, 1]);
    let r = run(
        &lif_direct(1, r#""du": 4095, "dv": 4095, "vth": 131071"#),
        vec![vec![-(1 << 16) - (1 << 15)]],
        1,
    );
    assert_eq!(r.get("lif.v").unwrap().data, vec![-(3 << 21)]);
    let r = run(
        &lif_direct(
            1,
            r#""du": 0, "dv": 0, "vth": 131071, "bias_mant": -4096, "bias_exp": 7"#,
        ),
        vec![vec![0]],
        20,
    );
    assert_eq!(*r.get("lif.v").unwrap().data.last().unwrap(), -((1 << 23) - 1));
}

#[test]
fn negative_bias_exponent_floors_and_bias_enters_v_not_u() {
    let r = run(
        &lif_direct(
            3,
            r#""du": 0, "dv": 4095, "vth": 131071, "bias_mant": [-1, 1, -5], "bias_exp": [-1, -1, -2]"#,
        ),
        vec![vec![0], vec![0], vec![0]],
        1,
    );
    assert_eq!(r.get("lif.v").unwrap().data, vec![-1, 0, -2]);
    assert_eq!(r.get("lif.u").unwrap().data, vec![0, 0, 0]);
}

#[test]
fn decay_rounds_toward_zero_and_vth_zero_fires_on_any_positive_v() {
    // u = -64 decays by (4096 - 2049)/4096 to -31 (toward zero, not -32).
    let r = run(
        &lif_direct(1, r#""du": 2048, "dv": 4095, "vth": 5"#),
        vec![vec![-1, 0]],
        2,
    );
    assert_eq!(r.get("lif.u").unwrap().data, vec![-64, -31]);
    let r = run(
        &lif_direct(1, r#""du": 4095, "dv": 4095, "vth": 0"#),
        vec![vec![0, 1]],
        2,
    );
    assert_eq!(r.get("lif.s_out").unwrap().data, vec![0, 1]);
}

#[test]
fn binary_connections_count_any_nonzero_payload_once_and_graded_ones_multiply_unmasked() {
    let net = |nmb: u32| {
        format!(
            r#"{{"processes": [{{"name": "src", "kind": "source", "shape": [2]}},
                {{"name": "d", "kind": "dense", "shape": [1, 2], "weights": [[10, 100]], "num_message_bits": {nmb}}},
                {{"name": "lif", "kind": "lif", "shape": [1], "du": 4095, "dv": 4095, "vth": 131071}}],
               "connections": [["src", "d"], ["d", "lif"]]}}"#
        )
    };
    let data = vec![vec![3, 0, 0], vec![-1, 40, 0]];
    assert_eq!(
        run(&net(0), data.clone(), 3).get("d.a_out").unwrap().data,
        vec![0, 110, 100]
    );
    assert_eq!(run(&net(4), data, 3).get("d.a_out").unwrap().data, vec![0, -70, 4000]);
}

#[test]
fn weight_exponent_floors_the_sum_not_each_weight() {
    // 3 + 3 = 6 >> 2 = 1, where per-weight flooring would give 0. Weights 3
    // are excitatory (auto), kept at 8 bits.
    let json = r#"{"processes": [{"name": "src", "kind": "source", "shape": [2]},
        {"name": "d", "kind": "dense", "shape": [1, 2], "weights": [[3, 3]], "weight_exp": -2},
        {"name": "lif", "kind": "lif", "shape": [1], "du": 4095, "dv": 4095, "vth": 131071}],
       "connections": [["src", "d"], ["d", "lif"]]}"#;
    assert_eq!(
        run(json, vec![vec![1, 0], vec![1, 0]], 2).get("d.a_out").unwrap().data,
        vec![0, 1]
    );
}

#[test]
fn delta_fires_at_equality_and_sends_a_floored_payload() {
    let json = r#"{"processes": [{"name": "src", "kind": "source", "shape": [2]},
        {"name": "delta", "kind": "delta", "shape": [2], "vth": 3, "spike_exp": 0, "state_exp": 1}],
       "connections": [["src", "delta"]]}"#;
    // A = a << 1; vth_s = 3 << 1 = 6: a = 3 gives delta 6 >= 6 (fires, sends
    // 6 >> 1 = 3); a = -2 gives -4, below threshold, kept as residue.
    let r = run(json, vec![vec![3], vec![-2]], 1);
    assert_eq!(r.get("delta.s_out").unwrap().data, vec![3, 0]);
    assert_eq!(r.get("delta.residue").unwrap().data, vec![0, -4]);
}
