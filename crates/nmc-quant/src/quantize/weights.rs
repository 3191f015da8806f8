//! The weight phase of one population: mantissas at the chosen scale and
//! exponents, the QModel weight layouts, the per-connection report and
//! the weight error sums.

use super::accounting::{ErrAcc, nengo_rms};
use super::connections::ConnMeta;
use super::{source, warn};
use crate::choose::{ConnIn, g4, quant_mant, unit};
use crate::error::QuantError;
use crate::linmap::LinMap;
use crate::report::{ConnectionReport, Warning};
use nmc_ir::qmodel::{QConnection, QWeights};
use nmc_target::Target;

/// The quantized connections of one population.
pub(super) struct Weights {
    /// The QModel connections.
    pub qconns: Vec<QConnection>,
    /// Their report entries.
    pub reports: Vec<ConnectionReport>,
    /// Weight error sums over all connections.
    pub err: ErrAcc,
    /// The least-squares gain of the integer weights over the scaled float
    /// ones (`Σ w_int·A / Σ s·A²`, 1 without weights).
    pub gamma_w: f64,
}

/// Running sums of the least-squares weight gain.
#[derive(Default)]
struct GainSums {
    num: f64,
    den: f64,
}

/// Quantizes every connection of population `name` at scale `s` with the
/// chosen exponents `exps`.
pub(super) fn weights(
    target: &Target,
    name: &str,
    conns: &[ConnIn],
    meta: &[ConnMeta],
    s: f64,
    exps: &[i32],
    warnings: &mut Vec<Warning>,
) -> Result<Weights, QuantError> {
    let w_max_pop = conns.iter().fold(0.0f64, |m, c| m.max(c.max_abs));
    let mut qconns = Vec::with_capacity(conns.len());
    let mut reports = Vec::with_capacity(conns.len());
    let mut err = ErrAcc::default();
    let mut gains = GainSums::default();
    for (ci, c) in conns.iter().enumerate() {
        let one = One {
            target,
            name,
            c,
            ci,
            e: exps[ci],
            s,
            w_max_pop,
            meta: &meta[ci],
        };
        let (q, r) = one.quantize(&mut err, &mut gains, warnings)?;
        qconns.push(q);
        reports.push(r);
    }
    let gamma_w = if gains.den > 0.0 { gains.num / gains.den } else { 1.0 };
    Ok(Weights {
        qconns,
        reports,
        err,
        gamma_w,
    })
}

/// One connection to quantize.
struct One<'a> {
    target: &'a Target,
    /// The population's name.
    name: &'a str,
    c: &'a ConnIn,
    /// Its index among the population's inputs.
    ci: usize,
    /// Its weight exponent.
    e: i32,
    /// The population's voltage scale.
    s: f64,
    /// The population's largest `|A|` (nengo-loihi's rule).
    w_max_pop: f64,
    meta: &'a ConnMeta,
}

