//! Shared helpers of the `nmc` integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The third-party fixtures: `$NMC_SHARED_FIXTURES`, else `../shared/fixtures`
/// beside the checkout. Fails loudly when missing.
pub fn fixtures() -> PathBuf {
    let p = std::env::var_os("NMC_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/fixtures"));
    assert!(
        p.is_dir(),
        "shared fixtures not found at {} (set NMC_SHARED_FIXTURES)",
        p.display()
    );
    p
}
