//! What a CI pipeline relies on (issue 8): golden spike files that catch a
//! changed deployment (`--expect`/`--bless`), strict overflow mode with its
//! own exit code, streamed emulation of large batches in bounded memory, and
//! byte-identical outputs across runs and thread counts.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn nmc_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nmc"));
    c.args(args).current_dir(root());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn nmc(args: &[&str]) -> Output {
    nmc_env(args, &[])
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-ci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MNIST: &str = "examples/mnist_conv/mnist_conv.nir";
const IMAGES: &str = "examples/mnist_conv/test_images.npy";

/// The first `n` images of the example set (repeated when `n` > 200), as .npy.
fn images(dir: &Path, n: usize) -> PathBuf {
    let all: ndarray::ArrayD<f32> = ndarray_npy::read_npy(root().join(IMAGES)).unwrap();
    let count = all.shape()[0];
    let mut shape = all.shape().to_vec();
    shape[0] = n;
    let rows: Vec<f32> = (0..n)
        .flat_map(|i| {
            all.index_axis(ndarray::Axis(0), i % count)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    let a = ndarray::ArrayD::from_shape_vec(shape, rows).unwrap();
    let p = dir.join(format!("images{n}.npy"));
    ndarray_npy::write_npy(&p, &a).unwrap();
    p
}

fn compile(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["compile", MNIST, "--target", "loihi1", "-o", s(&out)];
    args.extend_from_slice(extra);
    let o = nmc(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    out
}

#[test]
fn a_blessed_golden_passes_and_a_changed_deployment_fails_with_exit_5() {
    let d = scratch("golden");
    let input = images(&d, 24);
    let a = compile(&d, "m.nmca", &[]);
    let golden = d.join("golden.nmcs");
    let run = |art: &Path, extra: &[&str]| {
        let mut args = vec![
            "emulate",
            s(art),
            "--input",
            s(&input),
            "--steps",
            "20",
            "--expect",
            s(&golden),
        ];
        args.extend_from_slice(extra);
        nmc(&args)
    };

    let o = run(&a, &["--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(text(&o).1.contains("blessed"), "{}", text(&o).1);
    assert!(std::fs::metadata(&golden).unwrap().len() > 100);

    // Same artifact, same input: equal, exit 0; the JSON says so.
    let o = run(&a, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["golden"]["equal"], true);
    assert_eq!(v["golden"]["samples"], 24);
    let spikes: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["spikes"].as_u64().unwrap())
        .sum();
    let expected: u64 = v["golden"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["spikes_expected"].as_u64().unwrap())
        .sum();
    assert_eq!(spikes, expected, "the golden file holds every spike of the run");

    // A retrained / rescaled model: the deployment changed, exit 5, the report says where.
    let b = compile(&d, "m2.nmca", &["--scale-firing-rates", "1.05"]);
    let o = run(&b, &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}\n{err}");
    assert!(
        out.contains("DIFFERS") && out.contains("first difference: layer `"),
        "{out}"
    );
    assert!(
        err.contains("differ from the golden file") && err.contains("--bless"),
        "{err}"
    );

    // Another presentation time or input: not comparable, an input error (3), not a mismatch.
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        "21",
        "--expect",
        s(&golden),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o).1.contains("recorded with 20 steps, this run has 21"),
        "{}",
        text(&o).1
    );
    let other = images(&d, 25);
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&other),
        "--steps",
        "20",
        "--expect",
        s(&golden),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).1.contains("24 samples, this run has 25"), "{}", text(&o).1);

    // Writing and reading the same file at once is refused.
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--spikes",
        s(&golden),
        "--expect",
        s(&golden),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--bless"), "{}", text(&o).1);
    let o = run(&a, &[]);
    assert_eq!(o.status.code(), Some(0), "the refused command left the golden intact");

    // A damaged golden file: an input error naming it.
    let bytes = std::fs::read(&golden).unwrap();
    let cut = d.join("cut.nmcs");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        "20",
        "--expect",
        s(&cut),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o).1.contains("cut.nmcs: not a valid spike file"),
        "{}",
        text(&o).1
    );
    let mut flipped = bytes.clone();
    let k = flipped.len() / 2;
    flipped[k] ^= 0x10;
    std::fs::write(&cut, &flipped).unwrap();
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        "20",
        "--expect",
        s(&cut),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
    assert!(text(&o).1.contains("CRC mismatch"), "{}", text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn verify_expect_uses_the_same_golden_files_as_emulate() {
    let d = scratch("verify-golden");
    let input = images(&d, 12);
    let golden = d.join("v.nmcs");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            MNIST,
            "--target",
            "loihi1",
            "--input",
            s(&input),
            "--steps",
            "20",
            "--expect",
            s(&golden),
            "--json",
        ];
        args.extend_from_slice(extra);
        nmc(&args)
    };
    let o = verify(&["--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["golden"]["equal"], true);
    let deployed_steps = v["deployed_steps"].as_u64().unwrap().to_string();

    // The deployed run of verify is what `nmc emulate` runs for that many steps.
    let a = compile(&d, "m.nmca", &[]);
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        &deployed_steps,
        "--expect",
        s(&golden),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o).0, text(&o).1);

    // A changed deployment fails verify with exit 5 although A = B still holds.
    let o = verify(&["--scale-firing-rates", "1.05"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(5));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exact"]["equal"], true, "{out}");
    assert_eq!(v["golden"]["equal"], false);
    assert!(v["golden"]["first"]["layer"].is_string());
    let _ = std::fs::remove_dir_all(&d);
}

