#![allow(clippy::unwrap_used)]
//! Golden quantization reports (loihi1) in
//! `tests/golden/quant/`: the report's text, or the error for a model
//! loihi1 cannot run. `NMC_BLESS=1 cargo test -p nmc-quant --test golden`
//! rewrites them.

mod common;

use common::*;
use nmc_quant::{QuantOptions, quantize};
use std::path::PathBuf;

fn cases() -> Vec<(&'static str, PathBuf, QuantOptions)> {
    let d = QuantOptions::default;
    vec![
        ("mnist_conv", repo().join("examples/mnist_conv/mnist_conv.nir"), d()),
        // The bundled Sinabs export stores v_reset = 1: loihi1 cannot run it.
        ("nmnist_cnn", repo().join("examples/nmnist_cnn/cnn_sinabs.nir"), d()),
        // The NIR paper's copy of the architecture (v_reset = 0), for binned
        // N-MNIST frames like the bundled sample (counts up to 8).
        (
            "nmnist_cnn_paper",
            fixtures().join("nir-paper/02_cnn/cnn_sinabs.nir"),
            d().max_input_events(8),
        ),
        (
            "seeds_mnist",
            repo().join("tests/fixtures/seeds_mnist/seeds_mnist.nir"),
            d(),
        ),
        (
            "seeds_mnist_encoder",
            repo().join("tests/fixtures/seeds_mnist/seeds_mnist_encoder.nir"),
            d(),
        ),
    ]
}

fn render(path: &std::path::Path, opts: &QuantOptions) -> String {
    let g = load(path);
    match quantize(&g, &loihi1(), opts) {
        Ok((_, r)) => r.to_string(),
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn golden_reports() {
    let dir = repo().join("tests/golden/quant");
    let bless = nmc_golden::blessing();
    let mut failed = Vec::new();
    for (name, path, opts) in cases() {
        let text = render(&path, &opts);
        if let Err(m) = nmc_golden::check_with(&dir.join(format!("{name}.txt")), &text, bless) {
            failed.push(m);
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The JSON report carries the schema id and parses back.
#[test]
fn json_report() {
    let g = load(&repo().join("examples/mnist_conv/mnist_conv.nir"));
    let (_, r) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["schema"], "nmc.quantize/1");
    assert_eq!(v["populations"][0]["placement"], "host");
    assert_eq!(v["populations"][3]["connections"][0]["layout"], "dense");
    assert!(v["totals"]["weights"].as_u64().unwrap() > 16000);
}
