//! The search: tile shapes per layer, axon modes per connection, blocks to
//! cores, cores to chips (docs/partition.md, "Search").
//!
//! This module is the driver ([`partition`]); `candidates` generates and
//! picks a population's tilings, `score` evaluates one tile, `pack` puts
//! blocks on cores and `chips` cores on chips.

mod candidates;
mod chips;
mod pack;
mod score;

use crate::bound::{chip_source, core_traffic, layer_lower_bound};
use crate::cost::{adjust_block_slots, tile_slots};
use crate::error::PartitionError;
use crate::options::PartitionOptions;
use crate::placement::{CoreId, LayerPlacement, PLACEMENT_SCHEMA, Placement};
use crate::prep::{Prepared, check_buildable};
use crate::report::PartitionReport;
use crate::report::build::{build, partial};
use crate::resource::Resource;
use crate::tiling::{Fail, LayerSearch, Tiling};
use candidates::tile_population;
use chips::assign_chips;
use nmc_ir::qmodel::{Placement as Where, QModel};
use nmc_target::Target;
use pack::{assemble, slots_within};

/// Passes over the layers when output slots of back edges change a tiling.
const MAX_PASSES: usize = 8;

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
    let fail = |tilings: &[Option<Tiling>], (k, f): (usize, Fail)| fail_report(&prep, target, opts, tilings, k, f);
    if let Err(kf) = tile_layers(&prep, target, &chip, &mut tilings, &mut needs) {
        return Err(fail(&tilings, kf));
    }
    check_settled(&prep, target, &chip, &tilings, &needs).map_err(|kf| fail(&tilings, kf))?;
    let (n, layers) = blocks_to_cores(&prep, target, &tilings, &needs).map_err(|kf| fail(&tilings, kf))?;
    // Cores to chips.
    let cpc = target.system().cores_per_chip() as usize;
    let chips_needed = n.div_ceil(cpc).max(1);
    if chips_needed > target.system().max_chips() as usize || n as u64 > target.system().max_cores() {
        let k = chip.last().copied().unwrap_or(0);
        let mut e = fail(&tilings, (k, too_many_cores(target, n)));
        if let PartitionError::NotFit { layer, resource, .. } = &mut e {
            *layer = "<model>".into();
            *resource = "cores".into();
        }
        return Err(e);
    }
    let pl = cores_to_chips(&prep, target, opts, n, layers, chips_needed);
    let searches: Vec<Option<LayerSearch>> = tilings.iter().map(|t| t.as_ref().map(|t| t.search.clone())).collect();
    let rep = build(&prep, target, opts, &pl, &searches);
    Ok((pl, rep))
}

/// The error of a layer that does not fit, with the report of the layers
/// tiled so far.
fn fail_report(
    prep: &Prepared<'_>,
    target: &Target,
    opts: &PartitionOptions,
    tilings: &[Option<Tiling>],
    k: usize,
    f: Fail,
) -> PartitionError {
    let rep = partial(prep, target, opts, tilings, Some((k, &f)));
    PartitionError::NotFit {
        layer: prep.model.populations[k].name.clone(),
        resource: f.resource.name().to_string(),
        need: f.need,
        offer: f.offer,
        detail: f.detail,
        report: Box::new(rep),
    }
}

/// Tiles every chip population, last first, re-tiling those whose output
/// slots (taken by the routes of later layers and back edges) no longer
/// fit, for up to `MAX_PASSES` passes. On failure, the layer and why (the
/// failing layer's tiling is then absent from `tilings`).
fn tile_layers(
    prep: &Prepared<'_>,
    target: &Target,
    chip: &[usize],
    tilings: &mut [Option<Tiling>],
    needs: &mut [Vec<u32>],
) -> Result<(), (usize, Fail)> {
    let model = prep.model;
    let lbs: Vec<u64> = (0..model.populations.len())
        .map(|k| {
            if model.populations[k].placement == Where::Chip {
                layer_lower_bound(prep, target, k).0
            } else {
                0
            }
        })
        .collect();
    for _pass in 0..MAX_PASSES {
        let mut changed = false;
        for &k in chip.iter().rev() {
            if let Some(tl) = &tilings[k]
                && slots_fit(prep, target, k, tl, &needs[k])
            {
                continue;
            }
            if let Some(old) = tilings[k].take() {
                for b in &old.blocks {
                    adjust_block_slots(prep, target, k, b, needs, false);
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
            let tl = tile_population(prep, target, k, &needs[k], pressure).map_err(|f| (k, f))?;
            for b in &tl.blocks {
                adjust_block_slots(prep, target, k, b, needs, true);
            }
            tilings[k] = Some(tl);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    Ok(())
}

/// Fails for the first chip population whose output slots still do not fit
/// after the passes.
fn check_settled(
    prep: &Prepared<'_>,
    target: &Target,
    chip: &[usize],
    tilings: &[Option<Tiling>],
    needs: &[Vec<u32>],
) -> Result<(), (usize, Fail)> {
    for &k in chip {
        if let Some(tl) = &tilings[k]
            && !slots_fit(prep, target, k, tl, &needs[k])
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
            return Err((k, f));
        }
    }
    Ok(())
}

/// Blocks to cores, packing small blocks into recent cores. Packing
/// re-chooses a joining block's axons at its new offset, which can change
/// the output slots its routes take on its sources: if any core then holds
/// more slots than allowed, blocks are assembled without packing (which
/// reproduces the tilings exactly). Returns the core count and the layers.
fn blocks_to_cores(
    prep: &Prepared<'_>,
    target: &Target,
    tilings: &[Option<Tiling>],
    needs: &[Vec<u32>],
) -> Result<(usize, Vec<LayerPlacement>), (usize, Fail)> {
    let (mut n, mut layers, packed) = assemble(prep, target, tilings, needs, true)?;
    if packed {
        let trial = Placement {
            schema: PLACEMENT_SCHEMA.into(),
            model: prep.model.name.clone(),
            target: target.name().into(),
            cores: vec![CoreId { chip: 0, core: 0 }; n],
            layers: layers.clone(),
        };
        if !slots_within(prep, target, &trial) {
            (n, layers, _) = assemble(prep, target, tilings, needs, false)?;
        }
    }
    Ok((n, layers))
}

/// Why a model needing `n` cores does not fit the target's chips.
fn too_many_cores(target: &Target, n: usize) -> Fail {
    let cpc = target.system().cores_per_chip() as usize;
    Fail {
        resource: Resource::Compartments,
        need: n as u64,
        offer: target.system().max_cores(),
        detail: format!(
            "the model needs {n} cores; {} chips × {} cores offer {}",
            target.system().max_chips(),
            cpc,
            target.system().max_cores()
        ),
    }
}

/// The placement of `n` cores on `chips_needed` chips: in order on one
/// chip, else assigned to keep spike traffic on chip and renumbered by
/// (chip, old index).
fn cores_to_chips(
    prep: &Prepared<'_>,
    target: &Target,
    opts: &PartitionOptions,
    n: usize,
    layers: Vec<LayerPlacement>,
    chips_needed: usize,
) -> Placement {
    let cpc = target.system().cores_per_chip() as usize;
    let mut pl = Placement {
        schema: PLACEMENT_SCHEMA.into(),
        model: prep.model.name.clone(),
        target: target.name().into(),
        cores: (0..n)
            .map(|i| CoreId {
                chip: (i / cpc) as u16,
                core: (i % cpc) as u16,
            })
            .collect(),
        layers,
    };
    let traffic = core_traffic(prep, target, &pl, opts.rates.as_deref());
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
    pl
}
