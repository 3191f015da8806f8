//! `--target xylo-audio2|xylo-imu` from the command line (issue 17): a
//! rockpool user's own specification emulated bit-exact with XyloSim, and
//! nmc's compile of the NIR paper's Braille SRNN for XyloAudio 2 with its
//! report, emulated.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use ndarray::ArrayD;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-xylo-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn member<T: ndarray_npy::ReadableElement>(p: &Path, name: &str) -> ArrayD<T> {
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(p).unwrap()).unwrap();
    z.by_name(name).or_else(|_| z.by_name(&format!("{name}.npy"))).unwrap()
}

/// A rockpool specification (`tests/fixtures/xylo`) through `nmc emulate
/// SPEC.npz --target CHIP --record-state`: spikes and every register equal
/// XyloSim's recording.
#[test]
fn a_rockpool_specification_emulates_bit_exact() {
    let d = scratch("spec");
    for (chip, dir, case) in [
        ("xylo-audio2", "audio2", "small06_sat_pos"),
        ("xylo-audio2", "audio2", "large_alias"),
        ("xylo-imu", "imu", "small07_cap31"),
    ] {
        let fx = root().join("tests/fixtures/xylo").join(dir);
        let Some(case) = std::fs::read_dir(&fx)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with(case.split('_').next().unwrap()) && n.ends_with(".spec.npz"))
            .map(|n| n.trim_end_matches(".spec.npz").to_string())
        else {
            panic!("{dir}: no fixture like {case}")
        };
        let run = fx.join(format!("{case}.run.npz"));
        let input: ArrayD<u8> = member(&run, "input");
        let x = d.join(format!("{case}.input.npy"));
        ndarray_npy::write_npy(&x, &input).unwrap();
        let out = d.join(format!("{case}.out.npz"));
        let o = common::nmc_ok(&[
            "emulate",
            s(&fx.join(format!("{case}.spec.npz"))),
            "--target",
            chip,
            "--input",
            s(&x),
            "--out",
            s(&out),
            "--record-state",
        ]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("bit-exact with XyloSim"), "{text}");
        for (ours, theirs) in [("spikes.hidden", "Spikes"), ("spikes.output", "Spikes_out")] {
            let a: ArrayD<u8> = member(&out, ours);
            let b: ArrayD<u8> = member(&run, theirs);
            assert_eq!(a.shape()[0], 1, "{case}: one sample");
            assert_eq!(
                a.index_axis(ndarray::Axis(0), 0),
                b.view(),
                "{chip}/{case}: {ours} vs XyloSim {theirs}"
            );
        }
        let v: ArrayD<i16> = member(&out, "state.hidden.vmem");
        let vr: ArrayD<i16> = member(&run, "Vmem");
        assert_eq!(v.index_axis(ndarray::Axis(0), 0), vr.view(), "{chip}/{case}: Vmem");
    }
    let _ = std::fs::remove_dir_all(&d);
}

fn braille() -> PathBuf {
    root().join("../shared/fixtures/nir-paper/03_rnn/braille_noDelay_noBias_subtract.nir")
}

/// `nmc CMD braille.nir --target TARGET` with the graph's training
/// conventions (snnTorch: dt 1e-4, Euler, subtractive reset) and `extra`.
fn on_braille(cmd: &str, target: &str, extra: &[&str]) -> std::process::Output {
    let b = braille();
    let mut args = vec![
        cmd,
        s(&b),
        "--target",
        target,
        "--dt",
        "1e-4",
        "--discretization",
        "euler",
        "--reset",
        "subtract",
    ];
    args.extend_from_slice(extra);
    common::nmc_ok(&args)
}

