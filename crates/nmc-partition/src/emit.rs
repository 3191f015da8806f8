//! Emission: model + placement → artifact, exactly per the artifact's
//! documented semantics (nmc-artifact crate doc). The tables and axons are
//! built by the same rules the cost model counts (see docs/partition.md);
//! `verify_artifact` re-derives the counts from the result.

use crate::cost::{ConvCombos, Layout, base_of, chunk_first_out, chunks, rows_pairs, weight_bits};
use crate::error::PartitionError;
use crate::placement::{AxonMode, Block, LayerPlacement, Placement, layout_index};
use crate::prep::{ConnPrep, ConvPrep, Prepared, RowsPrep, check_buildable};
use crate::verify::{VerifyError, verify};
use nmc_artifact::{
    ArtInput, Artifact, CoreCfg, Cx, CxProfile, Encoding, HostLayer, HostWeights, InAxon, LayerLoc, LayerMap,
    OutputMap, Route, Syn, SynFormat, SynTable,
};
use nmc_ir::qmodel::{InputEncoding, Placement as Where, QModel, QPopulation, QWeights, Source};
use nmc_target::Target;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
struct CoreB {
    profiles: Vec<CxProfile>,
    pmap: HashMap<CxProfile, u16>,
    cx: Vec<Cx>,
    formats: Vec<SynFormat>,
    tables: Vec<SynTable>,
    axons: Vec<InAxon>,
    routes: Vec<Vec<Route>>,
}

fn intern_profile(profiles: &mut Vec<CxProfile>, pmap: &mut HashMap<CxProfile, u16>, p: CxProfile) -> u16 {
    if let Some(&i) = pmap.get(&p) {
        return i;
    }
    let i = profiles.len() as u16;
    profiles.push(p.clone());
    pmap.insert(p, i);
    i
}

impl CoreB {
    fn format(&mut self, f: SynFormat) -> u16 {
        if let Some(i) = self.formats.iter().position(|x| *x == f) {
            return i as u16;
        }
        self.formats.push(f);
        (self.formats.len() - 1) as u16
    }
    fn table(&mut self, t: SynTable) -> u32 {
        self.tables.push(t);
        (self.tables.len() - 1) as u32
    }
    fn axon(&mut self, a: InAxon) -> u32 {
        self.axons.push(a);
        (self.axons.len() - 1) as u32
    }
}

fn profile_of(p: &QPopulation, i: usize) -> CxProfile {
    let c = &p.compartment;
    CxProfile {
        decay_u: c.decay_u.get(i),
        decay_v: c.decay_v.get(i),
        vth_mant: c.vth_mant.get(i),
        bias_exp: c.bias_exp.get(i),
        refractory: c.refractory.get(i),
        vmin_exp: c.vmin_exp,
        vmax_exp: c.vmax_exp,
        spiking: c.spiking,
    }
}

/// Routes produced by one connection of one block: (source, element, route).
type Pending = Vec<(Source, usize, Route)>;

/// Builds the artifact of `model` placed by `placement` on `target`. The
/// placement is verified first; every connection's latency must be the one
/// the artifact implies. Deterministic: the same inputs give byte-identical
/// artifacts.
pub fn emit(model: &QModel, placement: &Placement, target: &Target) -> Result<Artifact, PartitionError> {
    let prep = Prepared::new(model)?;
    check_buildable(model, target)?;
    verify(model, target, placement)?;
    let mut cores = empty_cores(placement);
    // 1. Compartments and where every chip neuron lives.
    let mut locs = place_compartments(&prep, placement, &mut cores);
    // 2. Connections: tables, axons, routes.
    let (host_routes, input_routes) = emit_connections(&prep, placement, target, &mut cores, &locs);
    // 3. Host layers, inputs, layers, outputs.
    let (host, layers) = host_and_layers(model, &mut locs, host_routes)?;
    let float_host = art_float_host(model, &host);
    let a = Artifact {
        model: model.name.clone(),
        target_name: target.name().to_string(),
        target_ron: target.to_ron().map_err(|e| PartitionError::Target(e.to_string()))?,
        dt: model.dt,
        inputs: art_inputs(model, input_routes),
        host,
        cores: core_cfgs(placement, cores),
        layers,
        outputs: art_outputs(model),
        readouts: art_readouts(model),
        float_host,
    };
    a.check().map_err(|m| VerifyError { problems: vec![m] })?;
    Ok(a)
}

