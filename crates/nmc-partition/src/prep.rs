//! Facts about a model that every stage needs, computed once: each
//! population's `[C, H, W]` view, who reads whom, conv geometry with
//! rectangle sums of non-zero weights, and dense/sparse weights as CSR of
//! their non-zero entries.

use crate::error::PartitionError;
use nmc_ir::qmodel::{InputEncoding, Placement as Where, QModel, QWeights, Source};
use nmc_target::Target;

/// Convolution geometry, with the names of docs/partition.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub oh: usize,
    pub ow: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    /// Input channels per group.
    pub cig: usize,
    /// Output channels per group.
    pub cog: usize,
}

impl ConvGeom {
    /// Flat index of mantissa `[co, icg, ky, kx]`.
    pub fn widx(&self, co: usize, icg: usize, ky: usize, kx: usize) -> usize {
        ((co * self.cig + icg) * self.kh + ky) * self.kw + kx
    }
    /// Flat source index of input `(ci, iy, ix)`.
    pub fn src(&self, ci: usize, iy: usize, ix: usize) -> usize {
        (ci * self.h + iy) * self.w + ix
    }
    /// The row and column dimension descriptions.
    pub fn dims(&self) -> [Dim; 2] {
        [
            Dim {
                din: self.h,
                k: self.kh,
                s: self.sh,
                p: self.ph,
                d: self.dh,
            },
            Dim {
                din: self.w,
                k: self.kw,
                s: self.sw,
                p: self.pw,
                d: self.dw,
            },
        ]
    }
    /// Input channels read by output channels `[c0, c1)`: whole groups.
    pub fn in_range(&self, c0: usize, c1: usize) -> (usize, usize) {
        let g0 = c0 / self.cog;
        let g1 = (c1 - 1) / self.cog + 1;
        (g0 * self.cig, g1 * self.cig)
    }
    /// Output channels of `[c0, c1)` that input channel `ci` feeds.
    pub fn out_of_in(&self, ci: usize, c0: usize, c1: usize) -> (usize, usize) {
        let g = ci / self.cig;
        (c0.max(g * self.cog), c1.min((g + 1) * self.cog))
    }
}

/// One spatial dimension of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dim {
    pub din: usize,
    pub k: usize,
    pub s: usize,
    pub p: usize,
    pub d: usize,
}

/// For an output range `[o0, o1)` of one dimension: every input coordinate
/// that feeds it, with the pattern of (kernel tap, output offset) pairs it
/// feeds and the smallest output it feeds.
#[derive(Clone, Debug, Default)]
pub(crate) struct DimPlan {
    /// `(input coordinate, pattern id, smallest output coordinate)`.
    pub coords: Vec<(u32, u32, u32)>,
    /// Patterns: `(tap, output − smallest output)`, by increasing tap.
    pub pats: Vec<Vec<(u32, u32)>>,
}

impl Dim {
    /// The plan of output range `[o0, o1)`.
    pub fn plan(&self, o0: usize, o1: usize) -> DimPlan {
        let mut plan = DimPlan::default();
        if o0 >= o1 {
            return plan;
        }
        let lo = (o0 * self.s).saturating_sub(self.p);
        let hi = ((o1 - 1) * self.s + (self.k - 1) * self.d + 1).saturating_sub(self.p);
        let hi = hi.min(self.din);
        let mut pat: Vec<(u32, u32)> = Vec::with_capacity(self.k);
        for i in lo..hi {
            pat.clear();
            let mut omin = u32::MAX;
            for kk in 0..self.k {
                let num = i + self.p;
                let off = kk * self.d;
                if num < off || !(num - off).is_multiple_of(self.s) {
                    continue;
                }
                let o = (num - off) / self.s;
                if o < o0 || o >= o1 {
                    continue;
                }
                pat.push((kk as u32, o as u32));
                omin = omin.min(o as u32);
            }
            if pat.is_empty() {
                continue;
            }
            for e in pat.iter_mut() {
                e.1 -= omin;
            }
            let id = match plan.pats.iter().position(|p| *p == pat) {
                Some(id) => id,
                None => {
                    plan.pats.push(pat.clone());
                    plan.pats.len() - 1
                }
            };
            plan.coords.push((i as u32, id as u32, omin));
        }
        plan
    }
}

/// A convolution connection, prepared.
#[derive(Debug)]
pub(crate) struct ConvPrep {
    pub g: ConvGeom,
    /// Mantissas `[cout, cig, kh, kw]`.
    pub mant: Vec<i16>,
    /// Per tap `t = ky·kw + kx`, a `(cig+1) × (cout+1)` table of the number
    /// of non-zero mantissas with `icg < i` and `co < o`.
    pub nz: Vec<u32>,
}

