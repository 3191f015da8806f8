//! nmc's Xylo compile of the NIR paper's Braille SRNN against rockpool's
//! own deployment of the same graph (`tests/fixtures/xylo_braille`:
//! rockpool 3.1.0's `from_nir` → `syns61201.mapper` → `global_quantize` /
//! `channel_quantize`, run in XyloSim on 20 synthetic taxel samples).
//!
//! 1. nmc's emulator runs rockpool's two specifications bit-exact with the
//!    XyloSim recordings (every register, every step, every sample).
//! 2. The three deployments (nmc's, rockpool global, rockpool channel) are
//!    measured against the trained network — nmc's float reference of the
//!    NIR graph (snnTorch's discretization, dt = 1e-4, subtractive reset) —
//!    and against rockpool's own float run, by the per-sample cosine of
//!    per-neuron spike counts (hidden and output) and the output argmax
//!    agreement, the measures `summary.json` gives for rockpool.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use ndarray::{Array2, Array3, ArrayD, Axis, Ix3};
use nmc_xylo::{Chip, Config, emu, quant};
use std::path::PathBuf;

mod common;
use common::braille;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/xylo_braille")
        .join(name)
}

fn member<T: ndarray_npy::ReadableElement>(file: &str, name: &str) -> Array3<T> {
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(fixture(file)).unwrap()).unwrap();
    let a: ArrayD<T> = z.by_name(name).or_else(|_| z.by_name(&format!("{name}.npy"))).unwrap();
    a.into_dimensionality::<Ix3>().unwrap()
}

/// Per sample, per-neuron spike counts (samples × neurons) of a
/// (samples, steps, neurons) array.
fn counts<T: Copy + Into<f64>>(a: &Array3<T>) -> Array2<f64> {
    a.map(|&x| x.into()).sum_axis(Axis(1))
}

/// Mean over samples of the cosine of two count matrices (a sample where
/// either side is silent counts as 0 unless both are).
fn cosine(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.outer_iter().zip(b.outer_iter()) {
        let (d, nx, ny) = (x.dot(&y), x.dot(&x).sqrt(), y.dot(&y).sqrt());
        s += if nx == 0.0 && ny == 0.0 {
            1.0
        } else if nx == 0.0 || ny == 0.0 {
            0.0
        } else {
            d / (nx * ny)
        };
    }
    s / a.nrows() as f64
}

/// Fraction of samples whose output argmax (first on ties) agrees.
fn argmax_agree(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let am = |r: ndarray::ArrayView1<'_, f64>| {
        r.iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |m, (i, &v)| if v > m.1 { (i, v) } else { m })
            .0
    };
    let same = a
        .outer_iter()
        .zip(b.outer_iter())
        .filter(|(x, y)| am(*x) == am(*y))
        .count();
    same as f64 / a.nrows() as f64
}

/// Runs `cfg` on every sample: (hidden, output) spikes, (samples, steps, n).
fn run(chip: &Chip, cfg: &Config, input: &Array3<u8>) -> (Array3<u8>, Array3<u8>) {
    let (b, t, _) = input.dim();
    let mut h = Array3::zeros((b, t, cfg.hidden()));
    let mut o = Array3::zeros((b, t, cfg.outputs()));
    for s in 0..b {
        let x = input.index_axis(Axis(0), s).mapv(u32::from);
        let r = emu::run(chip, cfg, x.view(), emu::Recording::Spikes).unwrap();
        h.index_axis_mut(Axis(0), s).assign(&r.spikes_hidden);
        o.index_axis_mut(Axis(0), s).assign(&r.spikes_output);
    }
    (h, o)
}

