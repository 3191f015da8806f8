//! Emulator throughput on a synthetic artifact: an event input of 1024
//! channels feeding 8 cores of 1024 compartments through dense discrete
//! axons (1024 synapses each), which feed a second layer of 8 cores the
//! same way. Reports synaptic events per second (criterion's throughput).

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nmc_artifact::*;
use nmc_emu::{Emulator, InputData};
use std::hint::black_box;

const N: usize = 1024;
const CORES: usize = 8;

fn profile() -> CxProfile {
    CxProfile {
        decay_u: 4095,
        decay_v: 200,
        vth_mant: 40,
        bias_exp: 0,
        refractory: 0,
        vmin_exp: 23,
        vmax_exp: 7,
        spiking: true,
    }
}

fn dense_core(chip: u16, core: u16, axons: usize, seed: u64) -> CoreCfg {
    let mut x = seed;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let tables = (0..axons)
        .map(|_| SynTable {
            format: 0,
            atoms: 1,
            syns: (0..N)
                .map(|c| Syn {
                    atom: 0,
                    cx: c as u16,
                    mant: (rnd() % 21) as i16 - 8,
                })
                .collect(),
        })
        .collect();
    CoreCfg {
        chip,
        core,
        profiles: vec![profile()],
        cx: vec![
            Cx {
                profile: 0,
                bias_mant: 0
            };
            N
        ],
        formats: vec![SynFormat {
            weight_exp: 0,
            weight_bits: 8,
            indexed: false,
        }],
        tables,
        axons: (0..axons as u32).map(|t| InAxon::Discrete { table: t }).collect(),
        routes: vec![Vec::new(); N],
    }
}

/// The synthetic two-layer artifact.
fn artifact() -> Artifact {
    // Layer 1: cores 0..CORES, each with N axons (one per input channel).
    // Layer 2: cores CORES..2·CORES, each with N axons fed by core k's compartment j → axon j of core CORES + k.
    let mut cores: Vec<CoreCfg> = (0..2 * CORES)
        .map(|k| dense_core(0, k as u16, N, 1 + k as u64))
        .collect();
    for k in 0..CORES {
        for j in 0..N {
            cores[k].routes[j] = vec![Route {
                core: (CORES + k) as u32,
                axon: j as u32,
                atom: 0,
            }];
        }
    }
    let input_routes = (0..N)
        .map(|j| {
            (0..CORES)
                .map(|k| Route {
                    core: k as u32,
                    axon: j as u32,
                    atom: 0,
                })
                .collect()
        })
        .collect();
    let layer = |c0: usize| LayerMap {
        name: format!("l{c0}"),
        shape: vec![CORES * N],
        loc: LayerLoc::Chip((0..CORES * N).map(|i| ((c0 + i / N) as u32, (i % N) as u16)).collect()),
    };
    let t = nmc_target::Target::builtin("loihi1").unwrap();
    Artifact {
        model: "bench".into(),
        target_name: "loihi1".into(),
        target_ron: t.to_ron().unwrap(),
        dt: 1e-3,
        inputs: vec![ArtInput {
            name: "in".into(),
            shape: vec![N],
            encoding: Encoding::Events,
            routes: input_routes,
        }],
        host: vec![],
        cores,
        layers: vec![layer(0), layer(CORES)],
        outputs: vec![],
        readouts: vec![],
        float_host: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let a = artifact();
    let emu = Emulator::new(&a).unwrap();
    let steps = 100;
    let mut x = 12345u64;
    let data: Vec<f64> = (0..steps * N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(10) { 1.0 } else { 0.0 }
        })
        .collect();
    let input = [InputData {
        batch: 1,
        steps,
        features: N,
        data,
    }];
    let events = emu.run(&input, steps).unwrap().syn_events;
    let mut g = c.benchmark_group("emulate");
    g.throughput(Throughput::Elements(events));
    g.sample_size(10);
    g.bench_function("dense_2x8_cores_100_steps_syn_events", |b| {
        b.iter(|| black_box(emu.run(black_box(&input), steps).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
