//! Deployment end to end on real models: A = B on every fixture that fits
//! loihi1, the trained example's accuracy, determinism of artifacts, and
//! clear errors for damaged artifact files.
#![allow(clippy::unwrap_used)]

use nmc::pipeline::{VerifyOptions, compile, verify};
use nmc_reference::{Stimulus, read_array};
mod common;
use common::{braille_bias_zero, fixtures, lif_norse_with_exact_input, root, xorshift_spikes};

fn loihi1() -> nmc_target::Target {
    nmc_target::Target::builtin("loihi1").unwrap()
}

fn stim_for(g: &nmc_ir::Graph, path: &std::path::Path) -> Stimulus {
    let shape = g.node(g.input_nodes()[0]).out.shape.clone();
    Stimulus::from_array(read_array(path).unwrap(), &shape).unwrap()
}

#[test]
fn trained_example_deploys_within_one_point_of_float_accuracy() {
    let g = nmc::load_model(&root().join("examples/mnist_conv/mnist_conv.nir"), &Default::default()).unwrap();
    let stim = stim_for(&g, &root().join("examples/mnist_conv/test_images.npy"));
    let labels = nmc::simulate::read_labels(&root().join("examples/mnist_conv/test_labels.npy"), stim.batch()).unwrap();
    let out = verify(
        &g,
        &loihi1(),
        &stim,
        &VerifyOptions {
            steps: Some(20),
            labels: Some(labels),
            ..Default::default()
        },
    )
    .unwrap();
    let r = &out.report;
    assert!(r.exact.equal, "{:?}", r.exact);
    let o = r.output.as_ref().unwrap();
    let (fa, da) = (o.float_accuracy.unwrap(), o.deployed_accuracy.unwrap());
    // One point of accuracy (1e-9: the two are ratios of the same count).
    assert!((fa - da).abs() <= 0.01 + 1e-9, "float {fa} vs deployed {da}");
    assert!(da > 0.9, "deployed accuracy {da}");
    assert_eq!(r.host_layers, ["enc_if"], "the 1×1-conv encoder runs on the host");
    for l in &r.layers {
        assert!(l.rate_correlation > 0.95, "{l:?}");
    }
}

#[test]
fn nir_paper_cnn_on_a_real_nmnist_sample_is_exact() {
    let g = nmc::load_model(&fixtures().join("nir-paper/02_cnn/cnn_sinabs.nir"), &Default::default()).unwrap();
    let stim = stim_for(&g, &fixtures().join("nir-paper/other/nir4s_cnn_sinabs_sample.npy"));
    let mut opts = VerifyOptions::default();
    opts.quant.max_input_events = 8;
    let out = verify(&g, &loihi1(), &stim, &opts).unwrap();
    assert!(out.report.exact.equal, "{:?}", out.report.exact);
    assert!(
        out.report.host_layers.is_empty(),
        "event input goes straight to the chip"
    );
    assert!(out.report.layers[0].deployed_spikes > 1000);
}

#[test]
fn recurrent_braille_rnn_is_exact() {
    let g = braille_bias_zero();
    // The Braille inputs are not available: random taxel spikes (fixed seed).
    let stim = xorshift_spikes(2, 100, 12, 10);
    let out = verify(&g, &loihi1(), &stim, &VerifyOptions::default()).unwrap();
    assert!(out.report.exact.equal, "{:?}", out.report.exact);
    assert!(
        out.report.layers.iter().all(|l| l.deployed_spikes > 0),
        "{:?}",
        out.report.layers
    );
}

#[test]
fn single_lif_neuron_is_exact_and_fires() {
    let (g, stim) = lif_norse_with_exact_input();
    let out = verify(&g, &loihi1(), &stim, &VerifyOptions::default()).unwrap();
    assert!(out.report.exact.equal, "{:?}", out.report.exact);
    // Four spikes in the float reference, and the same count deployed.
    assert_eq!(out.report.layers[0].float_spikes, 4);
    assert_eq!(out.report.layers[0].deployed_spikes, 4);
}