impl ConvPrep {
    /// Non-zero mantissas of tap `t` with `icg ∈ [i0, i1)`, `co ∈ [o0, o1)`.
    pub fn rect(&self, t: usize, i0: usize, i1: usize, o0: usize, o1: usize) -> u32 {
        if i0 >= i1 || o0 >= o1 {
            return 0;
        }
        let stride = self.g.cout + 1;
        let base = t * (self.g.cig + 1) * stride;
        let at = |i: usize, o: usize| self.nz[base + i * stride + o];
        at(i1, o1) + at(i0, o0) - at(i0, o1) - at(i1, o0)
    }
    /// Non-zero mantissas from input channel `ci` at tap `t` into output
    /// channels `[c0, c1)` (restricted to its group).
    pub fn nnz_in(&self, ci: usize, t: usize, c0: usize, c1: usize) -> u32 {
        let (o0, o1) = self.g.out_of_in(ci, c0, c1);
        let icg = ci % self.g.cig;
        self.rect(t, icg, icg + 1, o0, o1)
    }
}

/// Non-zero weights of a dense or sparse connection as CSR over destinations.
#[derive(Debug)]
pub(crate) struct RowsPrep {
    pub row_ptr: Vec<usize>,
    pub col: Vec<u32>,
    pub mant: Vec<i16>,
    /// Some destination lists one source twice (sparse weights only).
    pub repeats: bool,
}

impl RowsPrep {
    /// Entries `(source, mantissa)` of destination `d`.
    pub fn row(&self, d: usize) -> impl Iterator<Item = (u32, i16)> + '_ {
        let (a, b) = (self.row_ptr[d], self.row_ptr[d + 1]);
        self.col[a..b].iter().copied().zip(self.mant[a..b].iter().copied())
    }
}

/// A prepared connection.
#[derive(Debug)]
pub(crate) enum ConnPrep {
    Conv(ConvPrep),
    Rows(RowsPrep),
}

/// A model ready for costing.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub model: &'a QModel,
    /// `[C, H, W]` view of every population.
    pub views: Vec<[usize; 3]>,
    /// Per population, per input connection.
    pub conns: Vec<Vec<ConnPrep>>,
}

/// The `[C, H, W]` view of population `k`: the output shape of its first
/// convolution input when every convolution input agrees on it, else
/// `[N, 1, 1]`.
pub fn view_of(model: &QModel, k: usize) -> [usize; 3] {
    let p = &model.populations[k];
    let n = p.shape.numel();
    let mut view: Option<[usize; 3]> = None;
    for c in &p.inputs {
        if let QWeights::Conv2d { out_shape, .. } = &c.weights {
            match view {
                None => view = Some(*out_shape),
                Some(v) if v != *out_shape => return [n, 1, 1],
                _ => {}
            }
        }
    }
    match view {
        Some(v) if v.iter().product::<usize>() == n => v,
        _ => [n, 1, 1],
    }
}

/// The latency the chip gives a connection from `source` into population
/// `dest`, or `None` when such a connection cannot be built.
pub(crate) fn implied_latency(model: &QModel, target: &Target, source: Source, dest: usize) -> Option<u32> {
    let dest_chip = model.populations.get(dest)?.placement == Where::Chip;
    match source {
        Source::Input(k) => {
            let enc = model.inputs.get(k)?.encoding;
            match (enc, dest_chip) {
                (InputEncoding::Real { .. }, false) => Some(0),
                (InputEncoding::Events, true) => Some(target.timing().host_input_delay_steps()),
                _ => None,
            }
        }
        Source::Population(s) => {
            let src_chip = model.populations.get(s)?.placement == Where::Chip;
            match (src_chip, dest_chip) {
                (true, true) => Some(target.timing().synapse_delay_steps()),
                (false, true) => Some(target.timing().host_input_delay_steps()),
                _ => None,
            }
        }
    }
}