/// A quantized model with every weight exponent at the largest value: the
/// accumulator wraps.
fn overheated(d: &Path) -> PathBuf {
    let q = d.join("m.q.ron");
    let o = nmc(&["quantize", MNIST, "--target", "loihi1", "-o", s(&q)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let src = std::fs::read_to_string(&q).unwrap();
    let mut hot = String::new();
    for line in src.lines() {
        match line.split_once("weight_exp: ") {
            Some((head, _)) => hot.push_str(&format!("{head}weight_exp: 7,\n")),
            None => {
                hot.push_str(line);
                hot.push('\n');
            }
        }
    }
    assert_ne!(hot, src, "the model has weight exponents to raise");
    let p = d.join("hot.q.ron");
    std::fs::write(&p, hot).unwrap();
    p
}

#[test]
fn strict_mode_names_layer_neuron_step_and_register_with_exit_6() {
    let d = scratch("strict");
    let input = images(&d, 4);
    let hot = overheated(&d);
    let a = d.join("hot.nmca");
    let o = nmc(&["compile", s(&hot), "-o", s(&a)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);

    // Lenient: counted per layer, the same by the fixed reference and the emulator.
    let o = nmc(&["emulate", s(&a), "--input", s(&input), "--steps", "10", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let em: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = nmc(&["simulate", s(&hot), "--input", s(&input), "--steps", "10", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let fx: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(em["overflows"], fx["overflows"]);
    let total: u64 = em["overflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["q_wraps"].as_u64().unwrap())
        .sum();
    assert!(total > 0, "{}", em["overflows"]);
    let o = nmc(&["emulate", s(&a), "--input", s(&input), "--steps", "10"]);
    assert!(text(&o).0.contains("q wraps"), "{}", text(&o).0);

    // Strict: every integer command stops at the same first overflow, exit 6.
    let runs = [
        nmc(&["emulate", s(&a), "--input", s(&input), "--steps", "10", "--strict"]),
        nmc(&["simulate", s(&hot), "--input", s(&input), "--steps", "10", "--strict"]),
        nmc(&["verify", s(&hot), "--input", s(&input), "--steps", "10", "--strict"]),
    ];
    let mut places = Vec::new();
    for o in &runs {
        let (_, err) = text(o);
        assert_eq!(o.status.code(), Some(6), "{err}");
        let at = err.split_once("overflow in ").unwrap().1;
        let (place, rest) = at.split_once(": register ").unwrap();
        assert!(
            place.contains("`enc_if`") && place.contains("neuron ") && place.contains("step 0"),
            "{err}"
        );
        assert!(rest.starts_with("q would be"), "{err}");
        places.push(place.replace("population", "layer").to_string());
    }
    assert!(places.windows(2).all(|w| w[0] == w[1]), "{places:?}");

    // A healthy model passes strict mode.
    let o = nmc(&["verify", MNIST, "--input", s(&input), "--steps", "10", "--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(text(&o).0.contains("overflows: none"));

    // The float reference has no registers: --strict on a float model is a usage error.
    let o = nmc(&["simulate", MNIST, "--input", s(&input), "--strict"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("quantized model"), "{}", text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

fn peak_rss_kib(err: &str) -> u64 {
    let l = err.lines().find(|l| l.starts_with("peak RSS: ")).unwrap();
    l.trim_start_matches("peak RSS: ")
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

/// 1,000 images × 100 steps: the spikes of the whole run are 700 M bits
/// (88 MB) — more than the bound; streamed, the command stays under 48 MiB,
/// and writes every sample to the spike file.
#[test]
fn a_large_batch_streams_in_bounded_memory() {
    let d = scratch("stream");
    let input = images(&d, 1000);
    let a = compile(&d, "m.nmca", &[]);
    let spikes = d.join("all.nmcs");
    let o = nmc_env(
        &[
            "emulate",
            s(&a),
            "--input",
            s(&input),
            "--steps",
            "100",
            "--spikes",
            s(&spikes),
            "--json",
        ],
        &[("NMC_REPORT_PEAK_RSS", "1")],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["batch"], 1000);
    let total: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["spikes"].as_u64().unwrap())
        .sum();
    let neurons: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["neurons"].as_u64().unwrap())
        .sum();
    assert!(
        neurons * 100 * 1000 / 8 > 48 << 20,
        "the test must exceed the bound without streaming"
    );
    let peak = peak_rss_kib(&err);
    assert!(peak < 48 << 10, "peak RSS {peak} KiB ≥ 48 MiB");
    // Everything reached the file: comparing the run with it is exact.
    assert!(total > 1_000_000);
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        "100",
        "--expect",
        s(&spikes),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

/// Artifacts, reports and spike files are byte-identical across runs and
/// across thread counts.
#[test]
fn outputs_are_byte_identical_across_runs_and_thread_counts() {
    let d = scratch("determinism");
    let input = images(&d, 40);
    let mut artifacts = Vec::new();
    let mut reports = Vec::new();
    let mut spike_files = Vec::new();
    let mut npz = Vec::new();
    let mut verify_json = Vec::new();
    for (k, threads) in ["1", "2", "4", "1"].iter().enumerate() {
        let env = [("RAYON_NUM_THREADS", *threads)];
        let a = d.join(format!("m{k}.nmca"));
        let o = nmc_env(&["compile", MNIST, "--target", "loihi1", "-o", s(&a)], &env);
        assert_eq!(o.status.code(), Some(0));
        artifacts.push(std::fs::read(&a).unwrap());
        let sp = d.join(format!("s{k}.nmcs"));
        let z = d.join(format!("s{k}.npz"));
        let o = nmc_env(
            &[
                "emulate",
                s(&a),
                "--input",
                s(&input),
                "--steps",
                "20",
                "--spikes",
                s(&sp),
                "--out",
                s(&z),
                "--json",
            ],
            &env,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
        reports.push(o.stdout);
        spike_files.push(std::fs::read(&sp).unwrap());
        npz.push(std::fs::read(&z).unwrap());
        let o = nmc_env(
            &["verify", MNIST, "--input", s(&input), "--steps", "20", "--json"],
            &env,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
        verify_json.push(o.stdout);
    }
    for (what, v) in [
        ("artifact", &artifacts),
        ("emulate report", &reports),
        ("spike file", &spike_files),
        ("npz", &npz),
        ("verify report", &verify_json),
    ] {
        assert!(
            v.windows(2).all(|w| w[0] == w[1]),
            "{what} differs between runs / thread counts"
        );
        assert!(!v[0].is_empty());
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Across machines: the artifact of the example model and its spikes on 8
/// images are committed (blessed on the development machine); a fresh CI
/// machine must reproduce both byte for byte. Bless with
/// `NMC_BLESS=1 cargo test --release -p nmc --test ci_contract`.
#[test]
fn a_fresh_machine_reproduces_the_committed_artifact_and_spikes() {
    let d = scratch("machines");
    let input = images(&d, 8);
    let a = compile(&d, "m.nmca", &[]);
    let bytes = std::fs::read(&a).unwrap();
    let crc = format!("{:08x} {}\n", crc32(&bytes), bytes.len());
    let dir = root().join("tests/golden/deploy");
    let crc_file = dir.join("mnist_conv_loihi1.nmca.crc32");
    let golden = dir.join("mnist_conv_loihi1_8x20.nmcs");
    let bless = nmc_golden::blessing();
    if bless {
        let o = nmc(&[
            "emulate",
            s(&a),
            "--input",
            s(&input),
            "--steps",
            "20",
            "--expect",
            s(&golden),
            "--bless",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    }
    if let Err(m) = nmc_golden::check_with(&crc_file, &crc, bless) {
        panic!("the compiled artifact differs from the one built on the development machine: {m}");
    }
    let o = nmc(&[
        "emulate",
        s(&a),
        "--input",
        s(&input),
        "--steps",
        "20",
        "--expect",
        s(&golden),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o).0, text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

/// CRC-32 (IEEE), bitwise: the test does not trust the crate it checks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// The CI example of docs/reliability.md (examples/ci/check-deployment.sh):
/// bless, pass, then fail with exit 5 once the model changes.
#[test]
fn the_documented_ci_script_catches_a_changed_model() {
    let d = scratch("script");
    let input = images(&d, 6);
    let golden = d.join("model.nmcs");
    let model = d.join("model.nir");
    std::fs::copy(root().join(MNIST), &model).unwrap();
    let script = |extra: &[&str]| {
        let mut c = Command::new("bash");
        c.arg(root().join("examples/ci/check-deployment.sh"))
            .args([s(&model), s(&input), s(&golden)])
            .args(extra)
            .env("NMC", env!("CARGO_BIN_EXE_nmc"))
            .env("TMPDIR", &d);
        c.output().unwrap()
    };
    let o = script(&["--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = script(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(text(&o).0.contains("every spike identical"), "{}", text(&o).0);
    // "Retrain": the output layer's weights move by up to ±5%, and the model file is rewritten.
    let mut g = nmc::load_model(&model, &Default::default()).unwrap();
    let fc = g.find("fc").unwrap();
    g.edit_op(fc, |op| match op {
        nmc_ir::Op::Affine { weight, .. } => weight
            .data_mut()
            .iter_mut()
            .enumerate()
            .for_each(|(i, w)| *w *= 1.0 + 0.05 * (i as f64).sin()),
        op => panic!("fc is {op:?}"),
    })
    .unwrap();
    nmc_frontend::write_nir(&g, &model).unwrap();
    let o = script(&[]);
    assert_eq!(o.status.code(), Some(5), "{}\n{}", text(&o).0, text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

/// A presentation time far beyond memory is refused before the run starts
/// (usage error naming the figures), by every command that records spikes.
#[test]
fn a_run_too_large_for_memory_is_refused_up_front() {
    let d = scratch("budget");
    let input = images(&d, 3);
    let a = compile(&d, "m.nmca", &[]);
    for args in [
        vec!["emulate", s(&a), "--input", s(&input), "--steps", "100000000000"],
        vec!["simulate", MNIST, "--input", s(&input), "--steps", "100000000000"],
        vec!["verify", MNIST, "--input", s(&input), "--steps", "100000000000"],
    ] {
        let t0 = std::time::Instant::now();
        let o = nmc(&args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(" × 1000000000") && err.contains(" steps need about") && err.contains("lower --steps"),
            "{err}"
        );
        // A hang guard, not a speed test: the check comes before any work.
        assert!(t0.elapsed().as_secs() < 30);
    }
    // Zero steps is nothing to run, for every command.
    for args in [
        vec!["emulate", s(&a), "--input", s(&input), "--steps", "0"],
        vec!["simulate", MNIST, "--input", s(&input), "--steps", "0"],
        vec!["verify", MNIST, "--input", s(&input), "--steps", "0"],
    ] {
        let o = nmc(&args);
        assert_eq!(o.status.code(), Some(3), "{args:?}");
        assert!(text(&o).1.contains("the number of steps is 0"), "{}", text(&o).1);
    }
    // The limit is the user's to raise or lower.
    let o = nmc_env(
        &["emulate", s(&a), "--input", s(&input), "--steps", "20"],
        &[("NMC_MEMORY_LIMIT_MB", "0")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o).1);
    let _ = std::fs::remove_dir_all(&d);
}

/// Errors of later stages name the model file as well as the node and field.
#[test]
fn stage_errors_name_the_model_file() {
    let o = nmc(&[
        "verify",
        "examples/nmnist_cnn/cnn_sinabs.nir",
        "--input",
        "examples/nmnist_cnn/sample.npy",
        "--encoder",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let err = text(&o).1;
    assert!(
        err.starts_with("error: examples/nmnist_cnn/cnn_sinabs.nir: node `1`: v_reset:"),
        "{err}"
    );
    let o = nmc(&[
        "compile",
        "tests/fixtures/seeds_mnist/seeds_mnist.nir",
        "--target",
        "tiny",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(4));
    let err = text(&o).1;
    assert!(
        err.starts_with("error: tests/fixtures/seeds_mnist/seeds_mnist.nir: layer `if_out` does not fit"),
        "{err}"
    );
}

/// Event inputs beyond the emulator's per-step count (2^20, where 64-bit
/// accumulation stays exact) or negative are input errors naming the file.
#[test]
fn event_counts_the_emulator_cannot_sum_exactly_are_refused() {
    let d = scratch("events");
    let a = d.join("ev.nmca");
    let o = nmc(&[
        "compile",
        "tests/fixtures/seeds_mnist/seeds_mnist.nir",
        "--encoder",
        "none",
        "-o",
        s(&a),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    for (name, value) in [("huge.npy", f64::from(1u32 << 21)), ("negative.npy", -1.0)] {
        let p = d.join(name);
        ndarray_npy::write_npy(&p, &ndarray::Array3::<f64>::from_elem((1, 2, 784), value)).unwrap();
        let o = nmc(&["emulate", s(&a), "--input", s(&p), "--steps", "2"]);
        let err = text(&o).1;
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(name) && err.contains("up to 1048576"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
