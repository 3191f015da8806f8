#![allow(clippy::unwrap_used)]
//! Inputs the fuzzers (fuzz/, docs/reliability.md) found that once panicked,
//! hung or allocated without bound, minimised, under
//! `tests/fuzz-regressions/<target>/`. Each is fed to the same reader the
//! fuzz target calls, the same way; it must return (Ok or an error naming
//! the file) without panicking. No cargo-fuzz or Python needed.

use nmc_artifact::{Artifact, FORMAT_VERSIONS_READ};

/// The artifact format the committed fuzz payloads were found against.
const FORMAT_V1: u32 = FORMAT_VERSIONS_READ[0];
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fuzz-regressions")
        .join(target)
}

/// Runs `read` on every file of the target's directory; collects panics
/// (`read` asserts what a loaded model must satisfy) and errors that do not
/// name the file, and fails listing them all.
fn each_input(target: &str, read: impl Fn(&str, &[u8]) -> Result<(), String>) {
    let Ok(entries) = std::fs::read_dir(dir(target)) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let start = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| read(&name, &bytes))) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) if msg.contains(&name) => {}
            Ok(Err(msg)) => failures.push(format!("{name}: the error does not name the file: {msg}")),
            Err(p) => {
                let why = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: panicked: {why}"));
            }
        }
        // Generous: the fuzzers' limit is 10 s in a debug-assertion build.
        let took = start.elapsed();
        if took > Duration::from_secs(10) {
            failures.push(format!("{name}: took {took:?}"));
        }
    }
    assert!(failures.is_empty(), "{target}:\n{}", failures.join("\n"));
}

