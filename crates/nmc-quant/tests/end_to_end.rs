#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]
//! The quantized models run on the fixed-point reference (`nmc-reference`,
//! an independent interpreter of the QModel with the target's integer step)
//! and behave like their float graphs.

mod common;

use common::*;
use nmc_quant::{QuantOptions, quantize};
use nmc_reference::{FixedOptions, SimOptions, Stimulus, read_array, simulate, simulate_fixed};

fn argmax(c: &[u64]) -> usize {
    let mut best = 0;
    for (i, &x) in c.iter().enumerate() {
        if x > c[best] {
            best = i;
        }
    }
    best
}

/// mnist_conv on its 200 test images: the float reference at T = 20 steps
/// against the integer run at T = 23 (the chip pipeline adds 1 + 1 + 1
/// steps of latency: host → if1, if1 → if2, if2 → if_out). Predictions agree on nearly every image, accuracy is
/// within a point of the float model's, and no register wraps or clips.
#[test]
fn mnist_conv_fixed_point_matches_float() {
    let dir = repo().join("examples/mnist_conv");
    let g = load(&dir.join("mnist_conv.nir"));
    let t = loihi1();
    let (m, _) = quantize(&g, &t, &QuantOptions::default()).unwrap();
    let shape = g.node(g.input_nodes()[0]).out.shape.clone();
    let stim = Stimulus::from_array(read_array(&dir.join("test_images.npy")).unwrap(), &shape).unwrap();
    let labels: Vec<usize> = read_array(&dir.join("test_labels.npy"))
        .unwrap()
        .iter()
        .map(|&x| x as usize)
        .collect();
    let float = simulate(&g, &stim, &SimOptions { steps: Some(20) }).unwrap();
    let fixed = simulate_fixed(
        &m,
        &t,
        &stim,
        &FixedOptions {
            steps: Some(23),
            ..Default::default()
        },
    )
    .unwrap()
    .trace;
    assert_eq!(fixed.total_overflows(), 0, "{:?}", fixed.layers[0].overflows);
    let fo = float.layer("if_out").unwrap();
    let qo = fixed.position("if_out").unwrap();
    let (mut agree, mut acc_f, mut acc_q) = (0, 0, 0);
    for (b, &label) in labels.iter().enumerate() {
        let pf = argmax(&fo.counts_of(b));
        let pq = argmax(
            &(0..10)
                .map(|i| (0..23).filter(|&s| fixed.spiked(qo, b, s, i)).count() as u64)
                .collect::<Vec<_>>(),
        );
        agree += usize::from(pf == pq);
        acc_f += usize::from(pf == label);
        acc_q += usize::from(pq == label);
    }
    eprintln!("mnist_conv: predictions agree on {agree}/200; accuracy float {acc_f}/200, fixed {acc_q}/200");
    assert!(agree >= 192, "predictions agree on {agree}/200");
    assert!(acc_q + 2 >= acc_f, "accuracy float {acc_f}/200, fixed {acc_q}/200");
    // Per-layer spike totals within 3 % (the fixed run's extra steps cover the latency).
    for name in ["enc_if", "if1", "if2"] {
        let f = float.layer(name).unwrap().total() as f64;
        let q = fixed.layer(name).unwrap().total() as f64;
        let lead = match name {
            "enc_if" => 3.0,
            "if1" => 2.0,
            _ => 1.0,
        };
        // The integer run has `lead` more steps of this layer in its 23
        // (latencies: host 1, chip 1 per hop).
        let q = q * 20.0 / (20.0 + lead);
        assert!((q / f - 1.0).abs() < 0.03, "{name}: float {f}, fixed (scaled) {q}");
    }
}

/// The NIR paper's N-MNIST CNN on the bundled recording (10 frames of ON/OFF
/// event counts up to 8, then 10 empty frames). With the default
/// `max_input_events = 1` the first layer's accumulator wraps on this input
/// (the report says counts above ~1.5 are unsafe); with 8 nothing wraps and
/// every layer's spike total is within 10 % of the float reference's.
#[test]
fn nmnist_event_counts() {
    let g = load(&fixtures().join("nir-paper/02_cnn/cnn_sinabs.nir"));
    let t = loihi1();
    let a = read_array(&repo().join("examples/nmnist_cnn/sample.npy")).unwrap();
    assert_eq!(a.iter().copied().fold(0.0, f64::max), 8.0);
    let a3 = a.into_shape_with_order((1, 10, 2 * 34 * 34)).unwrap();
    let z = ndarray::Array3::<f64>::from_shape_fn(
        (1, 20, 2 * 34 * 34),
        |(b, s, j)| {
            if s < 10 { a3[[b, s, j]] } else { 0.0 }
        },
    );
    let stim = Stimulus::new(z).unwrap();
    let run = |opts: &QuantOptions| {
        let (m, r) = quantize(&g, &t, opts).unwrap();
        (
            simulate_fixed(&m, &t, &stim, &FixedOptions::default()).unwrap().trace,
            r,
        )
    };
    let (fixed, r) = run(&QuantOptions::default());
    assert!(fixed.layers[0].overflows.q_wraps() > 0);
    assert!(r.populations[0].saturation.safe_input.unwrap() < 8.0);
    let (fixed, r) = run(&QuantOptions::default().max_input_events(8));
    assert_eq!(fixed.total_overflows(), 0, "{:?}", fixed.layers[0].overflows);
    assert!(r.populations[0].saturation.safe_input.unwrap() >= 8.0);
    let float = simulate(&g, &stim, &SimOptions::default()).unwrap();
    for name in ["1", "3", "6", "10"] {
        let f = float.layer(name).unwrap().total() as f64;
        let q = fixed.layer(name).unwrap().total() as f64;
        assert!((q / f - 1.0).abs() < 0.1, "layer {name}: float {f}, fixed {q}");
    }
}
