//! The `nmc` command as a user runs it: exit codes, messages, JSON schemas.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn nmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const MNIST: &str = "examples/mnist_conv/mnist_conv.nir";
const IMAGES: &str = "examples/mnist_conv/test_images.npy";
const LABELS: &str = "examples/mnist_conv/test_labels.npy";

#[test]
fn inspect_prints_every_layer_and_totals() {
    let o = nmc(&["inspect", MNIST]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for layer in ["enc_conv", "enc_if", "conv1", "if1", "conv2", "if2", "fc", "if_out"] {
        assert!(out.lines().any(|l| l.starts_with(layer)), "{layer} missing in\n{out}");
    }
    assert!(out.contains("totals: 11 nodes, 7002 neurons"), "{out}");
}

#[test]
fn inspect_json_has_the_documented_schema() {
    let o = nmc(&["inspect", MNIST, "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "nmc.inspect/1");
    assert_eq!(v["totals"]["neurons"], 7002);
    let nodes = v["nodes"].as_array().unwrap();
    let enc = nodes.iter().find(|n| n["name"] == "enc_if").unwrap();
    assert_eq!(enc["output_shape"], serde_json::json!([4, 28, 28]));
    assert_eq!(enc["format"], "spike");
}

#[test]
fn simulate_reports_rates_from_spike_counts_and_accuracy() {
    let o = nmc(&[
        "simulate", MNIST, "--input", IMAGES, "--steps", "20", "--labels", LABELS, "--json",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "nmc.simulate/1");
    assert_eq!(v["steps"], 20);
    assert_eq!(v["batch"], 200);
    // examples/mnist_conv/expected.json: spiking accuracy 0.95 on these 200 images at T = 20.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/mnist_conv/expected.json")).unwrap())
            .unwrap();
    let acc = v["accuracy"].as_f64().unwrap();
    let e = expected["accuracy"]["20"].as_f64().unwrap();
    assert!((acc - e).abs() < 1e-12, "accuracy {acc} vs expected {e}");
    for l in v["rates"]["layers"].as_array().unwrap() {
        let rate = l["mean_rate_hz"].as_f64().unwrap();
        let from_counts = l["spikes"].as_f64().unwrap() / (l["neurons"].as_f64().unwrap() * 20.0 * 0.001 * 200.0);
        assert!((rate - from_counts).abs() < 1e-9, "{l}");
    }
}

#[test]
fn a_missing_model_is_an_input_error_naming_the_file() {
    let o = nmc(&["inspect", "no/such/model.nir"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("no/such/model.nir"), "{err}");
}

#[test]
fn a_wrong_input_shape_is_an_input_error_explaining_the_convention() {
    let o = nmc(&["simulate", MNIST, "--input", LABELS]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("(batch, steps, features)"), "{err}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let o = nmc(&["simulate", MNIST]);
    assert_eq!(o.status.code(), Some(2));
    let o = nmc(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn labels_that_do_not_match_the_batch_are_rejected() {
    let o = nmc(&["simulate", MNIST, "--input", IMAGES, "--labels", IMAGES]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("labels") && err.contains("batch of 200"), "{err}");
}

#[test]
fn targets_lists_builtins_and_checks_files() {
    let o = nmc(&["targets"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("loihi1") && out.contains("tiny"), "{out}");
    let dir = std::env::temp_dir().join(format!("nmc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = nmc_target_source().replace("max_compartments: 1024", "max_compartments: 0");
    let bad = dir.join("bad.ron");
    std::fs::write(&bad, src).unwrap();
    let o = nmc(&["targets", "--check", bad.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(err.contains("core.max_compartments"), "{err}");
}

fn nmc_target_source() -> String {
    let o = nmc(&["targets", "--show", "loihi1"]);
    assert_eq!(o.status.code(), Some(0));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_quantized_model_file_replays_through_compile_emulate_and_verify() {
    let dir = std::env::temp_dir().join(format!("nmc-cli-q-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let q = dir.join("m.q.ron");
    let a = dir.join("m.nmca");
    let o = nmc(&["quantize", MNIST, "--target", "loihi1", "-o", q.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = nmc(&[
        "verify",
        q.to_str().unwrap(),
        "--input",
        IMAGES,
        "--steps",
        "8",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exact"]["equal"], true);
    let o = nmc(&["compile", q.to_str().unwrap(), "-o", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = nmc(&[
        "emulate",
        a.to_str().unwrap(),
        "--input",
        IMAGES,
        "--steps",
        "24",
        "--labels",
        LABELS,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "nmc.emulate/1");
    assert!(v["output"]["accuracy"].as_f64().unwrap() > 0.9, "{}", v["output"]);
    // A truncated quantized model is an input error naming the file.
    let text_q = std::fs::read_to_string(&q).unwrap();
    let bad = dir.join("bad.q.ron");
    std::fs::write(&bad, &text_q[..text_q.len() / 2]).unwrap();
    let o = nmc(&["verify", bad.to_str().unwrap(), "--input", IMAGES]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).1.contains("bad.q.ron"), "{}", text(&o).1);
}

#[test]
fn convert_writes_a_nir_file_every_command_reads() {
    let dir = std::env::temp_dir().join(format!("nmc-cli-conv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("converted.nir");
    let o = nmc(&[
        "convert",
        "examples/onnx_mnist/mnist_cnn.onnx",
        "--calibrate",
        "examples/onnx_mnist/calib_images.npy",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let o = nmc(&["inspect", out.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().filter(|k| **k == "if").count() >= 3, "{kinds:?}");
    assert_eq!(kinds.first(), Some(&"input"));
}

#[test]
fn convert_measures_ann_against_snn_accuracy_by_presentation_time() {
    let o = nmc(&[
        "convert",
        "examples/onnx_mnist/mnist_cnn.onnx",
        "--calibrate",
        "examples/onnx_mnist/calib_images.npy",
        "--input",
        "examples/onnx_mnist/test_images.npy",
        "--labels",
        "examples/onnx_mnist/test_labels.npy",
        "--steps-list",
        "10,100",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // The ANN accuracy nmc computes equals the one onnx's reference evaluator measured
    // (examples/onnx_mnist/ann.json, `test500_onnx`).
    let ann: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/onnx_mnist/ann.json")).unwrap()).unwrap();
    let want = format!("ANN {:.2}%", 100.0 * ann["test500_onnx"].as_f64().unwrap());
    assert!(out.contains(&want), "{want} not in\n{out}");
    let acc = |steps: &str| -> f64 {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(steps))
            .unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap()
    };
    // Longer presentations approach the ANN: 10 steps is far below, 100 within 1 point.
    assert!(acc("10") < acc("100"), "{out}");
    assert!(
        (acc("100") - 100.0 * ann["test500_onnx"].as_f64().unwrap()).abs() <= 1.0,
        "{out}"
    );
    assert!(out.contains("at ceiling"), "{out}");
}

/// `--logits readout` (issue 12): the converted CNN's logits as a linear
/// readout on the host decide by potential, not by whole spike counts, so a
/// short presentation loses far fewer ties; the deployment keeps it.
#[test]
fn onnx_logits_as_readout_beat_spike_counts_at_short_presentations() {
    let acc = |logits: &str| -> (f64, f64) {
        let o = nmc(&[
            "verify",
            "examples/onnx_mnist/mnist_cnn.onnx",
            "--calibrate",
            "examples/onnx_mnist/calib_images.npy",
            "--target",
            "loihi1",
            "--input",
            "examples/onnx_mnist/test_images.npy",
            "--labels",
            "examples/onnx_mnist/test_labels.npy",
            "--steps",
            "25",
            "--logits",
            logits,
        ]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        let line = out
            .lines()
            .find(|l| l.contains("accuracy float"))
            .unwrap_or_else(|| panic!("{out}"));
        let num = |key: &str| -> f64 {
            let rest = &line[line.rfind(key).unwrap() + key.len()..];
            rest.trim_start().split('%').next().unwrap().parse().unwrap()
        };
        (num("accuracy float"), num("deployed"))
    };
    let (spikes_float, _) = acc("spikes");
    let (readout_float, readout_deployed) = acc("readout");
    assert!(
        readout_float >= spikes_float + 10.0,
        "readout {readout_float}% vs spike counts {spikes_float}% at 25 steps"
    );
    assert!(
        (readout_deployed - readout_float).abs() <= 1.0,
        "{readout_deployed} vs {readout_float}"
    );
}

/// mnist_conv packs its last two layers onto one core: the report's lower
/// bound must not exceed the cores used (the layers' own bounds summed do).
#[test]
fn partition_lower_bound_holds_when_layers_share_a_core() {
    let m = root().join("examples/mnist_conv/mnist_conv.nir");
    let o = nmc(&["partition", m.to_str().unwrap(), "--target", "loihi1", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cores = j["totals"]["cores"].as_u64().unwrap();
    let lb = j["totals"]["lower_bound"].as_u64().unwrap();
    let summed: u64 = j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lower_bound"].as_u64().unwrap())
        .sum();
    assert!(
        summed > cores,
        "the case shares a core: layer bounds sum to {summed}, {cores} cores used"
    );
    assert!(lb <= cores, "lower bound {lb} > {cores} cores used");
    assert!(j["totals"]["over_lower_bound_pct"].as_f64().unwrap() >= 0.0);
}

/// A layer that never fires, or fires on every step, is named in a warning
/// with its likely causes (spike convention, scale, threshold), in the text
/// and the JSON report; a healthy run has none.
#[test]
fn simulate_warns_about_silent_and_saturated_layers() {
    let m = root().join("examples/mnist_conv/mnist_conv.nir");
    let d = std::env::temp_dir().join(format!("nmc-cli-warn-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let write = |name: &str, v: f32| {
        let p = d.join(name);
        ndarray_npy::write_npy(&p, &ndarray::Array3::<f32>::from_elem((2, 1, 784), v)).unwrap();
        p
    };
    let (zeros, big) = (write("zeros.npy", 0.0), write("big.npy", 50.0));
    // The JSON report of `nmc <cmd> <model> --input x --steps 10`.
    let report = |cmd: &str, model: &std::path::Path, x: &std::path::Path| -> serde_json::Value {
        let (model, x) = (model.to_str().unwrap(), x.to_str().unwrap());
        let o = nmc(&[cmd, model, "--input", x, "--steps", "10", "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let json = |x: &std::path::Path| report("simulate", &m, x);
    let w = json(&zeros)["rates"]["warnings"].clone();
    let w0 = w[0].as_str().unwrap_or_else(|| panic!("no warning: {w}"));
    assert!(
        w0.contains("layer `enc_if`") && w0.contains("never fired") && w0.contains("spike convention"),
        "{w0}"
    );
    let w = json(&big)["rates"]["warnings"].clone();
    assert!(
        w.as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("`enc_if`: every one")),
        "{w}"
    );
    let o = nmc(&[
        "simulate",
        m.to_str().unwrap(),
        "--input",
        big.to_str().unwrap(),
        "--steps",
        "10",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("warning: layer `enc_if`: every one"));
    let healthy = root().join("examples/mnist_conv/test_images.npy");
    let w = json(&healthy)["rates"]["warnings"].clone();
    assert_eq!(w, serde_json::json!([]), "a trained net on its test digits: no warning");
    // The emulator's report says the same of the deployed network.
    let a = d.join("m.nmca");
    let o = nmc(&[
        "compile",
        m.to_str().unwrap(),
        "--target",
        "loihi1",
        "-o",
        a.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let emu = |x: &std::path::Path| report("emulate", &a, x);
    let w = emu(&zeros)["warnings"].clone();
    assert!(
        w[0].as_str().unwrap().contains("layer `enc_if`") && w[0].as_str().unwrap().contains("never fired"),
        "{w}"
    );
    assert_eq!(emu(&healthy)["warnings"], serde_json::json!([]));
    // And verify, of its float reference.
    let o = nmc(&[
        "verify",
        m.to_str().unwrap(),
        "--target",
        "loihi1",
        "--input",
        zeros.to_str().unwrap(),
        "--steps",
        "10",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w0 = v["warnings"][0].as_str().unwrap_or_default().to_string();
    assert!(w0.starts_with("float reference: layer `enc_if`"), "{v:#}");
    let _ = std::fs::remove_dir_all(&d);
}
