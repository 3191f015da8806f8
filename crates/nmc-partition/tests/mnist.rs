#![allow(clippy::unwrap_used)]
//! The seeds' MNIST network on loihi1: fewer cores than nengo-loihi, close to the lower bound.
mod common;

use common::*;
use nmc_partition::{Baseline, PartitionOptions};

fn opts() -> PartitionOptions {
    PartitionOptions {
        rates: None,
        baseline: Some(Baseline {
            name: "nengo-loihi".into(),
            cores: 47,
        }),
    }
}

#[test]
fn seeds_mnist_with_encoder_on_loihi1() {
    let t = target("loihi1");
    let m = nmc_partition::examples::seeds_mnist(&t, true, 1);
    let t0 = std::time::Instant::now();
    let (pl, rep, _a) = pipeline(&m, &t, &opts());
    println!("{rep}\n{:?}", t0.elapsed());
    assert!(pl.cores.len() < 47);
}

#[test]
fn seeds_mnist_host_first_layer_on_loihi1() {
    let t = target("loihi1");
    let m = nmc_partition::examples::seeds_mnist(&t, false, 1);
    let (pl, rep, _a) = pipeline(&m, &t, &opts());
    println!("{rep}");
    assert!(pl.cores.len() < 47);
}
