#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]
//! ResNet-sized stacks (over a million neurons, many chips) partition into
//! placements the verifier accepts. Speed is measured by the criterion bench
//! (`cargo bench -p nmc-partition`), not here; these run in the release-mode
//! test suite (slow in debug builds).
mod common;

use common::*;
use nmc_partition::{PartitionOptions, partition};

fn run(side: usize, width: usize) {
    let t = target("loihi1");
    let m = nmc_partition::examples::resnet_like(&t, side, width, 1);
    let n: usize = m.populations.iter().map(|p| p.shape.numel()).sum();
    let t0 = std::time::Instant::now();
    let (pl, rep) = partition(&m, &t, &PartitionOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dt = t0.elapsed();
    eprintln!(
        "resnet_like side {side} width {width}: {n} neurons, {} cores on {} chips (lower bound {}), {dt:.2?}; inter-chip traffic {} of {} routes",
        pl.cores.len(),
        rep.totals.chips,
        rep.totals.lower_bound,
        rep.totals.inter_chip_traffic,
        rep.totals.total_traffic
    );
    assert!(n >= 1_000_000);
    assert!(rep.totals.chips > 1);
    nmc_partition::verify(&m, &t, &pl).unwrap();
}

#[test]
fn resnet_like_256_width_8() {
    run(256, 8);
}

#[test]
fn resnet_like_224_width_16() {
    run(224, 16);
}
