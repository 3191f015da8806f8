#![allow(clippy::unwrap_used)]
//! A ResNet-sized stack (over a million neurons, many chips) partitions in
//! seconds into a placement both verifiers accept. Slow in debug builds:
//! `cargo test --release -p nmc-partition --test scale -- --ignored`.
mod common;

use common::*;
use nmc_partition::{PartitionOptions, partition};

#[test]
#[ignore = "release-mode scale test"]
fn resnet_like_partitions_in_seconds() {
    let t = target("loihi1");
    let m = nmc_partition::examples::resnet_like(&t, 256, 8, 1);
    let n: usize = m.populations.iter().map(|p| p.shape.numel()).sum();
    let t0 = std::time::Instant::now();
    let (pl, rep) = partition(&m, &t, &PartitionOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dt = t0.elapsed();
    println!(
        "{n} neurons, {} cores, {} chips, lower bound {}: {dt:?}",
        pl.cores.len(),
        rep.totals.chips,
        rep.totals.lower_bound
    );
    for l in &rep.layers {
        println!(
            "  {} {:?} blocks {} tile {:?} lb {} ({}) {} | {}",
            l.name,
            l.shape,
            l.blocks,
            l.tile_shape,
            l.lower_bound,
            l.lower_bound_resource,
            l.modes.join(";"),
            l.reason
        );
    }
    println!(
        "inter-chip edges {} traffic {} of {}",
        rep.totals.inter_chip_edges, rep.totals.inter_chip_traffic, rep.totals.total_traffic
    );
    assert!(n >= 1_000_000);
    let t1 = std::time::Instant::now();
    nmc_partition::verify(&m, &t, &pl).unwrap();
    println!("verify {:?}", t1.elapsed());
}
