//! Verifiers, independent of the search.
//!
//! [`verify`] checks a [`Placement`] against a model and a target:
//!
//! - the placement names the model and target, has one entry per
//!   population, host populations stay on the host, chip populations use
//!   their [`crate::view_of`] view;
//! - every core id is in range (`chip < max_chips`, `core <
//!   cores_per_chip`), no two cores share an id, every core holds a block;
//! - every block is a non-empty tile inside its view, its `inner` is 1 or
//!   divides its channel count, it names a legal axon mode per input
//!   connection;
//! - every neuron of every chip population is in exactly one block;
//! - the blocks of a core occupy compartments `0..n` without gap or overlap;
//! - every connection's latency is the one the chip implies;
//! - per core, every resource re-derived with the cost model is within the
//!   target's limit;
//! - every non-zero synapse is placed exactly once: the synapses the cost
//!   model counts per block add up, per connection, to a count taken
//!   directly from the weights.
//!
//! [`verify_artifact`] re-derives the per-core counts from an emitted
//! artifact alone (compartments, axons, synapse bits of its tables with each
//! table counted once, profiles, formats, voltage limits, output slots of
//! its routes; dense lists must be runs of compartments from 0) and checks
//! them and the chip/core ids against the target;
//! [`verify_artifact_synapses`] expands an artifact's routes and tables
//! back into synapses and compares them with the model's weights.
//!
//! All problems are collected, not just the first.

use crate::cost::{mode_legal, tile_neurons, usage_of};
use crate::error::PartitionError;
pub use crate::error::VerifyError;
use crate::placement::{Block, LayerPlacement, PLACEMENT_SCHEMA, Placement};
use crate::prep::{Prepared, check_buildable};
use crate::resource::{CoreUsage, Resource};
use nmc_core::{CoreId, Loc, Problem};
use nmc_ir::qmodel::{Placement as Where, QModel, QWeights};
use nmc_target::Target;

mod artifact;
pub use artifact::{verify_artifact, verify_artifact_synapses};

/// Checks a placement (see the module doc) and returns the usage of each of
/// its cores.
pub fn verify(model: &QModel, target: &Target, pl: &Placement) -> Result<Vec<CoreUsage>, VerifyError> {
    let mut pr = Vec::new();
    let prep = match Prepared::new(model) {
        Ok(p) => p,
        Err(e) => {
            return Err(VerifyError {
                problems: vec![problem_of(e)],
            });
        }
    };
    check_header(model, target, pl, &mut pr);
    if pl.layers.len() != model.populations.len() {
        pr.push(Problem::new(
            Loc::Whole,
            "layers",
            format!(
                "{} layer entries for {} populations",
                pl.layers.len(),
                model.populations.len()
            ),
        ));
        return Err(VerifyError { problems: pr });
    }
    // Per core: (offset, len) of each block.
    let mut spans: Vec<Vec<(u32, u64)>> = vec![Vec::new(); pl.cores.len()];
    let mut structural_ok = pr.is_empty();
    for (k, l) in pl.layers.iter().enumerate() {
        structural_ok &= check_layer(&prep, target, k, l, &mut spans, &mut pr);
    }
    structural_ok &= check_spans(&mut spans, &mut pr);
    if !structural_ok {
        return Err(VerifyError { problems: pr });
    }
    let usage = usage_of(&prep, target, pl);
    check_limits(target, pl, &usage, &mut pr);
    check_synapses(&prep, target, pl, &mut pr);
    if pr.is_empty() {
        Ok(usage)
    } else {
        Err(VerifyError { problems: pr })
    }
}

