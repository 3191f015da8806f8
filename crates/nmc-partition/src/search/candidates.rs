//! Candidate tilings of one population: tile shapes in order of cores,
//! each grid evaluated tile by tile, the best kept ([`tile_population`]).

use crate::placement::{Block, Span, Tile};
use crate::prep::{ConnPrep, Prepared};
use crate::resource::Resource;
use crate::search::score::{Choice, PopCtx, slots_of};
use crate::tiling::{Fail, LayerSearch, Tiling};
use nmc_ir::qmodel::Source;
use nmc_target::Target;

/// Tile shapes evaluated after the first that fits.
const MAX_AFTER_FIRST: usize = 400;

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
pub(super) fn tile_population(
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
