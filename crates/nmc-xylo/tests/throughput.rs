//! Steps per second on the full-size fixture (ignored by default):
//! `cargo test -p nmc-xylo --release --test throughput -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use ndarray::{Array2, Ix2};
use nmc_xylo::{Chip, Config, emu, reference};

#[test]
#[ignore]
fn full_chip_steps_per_second() {
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
    for rec in [emu::Recording::Spikes, emu::Recording::States] {
        let t0 = Instant::now();
        let r = emu::run(&chip, &config, input.view(), rec).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        let spikes: u64 = r.spikes_hidden.iter().map(|&x| u64::from(x)).sum();
        eprintln!(
            "emulator {rec:?}: {steps} steps in {dt:.3} s = {:.0} steps/s ({spikes} hidden spikes)",
            steps as f64 / dt
        );
    }
    let short = input.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..50));
    let t0 = Instant::now();
    reference::run(&chip, &config, short).unwrap();
    let dt = t0.elapsed().as_secs_f64();
    eprintln!("reference: 50 steps in {dt:.3} s = {:.1} steps/s", 50.0 / dt);
}
