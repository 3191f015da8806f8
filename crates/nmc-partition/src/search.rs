//! The search: tile shapes per layer, axon modes per connection, blocks to
//! cores, cores to chips (docs/partition.md, "Search").

use crate::bound::{chip_source, core_traffic, layer_lower_bound};
use crate::cost::{
    BlockParts, ConnCost, ConnScratch, Layout, adjust_block_slots, combine, conn_cost, conn_scratch, mode_legal,
    tile_profiles, tile_slots,
};
use crate::error::PartitionError;
use crate::options::PartitionOptions;
use crate::placement::{AxonMode, Block, CoreId, LayerPlacement, PLACEMENT_SCHEMA, Placement, Span, Tile};
use crate::prep::{ConnPrep, Prepared, check_buildable};
use crate::report::PartitionReport;
use crate::report::build::{build, partial};
use crate::resource::{CoreUsage, Resource};
use crate::tiling::{Fail, LayerSearch, Tiling};
use nmc_ir::qmodel::{Placement as Where, QModel, Source};
use nmc_target::Target;
use std::collections::HashMap;

/// Passes over the layers when output slots of back edges change a tiling.
const MAX_PASSES: usize = 8;
/// Tile shapes evaluated after the first that fits.
const MAX_AFTER_FIRST: usize = 400;
/// Recent cores a small block may join.
const PACK_WINDOW: usize = 16;
/// Mode combinations enumerated per block before choosing greedily.
const MAX_COMBOS: usize = 256;

/// The chosen configuration of one tile.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub ok: bool,
    pub inner: u32,
    pub modes: Vec<AxonMode>,
    pub usage: CoreUsage,
    pub parts: BlockParts,
    /// (route slots, largest and summed utilisation ppm, axons): smaller is better.
    key: (u64, u64, u64, u64),
}

type ConnOptions = Vec<(u32, Vec<Vec<ConnCost>>)>;

struct PopCtx<'p, 'a> {
    prep: &'p Prepared<'a>,
    t: &'p Target,
    k: usize,
    needs: &'p [u32],
    /// Chip populations this one reads (other than itself): (population,
    /// output slots its neurons already need, cores it needs anyway).
    pressure: Vec<(usize, u64, u64)>,
    conv_only: bool,
    cache: HashMap<Vec<u32>, std::rc::Rc<ConnOptions>>,
    tile_cache: HashMap<Tile, Result<Choice, Fail>>,
    evals: u64,
}

impl<'p, 'a> PopCtx<'p, 'a> {
    fn new(prep: &'p Prepared<'a>, t: &'p Target, k: usize, needs: &'p [u32]) -> Self {
        let conv_only = prep.conns[k].iter().all(|c| matches!(c, ConnPrep::Conv(_)));
        PopCtx {
            prep,
            t,
            k,
            needs,
            pressure: Vec::new(),
            conv_only,
            cache: HashMap::new(),
            tile_cache: HashMap::new(),
            evals: 0,
        }
    }

