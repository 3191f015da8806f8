//! The partition report: per core, per layer, host and totals; as a text
//! table ([`std::fmt::Display`]), JSON (schema [`PARTITION_REPORT_SCHEMA`])
//! and a self-contained HTML core map ([`PartitionReport::to_html`]).

use crate::bound::{core_traffic, layer_lower_bound, network_lower_bound, route_sources};
use crate::cost::usage_of;
use crate::options::{Baseline, PartitionOptions};
use crate::placement::{AxonMode, Block, LayerPlacement, Placement};
use crate::prep::Prepared;
use crate::resource::{CoreUsage, Resource};
use crate::tiling::{Fail, LayerSearch, Tiling};
use nmc_ir::qmodel::{Placement as Where, Source};
use nmc_target::Target;
use serde::Serialize;
use std::fmt::{self, Write as _};

/// Version tag of the JSON report.
pub const PARTITION_REPORT_SCHEMA: &str = "nmc.partition/1";

/// One resource of one core: amount used, limit, utilisation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceAmount {
    /// Resource name (see [`Resource::name`]).
    pub resource: String,
    /// Used.
    pub used: u64,
    /// The target's limit.
    pub limit: u64,
    /// `100 · used / limit`.
    pub pct: f64,
}

/// A block as the core rows show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockRef {
    /// Population name.
    pub layer: String,
    /// Index of the population.
    pub layer_index: u32,
    /// Tile as `c0:c1,y0:y1,x0:x1`.
    pub tile: String,
    /// Axon mode per input connection.
    pub modes: Vec<String>,
}

/// One used core.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreRow {
    /// Index in the artifact's core list.
    pub index: u32,
    /// Chip.
    pub chip: u16,
    /// Core within the chip.
    pub core: u16,
    /// Blocks on it.
    pub blocks: Vec<BlockRef>,
    /// Every resource, in [`Resource::ALL`] order.
    pub usage: Vec<ResourceAmount>,
    /// The most used resource.
    pub binding: String,
}

/// One population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRow {
    /// Population name.
    pub name: String,
    /// Population shape.
    pub shape: Vec<usize>,
    /// `host` or `chip`.
    pub placement: String,
    /// Neurons.
    pub neurons: u64,
    /// Blocks (chip) — 0 for host layers.
    pub blocks: u64,
    /// Cores holding its blocks.
    pub cores: Vec<u32>,
    /// Nominal tile `[C, H, W]` (the last tile of each axis may be smaller).
    pub tile_shape: [u32; 3],
    /// Per input connection, the modes used and how many blocks use each.
    pub modes: Vec<String>,
    /// Why it was split as it was.
    pub reason: String,
    /// `max over resources of ceil(layer total / core limit)`.
    pub lower_bound: u64,
    /// The resource giving the lower bound.
    pub lower_bound_resource: String,
    /// Tile shapes evaluated by the search.
    pub candidates: u64,
}

/// A host (encoder) layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostRow {
    /// Population name.
    pub layer: String,
    /// Neurons.
    pub neurons: u64,
    /// Routes from its neurons to chip axons.
    pub routes: u64,
    /// Estimated spikes per step it emits (needs rates).
    pub spikes_per_step: Option<f64>,
    /// Estimated events per step sent to the chip, spikes × routes (needs rates).
    pub events_per_step: Option<f64>,
}

/// Totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Cores used.
    pub cores: u64,
    /// Lower bound on cores for the whole network (docs/partition.md):
    /// the largest single layer's bound, or the compartments and synapse
    /// memory of all chip layers together, whichever is larger.
    pub lower_bound: u64,
    /// `100 · (cores − lower_bound) / lower_bound`.
    pub over_lower_bound_pct: f64,
    /// Chips used.
    pub chips: u64,
    /// Core pairs on different chips with spikes between them.
    pub inter_chip_edges: u64,
    /// Spike traffic between chips: spikes/s with rates, else routes.
    pub inter_chip_traffic: f64,
    /// All spike traffic between cores, same unit.
    pub total_traffic: f64,
    /// `spikes/s` or `routes`.
    pub traffic_unit: String,
    /// Another tool's core count, if given.
    pub baseline: Option<Baseline>,
}

