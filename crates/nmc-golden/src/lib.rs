//! # nmc-golden — the one golden-file harness of nmc's tests (dev-only)
//!
//! Every golden test in the workspace (IR dumps, quantization and partition
//! reports, fixed-reference and emulator spike listings, the deploy
//! contract) compares through here, so they share one rule:
//!
//! - `NMC_BLESS=1` (exactly `1`) rewrites the golden file with the run's text
//!   and passes; any other value, or none, compares and never writes.
//! - A difference fails with a unified diff (golden `-`, run `+`, 3 lines of
//!   context) and the command that re-blesses.
//! - A missing golden fails and says how to create it.
//!
//! No crate depends on this one outside `[dev-dependencies]`
//! (crates/nmc/tests/deps.rs).

use std::path::Path;

/// True when the run should rewrite goldens: `NMC_BLESS` is exactly `1`.
pub fn blessing() -> bool {
    std::env::var_os("NMC_BLESS").is_some_and(|v| v == "1")
}

/// A unified diff of `golden` against `run` (empty when equal).
pub fn diff(golden: &str, run: &str) -> String {
    if golden == run {
        return String::new();
    }
    similar::TextDiff::from_lines(golden, run)
        .unified_diff()
        .context_radius(3)
        .header("golden", "run")
        .to_string()
}

/// Compares `run` with the golden file at `path`, or writes it when `bless`.
/// `Err` carries the message a failing test prints: the file, the diff and
/// how to re-bless.
pub fn check_with(path: &Path, run: &str, bless: bool) -> Result<(), String> {
    if bless {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        return std::fs::write(path, run).map_err(|e| format!("{}: {e}", path.display()));
    }
    let golden = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "golden {}: {e}; create it by running the test with NMC_BLESS=1",
            path.display()
        )
    })?;
    let d = diff(&golden, run);
    if d.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "golden {} differs from the run:\n{d}\nif the change is intended, re-run the test with NMC_BLESS=1 \
             and review the diff in git",
            path.display()
        ))
    }
}

/// [`check_with`] under [`blessing`], panicking with the diff on a mismatch.
#[track_caller]
pub fn assert_golden(path: &Path, run: &str) {
    if let Err(m) = check_with(path, run, blessing()) {
        panic!("{m}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("nmc-golden-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join("sub/g.txt")
    }

    #[test]
    fn blesses_only_when_asked_and_diffs_otherwise() {
        let p = tmp("bless");
        let e = check_with(&p, "a\n", false).unwrap_err();
        assert!(e.contains("NMC_BLESS=1"), "{e}");
        assert!(!p.exists(), "comparing never writes");
        check_with(&p, "a\nb\nc\n", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\nc\n");
        check_with(&p, "a\nb\nc\n", false).unwrap();
        let e = check_with(&p, "a\nB\nc\n", false).unwrap_err();
        assert!(e.contains("-b\n") && e.contains("+B\n"), "{e}");
        assert!(e.contains(&p.display().to_string()), "{e}");
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "a\nb\nc\n",
            "a failed check leaves the golden"
        );
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("x\ny\n", "x\ny\n"), "");
        assert!(diff("x\n", "x\ny\n").contains("+y"));
    }
}
