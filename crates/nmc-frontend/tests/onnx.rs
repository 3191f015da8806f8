#![allow(clippy::unwrap_used)]
//! ONNX conversion: BN + AvgPool semantics through the float reference, and
//! the errors for bad inputs (fixtures from tests/fixtures/onnx/make.py).

use nmc_frontend::FrontendError;
use nmc_frontend::onnx::{ConvertOptions, convert, convert_bytes};
use std::path::{Path, PathBuf};

fn fx(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
}

fn msg(e: FrontendError) -> String {
    e.to_string()
}

/// Output rates × the report's output scale match the ANN's output (its
/// positive part; all logits here are positive) within 15 % of the output
/// layer's full scale λ, after 2000 steps with IF neurons (reset to zero).
/// Measured: 11.9 %; the error is the reset-to-zero rate compression (the
/// overshoot above threshold is lost: rate ≈ x/(1 + x/2) per step at 0.25
/// spikes/step, ≤ 11 % low at full scale), not noise.
#[test]
fn bn_avgpool_rates_times_scale_match_the_ann() {
    let calib = nmc_reference::read_array(&fx("bn_calib.npy")).unwrap();
    let test = nmc_reference::read_array(&fx("bn_test.npy")).unwrap();
    let expected = nmc_reference::read_array(&fx("bn_expected.npy")).unwrap();
    let c = convert(
        &fx("bn_avgpool.onnx"),
        &ConvertOptions {
            calibration: Some(calib),
            ..Default::default()
        },
    )
    .unwrap();
    let rep = c.report.to_string();
    assert!(rep.contains("BatchNormalization `bn1` folded into `conv1`"), "{rep}");
    // The lowered ANN reproduces onnx's reference evaluator.
    let n = test.shape()[0];
    let flat: Vec<f64> = test.iter().copied().collect();
    for s in 0..n {
        let y = c.ann.forward(&flat[s * 128..(s + 1) * 128]);
        for k in 0..3 {
            assert!(
                (y[k] - expected[[s, k]]).abs() < 1e-4,
                "sample {s} output {k}: {} vs {}",
                y[k],
                expected[[s, k]]
            );
        }
    }
    // Pools are sum pools (÷ area folded into weights).
    let dump = c.graph.to_string();
    assert!(!dump.contains("avgpool2d") && dump.contains("sumpool2d"), "{dump}");
    // Spiking network: each sample held for `steps` steps.
    let steps = 2000;
    let stim = nmc_reference::Stimulus::from_array(
        test.clone().into_shape_with_order(vec![n, 1, 2, 8, 8]).unwrap(),
        &nmc_ir::Shape::new(vec![2, 8, 8]),
    )
    .unwrap();
    let res = nmc_reference::simulate(&c.graph, &stim, &nmc_reference::SimOptions { steps: Some(steps) }).unwrap();
    let last = &c.report.layers.last().unwrap().name;
    let layer = res.layer(last).unwrap();
    let full = c.report.layers.last().unwrap().ann_scale;
    let mut worst: f64 = 0.0;
    for s in 0..n {
        let counts = layer.counts_of(s);
        for k in 0..3 {
            let snn = counts[k] as f64 / steps as f64 * c.report.output_scale;
            let ann = expected[[s, k]].max(0.0);
            worst = worst.max((snn - ann).abs() / full);
        }
    }
    assert!(worst < 0.15, "worst error {worst} of full scale {full}");
}

#[test]
fn weight_based_normalisation_warns() {
    let c = convert(&fx("bn_avgpool.onnx"), &ConvertOptions::default()).unwrap();
    assert!(c.report.warnings.iter().any(|w| w.contains("no calibration data")));
    // load() dispatches .onnx and keeps the warning in the metadata.
    let g = nmc_frontend::load(&fx("bn_avgpool.onnx"), &Default::default()).unwrap();
    assert!(g.meta.contains_key("onnx_warning"));
}

#[test]
fn unsupported_op_names_node_op_opset_and_supported_list() {
    let e = msg(convert(&fx("unsupported.onnx"), &ConvertOptions::default()).unwrap_err());
    assert!(e.contains("unsupported.onnx"), "{e}");
    assert!(e.contains("node `pool`"), "{e}");
    assert!(e.contains("unsupported operator MaxPool (opset 17)"), "{e}");
    assert!(e.contains("supported ops: Conv, Gemm"), "{e}");
}

#[test]
fn malformed_protobuf_is_a_clear_error() {
    let e = msg(convert_bytes("bad.onnx", &[0xff, 0xff, 0xff, 0x0a, 0x05], &ConvertOptions::default()).unwrap_err());
    assert!(
        e.starts_with("bad.onnx: not a valid ONNX model (protobuf decode failed"),
        "{e}"
    );
    // A truncated real model.
    let bytes = std::fs::read(fx("bn_avgpool.onnx")).unwrap();
    let e = msg(convert_bytes("cut.onnx", &bytes[..bytes.len() / 2], &ConvertOptions::default()).unwrap_err());
    assert!(e.contains("not a valid ONNX model"), "{e}");
}

#[test]
fn missing_initializer_names_node_and_input() {
    let e = msg(convert(&fx("missing_init.onnx"), &ConvertOptions::default()).unwrap_err());
    assert!(
        e.contains("node `conv`, field `input `w_missing``: missing initializer"),
        "{e}"
    );
}

#[test]
fn dynamic_shape_is_rejected() {
    let e = msg(convert(&fx("dynamic.onnx"), &ConvertOptions::default()).unwrap_err());
    assert!(
        e.contains("field `input `x``: dynamic shape: dimension 2 is the symbol `H`"),
        "{e}"
    );
}

#[test]
fn calibration_shape_is_checked() {
    let bad = ndarray::ArrayD::<f64>::zeros(vec![4, 3, 8, 8]);
    let e = msg(convert(
        &fx("bn_avgpool.onnx"),
        &ConvertOptions {
            calibration: Some(bad),
            ..Default::default()
        },
    )
    .unwrap_err());
    assert!(
        e.contains("calibration data of shape [4, 3, 8, 8]: expected (N, 2, 8, 8)"),
        "{e}"
    );
}
