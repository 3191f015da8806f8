//! The identity-based same-file guard and the `.npz` key check
//! (docs/reliability.md, "Atomic outputs"): an output that is one of the
//! command's inputs — spelled differently, through a hard link or a symbolic
//! link — is a usage error (exit 2) before anything is written, and the input
//! is left byte for byte; two outputs naming one file likewise. Layer names
//! that map to one `.npz` key fail before the file is created.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory holding a copy of the small hostile-suite model
/// (`m.nir`) and an input array (`x.npy`, 5 samples × 3 features).
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-same-file-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(root().join("tests/fixtures/hostile/small.nir"), d.join("m.nir")).unwrap();
    std::fs::write(d.join("x.npy"), common::npy_f64(&[5, 3], &[1.0; 15])).unwrap();
    d
}

/// Runs `nmc` in `dir` (relative paths are relative to it).
fn nmc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files of `dir`, sorted: nothing new (no temporary files) may appear.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts exit 2 naming `flag`, the input file unchanged and no file added.
fn refused(dir: &Path, args: &[&str], flag: &str, input: &str) {
    let before = std::fs::read(dir.join(input)).unwrap();
    let files = listing(dir);
    let o = nmc(dir, args);
    assert_eq!(o.status.code(), Some(2), "nmc {args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(flag), "nmc {args:?}: `{flag}` missing in {e}");
    assert!(
        e.contains("is the input file") || e.contains("name the same file"),
        "nmc {args:?}: {e}"
    );
    assert_eq!(
        std::fs::read(dir.join(input)).unwrap(),
        before,
        "nmc {args:?} changed {input}"
    );
    assert_eq!(listing(dir), files, "nmc {args:?} left a file behind");
}

#[test]
fn an_output_that_is_the_model_is_refused_however_it_is_spelled() {
    let d = scratch("model");
    std::fs::hard_link(d.join("m.nir"), d.join("hard.nir")).unwrap();
    std::os::unix::fs::symlink("m.nir", d.join("soft.nir")).unwrap();
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    for out in ["m.nir", "./m.nir", "sub/../m.nir", "hard.nir", "soft.nir"] {
        refused(
            &d,
            &["compile", "m.nir", "--target", "loihi1", "-o", out],
            "-o",
            "m.nir",
        );
        refused(
            &d,
            &["quantize", "m.nir", "--target", "loihi1", "-o", out],
            "-o",
            "m.nir",
        );
        refused(
            &d,
            &[
                "verify", "m.nir", "--target", "loihi1", "--input", "x.npy", "--html", out,
            ],
            "--html",
            "m.nir",
        );
        refused(
            &d,
            &["partition", "m.nir", "--target", "loihi1", "--report", out],
            "--report",
            "m.nir",
        );
        refused(
            &d,
            &["simulate", "m.nir", "--input", "x.npy", "--out", out],
            "--out",
            "m.nir",
        );
    }
    // The input array is an input too.
    refused(
        &d,
        &["simulate", "m.nir", "--input", "x.npy", "--out", "./x.npy"],
        "--out",
        "x.npy",
    );
    // A different file is fine.
    let o = nmc(&d, &["compile", "m.nir", "--target", "loihi1", "-o", "m.nmca"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn two_outputs_naming_one_file_are_refused() {
    let d = scratch("outputs");
    refused(
        &d,
        &[
            "partition",
            "m.nir",
            "--target",
            "loihi1",
            "--report",
            "p.out",
            "--html",
            "./p.out",
        ],
        "--html",
        "m.nir",
    );
    assert!(!d.join("p.out").exists());
}

#[test]
fn a_golden_file_cannot_be_written_while_it_is_read() {
    let d = scratch("golden");
    let o = nmc(&d, &["compile", "m.nir", "--target", "loihi1", "-o", "m.nmca"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let run = |extra: &[&str]| {
        let mut a = vec!["emulate", "m.nmca", "--input", "x.npy", "--steps", "5"];
        a.extend_from_slice(extra);
        nmc(&d, &a)
    };
    let o = run(&["--expect", "g.nmcs", "--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The paths differ as written; the file is the same.
    refused(
        &d,
        &[
            "emulate", "m.nmca", "--input", "x.npy", "--steps", "5", "--spikes", "./g.nmcs", "--expect", "g.nmcs",
        ],
        "--spikes",
        "g.nmcs",
    );
    // The golden still matches.
    let o = run(&["--expect", "g.nmcs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Recording and blessing one file at once is the documented exception.
    let o = run(&["--spikes", "g.nmcs", "--expect", "./g.nmcs", "--bless"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn layer_names_that_share_an_npz_key_fail_before_anything_is_written() {
    let d = scratch("npz");
    std::fs::copy(root().join("tests/fixtures/hostile/key_clash.nir"), d.join("k.nir")).unwrap();
    std::fs::write(d.join("old.npz"), b"the old file").unwrap();
    let expect_clash = |o: &Output| {
        assert_eq!(o.status.code(), Some(3), "{}", stderr(o));
        let e = stderr(o);
        for part in ["old.npz", "`a\\b`", "`a_b`", "spikes.a_b", "nothing was written"] {
            assert!(e.contains(part), "`{part}` missing in {e}");
        }
        assert_eq!(std::fs::read(d.join("old.npz")).unwrap(), b"the old file");
    };
    let files = listing(&d);
    expect_clash(&nmc(&d, &["simulate", "k.nir", "--input", "x.npy", "--out", "old.npz"]));
    assert_eq!(listing(&d), files);
    let o = nmc(&d, &["compile", "k.nir", "--target", "loihi1", "-o", "k.nmca"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = listing(&d);
    expect_clash(&nmc(&d, &["emulate", "k.nmca", "--input", "x.npy", "--out", "old.npz"]));
    assert_eq!(listing(&d), files);
}
