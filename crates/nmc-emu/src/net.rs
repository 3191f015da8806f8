//! The artifact flattened into cache-friendly arrays: one global index space
//! of compartments (host layers first, then cores in order), per-compartment
//! constants as structure-of-arrays, routes and synapse tables as CSR.

use crate::EmuError;
use crate::numerics::Numerics;
use nmc_artifact::{Artifact, CxProfile, Encoding, HostWeights, InAxon, Route};

/// Per-compartment constants, structure of arrays.
#[derive(Debug, Default)]
pub(crate) struct CxConsts {
    pub fu: Vec<i64>,
    pub fv: Vec<i64>,
    pub bias: Vec<i64>,
    pub vth: Vec<i64>,
    pub vmin: Vec<i64>,
    pub vmax: Vec<i64>,
    pub refr: Vec<u8>,
    pub spiking: Vec<bool>,
}

impl CxConsts {
    fn push(&mut self, num: &Numerics, p: &CxProfile, bias_mant: i32) {
        self.fu.push(num.decay_factor(p.decay_u, num.decay_u_offset));
        self.fv.push(num.decay_factor(p.decay_v, num.decay_v_offset));
        self.bias.push((bias_mant as i64) << p.bias_exp.min(40));
        self.vth.push(num.vth(p.vth_mant));
        self.vmin.push(num.vmin(p.vmin_exp));
        self.vmax.push(num.vmax(p.vmax_exp));
        self.refr.push(p.refractory);
        self.spiking.push(p.spiking);
    }
}

/// A run of compartments `start..end` with the same constants (all but the
/// bias): the update loop hoists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub start: u32,
    pub end: u32,
    pub fu: i64,
    pub fv: i64,
    pub vth: i64,
    pub vmin: i64,
    pub vmax: i64,
    pub refr: u8,
    pub spiking: bool,
}

fn segments(cx: &CxConsts) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for i in 0..cx.fu.len() {
        let s = Segment {
            start: i as u32,
            end: i as u32 + 1,
            fu: cx.fu[i],
            fv: cx.fv[i],
            vth: cx.vth[i],
            vmin: cx.vmin[i],
            vmax: cx.vmax[i],
            refr: cx.refr[i],
            spiking: cx.spiking[i],
        };
        match out.last_mut() {
            Some(l)
                if Segment {
                    start: l.start,
                    end: l.end,
                    ..s
                } == *l =>
            {
                l.end += 1
            }
            _ => out.push(s),
        }
    }
    out
}

/// A host layer's dense weights from the real-valued input, expanded to
/// integers: CSR over destinations.
#[derive(Debug)]
pub(crate) struct HostMap {
    pub input: usize,
    pub cx0: usize,
    pub n: usize,
    pub row_ptr: Vec<u32>,
    pub col: Vec<u32>,
    pub w: Vec<i64>,
}

/// The flattened network.
#[derive(Debug)]
pub(crate) struct Net {
    pub num: Numerics,
    pub n_cx: usize,
    pub n_host_cx: usize,
    pub cx: CxConsts,
    /// Per compartment, range into `route_axon`/`route_atom`.
    pub route_ptr: Vec<u32>,
    pub route_axon: Vec<u32>,
    pub route_atom: Vec<u16>,
    /// Per global axon: table id and global compartment base.
    pub axon_table: Vec<u32>,
    pub axon_base: Vec<u32>,
    /// Per global table: start of its per-atom offsets in `atom_ptr`.
    pub table_atoms: Vec<u32>,
    /// Offsets into `syn` per (table, atom); `atoms + 1` entries per table.
    pub atom_ptr: Vec<u32>,
    /// Synapses: (compartment relative to the axon base, integer weight),
    /// interleaved so one delivery streams one array.
    pub syn: Vec<(u32, i32)>,
    /// Runs of consecutive compartments sharing every constant but the bias.
    pub segments: Vec<Segment>,
    /// Core of each compartment (`u32::MAX` for host compartments).
    pub core_of_cx: Vec<u32>,
    /// Host layers.
    pub host: Vec<HostMap>,
    /// Inputs: (features, encoding, frac_bits, bits).
    pub inputs: Vec<(usize, Encoding)>,
    /// Events inputs: per input, per element, range into `in_route_*`.
    pub in_route_ptr: Vec<Vec<u32>>,
    pub in_route_axon: Vec<Vec<u32>>,
    pub in_route_atom: Vec<Vec<u16>>,
    /// Per core: first global compartment and count; per core synaptic events counted.
    pub core_cx0: Vec<u32>,
    pub core_of_axon: Vec<u32>,
}

