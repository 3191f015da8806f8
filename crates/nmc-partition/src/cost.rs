//! The cost model: what one block, and one core, needs of every limited
//! resource. The search, the verifier and the emitter all take their
//! numbers from here (docs/partition.md, "Cost model").

use crate::placement::{AxonMode, Block, Placement, Tile, layout_index};
use crate::prep::{ConnPrep, ConvPrep, Prepared, RowsPrep};
use crate::resource::CoreUsage;
use nmc_ir::qmodel::{PerNeuron, QPopulation, Source};
use nmc_target::{AxonKindLimits, Target};

/// A synapse format: (weight exponent, stored weight bits, indexed).
pub(crate) type FmtKey = (i8, u8, bool);

/// What one input connection of a block needs in one mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnCost {
    pub mode: AxonMode,
    /// Input axons.
    pub axons: u64,
    /// Synapse-memory bits of its lists / distinct tables.
    pub bits: u64,
    /// Routes into it (one per source element per axon it reaches).
    pub routes: u64,
    /// Output slots those routes take in their source cores (each route the
    /// slots of the cheapest axon kind that can hold its axon).
    pub route_slots: u64,
    /// Non-zero synapses it implements.
    pub synapses: u64,
    /// Its synapse format (none when it has no axon).
    pub format: Option<FmtKey>,
}

/// What one block needs, before it is combined with the others of its core.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BlockParts {
    pub compartments: u64,
    pub conns: Vec<ConnCost>,
    /// Sorted, distinct.
    pub cx_profiles: Vec<(u16, u16, u8)>,
    pub vth: Vec<i32>,
    pub vlimits: Vec<(u8, u8)>,
}

/// Stored weight width of every synapse format nmc emits.
pub(crate) fn weight_bits(t: &Target) -> u8 {
    t.formats().weight().mantissa_bits() as u8
}

/// Compartment base of a population axon whose footprint starts at
/// compartment `m`: `b = (m mod P)` rounded down to a multiple of
/// `base_multiple`, with `P = max_base + base_multiple`, so that bases repeat
/// with period `P` and tables can be shared; returns `(b, m − b)`.
pub(crate) fn base_of(m: u32, k: &AxonKindLimits) -> (u32, u32) {
    let mult = k.base_multiple().max(1);
    let period = k.max_base() + mult;
    let q = m % period;
    let b = q - q % mult;
    (b, m - b)
}

/// Output slots a route to a population axon with compartment base `base`
/// and `atoms` atoms takes: those of the cheapest population kind that can
/// hold both (the artifact does not record the kind; the verifier infers it
/// the same way). A base chosen by one kind's rule always fits that kind.
pub(crate) fn pop_axon_slots(t: &Target, base: u32, atoms: u64) -> u32 {
    [t.axons().population16(), t.axons().population32()]
        .into_iter()
        .filter(|k| k.max_atom_bits() > 0 && k.base_allowed(base) && atoms <= k.max_atoms())
        .map(|k| k.slots())
        .min()
        .unwrap_or_else(|| t.axons().population32().slots())
}

/// The atom chunks of a population axon over input channels `[i0, i1)`.
pub(crate) fn chunks(i0: usize, i1: usize, max_atoms: u64) -> Vec<(usize, usize)> {
    // Atoms are 16-bit in the artifact.
    let a = (max_atoms.min(1 << 15) as usize).max(1);
    let mut out = Vec::new();
    let mut s = i0;
    while s < i1 {
        let e = (s + a).min(i1);
        out.push((s, e));
        s = e;
    }
    out
}

/// Whether `mode` can carry connection `conn` of a population.
pub(crate) fn mode_legal(conn: &ConnPrep, mode: AxonMode, t: &Target) -> bool {
    match conn {
        ConnPrep::Conv(_) => match mode {
            AxonMode::Discrete => true,
            AxonMode::DiscreteRun => false,
            AxonMode::Population16 | AxonMode::Population32 => t.axons().kind(mode.kind()).max_atom_bits() > 0,
        },
        ConnPrep::Rows(r) => mode == AxonMode::Discrete || (mode == AxonMode::DiscreteRun && !r.repeats),
    }
}

/// Where a block sits: tile, compartment order and first compartment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Layout {
    pub tile: Tile,
    pub inner: u32,
    pub offset: u32,
}

