//! `nmc targets`: the built-in chip targets, or a target file checked or
//! shown.

use super::Failure;
use super::files::Files;
use super::output::emit;
use anyhow::Context;
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc targets`; its help text is the doc comment of
// `Cmd::Targets` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct TargetsArgs {
    /// Validate a target file (RON); errors name the field, e.g. `core.max_compartments: must be > 0`.
    #[arg(long, value_name = "FILE", conflicts_with = "show")]
    check: Option<PathBuf>,
    /// Print a target (built-in name or file) as RON; built-ins keep their comments.
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "rules")]
    show: Option<String>,
    /// Compare update rules: one row per rule field (decay, overflow, threshold, reset, weight exponent,
    /// bias, payload, latencies, ...), one column per target; no NAME: every built-in.
    #[arg(long, value_name = "NAME|FILE", num_args = 0.., conflicts_with = "check")]
    rules: Option<Vec<String>>,
}

impl TargetsArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let TargetsArgs { check, show, rules } = self;
        if let Some(path) = check {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let chip = if nmc::chips::file_family(&text).is_some() {
                nmc::chips::Chip::load(&path.to_string_lossy())?
            } else {
                nmc::chips::Chip::Loihi(nmc_target::Target::from_file(&path).map_err(Error::from)?)
            };
            let kind = match &chip {
                nmc::chips::Chip::Speck(_) => "DYNAP-CNN chip",
                nmc::chips::Chip::Xylo(_) => "Xylo chip",
                nmc::chips::Chip::Loihi2(_) => "Loihi 2 chip",
                nmc::chips::Chip::Loihi(_) => "target",
            };
            emit(&format!("{}: valid {kind} `{}`\n", path.display(), chip.name()));
            emit(&nmc::chips::render_tables(std::slice::from_ref(&chip)));
            emit(&nmc_rule::render(&[chip.rule_summary()]));
        } else if let Some(names) = rules {
            let names = if names.is_empty() {
                nmc::chips::builtins().iter().map(|b| b.name.to_string()).collect()
            } else {
                names
            };
            let mut summaries = Vec::new();
            for n in &names {
                summaries.push(nmc::chips::Chip::load(n)?.rule_summary());
            }
            emit(&nmc_rule::render(&summaries));
        } else if let Some(name) = show {
            match nmc::chips::builtin_source(&name) {
                Some(src) => emit(src),
                None => match nmc::chips::Chip::load(&name)? {
                    // A chip file is shown as written.
                    nmc::chips::Chip::Speck(_) => {
                        emit(&std::fs::read_to_string(&name).map_err(|source| Error::Io {
                            path: name.clone(),
                            source,
                        })?)
                    }
                    c => emit(&c.to_ron().context("writing the target")?),
                },
            }
        } else {
            let mut all = Vec::new();
            for b in nmc::chips::builtins() {
                all.push(nmc::chips::Chip::load(b.name)?);
            }
            emit(&nmc::chips::render_tables(&all));
            emit("\n`nmc targets --rules` compares their update rules; `nmc targets --show NAME` prints one's file.\n");
        }
        Ok(())
    }

    /// The files the command reads.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([self.check.as_deref()]);
    }
}
