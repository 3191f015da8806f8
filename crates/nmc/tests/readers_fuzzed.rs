//! Every file reader is fuzzed (issue 16, docs/reliability.md): each public
//! function of a library crate whose name says it reads (`read*`, `load*`,
//! `parse*`, `decode*`, `convert*`, `*from_*`) is listed below, and its row
//! is checked against the code:
//!
//! - `Fuzzed(t)`: the fuzz target `fuzz/fuzz_targets/t.rs` (declared in
//!   `fuzz/Cargo.toml`) calls it;
//! - `Shares(p, t)`: it reaches parser `p` (directly or through a function of
//!   its own file), and so does target `t`'s fuzzed entry point: the bytes go
//!   through the fuzzed code;
//! - `ReachedBy(t)`: target `t`'s fuzzed entry point calls it (a parsing step);
//! - `Dispatches(names)`: it only picks among readers that have rows of their
//!   own (and calls each);
//! - `NotAReader(why)`: it builds from values already in memory.
//!
//! A new reader without a row fails, a row that no longer matches the code
//! fails, and every fuzz target must be the entry of some row.

use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

#[path = "common/code.rs"]
mod code;
use code::{is_cfg_test, sources, workspace};

#[derive(Clone, Copy, Debug)]
enum Cover {
    Fuzzed(&'static str),
    Shares(&'static str, &'static str),
    ReachedBy(&'static str),
    Dispatches(&'static [&'static str]),
    NotAReader(&'static str),
}
use Cover::*;

/// (file under crates/, function, coverage).
const READERS: &[(&str, &str, Cover)] = &[
    ("nmc-artifact/src/lib.rs", "from_bytes", Fuzzed("artifact")),
    ("nmc-artifact/src/lib.rs", "read", Dispatches(&["from_bytes"])),
    (
        "nmc-emu/src/numerics.rs",
        "from_target",
        NotAReader("derives the integer rules from a validated Target"),
    ),
    (
        "nmc-frontend/src/lib.rs",
        "load",
        Dispatches(&["load_nir", "load_onnx"]),
    ),
    ("nmc-frontend/src/lib.rs", "load_nir", Shares("load", "nir")),
    ("nmc-frontend/src/lib.rs", "load_nir_bytes", Fuzzed("nir")),
    ("nmc-frontend/src/lib.rs", "load_onnx", Dispatches(&["convert"])),
    (
        "nmc-frontend/src/onnx/mod.rs",
        "convert",
        Dispatches(&["convert_bytes"]),
    ),
    ("nmc-frontend/src/onnx/mod.rs", "convert_bytes", Fuzzed("onnx")),
    ("nmc-frontend/src/onnx/mod.rs", "parse", ReachedBy("onnx")),
    ("nmc-loihi2/src/chip.rs", "from_ron_str", Fuzzed("loihi2_chip_ron")),
    ("nmc-loihi2/src/chip.rs", "read", Dispatches(&["from_ron_str"])),
    ("nmc-loihi2/src/lava_json.rs", "from_lava_json", Fuzzed("lava_json")),
    (
        "nmc-loihi2/src/lava_json.rs",
        "read_lava_json",
        Dispatches(&["from_lava_json"]),
    ),
    ("nmc-quant/src/io.rs", "qmodel_from_ron", Fuzzed("qmodel_ron")),
    ("nmc-quant/src/io.rs", "read_qmodel", Dispatches(&["qmodel_from_ron"])),
    (
        "nmc-quant/src/linmap.rs",
        "from_dense",
        NotAReader("a linear map from a weight tensor"),
    ),
    (
        "nmc-quant/src/linmap.rs",
        "from_conv",
        NotAReader("a linear map from conv parameters"),
    ),
    (
        "nmc-quant/src/linmap.rs",
        "from_pool",
        NotAReader("a linear map from pool parameters"),
    ),
    (
        "nmc-reference/src/stimulus.rs",
        "from_array",
        NotAReader("a stimulus from an array in memory"),
    ),
    ("nmc-reference/src/io.rs", "read_array", Shares("load_npy_bytes", "npy")),
    ("nmc-reference/src/io.rs", "read_array_bytes", Fuzzed("npy")),
    (
        "nmc-reference/src/events.rs",
        "read_input",
        Dispatches(&["read_array", "read_array_named"]),
    ),
    (
        "nmc-reference/src/io.rs",
        "read_array_named",
        Shares("read_npz_from", "npy"),
    ),
    (
        "nmc-target/src/target/mod.rs",
        "from_raw",
        NotAReader("validates serde values already parsed"),
    ),
    ("nmc-target/src/lib.rs", "from_ron_str", Fuzzed("target_ron")),
    ("nmc-target/src/lib.rs", "from_file", Dispatches(&["from_ron_str"])),
    ("nmc-target/src/lib.rs", "load", Dispatches(&["from_file"])),
    ("nmc-target/src/parse.rs", "raw_from_ron_str", ReachedBy("target_ron")),
    (
        "nmc/src/pipeline/mod.rs",
        "load_any",
        Dispatches(&["read_qmodel", "read", "load_model"]),
    ),
    (
        "nmc/src/pipeline/mod.rs",
        "read_stimulus",
        Dispatches(&["read_input", "read_labels"]),
    ),
    ("nmc-xylo/src/chip.rs", "from_ron_str", Fuzzed("xylo_chip_ron")),
    ("nmc-xylo/src/chip.rs", "read", Dispatches(&["from_ron_str"])),
    ("nmc-xylo/src/config.rs", "from_npz_bytes", Fuzzed("xylo_spec")),
    ("nmc-xylo/src/config.rs", "from_arrays", ReachedBy("xylo_spec")),
    ("nmc-xylo/src/config.rs", "read_npz", Dispatches(&["from_npz_bytes"])),
    ("nmc-xylo/src/npz.rs", "read_npz_bytes", ReachedBy("xylo_spec")),
    ("nmc-xylo/src/npz.rs", "read_npz", Dispatches(&["read_npz_bytes"])),
    ("nmc-speck/src/chip.rs", "from_ron_str", Fuzzed("speck_ron")),
    ("nmc-speck/src/chip.rs", "from_file", Dispatches(&["from_ron_str"])),
    ("nmc/src/chips.rs", "load", Dispatches(&["load", "from_file"])),
    ("nmc/src/spikefile.rs", "from_reader", Fuzzed("nmcs")),
    ("nmc/src/lib.rs", "load_model", Dispatches(&["load"])),
    (
        "nmc/src/lib.rs",
        "load_warnings",
        NotAReader("warnings about a graph already loaded"),
    ),
    ("nmc/src/simulate.rs", "read_labels", Dispatches(&["read_array"])),
];

fn is_reader_name(n: &str) -> bool {
    ["read", "load", "parse", "decode", "convert"]
        .iter()
        .any(|p| n.starts_with(p))
        || n.contains("from_")
}

/// The names a block calls (path calls by their last segment, method calls).
#[derive(Default)]
struct Calls(BTreeSet<String>);

impl<'a> Visit<'a> for Calls {
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func
            && let Some(s) = p.path.segments.last()
        {
            self.0.insert(s.ident.to_string());
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        self.0.insert(m.method.to_string());
        syn::visit::visit_expr_method_call(self, m);
    }
}

/// One file's functions: name → (public, calls). Same-named functions
/// (methods of different types) merge their calls.
#[derive(Default)]
struct FileFns(BTreeMap<String, (bool, BTreeSet<String>)>);

impl FileFns {
    fn add(&mut self, name: &syn::Ident, public: bool, block: &syn::Block) {
        let mut c = Calls::default();
        c.visit_block(block);
        let e = self.0.entry(name.to_string()).or_default();
        e.0 |= public;
        e.1.extend(c.0);
    }
}

impl<'a> Visit<'a> for FileFns {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.add(&f.sig.ident, matches!(f.vis, syn::Visibility::Public(_)), &f.block);
        }
    }
    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        if is_cfg_test(&i.attrs) {
            return;
        }
        for item in &i.items {
            if let syn::ImplItem::Fn(f) = item
                && !is_cfg_test(&f.attrs)
            {
                // Trait impls are reached through their trait, not by name.
                let public = i.trait_.is_none() && matches!(f.vis, syn::Visibility::Public(_));
                self.add(&f.sig.ident, public, &f.block);
            }
        }
    }
}

