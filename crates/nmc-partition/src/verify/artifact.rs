//! The artifact verifiers: [`verify_artifact`] re-derives every core's
//! counts from an emitted artifact alone and checks them and the core ids
//! against the target; [`verify_artifact_synapses`] expands routes and
//! tables back into synapses and compares them with the model's weights
//! (see the parent module's doc).

use super::{VerifyError, check_core_ids, check_core_limits};
use crate::prep::ConnPrep;
use crate::resource::CoreUsage;
use nmc_artifact::{Artifact, CoreCfg, InAxon, LayerLoc};
use nmc_core::{Loc, Problem};
use nmc_ir::qmodel::{Placement as Where, QModel, Source};
use nmc_target::Target;

/// Re-derives per-core counts from an artifact and checks them against the
/// target (see the module doc); returns each core's usage.
pub fn verify_artifact(a: &Artifact, t: &Target) -> Result<Vec<CoreUsage>, VerifyError> {
    let mut pr = Vec::new();
    if let Err(p) = a.check() {
        return Err(VerifyError { problems: vec![p] });
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
fn check_artifact_header(a: &Artifact, t: &Target, pr: &mut Vec<Problem>) {
    if a.target_name != t.name() {
        pr.push(Problem::new(
            Loc::Whole,
            "target_name",
            format!("artifact is for target `{}`, not `{}`", a.target_name, t.name()),
        ));
    }
    match Target::from_ron_str(&a.target_ron, "artifact target_ron") {
        Ok(at) if at == *t => {}
        Ok(_) => pr.push(Problem::new(Loc::Whole, "target_ron", "describes a different target")),
        Err(e) => pr.push(Problem::new(Loc::Whole, "target_ron", e.to_string())),
    }
    let ids: Vec<(u16, u16)> = a.cores.iter().map(|c| (c.chip, c.core)).collect();
    check_core_ids(t, &ids, pr);
}

/// Slots of a route to (core, axon): discrete, else the cheapest
/// population kind that can hold the axon's base and atoms.
fn route_slots(a: &Artifact, t: &Target, core: usize, axon: usize) -> Result<u32, Problem> {
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
            best.ok_or_else(|| {
                Problem::new(
                    Loc::Axon { core, axon },
                    None,
                    format!("base {base} / {atoms} atoms fit no population kind"),
                )
            })
        }
    }
}

/// Core `ci` of the artifact: its usage re-derived (tables, axons,
/// profiles, formats, output slots of its routes) and checked.
fn artifact_core(a: &Artifact, t: &Target, ci: usize, pr: &mut Vec<Problem>) -> CoreUsage {
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
                    pr.push(Problem::new(
                        Loc::Axon { core: ci, axon: ai },
                        None,
                        "a discrete axon's table has more than one atom",
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
    check_core_limits(t, ci, (c.chip, c.core), &u, pr);
    u
}

/// The tables of core `ci`: offered weight widths, sorted synapses, dense
/// lists as runs of compartments from 0. Returns their synapse-memory bits
/// (each table counted once).
fn check_tables(t: &Target, ci: usize, c: &CoreCfg, pr: &mut Vec<Problem>) -> u64 {
    let sc = t.synapse_cost();
    let mut bits = 0u64;
    for (ti, tb) in c.tables.iter().enumerate() {
        let table = || Loc::Table { core: ci, table: ti };
        let f = c.formats[tb.format as usize];
        if !sc.weight_bits().contains(&u32::from(f.weight_bits)) {
            pr.push(Problem::new(
                table(),
                "weight_bits",
                format!("weight width {} is not offered", f.weight_bits),
            ));
        }
        let ib = if f.indexed { sc.core_index_bits() } else { 0 };
        bits += sc.bits(tb.syns.len(), u32::from(f.weight_bits), ib);
        if tb.syns.windows(2).any(|w| (w[0].atom, w[0].cx) > (w[1].atom, w[1].cx)) {
            pr.push(Problem::new(table(), "syns", "synapses not sorted by (atom, cx)"));
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
                pr.push(Problem::new(
                    table(),
                    "syns",
                    "a dense (non-indexed) list is not a run of compartments from 0",
                ));
            }
        }
    }
    bits
}

/// Every compartment belongs to exactly one neuron.
fn check_owners(a: &Artifact, pr: &mut Vec<Problem>) {
    let mut owner: Vec<Vec<bool>> = a.cores.iter().map(|c| vec![false; c.cx.len()]).collect();
    for l in &a.layers {
        if let LayerLoc::Chip(locs) = &l.loc {
            for &(c, k) in locs {
                let slot = &mut owner[c as usize][k as usize];
                if *slot {
                    pr.push(Problem::new(
                        Loc::Compartment {
                            core: c as usize,
                            compartment: k as usize,
                        },
                        None,
                        format!("holds two neurons (again one of layer `{}`)", l.name),
                    ));
                }
                *slot = true;
            }
        }
    }
    for (c, o) in owner.iter().enumerate() {
        if let Some(k) = o.iter().position(|x| !x) {
            pr.push(Problem::new(
                Loc::Compartment {
                    core: c,
                    compartment: k,
                },
                None,
                "belongs to no layer",
            ));
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
            problems: vec![Problem::new(
                Loc::Whole,
                "layers",
                format!("artifact has {} layers, model {np} populations", a.layers.len()),
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
        pr.push(Problem::new(
            Loc::Whole,
            "synapses",
            format!(
                "artifact synapses differ from the model: {} in the artifact, {} in the model, {missing} missing, {extra} unexpected",
                found.len(),
                want.len()
            ),
        ));
        // One synapse, at its destination layer (a compartment of no layer: the whole artifact).
        let at = |what: &str, s: &(u32, u32, u32, u32, i16, i8)| {
            let source = match model.populations.get(s.2 as usize) {
                Some(p) => format!("population `{}`", p.name),
                None => format!("input {}", s.2 as usize - np),
            };
            let loc = model
                .populations
                .get(s.0 as usize)
                .map_or(Loc::Whole, |p| Loc::Layer(p.name.clone()));
            Problem::new(
                loc,
                "synapses",
                format!(
                    "first {what}: neuron {} from {source} element {} mantissa {} exp {}",
                    s.1, s.3, s.4, s.5
                ),
            )
        };
        if let Some(w) = want.iter().find(|w| found.binary_search(w).is_err()) {
            pr.push(at("missing", w));
        }
        if let Some(f) = found.iter().find(|f| want.binary_search(f).is_err()) {
            pr.push(at("unexpected", f));
        }
    }
    if pr.is_empty() {
        Ok(())
    } else {
        Err(VerifyError { problems: pr })
    }
}