    fn inners(&self, tile: &Tile) -> Vec<u32> {
        let v = self.prep.views[self.k];
        if v[1] * v[2] == 1 {
            return vec![1];
        }
        let tc = tile.c.len();
        let bm = self.t.axons().population16().base_multiple();
        let mut out = vec![1, tc];
        if bm > 1 && bm < tc && tc.is_multiple_of(bm) {
            out.push(bm);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Cache key: translation class of the tile for conv-only populations.
    fn class_key(&self, tile: &Tile) -> Vec<u32> {
        let mut key = vec![tile.c.start, tile.c.end];
        if !self.conv_only {
            key.extend([tile.y.start, tile.y.end, tile.x.start, tile.x.end]);
            return key;
        }
        for c in &self.prep.conns[self.k] {
            if let ConnPrep::Conv(cp) = c {
                for (dim, span) in cp.g.dims().iter().zip([tile.y, tile.x]) {
                    let lo = (span.start as usize * dim.s) as isize - dim.p as isize;
                    let hi_end = ((span.end as usize - 1) * dim.s + (dim.k - 1) * dim.d + 1) as isize - dim.p as isize;
                    key.push(span.len());
                    key.push((-lo).max(0) as u32);
                    key.push((hi_end - dim.din as isize).max(0) as u32);
                }
            }
        }
        key
    }

    fn options(&mut self, tile: &Tile, offset: u32) -> std::rc::Rc<ConnOptions> {
        let key = if offset == 0 { Some(self.class_key(tile)) } else { None };
        if let Some(k) = &key
            && let Some(o) = self.cache.get(k)
        {
            return o.clone();
        }
        self.evals += 1;
        let p = &self.prep.model.populations[self.k];
        let scratches: Vec<ConnScratch> = (0..p.inputs.len())
            .map(|ci| conn_scratch(self.prep, self.k, ci, tile))
            .collect();
        let mut out = Vec::new();
        for inner in self.inners(tile) {
            let lay = Layout {
                tile: *tile,
                inner,
                offset,
            };
            let per_conn: Vec<Vec<ConnCost>> = (0..p.inputs.len())
                .map(|ci| {
                    AxonMode::ALL
                        .iter()
                        .filter(|&&m| mode_legal(&self.prep.conns[self.k][ci], m, self.t))
                        .map(|&m| conn_cost(self.prep, self.t, self.k, ci, &scratches[ci], &lay, m))
                        .collect()
                })
                .collect();
            out.push((inner, per_conn));
        }
        let rc = std::rc::Rc::new(out);
        if let Some(k) = key {
            self.cache.insert(k, rc.clone());
        }
        rc
    }

    fn fixed(&self, tile: &Tile) -> (BlockParts, u64) {
        let p = &self.prep.model.populations[self.k];
        let view = self.prep.views[self.k];
        let (cx_profiles, vth, vlimits) = tile_profiles(p, view, tile);
        (
            BlockParts {
                compartments: tile.len(),
                conns: Vec::new(),
                cx_profiles,
                vth,
                vlimits,
            },
            tile_slots(self.needs, view, tile),
        )
    }

    /// Best configuration of `tile` at `offset` on a core already holding `base`.
    fn eval(&mut self, tile: &Tile, offset: u32, base: &[&BlockParts], base_slots: u64) -> Result<Choice, Fail> {
        let cacheable = offset == 0 && base.is_empty();
        if cacheable && let Some(r) = self.tile_cache.get(tile) {
            return r.clone();
        }
        let opts = self.options(tile, offset);
        let (fixed, slots) = self.fixed(tile);
        let r = choose(self.t, base, base_slots, &fixed, slots, &opts);
        let r = if r.ok {
            Ok(r)
        } else {
            let (resource, need, offer) = r.usage.over(self.t).unwrap_or((Resource::Compartments, 0, 0));
            Err(Fail {
                resource,
                need,
                offer,
                detail: format!(
                    "a tile of {:?} (channels × rows × columns) needs too much",
                    tile.shape()
                ),
            })
        };
        if cacheable {
            self.tile_cache.insert(*tile, r.clone());
        }
        r
    }
}

fn slots_of(_t: &Target, c: &ConnCost) -> u64 {
    c.route_slots
}

fn choice_key(t: &Target, u: &CoreUsage, conns: &[ConnCost]) -> (u64, u64, u64, u64) {
    let route_slots = conns.iter().map(|c| slots_of(t, c)).sum();
    let utils = [Resource::InputAxons, Resource::SynapseBits, Resource::SynapseFormats].map(|r| u.utilisation(t, r));
    let max = utils.iter().copied().fold(0.0, f64::max);
    let sum: f64 = utils.iter().sum();
    (route_slots, (max * 1e6) as u64, (sum * 1e6) as u64, u.input_axons)
}

/// Picks an inner order and one mode per connection: among the
/// combinations that fit, the fewest output slots on the sources, then the
/// lowest utilisation of axons / synapse memory / formats, then the fewest
/// axons; if none fits, the lowest largest utilisation.
fn choose(
    t: &Target,
    base: &[&BlockParts],
    base_slots: u64,
    fixed: &BlockParts,
    slots: u64,
    opts: &ConnOptions,
) -> Choice {
    let mut best: Option<Choice> = None;
    let mut best_bad: Option<(u64, Choice)> = None;
    for (inner, per_conn) in opts.iter() {
        let n: usize = per_conn.iter().map(|o| o.len().max(1)).product();
        let combos: Vec<Vec<usize>> = if n <= MAX_COMBOS {
            let mut v = Vec::with_capacity(n);
            let mut idx = vec![0usize; per_conn.len()];
            loop {
                v.push(idx.clone());
                let mut i = 0;
                while i < idx.len() {
                    idx[i] += 1;
                    if idx[i] < per_conn[i].len() {
                        break;
                    }
                    idx[i] = 0;
                    i += 1;
                }
                if i == idx.len() {
                    break;
                }
            }
            v
        } else {
            // Greedy: each connection on its own, by memory then axons.
            vec![
                per_conn
                    .iter()
                    .map(|o| {
                        (0..o.len())
                            .min_by_key(|&j| (slots_of(t, &o[j]), o[j].bits, o[j].axons))
                            .unwrap_or(0)
                    })
                    .collect(),
            ]
        };
        for combo in combos {
            let conns: Vec<ConnCost> = combo.iter().zip(per_conn).map(|(&j, o)| o[j]).collect();
            let mine = BlockParts {
                conns: conns.clone(),
                ..fixed.clone()
            };
            let usage = combine(base.iter().copied().chain(std::iter::once(&mine)), base_slots + slots);
            let key = choice_key(t, &usage, &conns);
            let c = Choice {
                ok: usage.over(t).is_none(),
                inner: *inner,
                modes: conns.iter().map(|c| c.mode).collect(),
                usage,
                parts: mine,
                key,
            };
            if c.ok {
                if best.as_ref().is_none_or(|b| c.key < b.key) {
                    best = Some(c);
                }
            } else {
                let u = (usage.max_utilisation(t) * 1e6) as u64;
                if best_bad.as_ref().is_none_or(|(bu, _)| u < *bu) {
                    best_bad = Some((u, c));
                }
            }
        }
    }
    match (best, best_bad) {
        (Some(b), _) => b,
        (None, Some((_, b))) => b,
        (None, None) => Choice {
            ok: false,
            inner: 1,
            modes: Vec::new(),
            usage: CoreUsage::default(),
            parts: fixed.clone(),
            key: (0, 0, 0, 0),
        },
    }
}

/// `{ceil(d / n) : n = 1..=d}`, increasing.
fn balanced_sizes(d: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (1..=d).map(|n| d.div_ceil(n)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn spans(d: u32, t: u32) -> Vec<Span> {
    (0..d.div_ceil(t))
        .map(|i| Span::new(i * t, ((i + 1) * t).min(d)))
        .collect()
}

/// Tiles of a grid, rows then columns then channels, so that neighbouring
/// blocks are spatially close.
fn grid(view: [u32; 3], shape: [u32; 3]) -> Vec<Tile> {
    let (cs, ys, xs) = (
        spans(view[0], shape[0]),
        spans(view[1], shape[1]),
        spans(view[2], shape[2]),
    );
    let mut v = Vec::with_capacity(cs.len() * ys.len() * xs.len());
    for &y in &ys {
        for &x in &xs {
            for &c in &cs {
                v.push(Tile { c, y, x });
            }
        }
    }
    v
}

struct GridEval {
    tiles: Vec<(Tile, Choice)>,
    axons: u64,
    /// Output slots the tiles' routes take on each source of `pressure`.
    src_slots: Vec<u64>,
}

impl GridEval {
    /// Cores the sources will need beyond what they need anyway, because of
    /// the output slots this tiling's routes take on them.
    fn penalty(&self, ctx: &PopCtx<'_, '_>) -> u64 {
        let lim = u64::from(ctx.t.core().max_output_axon_slots());
        ctx.pressure
            .iter()
            .zip(&self.src_slots)
            .map(|(&(_, existing, lb), &mine)| {
                let base = lb.max(existing.div_ceil(lim));
                (existing + mine).div_ceil(lim).saturating_sub(base)
            })
            .sum()
    }
}

fn eval_grid(ctx: &mut PopCtx<'_, '_>, view: [u32; 3], shape: [u32; 3]) -> Result<GridEval, Fail> {
    let tiles = grid(view, shape);
    // The hardest tile first: a full-size interior one.
    let mid = tiles
        .iter()
        .position(|t| {
            t.c.start == 0
                && t.y.start / shape[1].max(1) == view[1].div_ceil(shape[1]) / 2
                && t.x.start / shape[2].max(1) == view[2].div_ceil(shape[2]) / 2
        })
        .unwrap_or(0);
    ctx.eval(&tiles[mid], 0, &[], 0)?;
    let mut out = Vec::with_capacity(tiles.len());
    let mut axons = 0;
    let mut src_slots = vec![0u64; ctx.pressure.len()];
    let inputs = &ctx.prep.model.populations[ctx.k].inputs;
    for t in tiles {
        let c = ctx.eval(&t, 0, &[], 0)?;
        axons += c.usage.input_axons;
        for (ci, cc) in c.parts.conns.iter().enumerate() {
            if let Source::Population(s) = inputs[ci].source
                && let Some(i) = ctx.pressure.iter().position(|p| p.0 == s)
            {
                src_slots[i] += slots_of(ctx.t, cc);
            }
        }
        out.push((t, c));
    }
    Ok(GridEval {
        tiles: out,
        axons,
        src_slots,
    })
}

fn to_tiling(ctx: &PopCtx<'_, '_>, g: GridEval, shape: [u32; 3], candidates: u64) -> Tiling {
    let mut blocks = Vec::with_capacity(g.tiles.len());
    let mut usage = Vec::with_capacity(g.tiles.len());
    for (tile, c) in g.tiles {
        usage.push(c.usage);
        blocks.push(Block {
            tile,
            core: 0,
            offset: 0,
            inner: c.inner,
            modes: c.modes,
        });
    }
    let search = LayerSearch {
        tile_shape: shape,
        candidates,
        evaluations: ctx.evals,
    };
    Tiling { blocks, usage, search }
}

fn tile_conv(ctx: &mut PopCtx<'_, '_>) -> Result<Tiling, Fail> {
    let v = ctx.prep.views[ctx.k];
    let view = [v[0] as u32, v[1] as u32, v[2] as u32];
    let maxcx = u64::from(ctx.t.core().max_compartments());
    // A single neuron must fit.
    let one = Tile {
        c: Span::new(0, 1),
        y: Span::new(view[1] / 2, view[1] / 2 + 1),
        x: Span::new(view[2] / 2, view[2] / 2 + 1),
    };
    ctx.eval(&one, 0, &[], 0).map_err(|f| single_neuron(ctx, f))?;
    let (sc, sy, sx) = (
        balanced_sizes(view[0]),
        balanced_sizes(view[1]),
        balanced_sizes(view[2]),
    );
    let mut cands: Vec<(u64, [u32; 3])> = Vec::new();
    for &tc in &sc {
        for &th in &sy {
            for &tw in &sx {
                if u64::from(tc) * u64::from(th) * u64::from(tw) > maxcx {
                    continue;
                }
                let n =
                    u64::from(view[0].div_ceil(tc)) * u64::from(view[1].div_ceil(th)) * u64::from(view[2].div_ceil(tw));
                cands.push((n, [tc, th, tw]));
            }
        }
    }
    // Fewest cores first; among equals, the squarest spatial tiles first.
    cands.sort_by_key(|&(n, [tc, th, tw])| (n, th.abs_diff(tw), std::cmp::Reverse(th * tw), tc));
    // Objective: this layer's cores plus the cores its routes add to its
    // sources (through their output slots); then the fewest axons.
    let mut best: Option<(u64, u64, GridEval, [u32; 3])> = None;
    let mut after = 0;
    let mut last_fail: Option<Fail> = None;
    let mut tried = 0u64;
    for &(n, shape) in &cands {
        if let Some((bj, ..)) = &best {
            if n > *bj || after >= MAX_AFTER_FIRST {
                break;
            }
            after += 1;
        }
        tried += 1;
        match eval_grid(ctx, view, shape) {
            Ok(g) => {
                let j = n + g.penalty(ctx);
                if best.as_ref().is_none_or(|(bj, ba, ..)| (j, g.axons) < (*bj, *ba)) {
                    best = Some((j, g.axons, g, shape));
                }
            }
            Err(f) => last_fail = Some(f),
        }
    }
    match best {
        Some((_, _, g, shape)) => Ok(to_tiling(ctx, g, shape, tried)),
        None => Err(last_fail.unwrap_or(Fail {
            resource: Resource::Compartments,
            need: 1,
            offer: maxcx,
            detail: "no tile shape fits".into(),
        })),
    }
}

fn single_neuron(ctx: &PopCtx<'_, '_>, f: Fail) -> Fail {
    let p = &ctx.prep.model.populations[ctx.k];
    Fail {
        detail: format!(
            "a single neuron of the layer ({} neurons) needs {} {} alone; a core offers {}",
            p.shape.numel(),
            f.need,
            f.resource,
            f.offer
        ),
        ..f
    }
}

fn tile_flat(ctx: &mut PopCtx<'_, '_>) -> Result<Tiling, Fail> {
    let v = ctx.prep.views[ctx.k];
    let n = (v[0] * v[1] * v[2]) as u32;
    let view = [n, 1, 1];
    let maxcx = ctx.t.core().max_compartments();
    let mut size = maxcx.min(n).max(1);
    let mut tried = 0;
    loop {
        // Balanced tiles of at most `size` neurons.
        let size_eff = n.div_ceil(n.div_ceil(size));
        tried += 1;
        let shape = [size_eff, 1, 1];
        match eval_grid(ctx, view, shape) {
            Ok(g) => return Ok(to_tiling(ctx, g, shape, tried)),
            Err(f) => {
                if size_eff == 1 {
                    return Err(single_neuron(ctx, f));
                }
                let util = (f.need as f64 / f.offer.max(1) as f64).max(1.0);
                size = ((f64::from(size_eff) / util).floor() as u32).clamp(1, size_eff - 1);
            }
        }
    }
}

/// Tiles population `k` given the output slots its neurons need.
pub(crate) fn tile_population(
    prep: &Prepared<'_>,
    t: &Target,
    k: usize,
    needs: &[u32],
    pressure: Vec<(usize, u64, u64)>,
) -> Result<Tiling, Fail> {
    let mut ctx = PopCtx::new(prep, t, k, needs);
    ctx.pressure = pressure;
    if prep.model.populations[k].shape.numel() == 0 {
        return Ok(Tiling {
            blocks: Vec::new(),
            usage: Vec::new(),
            search: LayerSearch::default(),
        });
    }
    let conv = prep.conns[k].iter().any(|c| matches!(c, ConnPrep::Conv(_)));
    let mut r = if conv { tile_conv(&mut ctx) } else { tile_flat(&mut ctx) };
    if let Ok(tl) = &mut r {
        tl.search.evaluations = ctx.evals;
    }
    r
}

fn slots_fit(prep: &Prepared<'_>, t: &Target, k: usize, tl: &Tiling, needs: &[u32]) -> bool {
    let lim = u64::from(t.core().max_output_axon_slots());
    tl.blocks
        .iter()
        .all(|b| tile_slots(needs, prep.views[k], &b.tile) <= lim)
}

fn check_rates(model: &QModel, opts: &PartitionOptions) -> Result<(), PartitionError> {
    if let Some(r) = &opts.rates {
        if r.len() != model.populations.len() {
            return Err(PartitionError::Options(format!(
                "rates has {} populations, the model {}",
                r.len(),
                model.populations.len()
            )));
        }
        for (p, v) in model.populations.iter().zip(r) {
            if v.len() != p.shape.numel() || v.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(PartitionError::Options(format!(
                    "rates of `{}`: need {} finite non-negative values, got {}",
                    p.name,
                    p.shape.numel(),
                    v.len()
                )));
            }
        }
    }
    Ok(())
}

/// Places `model` on `target`: tiles every chip population, picks axon
/// modes, packs blocks into cores and cores into chips (see
/// docs/partition.md). Deterministic. On failure the error carries the
/// report up to the failing layer.
pub fn partition(
    model: &QModel,
    target: &Target,
    opts: &PartitionOptions,
) -> Result<(Placement, PartitionReport), PartitionError> {
    let prep = Prepared::new(model)?;
    check_buildable(model, target)?;
    check_rates(model, opts)?;
    let np = model.populations.len();
    let chip: Vec<usize> = (0..np)
        .filter(|&k| model.populations[k].placement == Where::Chip)
        .collect();
    let mut needs: Vec<Vec<u32>> = model
        .populations
        .iter()
        .map(|p| {
            if p.placement == Where::Chip {
                vec![0; p.shape.numel()]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut tilings: Vec<Option<Tiling>> = vec![None; np];
    let lbs: Vec<u64> = (0..np)
        .map(|k| {
            if model.populations[k].placement == Where::Chip {
                layer_lower_bound(&prep, target, k).0
            } else {
                0
            }
        })
        .collect();
    let fail_report = |tilings: &[Option<Tiling>], k: usize, f: Fail| -> PartitionError {
        let rep = partial(&prep, target, opts, tilings, Some((k, &f)));
        PartitionError::NotFit {
            layer: model.populations[k].name.clone(),
            resource: f.resource.name().to_string(),
            need: f.need,
            offer: f.offer,
            detail: f.detail,
            report: Box::new(rep),
        }
    };
    for _pass in 0..MAX_PASSES {
        let mut changed = false;
        for &k in chip.iter().rev() {
            if let Some(tl) = &tilings[k]
                && slots_fit(&prep, target, k, tl, &needs[k])
            {
                continue;
            }
            if let Some(old) = tilings[k].take() {
                for b in &old.blocks {
                    adjust_block_slots(&prep, target, k, b, &mut needs, false);
                }
            }
            let mut sources: Vec<usize> = model.populations[k]
                .inputs
                .iter()
                .filter_map(|c| chip_source(model, c.source))
                .filter(|&s| s != k)
                .collect();
            sources.sort_unstable();
            sources.dedup();
            let pressure = sources
                .into_iter()
                .map(|s| (s, needs[s].iter().map(|&x| u64::from(x)).sum(), lbs[s]))
                .collect();
            let tl = match tile_population(&prep, target, k, &needs[k], pressure) {
                Ok(tl) => tl,
                Err(f) => return Err(fail_report(&tilings, k, f)),
            };
            for b in &tl.blocks {
                adjust_block_slots(&prep, target, k, b, &mut needs, true);
            }
            tilings[k] = Some(tl);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    for &k in &chip {
        if let Some(tl) = &tilings[k]
            && !slots_fit(&prep, target, k, tl, &needs[k])
        {
            let lim = u64::from(target.core().max_output_axon_slots());
            let worst = tl
                .blocks
                .iter()
                .map(|b| tile_slots(&needs[k], prep.views[k], &b.tile))
                .max()
                .unwrap_or(0);
            let f = Fail {
                resource: Resource::OutputSlots,
                need: worst,
                offer: lim,
                detail: "the output slots of a recurrent connection do not settle".into(),
            };
            return Err(fail_report(&tilings, k, f));
        }
    }
    // Blocks to cores, packing small blocks into recent cores. Packing
    // re-chooses a joining block's axons at its new offset, which can change
    // the output slots its routes take on its sources: if any core then
    // holds more slots than allowed, blocks are assembled without packing
    // (which reproduces the tilings exactly).
    let (mut n, mut layers, packed) =
        assemble(&prep, target, &tilings, &needs, true).map_err(|(k, f)| fail_report(&tilings, k, f))?;
    if packed {
        let trial = Placement {
            schema: PLACEMENT_SCHEMA.into(),
            model: model.name.clone(),
            target: target.name().into(),
            cores: vec![CoreId { chip: 0, core: 0 }; n],
            layers: layers.clone(),
        };
        if !slots_within(&prep, target, &trial) {
            (n, layers, _) =
                assemble(&prep, target, &tilings, &needs, false).map_err(|(k, f)| fail_report(&tilings, k, f))?;
        }
    }
    // Cores to chips.
    let cpc = target.system().cores_per_chip() as usize;
    let chips_needed = n.div_ceil(cpc).max(1);
    if chips_needed > target.system().max_chips() as usize || n as u64 > target.system().max_cores() {
        let k = chip.last().copied().unwrap_or(0);
        let f = Fail {
            resource: Resource::Compartments,
            need: n as u64,
            offer: target.system().max_cores(),
            detail: format!(
                "the model needs {n} cores; {} chips × {} cores offer {}",
                target.system().max_chips(),
                cpc,
                target.system().max_cores()
            ),
        };
        let mut e = fail_report(&tilings, k, f);
        if let PartitionError::NotFit { layer, resource, .. } = &mut e {
            *layer = "<model>".into();
            *resource = "cores".into();
        }
        return Err(e);
    }
    let mut pl = Placement {
        schema: PLACEMENT_SCHEMA.into(),
        model: model.name.clone(),
        target: target.name().into(),
        cores: (0..n)
            .map(|i| CoreId {
                chip: (i / cpc) as u16,
                core: (i % cpc) as u16,
            })
            .collect(),
        layers,
    };
    let traffic = core_traffic(&prep, target, &pl, opts.rates.as_deref());
    if chips_needed > 1 {
        let chip_of = assign_chips(n, cpc, chips_needed, &traffic);
        // Renumber: cores sorted by (chip, old index).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (chip_of[i], i));
        let mut new_of = vec![0u32; n];
        let mut per_chip = vec![0u16; chips_needed];
        let mut ids = Vec::with_capacity(n);
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new as u32;
            let c = chip_of[old];
            ids.push(CoreId {
                chip: c as u16,
                core: per_chip[c],
            });
            per_chip[c] += 1;
        }
        pl.cores = ids;
        for l in &mut pl.layers {
            if let LayerPlacement::Chip { blocks, .. } = l {
                for b in blocks {
                    b.core = new_of[b.core as usize];
                }
            }
        }
    }
    let searches: Vec<Option<LayerSearch>> = tilings.iter().map(|t| t.as_ref().map(|t| t.search.clone())).collect();
    let rep = build(&prep, target, opts, &pl, &searches);
    Ok((pl, rep))
}

/// Blocks to cores: every tile on its own core, or (`pack`) small blocks
/// (at most half of every limit) joining one of the recent cores when the
/// union fits. Returns the core count, the layers and whether any block
/// joined another's core.
fn assemble(
    prep: &Prepared<'_>,
    target: &Target,
    tilings: &[Option<Tiling>],
    needs: &[Vec<u32>],
    pack: bool,
) -> Result<(usize, Vec<LayerPlacement>, bool), (usize, Fail)> {
    let mut cores: Vec<CoreSlot> = Vec::new();
    let mut packed = false;
    let mut layers: Vec<LayerPlacement> = Vec::with_capacity(tilings.len());
    for (k, tl) in tilings.iter().enumerate() {
        let Some(tl) = tl else {
            layers.push(LayerPlacement::Host);
            continue;
        };
        let mut ctx = PopCtx::new(prep, target, k, &needs[k]);
        let mut blocks = Vec::with_capacity(tl.blocks.len());
        for (b, u) in tl.blocks.iter().zip(&tl.usage) {
            let small = pack && u.max_utilisation(target) <= 0.5;
            let mut placed = None;
            if small {
                let lo = cores.len().saturating_sub(PACK_WINDOW);
                for ci in (lo..cores.len()).rev() {
                    let core = &cores[ci];
                    let base: Vec<&BlockParts> = core.parts.iter().collect();
                    let offset = core.compartments as u32;
                    if let Ok(c) = ctx.eval(&b.tile, offset, &base, core.slots) {
                        placed = Some((ci, offset, c));
                        break;
                    }
                }
            }
            let (ci, offset, inner, modes, parts) = match placed {
                Some((ci, offset, c)) => {
                    packed = true;
                    (ci, offset, c.inner, c.modes, c.parts)
                }
                None => {
                    cores.push(CoreSlot::default());
                    let c = ctx.eval(&b.tile, 0, &[], 0).map_err(|f| (k, f))?;
                    (cores.len() - 1, 0, c.inner, c.modes, c.parts)
                }
            };
            let core = &mut cores[ci];
            core.compartments += b.tile.len();
            core.slots += tile_slots(&needs[k], prep.views[k], &b.tile);
            core.parts.push(parts);
            blocks.push(Block {
                tile: b.tile,
                core: ci as u32,
                offset,
                inner,
                modes,
            });
        }
        let v = prep.views[k];
        layers.push(LayerPlacement::Chip {
            view: [v[0] as u32, v[1] as u32, v[2] as u32],
            blocks,
        });
    }
    Ok((cores.len(), layers, packed))
}

/// Whether every core's compartments take at most the slot limit, with
/// slot needs re-derived from the placement's blocks.
fn slots_within(prep: &Prepared<'_>, t: &Target, pl: &Placement) -> bool {
    let needs = crate::cost::slot_needs(prep, t, pl);
    let mut per_core = vec![0u64; pl.cores.len()];
    for (k, l) in pl.layers.iter().enumerate() {
        if let LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                per_core[b.core as usize] += tile_slots(&needs[k], prep.views[k], &b.tile);
            }
        }
    }
    let lim = u64::from(t.core().max_output_axon_slots());
    per_core.iter().all(|&s| s <= lim)
}

#[derive(Default)]
struct CoreSlot {
    compartments: u64,
    slots: u64,
    parts: Vec<BlockParts>,
}

/// Assigns cores to chips. Two starts — cores filled into chips in order,
/// and chips grown one at a time from the lowest free core by repeatedly
/// adding the free core with the most traffic to the chip — are each
/// improved by swaps (or moves into free room) between chips while they
/// lower the traffic between chips; the better result is kept.
fn assign_chips(n: usize, cpc: usize, chips: usize, traffic: &[(u32, u32, f64)]) -> Vec<usize> {
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in traffic {
        let (a, b) = (a as usize, b as usize);
        if a != b && a < n && b < n {
            adj[a].push((b, w));
            adj[b].push((a, w));
        }
    }
    for a in adj.iter_mut() {
        a.sort_by_key(|x| x.0);
        let mut merged: Vec<(usize, f64)> = Vec::with_capacity(a.len());
        for &(j, w) in a.iter() {
            match merged.last_mut() {
                Some(l) if l.0 == j => l.1 += w,
                _ => merged.push((j, w)),
            }
        }
        *a = merged;
    }
    let sequential: Vec<usize> = (0..n).map(|i| i / cpc).collect();
    let grown = grow_chips(n, cpc, chips, &adj);
    let a = refine_chips(sequential, cpc, chips, &adj);
    let b = refine_chips(grown, cpc, chips, &adj);
    let cut = |c: &[usize]| -> f64 {
        adj.iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |&(j, w)| (i, j, w)))
            .filter(|&(i, j, _)| c[i] != c[j])
            .map(|(_, _, w)| w)
            .sum()
    };
    if cut(&b) < cut(&a) { b } else { a }
}

/// Greedy graph growing: each chip starts from the lowest free core and
/// takes the free core most connected to it until full.
fn grow_chips(n: usize, cpc: usize, chips: usize, adj: &[Vec<(usize, f64)>]) -> Vec<usize> {
    use std::collections::BinaryHeap;
    struct Key(f64, std::cmp::Reverse<usize>);
    impl PartialEq for Key {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == std::cmp::Ordering::Equal
        }
    }
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
        }
    }
    let mut chip_of = vec![usize::MAX; n];
    let mut next_free = 0;
    for c in 0..chips {
        let mut gain = vec![0.0f64; 0];
        gain.resize(n, 0.0);
        let mut heap: BinaryHeap<Key> = BinaryHeap::new();
        let mut size = 0;
        while size < cpc {
            // The best connected free core, else the lowest free one.
            let mut pick = None;
            while let Some(Key(g, std::cmp::Reverse(j))) = heap.pop() {
                if chip_of[j] == usize::MAX && g == gain[j] {
                    pick = Some(j);
                    break;
                }
            }
            let j = match pick {
                Some(j) => j,
                None => {
                    while next_free < n && chip_of[next_free] != usize::MAX {
                        next_free += 1;
                    }
                    if next_free >= n {
                        break;
                    }
                    next_free
                }
            };
            chip_of[j] = c;
            size += 1;
            for &(x, w) in &adj[j] {
                if chip_of[x] == usize::MAX {
                    gain[x] += w;
                    heap.push(Key(gain[x], std::cmp::Reverse(x)));
                }
            }
        }
    }
    for c in chip_of.iter_mut() {
        if *c == usize::MAX {
            *c = chips - 1;
        }
    }
    chip_of
}