/// Why partitioning stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Layer.
    pub layer: String,
    /// Resource.
    pub resource: String,
    /// Need.
    pub need: u64,
    /// Offer.
    pub offer: u64,
    /// Explanation.
    pub detail: String,
}

/// The partition report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionReport {
    /// [`PARTITION_REPORT_SCHEMA`].
    pub schema: String,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Cores per chip of the target.
    pub cores_per_chip: u32,
    /// Per core.
    pub cores: Vec<CoreRow>,
    /// Per population.
    pub layers: Vec<LayerRow>,
    /// Host layers.
    pub host: Vec<HostRow>,
    /// Totals.
    pub totals: Totals,
    /// Set when the network did not fit.
    pub failure: Option<Failure>,
}

fn tile_str(b: &Block) -> String {
    let t = &b.tile;
    format!(
        "{}:{},{}:{},{}:{}",
        t.c.start, t.c.end, t.y.start, t.y.end, t.x.start, t.x.end
    )
}

fn amounts(u: &CoreUsage, t: &Target) -> Vec<ResourceAmount> {
    Resource::ALL
        .iter()
        .map(|&r| ResourceAmount {
            resource: r.name().into(),
            used: u.get(r),
            limit: r.limit(t),
            pct: 100.0 * u.utilisation(t, r),
        })
        .collect()
}

fn layer_rows(
    prep: &Prepared<'_>,
    t: &Target,
    layers: &[Option<(Vec<Block>, LayerSearch)>],
    usage_of_block: &dyn Fn(usize, usize) -> Option<CoreUsage>,
) -> Vec<LayerRow> {
    let model = prep.model;
    let mut rows = Vec::new();
    for (k, p) in model.populations.iter().enumerate() {
        let n = p.shape.numel() as u64;
        if p.placement == Where::Host {
            rows.push(LayerRow {
                name: p.name.clone(),
                shape: p.shape.dims().to_vec(),
                placement: "host".into(),
                neurons: n,
                blocks: 0,
                cores: Vec::new(),
                tile_shape: [0; 3],
                modes: Vec::new(),
                reason: "input encoder: runs on the host".into(),
                lower_bound: 0,
                lower_bound_resource: String::new(),
                candidates: 0,
            });
            continue;
        }
        let (lb, lbr) = layer_lower_bound(prep, t, k);
        let Some((blocks, search)) = &layers[k] else {
            rows.push(LayerRow {
                name: p.name.clone(),
                shape: p.shape.dims().to_vec(),
                placement: "chip".into(),
                neurons: n,
                blocks: 0,
                cores: Vec::new(),
                tile_shape: [0; 3],
                modes: Vec::new(),
                reason: "not placed".into(),
                lower_bound: lb,
                lower_bound_resource: lbr.name().into(),
                candidates: 0,
            });
            continue;
        };
        let mut cores: Vec<u32> = blocks.iter().map(|b| b.core).collect();
        cores.sort_unstable();
        cores.dedup();
        let mut modes = Vec::new();
        for ci in 0..p.inputs.len() {
            let mut counts: Vec<(AxonMode, u64)> = Vec::new();
            for b in blocks {
                match counts.iter_mut().find(|c| c.0 == b.modes[ci]) {
                    Some(c) => c.1 += 1,
                    None => counts.push((b.modes[ci], 1)),
                }
            }
            counts.sort();
            let s: Vec<String> = counts.iter().map(|(m, c)| format!("{}×{c}", m.short())).collect();
            modes.push(format!("in{ci}: {}", s.join(" ")));
        }
        // Why: the resource closest to its limit in the layer's fullest block.
        let mut worst: Option<(f64, Resource, u64, u64)> = None;
        for (bi, _) in blocks.iter().enumerate() {
            if let Some(u) = usage_of_block(k, bi) {
                let r = u.binding(t);
                let x = u.utilisation(t, r);
                if worst.is_none_or(|w| x > w.0) {
                    worst = Some((x, r, u.get(r), r.limit(t)));
                }
            }
        }
        let reason = if blocks.len() == 1 {
            match worst {
                Some((x, r, _, _)) => format!("fits one core ({r} {:.0}%)", 100.0 * x),
                None => "fits one core".into(),
            }
        } else {
            match worst {
                Some((x, r, used, lim)) => format!(
                    "{r} bind: fullest tile uses {used} of {lim} ({:.0}%); lower bound {lb} by {}",
                    100.0 * x,
                    lbr.name()
                ),
                None => String::new(),
            }
        };
        rows.push(LayerRow {
            name: p.name.clone(),
            shape: p.shape.dims().to_vec(),
            placement: "chip".into(),
            neurons: n,
            blocks: blocks.len() as u64,
            cores,
            tile_shape: search.tile_shape,
            modes,
            reason,
            lower_bound: lb,
            lower_bound_resource: lbr.name().into(),
            candidates: search.candidates,
        });
    }
    rows
}

