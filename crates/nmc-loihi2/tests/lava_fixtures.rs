//! On every network of tests/fixtures/lava (68 Lava 0.10 fixed_pt runs), the
//! emulator and the reference equal Lava's recorded arrays on every variable
//! and every step.
#![allow(clippy::unwrap_used)]

mod common;

use nmc_loihi2::{Chip, Record, emu, reference};

/// (mismatching values, values compared) of `rec` against the fixture.
fn compare(f: &common::Fixture, rec: &Record, who: &str, report: &mut Vec<String>) -> (usize, usize) {
    let (mut bad, mut total) = (0, 0);
    for (key, lava) in &f.recorded {
        let t = rec
            .get(key)
            .unwrap_or_else(|| panic!("{}: {who} records no {key}", f.name));
        let mine = t.view();
        assert_eq!(mine.dim(), lava.dim(), "{}: {who} {key}: shape", f.name);
        total += lava.len();
        let diff = mine.iter().zip(lava.iter()).filter(|(a, b)| a != b).count();
        if diff > 0 {
            let row = (0..lava.nrows()).find(|&r| mine.row(r) != lava.row(r)).unwrap();
            report.push(format!(
                "{}: {who} {key}: {diff} values differ, first at row {row}: {:?} vs Lava {:?}",
                f.name,
                mine.row(row).to_vec(),
                lava.row(row).to_vec()
            ));
        }
        bad += diff;
    }
    (bad, total)
}

#[test]
fn emulator_and_reference_equal_lava_on_every_fixture() {
    let chip = Chip::builtin("loihi2").unwrap();
    let names = common::fixture_names();
    assert_eq!(names.len(), 68, "tests/fixtures/lava holds 68 networks");
    let mut report = Vec::new();
    let (mut values, mut emu_bad, mut ref_bad) = (0, 0, 0);
    for name in &names {
        let f = common::load(&chip, name);
        let a = emu::run(&chip, &f.net, &f.input, f.steps).unwrap();
        let b = reference::run(&f.net, &f.input, f.steps).unwrap();
        let (bad, n) = compare(&f, &a, "emulator", &mut report);
        emu_bad += bad;
        values += n;
        ref_bad += compare(&f, &b, "reference", &mut report).0;
        // Beyond the recorded members, the two agree on every variable.
        assert_eq!(a, b, "{name}: emulator and reference differ");
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
    assert_eq!((emu_bad, ref_bad), (0, 0));
    // docs/loihi2.md: replay.py reproduces all 160,740 recorded values.
    assert_eq!(values, 160_740);
}

#[test]
fn effective_weights_equal_lavas_weights_effective() {
    // Net::from_lava_json rejects a weights_effective that differs from the
    // rules; here the count of connections that went through that check.
    let chip = Chip::builtin("loihi2").unwrap();
    let mut checked = 0;
    for name in common::fixture_names() {
        let f = common::load(&chip, &name);
        for p in f.json["processes"].as_array().unwrap() {
            if p.get("weights_effective").is_some() {
                checked += 1;
            }
        }
    }
    assert!(checked >= 68, "{checked}");
}

#[test]
fn latency_rows_match_the_fixture_metadata() {
    // As the fixtures measured it: the first row where a variable differs
    // from a second run on all-zero input (null: never differs).
    let chip = Chip::builtin("loihi2").unwrap();
    let mut checked = 0;
    for name in common::fixture_names() {
        let f = common::load(&chip, &name);
        let a = emu::run(&chip, &f.net, &f.input, f.steps).unwrap();
        let Some(src) = f.net.processes().iter().find(|p| p.kind.name() == "source") else {
            continue;
        };
        let (c, l) = (src.kind.output_width(), f.steps);
        let zero = nmc_loihi2::Input::single(ndarray::Array2::zeros((c, l)));
        let z = emu::run(&chip, &f.net, &zero, f.steps).unwrap();
        for (k, v) in f.json["first_affected_row"].as_object().unwrap() {
            let (ta, tz) = (a.get(k).unwrap(), z.get(k).unwrap());
            let got = (0..ta.steps()).find(|&r| ta.row(r) != tz.row(r));
            assert_eq!(got.map(|r| r as u64), v.as_u64(), "{name}: {k} first affected row");
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}