/// Swaps (or moves into free room) between chips while they lower the
/// traffic between chips.
fn refine_chips(mut chip_of: Vec<usize>, cpc: usize, chips: usize, adj: &[Vec<(usize, f64)>]) -> Vec<usize> {
    let n = chip_of.len();
    let mut load = vec![0usize; chips];
    for &c in &chip_of {
        load[c] += 1;
    }
    let ext = |chip_of: &[usize], a: usize, c: usize| -> f64 {
        adj[a].iter().filter(|&&(j, _)| chip_of[j] == c).map(|&(_, w)| w).sum()
    };
    for _pass in 0..8 {
        let mut improved = false;
        for a in 0..n {
            let own = chip_of[a];
            let w_own = ext(&chip_of, a, own);
            // Chips a talks to, by weight.
            let mut to: Vec<(usize, f64)> = Vec::new();
            for &(j, w) in &adj[a] {
                let c = chip_of[j];
                if c == own {
                    continue;
                }
                match to.iter_mut().find(|x| x.0 == c) {
                    Some(x) => x.1 += w,
                    None => to.push((c, w)),
                }
            }
            to.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            for &(c, w_c) in to.iter().take(3) {
                let d_a = w_c - w_own;
                if d_a <= 0.0 {
                    break;
                }
                if load[c] < cpc {
                    chip_of[a] = c;
                    load[c] += 1;
                    load[own] -= 1;
                    improved = true;
                    break;
                }
                let mut best: Option<(f64, usize)> = None;
                for b in 0..n {
                    if chip_of[b] != c {
                        continue;
                    }
                    let w_ab: f64 = adj[a].iter().filter(|&&(j, _)| j == b).map(|&(_, w)| w).sum();
                    let d_b = ext(&chip_of, b, own) - ext(&chip_of, b, c);
                    let gain = d_a + d_b - 2.0 * w_ab;
                    if gain > 1e-9 && best.is_none_or(|(g, _)| gain > g) {
                        best = Some((gain, b));
                    }
                }
                if let Some((_, b)) = best {
                    chip_of[a] = c;
                    chip_of[b] = own;
                    improved = true;
                    break;
                }
            }
        }
        if !improved {
            break;
        }
    }
    chip_of
}