fn host_rows(
    prep: &Prepared<'_>,
    t: &Target,
    pl_layers: &[Option<Vec<Block>>],
    rates: Option<&[Vec<f64>]>,
) -> Vec<HostRow> {
    let model = prep.model;
    let mut routes: Vec<Vec<u32>> = model
        .populations
        .iter()
        .map(|p| {
            if p.placement == Where::Host {
                vec![0; p.shape.numel()]
            } else {
                Vec::new()
            }
        })
        .collect();
    for (k, l) in pl_layers.iter().enumerate() {
        let Some(blocks) = l else { continue };
        for b in blocks {
            for (ci, conn) in model.populations[k].inputs.iter().enumerate() {
                if let Source::Population(s) = conn.source
                    && model.populations[s].placement == Where::Host
                {
                    route_sources(prep, t, k, b, ci, |n| routes[s][n] += 1);
                }
            }
        }
    }
    let mut rows = Vec::new();
    for (k, p) in model.populations.iter().enumerate() {
        if p.placement != Where::Host {
            continue;
        }
        let r = &routes[k];
        let (sps, eps) = match rates {
            Some(rt) => {
                let s: f64 = rt[k].iter().map(|x| x * model.dt).sum();
                let e: f64 = rt[k].iter().zip(r).map(|(x, &n)| x * model.dt * f64::from(n)).sum();
                (Some(s), Some(e))
            }
            None => (None, None),
        };
        rows.push(HostRow {
            layer: p.name.clone(),
            neurons: p.shape.numel() as u64,
            routes: r.iter().map(|&x| u64::from(x)).sum(),
            spikes_per_step: sps,
            events_per_step: eps,
        });
    }
    rows
}