/// Buildability, schema, names, and the core ids (in range, distinct).
fn check_header(model: &QModel, target: &Target, pl: &Placement, pr: &mut Vec<Problem>) {
    if let Err(e) = check_buildable(model, target) {
        pr.push(problem_of(e));
    }
    let mut whole = |field, m: String| pr.push(Problem::new(Loc::Whole, field, m));
    if pl.schema != PLACEMENT_SCHEMA {
        whole("schema", format!("is `{}`, expected `{PLACEMENT_SCHEMA}`", pl.schema));
    }
    if pl.model != model.name {
        whole(
            "model",
            format!("placement is for model `{}`, not `{}`", pl.model, model.name),
        );
    }
    if pl.target != target.name() {
        whole(
            "target",
            format!("placement is for target `{}`, not `{}`", pl.target, target.name()),
        );
    }
    let ids: Vec<(u16, u16)> = pl.cores.iter().map(|c| (c.chip, c.core)).collect();
    check_core_ids(target, &ids, pr);
}

/// Core ids in range and distinct: a problem at each core whose id is out
/// of range or already taken by an earlier core.
fn check_core_ids(target: &Target, ids: &[(u16, u16)], pr: &mut Vec<Problem>) {
    let sys = target.system();
    let at = |index: usize, (chip, core): (u16, u16)| Loc::Core {
        index,
        id: Some(CoreId { chip, core }),
    };
    for (i, &(chip, core)) in ids.iter().enumerate() {
        if u32::from(chip) >= sys.max_chips() || u32::from(core) >= sys.cores_per_chip() {
            pr.push(Problem::new(
                at(i, (chip, core)),
                "id",
                format!(
                    "out of range ({} chips × {} cores)",
                    sys.max_chips(),
                    sys.cores_per_chip()
                ),
            ));
        }
    }
    let mut sorted: Vec<((u16, u16), usize)> = ids.iter().copied().zip(0..).collect();
    sorted.sort_unstable();
    for w in sorted.windows(2) {
        if w[0].0 == w[1].0 {
            pr.push(Problem::new(
                at(w[1].1, w[1].0),
                "id",
                format!("core {} has the same (chip, core) id", w[0].1),
            ));
        }
    }
}

/// A partition error met while verifying, as a problem at its layer or
/// connection (a malformed model's field path stays in the message: it is
/// not one `&'static str`).
fn problem_of(e: PartitionError) -> Problem {
    let layer = |name: String| {
        if name == "<model>" {
            Loc::Whole
        } else {
            Loc::Layer(name)
        }
    };
    match e {
        PartitionError::Unsupported { layer: l, message } => Problem::new(layer(l), None, message),
        PartitionError::Latency {
            layer,
            connection,
            latency,
            implied,
        } => Problem::new(
            Loc::Connection {
                layer,
                input: connection,
            },
            "latency",
            format!("{latency}, but on this target that path takes {implied} steps"),
        ),
        PartitionError::Model(q) => Problem::new(
            layer(q.population),
            None,
            format!("invalid model: {}: {}", q.field, q.message),
        ),
        e => Problem::new(Loc::Whole, None, e.to_string()),
    }
}

/// The structure of population `k`'s entry: where it is, its view, and its
/// blocks (recorded per core in `spans`). Whether it is sound.
fn check_layer(
    prep: &Prepared<'_>,
    target: &Target,
    k: usize,
    l: &LayerPlacement,
    spans: &mut [Vec<(u32, u64)>],
    pr: &mut Vec<Problem>,
) -> bool {
    let p = &prep.model.populations[k];
    match (p.placement, l) {
        (Where::Host, LayerPlacement::Host) => true,
        (Where::Chip, LayerPlacement::Chip { view, blocks }) => {
            let want = prep.views[k];
            if view.map(|v| v as usize) != want {
                pr.push(Problem::new(
                    Loc::Layer(p.name.clone()),
                    "view",
                    format!("{view:?}, expected {want:?}"),
                ));
                return false;
            }
            check_blocks(prep, target, k, blocks, spans, pr)
        }
        (w, _) => {
            pr.push(Problem::new(
                Loc::Layer(p.name.clone()),
                "placement",
                format!("the model places it on the {w:?}, the placement does not"),
            ));
            false
        }
    }
}

