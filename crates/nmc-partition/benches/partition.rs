//! Partitioning speed: the seeds' MNIST net and a ResNet-sized stack of
//! convolutions (1.1 M neurons over 10 loihi1 chips).
//!
//! `cargo bench -p nmc-partition --bench partition`
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use nmc_partition::{PartitionOptions, emit, examples, partition};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    let mut g = c.benchmark_group("partition");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let mnist = examples::seeds_mnist(&t, true, 1);
    g.bench_function("seeds_mnist_encoder/loihi1", |b| {
        b.iter(|| partition(&mnist, &t, &PartitionOptions::default()).unwrap())
    });
    let resnet = examples::resnet_like(&t, 256, 8, 1);
    g.bench_function("resnet_like_256_w8/loihi1", |b| {
        b.iter(|| partition(&resnet, &t, &PartitionOptions::default()).unwrap())
    });
    let (pl, _) = partition(&resnet, &t, &PartitionOptions::default()).unwrap();
    g.bench_function("resnet_like_256_w8/emit", |b| {
        b.iter(|| emit(&resnet, &pl, &t).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
