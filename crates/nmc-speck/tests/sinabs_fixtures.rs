//! nmc-speck against sinabs 3.1.3 on every committed fixture
//! (tests/fixtures/speck, made by its generate.py): memory per layer equal
//! to `memory_summary()`, the fit relation equal to `find_chip_layers`, the
//! chip equal to `get_constraints()`, and a placement exactly when sinabs
//! found one, with the precise reason when not.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use nmc_speck::place::fit_lists;
use nmc_speck::{Chip, CoreMemory, Layer, Memory, PlaceError, Placement, assign, place};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    sinabs_version: String,
    layers: Vec<Layer>,
    sinabs: Sinabs,
}

#[derive(Deserialize)]
struct Sinabs {
    constraints: Vec<CoreMemory>,
    memory: Option<Vec<Memory>>,
    fits: Option<Vec<Vec<usize>>>,
    mapping: Option<Vec<usize>>,
    error: Option<String>,
    stage: Option<String>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/speck")
}

fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let f: Fixture = serde_json::from_str(&std::fs::read_to_string(p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(f.sinabs_version, "3.1.3", "{}", f.name);
            f
        })
        .collect()
}

fn fixture(name: &str) -> Fixture {
    fixtures()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn chip() -> Chip {
    Chip::builtin("speck").unwrap()
}

fn names(f: &Fixture) -> Vec<String> {
    f.layers.iter().map(|l| l.name.clone()).collect()
}

fn memories(f: &Fixture) -> Vec<Memory> {
    f.layers.iter().map(Memory::of).collect()
}

/// Every layer on a core it fits, no core twice.
fn assert_valid(f: &Fixture, p: &Placement, fits: &[Vec<usize>]) {
    assert_eq!(p.layers.len(), f.layers.len(), "{}", f.name);
    let cores: BTreeSet<usize> = p.layers.iter().map(|l| l.core).collect();
    assert_eq!(
        cores.len(),
        p.layers.len(),
        "{}: a core holds two layers: {:?}",
        f.name,
        p.cores_used()
    );
    for (i, l) in p.layers.iter().enumerate() {
        assert!(
            fits[i].contains(&l.core),
            "{}: layer {i} on core {} but fits {:?}",
            f.name,
            l.core,
            fits[i]
        );
    }
}

#[test]
fn there_are_fixtures_of_every_kind() {
    let all = fixtures();
    assert!(all.len() >= 30, "{} fixtures", all.len());
    let mapped = all.iter().filter(|f| f.sinabs.mapping.is_some()).count();
    let unmapped = all
        .iter()
        .filter(|f| f.sinabs.stage.as_deref() == Some("mapping"))
        .count();
    let refused = all
        .iter()
        .filter(|f| f.sinabs.stage.as_deref() == Some("conversion"))
        .count();
    assert!(
        mapped >= 15 && unmapped >= 10 && refused >= 2,
        "{mapped} mapped, {unmapped} unmapped, {refused} refused"
    );
}

#[test]
fn chip_is_sinabs_get_constraints() {
    let c = chip();
    for f in fixtures() {
        assert_eq!(c.cores(), &f.sinabs.constraints[..], "{}", f.name);
    }
}

#[test]
fn memory_equals_sinabs_memory_summary_per_layer() {
    let mut layers = 0;
    for f in fixtures() {
        let Some(want) = &f.sinabs.memory else { continue };
        assert_eq!(want.len(), f.layers.len(), "{}", f.name);
        for (i, (l, w)) in f.layers.iter().zip(want).enumerate() {
            assert_eq!(Memory::of(l), *w, "{} layer {i}", f.name);
            layers += 1;
        }
    }
    assert!(layers >= 100, "only {layers} layers compared");
}

#[test]
fn conv_output_and_fit_relation_equal_sinabs() {
    let c = chip();
    for f in fixtures() {
        for l in &f.layers {
            assert_eq!(l.conv_output(), Some(l.output), "{} layer {}", f.name, l.name);
        }
        if let Some(fits) = &f.sinabs.fits {
            assert_eq!(&fit_lists(&c, &memories(&f)), fits, "{}", f.name);
        }
    }
}

#[test]
fn placement_exists_exactly_when_sinabs_found_one() {
    let c = chip();
    for f in fixtures() {
        if f.sinabs.stage.as_deref() == Some("conversion") {
            continue;
        }
        let fits = f.sinabs.fits.clone().unwrap();
        let got = assign(&c, &names(&f), &memories(&f));
        match (&f.sinabs.mapping, got) {
            (Some(theirs), Ok(p)) => {
                // sinabs' own assignment is valid by nmc's rules too.
                let sinabs = Placement {
                    layers: p
                        .layers
                        .iter()
                        .zip(theirs)
                        .map(|(l, &core)| nmc_speck::Placed { core, ..l.clone() })
                        .collect(),
                    ..p.clone()
                };
                assert_valid(&f, &sinabs, &fits);
                assert_valid(&f, &p, &fits);
            }
            (None, Err(e)) => {
                let msg = f.sinabs.error.as_deref().unwrap();
                assert!(msg.contains("could not be mapped to any core"), "{}: {msg}", f.name);
                assert_reason(&f, &fits, &e);
            }
            (Some(m), Err(e)) => panic!("{}: sinabs mapped {m:?}, nmc says {e}", f.name),
            (None, Ok(p)) => panic!("{}: sinabs found none, nmc {:?}", f.name, p.cores_used()),
        }
    }
}

/// The reason is the right one and its claim holds on sinabs' fit lists.
fn assert_reason(f: &Fixture, fits: &[Vec<usize>], e: &PlaceError) {
    let none: Vec<usize> = (0..fits.len()).filter(|&i| fits[i].is_empty()).collect();
    match e {
        PlaceError::NoCore { no_fit, .. } => {
            assert_eq!(no_fit.iter().map(|n| n.index).collect::<Vec<_>>(), none, "{}", f.name);
        }
        PlaceError::TooManyLayers { layers, cores } => {
            assert!(
                none.is_empty() && *layers == f.layers.len() && *layers > *cores && *cores == 9,
                "{}",
                f.name
            );
        }
        PlaceError::Crowded { layers, cores } => {
            assert!(none.is_empty() && f.layers.len() <= 9, "{}", f.name);
            assert!(cores.len() < layers.len(), "{}: {e}", f.name);
            for (i, _) in layers {
                assert!(
                    fits[*i].iter().all(|c| cores.contains(c)),
                    "{}: layer {i} fits {:?}",
                    f.name,
                    fits[*i]
                );
            }
        }
        PlaceError::Layer(le) => panic!("{}: memory-only placement gave a layer error {le}", f.name),
    }
}

#[test]
fn each_failure_says_which_cause() {
    let c = chip();
    let err = |name: &str| {
        let f = fixture(name);
        assign(&c, &names(&f), &memories(&f)).unwrap_err()
    };
    // A layer too big for any core: which, and by how much.
    let e = err("kernel_fits_no_core");
    assert_eq!(
        e.to_string(),
        "layer 1 (`1`) fits no core: kernel memory 262144 exceeds the largest core's 65536 by 196608"
    );
    let e = err("neuron_fits_no_core");
    assert!(
        e.to_string()
            .contains("neuron memory 131072 exceeds the largest core's 65536 by 65536"),
        "{e}"
    );
    let e = err("linear_too_big").to_string();
    assert!(
        e.contains("kernel memory 131072 exceeds the largest core's 65536 by 65536"),
        "{e}"
    );
    // Each memory fits some core, but no core has both.
    let e = err("no_core_has_both").to_string();
    assert!(
        e.contains("kernel memory 65536 fits cores 5, 6, neuron memory 32768 fits cores 0, 1, 2, 3, 4"),
        "{e}"
    );
    // Too many layers.
    assert_eq!(
        err("ten_layers").to_string(),
        "10 layers, 9 cores: the chip runs one layer per core"
    );
    assert!(matches!(
        err("ten_layers"),
        PlaceError::TooManyLayers { layers: 10, cores: 9 }
    ));
    // Both: the layer that fits nowhere, and the count.
    let e = err("ten_layers_one_too_big");
    assert!(
        matches!(&e, PlaceError::NoCore { no_fit, layers: 10, cores: 9 } if no_fit.len() == 1 && no_fit[0].index == 6)
    );
    assert!(
        e.to_string().ends_with("(and 10 layers, 9 cores: one layer per core)"),
        "{e}"
    );
    // Hall witnesses.
    let e = err("hall_three_on_two");
    assert_eq!(
        e.to_string(),
        "3 layers (1 `1`, 3 `3`, 5 `5`) fit only 2 cores (5, 6): one layer per core"
    );
    let e = err("hall_four_on_three");
    assert_eq!(
        e.to_string(),
        "4 layers (0 `0`, 1 `1`, 2 `2`, 3 `3`) fit only 3 cores (0, 1, 2): one layer per core"
    );
}

#[test]
fn matching_fills_the_chip_when_it_must() {
    let c = chip();
    for name in ["full_chip_needs_matching", "nine_layers"] {
        let f = fixture(name);
        let p = place(&c, &f.layers).unwrap();
        assert_valid(&f, &p, f.sinabs.fits.as_ref().unwrap());
        assert!(p.report().free_cores.is_empty(), "{name}");
    }
}

#[test]
fn chip_rules_sinabs_does_not_check_at_mapping() {
    let c = chip();
    for (name, field, sinabs_maps) in [
        ("kernel_17", "kernel", true),
        ("stride_3", "stride", true),
        ("fan_out_3", "destinations", true),
        ("non_square_kernel", "kernel", false),
        ("lif_neuron", "neuron", false),
    ] {
        let f = fixture(name);
        assert_eq!(f.sinabs.mapping.is_some(), sinabs_maps, "{name}");
        match place(&c, &f.layers) {
            Err(PlaceError::Layer(e)) => {
                assert_eq!((e.index, e.field.as_str()), (0, field), "{name}: {e}");
                assert!(e.to_string().starts_with(&format!("layer 0 (`0`): {field}: ")), "{e}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Every other fixture passes the checks, so `place` = `assign` there.
    for f in fixtures() {
        if ["kernel_17", "stride_3", "fan_out_3", "non_square_kernel", "lif_neuron"].contains(&f.name.as_str()) {
            continue;
        }
        let (a, b) = (place(&c, &f.layers), assign(&c, &names(&f), &memories(&f)));
        assert_eq!(a, b, "{}", f.name);
    }
    let e = fixture("non_square_kernel").sinabs.error.unwrap();
    assert!(e.contains("must have the same height and width"), "{e}");
}

#[test]
fn nir_paper_cnn_report() {
    let f = fixture("nir_paper_nmnist_cnn");
    let p = place(&chip(), &f.layers).unwrap();
    let r = p.report();
    assert_eq!(r.rows.len(), 5);
    // The 8x4x4 -> 256 linear layer: kernel 8 · 2^(4+8) = 32768, cores 3-6 only.
    assert_eq!(r.rows[3].kernel.used, 32768);
    assert_eq!(r.rows[3].fits, vec![3, 4, 5, 6]);
    let core = r.rows[3].core;
    assert_eq!(r.rows[3].kernel.capacity, chip().cores()[core].kernel_memory);
    let pct = 100.0 * 32768.0 / r.rows[3].kernel.capacity as f64;
    assert!((r.rows[3].kernel.percent - pct).abs() < 0.051);
    let text = r.to_text();
    assert!(text.starts_with("speck: 5 layers on 5 of 9 cores"), "{text}");
    assert_eq!(text.lines().count(), 1 + 1 + 5 + 1, "{text}");
    assert!(text.contains("32768/"), "{text}");
    let back: nmc_speck::Report = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
}