/// Checks what the artifact can express: every connection's kind and
/// latency, host populations' single real-valued input, outputs reading
/// populations.
pub(crate) fn check_buildable(model: &QModel, target: &Target) -> Result<(), PartitionError> {
    let unsupported = |layer: &str, message: String| PartitionError::Unsupported {
        layer: layer.to_string(),
        message,
    };
    for (k, p) in model.populations.iter().enumerate() {
        if p.placement == Where::Host {
            let real_inputs = p.inputs.iter().filter(|c| matches!(c.source, Source::Input(_))).count();
            if p.inputs.len() != 1 || real_inputs != 1 {
                return Err(unsupported(
                    &p.name,
                    format!(
                        "a host population must have exactly one connection, from a real-valued input; it has {}",
                        p.inputs.len()
                    ),
                ));
            }
        }
        for (ci, c) in p.inputs.iter().enumerate() {
            let Some(want) = implied_latency(model, target, c.source, k) else {
                let what = match c.source {
                    Source::Input(i) => format!(
                        "input `{}` ({:?})",
                        model.inputs.get(i).map(|x| x.name.as_str()).unwrap_or("?"),
                        model.inputs.get(i).map(|x| x.encoding)
                    ),
                    Source::Population(s) => format!(
                        "population `{}` ({:?})",
                        model.populations.get(s).map(|x| x.name.as_str()).unwrap_or("?"),
                        model.populations.get(s).map(|x| x.placement)
                    ),
                };
                return Err(unsupported(
                    &p.name,
                    format!(
                        "inputs[{ci}] reads {what} but the population is on the {:?}: the artifact has no such path \
                         (real-valued inputs feed host populations; host populations and event inputs feed chip populations)",
                        p.placement
                    ),
                ));
            };
            if c.latency != want {
                return Err(PartitionError::Latency {
                    layer: p.name.clone(),
                    connection: ci,
                    latency: c.latency,
                    implied: want,
                });
            }
            if p.placement == Where::Host && matches!(c.weights, QWeights::Sparse { .. }) {
                let (o, i) = c.weights.dims();
                if o.saturating_mul(i) > 1 << 26 {
                    return Err(unsupported(
                        &p.name,
                        format!("host weights are sparse {o}×{i}, too large to store densely"),
                    ));
                }
            }
        }
    }
    for o in &model.outputs {
        if let Source::Input(_) = o.source {
            return Err(unsupported(
                "<model>",
                format!(
                    "output `{}` records an input; the artifact records populations only",
                    o.name
                ),
            ));
        }
    }
    for r in &model.readouts {
        let Some(want) = target.timing().host_output_delay_steps() else {
            return Err(unsupported(
                &r.name,
                format!(
                    "is a host readout, but target `{}` states no chip → host latency (timing.host_output_delay_steps)",
                    target.name()
                ),
            ));
        };
        for (ci, c) in r.inputs.iter().enumerate() {
            let chip = match c.source {
                Source::Population(k) => model
                    .populations
                    .get(k)
                    .is_some_and(|p| p.placement == Where::Chip && p.compartment.spiking),
                Source::Input(_) => false,
            };
            if !chip {
                return Err(unsupported(
                    &r.name,
                    format!("host readout inputs[{ci}] does not read a spiking chip population"),
                ));
            }
            if c.latency != want {
                return Err(PartitionError::Latency {
                    layer: r.name.clone(),
                    connection: ci,
                    latency: c.latency,
                    implied: want,
                });
            }
        }
    }
    Ok(())
}