/// `nmc compile braille.nir --target xylo-audio2` writes a specification
/// rockpool's `from_specification` names, prints the report and the fit;
/// `emulate` runs it on a batch.
#[test]
fn the_braille_srnn_compiles_and_runs_on_xylo_audio2() {
    let d = scratch("braille");
    let spec = d.join("braille.spec.npz");
    let o = on_braille("compile", "xylo-audio2", &["-o", s(&spec)]);
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "xylo compile for xylo-audio2",
        "lif1.lif",
        "weights_rec",
        "fit: inputs 12/16 · hidden 40/1000 · outputs 7/8",
    ] {
        assert!(text.contains(want), "missing `{want}`:\n{text}");
    }
    let w: ArrayD<i64> = member(&spec, "weights_in");
    assert_eq!(w.shape(), &[12, 40, 2]);
    // two samples of 100 steps of taxel events
    let mut x = ndarray::Array3::<u8>::zeros((2, 100, 12));
    for ((b, t, c), v) in x.indexed_iter_mut() {
        *v = u8::from((t * 7 + c * 3 + b * 5) % 11 == 0);
    }
    let xp = d.join("x.npy");
    ndarray_npy::write_npy(&xp, &x).unwrap();
    let out = d.join("out.npz");
    let o = common::nmc_ok(&[
        "emulate",
        s(&spec),
        "--target",
        "xylo-audio2",
        "--input",
        s(&xp),
        "--out",
        s(&out),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("2 samples × 100 steps, 40 hidden / 7 output neurons"),
        "{text}"
    );
    let h: ArrayD<u8> = member(&out, "spikes.hidden");
    assert_eq!(h.shape(), &[2, 100, 40]);
    assert!(h.iter().any(|&c| c > 0), "the hidden layer spikes");
    let _ = std::fs::remove_dir_all(&d);
}

/// What Xylo cannot run is an error naming the node and field: a neuron
/// model it has not (exit 3), a network larger than the chip (exit 4), a
/// command it has no use for (exit 2).
#[test]
fn what_xylo_cannot_run_is_a_clear_error() {
    let d = scratch("errors");
    let o = Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args([
            "compile",
            s(&root().join("../shared/fixtures/nir-paper/01_lif/lif_norse.nir")),
            "--target",
            "xylo-audio2",
            "-o",
            s(&d.join("x.npz")),
        ])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        e.contains("xylo-audio2") && e.contains("model") && e.contains("CubaLIF"),
        "{e}"
    );
    // the N-MNIST CNN's 2 × 34 × 34 input is far more than 16 channels:
    // "does not fit" (exit 4), from partition and compile alike
    let cnn = root().join("../shared/fixtures/nir-paper/02_cnn/cnn_sinabs.nir");
    for cmd in [
        &["partition", s(&cnn), "--target", "xylo-audio2"][..],
        &["compile", s(&cnn), "--target", "xylo-imu", "-o", s(&d.join("c.npz"))][..],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_nmc")).args(cmd).output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{cmd:?}: {e}");
        assert!(e.contains("2312 input channels do not fit"), "{e}");
    }
    // a Xylo chip runs compile, partition and emulate; other commands say so
    let o = Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(["quantize", s(&braille()), "--target", "xylo-audio2"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("nmc compile MODEL.nir --target xylo-audio2"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The Braille SRNN's fit report on XyloAudio 2, committed as the issue's
/// partition report (`tests/golden/partition/braille_xylo_audio2.txt`;
/// `NMC_BLESS=1` rewrites it after an intended change).
#[test]
fn the_braille_fit_report_on_xylo_audio2_is_the_committed_one() {
    let o = on_braille("partition", "xylo-audio2", &[]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("fit: inputs 12/16 · hidden 40/1000 · outputs 7/8"),
        "{text}"
    );
    nmc_golden::assert_golden(&root().join("tests/golden/partition/braille_xylo_audio2.txt"), &text);
}

/// `nmc partition --target xylo-*`: the fit report without writing anything.
#[test]
fn partition_on_xylo_reports_the_fit() {
    let o = on_braille("partition", "xylo-imu", &["--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["fit"]["hidden"], serde_json::json!([40, 496]));
    assert_eq!(
        j["fit"]["recurrent"][1],
        serde_json::Value::Null,
        "XyloIMU's pool size is not published"
    );
}