/// One empty core per core of the placement, with as many (blank)
/// compartments and route lists as its blocks have neurons.
fn empty_cores(placement: &Placement) -> Vec<CoreB> {
    let mut cores: Vec<CoreB> = (0..placement.cores.len()).map(|_| CoreB::default()).collect();
    for l in &placement.layers {
        if let LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                let c = &mut cores[b.core as usize];
                let n = c.cx.len() + b.tile.len() as usize;
                c.cx.resize(
                    n,
                    Cx {
                        profile: 0,
                        bias_mant: 0,
                    },
                );
            }
        }
    }
    for c in &mut cores {
        c.routes = vec![Vec::new(); c.cx.len()];
    }
    cores
}

/// Fills every chip neuron's compartment (profile, bias) and returns, per
/// population, where each neuron lives: (core, compartment).
fn place_compartments(prep: &Prepared<'_>, placement: &Placement, cores: &mut [CoreB]) -> Vec<Vec<(u32, u16)>> {
    let model = prep.model;
    let mut locs: Vec<Vec<(u32, u16)>> = vec![Vec::new(); model.populations.len()];
    for (k, l) in placement.layers.iter().enumerate() {
        let LayerPlacement::Chip { blocks, .. } = l else {
            continue;
        };
        let p = &model.populations[k];
        let [_, h, w] = prep.views[k];
        locs[k] = vec![(0, 0); p.shape.numel()];
        for b in blocks {
            let lay = Layout::of(b);
            let core = &mut cores[b.core as usize];
            for c in b.tile.c.start..b.tile.c.end {
                for y in b.tile.y.start..b.tile.y.end {
                    for x in b.tile.x.start..b.tile.x.end {
                        let n = (c as usize * h + y as usize) * w + x as usize;
                        let cx = lay.cx(c, y, x);
                        let prof = intern_profile(&mut core.profiles, &mut core.pmap, profile_of(p, n));
                        core.cx[cx as usize] = Cx {
                            profile: prof,
                            bias_mant: p.compartment.bias_mant.get(n),
                        };
                        locs[k][n] = (b.core, cx as u16);
                    }
                }
            }
        }
    }
    locs
}

/// Routes per element: of each host population (per neuron) and of each
/// event input.
type SourceRoutes = Vec<Vec<Vec<Route>>>;

