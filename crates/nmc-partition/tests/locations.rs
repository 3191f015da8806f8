#![allow(clippy::unwrap_used)]
//! The problems of the placement verifier, the artifact verifier,
//! `Artifact::check` and the emulator carry their location as data: the
//! layer, block, connection, core (index and id), table or compartment, and
//! the field. Each case breaks one thing and asserts exactly where the
//! problem is reported.
mod common;

use common::*;
use nmc_artifact::{Artifact, Route};
use nmc_core::{CoreId, Loc, Problem};
use nmc_emu::{EmuError, Emulator};
use nmc_ir::qmodel::QModel;
use nmc_partition::{LayerPlacement, PartitionOptions, Placement, usage, verify, verify_artifact};

fn chain() -> (QModel, Placement, Artifact) {
    let t = target("tiny");
    let m = nmc_partition::examples::dense_chain(&[16, 30, 28, 10, 10], 3);
    let (pl, _, a) = pipeline(&m, &t, &PartitionOptions::default());
    assert!(pl.cores.len() >= 4, "the cases below need several cores");
    (m, pl, a)
}

/// `(loc, field)` of every problem.
fn places(problems: &[Problem]) -> Vec<(Loc, Option<&'static str>)> {
    problems.iter().map(|p| (p.loc.clone(), p.field)).collect()
}

/// The (layer, block) of the first block of a chip layer.
fn first_block(m: &QModel, pl: &Placement) -> (usize, String) {
    let k = pl
        .layers
        .iter()
        .position(|l| matches!(l, LayerPlacement::Chip { blocks, .. } if !blocks.is_empty()))
        .unwrap();
    (k, m.populations[k].name.clone())
}

#[test]
fn placement_problems_name_block_layer_and_field() {
    let (m, pl, _) = chain();
    let t = target("tiny");
    let (k, name) = first_block(&m, &pl);
    // inner 0 divides nothing: the block and its field.
    let mut bad = pl.clone();
    if let LayerPlacement::Chip { blocks, .. } = &mut bad.layers[k] {
        blocks[0].inner = 0;
    }
    let e = verify(&m, &t, &bad).unwrap_err();
    assert_eq!(
        places(&e.problems),
        [(
            Loc::Block {
                layer: name.clone(),
                block: 0
            },
            Some("inner")
        )],
        "{e}"
    );
    assert!(
        e.to_string()
            .contains(&format!("layer `{name}` block 0: inner: 0 does not divide")),
        "{e}"
    );
    // A block on a core the placement does not have.
    let mut bad = pl.clone();
    if let LayerPlacement::Chip { blocks, .. } = &mut bad.layers[k] {
        blocks[0].core = 999;
    }
    let e = verify(&m, &t, &bad).unwrap_err();
    assert!(
        places(&e.problems).contains(&(
            Loc::Block {
                layer: name.clone(),
                block: 0
            },
            Some("core")
        )),
        "{e}"
    );
    // A neuron left out: the layer, field `blocks`.
    let mut bad = pl.clone();
    if let LayerPlacement::Chip { blocks, .. } = &mut bad.layers[k] {
        blocks[0].tile.c.end -= 1;
    }
    let e = verify(&m, &t, &bad).unwrap_err();
    assert!(places(&e.problems).contains(&(Loc::Layer(name), Some("blocks"))), "{e}");
}

#[test]
fn placement_core_ids_are_named_by_index_and_id() {
    let (m, pl, _) = chain();
    let t = target("tiny");
    // Core 2's id beyond the system.
    let mut bad = pl.clone();
    bad.cores[2].chip = 99;
    let e = verify(&m, &t, &bad).unwrap_err();
    let id = Some(CoreId {
        chip: 99,
        core: pl.cores[2].core,
    });
    assert_eq!(places(&e.problems), [(Loc::Core { index: 2, id }, Some("id"))], "{e}");
    // Core 3 given core 1's id: the later one is named, the message the earlier.
    let mut bad = pl.clone();
    bad.cores[3] = bad.cores[1];
    let e = verify(&m, &t, &bad).unwrap_err();
    let id = Some(CoreId {
        chip: pl.cores[1].chip,
        core: pl.cores[1].core,
    });
    assert_eq!(places(&e.problems), [(Loc::Core { index: 3, id }, Some("id"))], "{e}");
    assert!(e.problems[0].message.contains("core 1 "), "{e}");
}

#[test]
fn a_wrong_latency_is_at_its_connection() {
    let (m, pl, _) = chain();
    let t = target("tiny");
    let mut m2 = m.clone();
    m2.populations[2].inputs[0].latency = 5;
    let e = verify(&m2, &t, &pl).unwrap_err();
    let conn = Loc::Connection {
        layer: m.populations[2].name.clone(),
        input: 0,
    };
    assert_eq!(places(&e.problems), [(conn, Some("latency"))], "{e}");
}

