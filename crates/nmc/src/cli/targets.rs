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
    #[arg(long, value_name = "NAME|FILE")]
    show: Option<String>,
}

impl TargetsArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let TargetsArgs { check, show } = self;
        if let Some(path) = check {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if nmc_speck::chip::is_dynapcnn(&text) {
                let c = nmc_speck::Chip::from_file(&path).map_err(Error::from)?;
                emit(&format!("{}: valid DYNAP-CNN chip `{}`\n", path.display(), c.name()));
                emit(&nmc::chips::render_tables(&[nmc::chips::Chip::Speck(c)]));
            } else {
                let t = nmc_target::Target::from_file(&path).map_err(Error::from)?;
                emit(&format!("{}: valid target `{}`\n", path.display(), t.name()));
                emit(&nmc_target::render_table(&[t]).to_string());
            }
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
        }
        Ok(())
    }

    /// The files the command reads.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([self.check.as_deref()]);
    }
}