impl<'a> Prepared<'a> {
    /// Prepares a structurally checked model.
    pub fn new(model: &'a QModel) -> Result<Prepared<'a>, PartitionError> {
        model.check()?;
        let np = model.populations.len();
        let views: Vec<[usize; 3]> = (0..np).map(|k| view_of(model, k)).collect();
        let mut conns = Vec::with_capacity(np);
        for (k, p) in model.populations.iter().enumerate() {
            let mut pc = Vec::with_capacity(p.inputs.len());
            for c in &p.inputs {
                let mut cp = prep_conn(&c.weights);
                if let (ConnPrep::Conv(_), QWeights::Conv2d { out_shape, .. }) = (&cp, &c.weights)
                    && *out_shape != views[k]
                {
                    cp = ConnPrep::Rows(conv_rows(&c.weights));
                }
                pc.push(cp);
            }
            conns.push(pc);
        }
        Ok(Prepared { model, views, conns })
    }
}

fn prep_conn(w: &QWeights) -> ConnPrep {
    match w {
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            mant,
        } => {
            let g = ConvGeom {
                cin: in_shape[0],
                h: in_shape[1],
                w: in_shape[2],
                cout: out_shape[0],
                oh: out_shape[1],
                ow: out_shape[2],
                kh: kernel[0],
                kw: kernel[1],
                sh: stride[0],
                sw: stride[1],
                ph: padding[0],
                pw: padding[1],
                dh: dilation[0],
                dw: dilation[1],
                cig: in_shape[0] / groups,
                cog: out_shape[0] / groups,
            };
            let taps = g.kh * g.kw;
            let stride_o = g.cout + 1;
            let per = (g.cig + 1) * stride_o;
            let mut nz = vec![0u32; taps * per];
            for t in 0..taps {
                let (ky, kx) = (t / g.kw, t % g.kw);
                let base = t * per;
                for i in 0..g.cig {
                    let mut run = 0u32;
                    for o in 0..g.cout {
                        if mant[g.widx(o, i, ky, kx)] != 0 {
                            run += 1;
                        }
                        nz[base + (i + 1) * stride_o + o + 1] = nz[base + i * stride_o + o + 1] + run;
                    }
                }
            }
            ConnPrep::Conv(ConvPrep {
                g,
                mant: mant.clone(),
                nz,
            })
        }
        QWeights::Dense { out, inp, mant } => {
            let mut row_ptr = Vec::with_capacity(out + 1);
            let mut col = Vec::new();
            let mut ms = Vec::new();
            row_ptr.push(0);
            for o in 0..*out {
                for (i, &m) in mant[o * inp..(o + 1) * inp].iter().enumerate() {
                    if m != 0 {
                        col.push(i as u32);
                        ms.push(m);
                    }
                }
                row_ptr.push(col.len());
            }
            ConnPrep::Rows(RowsPrep {
                row_ptr,
                col,
                mant: ms,
                repeats: false,
            })
        }
        QWeights::Sparse {
            out,
            row_ptr,
            col,
            mant,
            ..
        } => {
            let mut rp = Vec::with_capacity(out + 1);
            let mut cs = Vec::new();
            let mut ms = Vec::new();
            rp.push(0);
            for o in 0..*out {
                let (a, b) = (row_ptr[o] as usize, row_ptr[o + 1] as usize);
                // Entries stay as given (a repeated source is two synapses).
                for e in a..b {
                    if mant[e] != 0 {
                        cs.push(col[e]);
                        ms.push(mant[e]);
                    }
                }
                rp.push(cs.len());
            }
            let repeats = (0..*out).any(|o| {
                let mut r: Vec<u32> = cs[rp[o]..rp[o + 1]].to_vec();
                r.sort_unstable();
                r.windows(2).any(|w| w[0] == w[1])
            });
            ConnPrep::Rows(RowsPrep {
                row_ptr: rp,
                col: cs,
                mant: ms,
                repeats,
            })
        }
    }
}

/// A convolution expanded to CSR rows (used when the destination's view is
/// not the convolution's output shape).
fn conv_rows(w: &QWeights) -> RowsPrep {
    let ConnPrep::Conv(cp) = prep_conn(w) else {
        return RowsPrep {
            row_ptr: vec![0],
            col: Vec::new(),
            mant: Vec::new(),
            repeats: false,
        };
    };
    let QWeights::Conv2d { mant, .. } = w else {
        return RowsPrep {
            row_ptr: vec![0],
            col: Vec::new(),
            mant: Vec::new(),
            repeats: false,
        };
    };
    let g = cp.g;
    let mut row_ptr = vec![0usize];
    let mut col = Vec::new();
    let mut ms = Vec::new();
    for co in 0..g.cout {
        let grp = co / g.cog;
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for icg in 0..g.cig {
                    let ci = grp * g.cig + icg;
                    for ky in 0..g.kh {
                        let iy = (oy * g.sh + ky * g.dh) as isize - g.ph as isize;
                        if iy < 0 || iy >= g.h as isize {
                            continue;
                        }
                        for kx in 0..g.kw {
                            let ix = (ox * g.sw + kx * g.dw) as isize - g.pw as isize;
                            if ix < 0 || ix >= g.w as isize {
                                continue;
                            }
                            let m = mant[g.widx(co, icg, ky, kx)];
                            if m != 0 {
                                col.push(g.src(ci, iy as usize, ix as usize) as u32);
                                ms.push(m);
                            }
                        }
                    }
                }
                row_ptr.push(col.len());
            }
        }
    }
    RowsPrep {
        row_ptr,
        col,
        mant: ms,
        repeats: false,
    }
}

/// Any connection's non-zero weights as CSR rows (convolutions expanded).
pub(crate) fn prep_conn_rows(w: &QWeights) -> ConnPrep {
    match w {
        QWeights::Conv2d { .. } => ConnPrep::Rows(conv_rows(w)),
        _ => prep_conn(w),
    }
}