impl FileFns {
    /// What `f` calls, directly or through a function of this file.
    fn reach(&self, f: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some((_, calls)) = self.0.get(f) {
            for c in calls {
                out.insert(c.clone());
                if let Some((_, inner)) = self.0.get(c) {
                    out.extend(inner.iter().cloned());
                }
            }
        }
        out
    }
}

fn library_files() -> BTreeMap<String, FileFns> {
    let mut out = BTreeMap::new();
    for (path, text) in sources() {
        let rel = path.strip_prefix("crates/").expect("under crates/").to_string();
        // Binaries and the dev-only golden harness read nothing of their own.
        if rel.ends_with("/main.rs") || rel.contains("/cli/") || rel.starts_with("nmc-golden/") {
            continue;
        }
        let mut v = FileFns::default();
        v.visit_file(&syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}")));
        out.insert(rel, v);
    }
    out
}

/// Whether `src` names `ident` as a whole identifier (not inside a longer one).
fn calls_ident(src: &str, ident: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    src.match_indices(ident).any(|(i, _)| {
        !src[..i].chars().next_back().is_some_and(word) && !src[i + ident.len()..].chars().next().is_some_and(word)
    })
}

fn fuzz_targets() -> BTreeMap<String, String> {
    let fuzz = workspace().join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut out = BTreeMap::new();
    for bin in manifest.split("[[bin]]").skip(1) {
        let field = |k: &str| {
            bin.lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix(k)?
                        .trim()
                        .strip_prefix('=')
                        .map(|v| v.trim().trim_matches('"').to_string())
                })
                .unwrap_or_else(|| panic!("fuzz/Cargo.toml: a [[bin]] without `{k}`"))
        };
        let text = std::fs::read_to_string(fuzz.join(field("path"))).expect("fuzz target source");
        out.insert(field("name"), text);
    }
    out
}