/// The blocks of chip population `k`: tiles inside the view, `inner`,
/// modes, cores, and every neuron in exactly one block. Whether they are
/// sound.
fn check_blocks(
    prep: &Prepared<'_>,
    target: &Target,
    k: usize,
    blocks: &[Block],
    spans: &mut [Vec<(u32, u64)>],
    pr: &mut Vec<Problem>,
) -> bool {
    let p = &prep.model.populations[k];
    let want = prep.views[k];
    let block = |block: usize| Loc::Block {
        layer: p.name.clone(),
        block,
    };
    let ncores = spans.len();
    let mut ok = true;
    let n = p.shape.numel();
    let mut seen = vec![false; n];
    let mut covered = 0usize;
    for (bi, b) in blocks.iter().enumerate() {
        let t = &b.tile;
        let inside = t.c.end as usize <= want[0] && t.y.end as usize <= want[1] && t.x.end as usize <= want[2];
        if t.is_empty() || !inside {
            pr.push(Problem::new(
                block(bi),
                "tile",
                format!("{t:?} is empty or outside {want:?}"),
            ));
            ok = false;
            continue;
        }
        if b.inner == 0 || (b.inner != 1 && !t.c.len().is_multiple_of(b.inner)) {
            pr.push(Problem::new(
                block(bi),
                "inner",
                format!("{} does not divide its {} channels", b.inner, t.c.len()),
            ));
            ok = false;
        }
        if b.modes.len() != p.inputs.len() {
            pr.push(Problem::new(
                block(bi),
                "modes",
                format!("{} axon modes for {} connections", b.modes.len(), p.inputs.len()),
            ));
            ok = false;
        } else {
            for (ci, m) in b.modes.iter().enumerate() {
                if !mode_legal(&prep.conns[k][ci], *m, target) {
                    pr.push(Problem::new(
                        block(bi),
                        "modes",
                        format!("inputs[{ci}] cannot use {} axons", m.short()),
                    ));
                    ok = false;
                }
            }
        }
        if b.core as usize >= ncores {
            pr.push(Problem::new(
                block(bi),
                "core",
                format!("{} out of range (the placement has {ncores} cores)", b.core),
            ));
            ok = false;
        } else {
            spans[b.core as usize].push((b.offset, t.len()));
        }
        for idx in tile_neurons(want, t) {
            if seen[idx] {
                pr.push(Problem::new(
                    Loc::Layer(p.name.clone()),
                    "blocks",
                    format!("neuron {idx} is placed twice"),
                ));
                ok = false;
            }
            seen[idx] = true;
            covered += 1;
        }
    }
    if covered < n || seen.iter().any(|s| !s) {
        let missing = seen.iter().filter(|s| !**s).count();
        if missing > 0 {
            pr.push(Problem::new(
                Loc::Layer(p.name.clone()),
                "blocks",
                format!("{missing} of {n} neurons are not placed"),
            ));
            ok = false;
        }
    }
    ok
}

/// Every core holds a block and its blocks fill compartments `0..n`
/// without gap or overlap. Whether the blocks fill their cores so (an empty
/// core is a problem but does not stop the checks of usage).
fn check_spans(spans: &mut [Vec<(u32, u64)>], pr: &mut Vec<Problem>) -> bool {
    let mut ok = true;
    for (c, s) in spans.iter_mut().enumerate() {
        let core = Loc::Core { index: c, id: None };
        if s.is_empty() {
            pr.push(Problem::new(core, None, "holds no block"));
            continue;
        }
        s.sort_unstable();
        let mut next = 0u64;
        for &(off, len) in s.iter() {
            if u64::from(off) != next {
                pr.push(Problem::new(
                    core,
                    None,
                    format!(
                        "blocks must fill compartments from 0 without gaps or overlap (block at {off}, expected {next})"
                    ),
                ));
                ok = false;
                break;
            }
            next += len;
        }
    }
    ok
}