/// The same placement and artifact on a target with 12 compartments per
/// core: every core over the limit, and only those, is named by index
/// and id, with the resource as the field.
#[test]
fn over_full_cores_are_named_in_both_verifiers() {
    let (m, pl, a) = chain();
    let t = target("tiny");
    let small = tiny_with(&[
        ("max_compartments: 32", "max_compartments: 12"),
        ("max_base: 31", "max_base: 11"),
        ("max_base: 28", "max_base: 8"),
    ]);
    let want: Vec<(Loc, Option<&str>)> = usage(&m, &t, &pl)
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, u)| u.compartments > 12)
        .map(|(index, _)| {
            let id = Some(CoreId {
                chip: pl.cores[index].chip,
                core: pl.cores[index].core,
            });
            (Loc::Core { index, id }, Some("compartments"))
        })
        .collect();
    assert!(
        want.len() >= 2 && want.len() < pl.cores.len(),
        "some cores, not all, hold more than 12 compartments"
    );
    let over = |ps: &[Problem]| -> Vec<(Loc, Option<&str>)> {
        places(ps)
            .into_iter()
            .filter(|(_, f)| *f == Some("compartments"))
            .collect()
    };
    let e = verify(&m, &small, &pl).unwrap_err();
    assert_eq!(over(&e.problems), want, "{e}");
    let mut a2 = a.clone();
    a2.target_ron = small.to_ron().unwrap();
    let e = verify_artifact(&a2, &small).unwrap_err();
    assert_eq!(over(&e.problems), want, "{e}");
}

#[test]
fn artifact_table_problems_name_core_and_table() {
    let (_, _, a) = chain();
    let t = target("tiny");
    let mut bad = a.clone();
    let ci = bad
        .cores
        .iter()
        .position(|c| c.tables.iter().any(|tb| tb.syns.len() > 2))
        .unwrap();
    let ti = bad.cores[ci].tables.iter().position(|tb| tb.syns.len() > 2).unwrap();
    bad.cores[ci].tables[ti].syns.reverse();
    let e = verify_artifact(&bad, &t).unwrap_err();
    let table = Loc::Table { core: ci, table: ti };
    assert!(places(&e.problems).contains(&(table, Some("syns"))), "{e}");
    assert!(e.problems.iter().all(|p| p.loc.core() == Some(ci)), "{e}");
}

#[test]
fn artifact_check_names_compartment_layer_and_field() {
    let (_, _, a) = chain();
    // A compartment's profile out of range.
    let mut bad = a.clone();
    bad.cores[2].cx[3].profile = 250;
    let at = Loc::Compartment {
        core: 2,
        compartment: 3,
    };
    let p = bad.check().unwrap_err();
    assert_eq!((&p.loc, p.field), (&at, Some("profile")), "{p}");
    // The emulator refuses it with the same problem, and so does the artifact verifier.
    assert_eq!(Emulator::new(&bad).err(), Some(EmuError::Invalid(p.clone())));
    assert_eq!(verify_artifact(&bad, &target("tiny")).unwrap_err().problems, [p]);
    // A route to an axon core 0 does not have, from compartment 1 of core 1.
    let mut bad = a.clone();
    bad.cores[1].routes[1].push(Route {
        core: 0,
        axon: 9999,
        atom: 0,
    });
    let p = bad.check().unwrap_err();
    let at = Loc::Compartment {
        core: 1,
        compartment: 1,
    };
    assert_eq!((&p.loc, p.field), (&at, Some("routes")), "{p}");
    // A layer with one location too few.
    let mut bad = a.clone();
    let li = bad.layers.len() - 1;
    if let nmc_artifact::LayerLoc::Chip(locs) = &mut bad.layers[li].loc {
        locs.pop();
    }
    let p = bad.check().unwrap_err();
    assert_eq!(
        (p.loc.layer(), p.field),
        (Some(a.layers[li].name.as_str()), Some("loc")),
        "{p}"
    );
}

