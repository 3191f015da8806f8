//! Emulator throughput on the seeds' MNIST conv net (28×28×1 → conv 32 →
//! conv/2 64 → conv/2 128 → dense 10; tests/fixtures/seeds_mnist) compiled
//! for loihi1, 30 steps per image, inputs = real MNIST digits turned into
//! Bernoulli spike trains (p = pixel intensity). Reports synaptic events/s
//! (single-threaded: one image per iteration) and steps/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nmc_emu::{Emulator, InputData};
use std::hint::black_box;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bench(c: &mut Criterion) {
    let g = nmc_frontend::load(
        &root().join("tests/fixtures/seeds_mnist/seeds_mnist.nir"),
        &Default::default(),
    )
    .expect("seeds_mnist.nir loads");
    let t = nmc_target::Target::builtin("loihi1").expect("loihi1");
    let compiled =
        nmc::pipeline::compile(&g, &t, &Default::default(), &Default::default()).expect("seeds_mnist compiles");
    let emu = Emulator::new(&compiled.artifact).expect("emulator");
    let images = nmc_reference::read_array(&root().join("examples/mnist_conv/test_images.npy")).expect("images");
    let px: Vec<f64> = images.iter().copied().collect();
    let steps = 30;
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let one = |k: usize, rnd: &mut dyn FnMut() -> f64| -> InputData {
        let img = &px[k * 784..(k + 1) * 784];
        let data = (0..steps)
            .flat_map(|_| {
                img.iter()
                    .map(|&p| if rnd() < p { 1.0 } else { 0.0 })
                    .collect::<Vec<_>>()
            })
            .collect();
        InputData {
            batch: 1,
            steps,
            features: 784,
            data,
        }
    };
    let input = one(0, &mut rnd);
    let res = emu.run(std::slice::from_ref(&input), steps).expect("runs");
    let mut g1 = c.benchmark_group("emulate_seeds_mnist_loihi1");
    g1.sample_size(20);
    g1.throughput(Throughput::Elements(res.syn_events));
    g1.bench_function("one_image_30_steps_syn_events", |b| {
        b.iter(|| black_box(emu.run(black_box(std::slice::from_ref(&input)), steps).expect("runs")))
    });
    g1.throughput(Throughput::Elements(steps as u64));
    g1.bench_function("one_image_30_steps_steps", |b| {
        b.iter(|| black_box(emu.run(black_box(std::slice::from_ref(&input)), steps).expect("runs")))
    });
    // A batch of 16 images, parallel over the batch (rayon).
    let inputs: Vec<InputData> = (0..16).map(|k| one(k, &mut rnd)).collect();
    let batch = InputData {
        batch: 16,
        steps,
        features: 784,
        data: inputs.iter().flat_map(|i| i.data.iter().copied()).collect(),
    };
    let res16 = emu.run(std::slice::from_ref(&batch), steps).expect("runs");
    g1.throughput(Throughput::Elements(res16.syn_events));
    g1.bench_function("batch16_30_steps_syn_events_parallel", |b| {
        b.iter(|| black_box(emu.run(black_box(std::slice::from_ref(&batch)), steps).expect("runs")))
    });
    g1.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