/// Every connection of every block: its tables and axons on the block's
/// core, and its routes on the sources (chip routes on their compartments;
/// host and input routes returned).
fn emit_connections(
    prep: &Prepared<'_>,
    placement: &Placement,
    target: &Target,
    cores: &mut [CoreB],
    locs: &[Vec<(u32, u16)>],
) -> (SourceRoutes, SourceRoutes) {
    let model = prep.model;
    let mut host_routes: Vec<Vec<Vec<Route>>> = model
        .populations
        .iter()
        .map(|p| {
            if p.placement == Where::Host {
                vec![Vec::new(); p.shape.numel()]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut input_routes: Vec<Vec<Vec<Route>>> = model
        .inputs
        .iter()
        .map(|i| match i.encoding {
            InputEncoding::Events => vec![Vec::new(); i.shape.numel()],
            InputEncoding::Real { .. } => Vec::new(),
        })
        .collect();
    for (k, l) in placement.layers.iter().enumerate() {
        let LayerPlacement::Chip { blocks, .. } = l else {
            continue;
        };
        let p = &model.populations[k];
        for b in blocks {
            for (ci, conn) in p.inputs.iter().enumerate() {
                let core = &mut cores[b.core as usize];
                let pending = match &prep.conns[k][ci] {
                    ConnPrep::Rows(rp) => {
                        emit_rows(rp, prep.views[k], target, conn.weight_exp, b, ci, conn.source, core)
                    }
                    ConnPrep::Conv(cp) => emit_conv(cp, target, conn.weight_exp, b, ci, conn.source, core),
                };
                for (src, elem, r) in pending {
                    match src {
                        Source::Input(i) => input_routes[i][elem].push(r),
                        Source::Population(s) => {
                            if model.populations[s].placement == Where::Host {
                                host_routes[s][elem].push(r);
                            } else {
                                let (c, x) = locs[s][elem];
                                cores[c as usize].routes[x as usize].push(r);
                            }
                        }
                    }
                }
            }
        }
    }
    (host_routes, input_routes)
}

/// The host layers (encoders) and every population's layer map.
fn host_and_layers(
    model: &QModel,
    locs: &mut [Vec<(u32, u16)>],
    mut host_routes: SourceRoutes,
) -> Result<(Vec<HostLayer>, Vec<LayerMap>), PartitionError> {
    let mut host = Vec::new();
    let mut layers = Vec::with_capacity(model.populations.len());
    for (k, p) in model.populations.iter().enumerate() {
        let loc = if p.placement == Where::Host {
            let conn = &p.inputs[0];
            let Source::Input(input) = conn.source else {
                return Err(PartitionError::Unsupported {
                    layer: p.name.clone(),
                    message: "a host population must read a real-valued input".into(),
                });
            };
            let weights = host_weights(&conn.weights);
            let mut profiles = Vec::new();
            let mut pmap = HashMap::new();
            let n = p.shape.numel();
            let cx = (0..n)
                .map(|i| Cx {
                    profile: intern_profile(&mut profiles, &mut pmap, profile_of(p, i)),
                    bias_mant: p.compartment.bias_mant.get(i),
                })
                .collect();
            let mut routes = std::mem::take(&mut host_routes[k]);
            for r in &mut routes {
                r.sort_unstable();
            }
            host.push(HostLayer {
                layer: k as u32,
                input: input as u32,
                weight_exp: conn.weight_exp,
                weights,
                profiles,
                cx,
                routes,
            });
            LayerLoc::Host((host.len() - 1) as u32)
        } else {
            LayerLoc::Chip(std::mem::take(&mut locs[k]))
        };
        layers.push(LayerMap {
            name: p.name.clone(),
            shape: p.shape.dims().to_vec(),
            loc,
        });
    }
    Ok((host, layers))
}

/// The model's inputs with their (sorted) routes.
fn art_inputs(model: &QModel, input_routes: SourceRoutes) -> Vec<ArtInput> {
    model
        .inputs
        .iter()
        .zip(input_routes)
        .map(|(i, mut routes)| {
            for r in &mut routes {
                r.sort_unstable();
            }
            ArtInput {
                name: i.name.clone(),
                shape: i.shape.dims().to_vec(),
                encoding: match i.encoding {
                    InputEncoding::Real { frac_bits, bits } => Encoding::Real { frac_bits, bits },
                    InputEncoding::Events => Encoding::Events,
                },
                routes,
            }
        })
        .collect()
}

/// The model's outputs that read a population.
fn art_outputs(model: &QModel) -> Vec<OutputMap> {
    model
        .outputs
        .iter()
        .filter_map(|o| match o.source {
            Source::Population(k) => Some(OutputMap {
                name: o.name.clone(),
                layer: k as u32,
            }),
            Source::Input(_) => None,
        })
        .collect()
}

/// The host readouts, reading chip layers by their model index (the
/// artifact's layers are the model's populations, in order).
fn art_readouts(model: &QModel) -> Vec<nmc_artifact::HostReadout> {
    use nmc_artifact::{HostReadout, ReadoutFilter, ReadoutInput};
    model
        .readouts
        .iter()
        .map(|r| HostReadout {
            name: r.name.clone(),
            output: r.output.clone(),
            shape: r.shape.dims().to_vec(),
            inputs: r
                .inputs
                .iter()
                .map(|c| ReadoutInput {
                    layer: match c.source {
                        Source::Population(k) | Source::Input(k) => k as u32,
                    },
                    weights: art_weights(&c.weights),
                })
                .collect(),
            bias: r.bias.clone(),
            filter: r.filter.map(|f| ReadoutFilter {
                tau: f.tau,
                decay: f.decay,
                gain: f.gain,
            }),
        })
        .collect()
}

/// A QModel float map as the artifact stores it.
fn art_weights(w: &nmc_ir::qmodel::ReadoutWeights) -> nmc_artifact::ReadoutWeights {
    use nmc_artifact::ReadoutWeights as AW;
    use nmc_ir::qmodel::ReadoutWeights as QW;
    match w {
        QW::Dense { out, inp, w } => AW::Dense {
            out: *out,
            inp: *inp,
            w: w.clone(),
        },
        QW::Sparse {
            out,
            inp,
            row_ptr,
            col,
            w,
        } => AW::Sparse {
            out: *out,
            inp: *inp,
            row_ptr: row_ptr.clone(),
            col: col.clone(),
            w: w.clone(),
        },
    }
}

/// The float models of the host layers that have one (format 3).
fn art_float_host(model: &QModel, host: &[HostLayer]) -> Vec<nmc_artifact::FloatHostLayer> {
    host.iter()
        .enumerate()
        .filter_map(|(hi, h)| {
            let f = model.populations.get(h.layer as usize)?.float.as_ref()?;
            Some(nmc_artifact::FloatHostLayer {
                host: hi as u32,
                weights: art_weights(&f.weights),
                bias: f.bias.clone(),
                neuron: nmc_artifact::FloatNeuron::from(&nmc_core::lif::Lif::from(&f.neuron)),
            })
        })
        .collect()
}

/// The built cores, with their ids and sorted routes.
fn core_cfgs(placement: &Placement, cores: Vec<CoreB>) -> Vec<CoreCfg> {
    placement
        .cores
        .iter()
        .zip(cores)
        .map(|(id, mut c)| {
            for r in &mut c.routes {
                r.sort_unstable();
            }
            CoreCfg {
                chip: id.chip,
                core: id.core,
                profiles: c.profiles,
                cx: c.cx,
                formats: c.formats,
                tables: c.tables,
                axons: c.axons,
                routes: c.routes,
            }
        })
        .collect()
}

fn host_weights(w: &QWeights) -> HostWeights {
    match w {
        QWeights::Dense { out, inp, mant } => HostWeights::Dense {
            out: *out,
            inp: *inp,
            mant: mant.clone(),
        },
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            mant,
        } => HostWeights::Conv2d {
            in_shape: *in_shape,
            out_shape: *out_shape,
            kernel: *kernel,
            stride: *stride,
            padding: *padding,
            dilation: *dilation,
            groups: *groups,
            mant: mant.clone(),
        },
        QWeights::Sparse {
            out,
            inp,
            row_ptr,
            col,
            mant,
        } => {
            let mut dense = vec![0i16; out * inp];
            for o in 0..*out {
                for e in row_ptr[o] as usize..row_ptr[o + 1] as usize {
                    let d = &mut dense[o * inp + col[e] as usize];
                    *d = d.saturating_add(mant[e]);
                }
            }
            HostWeights::Dense {
                out: *out,
                inp: *inp,
                mant: dense,
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn emit_rows(
    rp: &RowsPrep,
    view: [usize; 3],
    t: &Target,
    weight_exp: i8,
    b: &Block,
    ci: usize,
    source: Source,
    core: &mut CoreB,
) -> Pending {
    let mode = b.modes[ci];
    let lay = Layout::of(b);
    let pairs = rows_pairs(rp, view, &lay);
    let mut out = Vec::new();
    if pairs.is_empty() {
        return out;
    }
    let format = core.format(SynFormat {
        weight_exp,
        weight_bits: weight_bits(t),
        indexed: mode.indexed(),
    });
    let mut i = 0;
    while i < pairs.len() {
        let s = pairs[i].0;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == s {
            j += 1;
        }
        let syns: Vec<Syn> = if mode == AxonMode::DiscreteRun {
            let lo = 0;
            let hi = pairs[j - 1].1;
            let mut v: Vec<Syn> = (lo..=hi)
                .map(|cx| Syn {
                    atom: 0,
                    cx: cx as u16,
                    mant: 0,
                })
                .collect();
            for &(_, cx, m) in &pairs[i..j] {
                v[(cx - lo) as usize].mant = m;
            }
            v
        } else {
            pairs[i..j]
                .iter()
                .map(|&(_, cx, m)| Syn {
                    atom: 0,
                    cx: cx as u16,
                    mant: m,
                })
                .collect()
        };
        let table = core.table(SynTable { format, atoms: 1, syns });
        let axon = core.axon(InAxon::Discrete { table });
        out.push((
            source,
            s as usize,
            Route {
                core: b.core,
                axon,
                atom: 0,
            },
        ));
        i = j;
    }
    out
}

fn mant_of(cp: &ConvPrep, w: &[i16], co: usize, ci: usize, ky: usize, kx: usize) -> i16 {
    w[cp.g.widx(co, ci % cp.g.cig, ky, kx)]
}

fn emit_conv(
    cp: &ConvPrep,
    t: &Target,
    weight_exp: i8,
    b: &Block,
    ci: usize,
    source: Source,
    core: &mut CoreB,
) -> Pending {
    let _ = ci;
    let mode = b.modes[ci];
    let lay = Layout::of(b);
    let combos = ConvCombos::new(cp, &b.tile);
    let g = &cp.g;
    let (c0, c1) = (b.tile.c.start as usize, b.tile.c.end as usize);
    let mut out = Vec::new();
    let weights = &cp_weights(cp);
    let fmt = SynFormat {
        weight_exp,
        weight_bits: weight_bits(t),
        indexed: true,
    };
    let mut format: Option<u16> = None;
    match mode {
        AxonMode::Discrete | AxonMode::DiscreteRun => {
            for &(iy, rp, oy0) in &combos.rows.coords {
                for &(ix, cpi, ox0) in &combos.cols.coords {
                    for chn in combos.i0..combos.i1 {
                        if combos.get(rp, cpi, chn) == 0 {
                            continue;
                        }
                        let (o0, o1) = g.out_of_in(chn, c0, c1);
                        let mut syns = Vec::new();
                        for &(ky, doy) in &combos.rows.pats[rp as usize] {
                            for &(kx, dox) in &combos.cols.pats[cpi as usize] {
                                for co in o0..o1 {
                                    let m = mant_of(cp, weights, co, chn, ky as usize, kx as usize);
                                    if m != 0 {
                                        syns.push(Syn {
                                            atom: 0,
                                            cx: lay.cx(co as u32, oy0 + doy, ox0 + dox) as u16,
                                            mant: m,
                                        });
                                    }
                                }
                            }
                        }
                        syns.sort_unstable_by_key(|s| s.cx);
                        let f = *format.get_or_insert_with(|| core.format(fmt));
                        let table = core.table(SynTable {
                            format: f,
                            atoms: 1,
                            syns,
                        });
                        let axon = core.axon(InAxon::Discrete { table });
                        out.push((
                            source,
                            g.src(chn, iy as usize, ix as usize),
                            Route {
                                core: b.core,
                                axon,
                                atom: 0,
                            },
                        ));
                    }
                }
            }
        }
        AxonMode::Population16 | AxonMode::Population32 => {
            let kind = t.axons().kind(mode.kind());
            let chs = chunks(combos.i0, combos.i1, kind.max_atoms());
            let tw = lay.tile.x.len();
            let gi = lay.inner.max(1);
            let ncp = combos.cols.pats.len();
            for ch in chs {
                let cf = chunk_first_out(cp, ch, c0);
                let m0 = lay.offset + layout_index(lay.tile.shape(), lay.inner, (cf - c0) as u32, 0, 0);
                let entries = |rp: u32, cpi: u32| -> u32 { (ch.0..ch.1).map(|x| combos.get(rp, cpi, x)).sum() };
                let mut ent_cache: Vec<Option<u32>> = vec![None; combos.rows.pats.len() * ncp];
                let mut tables: BTreeMap<(u32, u32, u32), u32> = BTreeMap::new();
                for &(iy, rp, oy0) in &combos.rows.coords {
                    for &(ix, cpi, ox0) in &combos.cols.coords {
                        let e = *ent_cache[rp as usize * ncp + cpi as usize].get_or_insert_with(|| entries(rp, cpi));
                        if e == 0 {
                            continue;
                        }
                        let m = m0 + gi * ((oy0 - lay.tile.y.start) * tw + (ox0 - lay.tile.x.start));
                        let (base, r) = base_of(m, kind);
                        let table = match tables.get(&(rp, cpi, r)) {
                            Some(&tb) => tb,
                            None => {
                                let mut syns = Vec::with_capacity(e as usize);
                                for chn in ch.0..ch.1 {
                                    let atom = (chn - ch.0) as u16;
                                    let (o0, o1) = g.out_of_in(chn, c0, c1);
                                    for &(ky, doy) in &combos.rows.pats[rp as usize] {
                                        for &(kx, dox) in &combos.cols.pats[cpi as usize] {
                                            for co in o0..o1 {
                                                let mt = mant_of(cp, weights, co, chn, ky as usize, kx as usize);
                                                if mt != 0 {
                                                    let cx = lay.cx(co as u32, oy0 + doy, ox0 + dox);
                                                    syns.push(Syn {
                                                        atom,
                                                        cx: (cx - base) as u16,
                                                        mant: mt,
                                                    });
                                                }
                                            }
                                        }
                                    }
                                }
                                syns.sort_unstable_by_key(|s| (s.atom, s.cx));
                                let f = *format.get_or_insert_with(|| core.format(fmt));
                                let tb = core.table(SynTable {
                                    format: f,
                                    atoms: (ch.1 - ch.0) as u16,
                                    syns,
                                });
                                tables.insert((rp, cpi, r), tb);
                                tb
                            }
                        };
                        let axon = core.axon(InAxon::Population {
                            table,
                            base: base as u16,
                        });
                        for chn in ch.0..ch.1 {
                            if combos.get(rp, cpi, chn) > 0 {
                                out.push((
                                    source,
                                    g.src(chn, iy as usize, ix as usize),
                                    Route {
                                        core: b.core,
                                        axon,
                                        atom: (chn - ch.0) as u16,
                                    },
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

fn cp_weights(cp: &ConvPrep) -> &[i16] {
    &cp.mant
}
