//! ANN→SNN normalisation: the ANN cut into stages (each ending at a ReLU or
//! the output) and each stage's activation scale λ, from calibration data
//! (a percentile of the positive activations) or weight-based bounds.

use super::ann::{Ann, Layer};
use super::{ConvertOptions, err};
use crate::FrontendError;
use ndarray::ArrayD;
use std::ops::Range;

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * (v.len() - 1) as f64).round() as usize;
    let rank = rank.min(v.len() - 1);
    let (_, x, _) = v.select_nth_unstable_by(rank, |a, b| a.total_cmp(b));
    *x
}

/// Stages: (layer range, index of the closing ReLU if any).
pub(super) fn stages(ann: &Ann) -> Vec<(Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, (_, l, _)) in ann.layers.iter().enumerate() {
        if matches!(l, Layer::Relu) {
            out.push((start..i + 1, true));
            start = i + 1;
        }
    }
    if start < ann.layers.len() {
        out.push((start..ann.layers.len(), false));
    }
    out
}

/// Per stage: the activation scale λ and, with calibration data, the
/// expected mean rate and saturated fraction.
pub(super) struct Scales {
    /// λ per stage (dead stages get 1, with a warning).
    pub(super) lambdas: Vec<f64>,
    /// Expected mean firing rate in Hz (calibration only).
    pub(super) mean_rate: Vec<Option<f64>>,
    /// Fraction of activations above λ (calibration only).
    pub(super) saturated: Vec<Option<f64>>,
    /// Calibration samples used (0: weight-based).
    pub(super) nsamples: usize,
    /// Warnings (no calibration, dead layers).
    pub(super) warnings: Vec<String>,
}

/// Each stage's scale: the options' percentile on the calibration data, else
/// the weight-based bound; a never-active stage gets scale 1 and a warning.
pub(super) fn scales(
    file: &str,
    ann: &Ann,
    st: &[(Range<usize>, bool)],
    opts: &ConvertOptions,
) -> Result<Scales, FrontendError> {
    let mut sc = Scales {
        // Activations at the end of each stage (after its ReLU, or the logits).
        lambdas: vec![0.0; st.len()],
        mean_rate: vec![None; st.len()],
        saturated: vec![None; st.len()],
        nsamples: 0,
        warnings: Vec::new(),
    };
    match &opts.calibration {
        Some(cal) => calibrated(file, ann, st, opts, cal, &mut sc)?,
        None => weight_based(ann, st, &mut sc),
    }
    let Scales { lambdas, warnings, .. } = &mut sc;
    for (k, lam) in lambdas.iter_mut().enumerate() {
        if !(*lam > 0.0 && lam.is_finite()) {
            warnings.push(format!(
                "layer ending at `{}` is never active (scale {lam}); using scale 1",
                ann.layers[st[k].0.end - 1].0
            ));
            *lam = 1.0;
        }
    }
    Ok(sc)
}

/// λ per stage from the calibration inputs `cal`, `(N, *input_shape)`.
fn calibrated(
    file: &str,
    ann: &Ann,
    st: &[(Range<usize>, bool)],
    opts: &ConvertOptions,
    cal: &ArrayD<f64>,
    sc: &mut Scales,
) -> Result<(), FrontendError> {
    let n_in = ann.input_len();
    let dims = cal.shape();
    let ok = dims.len() == ann.input_shape.len() + 1 && dims[1..] == ann.input_shape[..];
    if !ok || dims[0] == 0 {
        return Err(err(
            file,
            None,
            Some("calibration"),
            format!(
                "calibration data of shape {dims:?}: expected (N, {}) with N ≥ 1",
                ann.input_shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let nsamples = dims[0];
    sc.nsamples = nsamples;
    let flat: Vec<f64> = cal.iter().copied().collect();
    let ends: Vec<usize> = st.iter().map(|(rg, _)| rg.end - 1).collect();
    let mut acts: Vec<Vec<f64>> = vec![Vec::new(); st.len()];
    for s in 0..nsamples {
        let outs = ann.forward_all(&flat[s * n_in..(s + 1) * n_in]);
        for (k, &e) in ends.iter().enumerate() {
            acts[k].extend(outs[e].iter().copied().filter(|v| *v > 0.0));
        }
    }
    for (k, a) in acts.iter_mut().enumerate() {
        let total = nsamples * ann.layers[ends[k]].2.iter().product::<usize>();
        let lam = percentile(a, opts.percentile);
        sc.lambdas[k] = lam;
        if lam > 0.0 {
            let sum: f64 = a.iter().map(|v| (v / lam).min(1.0)).sum();
            sc.mean_rate[k] = Some(sum / total as f64 * opts.max_rate_hz);
            sc.saturated[k] = Some(a.iter().filter(|v| **v > lam).count() as f64 / total as f64);
        }
    }
    Ok(())
}

/// Upper bounds of λ per stage for inputs in [0, 1] (no calibration data).
fn weight_based(ann: &Ann, st: &[(Range<usize>, bool)], sc: &mut Scales) {
    sc.warnings.push(
        "no calibration data: weight-based normalisation (upper bounds for inputs in [0, 1]); firing \
         rates will be low and accuracy may suffer; pass calibration inputs (`--calibrate X.npy`)"
            .to_string(),
    );
    // Upper bound: positive parts of weights and biases on an all-ones input.
    let mut pos = ann.clone();
    for (_, l, _) in &mut pos.layers {
        if let Layer::Conv { w, b, .. } | Layer::Dense { w, b, .. } = l {
            w.iter_mut().for_each(|v| *v = v.max(0.0));
            b.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
    let outs = pos.forward_all(&vec![1.0; ann.input_len()]);
    for (k, (rg, _)) in st.iter().enumerate() {
        sc.lambdas[k] = outs[rg.end - 1].iter().copied().fold(0.0, f64::max);
    }
}