/// Row pointers, columns, integer weights.
type Csr = (Vec<u32>, Vec<u32>, Vec<i64>);

fn expand_host(num: &Numerics, w: &HostWeights, exp: i8, n_out: usize, file_layer: usize) -> Result<Csr, EmuError> {
    let weight = |m: i16| {
        num.weight(m, exp).ok_or_else(|| {
            EmuError::Invalid(format!(
                "host layer {file_layer}: weight exponent {exp} overflows the 64-bit accumulator"
            ))
        })
    };
    let mut row_ptr = vec![0u32];
    let mut col = Vec::new();
    let mut ws = Vec::new();
    match w {
        HostWeights::Dense { out, inp, mant } => {
            if *out != n_out || Some(mant.len()) != out.checked_mul(*inp) {
                return Err(EmuError::Invalid(format!(
                    "host layer {file_layer}: dense weights do not match its size"
                )));
            }
            for o in 0..*out {
                for i in 0..*inp {
                    let m = mant[o * inp + i];
                    if m != 0 {
                        col.push(i as u32);
                        ws.push(weight(m)?);
                    }
                }
                row_ptr.push(col.len() as u32);
            }
        }
        HostWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            mant,
        } => {
            let [ci, h, wd] = *in_shape;
            let [co, ho, wo] = *out_shape;
            let g = (*groups).max(1);
            let (cig, cog) = (ci / g, co / g);
            let product = |dims: &[usize]| dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            if product(&[co, ho, wo]) != Some(n_out) || product(&[co, cig, kernel[0], kernel[1]]) != Some(mant.len()) {
                return Err(EmuError::Invalid(format!(
                    "host layer {file_layer}: conv weights do not match its size"
                )));
            }
            for oc in 0..co {
                let gi = oc / cog.max(1);
                for oy in 0..ho {
                    for ox in 0..wo {
                        for icg in 0..cig {
                            let ic = gi * cig + icg;
                            for ky in 0..kernel[0] {
                                // Saturating: a damaged stride or dilation
                                // lands outside the input, not in a panic.
                                let iy = (oy.saturating_mul(stride[0]))
                                    .saturating_add(ky.saturating_mul(dilation[0]))
                                    .checked_sub(padding[0]);
                                let Some(iy) = iy.filter(|&y| y < h) else {
                                    continue;
                                };
                                for kx in 0..kernel[1] {
                                    let ix = (ox.saturating_mul(stride[1]))
                                        .saturating_add(kx.saturating_mul(dilation[1]))
                                        .checked_sub(padding[1]);
                                    let Some(ix) = ix.filter(|&x| x < wd) else {
                                        continue;
                                    };
                                    let m = mant[((oc * cig + icg) * kernel[0] + ky) * kernel[1] + kx];
                                    if m != 0 {
                                        let c = ic
                                            .checked_mul(h)
                                            .and_then(|x| x.checked_add(iy))
                                            .and_then(|x| x.checked_mul(wd))
                                            .and_then(|x| x.checked_add(ix))
                                            .and_then(|x| u32::try_from(x).ok())
                                            .ok_or_else(|| {
                                                EmuError::Invalid(format!(
                                                    "host layer {file_layer}: conv input index beyond 2^32"
                                                ))
                                            })?;
                                        col.push(c);
                                        ws.push(weight(m)?);
                                    }
                                }
                            }
                        }
                        row_ptr.push(col.len() as u32);
                    }
                }
            }
        }
    }
    Ok((row_ptr, col, ws))
}

