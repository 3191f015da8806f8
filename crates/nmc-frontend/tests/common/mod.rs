//! Shared helpers: where the fixtures are, temporary files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The workspace root (two levels above this crate).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared fixtures folder: `$NMC_SHARED_FIXTURES`, else
/// `<workspace>/../shared/fixtures`. Panics, saying where it looked, when
/// the folder is absent: these tests must not pass silently without it.
pub fn shared_fixtures() -> PathBuf {
    let (dir, how) = match std::env::var_os("NMC_SHARED_FIXTURES") {
        Some(d) => (PathBuf::from(d), "from $NMC_SHARED_FIXTURES"),
        None => (
            workspace().join("../shared/fixtures"),
            "default <workspace>/../shared/fixtures",
        ),
    };
    assert!(
        dir.join("nir-paper").is_dir(),
        "shared NIR fixtures not found: looked for {} ({how}); set NMC_SHARED_FIXTURES to the folder holding nir-paper/",
        dir.join("nir-paper").display()
    );
    dir
}

/// The NIR paper fixtures folder.
pub fn nir_paper() -> PathBuf {
    shared_fixtures().join("nir-paper")
}

/// A real fixture by path relative to `nir-paper/`.
pub fn paper(rel: &str) -> PathBuf {
    let p = nir_paper().join(rel);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// The committed synthetic fixtures (made by tests/fixtures/bad-nir/make.py).
pub fn bad_nir(rel: &str) -> PathBuf {
    let p = workspace().join("tests/fixtures/bad-nir").join(rel);
    assert!(
        p.is_file(),
        "fixture {} is missing (regenerate with make.py)",
        p.display()
    );
    p
}

/// Every `*.nir` below `dir`, sorted.
pub fn nir_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "nir") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in the temp dir with the given file name suffix.
pub fn temp_path(suffix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("nmc-frontend-test-{}-{n}-{suffix}", std::process::id()))
}

/// Writes `bytes` to a fresh temp file named `…-<name>` and returns its path.
pub fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = temp_path(name);
    std::fs::write(&p, bytes).expect("write temp file");
    p
}
