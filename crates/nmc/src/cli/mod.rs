//! The commands of the `nmc` binary, one module each (its arguments, the
//! files it reads and writes, and its handler), and what they share: the
//! argument groups, output, and the error on its way to an exit code.

pub(crate) mod args;
pub(crate) mod compile;
pub(crate) mod convert;
pub(crate) mod emulate;
pub(crate) mod files;
pub(crate) mod inspect;
pub(crate) mod output;
pub(crate) mod partition;
pub(crate) mod quantize;
pub(crate) mod readout;
pub(crate) mod simulate;
pub(crate) mod targets;
pub(crate) mod verify;

use anyhow::Context;
use nmc::{Error, exit};
use output::{emit, note};
use std::path::PathBuf;

/// An error on its way to an exit code.
pub(crate) struct Failure {
    pub(crate) code: i32,
    pub(crate) err: anyhow::Error,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: e.exit_code(),
            err: e.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure {
            code: exit::INTERNAL,
            err,
        }
    }
}

/// Prints a report: its stable JSON with `--json`, else its table.
pub(crate) fn print_report<T: serde::Serialize + std::fmt::Display>(json: bool, r: &T) -> Result<(), Failure> {
    if json {
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(r).context("serialising the report")?
        ));
    } else {
        emit(&r.to_string());
    }
    Ok(())
}

/// Writes a text output file atomically (an error names the file).
pub(crate) fn write_file(p: &std::path::Path, text: &str) -> Result<(), Failure> {
    nmc_core::output::write_atomic(p, text.as_bytes()).map_err(|source| {
        Error::Io {
            path: p.display().to_string(),
            source,
        }
        .into()
    })
}

/// Exit 5 when a golden comparison found a difference.
pub(crate) fn golden_verdict(g: Option<&nmc::spikefile::GoldenCheck>) -> Result<(), Failure> {
    match g {
        Some(g) if !g.equal => Err(Failure::from(Error::Mismatch(format!(
            "deployed spikes differ from the golden file {} (see the report above; re-record with --bless if the change is intended)",
            g.file
        )))),
        _ => Ok(()),
    }
}

/// With `NMC_REPORT_PEAK_RSS` set, prints the process's peak resident memory
/// (Linux `VmHWM`) on stderr when the command ends: how the memory bounds of
/// docs/reliability.md are measured.
pub(crate) struct PeakRss(pub(crate) bool);

impl Drop for PeakRss {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        match status.lines().find(|l| l.starts_with("VmHWM:")) {
            Some(l) => note(&format!("peak RSS: {}", l.trim_start_matches("VmHWM:").trim())),
            None => note("peak RSS: unknown (no /proc/self/status)"),
        }
    }
}

/// The one input file of a command taking `--input` or `--input-spikes`, and
/// whether it holds recorded host spikes. (clap already enforces exactly one.)
pub(crate) fn one_input(input: Option<&PathBuf>, spikes: Option<&PathBuf>) -> Result<(PathBuf, bool), Failure> {
    match (input, spikes) {
        (Some(i), None) => Ok((i.clone(), false)),
        (None, Some(s)) => Ok((s.clone(), true)),
        _ => Err(Error::Usage("give exactly one of --input and --input-spikes".into()).into()),
    }
}

/// An error and its causes, `a: b: c`, leaving out a cause its parent already
/// ends with (an I/O error that names its source would otherwise print the
/// operating system's message twice).
pub(crate) fn chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let c = cause.to_string();
        if out.ends_with(&c) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&c);
    }
    out
}
