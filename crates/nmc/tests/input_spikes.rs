//! `--input-spikes` (issue 15): recorded spikes of the host layer fed to the
//! chip instead of running the host encoder, on `emulate`, `verify` and
//! `simulate`. The strongest check needs no third party: the host layer's own
//! spikes, recorded from a normal run and fed back, must reproduce that run
//! bit for bit on every later layer — in the emulator, the fixed reference
//! and the float reference — because they reach the chip by the same path
//! and latency.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use ndarray::ArrayD;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const STEPS: &str = "25";

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-input-spikes-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmc")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "nmc {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn npz(p: &Path) -> BTreeMap<String, ArrayD<u8>> {
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for name in z.names().unwrap() {
        if name.starts_with("spikes.") {
            let a: ArrayD<u8> = z.by_name(&name).unwrap();
            out.insert(name.trim_end_matches(".npy").to_string(), a);
        }
    }
    out
}

/// mnist_conv compiled for loihi1, 4 test digits, and the host layer's
/// spikes from a normal emulation (the `.npz` of that run too).
struct Setup {
    dir: PathBuf,
    model: PathBuf,
    artifact: PathBuf,
    qmodel: PathBuf,
    images: PathBuf,
    host: PathBuf,
    normal: PathBuf,
}

fn setup(test: &str) -> Setup {
    let dir = scratch(test);
    let model = root().join("examples/mnist_conv/mnist_conv.nir");
    let images: ArrayD<f32> = ndarray_npy::read_npy(root().join("examples/mnist_conv/test_images.npy")).unwrap();
    let four = images.slice_axis(ndarray::Axis(0), (0..4).into()).to_owned();
    let x = dir.join("x.npy");
    ndarray_npy::write_npy(&x, &four).unwrap();
    let (artifact, qmodel) = (dir.join("m.nmca"), dir.join("m.q.ron"));
    ok(&["compile", s(&model), "--target", "loihi1", "-o", s(&artifact)]);
    ok(&["quantize", s(&model), "--target", "loihi1", "-o", s(&qmodel)]);
    let normal = dir.join("normal.npz");
    ok(&[
        "emulate",
        s(&artifact),
        "--input",
        s(&x),
        "--steps",
        STEPS,
        "--out",
        s(&normal),
    ]);
    let host = dir.join("host.npy");
    ndarray_npy::write_npy(&host, &npz(&normal)["spikes.enc_if"]).unwrap();
    Setup {
        dir,
        model,
        artifact,
        qmodel,
        images: x,
        host,
        normal,
    }
}

#[test]
fn recorded_host_spikes_reproduce_the_emulated_run() {
    let t = setup("emulate");
    let again = t.dir.join("again.npz");
    ok(&[
        "emulate",
        s(&t.artifact),
        "--input-spikes",
        s(&t.host),
        "--out",
        s(&again),
    ]);
    let (a, b) = (npz(&t.normal), npz(&again));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, x) in &a {
        assert!(x.iter().any(|&v| v != 0), "{k} spikes");
        assert_eq!(x, &b[k], "{k}: the recorded host spikes must reproduce the run");
    }
    // Dropping one host spike changes what the chip does.
    let mut h: ArrayD<u8> = ndarray_npy::read_npy(&t.host).unwrap();
    let first = h.iter().position(|&v| v == 1).unwrap();
    *h.iter_mut().nth(first).unwrap() = 0;
    let fewer = t.dir.join("fewer.npy");
    ndarray_npy::write_npy(&fewer, &h).unwrap();
    let out = t.dir.join("fewer.npz");
    let rep = ok(&[
        "emulate",
        s(&t.artifact),
        "--input-spikes",
        s(&fewer),
        "--out",
        s(&out),
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_str(&rep).unwrap();
    let host_total: u64 = a["spikes.enc_if"].iter().map(|&v| u64::from(v)).sum();
    assert_eq!(j["host_spikes"], host_total - 1, "host spikes sent = the recorded ones");
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[test]
fn verify_and_simulate_take_the_host_spikes() {
    let t = setup("verify");
    // A = B on every chip layer, the host layer named as not run.
    let v = ok(&[
        "verify",
        s(&t.model),
        "--target",
        "loihi1",
        "--input-spikes",
        s(&t.host),
    ]);
    assert!(
        v.contains("A = B: fixed-point reference and emulated artifact identical (3 layers"),
        "{v}"
    );
    assert!(
        v.contains("enc_if (not run: recorded spikes given with --input-spikes)"),
        "{v}"
    );
    let vq = ok(&[
        "verify",
        s(&t.qmodel),
        "--target",
        "loihi1",
        "--input-spikes",
        s(&t.host),
    ]);
    assert!(
        vq.contains("A = B: fixed-point reference and emulated artifact identical (3 layers"),
        "{vq}"
    );
    let j: serde_json::Value = serde_json::from_str(&ok(&[
        "verify",
        s(&t.model),
        "--target",
        "loihi1",
        "--input-spikes",
        s(&t.host),
        "--json",
    ]))
    .unwrap();
    assert_eq!(j["host_spikes_given"], true);

    // The float reference after the host layer, fed the float host layer's own spikes,
    // reproduces the float run bit for bit.
    let (full, cut, host_f) = (t.dir.join("full.npz"), t.dir.join("cut.npz"), t.dir.join("host_f.npy"));
    ok(&[
        "simulate",
        s(&t.model),
        "--input",
        s(&t.images),
        "--steps",
        STEPS,
        "--out",
        s(&full),
    ]);
    let full_s = npz(&full);
    ndarray_npy::write_npy(&host_f, &full_s["spikes.enc_if"]).unwrap();
    ok(&[
        "simulate",
        s(&t.model),
        "--input-spikes",
        s(&host_f),
        "--host-layer",
        "enc_if",
        "--out",
        s(&cut),
    ]);
    let cut_s = npz(&cut);
    assert!(!cut_s.contains_key("spikes.enc_if"), "the host layer does not run");
    for k in ["spikes.if1", "spikes.if2", "spikes.if_out"] {
        assert_eq!(full_s[k], cut_s[k], "{k}");
    }
    // The fixed reference of the quantized model on the host spikes: the emulated counts.
    let fixed: serde_json::Value =
        serde_json::from_str(&ok(&["simulate", s(&t.qmodel), "--input-spikes", s(&t.host), "--json"])).unwrap();
    let normal = npz(&t.normal);
    assert_eq!(fixed["layers"].as_array().unwrap().len(), 3, "the chip layers");
    for l in fixed["layers"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        let want: u64 = normal[&format!("spikes.{name}")].iter().map(|&v| u64::from(v)).sum();
        assert_eq!(l["spikes"], want, "{name}");
    }
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[test]
fn bad_spike_files_are_clear_errors() {
    let t = setup("bad");
    let h: ArrayD<u8> = ndarray_npy::read_npy(&t.host).unwrap();
    // Wrong shape: 3 channels instead of 4.
    let narrow = t.dir.join("narrow.npy");
    ndarray_npy::write_npy(&narrow, &h.slice_axis(ndarray::Axis(2), (0..3).into()).to_owned()).unwrap();
    // A count of 2.
    let mut two = h.clone();
    two[[1, 2, 3, 4, 5]] = 2;
    let two_p = t.dir.join("two.npy");
    ndarray_npy::write_npy(&two_p, &two).unwrap();
    for (args, code, needles) in [
        (
            vec!["emulate", s(&t.artifact), "--input-spikes", s(&narrow)],
            3,
            vec!["narrow.npy", "[4,28,28]"],
        ),
        (
            vec!["emulate", s(&t.artifact), "--input-spikes", s(&two_p)],
            3,
            vec!["two.npy", "sample 1, step 2", "of `enc_if` is 2"],
        ),
        (
            vec!["verify", s(&t.model), "--target", "loihi1", "--input-spikes", s(&two_p)],
            3,
            vec!["two.npy", "must be 0 or 1"],
        ),
        (
            vec!["simulate", s(&t.model), "--input-spikes", s(&t.host)],
            2,
            vec!["--host-layer"],
        ),
        (
            vec![
                "emulate",
                s(&t.artifact),
                "--input-spikes",
                s(&t.host),
                "--input",
                s(&t.images),
            ],
            2,
            vec!["cannot be used with"],
        ),
    ] {
        let o = run(&args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {e}");
        for n in needles {
            assert!(e.contains(n), "{args:?}: `{n}` not in: {e}");
        }
    }
    // An artifact without a host layer (the nengo-loihi replay takes events as --input).
    let q = root().join("tests/fixtures/nengo_loihi/negexp.q.ron");
    let a = t.dir.join("nohost.nmca");
    ok(&["compile", s(&q), "--target", "loihi1", "-o", s(&a)]);
    let o = run(&["emulate", s(&a), "--input-spikes", s(&t.host)]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("0 host layers") && e.contains("--input"), "{e}");
    let _ = std::fs::remove_dir_all(&t.dir);
}

/// The dense host spikes as an events list (`step`, `neuron`, `sample`,
/// `steps`, in the order a DVS recording lists them: by time, then sample).
fn write_events(dense: &ArrayD<u8>, p: &Path, shuffle: bool) {
    let (batch, steps) = (dense.shape()[0], dense.shape()[1]);
    let n: usize = dense.shape()[2..].iter().product();
    let flat = dense.as_standard_layout();
    let flat = flat.as_slice().unwrap();
    let mut ev: Vec<(i64, i64, i64)> = Vec::new();
    for t in 0..steps {
        for b in 0..batch {
            for i in 0..n {
                if flat[(b * steps + t) * n + i] == 1 {
                    ev.push((t as i64, i as i64, b as i64));
                }
            }
        }
    }
    if shuffle {
        ev.reverse();
    }
    let col = |f: fn(&(i64, i64, i64)) -> i64| ndarray::Array1::from_iter(ev.iter().map(f));
    let mut z = ndarray_npy::NpzWriter::new(std::fs::File::create(p).unwrap());
    z.add_array("step", &col(|e| e.0)).unwrap();
    z.add_array("neuron", &col(|e| e.1)).unwrap();
    z.add_array("sample", &col(|e| e.2)).unwrap();
    z.add_array("steps", &ndarray::arr1(&[steps as i64])).unwrap();
    z.finish().unwrap();
}

/// An events list is the same recording as the dense array: `emulate`,
/// `simulate` (fixed reference) and `verify` give the same spikes from either,
/// whatever the order of the events; a bad list is an error naming the file,
/// the array and the event.
#[test]
fn an_events_list_is_the_same_recording() {
    let t = setup("events");
    let dense: ArrayD<u8> = ndarray_npy::read_npy(&t.host).unwrap();
    let ev = t.dir.join("events.npz");
    write_events(&dense, &ev, true);
    let (a, b) = (t.dir.join("dense.npz"), t.dir.join("ev.npz"));
    for (input, out) in [(&t.host, &a), (&ev, &b)] {
        ok(&[
            "emulate",
            s(&t.artifact),
            "--input-spikes",
            s(input),
            "--steps",
            STEPS,
            "--out",
            s(out),
        ]);
    }
    let (x, y) = (npz(&a), npz(&b));
    assert!(x["spikes.enc_if"].iter().any(|&v| v == 1));
    assert_eq!(x, y, "emulate: events list = dense array");
    let (fa, fb) = (t.dir.join("fdense.npz"), t.dir.join("fev.npz"));
    for (input, out) in [(&t.host, &fa), (&ev, &fb)] {
        ok(&[
            "simulate",
            s(&t.qmodel),
            "--input-spikes",
            s(input),
            "--steps",
            STEPS,
            "--out",
            s(out),
        ]);
    }
    assert_eq!(npz(&fa), npz(&fb), "simulate: events list = dense array");
    let rep = ok(&[
        "verify",
        s(&t.model),
        "--target",
        "loihi1",
        "--input-spikes",
        s(&ev),
        "--steps",
        STEPS,
    ]);
    assert!(
        rep.contains("A = B: fixed-point reference and emulated artifact identical") && rep.contains("not run"),
        "{rep}"
    );
    // errors name the file, the array and the event
    let bad = t.dir.join("bad.npz");
    let mut z = ndarray_npy::NpzWriter::new(std::fs::File::create(&bad).unwrap());
    z.add_array("step", &ndarray::arr1(&[0i64, 1])).unwrap();
    z.add_array("neuron", &ndarray::arr1(&[3i64, 1_000_000])).unwrap();
    z.finish().unwrap();
    let o = run(&["emulate", s(&t.artifact), "--input-spikes", s(&bad)]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(
        e.contains("bad.npz") && e.contains("events list") && e.contains("`neuron`[1] = 1000000"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&t.dir);
}
