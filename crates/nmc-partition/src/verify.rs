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
pub use crate::error::VerifyError;
use crate::placement::{Block, LayerPlacement, PLACEMENT_SCHEMA, Placement};
use crate::prep::{ConnPrep, Prepared, check_buildable};
use crate::resource::{CoreUsage, Resource};
use nmc_artifact::{Artifact, CoreCfg, InAxon, LayerLoc};
use nmc_ir::qmodel::{Placement as Where, QModel, QWeights, Source};
use nmc_target::Target;

/// Checks a placement (see the module doc) and returns the usage of each of
/// its cores.
pub fn verify(model: &QModel, target: &Target, pl: &Placement) -> Result<Vec<CoreUsage>, VerifyError> {
    let mut pr = Vec::new();
    let prep = match Prepared::new(model) {
        Ok(p) => p,
        Err(e) => {
            return Err(VerifyError {
                problems: vec![e.to_string()],
            });
        }
    };
    check_header(model, target, pl, &mut pr);
    if pl.layers.len() != model.populations.len() {
        pr.push(format!(
            "{} layer entries for {} populations",
            pl.layers.len(),
            model.populations.len()
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
fn check_header(model: &QModel, target: &Target, pl: &Placement, pr: &mut Vec<String>) {
    if let Err(e) = check_buildable(model, target) {
        pr.push(e.to_string());
    }
    if pl.schema != PLACEMENT_SCHEMA {
        pr.push(format!("schema is `{}`, expected `{PLACEMENT_SCHEMA}`", pl.schema));
    }
    if pl.model != model.name {
        pr.push(format!("placement is for model `{}`, not `{}`", pl.model, model.name));
    }
    if pl.target != target.name() {
        pr.push(format!(
            "placement is for target `{}`, not `{}`",
            pl.target,
            target.name()
        ));
    }
    let sys = target.system();
    let mut ids = pl.cores.clone();
    for (i, c) in pl.cores.iter().enumerate() {
        if u32::from(c.chip) >= sys.max_chips() || u32::from(c.core) >= sys.cores_per_chip() {
            pr.push(format!(
                "core {i}: id chip {} core {} out of range ({} chips × {} cores)",
                c.chip,
                c.core,
                sys.max_chips(),
                sys.cores_per_chip()
            ));
        }
    }
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        pr.push("two cores share a (chip, core) id".into());
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
    pr: &mut Vec<String>,
) -> bool {
    let p = &prep.model.populations[k];
    match (p.placement, l) {
        (Where::Host, LayerPlacement::Host) => true,
        (Where::Chip, LayerPlacement::Chip { view, blocks }) => {
            let want = prep.views[k];
            if view.map(|v| v as usize) != want {
                pr.push(format!("layer `{}`: view {view:?}, expected {want:?}", p.name));
                return false;
            }
            check_blocks(prep, target, k, blocks, spans, pr)
        }
        (w, _) => {
            pr.push(format!(
                "layer `{}`: the model places it on the {w:?}, the placement does not",
                p.name
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
    pr: &mut Vec<String>,
) -> bool {
    let p = &prep.model.populations[k];
    let want = prep.views[k];
    let ncores = spans.len();
    let mut ok = true;
    let n = p.shape.numel();
    let mut seen = vec![false; n];
    let mut covered = 0usize;
    for (bi, b) in blocks.iter().enumerate() {
        let t = &b.tile;
        let inside = t.c.end as usize <= want[0] && t.y.end as usize <= want[1] && t.x.end as usize <= want[2];
        if t.is_empty() || !inside {
            pr.push(format!(
                "layer `{}` block {bi}: tile {t:?} is empty or outside {want:?}",
                p.name
            ));
            ok = false;
            continue;
        }
        if b.inner == 0 || (b.inner != 1 && !t.c.len().is_multiple_of(b.inner)) {
            pr.push(format!(
                "layer `{}` block {bi}: inner {} does not divide its {} channels",
                p.name,
                b.inner,
                t.c.len()
            ));
            ok = false;
        }
        if b.modes.len() != p.inputs.len() {
            pr.push(format!(
                "layer `{}` block {bi}: {} axon modes for {} connections",
                p.name,
                b.modes.len(),
                p.inputs.len()
            ));
            ok = false;
        } else {
            for (ci, m) in b.modes.iter().enumerate() {
                if !mode_legal(&prep.conns[k][ci], *m, target) {
                    pr.push(format!(
                        "layer `{}` block {bi}: inputs[{ci}] cannot use {} axons",
                        p.name,
                        m.short()
                    ));
                    ok = false;
                }
            }
        }
        if b.core as usize >= ncores {
            pr.push(format!("layer `{}` block {bi}: core {} of {ncores}", p.name, b.core));
            ok = false;
        } else {
            spans[b.core as usize].push((b.offset, t.len()));
        }
        for idx in tile_neurons(want, t) {
            if seen[idx] {
                pr.push(format!("layer `{}`: neuron {idx} is placed twice", p.name));
                ok = false;
            }
            seen[idx] = true;
            covered += 1;
        }
    }
    if covered < n || seen.iter().any(|s| !s) {
        let missing = seen.iter().filter(|s| !**s).count();
        if missing > 0 {
            pr.push(format!("layer `{}`: {missing} of {n} neurons are not placed", p.name));
            ok = false;
        }
    }
    ok
}

/// Every core holds a block and its blocks fill compartments `0..n`
/// without gap or overlap. Whether the blocks fill their cores so (an empty
/// core is a problem but does not stop the checks of usage).
fn check_spans(spans: &mut [Vec<(u32, u64)>], pr: &mut Vec<String>) -> bool {
    let mut ok = true;
    for (c, s) in spans.iter_mut().enumerate() {
        if s.is_empty() {
            pr.push(format!("core {c}: holds no block"));
            continue;
        }
        s.sort_unstable();
        let mut next = 0u64;
        for &(off, len) in s.iter() {
            if u64::from(off) != next {
                pr.push(format!(
                    "core {c}: blocks must fill compartments from 0 without gaps or overlap (block at {off}, expected {next})"
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
fn check_limits(target: &Target, pl: &Placement, usage: &[CoreUsage], pr: &mut Vec<String>) {
    for (c, u) in usage.iter().enumerate() {
        for r in Resource::ALL {
            let (need, offer) = (u.get(r), r.limit(target));
            if need > offer {
                let id = pl.cores[c];
                pr.push(format!(
                    "core {c} (chip {} core {}): {r}: {need} > {offer}",
                    id.chip, id.core
                ));
            }
        }
    }
}

/// Every synapse exactly once: per connection, the synapses the blocks
/// place add up to the weights' non-zero synapses.
fn check_synapses(prep: &Prepared<'_>, target: &Target, pl: &Placement, pr: &mut Vec<String>) {
    let placed = placed_synapses(prep, target, pl);
    for (k, p) in prep.model.populations.iter().enumerate() {
        if p.placement != Where::Chip {
            continue;
        }
        for (ci, c) in p.inputs.iter().enumerate() {
            let want = weight_synapses(&c.weights);
            let got = placed[k][ci];
            if got != want {
                pr.push(format!(
                    "layer `{}` inputs[{ci}]: blocks place {got} synapses, the weights have {want}",
                    p.name
                ));
            }
        }
    }
}

/// The usage of each core of a placement, without checking limits (the
/// placement must be structurally valid).
pub fn usage(model: &QModel, target: &Target, pl: &Placement) -> Result<Vec<CoreUsage>, VerifyError> {
    let prep = Prepared::new(model).map_err(|e| VerifyError {
        problems: vec![e.to_string()],
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
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            mant,
        } => {
            // Per tap, the outputs whose input is inside the image, per axis.
            let valid = |axis: usize, kk: usize| -> u64 {
                (0..out_shape[axis + 1])
                    .filter(|&o| {
                        let i = (o * stride[axis] + kk * dilation[axis]) as isize - padding[axis] as isize;
                        i >= 0 && (i as usize) < in_shape[axis + 1]
                    })
                    .count() as u64
            };
            let cig = in_shape[0] / groups;
            let mut total = 0u64;
            for ky in 0..kernel[0] {
                let vy = valid(0, ky);
                for kx in 0..kernel[1] {
                    let vx = valid(1, kx);
                    let mut nz = 0u64;
                    for co in 0..out_shape[0] {
                        for icg in 0..cig {
                            if mant[((co * cig + icg) * kernel[0] + ky) * kernel[1] + kx] != 0 {
                                nz += 1;
                            }
                        }
                    }
                    total += nz * vy * vx;
                }
            }
            total
        }
    }
}

/// Re-derives per-core counts from an artifact and checks them against the
/// target (see the module doc); returns each core's usage.
pub fn verify_artifact(a: &Artifact, t: &Target) -> Result<Vec<CoreUsage>, VerifyError> {
    let mut pr = Vec::new();
    if let Err(m) = a.check() {
        return Err(VerifyError { problems: vec![m] });
    }
    check_artifact_header(a, t, &mut pr);
    let usage: Vec<CoreUsage> = (0..a.cores.len()).map(|ci| artifact_core(a, t, ci, &mut pr)).collect();
    check_owners(a, &mut pr);
    if pr.is_empty() {
        Ok(usage)
    } else {
        Err(VerifyError { problems: pr })
    }
}

/// The artifact's target (name and description) and its core ids (in
/// range, distinct).
fn check_artifact_header(a: &Artifact, t: &Target, pr: &mut Vec<String>) {
    if a.target_name != t.name() {
        pr.push(format!(
            "artifact is for target `{}`, not `{}`",
            a.target_name,
            t.name()
        ));
    }
    match Target::from_ron_str(&a.target_ron, "artifact target_ron") {
        Ok(at) if at == *t => {}
        Ok(_) => pr.push("artifact target_ron describes a different target".into()),
        Err(e) => pr.push(format!("artifact target_ron: {e}")),
    }
    let sys = t.system();
    let mut ids: Vec<(u16, u16)> = a.cores.iter().map(|c| (c.chip, c.core)).collect();
    for (i, &(chip, core)) in ids.iter().enumerate() {
        if u32::from(chip) >= sys.max_chips() || u32::from(core) >= sys.cores_per_chip() {
            pr.push(format!("core {i}: id chip {chip} core {core} out of range"));
        }
    }
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        pr.push("two cores share a (chip, core) id".into());
    }
}

/// Slots of a route to (core, axon): discrete, else the cheapest
/// population kind that can hold the axon's base and atoms.
fn route_slots(a: &Artifact, t: &Target, core: usize, axon: usize) -> Result<u32, String> {
    let c = &a.cores[core];
    match c.axons[axon] {
        InAxon::Discrete { .. } => Ok(t.axons().discrete().slots()),
        InAxon::Population { table, base } => {
            let atoms = u64::from(c.tables[table as usize].atoms);
            let fits = |k: &nmc_target::AxonKindLimits| {
                k.max_atom_bits() > 0 && k.base_allowed(u32::from(base)) && atoms <= k.max_atoms()
            };
            let mut best: Option<u32> = None;
            for k in [t.axons().population16(), t.axons().population32()] {
                if fits(k) {
                    best = Some(best.map_or(k.slots(), |b: u32| b.min(k.slots())));
                }
            }
            best.ok_or_else(|| format!("core {core} axon {axon}: base {base} / {atoms} atoms fit no population kind"))
        }
    }
}

/// Core `ci` of the artifact: its usage re-derived (tables, axons,
/// profiles, formats, output slots of its routes) and checked.
fn artifact_core(a: &Artifact, t: &Target, ci: usize, pr: &mut Vec<String>) -> CoreUsage {
    let c = &a.cores[ci];
    let mut u = CoreUsage {
        compartments: c.cx.len() as u64,
        input_axons: c.axons.len() as u64,
        ..Default::default()
    };
    u.synapse_bits = check_tables(t, ci, c, pr);
    for (ai, ax) in c.axons.iter().enumerate() {
        match *ax {
            InAxon::Discrete { table } => {
                if c.tables[table as usize].atoms != 1 {
                    pr.push(format!(
                        "core {ci} axon {ai}: a discrete axon's table has more than one atom"
                    ));
                }
            }
            InAxon::Population { .. } => {
                if let Err(m) = route_slots(a, t, ci, ai) {
                    pr.push(m);
                }
            }
        }
    }
    let mut fmts: Vec<_> = c.tables.iter().map(|tb| c.formats[tb.format as usize]).collect();
    fmts.sort_unstable();
    fmts.dedup();
    u.synapse_formats = fmts.len() as u64;
    let used: Vec<&nmc_artifact::CxProfile> = c.cx.iter().map(|x| &c.profiles[x.profile as usize]).collect();
    let count = |mut v: Vec<(i64, i64, i64)>| {
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    };
    u.compartment_profiles = count(
        used.iter()
            .map(|p| (i64::from(p.decay_u), i64::from(p.decay_v), i64::from(p.refractory)))
            .collect(),
    );
    u.threshold_profiles = count(used.iter().map(|p| (i64::from(p.vth_mant), 0, 0)).collect());
    u.voltage_limits = count(
        used.iter()
            .map(|p| (i64::from(p.vmin_exp), i64::from(p.vmax_exp), 0))
            .collect(),
    );
    for routes in &c.routes {
        for r in routes {
            match route_slots(a, t, r.core as usize, r.axon as usize) {
                Ok(s) => u.output_slots += u64::from(s),
                Err(m) => pr.push(m),
            }
        }
    }
    for r in Resource::ALL {
        let (need, offer) = (u.get(r), r.limit(t));
        if need > offer {
            pr.push(format!(
                "core {ci} (chip {} core {}): {r}: {need} > {offer}",
                c.chip, c.core
            ));
        }
    }
    u
}

/// The tables of core `ci`: offered weight widths, sorted synapses, dense
/// lists as runs of compartments from 0. Returns their synapse-memory bits
/// (each table counted once).
fn check_tables(t: &Target, ci: usize, c: &CoreCfg, pr: &mut Vec<String>) -> u64 {
    let sc = t.synapse_cost();
    let mut bits = 0u64;
    for (ti, tb) in c.tables.iter().enumerate() {
        let f = c.formats[tb.format as usize];
        if !sc.weight_bits().contains(&u32::from(f.weight_bits)) {
            pr.push(format!(
                "core {ci} table {ti}: weight width {} is not offered",
                f.weight_bits
            ));
        }
        let ib = if f.indexed { sc.core_index_bits() } else { 0 };
        bits += sc.bits(tb.syns.len(), u32::from(f.weight_bits), ib);
        if tb.syns.windows(2).any(|w| (w[0].atom, w[0].cx) > (w[1].atom, w[1].cx)) {
            pr.push(format!("core {ci} table {ti}: synapses not sorted by (atom, cx)"));
        }
        if !f.indexed {
            // Per atom, compartments 0, 1, 2, … (discrete axons have no base).
            let mut run_ok = true;
            let mut prev: Option<(u16, u16)> = None;
            for sy in &tb.syns {
                let want = match prev {
                    Some((a, c)) if a == sy.atom => c + 1,
                    _ => 0,
                };
                run_ok &= sy.cx == want;
                prev = Some((sy.atom, sy.cx));
            }
            if !run_ok {
                pr.push(format!(
                    "core {ci} table {ti}: a dense (non-indexed) list is not a run of compartments from 0"
                ));
            }
        }
    }
    bits
}

/// Every compartment belongs to exactly one neuron.
fn check_owners(a: &Artifact, pr: &mut Vec<String>) {
    let mut owner: Vec<Vec<bool>> = a.cores.iter().map(|c| vec![false; c.cx.len()]).collect();
    for l in &a.layers {
        if let LayerLoc::Chip(locs) = &l.loc {
            for &(c, k) in locs {
                let slot = &mut owner[c as usize][k as usize];
                if *slot {
                    pr.push(format!(
                        "layer `{}`: core {c} compartment {k} holds two neurons",
                        l.name
                    ));
                }
                *slot = true;
            }
        }
    }
    for (c, o) in owner.iter().enumerate() {
        if let Some(k) = o.iter().position(|x| !x) {
            pr.push(format!("core {c}: compartment {k} belongs to no layer"));
        }
    }
}

/// Expands an artifact's routes and tables back into `(destination layer,
/// neuron, source, element, mantissa·2^exp)` synapses and checks that they
/// are exactly the model's non-zero weights (each once), with the right
/// exponents. Host layers are compared with their connection's weights.
pub fn verify_artifact_synapses(model: &QModel, a: &Artifact) -> Result<(), VerifyError> {
    let mut pr = Vec::new();
    let np = model.populations.len();
    if a.layers.len() != np {
        return Err(VerifyError {
            problems: vec![format!(
                "artifact has {} layers, model {np} populations",
                a.layers.len()
            )],
        });
    }
    // (core, cx) -> (layer, neuron).
    let mut who: Vec<Vec<(u32, u32)>> = a.cores.iter().map(|c| vec![(u32::MAX, 0); c.cx.len()]).collect();
    for (li, l) in a.layers.iter().enumerate() {
        if let LayerLoc::Chip(locs) = &l.loc {
            for (n, &(c, k)) in locs.iter().enumerate() {
                who[c as usize][k as usize] = (li as u32, n as u32);
            }
        }
    }
    // Synapses found: (dest layer, dest neuron, source key, src elem) -> (mant, exp).
    // Source key: 0..np populations, np + i inputs.
    let mut found: Vec<(u32, u32, u32, u32, i16, i8)> = Vec::new();
    let mut expand = |src_key: u32, elem: u32, r: &nmc_artifact::Route| {
        let c = &a.cores[r.core as usize];
        let (table, base) = match c.axons[r.axon as usize] {
            InAxon::Discrete { table } => (table, 0u32),
            InAxon::Population { table, base } => (table, u32::from(base)),
        };
        let tb = &c.tables[table as usize];
        let exp = c.formats[tb.format as usize].weight_exp;
        for s in tb.syns.iter().filter(|s| s.atom == r.atom && s.mant != 0) {
            let (l, n) = who[r.core as usize][(base + u32::from(s.cx)) as usize];
            found.push((l, n, src_key, elem, s.mant, exp));
        }
    };
    for (li, l) in a.layers.iter().enumerate() {
        match &l.loc {
            LayerLoc::Chip(locs) => {
                for (n, &(c, k)) in locs.iter().enumerate() {
                    for r in &a.cores[c as usize].routes[k as usize] {
                        expand(li as u32, n as u32, r);
                    }
                }
            }
            LayerLoc::Host(h) => {
                for (n, routes) in a.host[*h as usize].routes.iter().enumerate() {
                    for r in routes {
                        expand(li as u32, n as u32, r);
                    }
                }
            }
        }
    }
    for (i, inp) in a.inputs.iter().enumerate() {
        for (e, routes) in inp.routes.iter().enumerate() {
            for r in routes {
                expand((np + i) as u32, e as u32, r);
            }
        }
    }
    found.sort_unstable();
    // Expected from the model.
    let mut want: Vec<(u32, u32, u32, u32, i16, i8)> = Vec::new();
    for (k, p) in model.populations.iter().enumerate() {
        if p.placement != Where::Chip {
            continue;
        }
        for c in &p.inputs {
            let key = match c.source {
                Source::Population(s) => s as u32,
                Source::Input(i) => (np + i) as u32,
            };
            let rows = match crate::prep::prep_conn_rows(&c.weights) {
                ConnPrep::Rows(r) => r,
                ConnPrep::Conv(_) => continue,
            };
            for d in 0..rows.row_ptr.len() - 1 {
                for (s, m) in rows.row(d) {
                    want.push((k as u32, d as u32, key, s, m, c.weight_exp));
                }
            }
        }
    }
    want.sort_unstable();
    if found != want {
        let missing = want.iter().filter(|w| found.binary_search(w).is_err()).count();
        let extra = found.iter().filter(|f| want.binary_search(f).is_err()).count();
        pr.push(format!(
            "artifact synapses differ from the model: {} in the artifact, {} in the model, {missing} missing, {extra} unexpected",
            found.len(),
            want.len()
        ));
        if let Some(w) = want.iter().find(|w| found.binary_search(w).is_err()) {
            pr.push(format!(
                "first missing: layer {} neuron {} from source {} element {} mantissa {} exp {}",
                w.0, w.1, w.2, w.3, w.4, w.5
            ));
        }
        if let Some(f) = found.iter().find(|f| want.binary_search(f).is_err()) {
            pr.push(format!(
                "first unexpected: layer {} neuron {} from source {} element {} mantissa {} exp {}",
                f.0, f.1, f.2, f.3, f.4, f.5
            ));
        }
    }
    if pr.is_empty() {
        Ok(())
    } else {
        Err(VerifyError { problems: pr })
    }
}
