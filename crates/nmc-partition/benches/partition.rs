//! Partitioning benchmark (filled in below).
#![allow(clippy::unwrap_used)]
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let m = nmc_partition::examples::dense_chain(&[20, 40, 10], 1);
    c.bench_function("dense_chain", |b| {
        b.iter(|| nmc_partition::partition(&m, &t, &Default::default()).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