impl Layout {
    pub fn of(b: &Block) -> Layout {
        Layout {
            tile: b.tile,
            inner: b.inner,
            offset: b.offset,
        }
    }
    /// Core compartment of the neuron at absolute view coordinates.
    #[inline]
    pub fn cx(&self, c: u32, y: u32, x: u32) -> u32 {
        self.offset
            + layout_index(
                self.tile.shape(),
                self.inner,
                c - self.tile.c.start,
                y - self.tile.y.start,
                x - self.tile.x.start,
            )
    }
}

/// Per (row pattern, column pattern) of a conv block: per input channel of
/// `[i0, i1)`, the non-zero synapses one input neuron of that pattern has
/// into the block.
pub(crate) struct ConvCombos {
    pub rows: crate::prep::DimPlan,
    pub cols: crate::prep::DimPlan,
    pub i0: usize,
    pub i1: usize,
    /// `n[(rp · ncp + cp) · (i1 − i0) + (ci − i0)]`.
    pub n: Vec<u32>,
}

impl ConvCombos {
    pub fn new(cp: &ConvPrep, tile: &Tile) -> ConvCombos {
        let g = &cp.g;
        let [dy, dx] = g.dims();
        let rows = dy.plan(tile.y.start as usize, tile.y.end as usize);
        let cols = dx.plan(tile.x.start as usize, tile.x.end as usize);
        let (c0, c1) = (tile.c.start as usize, tile.c.end as usize);
        let (i0, i1) = g.in_range(c0, c1);
        let ni = i1 - i0;
        let mut n = vec![0u32; rows.pats.len() * cols.pats.len() * ni];
        for (rpi, rp) in rows.pats.iter().enumerate() {
            for (cpi, cpat) in cols.pats.iter().enumerate() {
                let base = (rpi * cols.pats.len() + cpi) * ni;
                for ci in i0..i1 {
                    let mut s = 0;
                    for &(ky, _) in rp {
                        for &(kx, _) in cpat {
                            s += cp.nnz_in(ci, ky as usize * g.kw + kx as usize, c0, c1);
                        }
                    }
                    n[base + ci - i0] = s;
                }
            }
        }
        ConvCombos { rows, cols, i0, i1, n }
    }
    #[inline]
    pub fn get(&self, rp: u32, cp: u32, ci: usize) -> u32 {
        let ni = self.i1 - self.i0;
        self.n[(rp as usize * self.cols.pats.len() + cp as usize) * ni + ci - self.i0]
    }
}

/// First output channel of `[c0, c1)` that a chunk of input channels feeds.
pub(crate) fn chunk_first_out(cp: &ConvPrep, chunk: (usize, usize), c0: usize) -> usize {
    c0.max((chunk.0 / cp.g.cig) * cp.g.cog)
}

