#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]
//! Real networks through the real quantizer: the seeds' MNIST net (with and
//! without its spike encoder) and the trained `examples/mnist_conv`.
mod common;

use common::*;
use nmc_ir::qmodel::QModel;
use nmc_partition::{Baseline, PartitionError, PartitionOptions};
use nmc_target::Target;
use std::path::PathBuf;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn quantized(path: &str, t: &Target) -> QModel {
    let g = nmc_frontend::load(&repo(path), &Default::default()).unwrap();
    nmc_quant::quantize(&g, t, &nmc_quant::QuantOptions::default())
        .unwrap()
        .0
}

fn nengo() -> PartitionOptions {
    PartitionOptions {
        rates: None,
        baseline: Some(Baseline {
            name: "nengo-loihi".into(),
            cores: 47,
        }),
    }
}

fn check_seeds(path: &str) {
    let t = target("loihi1");
    let m = quantized(path, &t);
    let (pl, rep, a) = pipeline(&m, &t, &nengo());
    eprintln!("{rep}");
    let cores = pl.cores.len() as u64;
    assert!(cores < 47, "{cores} cores, nengo-loihi needs 47");
    assert!(
        cores as f64 <= 1.1 * rep.totals.lower_bound as f64,
        "{cores} cores, lower bound {}",
        rep.totals.lower_bound
    );
    assert!(rep.to_string().contains("nengo-loihi uses 47 cores"));
    a_equals_b(&m, &t, &a, 12, 3);
}

#[test]
fn seeds_mnist_fits_loihi1_below_nengo_loihi() {
    check_seeds("tests/fixtures/seeds_mnist/seeds_mnist.nir");
}

#[test]
fn seeds_mnist_encoder_fits_loihi1_below_nengo_loihi() {
    check_seeds("tests/fixtures/seeds_mnist/seeds_mnist_encoder.nir");
}

#[test]
fn mnist_conv_on_loihi1_a_equals_b() {
    let t = target("loihi1");
    let m = quantized("examples/mnist_conv/mnist_conv.nir", &t);
    let (pl, rep, a) = pipeline(&m, &t, &PartitionOptions::default());
    println!("{rep}");
    assert!(pl.cores.len() as u64 <= rep.totals.lower_bound + 1);
    a_equals_b(&m, &t, &a, 20, 7);
}

#[test]
fn mnist_conv_does_not_fit_tiny_and_says_where() {
    let t = target("tiny");
    let m = quantized("examples/mnist_conv/mnist_conv.nir", &t);
    let e = nmc_partition::partition(&m, &t, &PartitionOptions::default()).unwrap_err();
    let PartitionError::NotFit {
        layer,
        resource,
        need,
        offer,
        report,
        ..
    } = &e
    else {
        panic!("expected NotFit, got {e}");
    };
    println!("{e}\n{report}");
    assert!(need > offer, "{e}");
    assert!(!layer.is_empty() && !resource.is_empty());
    assert!(report.failure.is_some());
    assert!(report.to_string().contains("FAILED"));
}