#[test]
fn emulator_problems_name_table_input_and_target_field() {
    let (m, _, a) = chain();
    // A weight exponent no accumulator holds, on a format of its own for
    // the last table of core 1 with a non-zero synapse: that table is named.
    let mut bad = a.clone();
    let c = &mut bad.cores[1];
    let ti = c
        .tables
        .iter()
        .rposition(|tb| tb.syns.iter().any(|s| s.mant != 0))
        .unwrap();
    assert!(ti > 0, "a table other than the first");
    let mut f = c.formats[c.tables[ti].format as usize];
    f.weight_exp = 64;
    c.formats.push(f);
    c.tables[ti].format = (c.formats.len() - 1) as _;
    match Emulator::new(&bad).err() {
        Some(EmuError::Invalid(p)) => {
            assert_eq!(
                (&p.loc, p.field),
                (&Loc::Table { core: 1, table: ti }, Some("weight_exp")),
                "{p}"
            )
        }
        other => panic!("expected an invalid artifact, got {other:?}"),
    }
    // The target named but not carried.
    let mut bad = a.clone();
    bad.target_name = "elsewhere".into();
    match Emulator::new(&bad).err() {
        Some(EmuError::Target(p)) => assert_eq!((&p.loc, p.field), (&Loc::Whole, Some("target_name")), "{p}"),
        other => panic!("expected a target error, got {other:?}"),
    }
    // An input with one feature too many: input 0, field `features`.
    let emu = Emulator::new(&a).unwrap();
    let mut x = inputs(&m, 4, 1);
    let x0 = &mut x[0];
    x0.features += 1;
    x0.data.resize(x0.batch * x0.steps * x0.features, 0.0);
    match emu.run(&x, 4).err() {
        Some(EmuError::Input { file: None, problem }) => {
            assert_eq!(
                (&problem.loc, problem.field),
                (&Loc::Input(0), Some("features")),
                "{problem}"
            )
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}

/// A hand-edited artifact whose stored values the target cannot hold is
/// refused by the emulator, naming where and which field, instead of running
/// with a clamped value: a decay past the decay format, a refractory delay
/// past its counter, a threshold mantissa of 0, a vmax exponent out of range,
/// a bias mantissa past its bits, a weight mantissa past the format.
#[test]
fn emulator_refuses_stored_values_outside_the_target_formats() {
    let (_, _, a) = chain();
    let t = target("tiny");
    let f = t.formats();
    let at_core = |i: usize, a: &Artifact| Loc::Core {
        index: i,
        id: Some(CoreId {
            chip: a.cores[i].chip,
            core: a.cores[i].core,
        }),
    };
    type Edit = (&'static str, fn(&mut Artifact, &nmc_target::Target));
    let profile_edits: [Edit; 4] = [
        ("decay_u", |a, t| {
            a.cores[1].profiles[0].decay_u = (t.formats().decay().max() + 1) as u16
        }),
        ("refractory", |a, t| {
            a.cores[1].profiles[0].refractory = (t.formats().refractory().max_steps() + 1) as u8
        }),
        ("vth_mant", |a, _| a.cores[1].profiles[0].vth_mant = 0),
        ("vmax_exp", |a, t| {
            a.cores[1].profiles[0].vmax_exp = (*t.formats().voltage().vmax_exp_range().end() + 1) as u8
        }),
    ];
    assert!(f.refractory().max_steps() < 255 && f.decay().max() < u32::from(u16::MAX));
    for (field, edit) in profile_edits {
        let mut bad = a.clone();
        edit(&mut bad, &t);
        match Emulator::new(&bad).err() {
            Some(EmuError::Invalid(p)) => {
                assert_eq!((&p.loc, p.field), (&at_core(1, &a), Some(field)), "{p}");
                assert!(p.to_string().contains("profile 0"), "{p}");
            }
            other => panic!("{field}: expected an invalid artifact, got {other:?}"),
        }
    }
    let mut bad = a.clone();
    bad.cores[2].cx[3].bias_mant = (f.bias().mantissa_max() + 1) as i32;
    match Emulator::new(&bad).err() {
        Some(EmuError::Invalid(p)) => assert_eq!(
            (&p.loc, p.field),
            (
                &Loc::Compartment {
                    core: 2,
                    compartment: 3
                },
                Some("bias_mant")
            ),
            "{p}"
        ),
        other => panic!("bias: expected an invalid artifact, got {other:?}"),
    }
    let mut bad = a.clone();
    let c = &mut bad.cores[1];
    let ti = c.tables.iter().position(|tb| !tb.syns.is_empty()).unwrap();
    let exp = i32::from(c.formats[c.tables[ti].format as usize].weight_exp);
    c.tables[ti].syns[0].mant = i16::try_from(f.weight().max_abs_mantissa(exp, false) + 1).unwrap();
    match Emulator::new(&bad).err() {
        Some(EmuError::Invalid(p)) => {
            assert_eq!(
                (&p.loc, p.field),
                (&Loc::Table { core: 1, table: ti }, Some("mant")),
                "{p}"
            )
        }
        other => panic!("weight: expected an invalid artifact, got {other:?}"),
    }
    // The artifact as emitted passes.
    Emulator::new(&a).unwrap();
}
