//! The conventions of a nengo network as a user meets them on the command
//! line (issue 12): `inspect` and every report say how the file is read, and
//! reading it with the wrong spike convention gets a warning that names the
//! layer and the convention, in text and JSON.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use std::process::Command;

fn nmc(args: &[&str]) -> (String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_nmc"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nmc {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

const MNIST: &str = "examples/nengo_mnist/net.nir";
const IMAGES: &str = "examples/nengo_mnist/test_images.npy";

#[test]
fn inspect_shows_the_conventions_and_nengo_parameters() {
    let (out, _) = nmc(&["inspect", "tests/fixtures/nengo/lowpass.nir"]);
    let first = out.lines().next().unwrap();
    assert!(first.contains("discretization = nengo"), "{first}");
    assert!(first.contains("spikes = impulse (height 1/dt = 1000.0"), "{first}");
    assert!(out.contains("refractory=0.003") && out.contains("v_min=0.0"), "{out}");
    let (out, _) = nmc(&[
        "inspect",
        "tests/fixtures/nengo/lowpass.nir",
        "--spike-convention",
        "step",
        "--discretization",
        "exact",
    ]);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("discretization = exact · spikes = step"),
        "{out}"
    );
}

#[test]
fn wrong_spike_convention_silences_the_seeds_network_with_a_warning() {
    let args = ["simulate", MNIST, "--input", IMAGES, "--steps", "10"];
    let (out, err) = nmc(&args);
    assert!(out.contains("spikes = impulse"), "{out}");
    assert!(
        !err.contains("never fired") && !out.contains("never fired"),
        "{out}{err}"
    );
    let mut wrong = args.to_vec();
    wrong.extend(["--spike-convention", "step"]);
    let (out, err) = nmc(&wrong);
    let text = format!("{out}{err}");
    assert!(text.contains("layer `conv1` (21632 neurons) never fired"), "{text}");
    assert!(text.contains("--spike-convention impulse"), "{text}");
    wrong.push("--json");
    let (json, _) = nmc(&wrong);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["conventions"]["spike_convention"], "step");
    assert_eq!(v["conventions"]["discretization"], "nengo");
    let w = v["rates"]["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|w| w.as_str().unwrap().contains("`conv1`") && w.as_str().unwrap().contains("spike convention"))
    );
}

#[test]
fn partition_and_verify_reports_name_the_conventions() {
    let net = "tests/fixtures/nengo/dense_host.nir";
    let want = "discretization = nengo · spikes = impulse";
    let (out, _) = nmc(&["partition", net, "--target", "loihi1"]);
    assert!(out.lines().nth(1).unwrap().contains(want), "{out}");
    let (json, _) = nmc(&["partition", net, "--target", "loihi1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["conventions"].as_str().unwrap().contains(want), "{json}");
    let (out, _) = nmc(&[
        "verify",
        net,
        "--target",
        "loihi1",
        "--input",
        "tests/fixtures/nengo/dense.input.npy",
    ]);
    assert!(out.contains(&format!("conventions: dt = 0.001 s · {want}")), "{out}");
    let (out, _) = nmc(&["quantize", net, "--target", "loihi1"]);
    assert!(out.lines().next().unwrap().contains("(nengo, impulse spikes)"), "{out}");
}

/// The seeds' NengoDL network (examples/nengo_mnist), as its README claims:
/// at 30 steps nmc's float reference scores what nengo.Simulator scored on
/// the same 200 images (nengo_accuracy.json), and the loihi1 deployment is
/// within 0.5 percentage point of the float reference, with A = B.
#[test]
fn seeds_network_deploys_within_half_a_point() {
    let (json, _) = nmc(&[
        "verify",
        MNIST,
        "--target",
        "loihi1",
        "--input",
        IMAGES,
        "--labels",
        "examples/nengo_mnist/test_labels.npy",
        "--steps",
        "30",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let r = &v["readouts"][0];
    let (float, deployed) = (
        r["float_accuracy"].as_f64().unwrap(),
        r["deployed_accuracy"].as_f64().unwrap(),
    );
    let nengo: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/nengo_mnist/nengo_accuracy.json")).unwrap(),
    )
    .unwrap();
    let want = nengo["test_images_npy"]["accuracy_out_p_filt_last_step"]["30"]
        .as_f64()
        .unwrap();
    eprintln!("30 steps: nengo {want}, nmc float {float}, deployed {deployed}");
    assert!((float - want).abs() <= 0.005, "float {float} vs nengo {want}");
    assert!(
        (deployed - float).abs() <= 0.005,
        "deployed {deployed} vs float {float}"
    );
    assert_eq!(v["exact"]["equal"], true, "A = B");
}
