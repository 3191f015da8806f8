//! Scoring one tile: the axon-mode and compartment-order choices of a
//! block, their cost, and the best that fits ([`PopCtx::eval`]).

use crate::cost::{
    BlockParts, ConnCost, ConnScratch, Layout, combine, conn_cost, conn_scratch, mode_legal, tile_profiles, tile_slots,
};
use crate::placement::{AxonMode, Tile};
use crate::prep::{ConnPrep, Prepared};
use crate::resource::{CoreUsage, Resource};
use crate::tiling::Fail;
use nmc_target::Target;
use std::collections::HashMap;

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

/// The search state of one population: its context and caches.
pub(super) struct PopCtx<'p, 'a> {
    pub(super) prep: &'p Prepared<'a>,
    pub(super) t: &'p Target,
    pub(super) k: usize,
    needs: &'p [u32],
    /// Chip populations this one reads (other than itself): (population,
    /// output slots its neurons already need, cores it needs anyway).
    pub(super) pressure: Vec<(usize, u64, u64)>,
    conv_only: bool,
    cache: HashMap<Vec<u32>, std::rc::Rc<ConnOptions>>,
    tile_cache: HashMap<Tile, Result<Choice, Fail>>,
    pub(super) evals: u64,
}

impl<'p, 'a> PopCtx<'p, 'a> {
    pub(super) fn new(prep: &'p Prepared<'a>, t: &'p Target, k: usize, needs: &'p [u32]) -> Self {
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
    pub(super) fn eval(
        &mut self,
        tile: &Tile,
        offset: u32,
        base: &[&BlockParts],
        base_slots: u64,
    ) -> Result<Choice, Fail> {
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

/// Output slots a connection's routes take on its sources.
pub(super) fn slots_of(_t: &Target, c: &ConnCost) -> u64 {
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
