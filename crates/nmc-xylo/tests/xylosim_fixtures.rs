//! Emulator and reference against XyloSim (rockpool 3.1.0 + xylosim 0.1.3)
//! on every committed fixture of tests/fixtures/xylo: 0 mismatches on every
//! recorded array, for XyloAudio 2 and XyloIMU.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayD, Ix2};
use nmc_xylo::npz::read_npz;
use nmc_xylo::{Chip, Config, Record, emu, reference};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/xylo")
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".spec.npz"))
        .collect();
    v.sort();
    v
}

fn as2(a: &ArrayD<i64>) -> Array2<i64> {
    a.clone().into_dimensionality::<Ix2>().unwrap()
}

/// (XyloSim's name, our array) for every recorded array.
fn ours(r: &Record) -> Vec<(&'static str, Array2<i64>)> {
    let s = r.states.as_ref().unwrap();
    let w = |a: &Array2<i16>| a.mapv(i64::from);
    let mut v = vec![
        ("Spikes", r.spikes_hidden.mapv(i64::from)),
        ("Spikes_out", r.spikes_output.mapv(i64::from)),
        ("Vmem", w(&s.hidden_vmem)),
        ("Isyn", w(&s.hidden_isyn)),
        ("Vmem_out", w(&s.output_vmem)),
        ("Isyn_out", w(&s.output_isyn)),
    ];
    if let Some(a) = &s.hidden_isyn2 {
        v.push(("Isyn2", w(a)));
    }
    v
}

/// Mismatching elements between `rec` and XyloSim's arrays, and a note per array.
fn compare(label: &str, rec: &Record, truth: &nmc_xylo::npz::Arrays, notes: &mut Vec<String>) -> (usize, usize) {
    let (mut bad, mut total) = (0, 0);
    let mine = ours(rec);
    let names: Vec<&str> = mine.iter().map(|(n, _)| *n).collect();
    for key in truth.keys().filter(|k| *k != "input") {
        assert!(
            names.contains(&key.as_str()),
            "{label}: XyloSim recorded {key}, we do not"
        );
    }
    for (name, a) in mine {
        let t = as2(truth
            .get(name)
            .unwrap_or_else(|| panic!("{label}: fixture lacks {name}")));
        assert_eq!(t.dim(), a.dim(), "{label}: {name} shape");
        let n = t.iter().zip(a.iter()).filter(|(x, y)| x != y).count();
        if n > 0 {
            let ((st, nr), _) = t.indexed_iter().zip(a.iter()).find(|((_, x), y)| *x != *y).unwrap().0;
            notes.push(format!(
                "{label}: {name}: {n} mismatches, first at step {st} neuron {nr}: XyloSim {} vs {}",
                t[[st, nr]],
                a[[st, nr]]
            ));
        }
        bad += n;
        total += t.len();
    }
    (bad, total)
}

fn check_chip(chip_name: &str, dir: &str) {
    let chip = Chip::builtin(chip_name).unwrap();
    let specs = cases(dir);
    assert!(specs.len() >= 20, "{dir}: only {} fixtures", specs.len());
    let mut notes = Vec::new();
    let (mut bad, mut total, mut spikes) = (0, 0, 0i64);
    for spec in &specs {
        let label = spec.file_name().unwrap().to_string_lossy().replace(".spec.npz", "");
        let config = Config::read_npz(spec).unwrap();
        let run = read_npz(&spec.with_file_name(format!("{label}.run.npz"))).unwrap();
        let input = as2(&run["input"]).mapv(|x| x as u32);
        let e = emu::run(&chip, &config, input.view(), emu::Recording::States).unwrap();
        let r = reference::run(&chip, &config, input.view()).unwrap();
        for (who, rec) in [("emu", &e), ("reference", &r)] {
            let (b, t) = compare(&format!("{dir}/{label} {who}"), rec, &run, &mut notes);
            bad += b;
            total += t;
        }
        spikes += e.spikes_hidden.iter().map(|&x| i64::from(x)).sum::<i64>();
    }
    eprintln!(
        "{chip_name}: {} fixtures, {total} recorded values compared (emulator + reference), {bad} mismatches, {spikes} hidden spikes",
        specs.len()
    );
    assert!(spikes > 0, "the fixtures must spike");
    assert!(bad == 0, "{bad} mismatching values:\n{}", notes.join("\n"));
}

#[test]
fn audio2_matches_xylosim() {
    check_chip("xylo-audio2", "audio2");
}

#[test]
fn imu_matches_xylosim() {
    check_chip("xylo-imu", "imu");
}
