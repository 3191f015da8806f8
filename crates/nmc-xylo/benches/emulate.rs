//! Emulator throughput on the full-size XyloAudio 2 fixture (1000 hidden
//! neurons, saturating input), spikes only and with every register:
//! `cargo bench -p nmc-xylo --bench emulate`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, Ix2};
use nmc_xylo::{Chip, Config, emu};

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/xylo/audio2");
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let config = Config::read_npz(&dir.join("large_full.spec.npz")).unwrap();
    let run = nmc_xylo::npz::read_npz(&dir.join("large_full.run.npz")).unwrap();
    let one = run["input"]
        .clone()
        .into_dimensionality::<Ix2>()
        .unwrap()
        .mapv(|x| x as u32);
    let steps = 1000;
    let input = Array2::from_shape_fn((steps, 16), |(t, c)| one[[t % one.nrows(), c]]);
    let mut g = c.benchmark_group("xylo_audio2_large_full");
    g.throughput(Throughput::Elements(steps as u64));
    g.sample_size(10);
    for (name, rec) in [("spikes", emu::Recording::Spikes), ("states", emu::Recording::States)] {
        g.bench_function(name, |b| {
            b.iter(|| emu::run(&chip, &config, input.view(), rec).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
