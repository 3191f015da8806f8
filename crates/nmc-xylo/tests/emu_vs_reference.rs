//! A = B: the emulator and the plain reference agree on every register of
//! random configurations within the chips' limits.
#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use nmc_xylo::{Chip, Config, emu, reference};
use proptest::prelude::*;

/// splitmix64: a seeded stream of values for one case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

#[derive(Debug, Clone)]
struct Case {
    chip: &'static str,
    inputs: usize,
    hidden: usize,
    ien: usize,
    oen: usize,
    outputs: usize,
    states: usize,
    steps: usize,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::bool::ANY,
        1usize..=16,
        1usize..=24,
        1usize..=16,
        1usize..=40,
        any::<u64>(),
        0usize..=2,
    )
        .prop_flat_map(|(audio, inputs, hidden, outputs, steps, seed, st)| {
            let chip = if audio { "xylo-audio2" } else { "xylo-imu" };
            let outputs = if audio { outputs.min(8) } else { outputs };
            let states = if audio { 1 + st.min(1) } else { 1 };
            (1..=hidden, 1..=hidden).prop_map(move |(ien, oen)| Case {
                chip,
                inputs,
                hidden,
                ien,
                oen,
                outputs,
                states,
                steps,
                seed,
            })
        })
}

fn weights(r: &mut Rng, n: usize, density: f64) -> Vec<i64> {
    (0..n)
        .map(|_| if r.chance(density) { r.int(-128, 127) } else { 0 })
        .collect()
}

/// A random configuration of `c`'s sizes, every value within the chip's ranges.
fn build(c: &Case) -> (Config, Array2<u32>) {
    let mut r = Rng(c.seed);
    let mut cfg = Config::zeros(c.inputs, c.hidden, c.outputs, c.states);
    let dens = [0.1, 0.4, 0.9][r.int(0, 2) as usize];
    cfg.weights_in = Array2::from_shape_vec(
        (c.inputs, c.ien * c.states),
        weights(&mut r, c.inputs * c.ien * c.states, dens),
    )
    .unwrap()
    .into_shape_with_order((c.inputs, c.ien, c.states))
    .unwrap();
    let rec = weights(&mut r, c.hidden * c.hidden * c.states, dens / 2.0);
    cfg.weights_rec = ndarray::Array3::from_shape_vec((c.hidden, c.hidden, c.states), rec).unwrap();
    cfg.weights_out = Array2::from_shape_vec((c.oen, c.outputs), weights(&mut r, c.oen * c.outputs, dens)).unwrap();
    let low_th = r.chance(0.3);
    for v in [
        &mut cfg.dash_mem,
        &mut cfg.dash_syn,
        &mut cfg.dash_syn_2,
        &mut cfg.dash_mem_out,
        &mut cfg.dash_syn_out,
    ] {
        v.mapv_inplace(|_| r.int(0, 15));
    }
    for v in [&mut cfg.threshold, &mut cfg.threshold_out] {
        v.mapv_inplace(|_| {
            if r.chance(0.05) {
                r.int(-32768, 32767)
            } else if low_th {
                r.int(0, 40)
            } else {
                r.int(1, 4000)
            }
        });
    }
    let bias_on = r.chance(0.5);
    for v in [&mut cfg.bias, &mut cfg.bias_out] {
        v.mapv_inplace(|_| {
            if bias_on {
                r.int(-32768, 32767) / [1, 16, 256][r.int(0, 2) as usize]
            } else {
                0
            }
        });
    }
    let alias_p = [0.0, 0.3, 1.0][r.int(0, 2) as usize];
    let h = c.hidden as i64;
    cfg.aliases
        .mapv_inplace(|_| if r.chance(alias_p) { r.int(0, h - 1) } else { -1 });
    cfg.weight_shift_in = r.int(0, 7);
    cfg.weight_shift_rec = r.int(0, 7);
    cfg.weight_shift_out = r.int(0, 7);
    let max_events = [2, 15, 40][r.int(0, 2) as usize];
    let input = Array2::from_shape_fn((c.steps, c.inputs), |_| {
        if r.chance(0.5) { r.int(0, max_events) as u32 } else { 0 }
    });
    (cfg, input)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn emulator_equals_reference(c in case()) {
        let chip = Chip::builtin(c.chip).unwrap();
        let (cfg, input) = build(&c);
        cfg.check(&chip).unwrap();
        let a = emu::run(&chip, &cfg, input.view(), emu::Recording::States).unwrap();
        let b = reference::run(&chip, &cfg, input.view()).unwrap();
        prop_assert_eq!(&a, &b);
        // The spikes-only run gives the same spikes.
        let s = emu::run(&chip, &cfg, input.view(), emu::Recording::Spikes).unwrap();
        prop_assert_eq!(&s.spikes_hidden, &a.spikes_hidden);
        prop_assert_eq!(&s.spikes_output, &a.spikes_output);
        prop_assert!(s.states.is_none());
    }
}

/// The properties are not vacuous: random cases spike, saturate, hit the caps.
#[test]
fn random_cases_reach_the_edges() {
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let (mut spikes, mut cap, mut sat) = (0u64, 0u64, 0u64);
    for seed in 0..200 {
        let c = Case {
            chip: "xylo-audio2",
            inputs: 16,
            hidden: 20,
            ien: 20,
            oen: 10,
            outputs: 8,
            states: 2,
            steps: 30,
            seed,
        };
        let (cfg, input) = build(&c);
        let a = emu::run(&chip, &cfg, input.view(), emu::Recording::States).unwrap();
        spikes += a.spikes_hidden.iter().map(|&x| u64::from(x)).sum::<u64>();
        cap += a.spikes_hidden.iter().filter(|&&x| x == 31).count() as u64;
        let s = a.states.unwrap();
        sat += s
            .hidden_vmem
            .iter()
            .chain(s.hidden_isyn.iter())
            .filter(|&&x| x == i16::MIN || x >= i16::MAX - 1)
            .count() as u64;
    }
    assert!(
        spikes > 1000 && cap > 10 && sat > 10,
        "spikes {spikes}, at the 31 cap {cap}, saturated {sat}"
    );
}