#[test]
fn artifacts_are_byte_identical_across_runs() {
    let g = nmc::load_model(&root().join("examples/mnist_conv/mnist_conv.nir"), &Default::default()).unwrap();
    let a = compile(&g, &loihi1(), &Default::default(), &Default::default())
        .unwrap()
        .artifact
        .to_bytes()
        .unwrap();
    let b = compile(&g, &loihi1(), &Default::default(), &Default::default())
        .unwrap()
        .artifact
        .to_bytes()
        .unwrap();
    assert!(a == b, "two compilations differ");
    let back = nmc_artifact::Artifact::from_bytes("m.nmca", &a).unwrap();
    assert!(back.to_bytes().unwrap() == a, "decode/encode is not the identity");
}

#[test]
fn damaged_artifacts_are_clear_errors() {
    let g = nmc::load_model(&root().join("examples/mnist_conv/mnist_conv.nir"), &Default::default()).unwrap();
    let bytes = compile(&g, &loihi1(), &Default::default(), &Default::default())
        .unwrap()
        .artifact
        .to_bytes()
        .unwrap();
    let err = |b: &[u8]| nmc_artifact::Artifact::from_bytes("m.nmca", b).unwrap_err().to_string();
    let e = err(&bytes[..bytes.len() / 2]);
    assert!(e.contains("m.nmca") && e.contains("truncated"), "{e}");
    let mut flipped = bytes.clone();
    let k = flipped.len() - 10;
    flipped[k] ^= 0x40;
    let e = err(&flipped);
    assert!(e.contains("corrupted") && e.contains("checksum"), "{e}");
    let mut version = bytes.clone();
    version[4] = 99;
    let e = err(&version);
    assert!(e.contains("version 99"), "{e}");
    let e = err(b"PK\x03\x04 not an artifact");
    assert!(e.contains("not an nmc artifact"), "{e}");
}

#[test]
fn emulation_does_not_depend_on_thread_count() {
    let g = nmc::load_model(&root().join("examples/mnist_conv/mnist_conv.nir"), &Default::default()).unwrap();
    let c = compile(&g, &loihi1(), &Default::default(), &Default::default()).unwrap();
    let stim = stim_for(&g, &root().join("examples/mnist_conv/test_images.npy"));
    let input = nmc::pipeline::emu_input(&stim);
    let emu = nmc_emu::Emulator::new(&c.artifact).unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| emu.run(std::slice::from_ref(&input), 12).unwrap())
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.trace.first_difference(&two.trace), None, "1 vs 2 threads");
    assert_eq!(one.syn_events, two.syn_events);
}

#[test]
fn onoff_encoder_in_front_of_the_seeds_net_runs_on_the_host_and_is_exact() {
    let g = nmc::load_model(
        &root().join("tests/fixtures/seeds_mnist/seeds_mnist.nir"),
        &Default::default(),
    )
    .unwrap();
    let images = read_array(&root().join("examples/mnist_conv/test_images.npy")).unwrap();
    let shape = g.node(g.input_nodes()[0]).out.shape.clone();
    let all = Stimulus::from_array(images, &shape).unwrap();
    let first8 = all
        .values()
        .slice_axis(ndarray::Axis(0), ndarray::Slice::from(0..8usize))
        .to_owned();
    let stim = Stimulus::new(first8).unwrap();
    let mut opts = VerifyOptions {
        steps: Some(8),
        ..Default::default()
    };
    opts.quant.encoder = nmc_quant::EncoderMode::OnOff;
    let out = verify(&g, &loihi1(), &stim, &opts).unwrap();
    assert!(out.report.exact.equal, "{:?}", out.report.exact);
    assert_eq!(out.report.host_layers, ["input.onoff"]);
    // Pixels are in [0, 1]: only on channels fire, at a rate that follows the pixel.
    assert!(out.report.layers[0].deployed_spikes > 0);
    assert!(out.report.cores < 47, "seeds net needs {} cores", out.report.cores);
}