#[test]
fn every_reader_is_fuzzed_or_shares_a_fuzzed_parser() {
    let files = library_files();
    let targets = fuzz_targets();
    let rows: BTreeMap<(&str, &str), Cover> = READERS.iter().map(|&(f, n, c)| ((f, n), c)).collect();
    let mut problems = Vec::new();

    // Every reader-named public function has a row.
    for (file, fns) in &files {
        for (name, (public, _)) in &fns.0 {
            if *public && is_reader_name(name) && !rows.contains_key(&(file.as_str(), name.as_str())) {
                problems.push(format!(
                    "crates/{file}: pub fn {name} looks like a reader: add a fuzz target or a READERS row"
                ));
            }
        }
    }

    // The fuzzed entry point of each target, and what it reaches.
    let mut entry: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (&(file, name), cover) in &rows {
        if let Fuzzed(t) = cover
            && let Some((f0, n0)) = entry.insert(t, (file, name))
        {
            problems.push(format!(
                "fuzz target `{t}` has two entries: crates/{f0}: {n0} and crates/{file}: {name}"
            ));
        }
    }
    // Does the fuzzed entry point of target `t` reach `p`?
    let entry_reaches = |problems: &mut Vec<String>, file: &str, name: &str, p: &str, t: &str| match entry.get(t) {
        None => problems.push(format!(
            "crates/{file}: {name}: no reader is the entry of fuzz target `{t}`"
        )),
        Some(&(ef, en)) if en != p && !files[ef].reach(en).contains(p) => problems.push(format!(
            "crates/{file}: {name}: `{p}` is not reached by `{en}`, the entry of fuzz target `{t}`"
        )),
        Some(_) => {}
    };
    for (&(file, name), cover) in &rows {
        let Some(fns) = files.get(file) else {
            problems.push(format!(
                "READERS names crates/{file}, which is not a library source file"
            ));
            continue;
        };
        if !fns.0.contains_key(name) {
            problems.push(format!("READERS names crates/{file}: fn {name}, which does not exist"));
            continue;
        }
        match *cover {
            Fuzzed(t) => match targets.get(t) {
                None => problems.push(format!(
                    "crates/{file}: {name}: fuzz target `{t}` is not in fuzz/Cargo.toml"
                )),
                Some(src) if !calls_ident(src, name) => {
                    problems.push(format!("crates/{file}: {name}: fuzz target `{t}` does not call it"))
                }
                Some(_) => {}
            },
            Shares(p, t) => {
                if !files[file].reach(name).contains(p) {
                    problems.push(format!("crates/{file}: {name} does not reach `{p}`"));
                }
                entry_reaches(&mut problems, file, name, p, t);
            }
            ReachedBy(t) => entry_reaches(&mut problems, file, name, name, t),
            Dispatches(names) => {
                let calls = &fns.0[name].1;
                for d in names {
                    if !calls.contains(*d) {
                        problems.push(format!("crates/{file}: {name} does not call `{d}`"));
                    }
                    let covered = rows.iter().any(|(&(_, n), c)| n == *d && !matches!(c, NotAReader(_)));
                    if !covered {
                        problems.push(format!(
                            "crates/{file}: {name} dispatches to `{d}`, which has no reader row"
                        ));
                    }
                }
            }
            NotAReader("") => problems.push(format!("crates/{file}: {name}: say why it is not a reader")),
            NotAReader(_) => {}
        }
    }
    for t in targets.keys() {
        if !entry.contains_key(t.as_str()) {
            problems.push(format!("fuzz target `{t}` is the entry of no READERS row"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