impl One<'_> {
    fn quantize(
        &self,
        acc: &mut ErrAcc,
        gains: &mut GainSums,
        warnings: &mut Vec<Warning>,
    ) -> Result<(QConnection, ConnectionReport), QuantError> {
        let Self { c, ci, e, s, .. } = *self;
        let wf = self.target.formats().weight();
        let u = unit(wf, e);
        let vals = c.map.values();
        let mant: Vec<i64> = vals.iter().map(|&a| quant_mant(wf, s * a, e, c.mixed)).collect();
        let mixed_q = mant.iter().any(|&m| m > 0) && mant.iter().any(|&m| m < 0);
        if let Some((j, &m)) = mant
            .iter()
            .enumerate()
            .find(|(_, m)| wf.weight_int(**m, e, mixed_q).is_none())
        {
            return Err(QuantError::Internal {
                node: self.name.to_string(),
                message: format!("inputs[{ci}].weights.mant[{j}] = {m} is not legal at exponent {e}"),
            });
        }
        let nonzero = vals.iter().filter(|&&a| a != 0.0).count();
        let zeroed = vals.iter().zip(&mant).filter(|(a, m)| **a != 0.0 && **m == 0).count();
        if nonzero > 0 && zeroed == nonzero {
            return Err(QuantError::unrepresentable(
                self.name,
                "weight",
                format!(
                    "all {nonzero} weights of {} round to zero at voltage scale {} (weight_exp {e}, smallest \
                     non-zero |w_int| {})",
                    c.label(),
                    g4(s),
                    g4(wf.mantissa_step(e, c.mixed) as f64 * u)
                ),
            ));
        }
        let norm = if c.max_abs > 0.0 { s * c.max_abs } else { 1.0 };
        let (mut sq, mut mx) = (0.0, 0.0f64);
        for (&a, &m) in vals.iter().zip(&mant) {
            let err = (m as f64 * u - s * a) / norm;
            sq += err * err;
            mx = mx.max(err.abs());
            gains.num += m as f64 * u * a;
            gains.den += s * a * a;
        }
        let rms = (sq / vals.len().max(1) as f64).sqrt();
        let (nrms, ne) = nengo_rms(self.target, c, self.w_max_pop);
        acc.se += sq;
        acc.sn += nrms * nrms * vals.len() as f64;
        acc.cnt += vals.len();
        let zeroed_pct = if nonzero > 0 {
            100.0 * zeroed as f64 / nonzero as f64
        } else {
            0.0
        };
        if zeroed_pct > 5.0 {
            warn(
                warnings,
                self.name,
                "weight",
                format!(
                    "{zeroed} of {nonzero} non-zero weights ({zeroed_pct:.1}%) of {} round to zero",
                    c.label()
                ),
            );
        }
        let ConnMeta {
            src,
            latency,
            source_name,
        } = self.meta;
        let weights = qweights(&c.map, &mant);
        let report = ConnectionReport {
            source: source_name.clone(),
            folded_from: c.folded_from.clone(),
            layout: c.map.kind().into(),
            latency: *latency,
            weights: weights.stored(),
            nonzero,
            weight_exp: e as i8,
            mixed_sign: mixed_q,
            max_mantissa: mant.iter().map(|m| m.abs()).max().unwrap_or(0),
            max_abs_err: mx,
            rms_err: rms,
            zeroed,
            zeroed_pct,
            nengo_rms_err: nrms,
            nengo_weight_exp: ne,
        };
        let q = QConnection {
            source: source(*src),
            latency: *latency,
            weight_exp: e as i8,
            weights,
            folded_from: c.folded_from.clone(),
        };
        Ok((q, report))
    }
}

/// The QModel weights of `map` with mantissas `mant` (sparse maps drop
/// their zero mantissas).
pub(super) fn qweights(map: &LinMap, mant: &[i64]) -> QWeights {
    let m16 = |v: &[i64]| -> Vec<i16> { v.iter().map(|&m| m as i16).collect() };
    match map {
        LinMap::Dense { out, inp, .. } => QWeights::Dense {
            out: *out,
            inp: *inp,
            mant: m16(mant),
        },
        LinMap::Conv { geom, .. } => QWeights::Conv2d {
            in_shape: geom.in_shape,
            out_shape: geom.out_shape,
            kernel: geom.kernel,
            stride: geom.stride,
            padding: geom.padding,
            dilation: geom.dilation,
            groups: geom.groups,
            mant: m16(mant),
        },
        LinMap::Sparse(csr) => {
            let mut row_ptr = Vec::with_capacity(csr.out + 1);
            let mut col = Vec::new();
            let mut mv = Vec::new();
            row_ptr.push(0u32);
            for w in csr.row_ptr.windows(2) {
                for (&c, &m) in csr.col[w[0]..w[1]].iter().zip(&mant[w[0]..w[1]]) {
                    if m != 0 {
                        col.push(c);
                        mv.push(m as i16);
                    }
                }
                row_ptr.push(col.len() as u32);
            }
            QWeights::Sparse {
                out: csr.out,
                inp: csr.inp,
                row_ptr,
                col,
                mant: mv,
            }
        }
    }
}
