//! Building the report: from a complete placement ([`build`]) or from the
//! layers tiled before a failure ([`partial`]).

use crate::bound::{core_traffic, layer_lower_bound, network_lower_bound, route_sources};
use crate::cost::usage_of;
use crate::options::PartitionOptions;
use crate::placement::{AxonMode, Block, LayerPlacement, Placement};
use crate::prep::Prepared;
use crate::report::{
    BlockRef, CoreRow, Failure, HostRow, LayerRow, PARTITION_REPORT_SCHEMA, PartitionReport, ResourceAmount, Totals,
};
use crate::resource::{CoreUsage, Resource};
use crate::tiling::{Fail, LayerSearch, Tiling};
use nmc_ir::qmodel::{Placement as Where, Source};
use nmc_target::Target;

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
                reason: if p.float.is_some() {
                    "input encoder: runs on the host, float model in f64".into()
                } else {
                    "input encoder: runs on the host".into()
                },
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
            model: p.float.is_some().then(|| "float".into()),
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
    let mut chips: Vec<u16> = pl.cores.iter().map(|c| c.chip).collect();
    chips.sort_unstable();
    chips.dedup();
    let chip_traffic = ChipTraffic {
        chips: chips.len() as u64,
        inter_chip_edges: edges,
        inter_chip_traffic: inter,
        total_traffic: total,
    };
    assemble(prep, t, opts, core_rows, layers, host, chip_traffic)
}

/// What only a complete placement knows: chips used and traffic between them.
#[derive(Default)]
struct ChipTraffic {
    chips: u64,
    inter_chip_edges: u64,
    inter_chip_traffic: f64,
    total_traffic: f64,
}

/// The host readouts of the model, as the report lists them.
fn readout_rows(model: &nmc_ir::qmodel::QModel) -> Vec<super::HostReadoutRow> {
    model
        .readouts
        .iter()
        .map(|r| super::HostReadoutRow {
            name: r.name.clone(),
            output: r.output.clone(),
            inputs: r
                .inputs
                .iter()
                .map(|c| match c.source {
                    nmc_ir::qmodel::Source::Population(k) => model
                        .populations
                        .get(k)
                        .map_or_else(|| format!("#{k}"), |p| p.name.clone()),
                    nmc_ir::qmodel::Source::Input(i) => format!("input {i}"),
                })
                .collect(),
            elements: r.shape.numel() as u64,
            weights: r.inputs.iter().map(|c| c.weights.stored() as u64).sum(),
            synapse_tau: r.filter.map(|f| f.tau),
            latency: r.inputs.iter().map(|c| c.latency).max().unwrap_or(0),
        })
        .collect()
}

/// The one constructor of a [`PartitionReport`], for a placement and for a
/// failure alike: the lower bound is always the network's
/// ([`network_lower_bound`]), whatever was placed. A failure is set by
/// the caller.
fn assemble(
    prep: &Prepared<'_>,
    t: &Target,
    opts: &PartitionOptions,
    cores: Vec<CoreRow>,
    layers: Vec<LayerRow>,
    host: Vec<HostRow>,
    traffic: ChipTraffic,
) -> PartitionReport {
    let lower_bound = network_lower_bound(prep, t);
    let n = cores.len() as u64;
    PartitionReport {
        schema: PARTITION_REPORT_SCHEMA.into(),
        model: prep.model.name.clone(),
        target: t.name().into(),
        cores_per_chip: t.system().cores_per_chip(),
        cores,
        layers,
        host,
        host_readouts: readout_rows(prep.model),
        conventions: None,
        totals: Totals {
            cores: n,
            lower_bound,
            over_lower_bound_pct: pct_over(n, lower_bound),
            chips: traffic.chips,
            inter_chip_edges: traffic.inter_chip_edges,
            inter_chip_traffic: traffic.inter_chip_traffic,
            total_traffic: traffic.total_traffic,
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
    let failure = fail.map(|(k, f)| Failure {
        layer: model.populations[k].name.clone(),
        resource: f.resource.name().into(),
        need: f.need,
        offer: f.offer,
        detail: f.detail.clone(),
    });
    let mut report = assemble(prep, t, opts, core_rows, layers, host, ChipTraffic::default());
    report.failure = failure;
    report
}