fn conv_cost(cp: &ConvPrep, combos: &ConvCombos, t: &Target, weight_exp: i8, lay: &Layout, mode: AxonMode) -> ConnCost {
    let wb = weight_bits(t);
    let sc = t.synapse_cost();
    let ib = sc.core_index_bits();
    let ni = combos.i1 - combos.i0;
    let ncp = combos.cols.pats.len();
    let nrp = combos.rows.pats.len();
    // Pixels per combo.
    let mut rows_per = vec![0u64; nrp];
    for &(_, p, _) in &combos.rows.coords {
        rows_per[p as usize] += 1;
    }
    let mut cols_per = vec![0u64; ncp];
    for &(_, p, _) in &combos.cols.coords {
        cols_per[p as usize] += 1;
    }
    let mut synapses = 0u64;
    for (rp, &nr) in rows_per.iter().enumerate() {
        for (cpi, &nc) in cols_per.iter().enumerate() {
            let cnt = nr * nc;
            if cnt == 0 {
                continue;
            }
            let base = (rp * ncp + cpi) * ni;
            let s: u64 = combos.n[base..base + ni].iter().map(|&x| u64::from(x)).sum();
            synapses += cnt * s;
        }
    }
    let mut c = ConnCost {
        mode,
        axons: 0,
        bits: 0,
        routes: 0,
        route_slots: 0,
        synapses,
        format: None,
    };
    match mode {
        AxonMode::Discrete | AxonMode::DiscreteRun => {
            for (rp, &nr) in rows_per.iter().enumerate() {
                for (cpi, &nc) in cols_per.iter().enumerate() {
                    let cnt = nr * nc;
                    if cnt == 0 {
                        continue;
                    }
                    let base = (rp * ncp + cpi) * ni;
                    for &n in &combos.n[base..base + ni] {
                        if n > 0 {
                            c.axons += cnt;
                            c.bits += cnt * sc.bits(n as usize, u32::from(wb), ib);
                        }
                    }
                }
            }
            c.routes = c.axons;
            c.route_slots = c.routes * u64::from(t.axons().discrete().slots());
        }
        AxonMode::Population16 | AxonMode::Population32 => {
            let kind = t.axons().kind(mode.kind());
            let (c0, _) = (lay.tile.c.start as usize, lay.tile.c.end as usize);
            let chs = chunks(combos.i0, combos.i1, kind.max_atoms());
            let tw = lay.tile.x.len();
            let g = lay.inner.max(1);
            let mut keys: Vec<(u32, u32, u32, u32)> = Vec::new();
            for (j, &ch) in chs.iter().enumerate() {
                // Entries and active atoms per combo for this chunk.
                let mut entries = vec![0u64; nrp * ncp];
                let mut active = vec![0u64; nrp * ncp];
                for rp in 0..nrp {
                    for cpi in 0..ncp {
                        let base = (rp * ncp + cpi) * ni;
                        let sl = &combos.n[base + ch.0 - combos.i0..base + ch.1 - combos.i0];
                        entries[rp * ncp + cpi] = sl.iter().map(|&x| u64::from(x)).sum();
                        active[rp * ncp + cpi] = sl.iter().filter(|&&x| x > 0).count() as u64;
                    }
                }
                let cf = chunk_first_out(cp, ch, c0);
                let m0 = lay.offset + layout_index(lay.tile.shape(), lay.inner, (cf - c0) as u32, 0, 0);
                for &(_, rp, oy) in &combos.rows.coords {
                    let ry = oy - lay.tile.y.start;
                    for &(_, cpi, ox) in &combos.cols.coords {
                        let e = (rp as usize) * ncp + cpi as usize;
                        if entries[e] == 0 {
                            continue;
                        }
                        let rx = ox - lay.tile.x.start;
                        let m = m0 + g * (ry * tw + rx);
                        let (b, r) = base_of(m, kind);
                        keys.push((j as u32, rp, cpi, r));
                        c.axons += 1;
                        c.routes += active[e];
                        c.route_slots += active[e] * u64::from(pop_axon_slots(t, b, (ch.1 - ch.0) as u64));
                    }
                }
                keys.sort_unstable();
                keys.dedup();
                for &(kj, rp, cpi, _) in &keys {
                    if kj as usize == j {
                        let e = entries[rp as usize * ncp + cpi as usize];
                        c.bits += sc.bits(e as usize, u32::from(wb), ib);
                    }
                }
                keys.clear();
            }
        }
    }
    if c.axons > 0 {
        c.format = Some((weight_exp, wb, mode.indexed()));
    }
    c
}

/// The (source, compartment) pairs of a dense or sparse connection into a
/// block, sorted by source then compartment, with their mantissas.
pub(crate) fn rows_pairs(rp: &RowsPrep, view: [usize; 3], lay: &Layout) -> Vec<(u32, u32, i16)> {
    let mut pairs = Vec::new();
    let [_, h, w] = view;
    for c in lay.tile.c.start..lay.tile.c.end {
        for y in lay.tile.y.start..lay.tile.y.end {
            for x in lay.tile.x.start..lay.tile.x.end {
                let d = (c as usize * h + y as usize) * w + x as usize;
                let cx = lay.cx(c, y, x);
                for (s, m) in rp.row(d) {
                    pairs.push((s, cx, m));
                }
            }
        }
    }
    pairs.sort_unstable_by_key(|p| (p.0, p.1));
    pairs
}

