//! Error accounting: the weight error sums (ours and nengo-loihi's rule)
//! and the model totals of the report.

use crate::choose::{ConnIn, pow2};
use crate::report::{ConnectionReport, PopulationReport, Totals};
use nmc_target::Target;

/// Sums over weights: squared relative error, squared nengo-loihi error,
/// count.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ErrAcc {
    /// Sum of squared relative weight errors.
    pub se: f64,
    /// Sum of squared relative errors under nengo-loihi's rule.
    pub sn: f64,
    /// Number of weights.
    pub cnt: usize,
}

impl ErrAcc {
    /// Adds another population's sums.
    pub fn add(&mut self, o: &ErrAcc) {
        self.se += o.se;
        self.sn += o.sn;
        self.cnt += o.cnt;
    }
}

/// nengo-loihi's weight rule for one connection, as RMS relative error.
pub(super) fn nengo_rms(target: &Target, c: &ConnIn, w_max_pop: f64) -> (f64, i32) {
    let wf = target.formats().weight();
    if c.max_abs <= 0.0 || w_max_pop <= 0.0 {
        return (0.0, 0);
    }
    let dw = (w_max_pop / c.max_abs).log2().floor().max(0.0) as i32;
    let e = (-dw).max(-6);
    let scale = 255.0 / w_max_pop * pow2(dw);
    let step = wf.mantissa_step(e, c.mixed) as f64;
    let max = wf.max_abs_mantissa(e, c.mixed) as f64;
    let vals = c.map.values();
    let mut sum = 0.0;
    for &a in vals {
        let m = ((a * scale / step).round() * step).clamp(-max, max);
        let err = (m / scale - a) / c.max_abs;
        sum += err * err;
    }
    ((sum / vals.len().max(1) as f64).sqrt(), e)
}

/// Totals over the model's population reports.
pub(super) fn totals(reports: &[PopulationReport], err: &ErrAcc, warnings: usize) -> Totals {
    let ErrAcc { se, sn, cnt } = *err;
    let conns: Vec<&ConnectionReport> = reports.iter().flat_map(|p| &p.connections).collect();
    let nonzero: usize = conns.iter().map(|c| c.nonzero).sum();
    let zeroed: usize = conns.iter().map(|c| c.zeroed).sum();
    Totals {
        populations: reports.len(),
        host_populations: reports.iter().filter(|p| p.placement == "host").count(),
        neurons: reports.iter().map(|p| p.neurons).sum(),
        chip_neurons: reports
            .iter()
            .filter(|p| p.placement == "chip")
            .map(|p| p.neurons)
            .sum(),
        connections: conns.len(),
        weights: conns.iter().map(|c| c.weights).sum(),
        nonzero,
        zeroed,
        zeroed_pct: if nonzero > 0 {
            100.0 * zeroed as f64 / nonzero as f64
        } else {
            0.0
        },
        rms_err: if cnt > 0 { (se / cnt as f64).sqrt() } else { 0.0 },
        nengo_rms_err: if cnt > 0 { (sn / cnt as f64).sqrt() } else { 0.0 },
        warnings,
    }
}
