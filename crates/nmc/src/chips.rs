//! The chip registry: every family of target nmc knows, behind one
//! `--target NAME|FILE`.
//!
//! - **loihi** (`loihi1`, `tiny`, or a target file; crate `nmc-target`):
//!   quantize, partition, compile, emulate, verify.
//! - **dynapcnn** (`speck`, or a chip file whose RON says
//!   `family: "dynapcnn"`; crate `nmc-speck`): placement only. How a Speck
//!   core computes a time step lives in SynSense's closed-source samna, so
//!   nmc groups the network into layers and places them on cores
//!   (`nmc partition --target speck`), and no more.
//!
//! A new family is a new variant here; the matches on it are in this file
//! only (the CLI asks [`Chip::loihi`] for a Loihi target, or handles a
//! placement-only chip through [`Chip::speck`]).

use crate::Error;
use std::path::Path;

/// A chip target of any family.
// One per command line, never in a hot collection: the variants stay unboxed
// so that `Chip::Loihi(target)` reads as the registry it is.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Chip {
    /// A Loihi-like target (`nmc_target`): the whole pipeline runs on it.
    Loihi(nmc_target::Target),
    /// A DYNAP-CNN chip (`nmc_speck`): placement only.
    Speck(nmc_speck::Chip),
}

/// One built-in chip: its family and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// The family (`loihi`, `dynapcnn`).
    pub family: &'static str,
    /// The name `--target` accepts.
    pub name: &'static str,
}

/// Every built-in chip of every family, loihi family first.
pub fn builtins() -> Vec<Builtin> {
    let loihi = nmc_target::builtin_names()
        .iter()
        .map(|&name| Builtin { family: "loihi", name });
    let speck = nmc_speck::Chip::builtin_names().into_iter().map(|name| Builtin {
        family: "dynapcnn",
        name,
    });
    loihi.chain(speck).collect()
}

/// The RON source of a built-in chip of any family, comments included.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    nmc_target::builtin_source(name).or_else(|| nmc_speck::Chip::builtin_source(name))
}

impl Chip {
    /// What `--target` accepts: a loihi-family built-in or target file
    /// first ([`nmc_target::Target::load`]), then a DYNAP-CNN built-in, then
    /// a file whose RON says `family: "dynapcnn"`. Neither: the error lists
    /// every family's built-ins.
    pub fn load(name_or_path: &str) -> Result<Chip, Error> {
        let path = Path::new(name_or_path);
        let dynapcnn_file =
            || path.is_file() && std::fs::read_to_string(path).is_ok_and(|src| nmc_speck::chip::is_dynapcnn(&src));
        if !dynapcnn_file() {
            match nmc_target::Target::load(name_or_path) {
                Ok(t) => return Ok(Chip::Loihi(t)),
                Err(nmc_target::TargetError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Ok(c) = nmc_speck::Chip::builtin(name_or_path) {
            return Ok(Chip::Speck(c));
        }
        if dynapcnn_file() {
            return Ok(Chip::Speck(nmc_speck::Chip::from_file(path)?));
        }
        Err(nmc_target::TargetError::NotFound {
            name: name_or_path.to_string(),
            builtins: builtins().iter().map(|b| b.name).collect::<Vec<_>>().join(", "),
        }
        .into())
    }

    /// The family: `loihi` or `dynapcnn`.
    pub fn family(&self) -> &'static str {
        match self {
            Chip::Loihi(_) => "loihi",
            Chip::Speck(_) => "dynapcnn",
        }
    }

    /// The chip's name.
    pub fn name(&self) -> &str {
        match self {
            Chip::Loihi(t) => t.name(),
            Chip::Speck(c) => c.name(),
        }
    }

    /// The Loihi target, for a command that runs the whole pipeline
    /// (`command`, e.g. `compile`); a placement-only chip is a usage error
    /// pointing at `nmc partition`.
    pub fn loihi(self, command: &str) -> Result<nmc_target::Target, Error> {
        match self {
            Chip::Loihi(t) => Ok(t),
            Chip::Speck(c) => Err(Error::Usage(format!(
                "--target {}: `nmc {command}` needs a chip nmc can quantize for and emulate; {} ({} family) is \
                 placement-only: how its cores compute a time step lives in SynSense's closed-source samna. Use \
                 `nmc partition MODEL.nir --target {}` for its layer → core placement",
                c.name(),
                c.name(),
                c.family(),
                c.name()
            ))),
        }
    }

    /// The DYNAP-CNN chip, if this is one.
    pub fn speck(&self) -> Option<&nmc_speck::Chip> {
        match self {
            Chip::Speck(c) => Some(c),
            Chip::Loihi(_) => None,
        }
    }

    /// The chip's RON text: a built-in's source (with comments), else the
    /// target written out (loihi family; a DYNAP-CNN chip file is shown as
    /// read, by the caller).
    pub fn to_ron(&self) -> Result<String, Error> {
        if let Some(src) = builtin_source(self.name()) {
            return Ok(src.to_string());
        }
        match self {
            Chip::Loihi(t) => Ok(t.to_ron()?.to_string()),
            Chip::Speck(c) => Err(Error::Internal(format!(
                "chip `{}` is not built in: show its file instead",
                c.name()
            ))),
        }
    }
}

/// The `nmc targets` listing: one table per family, each under a line
/// naming the family and what nmc does with it.
pub fn render_tables(chips: &[Chip]) -> String {
    let loihi: Vec<nmc_target::Target> = chips
        .iter()
        .filter_map(|c| match c {
            Chip::Loihi(t) => Some(t.clone()),
            Chip::Speck(_) => None,
        })
        .collect();
    let speck: Vec<&nmc_speck::Chip> = chips.iter().filter_map(Chip::speck).collect();
    let mut out = String::new();
    if !loihi.is_empty() {
        out.push_str("family loihi (quantize, partition, compile, emulate, verify):\n");
        out.push_str(&nmc_target::render_table(&loihi));
    }
    if !speck.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("family dynapcnn (placement only: nmc partition; the time step is in closed-source samna):\n");
        out.push_str(&speck_table(&speck));
    }
    out
}

/// The table of DYNAP-CNN chips: cores, their memories (entries, the
/// smallest and largest core's), and the layer rules.
fn speck_table(chips: &[&nmc_speck::Chip]) -> String {
    let header = [
        "target",
        "cores",
        "kernel mem/core",
        "neuron mem/core",
        "bias mem/core",
        "max kernel",
        "strides",
        "sum pooling",
        "fan-out",
    ];
    let range = |c: &nmc_speck::Chip, f: fn(&nmc_speck::CoreMemory) -> u64| {
        let lo = c.cores().iter().map(f).min().unwrap_or(0);
        let hi = c.cores().iter().map(f).max().unwrap_or(0);
        if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }
    };
    let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<Vec<String>> = chips
        .iter()
        .map(|c| {
            let l = c.limits();
            vec![
                nmc_core::text::shorten(c.name(), nmc_core::text::MAX_CELL).into_owned(),
                c.cores().len().to_string(),
                range(c, |m| m.kernel_memory),
                range(c, |m| m.neuron_memory),
                range(c, |m| m.bias_memory),
                format!("{0}x{0}", l.max_kernel_size),
                list(&l.strides),
                list(&l.poolings),
                l.max_fan_out.to_string(),
            ]
        })
        .collect();
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            std::iter::once(&head)
                .chain(&rows)
                .map(|r| r[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(j, (c, w))| if j == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