fn rows_cost(rp: &RowsPrep, view: [usize; 3], t: &Target, weight_exp: i8, lay: &Layout, mode: AxonMode) -> ConnCost {
    let pairs = rows_pairs(rp, view, lay);
    let wb = u32::from(weight_bits(t));
    let sc = t.synapse_cost();
    let mut c = ConnCost {
        mode,
        axons: 0,
        bits: 0,
        routes: 0,
        route_slots: 0,
        synapses: pairs.len() as u64,
        format: None,
    };
    let mut i = 0;
    while i < pairs.len() {
        let s = pairs[i].0;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == s {
            j += 1;
        }
        c.axons += 1;
        c.bits += match mode {
            AxonMode::DiscreteRun => {
                // A discrete axon has no compartment base: its dense run
                // starts at compartment 0.
                let span = (pairs[j - 1].1 + 1) as usize;
                sc.bits(span, wb, 0)
            }
            _ => sc.bits(j - i, wb, sc.core_index_bits()),
        };
        i = j;
    }
    c.routes = c.axons;
    c.route_slots = c.routes * u64::from(t.axons().discrete().slots());
    if c.axons > 0 {
        c.format = Some((weight_exp, wb as u8, mode.indexed()));
    }
    c
}

/// Per-connection scratch of a block under evaluation (conv combos are
/// shared by the modes of one connection).
pub(crate) enum ConnScratch {
    Conv(ConvCombos),
    Rows,
}

pub(crate) fn conn_scratch(prep: &Prepared<'_>, pop: usize, conn: usize, tile: &Tile) -> ConnScratch {
    match &prep.conns[pop][conn] {
        ConnPrep::Conv(cp) => ConnScratch::Conv(ConvCombos::new(cp, tile)),
        ConnPrep::Rows(_) => ConnScratch::Rows,
    }
}

/// The cost of connection `conn` of population `pop` into a block laid out
/// as `lay`, in `mode` (which must be legal).
pub(crate) fn conn_cost(
    prep: &Prepared<'_>,
    t: &Target,
    pop: usize,
    conn: usize,
    scratch: &ConnScratch,
    lay: &Layout,
    mode: AxonMode,
) -> ConnCost {
    let we = prep.model.populations[pop].inputs[conn].weight_exp;
    match (&prep.conns[pop][conn], scratch) {
        (ConnPrep::Conv(cp), ConnScratch::Conv(combos)) => conv_cost(cp, combos, t, we, lay, mode),
        (ConnPrep::Rows(rp), _) => rows_cost(rp, prep.views[pop], t, we, lay, mode),
        (ConnPrep::Conv(cp), ConnScratch::Rows) => {
            let combos = ConvCombos::new(cp, &lay.tile);
            conv_cost(cp, &combos, t, we, lay, mode)
        }
    }
}

fn distinct<T: Ord + Copy>(p: &PerNeuron<T>, idx: &[usize]) -> Vec<T> {
    let mut v: Vec<T> = match p {
        PerNeuron::Uniform(x) => vec![*x],
        PerNeuron::Each(_) => idx.iter().map(|&i| p.get(i)).collect(),
    };
    v.sort_unstable();
    v.dedup();
    v
}

/// Flat neuron indices of a tile of a population with view `view`.
pub(crate) fn tile_neurons(view: [usize; 3], tile: &Tile) -> Vec<usize> {
    let [_, h, w] = view;
    let mut v = Vec::with_capacity(tile.len() as usize);
    for c in tile.c.start..tile.c.end {
        for y in tile.y.start..tile.y.end {
            for x in tile.x.start..tile.x.end {
                v.push((c as usize * h + y as usize) * w + x as usize);
            }
        }
    }
    v
}

/// Profiles of a tile: (compartment profiles, thresholds, voltage limits).
pub(crate) type TileProfiles = (Vec<(u16, u16, u8)>, Vec<i32>, Vec<(u8, u8)>);

pub(crate) fn tile_profiles(p: &QPopulation, view: [usize; 3], tile: &Tile) -> TileProfiles {
    let c = &p.compartment;
    let any_each = [
        c.decay_u.stored_len(),
        c.decay_v.stored_len(),
        c.refractory.stored_len(),
        c.vth_mant.stored_len(),
    ]
    .iter()
    .any(|&l| l > 1);
    let idx = if any_each { tile_neurons(view, tile) } else { vec![0] };
    let mut cxp: Vec<(u16, u16, u8)> = match (&c.decay_u, &c.decay_v, &c.refractory) {
        (PerNeuron::Uniform(a), PerNeuron::Uniform(b), PerNeuron::Uniform(r)) => vec![(*a, *b, *r)],
        _ => idx
            .iter()
            .map(|&i| (c.decay_u.get(i), c.decay_v.get(i), c.refractory.get(i)))
            .collect(),
    };
    cxp.sort_unstable();
    cxp.dedup();
    (cxp, distinct(&c.vth_mant, &idx), vec![(c.vmin_exp, c.vmax_exp)])
}

