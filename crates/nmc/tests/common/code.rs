//! Reading the workspace's own Rust sources, for the tests that check the
//! code's shape (code_shape.rs, readers_fuzzed.rs).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every library and binary source file of the workspace's crates.
pub fn sources() -> Vec<(String, String)> {
    let root = workspace();
    let mut out = Vec::new();
    let mut crates: Vec<_> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    for c in crates {
        let mut stack = vec![c.join("src")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read src dir") {
                let p = e.expect("dir entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).expect("read source");
                    if text.lines().take(3).any(|l| l.contains("@generated")) {
                        continue;
                    }
                    let rel = p
                        .strip_prefix(&root)
                        .expect("under root")
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.push((rel, text));
                }
            }
        }
    }
    out.sort();
    out
}

/// Whether the attributes hold a `#[cfg(...test...)]`.
pub fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().contains("test"))
    })
}
