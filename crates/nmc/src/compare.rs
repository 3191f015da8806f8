//! Comparing spike trains: the fidelity statistics (deployed vs float
//! reference). The exact check (fixed reference = emulator) compares traces
//! (`nmc_trace::Trace`, see `pipeline::run_a_and_b`); its first spike
//! mismatch keeps its report name here ([`Mismatch`]).
//!
//! Spike trains are bit vectors indexed `(b·steps + t)·n + i` for batch item
//! `b`, step `t`, neuron `i` — the layout of `nmc-reference` and `nmc-emu`.

use bitvec::vec::BitVec;
use serde::Serialize;

/// A borrowed view of one layer's spikes.
#[derive(Clone, Copy, Debug)]
pub struct Spikes<'a> {
    /// Layer name.
    pub name: &'a str,
    /// Neurons.
    pub n: usize,
    /// Batch items.
    pub batch: usize,
    /// Steps recorded.
    pub steps: usize,
    /// Bits `(b·steps + t)·n + i`.
    pub bits: &'a BitVec,
}

impl Spikes<'_> {
    /// Spike of neuron `i` at step `t` of item `b`.
    #[inline]
    pub fn get(&self, b: usize, t: usize, i: usize) -> bool {
        self.bits[(b * self.steps + t) * self.n + i]
    }
    /// Spike counts per item and neuron over steps `t0..t0 + len`
    /// (clamped to the recording), as `b·n + i`.
    pub fn counts(&self, t0: usize, len: usize) -> Vec<u32> {
        let mut c = vec![0u32; self.batch * self.n];
        let t1 = (t0 + len).min(self.steps);
        for b in 0..self.batch {
            for t in t0.min(t1)..t1 {
                let row = (b * self.steps + t) * self.n;
                for i in self.bits[row..row + self.n].iter_ones() {
                    c[b * self.n + i] += 1;
                }
            }
        }
        c
    }
}

/// The first spike on which two executions disagree: the trace
/// comparison's ([`nmc_trace::Trace::compare`]), under the name the
/// `nmc.verify/1` report has always used.
pub type Mismatch = nmc_trace::SpikeDifference;

/// Fidelity of one layer: deployed (B) against the float reference.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LayerFidelity {
    /// Layer name.
    pub layer: String,
    /// Neurons.
    pub neurons: usize,
    /// Steps by which the deployed layer lags the float one (pipeline
    /// latency); the deployed window is `lag..lag + steps`.
    pub lag: usize,
    /// Float spikes in the window, all items.
    pub float_spikes: u64,
    /// Deployed spikes in the window, all items.
    pub deployed_spikes: u64,
    /// Float mean rate, Hz.
    pub float_rate_hz: f64,
    /// Deployed mean rate, Hz.
    pub deployed_rate_hz: f64,
    /// Pearson correlation of per-(item, neuron) rates (NaN when either side
    /// is constant).
    pub rate_correlation: f64,
    /// Mean absolute per-(item, neuron) rate difference, Hz.
    pub mean_abs_rate_error_hz: f64,
}

/// Pearson correlation of two equal-length series; NaN when either has zero
/// variance.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n == 0 {
        return f64::NAN;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for k in 0..n {
        let (dx, dy) = (x[k] - mx, y[k] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        f64::NAN
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Per-layer fidelity: float layer over steps `0..steps` against the
/// deployed layer over `lag..lag + steps`.
pub fn layer_fidelity(float: &Spikes<'_>, deployed: &Spikes<'_>, steps: usize, lag: usize, dt: f64) -> LayerFidelity {
    let cf = float.counts(0, steps);
    let cd = deployed.counts(lag, steps);
    let secs = steps as f64 * dt;
    let rf: Vec<f64> = cf.iter().map(|&c| c as f64 / secs).collect();
    let rd: Vec<f64> = cd.iter().map(|&c| c as f64 / secs).collect();
    let sf: u64 = cf.iter().map(|&c| c as u64).sum();
    let sd: u64 = cd.iter().map(|&c| c as u64).sum();
    let cells = (float.batch * float.n).max(1) as f64;
    LayerFidelity {
        layer: float.name.to_string(),
        neurons: float.n,
        lag,
        float_spikes: sf,
        deployed_spikes: sd,
        float_rate_hz: sf as f64 / (cells * secs),
        deployed_rate_hz: sd as f64 / (cells * secs),
        rate_correlation: pearson(&rf, &rd),
        mean_abs_rate_error_hz: rf.iter().zip(&rd).map(|(a, b)| (a - b).abs()).sum::<f64>() / cells,
    }
}

/// Index of the largest count (first on ties).
pub fn argmax_u32(v: &[u32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[u8]) -> BitVec {
        v.iter().map(|&x| x != 0).collect()
    }

    #[test]
    fn fidelity_aligns_the_deployed_window_by_its_lag() {
        // Float spikes at t = 0, 1; deployed the same two steps later.
        let f = bits(&[1, 1, 0, 0]);
        let d = bits(&[0, 0, 1, 1]);
        let sf = Spikes {
            name: "l",
            n: 1,
            batch: 1,
            steps: 4,
            bits: &f,
        };
        let sd = Spikes { bits: &d, ..sf };
        let fid = layer_fidelity(&sf, &sd, 2, 2, 0.001);
        assert_eq!((fid.float_spikes, fid.deployed_spikes), (2, 2));
        assert_eq!(fid.float_rate_hz, 1000.0);
        assert_eq!(fid.mean_abs_rate_error_hz, 0.0);
        let unaligned = layer_fidelity(&sf, &sd, 2, 0, 0.001);
        assert_eq!(unaligned.deployed_spikes, 0);
    }

    #[test]
    fn pearson_is_one_for_affine_series_and_nan_for_constants() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }
}