/// Every resource of every core within the target's limit.
fn check_limits(target: &Target, pl: &Placement, usage: &[CoreUsage], pr: &mut Vec<Problem>) {
    for (c, u) in usage.iter().enumerate() {
        let id = pl.cores[c];
        check_core_limits(target, c, (id.chip, id.core), u, pr);
    }
}

/// Every resource of core `index` (id `(chip, core)`) within the target's
/// limit: a problem per resource over, its field the resource's name.
fn check_core_limits(target: &Target, index: usize, (chip, core): (u16, u16), u: &CoreUsage, pr: &mut Vec<Problem>) {
    for r in Resource::ALL {
        let (need, offer) = (u.get(r), r.limit(target));
        if need > offer {
            let id = Some(CoreId { chip, core });
            pr.push(Problem::new(
                Loc::Core { index, id },
                r.name(),
                format!("{need} > {offer}"),
            ));
        }
    }
}

/// Every synapse exactly once: per connection, the synapses the blocks
/// place add up to the weights' non-zero synapses.
fn check_synapses(prep: &Prepared<'_>, target: &Target, pl: &Placement, pr: &mut Vec<Problem>) {
    let placed = placed_synapses(prep, target, pl);
    for (k, p) in prep.model.populations.iter().enumerate() {
        if p.placement != Where::Chip {
            continue;
        }
        for (ci, c) in p.inputs.iter().enumerate() {
            let want = weight_synapses(&c.weights);
            let got = placed[k][ci];
            if got != want {
                pr.push(Problem::new(
                    Loc::Connection {
                        layer: p.name.clone(),
                        input: ci,
                    },
                    None,
                    format!("blocks place {got} synapses, the weights have {want}"),
                ));
            }
        }
    }
}

/// The usage of each core of a placement, without checking limits (the
/// placement must be structurally valid).
pub fn usage(model: &QModel, target: &Target, pl: &Placement) -> Result<Vec<CoreUsage>, VerifyError> {
    let prep = Prepared::new(model).map_err(|e| VerifyError {
        problems: vec![problem_of(e)],
    })?;
    Ok(usage_of(&prep, target, pl))
}

fn placed_synapses(prep: &Prepared<'_>, t: &Target, pl: &Placement) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = prep.model.populations.iter().map(|p| vec![0; p.inputs.len()]).collect();
    for (k, l) in pl.layers.iter().enumerate() {
        if let LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                let parts = crate::cost::block_parts(prep, t, k, b);
                for (ci, c) in parts.conns.iter().enumerate() {
                    out[k][ci] += c.synapses;
                }
            }
        }
    }
    out
}

/// Non-zero synapses of a connection, counted from its weights alone.
pub(crate) fn weight_synapses(w: &QWeights) -> u64 {
    match w {
        QWeights::Dense { mant, .. } | QWeights::Sparse { mant, .. } => mant.iter().filter(|&&m| m != 0).count() as u64,
        QWeights::Conv2d { mant, .. } => {
            let Some(g) = w.conv_geom() else { return 0 };
            // Per tap, the outputs whose input is inside the image, per axis
            // (the one conv geometry: `Dim::input_of`).
            let dims = g.dims();
            let valid = |axis: usize, kk: usize| -> u64 {
                (0..g.out_shape[axis + 1])
                    .filter(|&o| dims[axis].input_of(o, kk).is_some())
                    .count() as u64
            };
            let mut total = 0u64;
            for ky in 0..g.kernel[0] {
                let vy = valid(0, ky);
                for kx in 0..g.kernel[1] {
                    let vx = valid(1, kx);
                    let nz = (0..g.cout())
                        .flat_map(|co| (0..g.cig()).map(move |icg| (co, icg)))
                        .filter(|&(co, icg)| mant.get(g.widx(co, icg, ky, kx)).is_some_and(|&m| m != 0))
                        .count() as u64;
                    total += nz * vy * vx;
                }
            }
            total
        }
    }
}
