//! The search's objective terms, also shown by the report: lower bounds on
//! cores (per layer and for the network, from mapping-independent totals)
//! and the spike traffic between cores of a placement.

use crate::cost::{for_each_route, tile_neurons, tile_profiles, weight_bits};
use crate::placement::{Block, LayerPlacement, Placement, Span, Tile};
use crate::prep::{ConnPrep, Dim, Prepared};
use crate::resource::Resource;
use nmc_ir::qmodel::{Placement as Where, QModel, Source};
use nmc_target::Target;
use std::collections::HashMap;

/// A layer's lower bound: `max over resources of ceil(total / limit)` with
/// mapping-independent totals (docs/partition.md).
pub(crate) fn layer_lower_bound(prep: &Prepared<'_>, t: &Target, k: usize) -> (u64, Resource) {
    let mut best = (0u64, Resource::Compartments);
    for (r, total) in layer_totals(prep, t, k) {
        let lb = total.div_ceil(r.limit(t));
        if lb > best.0 {
            best = (lb, r);
        }
    }
    best
}

/// The network's lower bound on cores. Layers may share a core, so the
/// per-layer bounds do not add up; what does add is every resource no two
/// layers can share on a core — compartments and synapse memory (each entry
/// belongs to one destination compartment). The bound is the larger of the
/// largest single layer's bound and `⌈Σ total ÷ limit⌉` of those two
/// resources over the chip layers. (Input axons and profiles may be shared by
/// layers on one core, so they bound layers only one at a time.)
pub(crate) fn network_lower_bound(prep: &Prepared<'_>, t: &Target) -> u64 {
    let (mut cx, mut bits, mut single) = (0u64, 0u64, 0u64);
    for (k, p) in prep.model.populations.iter().enumerate() {
        if p.placement != Where::Chip {
            continue;
        }
        single = single.max(layer_lower_bound(prep, t, k).0);
        for (r, total) in layer_totals(prep, t, k) {
            match r {
                Resource::Compartments => cx += total,
                Resource::SynapseBits => bits += total,
                _ => {}
            }
        }
    }
    single
        .max(cx.div_ceil(Resource::Compartments.limit(t)))
        .max(bits.div_ceil(Resource::SynapseBits.limit(t)))
}

/// A layer's mapping-independent resource totals (docs/partition.md).
fn layer_totals(prep: &Prepared<'_>, t: &Target, k: usize) -> [(Resource, u64); 5] {
    let p = &prep.model.populations[k];
    let n = p.shape.numel() as u64;
    let sc = t.synapse_cost();
    let wb = u64::from(weight_bits(t));
    let ib = u64::from(sc.core_index_bits());
    let mut axons = 0u64;
    let mut bits = 0u64;
    for (ci, c) in p.inputs.iter().enumerate() {
        match &prep.conns[k][ci] {
            ConnPrep::Conv(cp) => {
                let g = &cp.g;
                let [dy, dx] = g.dims();
                let used = |d: &Dim, o: usize| d.plan(0, o).coords.len() as u64;
                let pop_ok =
                    t.axons().population16().max_atom_bits() > 0 || t.axons().population32().max_atom_bits() > 0;
                let pixels = used(&dy, g.oh) * used(&dx, g.ow);
                axons += if pop_ok { pixels } else { pixels * g.cin as u64 };
                let nz: u64 = (0..g.kh * g.kw)
                    .map(|tap| u64::from(cp.rect(tap, 0, g.cig, 0, g.cout)))
                    .sum();
                bits += nz * (wb + ib);
            }
            ConnPrep::Rows(rp) => {
                let mut srcs: Vec<u32> = rp.col.clone();
                srcs.sort_unstable();
                srcs.dedup();
                axons += srcs.len() as u64;
                let per = if rp.repeats { wb + ib } else { wb };
                bits += rp.col.len() as u64 * per;
            }
        }
        let _ = c;
    }
    let view = prep.views[k];
    let whole = Tile {
        c: Span::new(0, view[0] as u32),
        y: Span::new(0, view[1] as u32),
        x: Span::new(0, view[2] as u32),
    };
    let (cxp, vth, _) = tile_profiles(p, view, &whole);
    [
        (Resource::Compartments, n),
        (Resource::InputAxons, axons),
        (Resource::SynapseBits, bits),
        (Resource::CompartmentProfiles, cxp.len() as u64),
        (Resource::ThresholdProfiles, vth.len() as u64),
    ]
}

/// Spike traffic between cores: (source core, destination core, weight),
/// weight = Σ rate (Hz) of the source neurons routed there, or their count.
pub(crate) fn core_traffic(
    prep: &Prepared<'_>,
    t: &Target,
    pl: &Placement,
    rates: Option<&[Vec<f64>]>,
) -> Vec<(u32, u32, f64)> {
    let model = prep.model;
    let core_of: Vec<Vec<u32>> = pl
        .layers
        .iter()
        .enumerate()
        .map(|(k, l)| match l {
            LayerPlacement::Chip { blocks, .. } => {
                let mut v = vec![0u32; model.populations[k].shape.numel()];
                for b in blocks {
                    for n in tile_neurons(prep.views[k], &b.tile) {
                        v[n] = b.core;
                    }
                }
                v
            }
            LayerPlacement::Host => Vec::new(),
        })
        .collect();
    let mut acc: HashMap<(u32, u32), f64> = HashMap::new();
    for (k, l) in pl.layers.iter().enumerate() {
        let LayerPlacement::Chip { blocks, .. } = l else {
            continue;
        };
        for b in blocks {
            for (ci, conn) in model.populations[k].inputs.iter().enumerate() {
                let Some(s) = chip_source(model, conn.source) else {
                    continue;
                };
                route_sources(prep, t, k, b, ci, |n| {
                    let w = rates.map_or(1.0, |r| r[s][n]);
                    *acc.entry((core_of[s][n], b.core)).or_insert(0.0) += w;
                });
            }
        }
    }
    let mut v: Vec<(u32, u32, f64)> = acc.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    v.sort_by_key(|x| (x.0, x.1));
    v
}

/// Which source elements a block's connection routes from (used for
/// traffic), once per route.
pub(crate) fn route_sources(prep: &Prepared<'_>, t: &Target, k: usize, b: &Block, ci: usize, mut f: impl FnMut(usize)) {
    for_each_route(prep, t, k, b, ci, |s, _| f(s));
}

/// Whether a connection's source is a chip population.
pub(crate) fn chip_source(model: &QModel, s: Source) -> Option<usize> {
    match s {
        Source::Population(k) if model.populations[k].placement == Where::Chip => Some(k),
        _ => None,
    }
}
