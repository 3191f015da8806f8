//! The artifact flattened into cache-friendly arrays: one global index space
//! of compartments (host layers first, then cores in order), per-compartment
//! constants as structure-of-arrays, routes and synapse tables as CSR.

use crate::error::EmuError;
use crate::numerics::Numerics;
use nmc_artifact::{Artifact, CxProfile, Encoding, HostWeights, InAxon, Route, SynTable};
use nmc_core::{ConvGeom, Loc, Problem};

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

/// A host convolution's weights as CSR rows over its outputs (appended to `csr`).
fn expand_host_conv(
    geom: &ConvGeom,
    mant: &[i16],
    n_out: usize,
    file_layer: usize,
    weight: impl Fn(i16) -> Result<i64, EmuError>,
    (row_ptr, col, ws): (&mut Vec<u32>, &mut Vec<u32>, &mut Vec<i64>),
) -> Result<(), EmuError> {
    let [_, h, wd] = geom.in_shape;
    let [co, ho, wo] = geom.out_shape;
    let kernel = geom.kernel;
    let (cig, cog) = (geom.cig(), geom.cog());
    let product = |dims: &[usize]| dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if product(&[co, ho, wo]) != Some(n_out) || product(&[co, cig, kernel[0], kernel[1]]) != Some(mant.len()) {
        return Err(host_error(
            file_layer,
            "weights",
            "conv map does not match the layer's size",
        ));
    }
    let [dy, dx] = geom.dims();
    for oc in 0..co {
        let gi = oc / cog.max(1);
        for oy in 0..ho {
            for ox in 0..wo {
                for icg in 0..cig {
                    let ic = gi * cig + icg;
                    for ky in 0..kernel[0] {
                        // Checked: a damaged stride or dilation lands
                        // outside the input, not in a panic.
                        let Some(iy) = dy.input_of(oy, ky) else {
                            continue;
                        };
                        for kx in 0..kernel[1] {
                            let Some(ix) = dx.input_of(ox, kx) else {
                                continue;
                            };
                            let m = mant[geom.widx(oc, icg, ky, kx)];
                            if m != 0 {
                                let c = ic
                                    .checked_mul(h)
                                    .and_then(|x| x.checked_add(iy))
                                    .and_then(|x| x.checked_mul(wd))
                                    .and_then(|x| x.checked_add(ix))
                                    .and_then(|x| u32::try_from(x).ok())
                                    .ok_or_else(|| host_error(file_layer, "weights", "conv input index beyond 2^32"))?;
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
    Ok(())
}

fn expand_host(num: &Numerics, w: &HostWeights, exp: i8, n_out: usize, file_layer: usize) -> Result<Csr, EmuError> {
    let weight = |m: i16| {
        num.weight(m, exp).ok_or_else(|| {
            host_error(
                file_layer,
                "weight_exp",
                format!("{exp} overflows the 64-bit accumulator"),
            )
        })
    };
    let mut row_ptr = vec![0u32];
    let mut col = Vec::new();
    let mut ws = Vec::new();
    match w {
        HostWeights::Dense { out, inp, mant } => {
            if *out != n_out || Some(mant.len()) != out.checked_mul(*inp) {
                return Err(host_error(
                    file_layer,
                    "weights",
                    "dense map does not match the layer's size",
                ));
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
            let geom = ConvGeom {
                in_shape: *in_shape,
                out_shape: *out_shape,
                kernel: *kernel,
                stride: *stride,
                padding: *padding,
                dilation: *dilation,
                groups: (*groups).max(1),
            };
            expand_host_conv(
                &geom,
                mant,
                n_out,
                file_layer,
                weight,
                (&mut row_ptr, &mut col, &mut ws),
            )?;
        }
    }
    Ok((row_ptr, col, ws))
}

/// A broken host layer `h` of the artifact.
fn host_error(h: usize, field: &'static str, message: impl Into<String>) -> EmuError {
    EmuError::Invalid(Problem::new(Loc::HostLayer(h), field, message))
}

/// Global axons and synapse tables of every core.
struct Tables {
    /// Per core: its first global axon.
    axon_base_of_core: Vec<u32>,
    axon_table: Vec<u32>,
    axon_base: Vec<u32>,
    core_of_axon: Vec<u32>,
    table_atoms: Vec<u32>,
    atom_ptr: Vec<u32>,
    syn: Vec<(u32, i32)>,
}

/// Events inputs: features and encoding per input, and per element its routes.
struct InputRoutes {
    inputs: Vec<(usize, Encoding)>,
    ptr: Vec<Vec<u32>>,
    axon: Vec<Vec<u32>>,
    atom: Vec<Vec<u16>>,
}

/// The host layers' compartments (appended to `cx`) and expanded weights.
fn host_layers(a: &Artifact, num: &Numerics, cx: &mut CxConsts) -> Result<Vec<HostMap>, EmuError> {
    let mut host = Vec::new();
    for (hi, h) in a.host.iter().enumerate() {
        let cx0 = cx.fu.len();
        for c in &h.cx {
            cx.push(num, &h.profiles[c.profile as usize], c.bias_mant);
        }
        let (row_ptr, col, w) = expand_host(num, &h.weights, h.weight_exp, h.cx.len(), hi)?;
        let feats: usize = a.inputs[h.input as usize].shape.iter().product();
        if col.iter().any(|&c| c as usize >= feats) {
            return Err(host_error(hi, "weights", "read beyond the input's features"));
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
    Ok(host)
}

/// The cores' compartments (appended to `cx`); returns each core's first one.
fn core_compartments(a: &Artifact, num: &Numerics, cx: &mut CxConsts) -> Vec<u32> {
    let mut core_cx0 = Vec::with_capacity(a.cores.len());
    for c in &a.cores {
        core_cx0.push(cx.fu.len() as u32);
        for k in &c.cx {
            cx.push(num, &c.profiles[k.profile as usize], k.bias_mant);
        }
    }
    core_cx0
}

impl Tables {
    /// Numbers every core's axons and tables globally and expands the synapses.
    fn build(a: &Artifact, num: &Numerics, core_cx0: &[u32]) -> Result<Tables, EmuError> {
        let mut t = Tables {
            axon_base_of_core: Vec::with_capacity(a.cores.len()),
            axon_table: Vec::new(),
            axon_base: Vec::new(),
            core_of_axon: Vec::new(),
            table_atoms: Vec::new(),
            atom_ptr: Vec::new(),
            syn: Vec::new(),
        };
        for (ci, c) in a.cores.iter().enumerate() {
            t.axon_base_of_core.push(t.axon_table.len() as u32);
            let t0 = t.table_atoms.len() as u32;
            for (ti, table) in c.tables.iter().enumerate() {
                let at = Loc::Table { core: ci, table: ti };
                t.push_table(num, at, table, c.formats[table.format as usize].weight_exp)?;
            }
            for ax in &c.axons {
                let (table, base) = match ax {
                    InAxon::Discrete { table } => (*table, 0u32),
                    InAxon::Population { table, base } => (*table, *base as u32),
                };
                t.axon_table.push(t0 + table);
                t.axon_base.push(core_cx0[ci] + base);
                t.core_of_axon.push(ci as u32);
            }
        }
        Ok(t)
    }

    /// Appends one synapse table, at `at` (its synapses sorted by atom).
    fn push_table(&mut self, num: &Numerics, at: Loc, t: &SynTable, weight_exp: i8) -> Result<(), EmuError> {
        self.table_atoms.push(self.atom_ptr.len() as u32);
        let mut k = 0usize;
        for atom in 0..t.atoms {
            self.atom_ptr.push(self.syn.len() as u32);
            while k < t.syns.len() && t.syns[k].atom == atom {
                let s = t.syns[k];
                let w = num
                    .weight(s.mant, weight_exp)
                    .and_then(|w| i32::try_from(w).ok())
                    .ok_or_else(|| {
                        EmuError::Invalid(Problem::new(
                            at.clone(),
                            "weight_exp",
                            format!("weight {} · 2^{} does not fit the accumulator", s.mant, weight_exp),
                        ))
                    })?;
                self.syn.push((s.cx as u32, w));
                k += 1;
            }
        }
        self.atom_ptr.push(self.syn.len() as u32);
        if k != t.syns.len() {
            return Err(EmuError::Invalid(Problem::new(at, "syns", "not sorted by atom")));
        }
        Ok(())
    }

    /// The global axon a route targets.
    fn gaxon(&self, r: &Route) -> u32 {
        self.axon_base_of_core[r.core as usize] + r.axon
    }

    /// Per compartment (host layers, then cores), CSR of its routes.
    fn routes(&self, a: &Artifact) -> (Vec<u32>, Vec<u32>, Vec<u16>) {
        let mut route_ptr = vec![0u32];
        let mut route_axon = Vec::new();
        let mut route_atom = Vec::new();
        let lists = a
            .host
            .iter()
            .flat_map(|h| &h.routes)
            .chain(a.cores.iter().flat_map(|c| &c.routes));
        for routes in lists {
            for r in routes {
                route_axon.push(self.gaxon(r));
                route_atom.push(r.atom);
            }
            route_ptr.push(route_axon.len() as u32);
        }
        (route_ptr, route_axon, route_atom)
    }

    /// Every input's features, encoding and per-element routes.
    fn input_routes(&self, a: &Artifact) -> InputRoutes {
        let mut ir = InputRoutes {
            inputs: Vec::new(),
            ptr: Vec::new(),
            axon: Vec::new(),
            atom: Vec::new(),
        };
        for i in &a.inputs {
            let feats: usize = i.shape.iter().product();
            ir.inputs.push((feats, i.encoding));
            let mut p = vec![0u32];
            let mut ax = Vec::new();
            let mut at = Vec::new();
            for r in &i.routes {
                for x in r {
                    ax.push(self.gaxon(x));
                    at.push(x.atom);
                }
                p.push(ax.len() as u32);
            }
            ir.ptr.push(p);
            ir.axon.push(ax);
            ir.atom.push(at);
        }
        ir
    }
}

/// Core of each compartment (`u32::MAX` for host compartments).
fn core_of_cx(n_cx: usize, n_host_cx: usize, core_cx0: &[u32]) -> Vec<u32> {
    (0..n_cx)
        .map(|g| {
            if g < n_host_cx {
                u32::MAX
            } else {
                (core_cx0.partition_point(|&c0| c0 as usize <= g) - 1) as u32
            }
        })
        .collect()
}

impl Net {
    pub(crate) fn build(a: &Artifact, num: Numerics) -> Result<Net, EmuError> {
        a.check().map_err(EmuError::Invalid)?;
        for (k, i) in a.inputs.iter().enumerate() {
            if let Encoding::Real { bits, .. } = i.encoding
                && !nmc_core::input::REAL_BITS.contains(&bits)
            {
                let r = nmc_core::input::REAL_BITS;
                return Err(EmuError::Invalid(Problem::new(
                    Loc::Input(k),
                    "encoding",
                    format!(
                        "input `{}`: a real input is encoded in {}..={} bits, not {bits}",
                        i.name,
                        r.start(),
                        r.end()
                    ),
                )));
            }
        }
        let mut cx = CxConsts::default();
        // Host compartments first.
        let host = host_layers(a, &num, &mut cx)?;
        let n_host_cx = cx.fu.len();
        let core_cx0 = core_compartments(a, &num, &mut cx);
        let n_cx = cx.fu.len();
        // Axons and tables, global.
        let tables = Tables::build(a, &num, &core_cx0)?;
        let (route_ptr, route_axon, route_atom) = tables.routes(a);
        let ir = tables.input_routes(a);
        let segs = segments(&cx);
        let core_of_cx = core_of_cx(n_cx, n_host_cx, &core_cx0);
        Ok(Net {
            num,
            n_cx,
            n_host_cx,
            cx,
            route_ptr,
            route_axon,
            route_atom,
            axon_table: tables.axon_table,
            axon_base: tables.axon_base,
            table_atoms: tables.table_atoms,
            atom_ptr: tables.atom_ptr,
            syn: tables.syn,
            segments: segs,
            core_of_cx,
            host,
            inputs: ir.inputs,
            in_route_ptr: ir.ptr,
            in_route_axon: ir.axon,
            in_route_atom: ir.atom,
            core_cx0,
            core_of_axon: tables.core_of_axon,
        })
    }
}