/// The report of a complete placement.
pub(crate) fn build(
    prep: &Prepared<'_>,
    t: &Target,
    opts: &PartitionOptions,
    pl: &Placement,
    searches: &[Option<LayerSearch>],
) -> PartitionReport {
    let model = prep.model;
    let usage = usage_of(prep, t, pl);
    let mut core_rows: Vec<CoreRow> = pl
        .cores
        .iter()
        .enumerate()
        .map(|(i, id)| CoreRow {
            index: i as u32,
            chip: id.chip,
            core: id.core,
            blocks: Vec::new(),
            usage: amounts(&usage[i], t),
            binding: usage[i].binding(t).name().into(),
        })
        .collect();
    let mut layer_blocks: Vec<Option<(Vec<Block>, LayerSearch)>> = Vec::new();
    let mut block_layers: Vec<Option<Vec<Block>>> = Vec::new();
    for (k, l) in pl.layers.iter().enumerate() {
        match l {
            LayerPlacement::Chip { blocks, .. } => {
                for b in blocks {
                    core_rows[b.core as usize].blocks.push(BlockRef {
                        layer: model.populations[k].name.clone(),
                        layer_index: k as u32,
                        tile: tile_str(b),
                        modes: b.modes.iter().map(|m| m.short().to_string()).collect(),
                    });
                }
                let search = searches.get(k).cloned().flatten().unwrap_or_default();
                layer_blocks.push(Some((blocks.clone(), search)));
                block_layers.push(Some(blocks.clone()));
            }
            LayerPlacement::Host => {
                layer_blocks.push(None);
                block_layers.push(None);
            }
        }
    }
    let ub = |k: usize, bi: usize| -> Option<CoreUsage> {
        let (blocks, _) = layer_blocks[k].as_ref()?;
        usage.get(blocks[bi].core as usize).copied()
    };
    let layers = layer_rows(prep, t, &layer_blocks, &ub);
    let host = host_rows(prep, t, &block_layers, opts.rates.as_deref());
    let traffic = core_traffic(prep, t, pl, opts.rates.as_deref());
    let mut edges = 0u64;
    let mut inter = 0.0;
    let mut total = 0.0;
    for &(a, b, w) in &traffic {
        if a == b {
            continue;
        }
        total += w;
        if pl.cores[a as usize].chip != pl.cores[b as usize].chip {
            edges += 1;
            inter += w;
        }
    }
    let lower_bound = network_lower_bound(prep, t);
    let cores = pl.cores.len() as u64;
    let mut chips: Vec<u16> = pl.cores.iter().map(|c| c.chip).collect();
    chips.sort_unstable();
    chips.dedup();
    PartitionReport {
        schema: PARTITION_REPORT_SCHEMA.into(),
        model: model.name.clone(),
        target: t.name().into(),
        cores_per_chip: t.system().cores_per_chip(),
        cores: core_rows,
        layers,
        host,
        totals: Totals {
            cores,
            lower_bound,
            over_lower_bound_pct: pct_over(cores, lower_bound),
            chips: chips.len() as u64,
            inter_chip_edges: edges,
            inter_chip_traffic: inter,
            total_traffic: total,
            traffic_unit: if opts.rates.is_some() { "spikes/s" } else { "routes" }.into(),
            baseline: opts.baseline.clone(),
        },
        failure: None,
    }
}

fn pct_over(cores: u64, lb: u64) -> f64 {
    if lb == 0 {
        0.0
    } else {
        100.0 * (cores as f64 - lb as f64) / lb as f64
    }
}

