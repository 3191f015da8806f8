//! The crate dependency rules of docs/architecture.md, checked over
//! `cargo metadata`: which nmc crates each crate may use (normal
//! dependencies; tests may use more). A new workspace crate fails this test
//! until it is given its row, and so does an edge the design rules out — the
//! emulator reading the IR or the quantized model, the IR or the artifact
//! format depending on anything of nmc but the leaf `nmc-core`, any library
//! depending on the façade.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// crate → the nmc crates it may depend on (normal dependencies).
const RULES: &[(&str, &[&str])] = &[
    ("nmc-core", &[]),
    ("nmc-trace", &[]),
    ("nmc-ir", &["nmc-core"]),
    ("nmc-artifact", &["nmc-core"]),
    // The update-rule vocabulary every family's target file states.
    ("nmc-rule", &["nmc-core"]),
    ("nmc-target", &["nmc-core", "nmc-rule"]),
    ("nmc-frontend", &["nmc-core", "nmc-ir"]),
    ("nmc-reference", &["nmc-core", "nmc-ir", "nmc-target", "nmc-trace"]),
    ("nmc-quant", &["nmc-core", "nmc-ir", "nmc-target"]),
    ("nmc-partition", &["nmc-core", "nmc-ir", "nmc-target", "nmc-artifact"]),
    ("nmc-emu", &["nmc-core", "nmc-artifact", "nmc-target", "nmc-trace"]),
    // The Speck (DYNAP-CNN) backend: its own chip description; it groups the
    // IR graph into DYNAP-CNN layers.
    ("nmc-speck", &["nmc-ir"]),
    // The Xylo backend: its own chip files, spec and emulator; its compiler
    // (`quant`) reads the IR (the emulator does not: module rule in docs/xylo.md).
    ("nmc-xylo", &["nmc-ir", "nmc-rule"]),
    // The Loihi 2 backend (Lava 0.10 fixed_pt): its own chip, network and step;
    // its compiler (`compile`) reads the IR.
    ("nmc-loihi2", &["nmc-ir", "nmc-rule"]),
    // Dev-only (tests' golden harness): no crate may use it as a normal dependency.
    ("nmc-golden", &[]),
    (
        "nmc",
        &[
            "nmc-core",
            "nmc-ir",
            "nmc-artifact",
            "nmc-target",
            "nmc-frontend",
            "nmc-reference",
            "nmc-quant",
            "nmc-partition",
            "nmc-emu",
            "nmc-trace",
            "nmc-xylo",
            "nmc-loihi2",
            "nmc-speck",
            "nmc-rule",
        ],
    ),
];

/// Crates that may use no third-party crate beyond these.
const LEAVES: &[(&str, &[&str])] = &[
    ("nmc-core", &[]),
    ("nmc-ir", &["petgraph", "serde", "thiserror"]),
    ("nmc-trace", &["bitvec", "serde", "thiserror"]),
    ("nmc-rule", &["serde"]),
    ("nmc-speck", &["ron", "serde", "serde_json", "thiserror"]),
    (
        "nmc-loihi2",
        &["ndarray", "ndarray-npy", "ron", "serde", "serde_json", "thiserror"],
    ),
];

fn metadata() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let o = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out = BTreeMap::new();
    for p in m["packages"].as_array().unwrap() {
        let (mut nmc, mut other) = (BTreeSet::new(), BTreeSet::new());
        for d in p["dependencies"].as_array().unwrap() {
            if !d["kind"].is_null() {
                continue; // dev- and build-dependencies are free
            }
            let name = d["name"].as_str().unwrap().to_string();
            if name == "nmc" || name.starts_with("nmc-") {
                nmc.insert(name);
            } else {
                other.insert(name);
            }
        }
        out.insert(p["name"].as_str().unwrap().to_string(), (nmc, other));
    }
    out
}

#[test]
fn crates_depend_only_as_the_architecture_allows() {
    let meta = metadata();
    let rules: BTreeMap<&str, BTreeSet<&str>> = RULES.iter().map(|(c, d)| (*c, d.iter().copied().collect())).collect();
    let mut problems = Vec::new();
    for (krate, (nmc, other)) in &meta {
        let Some(allowed) = rules.get(krate.as_str()) else {
            problems.push(format!("`{krate}` has no row in RULES (docs/architecture.md): add one"));
            continue;
        };
        for d in nmc {
            if !allowed.contains(d.as_str()) {
                problems.push(format!("`{krate}` depends on `{d}`, which the architecture rules out"));
            }
        }
        if let Some((_, ok)) = LEAVES.iter().find(|(c, _)| c == krate) {
            for d in other {
                if !ok.contains(&d.as_str()) {
                    problems.push(format!("`{krate}` is a leaf crate but depends on `{d}`"));
                }
            }
        }
    }
    for (c, _) in RULES {
        if !meta.contains_key(*c) {
            problems.push(format!("RULES names `{c}`, which is not a workspace crate"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