/// The parts of a placed block.
pub(crate) fn block_parts(prep: &Prepared<'_>, t: &Target, pop: usize, b: &Block) -> BlockParts {
    let lay = Layout::of(b);
    let p = &prep.model.populations[pop];
    let (cx_profiles, vth, vlimits) = tile_profiles(p, prep.views[pop], &b.tile);
    let conns = (0..p.inputs.len())
        .map(|ci| {
            let sc = conn_scratch(prep, pop, ci, &b.tile);
            conn_cost(prep, t, pop, ci, &sc, &lay, b.modes[ci])
        })
        .collect();
    BlockParts {
        compartments: b.tile.len(),
        conns,
        cx_profiles,
        vth,
        vlimits,
    }
}

/// Combines the parts of a core's blocks (plus its output slots).
pub(crate) fn combine<'b>(parts: impl IntoIterator<Item = &'b BlockParts>, output_slots: u64) -> CoreUsage {
    let mut u = CoreUsage {
        output_slots,
        ..Default::default()
    };
    let mut fmts: Vec<FmtKey> = Vec::new();
    let mut cxp = Vec::new();
    let mut vth = Vec::new();
    let mut vl = Vec::new();
    for p in parts {
        u.compartments += p.compartments;
        for c in &p.conns {
            u.input_axons += c.axons;
            u.synapse_bits += c.bits;
            fmts.extend(c.format);
        }
        cxp.extend_from_slice(&p.cx_profiles);
        vth.extend_from_slice(&p.vth);
        vl.extend_from_slice(&p.vlimits);
    }
    fn count<T: Ord>(mut v: Vec<T>) -> u64 {
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    }
    u.synapse_formats = count(fmts);
    u.compartment_profiles = count(cxp);
    u.threshold_profiles = count(vth);
    u.voltage_limits = count(vl);
    u
}

/// Every route into one input connection of a block: calls `f(source
/// element, output slots of the route)` once per route.
pub(crate) fn for_each_route(
    prep: &Prepared<'_>,
    t: &Target,
    pop: usize,
    b: &Block,
    ci: usize,
    mut f: impl FnMut(usize, u32),
) {
    let lay = Layout::of(b);
    let mode = b.modes[ci];
    match &prep.conns[pop][ci] {
        ConnPrep::Conv(cp) => {
            let combos = ConvCombos::new(cp, &b.tile);
            let ncp = combos.cols.pats.len();
            match mode {
                AxonMode::Population16 | AxonMode::Population32 => {
                    let kind = t.axons().kind(mode.kind());
                    let c0 = b.tile.c.start as usize;
                    let tw = b.tile.x.len();
                    let g = b.inner.max(1);
                    for ch in chunks(combos.i0, combos.i1, kind.max_atoms()) {
                        let cf = chunk_first_out(cp, ch, c0);
                        let m0 = lay.offset + layout_index(b.tile.shape(), b.inner, (cf - c0) as u32, 0, 0);
                        let atoms = (ch.1 - ch.0) as u64;
                        let mut ent: Vec<Option<bool>> = vec![None; combos.rows.pats.len() * ncp];
                        for &(iy, rp, oy) in &combos.rows.coords {
                            for &(ix, cpi, ox) in &combos.cols.coords {
                                let any = *ent[rp as usize * ncp + cpi as usize]
                                    .get_or_insert_with(|| (ch.0..ch.1).any(|x| combos.get(rp, cpi, x) > 0));
                                if !any {
                                    continue;
                                }
                                let m = m0 + g * ((oy - b.tile.y.start) * tw + (ox - b.tile.x.start));
                                let (base, _) = base_of(m, kind);
                                let slots = pop_axon_slots(t, base, atoms);
                                for chn in ch.0..ch.1 {
                                    if combos.get(rp, cpi, chn) > 0 {
                                        f(cp.g.src(chn, iy as usize, ix as usize), slots);
                                    }
                                }
                            }
                        }
                    }
                }
                AxonMode::Discrete | AxonMode::DiscreteRun => {
                    let slots = t.axons().discrete().slots();
                    for &(iy, rp, _) in &combos.rows.coords {
                        for &(ix, cpi, _) in &combos.cols.coords {
                            for chn in combos.i0..combos.i1 {
                                if combos.get(rp, cpi, chn) > 0 {
                                    f(cp.g.src(chn, iy as usize, ix as usize), slots);
                                }
                            }
                        }
                    }
                }
            }
        }
        ConnPrep::Rows(rp) => {
            let slots = t.axons().discrete().slots();
            let pairs = rows_pairs(rp, prep.views[pop], &lay);
            let mut last = u32::MAX;
            for &(src, _, _) in &pairs {
                if src != last {
                    f(src as usize, slots);
                    last = src;
                }
            }
        }
    }
}

