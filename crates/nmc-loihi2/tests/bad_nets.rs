//! Bad networks are rejected with a message naming the file, the process
//! and the field; never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use nmc_loihi2::{Chip, Input, Net, NetError};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::lava_dir().join(format!("{name}.json"))).unwrap()).unwrap()
}

/// The error of reading `v` as `bad.json`.
fn error_of(v: &Value) -> NetError {
    let chip = Chip::builtin("loihi2").unwrap();
    Net::from_lava_json(&chip, &v.to_string(), "bad.json").unwrap_err()
}

fn rejects(base: &str, edit: impl FnOnce(&mut Value), field: &str, says: &str) {
    let mut v = fixture(base);
    edit(&mut v);
    let e = error_of(&v);
    let msg = e.to_string();
    assert_eq!(e.field(), Some(field), "{msg}");
    assert!(msg.starts_with("bad.json: "), "{msg}");
    assert!(msg.contains(says), "{msg} lacks `{says}`");
}

#[test]
fn every_fixture_reads() {
    let chip = Chip::builtin("loihi2").unwrap();
    for n in common::fixture_names() {
        Net::read_lava_json(&chip, &common::lava_dir().join(format!("{n}.json"))).unwrap();
    }
    let e = Net::read_lava_json(&chip, std::path::Path::new("/nonexistent/x.json")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/x.json: cannot read"), "{e}");
}

#[test]
fn lif_parameters_out_of_range_name_process_and_field() {
    // recurrent: processes src, cin (dense), lif, rec (dense).
    let lif = |f: &'static str, x: Value| move |v: &mut Value| v["processes"][2][f] = x;
    rejects(
        "recurrent",
        lif("du", json!(4096)),
        "processes[2] (lif).du",
        "4096 is outside 0..=4095",
    );
    rejects(
        "recurrent",
        lif("dv", json!(-1)),
        "processes[2] (lif).dv",
        "not a non-negative",
    );
    rejects(
        "recurrent",
        lif("vth", json!(131072)),
        "processes[2] (lif).vth",
        "0..=131071",
    );
    rejects(
        "recurrent",
        lif("bias_mant", json!([0, 0, 4096, 0, 0, 0])),
        "processes[2] (lif).bias_mant[2]",
        "-4096..=4095",
    );
    rejects(
        "recurrent",
        lif("bias_mant", json!([0, 0])),
        "processes[2] (lif).bias_mant",
        "2 values for 6 neurons",
    );
    rejects(
        "recurrent",
        lif("bias_exp", json!(8)),
        "processes[2] (lif).bias_exp[0]",
        "-7..=7",
    );
    rejects(
        "recurrent",
        lif("shape", json!([6, 1])),
        "processes[2] (lif).shape",
        "2 dimensions",
    );
    rejects(
        "recurrent",
        lif("shape", json!([0])),
        "processes[2] (lif).shape[0]",
        "outside 1..=",
    );
}

#[test]
fn connection_parameters_out_of_range_name_process_and_field() {
    let cin = |f: &'static str, x: Value| move |v: &mut Value| v["processes"][1][f] = x;
    rejects(
        "recurrent",
        cin("weight_exp", json!(8)),
        "processes[1] (cin).weight_exp",
        "-7..=7",
    );
    rejects(
        "recurrent",
        cin("weight_exp", json!(-8)),
        "processes[1] (cin).weight_exp",
        "-7..=7",
    );
    rejects(
        "recurrent",
        cin("num_weight_bits", json!(0)),
        "processes[1] (cin).num_weight_bits",
        "1..=8",
    );
    rejects(
        "recurrent",
        cin("num_weight_bits", json!(9)),
        "processes[1] (cin).num_weight_bits",
        "1..=8",
    );
    rejects(
        "recurrent",
        cin("num_message_bits", json!(32)),
        "processes[1] (cin).num_message_bits",
        "0..=31",
    );
    rejects(
        "recurrent",
        cin("sign_mode", json!("BOTH")),
        "processes[1] (cin).sign_mode",
        "`BOTH`",
    );
    rejects(
        "recurrent",
        cin("shape", json!([6, 5])),
        "processes[1] (cin).weights[0]",
        "shape says 5",
    );
    rejects(
        "recurrent",
        cin("shape", json!([7, 4])),
        "processes[1] (cin).weights",
        "6 rows, shape says 7",
    );
    rejects(
        "recurrent",
        |v| v["processes"][1]["weights"][3][1] = json!(1u64 << 40),
        "processes[1] (cin).weights[3][1]",
        "outside",
    );
    rejects(
        "recurrent",
        |v| v["processes"][3]["weights_effective"][0][0] = json!(239),
        "processes[3] (rec).weights_effective[0][0]",
        "239 is not Lava's clip/truncate of weight 239 (238",
    );
    rejects(
        "recurrent",
        |v| v["processes"][1]["kind"] = json!("conv"),
        "processes[1] (cin).kind",
        "`conv`",
    );
    rejects(
        "recurrent",
        |v| {
            v["processes"][1]
                .as_object_mut()
                .unwrap()
                .remove("weights")
                .map(|_| ())
                .unwrap()
        },
        "processes[1] (cin).weights",
        "missing",
    );
}

#[test]
fn sigma_delta_parameters_out_of_range_name_process_and_field() {
    // sdn_cum_error: src, delta, c1, sd1, c2, sd2.
    let p = |i: usize, f: &'static str, x: Value| move |v: &mut Value| v["processes"][i][f] = x;
    rejects(
        "sdn_cum_error",
        p(1, "spike_exp", json!(8)),
        "processes[1] (delta).spike_exp",
        "0..=7",
    );
    rejects(
        "sdn_cum_error",
        p(3, "state_exp", json!(9)),
        "processes[3] (sd1).state_exp",
        "0..=7",
    );
    rejects(
        "sdn_cum_error",
        p(3, "vth", json!(-1)),
        "processes[3] (sd1).vth",
        "outside 0..=",
    );
    rejects(
        "sdn_cum_error",
        p(3, "act_mode", json!("TANH")),
        "processes[3] (sd1).act_mode",
        "`TANH`",
    );
    rejects(
        "sdn_cum_error",
        p(1, "bias", json!([1, 2, 3, 4])),
        "processes[1] (delta).bias",
        "no bias",
    );
    rejects(
        "sdn_cum_error",
        p(5, "bias", json!([0, 1 << 24, 0])),
        "processes[5] (sd2).bias[1]",
        "outside",
    );
    rejects(
        "sdn_cum_error",
        |v| {
            v["processes"][1]
                .as_object_mut()
                .unwrap()
                .remove("vth")
                .map(|_| ())
                .unwrap()
        },
        "processes[1] (delta).vth",
        "missing",
    );
}

#[test]
fn bad_connections_are_named() {
    let conn = |k: usize, x: Value| move |v: &mut Value| v["connections"][k] = x;
    rejects(
        "recurrent",
        conn(1, json!(["cin", "lfi"])),
        "connections[1][1]",
        "no process is called `lfi`",
    );
    rejects(
        "recurrent",
        conn(0, json!(["scr", "cin"])),
        "connections[0][0]",
        "`scr`",
    );
    rejects(
        "recurrent",
        conn(0, json!(["src", "lif"])),
        "connections[0]",
        "`src` sends 4 values but `lif` takes 6",
    );
    rejects(
        "recurrent",
        conn(0, json!(["lif", "src"])),
        "connections[0][1]",
        "is a source",
    );
    rejects(
        "recurrent",
        conn(2, json!(["cin", "lif"])),
        "connections[2]",
        "connected twice",
    );
    rejects(
        "recurrent",
        |v| v["processes"][3]["name"] = json!("lif"),
        "processes[3].name",
        "`lif` is used twice",
    );
}

#[test]
fn a_cycle_without_dense_or_sparse_is_rejected_and_one_through_dense_is_not() {
    // recurrent itself loops through the Dense `rec`: accepted.
    let chip = Chip::builtin("loihi2").unwrap();
    Net::from_lava_json(&chip, &fixture("recurrent").to_string(), "ok.json").unwrap();
    // A direct LIF -> same LIF loop has nothing to break it.
    rejects(
        "recurrent",
        |v| v["connections"].as_array_mut().unwrap().push(json!(["lif", "lif"])),
        "connections",
        "a cycle with no Dense/Sparse in it among lif",
    );
    // Delta -> SigmaDelta -> Delta (all 4 wide): sd1 and delta both in it.
    let mut v = fixture("sdn_cum_error");
    v["processes"][3]["shape"] = json!([4]);
    v["processes"][3]["bias"] = json!([0, 0, 0, 0]);
    v["connections"] = json!([["src", "delta"], ["delta", "sd1"], ["sd1", "delta"], ["sd1", "c2"]]);
    v["processes"][4]["shape"] = json!([3, 4]);
    v["processes"][4]["weights"] = json!([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    v["processes"][4].as_object_mut().unwrap().remove("weights_effective");
    let e = error_of(&v);
    assert_eq!(e.field(), Some("connections"), "{e}");
    assert!(e.to_string().contains("delta, sd1"), "{e}");
}

#[test]
fn malformed_json_names_the_file() {
    let chip = Chip::builtin("loihi2").unwrap();
    for text in [
        "",
        "{",
        "[1, 2]",
        r#"{"processes": 3, "connections": []}"#,
        r#"{"processes": [{"name": "x"}], "connections": []}"#,
    ] {
        let e = Net::from_lava_json(&chip, text, "broken.json").unwrap_err();
        assert!(matches!(e, NetError::Syntax { .. }), "{e}");
        assert!(e.to_string().starts_with("broken.json: "), "{e}");
    }
}

#[test]
fn input_that_does_not_fit_the_source_is_an_error() {
    let chip = Chip::builtin("loihi2").unwrap();
    let net = Net::from_lava_json(&chip, &fixture("recurrent").to_string(), "r.json").unwrap();
    let e = nmc_loihi2::emu::run(&chip, &net, &Input::single(ndarray::Array2::zeros((3, 10))), 5).unwrap_err();
    assert_eq!(
        e.to_string(),
        "source `src`: data has shape (3, 10), the source needs (4, columns ≥ 1)"
    );
    let e = nmc_loihi2::emu::run(&chip, &net, &Input::none(), 5).unwrap_err();
    assert_eq!(e.to_string(), "source `src`: no input data given");
    let e = nmc_loihi2::emu::run(&chip, &net, &Input::none().with("x", ndarray::Array2::zeros((4, 1))), 5).unwrap_err();
    assert!(e.to_string().contains("input `x`"), "{e}");
}

#[test]
fn the_builtin_chip_marks_its_estimates() {
    let chip = Chip::builtin("loihi2").unwrap();
    assert_eq!(chip.family(), "lava-loihi2");
    assert_eq!(Chip::builtin_names(), vec!["loihi2"]);
    let c = chip.core();
    for cap in [&c.neurons, &c.synapses, &c.sram_bytes] {
        assert!(cap.estimate, "{cap:?}");
        assert!(!cap.source.is_empty());
    }
    assert_eq!(c.neurons.value, 8192);
    let n = chip.numerics();
    assert_eq!(
        (n.u_wrap, n.v_clip, n.act_shift, n.vth_shift),
        (1 << 24, (1 << 23) - 1, 6, 6)
    );
    assert_eq!(chip.latency().connection_steps, 1);
    assert!(chip.not_public().len() >= 5);
    assert!(Chip::builtin_source("loihi2").unwrap().contains("[B]"));
    assert!(Chip::builtin("loihi3").unwrap_err().to_string().contains("loihi3"));
}

/// Byte-level mutations of every fixture's JSON (a small in-tree fuzz; the
/// libFuzzer target is fuzz/fuzz_targets/lava_json.rs): reading never
/// panics, and what it accepts runs.
#[test]
fn mutated_fixture_json_never_panics() {
    let chip = Chip::builtin("loihi2").unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let replacements: [&[u8]; 8] = [b"-", b"9999999999", b"]", b"[", b"\"", b"0", b"-4097", b"1e400"];
    let (mut accepted, mut rejected) = (0, 0);
    for name in common::fixture_names() {
        let text = std::fs::read(common::lava_dir().join(format!("{name}.json"))).unwrap();
        for _ in 0..40 {
            let mut t = text.clone();
            for _ in 0..1 + next() % 3 {
                if t.is_empty() {
                    break;
                }
                let at = (next() % t.len() as u64) as usize;
                let end = (at + 1 + (next() % 4) as usize).min(t.len());
                match next() % 3 {
                    0 => t.truncate(at),
                    1 => drop(t.splice(at..end, replacements[(next() % 8) as usize].iter().copied())),
                    _ => t[at] = (next() % 128) as u8,
                }
            }
            let Ok(s) = std::str::from_utf8(&t) else { continue };
            match Net::from_lava_json(&chip, s, "m.json") {
                Ok(net) => {
                    accepted += 1;
                    let mut input = Input::none();
                    for p in net.processes() {
                        if let nmc_loihi2::net::Kind::Source(n) = p.kind {
                            input = input.with(&p.name, ndarray::Array2::ones((n, 3)));
                        }
                    }
                    nmc_loihi2::emu::run(&chip, &net, &input, 5).unwrap();
                }
                Err(e) => {
                    rejected += 1;
                    assert!(e.to_string().starts_with("m.json: "), "{e}");
                }
            }
        }
    }
    assert!(
        accepted > 100 && rejected > 1000,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn the_npz_writer_names_spikes_and_state() {
    let chip = Chip::builtin("loihi2").unwrap();
    let f = common::load(&chip, "sdn_cum_error");
    let rec = nmc_loihi2::emu::run(&chip, &f.net, &f.input, f.steps).unwrap();
    let path = std::env::temp_dir().join(format!("nmc-loihi2-{}.npz", std::process::id()));
    rec.write_npz(&path).unwrap();
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut names = z.names().unwrap();
    names.sort();
    assert!(names.contains(&"spikes.sd1".to_string()), "{names:?}");
    assert!(names.contains(&"state.sd1.sigma".to_string()), "{names:?}");
    assert!(names.contains(&"state.c1.a_out".to_string()), "{names:?}");
    let a: ndarray::Array2<i64> = z.by_name("state.sd2.residue").unwrap();
    assert_eq!(a, f.recorded.iter().find(|(k, _)| k == "sd2.residue").unwrap().1);
    std::fs::remove_file(&path).unwrap();
}