/// The report of the layers tiled before a failure: every block on its own
/// (unassigned) core.
pub(crate) fn partial(
    prep: &Prepared<'_>,
    t: &Target,
    opts: &PartitionOptions,
    tilings: &[Option<Tiling>],
    fail: Option<(usize, &Fail)>,
) -> PartitionReport {
    let model = prep.model;
    let mut core_rows = Vec::new();
    let mut layer_blocks: Vec<Option<(Vec<Block>, LayerSearch)>> = Vec::new();
    let mut block_layers: Vec<Option<Vec<Block>>> = Vec::new();
    let mut usages: Vec<Vec<CoreUsage>> = Vec::new();
    for (k, tl) in tilings.iter().enumerate() {
        match tl {
            Some(tl) => {
                let mut blocks = tl.blocks.clone();
                for (b, u) in blocks.iter_mut().zip(&tl.usage) {
                    b.core = core_rows.len() as u32;
                    core_rows.push(CoreRow {
                        index: b.core,
                        chip: 0,
                        core: 0,
                        blocks: vec![BlockRef {
                            layer: model.populations[k].name.clone(),
                            layer_index: k as u32,
                            tile: tile_str(b),
                            modes: b.modes.iter().map(|m| m.short().to_string()).collect(),
                        }],
                        usage: amounts(u, t),
                        binding: u.binding(t).name().into(),
                    });
                }
                usages.push(tl.usage.clone());
                layer_blocks.push(Some((blocks.clone(), tl.search.clone())));
                block_layers.push(Some(blocks));
            }
            None => {
                usages.push(Vec::new());
                layer_blocks.push(None);
                block_layers.push(None);
            }
        }
    }
    let ub = |k: usize, bi: usize| usages[k].get(bi).copied();
    let layers = layer_rows(prep, t, &layer_blocks, &ub);
    let host = host_rows(prep, t, &block_layers, opts.rates.as_deref());
    let lower_bound = layers.iter().map(|l| l.lower_bound).sum();
    let cores = core_rows.len() as u64;
    PartitionReport {
        schema: PARTITION_REPORT_SCHEMA.into(),
        model: model.name.clone(),
        target: t.name().into(),
        cores_per_chip: t.system().cores_per_chip(),
        cores: core_rows,
        layers,
        host,
        totals: Totals {
            cores,
            lower_bound,
            over_lower_bound_pct: pct_over(cores, lower_bound),
            chips: 0,
            inter_chip_edges: 0,
            inter_chip_traffic: 0.0,
            total_traffic: 0.0,
            traffic_unit: if opts.rates.is_some() { "spikes/s" } else { "routes" }.into(),
            baseline: opts.baseline.clone(),
        },
        failure: fail.map(|(k, f)| Failure {
            layer: model.populations[k].name.clone(),
            resource: f.resource.name().into(),
            need: f.need,
            offer: f.offer,
            detail: f.detail.clone(),
        }),
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], right: &[bool]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w[i] - c.chars().count();
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        out.push_str("  ");
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), out);
    for r in rows {
        line(r.iter().map(|s| s.as_str()).collect(), out);
    }
}