#[test]
fn rockpool_deployments_emulate_bit_exact() {
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let input: Array3<u8> = member("float.npz", "input");
    for q in ["global", "channel"] {
        let cfg = Config::read_npz(&fixture(&format!("spec_{q}.npz"))).unwrap();
        for s in 0..input.dim().0 {
            let x = input.index_axis(Axis(0), s).mapv(u32::from);
            let r = emu::run(&chip, &cfg, x.view(), emu::Recording::States).unwrap();
            let st = r.states.as_ref().unwrap();
            let rec = format!("xylo_{q}.npz");
            let spikes: Array3<u8> = member(&rec, "Spikes");
            let vmem: Array3<i16> = member(&rec, "Vmem");
            let out: Array3<u8> = member(&rec, "Spikes_out");
            assert_eq!(r.spikes_hidden, spikes.index_axis(Axis(0), s), "{q} sample {s}: Spikes");
            assert_eq!(
                r.spikes_output,
                out.index_axis(Axis(0), s),
                "{q} sample {s}: Spikes_out"
            );
            assert_eq!(st.hidden_vmem, vmem.index_axis(Axis(0), s), "{q} sample {s}: Vmem");
        }
    }
}

#[test]
fn nmc_deployment_against_rockpools() {
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let g = braille();
    let input: Array3<u8> = member("float.npz", "input");
    let (b, t, c) = input.dim();
    // nmc's float reference of the trained graph on the same events
    let stim = nmc_reference::Stimulus::new(input.mapv(f64::from).into_shape_with_order((b, t, c)).unwrap()).unwrap();
    let res = nmc_reference::simulate(&g, &stim, &Default::default()).unwrap();
    let layer = |name: &str| {
        let l = res.layers.iter().find(|l| l.name == name).unwrap();
        let n = l.shape.numel();
        Array3::from_shape_fn((b, t, n), |(s, k, i)| u8::from(l.spikes[(s * t + k) * n + i]))
    };
    let (ref_h, ref_o) = (counts(&layer("lif1.lif")), counts(&layer("lif2")));
    let (rp_h, rp_o) = (
        counts(&member::<u16>("float.npz", "spikes")),
        counts(&member::<u16>("float.npz", "spikes_out")),
    );
    let (nmc_cfg, _) = quant::compile(&g, &chip).unwrap();
    let mut rows = Vec::new();
    for (name, cfg) in [
        ("nmc", nmc_cfg),
        (
            "rockpool global_quantize",
            Config::read_npz(&fixture("spec_global.npz")).unwrap(),
        ),
        (
            "rockpool channel_quantize",
            Config::read_npz(&fixture("spec_channel.npz")).unwrap(),
        ),
    ] {
        let (h, o) = run(&chip, &cfg, &input);
        let (h, o) = (counts(&h), counts(&o));
        let row = [
            cosine(&h, &ref_h),
            cosine(&o, &ref_o),
            argmax_agree(&o, &ref_o),
            cosine(&h, &rp_h),
            cosine(&o, &rp_o),
            argmax_agree(&o, &rp_o),
            h.sum(),
        ];
        eprintln!(
            "{name:<26} vs NIR float: hidden {:.3} output {:.3} argmax {:.2} | vs rockpool float: hidden {:.3} \
             output {:.3} argmax {:.2} | hidden spikes {}",
            row[0], row[1], row[2], row[3], row[4], row[5], row[6]
        );
        rows.push(row);
    }
    eprintln!("NIR float hidden spikes {}, rockpool float {}", ref_h.sum(), rp_h.sum());
    // measured (deterministic): against the trained network nmc's deployment
    // agrees better on the outputs (cosine 0.936 vs 0.927 / 0.896, argmax
    // 0.65 vs 0.60 / 0.60) and worse on the hidden layer (0.762 vs 0.856 /
    // 0.809: it fires more, 5418 hidden spikes against the float 3683)
    assert!(
        rows[0][1] > rows[1][1] && rows[0][1] > rows[2][1],
        "output cosine vs NIR float: {rows:?}"
    );
    assert!(
        rows[0][2] >= rows[1][2] && rows[0][2] >= rows[2][2],
        "output argmax vs NIR float: {rows:?}"
    );
    assert!(rows[0][0] > 0.7, "hidden cosine vs NIR float: {}", rows[0][0]);
    // the figures summary.json gives for rockpool's deployments against its float run
    assert!(
        (rows[1][3] - 0.861).abs() < 0.005,
        "global vs rockpool float: {}",
        rows[1][3]
    );
    assert!(
        (rows[2][3] - 0.879).abs() < 0.005,
        "channel vs rockpool float: {}",
        rows[2][3]
    );
}
