//! Parity with nengo-loihi 1.1 (issue 15): nengo-loihi's own deployments,
//! replayed by nmc, spike for spike.
//!
//! `tests/fixtures/nengo_loihi/generate.py` built three networks with nengo
//! 3.2 + nengo-loihi 1.1 (`target="sim"`), exported the discretized blocks
//! (every integer copied: decays, thresholds, biases, weight mantissas and
//! exponents, refractory delays, voltage bounds) to `<net>.q.ron`, and
//! recorded inside nengo-loihi's emulator the host spikes it delivered and
//! every block's spikes. Here nmc compiles each `.q.ron` for `loihi1`,
//! emulates it with those host spikes as input events, and must reproduce
//! every spike bit of every block. No Python runs here.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use ndarray::Array3;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const NETS: [&str; 3] = ["dense", "conv", "negexp"];

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/nengo_loihi").join(name)
}

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-nengo-loihi-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn nmc(args: &[&str]) -> std::process::Output {
    common::nmc_ok(args)
}

fn read_npz(p: &Path, prefix: &str) -> BTreeMap<String, Array3<u8>> {
    common::read_spikes_npz(p, prefix)
}

/// Compiles `qron` for `target`, emulates it on `input`, returns each
/// population's spikes.
fn deploy_and_emulate(dir: &Path, qron: &Path, target: &str, input: &Path) -> BTreeMap<String, Array3<u8>> {
    let (a, out) = (dir.join("m.nmca"), dir.join("spikes.npz"));
    nmc(&[
        "compile",
        qron.to_str().unwrap(),
        "--target",
        target,
        "-o",
        a.to_str().unwrap(),
    ]);
    nmc(&[
        "emulate",
        a.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    read_npz(&out, "spikes.")
}

/// (mismatched bits, total nengo-loihi spikes) over every block.
fn mismatches(nengo: &BTreeMap<String, Array3<u8>>, nmc: &BTreeMap<String, Array3<u8>>) -> (usize, u64, Vec<String>) {
    let (mut bad, mut total, mut per) = (0, 0u64, Vec::new());
    assert_eq!(
        nengo.keys().collect::<Vec<_>>(),
        nmc.keys().collect::<Vec<_>>(),
        "nmc must record every nengo-loihi block"
    );
    for (k, a) in nengo {
        let b = &nmc[k];
        assert_eq!(a.shape(), b.shape(), "{k}");
        let m = a.iter().zip(b.iter()).filter(|(x, y)| x != y).count();
        total += a.iter().map(|&x| u64::from(x)).sum::<u64>();
        per.push(format!("{k}: {m}"));
        bad += m;
    }
    (bad, total, per)
}

#[test]
fn nengo_loihi_deployments_replay_bit_for_bit() {
    for net in NETS {
        let dir = scratch(net);
        let nengo = read_npz(&fixture(&format!("{net}.chip_spikes.npz")), "");
        let ours = deploy_and_emulate(
            &dir,
            &fixture(&format!("{net}.q.ron")),
            "loihi1",
            &fixture(&format!("{net}.host_spikes.npy")),
        );
        let (bad, total, per) = mismatches(&nengo, &ours);
        assert!(total > 100, "{net}: the fixture must spike ({total} spikes)");
        assert_eq!(bad, 0, "{net}: mismatched spike bits per block: {per:?}");
        // The fixed-point reference accepts the same integers and agrees (A = B), so it
        // reproduces nengo-loihi too.
        let v = nmc(&[
            "verify",
            fixture(&format!("{net}.q.ron")).to_str().unwrap(),
            "--target",
            "loihi1",
            "--input",
            fixture(&format!("{net}.host_spikes.npy")).to_str().unwrap(),
        ]);
        assert!(
            String::from_utf8_lossy(&v.stdout).contains("A = B: fixed-point reference and emulated artifact identical")
        );
        // `simulate MODEL.q.ron --out` writes the fixed reference's spikes
        // (it once exited 0 without writing), and they are nengo-loihi's too.
        let sim = dir.join("fixed.npz");
        nmc(&[
            "simulate",
            fixture(&format!("{net}.q.ron")).to_str().unwrap(),
            "--input",
            fixture(&format!("{net}.host_spikes.npy")).to_str().unwrap(),
            "--out",
            sim.to_str().unwrap(),
        ]);
        let fixed = read_npz(&sim, "spikes.");
        assert_eq!(fixed.keys().collect::<Vec<_>>(), ours.keys().collect::<Vec<_>>());
        assert_eq!(fixed, ours, "{net}: simulate --out differs from emulate --out");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The fixtures exercise what the issue lists: a layer split over two
/// blocks (cores), Lowpass synapses and none, per-neuron biases, refractory
/// delays of 1–3 ms, a negative weight exponent, vmin = 0.
#[test]
fn fixtures_cover_the_features_they_claim() {
    let meta = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{n}.meta.json"))).unwrap()).unwrap()
    };
    let dense = meta("dense");
    assert_eq!(dense["versions"]["nengo_loihi"], "1.1.0");
    let names: Vec<&str> = dense["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["b0_h1", "b1_h1", "b2_h2", "b3_out"],
        "h1 is split over two blocks"
    );
    let mut refr = std::collections::BTreeSet::new();
    let mut no_synapse = false;
    for n in NETS {
        for b in meta(n)["blocks"].as_array().unwrap() {
            assert_eq!(b["vmin"], 0, "{n}: nengo's min_voltage 0");
            for r in b["refractory"].as_array().unwrap() {
                refr.insert(r.as_u64().unwrap());
            }
            no_synapse |= b["decay_u"].as_array().unwrap().iter().any(|d| d == 4094);
        }
    }
    // Stored delay = tau_ref/dt + 1: 1, 2 and 3 ms.
    assert!(refr.is_superset(&[2, 3, 4].into()), "{refr:?}");
    assert!(no_synapse, "a connection without a synapse (decay_u 4094)");
    let neg = meta("negexp");
    let exps: Vec<i64> = neg["blocks"][0]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["nengo_weight_exp"].as_i64().unwrap())
        .collect();
    assert!(
        exps.iter().all(|&e| e < 0),
        "negexp: nengo-loihi weight exponents {exps:?}"
    );
    let q = std::fs::read_to_string(fixture("dense.q.ron")).unwrap();
    assert!(q.contains("bias_mant: Each("), "per-neuron biases");
}

/// The host latency is nengo-loihi's: host spikes of step t reach the chip
/// at t + 1 on `loihi1`. Feeding them one step late breaks parity. A target
/// that says 2 steps compiles and emulates, and delivers each host spike
/// exactly one step after `loihi1` does: its run on the host spikes equals
/// `loihi1`'s run on the same spikes fed one step late.
#[test]
fn host_latency_is_pinned_to_nengo_loihi() {
    let dir = scratch("latency");
    let net = "dense";
    let nengo = read_npz(&fixture(&format!("{net}.chip_spikes.npz")), "");
    let host: Array3<u8> = ndarray_npy::read_npy(fixture(&format!("{net}.host_spikes.npy"))).unwrap();
    let (b, s, f) = host.dim();
    let mut late = Array3::<u8>::zeros((b, s, f));
    for t in 0..s - 1 {
        late.index_axis_mut(ndarray::Axis(1), t + 1)
            .assign(&host.index_axis(ndarray::Axis(1), t));
    }
    let late_p = dir.join("late.npy");
    ndarray_npy::write_npy(&late_p, &late).unwrap();
    let qron = fixture(&format!("{net}.q.ron"));

    let one_late = deploy_and_emulate(&dir, &qron, "loihi1", &late_p);
    let (bad, _, _) = mismatches(&nengo, &one_late);
    assert!(bad > 0, "host spikes one step late must change the spikes");

    // A 2-step host target: loihi1's file with one extra host step.
    let src = nmc_target::builtin_source("loihi1").unwrap();
    let two = src
        .replace("host_input_extra_delay_steps: 0", "host_input_extra_delay_steps: 1")
        .replace("name: \"loihi1\"", "name: \"loihi1-host2\"");
    assert_ne!(two, src);
    let tfile = dir.join("loihi1-host2.ron");
    std::fs::write(&tfile, two).unwrap();
    let q = std::fs::read_to_string(&qron).unwrap();
    let q2 = q
        .replace("source: Input(0), latency: 1", "source: Input(0), latency: 2")
        .replace("target: \"loihi1\"", "target: \"loihi1-host2\"");
    assert_ne!(q, q2);
    let q2p = dir.join("host2.q.ron");
    std::fs::write(&q2p, q2).unwrap();
    let two_step = deploy_and_emulate(
        &dir,
        &q2p,
        tfile.to_str().unwrap(),
        &fixture(&format!("{net}.host_spikes.npy")),
    );
    let (bad, _, per) = mismatches(&one_late, &two_step);
    assert_eq!(
        bad, 0,
        "2-step host latency = 1-step latency with spikes one step late: {per:?}"
    );
    let (bad, _, _) = mismatches(&nengo, &two_step);
    assert!(bad > 0, "a 2-step host is not nengo-loihi's");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One validator: an integer the target cannot hold (an odd mantissa in a
/// mixed-sign synapse format) is refused by `compile` and by the fixed
/// reference (`verify`) alike, with the same population and field.
#[test]
fn compile_and_fixed_reference_refuse_the_same_integers() {
    let dir = scratch("validator");
    let q = std::fs::read_to_string(fixture("dense.q.ron")).unwrap();
    let at = q.find("mant: [").unwrap() + "mant: [".len();
    let end = at + q[at..].find(',').unwrap();
    let m: i32 = q[at..end].trim().parse().unwrap();
    assert_eq!(m % 2, 0, "nengo-loihi's mixed-sign mantissas are even");
    let odd = if m > 0 { m - 1 } else { m + 1 };
    let bad = format!("{}{odd}{}", &q[..at], &q[end..]);
    let p = dir.join("odd.q.ron");
    std::fs::write(&p, bad).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_nmc")).args(args).output().unwrap();
    let host = fixture("dense.host_spikes.npy");
    let a = dir.join("odd.nmca");
    let c = run(&[
        "compile",
        p.to_str().unwrap(),
        "--target",
        "loihi1",
        "-o",
        a.to_str().unwrap(),
    ]);
    let v = run(&[
        "verify",
        p.to_str().unwrap(),
        "--target",
        "loihi1",
        "--input",
        host.to_str().unwrap(),
    ]);
    for (what, o) in [("compile", &c), ("verify", &v)] {
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{what}: {e}");
        assert!(
            e.contains("population `b0_h1`: inputs[0].weights.mant[0]") && e.contains("not a legal weight mantissa"),
            "{what}: {e}"
        );
    }
    assert!(!a.exists(), "no artifact is written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// nengo-loihi's vmin = 0 is the neuron's floor (nengo's `min_voltage`), not
/// an overflow: the replays hold v at 0 thousands of times, and `--strict`
/// runs (emulator and fixed reference) still pass with no clip counted.
#[test]
fn a_designed_vmin_is_not_an_overflow() {
    let dir = scratch("vmin");
    for net in NETS {
        let q = fixture(&format!("{net}.q.ron"));
        let host = fixture(&format!("{net}.host_spikes.npy"));
        let a = dir.join(format!("{net}.nmca"));
        nmc(&[
            "compile",
            q.to_str().unwrap(),
            "--target",
            "loihi1",
            "-o",
            a.to_str().unwrap(),
        ]);
        let e = nmc(&[
            "emulate",
            a.to_str().unwrap(),
            "--input",
            host.to_str().unwrap(),
            "--strict",
            "--json",
        ]);
        let j: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
        for o in j["overflows"].as_array().unwrap() {
            assert_eq!(o["v_clips"], 0, "{net}: {o}");
        }
        nmc(&[
            "verify",
            q.to_str().unwrap(),
            "--target",
            "loihi1",
            "--input",
            host.to_str().unwrap(),
            "--strict",
        ]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