#[test]
fn nir_regressions_load_or_fail_cleanly() {
    each_input("nir", |name, bytes| {
        match nmc_frontend::load_nir_bytes(name, bytes, &nmc_frontend::LoadOptions::default()) {
            Ok(g) => {
                assert!(nmc_ir::verify(&g).is_ok(), "loaded but does not verify");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    });
}

/// `huge-chunked-dataset-dim.nir`: kitchen_sink.nir with one byte changed,
/// so that a chunked dataset's dimension reads 83,886,090; reading it
/// allocated 671 MB for a 165 KB file. The reader now refuses a dataset
/// larger than the file could hold, before allocating.
#[test]
fn nir_dataset_larger_than_the_file_could_hold_is_refused() {
    let name = "huge-chunked-dataset-dim.nir";
    let bytes = std::fs::read(dir("nir").join(name)).unwrap();
    let e = nmc_frontend::load_nir_bytes(name, &bytes, &nmc_frontend::LoadOptions::default())
        .unwrap_err()
        .to_string();
    // The decoded-memory budget refuses it first ("…: node `cubali`, field `w_in`:
    // cannot be read: resource limit: 83886090 elements would take 671088720 bytes once
    // decoded; …"); the reader's per-read limit (1024× the file) backs it up.
    assert!(
        e.starts_with(name) && e.contains("field `w_in`") && e.contains("83886090 elements"),
        "{e}"
    );
}

#[test]
fn onnx_regressions_convert_or_fail_cleanly() {
    each_input("onnx", |name, bytes| {
        let opts = nmc_frontend::onnx::ConvertOptions::default();
        match nmc_frontend::onnx::convert_bytes(name, bytes, &opts) {
            Ok(c) => {
                assert!(nmc_ir::verify(&c.graph).is_ok(), "converted but does not verify");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    });
}

/// `initializer-dims-product-overflow.onnx` (1,160 bytes, from the fuzzer
/// and `tmin`): an initializer whose dims multiply past usize. The element
/// count was an unchecked product: a panic with overflow checks, a wrapped
/// count in release.
#[test]
fn onnx_initializer_dims_overflow_is_reported() {
    let name = "initializer-dims-product-overflow.onnx";
    let bytes = std::fs::read(dir("onnx").join(name)).unwrap();
    let opts = nmc_frontend::onnx::ConvertOptions::default();
    let e = nmc_frontend::onnx::convert_bytes(name, &bytes, &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with(name) && e.contains("the element count overflows"), "{e}");
}

#[test]
fn target_ron_regressions_parse_or_fail_cleanly() {
    each_input("target_ron", |name, bytes| {
        let Ok(src) = std::str::from_utf8(bytes) else {
            return Ok(());
        };
        nmc_target::Target::from_ron_str(src, name)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

#[test]
fn qmodel_ron_regressions_parse_or_fail_cleanly() {
    each_input("qmodel_ron", |name, bytes| {
        let Ok(src) = std::str::from_utf8(bytes) else {
            return Ok(());
        };
        nmc_quant::qmodel_from_ron(src, name)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// As the fuzz target: input without the `NMCA` magic is the payload, given
/// a valid header; an artifact that loads is prepared for emulation.
#[test]
fn artifact_regressions_load_or_fail_cleanly() {
    each_input("artifact", |name, data| {
        let a = Artifact::from_bytes(name, &wrap_payload(data)).map_err(|e| e.to_string())?;
        // Any error is fine here (the emulator's do not name the file).
        let _ = nmc_emu::Emulator::new(&a);
        Ok(())
    });
}

/// `layer-shape-product-overflow` (a payload): a layer shape of 100-odd
/// dimensions, some zero, whose running product overflows before reaching a
/// zero. `check` multiplied it out unchecked: a multiply-overflow panic with
/// overflow checks (this test fails on the unfixed code without
/// `--release`; in release the wrapped product reached 0, the right count).
/// Now a zero dimension makes the count 0 and an overflowing product is an
/// error naming the layer.
#[test]
fn artifact_layer_shape_overflow_is_not_a_panic() {
    let name = "layer-shape-product-overflow";
    let data = std::fs::read(dir("artifact").join(name)).unwrap();
    let e = Artifact::from_bytes(name, &wrap_payload(&data))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(name) && e.contains("invalid artifact"), "{e}");
    let Err(nmc_artifact::ArtifactError::Invalid { problem, .. }) = Artifact::from_bytes(name, &wrap_payload(&data))
    else {
        panic!("not an invalid artifact: {e}")
    };
    // (This payload breaks its first layer's location too, found first.)
    assert!(problem.loc.layer().is_some() && problem.field.is_some(), "{e}");
}

/// `syn-format-weight-exp-64` (a payload: the braille artifact for `tiny`
/// with one byte changed): a synapse format's weight exponent of 64. The
/// emulator shifted the mantissa by it: a shift-overflow panic with
/// overflow checks, a wrapped weight in release.
#[test]
fn artifact_weight_exponent_beyond_the_accumulator_is_an_error() {
    let name = "syn-format-weight-exp-64";
    let data = std::fs::read(dir("artifact").join(name)).unwrap();
    let a = Artifact::from_bytes(name, &wrap_payload(&data)).unwrap();
    let e = nmc_emu::Emulator::new(&a).err().unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("weight_exp: is 64; the target's weight exponents are"),
        "{msg}"
    );
    // The problem is at the table whose format carries the exponent.
    let nmc_emu::EmuError::Invalid(p) = e else {
        panic!("not an invalid artifact: {msg}")
    };
    let nmc_core::Loc::Table { core, table } = p.loc else {
        panic!("not at a table: {msg}")
    };
    let c = &a.cores[core];
    assert_eq!(c.formats[c.tables[table].format as usize].weight_exp, 64, "{msg}");
    assert_eq!(p.field, Some("weight_exp"), "{msg}");
}

/// `v3-header-len-662MB.npy` (12 bytes, hand-minimised from the fuzzer's
/// 106): a format-3 preamble declaring a 662 MB header. ndarray-npy
/// allocated it before reading; the reader now checks it against the file.
#[test]
fn npy_header_longer_than_the_file_is_refused() {
    let name = "v3-header-len-662MB.npy";
    let bytes = std::fs::read(dir("npy").join(name)).unwrap();
    let e = nmc_reference::read_array_bytes(name, &bytes).unwrap_err().to_string();
    assert!(e.starts_with(name) && e.contains("claims 662372470 bytes"), "{e}");
}

#[test]
fn npy_regressions_read_or_fail_cleanly() {
    each_input("npy", |name, bytes| {
        nmc_reference::read_array_bytes(name, bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// As the artifact fuzz target reads its input: a whole file if it starts
/// with the magic `NMCA`, else a payload given a valid header.
fn wrap_payload(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"NMCA") {
        return data.to_vec();
    }
    let mut b = Vec::new();
    b.extend_from_slice(b"NMCA");
    // The committed payloads were found against format 1 (no host readouts),
    // which this nmc still reads.
    b.extend_from_slice(&FORMAT_V1.to_le_bytes());
    b.extend_from_slice(&(data.len() as u64).to_le_bytes());
    b.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// Every file format nmc reads has a fuzz target, and the fuzz campaign
/// (scripts/fuzz.sh, docs/reliability.md) runs and documents each: a reader
/// added without its target fails here.
#[test]
fn every_reader_is_fuzzed() {
    // format → fuzz target
    const READERS: [(&str, &str); 12] = [
        (".nir (NIR, HDF5)", "nir"),
        (".onnx", "onnx"),
        ("target .ron", "target_ron"),
        ("DYNAP-CNN chip .ron", "speck_ron"),
        (".q.ron", "qmodel_ron"),
        (".nmca", "artifact"),
        (".npy / .npz", "npy"),
        (".nmcs", "nmcs"),
        ("Xylo chip .ron", "xylo_chip_ron"),
        ("Xylo specification .npz", "xylo_spec"),
        ("Lava network .json", "lava_json"),
        ("Loihi 2 chip .ron", "loihi2_chip_ron"),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = cargo
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.trim().strip_prefix("name = ")))
        .map(|n| n.trim_matches('"'))
        .collect();
    bins.sort_unstable();
    let mut want: Vec<&str> = READERS.iter().map(|r| r.1).collect();
    want.sort_unstable();
    assert_eq!(bins, want, "fuzz/Cargo.toml targets vs the formats nmc reads");
    let script = std::fs::read_to_string(root.join("scripts/fuzz.sh")).unwrap();
    let defaults: Vec<&str> = script
        .lines()
        .find_map(|l| l.split("|| targets=(").nth(1))
        .and_then(|l| l.split(')').next())
        .unwrap()
        .split_whitespace()
        .collect();
    let docs = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    for (format, t) in READERS {
        assert!(
            root.join(format!("fuzz/fuzz_targets/{t}.rs")).is_file(),
            "{format}: no fuzz_targets/{t}.rs"
        );
        assert!(
            defaults.contains(&t),
            "{format}: scripts/fuzz.sh does not run `{t}` by default"
        );
        assert!(
            docs.contains(&format!("| `{t}` |")),
            "{format}: docs/reliability.md has no row for `{t}`"
        );
    }
}

/// Spike-file inputs found by the `nmcs` target: the reader returns an error
/// naming the file (or reads every sample) and never panics.
#[test]
fn nmcs_regressions() {
    each_input("nmcs", |name, bytes| {
        let mut r = nmc::spikefile::SpikeReader::from_reader(name, bytes).map_err(|e| e.to_string())?;
        while r.next_sample().map_err(|e| e.to_string())?.is_some() {}
        Ok(())
    });
}