/// Output slots a source element needs, per population and neuron, given
/// the blocks placed so far; `add_block_slots` adds one block's share.
pub(crate) fn add_block_slots(prep: &Prepared<'_>, t: &Target, pop: usize, b: &Block, needs: &mut [Vec<u32>]) {
    adjust_block_slots(prep, t, pop, b, needs, true);
}

/// Adds (`add`) or removes one block's share of its sources' output slots.
pub(crate) fn adjust_block_slots(
    prep: &Prepared<'_>,
    t: &Target,
    pop: usize,
    b: &Block,
    needs: &mut [Vec<u32>],
    add: bool,
) {
    let p = &prep.model.populations[pop];
    for (ci, conn) in p.inputs.iter().enumerate() {
        let Source::Population(s) = conn.source else {
            continue;
        };
        if needs[s].is_empty() {
            continue;
        }
        let v = &mut needs[s];
        for_each_route(prep, t, pop, b, ci, |src, slots| {
            if add {
                v[src] += slots;
            } else {
                v[src] = v[src].saturating_sub(slots);
            }
        });
    }
}

/// Per population (chip populations only; empty for host ones) and neuron,
/// the output slots its routes take.
pub(crate) fn slot_needs(prep: &Prepared<'_>, t: &Target, pl: &Placement) -> Vec<Vec<u32>> {
    let mut needs: Vec<Vec<u32>> = prep
        .model
        .populations
        .iter()
        .map(|p| {
            if p.placement == nmc_ir::qmodel::Placement::Chip {
                vec![0; p.shape.numel()]
            } else {
                Vec::new()
            }
        })
        .collect();
    for (k, l) in pl.layers.iter().enumerate() {
        if let crate::placement::LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                add_block_slots(prep, t, k, b, &mut needs);
            }
        }
    }
    needs
}

/// Sum of `needs` over a tile of a population.
pub(crate) fn tile_slots(needs: &[u32], view: [usize; 3], tile: &Tile) -> u64 {
    if needs.is_empty() {
        return 0;
    }
    let [_, h, w] = view;
    let mut s = 0u64;
    for c in tile.c.start..tile.c.end {
        for y in tile.y.start..tile.y.end {
            let row = (c as usize * h + y as usize) * w;
            s += needs[row + tile.x.start as usize..row + tile.x.end as usize]
                .iter()
                .map(|&x| u64::from(x))
                .sum::<u64>();
        }
    }
    s
}

/// Usage of every core of a placement (blocks must reference cores in range).
pub(crate) fn usage_of(prep: &Prepared<'_>, t: &Target, pl: &Placement) -> Vec<CoreUsage> {
    let needs = slot_needs(prep, t, pl);
    let mut parts: Vec<Vec<BlockParts>> = vec![Vec::new(); pl.cores.len()];
    let mut slots = vec![0u64; pl.cores.len()];
    for (k, l) in pl.layers.iter().enumerate() {
        if let crate::placement::LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                let c = b.core as usize;
                if c >= parts.len() {
                    continue;
                }
                parts[c].push(block_parts(prep, t, k, b));
                slots[c] += tile_slots(&needs[k], prep.views[k], &b.tile);
            }
        }
    }
    parts.iter().zip(slots).map(|(p, s)| combine(p, s)).collect()
}