impl Net {
    pub(crate) fn build(a: &Artifact, num: Numerics) -> Result<Net, EmuError> {
        a.check().map_err(EmuError::Invalid)?;
        let mut cx = CxConsts::default();
        let mut host = Vec::new();
        // Host compartments first.
        let mut host_cx0 = Vec::new();
        for (hi, h) in a.host.iter().enumerate() {
            let cx0 = cx.fu.len();
            host_cx0.push(cx0);
            for c in &h.cx {
                cx.push(&num, &h.profiles[c.profile as usize], c.bias_mant);
            }
            let (row_ptr, col, w) = expand_host(&num, &h.weights, h.weight_exp, h.cx.len(), hi)?;
            let feats: usize = a.inputs[h.input as usize].shape.iter().product();
            if col.iter().any(|&c| c as usize >= feats) {
                return Err(EmuError::Invalid(format!(
                    "host layer {hi}: weights read beyond input features"
                )));
            }
            host.push(HostMap {
                input: h.input as usize,
                cx0,
                n: h.cx.len(),
                row_ptr,
                col,
                w,
            });
        }
        let n_host_cx = cx.fu.len();
        let mut core_cx0 = Vec::with_capacity(a.cores.len());
        for c in &a.cores {
            core_cx0.push(cx.fu.len() as u32);
            for k in &c.cx {
                cx.push(&num, &c.profiles[k.profile as usize], k.bias_mant);
            }
        }
        let n_cx = cx.fu.len();
        // Axons and tables, global.
        let mut axon_base_of_core = Vec::with_capacity(a.cores.len());
        let mut axon_table = Vec::new();
        let mut axon_base = Vec::new();
        let mut core_of_axon = Vec::new();
        let mut table_atoms = Vec::new();
        let mut atom_ptr = Vec::new();
        let mut syn: Vec<(u32, i32)> = Vec::new();
        for (ci, c) in a.cores.iter().enumerate() {
            axon_base_of_core.push(axon_table.len() as u32);
            let t0 = table_atoms.len() as u32;
            for t in &c.tables {
                table_atoms.push(atom_ptr.len() as u32);
                let fmt = c.formats[t.format as usize];
                let mut k = 0usize;
                for atom in 0..t.atoms {
                    atom_ptr.push(syn.len() as u32);
                    while k < t.syns.len() && t.syns[k].atom == atom {
                        let s = t.syns[k];
                        let w = num
                            .weight(s.mant, fmt.weight_exp)
                            .and_then(|w| i32::try_from(w).ok())
                            .ok_or_else(|| {
                                EmuError::Invalid(format!(
                                    "core {ci}: weight {} · 2^{} does not fit the accumulator",
                                    s.mant, fmt.weight_exp
                                ))
                            })?;
                        syn.push((s.cx as u32, w));
                        k += 1;
                    }
                }
                atom_ptr.push(syn.len() as u32);
                if k != t.syns.len() {
                    return Err(EmuError::Invalid(format!(
                        "core {ci}: synapse table not sorted by atom"
                    )));
                }
            }
            for ax in &c.axons {
                let (t, base) = match ax {
                    InAxon::Discrete { table } => (*table, 0u32),
                    InAxon::Population { table, base } => (*table, *base as u32),
                };
                axon_table.push(t0 + t);
                axon_base.push(core_cx0[ci] + base);
                core_of_axon.push(ci as u32);
            }
        }
        let gaxon = |r: &Route| axon_base_of_core[r.core as usize] + r.axon;
        let mut route_ptr = vec![0u32];
        let mut route_axon = Vec::new();
        let mut route_atom = Vec::new();
        let mut push_routes = |routes: &[Route]| {
            for r in routes {
                route_axon.push(gaxon(r));
                route_atom.push(r.atom);
            }
            route_ptr.push(route_axon.len() as u32);
        };
        for h in &a.host {
            for r in &h.routes {
                push_routes(r);
            }
        }
        for c in &a.cores {
            for r in &c.routes {
                push_routes(r);
            }
        }
        let mut in_route_ptr = Vec::new();
        let mut in_route_axon = Vec::new();
        let mut in_route_atom = Vec::new();
        let mut inputs = Vec::new();
        for i in &a.inputs {
            let feats: usize = i.shape.iter().product();
            inputs.push((feats, i.encoding));
            let mut p = vec![0u32];
            let mut ax = Vec::new();
            let mut at = Vec::new();
            for r in &i.routes {
                for x in r {
                    ax.push(gaxon(x));
                    at.push(x.atom);
                }
                p.push(ax.len() as u32);
            }
            in_route_ptr.push(p);
            in_route_axon.push(ax);
            in_route_atom.push(at);
        }
        let _ = host_cx0;
        let segs = segments(&cx);
        let core_of_cx = (0..n_cx)
            .map(|g| {
                if g < n_host_cx {
                    u32::MAX
                } else {
                    (core_cx0.partition_point(|&c0| c0 as usize <= g) - 1) as u32
                }
            })
            .collect();
        Ok(Net {
            num,
            n_cx,
            n_host_cx,
            cx,
            route_ptr,
            route_axon,
            route_atom,
            axon_table,
            axon_base,
            table_atoms,
            atom_ptr,
            syn,
            segments: segs,
            core_of_cx,
            host,
            inputs,
            in_route_ptr,
            in_route_axon,
            in_route_atom,
            core_cx0,
            core_of_axon,
        })
    }
}
