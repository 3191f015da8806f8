//! The NIR paper's Braille SRNN (12 → 40 recurrent CubaLIF → 7, trained in
//! snnTorch with subtractive reset; the paper ran it on Xylo hardware)
//! compiled for xylo-audio2 by `nmc_xylo::quant::compile`: the mapping's
//! integers, the fit, and the chip's spikes against nmc's float reference
//! of the same graph on the same input events.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use ndarray::Array2;
use nmc_xylo::{Chip, emu, quant};

mod common;
use common::braille;

/// Sparse deterministic taxel events: `steps × 12`, about one event per
/// channel every `1/rate` steps, in bursts as a Braille sweep gives.
fn events(sample: u64, steps: usize) -> Array2<u32> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (sample.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut a = Array2::zeros((steps, 12));
    for t in 0..steps {
        for c in 0..12 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let phase = u64::from((t / 32 + c + sample as usize).is_multiple_of(4));
            if x % 100 < 2 + 18 * phase {
                a[[t, c]] = 1;
            }
        }
    }
    a
}

#[test]
fn braille_srnn_compiles_for_xylo_audio2() {
    let g = braille();
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let (cfg, rep) = quant::compile(&g, &chip).unwrap();
    eprintln!("{rep}");
    // snnTorch's α = 1 − dt/τ: lif1 τ_syn = 4e-4 s → α = 0.75 = 1 − 2^−2
    // exactly; τ_mem = 6.667e-4 → 0.85, nearest 1 − 2^−3 = 0.875
    let h = &rep.populations[0];
    assert_eq!(
        (h.name.as_str(), h.neurons, h.dash_syn.as_slice(), h.dash_mem.as_slice()),
        ("lif1.lif", 40, &[2][..], &[3][..])
    );
    assert!(h.decay_syn_err < 1e-9, "{}", h.decay_syn_err);
    let o = &rep.populations[1];
    assert_eq!((o.name.as_str(), o.neurons), ("lif2", 7));
    assert_eq!(
        (rep.fit.inputs, rep.fit.hidden, rep.fit.outputs),
        ((12, 16), (40, 1000), (7, 8))
    );
    // a threshold of 1 becomes at most 2^12 (int16 with 8× headroom), here
    // a little less so that the largest recurrent weight fits 127 << 7
    assert!((2048..=4096).contains(&h.threshold_max), "{}", h.threshold_max);
    for m in &rep.matrices {
        assert!(
            m.max_mantissa <= 127 && m.max_mantissa >= 64,
            "{m:?}: the shift uses the int8 range"
        );
        assert!(m.rms_err < 0.005, "{m:?}");
    }
    cfg.check(&chip).unwrap();
}

/// The deployed SRNN against the float reference of the graph: hidden and
/// output spike counts per neuron and sample (cosine similarity over 8
/// samples × 256 steps). The chip differs by its decays 1 − 2^−dash
/// (τ_mem 6.67 steps becomes 8), int8 weights, a one-step hidden → output
/// hop, and above all by firing up to 31 spikes per step where the float
/// model fires one: measured hidden 0.81, output 0.95 (the NIR paper
/// reports 0.52–0.60 for its Xylo hardware run's hidden layer against the
/// other platforms).
#[test]
fn deployed_braille_srnn_tracks_the_float_reference() {
    let g = braille();
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let (cfg, _) = quant::compile(&g, &chip).unwrap();
    let steps = 256;
    let (mut dot, mut na, mut nb) = ([0.0; 2], [0.0; 2], [0.0; 2]);
    for sample in 0..8u64 {
        let ev = events(sample, steps);
        let rec = emu::run(&chip, &cfg, ev.view(), emu::Recording::Spikes).unwrap();
        let x = ev.mapv(f64::from).into_shape_with_order((1, steps, 12)).unwrap();
        let stim = nmc_reference::Stimulus::new(x).unwrap();
        let res = nmc_reference::simulate(&g, &stim, &Default::default()).unwrap();
        for (k, (layer, chip_counts)) in [("lif1.lif", &rec.spikes_hidden), ("lif2", &rec.spikes_output)]
            .into_iter()
            .enumerate()
        {
            let l = res.layers.iter().find(|l| l.name == layer).unwrap();
            let n = l.shape.numel();
            for i in 0..n {
                let f = (0..steps).filter(|&t| l.spikes[t * n + i]).count() as f64;
                let c: f64 = (0..steps).map(|t| f64::from(chip_counts[[t, i]])).sum();
                dot[k] += f * c;
                na[k] += f * f;
                nb[k] += c * c;
            }
        }
    }
    let cos: Vec<f64> = (0..2).map(|k| dot[k] / (na[k].sqrt() * nb[k].sqrt())).collect();
    eprintln!(
        "spike-count cosine similarity, chip vs float: hidden {:.4}, output {:.4}",
        cos[0], cos[1]
    );
    assert!(na[0] > 0.0 && nb[0] > 0.0, "the hidden layer must spike");
    assert!(
        cos[0] > 0.75 && cos[1] > 0.9,
        "cosine: hidden {}, output {}",
        cos[0],
        cos[1]
    );
}
