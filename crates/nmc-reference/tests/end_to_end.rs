//! Real NIR files through the frontend: the NIR paper's single LIF neuron,
//! and the repository's trained MNIST conv net against the spike counts of
//! its independent numpy float64 simulation (`examples/mnist_conv`).

mod common;

use common::*;
use nmc_reference::{SimOptions, Stimulus, read_array, simulate};
use serde_json::Value;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn lif_norse_file_spikes_at_analytic_steps() {
    let dir = fixtures().join("nir-paper/01_lif");
    let opts = nmc_frontend::LoadOptions {
        dt: Some(1e-4),
        ..Default::default()
    };
    let g = nmc_frontend::load(&dir.join("lif_norse.nir"), &opts).expect("load lif_norse.nir");
    let text = std::fs::read_to_string(dir.join("traces/lif_exact.csv")).expect("csv");
    let drive: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| vec![l.split(',').next().expect("col").trim().parse().expect("number")])
        .collect();
    let res = simulate(&g, &stim(&drive), &SimOptions::default()).expect("sim");
    assert_eq!(res.layers.len(), 1);
    assert_eq!(res.layers[0].model, "LIF");
    assert_eq!(res.layers[0].spike_steps(0, 0), vec![460, 510, 710, 760]);
}

fn counts(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("count"))
        .collect()
}

/// Exact per-layer and per-output spike counts of images 0–4 at T = 10 and
/// 20, total counts over all 200 images and the 200 predictions at T = 20.
/// The README states float64 reproduces these counts exactly.
#[test]
fn mnist_conv_matches_expected_counts() {
    let dir = repo().join("examples/mnist_conv");
    let g = nmc_frontend::load(&dir.join("mnist_conv.nir"), &Default::default()).expect("load mnist_conv.nir");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"))
            .expect("json");
    let images = read_array(&dir.join("test_images.npy")).expect("images");
    let shape = g.node(g.input_nodes()[0]).out.shape.clone();
    let stim = Stimulus::from_array(images, &shape).expect("stimulus");
    assert_eq!((stim.batch(), stim.steps()), (200, 1));
    for steps in [10usize, 20] {
        let res = simulate(&g, &stim, &SimOptions { steps: Some(steps) }).expect("sim");
        let key = steps.to_string();
        let first5 = &expected["layer_spike_counts_first5"][&key];
        for layer in ["enc_if", "if1", "if2", "if_out"] {
            let l = res.layer(layer).unwrap_or_else(|| panic!("layer {layer}"));
            let got: Vec<u64> = (0..5).map(|b| l.counts_of(b).iter().sum()).collect();
            assert_eq!(got, counts(&first5[layer]), "T={steps} layer {layer}");
            if steps == 20 {
                assert_eq!(
                    l.total(),
                    expected["layer_spike_counts"][&key][layer].as_u64().expect("n"),
                    "T={steps} layer {layer}, all 200 images"
                );
            }
        }
        let out = res.layer("if_out").expect("if_out");
        for b in 0..5 {
            assert_eq!(
                out.counts_of(b),
                counts(&expected["output_spike_counts_first5"][&key][b]),
                "T={steps} image {b}"
            );
        }
        if steps == 20 {
            let preds: Vec<u64> = (0..200)
                .map(|b| {
                    let c = out.counts_of(b);
                    let mut best = 0;
                    for (i, &x) in c.iter().enumerate() {
                        if x > c[best] {
                            best = i;
                        }
                    }
                    best as u64
                })
                .collect();
            assert_eq!(preds, counts(&expected["predictions"][&key]));
        }
    }
}