impl fmt::Display for PartitionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        let tt = &self.totals;
        let _ = writeln!(
            s,
            "partition of `{}` on `{}` ({})",
            self.model, self.target, self.schema
        );
        if self.failure.is_some() {
            let _ = writeln!(
                s,
                "cores: {} placed before the failure (each tile on its own core), lower bound {}",
                tt.cores, tt.lower_bound
            );
        } else {
            let _ = writeln!(
                s,
                "cores: {} used, lower bound {} ({:+.1}%); chips: {}; inter-chip edges: {}; inter-chip traffic: {} of {} {}",
                tt.cores,
                tt.lower_bound,
                tt.over_lower_bound_pct,
                tt.chips,
                tt.inter_chip_edges,
                fmt_num(tt.inter_chip_traffic),
                fmt_num(tt.total_traffic),
                tt.traffic_unit
            );
        }
        if let Some(b) = tt.baseline.as_ref().filter(|_| self.failure.is_none()) {
            let d = if b.cores == 0 {
                0.0
            } else {
                100.0 * (tt.cores as f64 - b.cores as f64) / b.cores as f64
            };
            let verdict = if tt.cores < b.cores {
                "fewer"
            } else if tt.cores == b.cores {
                "as many"
            } else {
                "more"
            };
            let _ = writeln!(
                s,
                "baseline: {} uses {} cores; this placement uses {} ({d:+.1}%, {verdict})",
                b.name, b.cores, tt.cores
            );
        }
        if let Some(fl) = &self.failure {
            let _ = writeln!(
                s,
                "FAILED at layer `{}`: {} ({}: need {}, a core offers {})",
                fl.layer, fl.detail, fl.resource, fl.need, fl.offer
            );
        }
        s.push_str("layers:\n");
        let rows: Vec<Vec<String>> = self
            .layers
            .iter()
            .map(|l| {
                vec![
                    l.name.clone(),
                    l.placement.clone(),
                    l.neurons.to_string(),
                    l.blocks.to_string(),
                    if l.placement == "chip" && l.blocks > 0 {
                        format!("{}×{}×{}", l.tile_shape[0], l.tile_shape[1], l.tile_shape[2])
                    } else {
                        "-".into()
                    },
                    if l.placement == "chip" {
                        format!("{} ({})", l.lower_bound, l.lower_bound_resource)
                    } else {
                        "-".into()
                    },
                    l.modes.join("; "),
                    l.reason.clone(),
                ]
            })
            .collect();
        table(
            &mut s,
            &[
                "layer",
                "where",
                "neurons",
                "blocks",
                "tile",
                "lower bound",
                "axons",
                "why",
            ],
            &rows,
            &[false, false, true, true, false, false, false, false],
        );
        if !self.host.is_empty() {
            s.push_str("host:\n");
            let rows: Vec<Vec<String>> = self
                .host
                .iter()
                .map(|h| {
                    vec![
                        h.layer.clone(),
                        h.neurons.to_string(),
                        h.routes.to_string(),
                        h.spikes_per_step.map_or("n/a (no rates)".into(), |x| format!("{x:.2}")),
                        h.events_per_step.map_or("n/a".into(), |x| format!("{x:.2}")),
                    ]
                })
                .collect();
            table(
                &mut s,
                &["encoder", "neurons", "routes", "spikes/step", "events/step"],
                &rows,
                &[false, true, true, true, true],
            );
        }
        s.push_str("cores:\n");
        let pct = |a: &ResourceAmount| format!("{} {:.0}%", a.used, a.pct);
        let rows: Vec<Vec<String>> = self
            .cores
            .iter()
            .map(|c| {
                let blocks: Vec<String> = c.blocks.iter().map(|b| format!("{}[{}]", b.layer, b.tile)).collect();
                let mut r = vec![
                    c.index.to_string(),
                    c.chip.to_string(),
                    c.core.to_string(),
                    blocks.join(" "),
                ];
                for a in &c.usage {
                    r.push(pct(a));
                }
                r.push(c.binding.clone());
                r
            })
            .collect();
        let mut header = vec!["#", "chip", "core", "blocks"];
        header.extend(Resource::ALL.iter().map(|r| r.short()));
        header.push("binding");
        let mut right = vec![true, true, true, false];
        right.extend([true; 8]);
        right.push(false);
        table(&mut s, &header, &rows, &right);
        f.write_str(&s)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl PartitionReport {
    /// The report as JSON (schema [`PARTITION_REPORT_SCHEMA`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// A self-contained HTML page: one grid of cores per chip, each used
    /// core coloured by its (first) layer and shaded by its largest
    /// utilisation, details on hover, a legend of layers and the totals.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let tt = &self.totals;
        // A qualitative palette (Tableau 10) over the chip layers, in order.
        const PALETTE: [(u8, u8, u8); 10] = [
            (0x4e, 0x79, 0xa7),
            (0xf2, 0x8e, 0x2b),
            (0xe1, 0x57, 0x59),
            (0x76, 0xb7, 0xb2),
            (0x59, 0xa1, 0x4f),
            (0xed, 0xc9, 0x48),
            (0xb0, 0x7a, 0xa1),
            (0xff, 0x9d, 0xa7),
            (0x9c, 0x75, 0x5f),
            (0xba, 0xb0, 0xac),
        ];
        let mut chip_rank = vec![0usize; self.layers.len()];
        let mut r = 0;
        for (k, l) in self.layers.iter().enumerate() {
            if l.placement == "chip" {
                chip_rank[k] = r;
                r += 1;
            }
        }
        // The layer's colour, mixed with white: full at utilisation 1, pale at 0.
        let colour = |k: u32, util: f64| -> String {
            let rank = chip_rank.get(k as usize).copied().unwrap_or(0);
            let (r, g, b) = match PALETTE.get(rank) {
                Some(&c) => c,
                // Beyond the palette: hues a golden angle apart.
                None => hsl_rgb((rank as f64 * 137.508) % 360.0, 0.55, 0.5),
            };
            let a = 0.25 + 0.75 * util.clamp(0.0, 1.0);
            let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * a).round() as u8;
            format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
        };
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>nmc partition: {m} on {t}</title>\n<style>\n\
body{{font-family:system-ui,sans-serif;margin:20px;color:#222;background:#fafafa}}\n\
h1{{font-size:20px;margin:0 0 6px}} .sum{{margin:0 0 14px;font-size:14px}}\n\
.chips{{display:flex;flex-wrap:wrap;gap:18px}}\n\
.chip{{border:1px solid #999;border-radius:6px;padding:8px;background:#fff}}\n\
.chip h2{{font-size:13px;margin:0 0 6px}}\n\
.grid{{display:grid;grid-template-columns:repeat({cols},{cell}px);gap:3px}}\n\
.core{{width:{cell}px;height:{cell}px;border-radius:3px;border:1px solid rgba(0,0,0,.25);box-sizing:border-box;font-size:9px;line-height:{cell}px;text-align:center;overflow:hidden;color:#000}}\n\
.free{{background:#eee;border:1px dashed #bbb}}\n\
.legend{{margin-top:16px;font-size:13px}} .legend span.sw{{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:middle;margin:0 6px 0 14px;border:1px solid rgba(0,0,0,.3)}}\n\
.shade{{margin-top:8px;font-size:12px}}\n\
table{{border-collapse:collapse;margin-top:16px;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}} th{{background:#eee}} td.l,th.l{{text-align:left}}\n\
</style></head><body>\n",
            m = esc(&self.model),
            t = esc(&self.target),
            cols = grid_cols(self.cores_per_chip),
            cell = if self.cores_per_chip > 64 { 26 } else { 44 },
        );
        let _ = writeln!(h, "<h1>{} on {}</h1>", esc(&self.model), esc(&self.target));
        let mut summary = if self.failure.is_some() {
            format!(
                "{} cores placed before the failure (each tile on its own core); lower bound {}",
                tt.cores, tt.lower_bound
            )
        } else {
            format!(
                "{} cores used (lower bound {}, {:+.1}%) on {} chip(s) of {} cores; inter-chip edges {}, traffic {} of {} {}",
                tt.cores,
                tt.lower_bound,
                tt.over_lower_bound_pct,
                tt.chips,
                self.cores_per_chip,
                tt.inter_chip_edges,
                fmt_num(tt.inter_chip_traffic),
                fmt_num(tt.total_traffic),
                esc(&tt.traffic_unit)
            )
        };
        if let Some(b) = tt.baseline.as_ref().filter(|_| self.failure.is_none()) {
            let _ = write!(summary, "; {} uses {} cores", esc(&b.name), b.cores);
        }
        let _ = writeln!(h, "<p class=\"sum\" id=\"summary\">{summary}</p>");
        if let Some(fl) = &self.failure {
            let _ = writeln!(
                h,
                "<p class=\"sum\" style=\"color:#b00\">FAILED at layer {}: {} ({}: need {}, offer {})</p>",
                esc(&fl.layer),
                esc(&fl.detail),
                esc(&fl.resource),
                fl.need,
                fl.offer
            );
        }
        h.push_str("<div class=\"chips\">\n");
        let nchips = self.cores.iter().map(|c| c.chip as usize + 1).max().unwrap_or(0);
        for chip in 0..nchips {
            let mut cells: Vec<Option<&CoreRow>> = vec![None; self.cores_per_chip as usize];
            for c in self.cores.iter().filter(|c| c.chip as usize == chip) {
                if let Some(slot) = cells.get_mut(c.core as usize) {
                    *slot = Some(c);
                }
            }
            let used = cells.iter().filter(|c| c.is_some()).count();
            let _ = writeln!(
                h,
                "<div class=\"chip\"><h2>chip {chip} — {used} of {} cores</h2><div class=\"grid\">",
                self.cores_per_chip
            );
            for (i, cell) in cells.iter().enumerate() {
                match cell {
                    None => {
                        let _ = writeln!(
                            h,
                            "<div class=\"core free\" title=\"chip {chip} core {i}: free\"></div>"
                        );
                    }
                    Some(c) => {
                        let k = c.blocks.first().map_or(0, |b| b.layer_index);
                        let util = c
                            .usage
                            .iter()
                            .filter(|a| a.resource != Resource::VoltageLimits.name() || a.used > a.limit)
                            .map(|a| a.pct)
                            .fold(0.0, f64::max)
                            .min(100.0);

                        let mut title = format!("core #{} (chip {chip} core {i})\n", c.index);
                        for b in &c.blocks {
                            let _ = writeln!(title, "{} [{}] axons: {}", b.layer, b.tile, b.modes.join(","));
                        }
                        for a in &c.usage {
                            let _ = writeln!(title, "{}: {} / {} ({:.1}%)", a.resource, a.used, a.limit, a.pct);
                        }
                        let _ = write!(title, "binding: {}", c.binding);
                        let _ = writeln!(
                            h,
                            "<div class=\"core\" data-layer=\"{k}\" style=\"background:{}\" title=\"{}\">{}</div>",
                            colour(k, util / 100.0),
                            esc(&title),
                            c.index
                        );
                    }
                }
            }
            h.push_str("</div></div>\n");
        }
        h.push_str("</div>\n<div class=\"legend\" id=\"legend\"><b>layers:</b>");
        for (k, l) in self.layers.iter().enumerate() {
            if l.placement == "host" {
                let _ = write!(
                    h,
                    "<span class=\"sw\" style=\"background:#fff;border-style:dashed\"></span>{} (host, {} neurons)",
                    esc(&l.name),
                    l.neurons
                );
            } else {
                let _ = write!(
                    h,
                    "<span class=\"sw\" style=\"background:{}\"></span>{} ({} blocks, {} neurons)",
                    colour(k as u32, 1.0),
                    esc(&l.name),
                    l.blocks,
                    l.neurons
                );
            }
        }
        h.push_str("</div>\n<div class=\"shade\">shade: the core's largest utilisation (first chip layer's colour) — ");
        let first_chip = self.layers.iter().position(|l| l.placement == "chip").unwrap_or(0) as u32;
        for u in [0, 25, 50, 75, 100] {
            let _ = write!(
                h,
                "<span class=\"sw\" style=\"display:inline-block;width:14px;height:14px;vertical-align:middle;margin:0 4px 0 10px;border:1px solid rgba(0,0,0,.3);background:{}\"></span>{u}%",
                colour(first_chip, f64::from(u) / 100.0)
            );
        }
        h.push_str("</div>\n<table><tr><th class=\"l\">layer</th><th>where</th><th>neurons</th><th>blocks</th><th>tile</th><th>lower bound</th><th class=\"l\">why</th></tr>\n");
        for l in &self.layers {
            let (tile, lb) = if l.placement == "chip" && l.blocks == 0 {
                (
                    "-".into(),
                    format!("{} ({})", l.lower_bound, esc(&l.lower_bound_resource)),
                )
            } else if l.placement == "chip" {
                (
                    format!("{}×{}×{}", l.tile_shape[0], l.tile_shape[1], l.tile_shape[2]),
                    format!("{} ({})", l.lower_bound, esc(&l.lower_bound_resource)),
                )
            } else {
                ("-".into(), "-".into())
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{tile}</td><td>{lb}</td><td class=\"l\">{}</td></tr>",
                esc(&l.name),
                l.placement,
                l.neurons,
                l.blocks,
                esc(&l.reason)
            );
        }
        h.push_str("</table>\n</body></html>\n");
        h
    }
}

/// HSL (degrees, 0..1, 0..1) to RGB.
fn hsl_rgb(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

fn grid_cols(cpc: u32) -> u32 {
    // A near-square grid, wider than tall.
    let mut c = (f64::from(cpc).sqrt().ceil() as u32).max(1);
    while c < cpc && !cpc.is_multiple_of(c) {
        c += 1;
    }
    if c * c < cpc { c * 2 } else { c }
}
