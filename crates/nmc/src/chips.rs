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
//! - **xylo-iaf** (`xylo-audio2`, `xylo-imu`, or a chip file whose RON says
//!   `family: "xylo-iaf"`; crate `nmc-xylo`): `compile` (a NIR graph to a
//!   configuration `.npz` in rockpool's specification form) and `emulate`
//!   (bit-exact with XyloSim), through [`crate::xylo`].
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
    /// A Xylo chip (`nmc_xylo`): compile and emulate.
    Xylo(nmc_xylo::Chip),
    /// Loihi 2 as Lava 0.10 models it (`nmc_loihi2`): emulate a network in
    /// Lava's process form.
    Loihi2(nmc_loihi2::Chip),
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
    let loihi = nmc_target::builtin_names().iter().map(|&name| Builtin {
        family: nmc_target::FAMILY,
        name,
    });
    let speck = nmc_speck::Chip::builtin_names().into_iter().map(|name| Builtin {
        family: SPECK_FAMILY,
        name,
    });
    let xylo = nmc_xylo::Chip::builtin_names().map(|name| Builtin {
        family: nmc_xylo::chip::FAMILY,
        name,
    });
    let loihi2 = nmc_loihi2::Chip::builtin_names().into_iter().map(|name| Builtin {
        family: nmc_loihi2::chip::FAMILY,
        name,
    });
    loihi.chain(speck).chain(xylo).chain(loihi2).collect()
}

/// The RON source of a built-in chip of any family, comments included.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    nmc_target::builtin_source(name)
        .or_else(|| nmc_speck::Chip::builtin_source(name))
        .or_else(|| nmc_xylo::Chip::builtin_source(name))
        .or_else(|| nmc_loihi2::Chip::builtin_source(name))
}

/// The family other than the Loihi compartment one that chip-file text
/// names (`family: "..."`), if any: such a file is read by its family's crate.
pub fn file_family(text: &str) -> Option<&'static str> {
    if nmc_speck::chip::is_dynapcnn(text) {
        return Some(SPECK_FAMILY);
    }
    [nmc_xylo::chip::FAMILY, nmc_loihi2::chip::FAMILY]
        .into_iter()
        .find(|f| text.contains(&format!("family: \"{f}\"")))
}

/// The DYNAP-CNN family's name.
const SPECK_FAMILY: &str = "dynapcnn";

impl Chip {
    /// What `--target` accepts: a built-in of any family, or a chip file
    /// read by the family its `family:` field names (none: a loihi-family
    /// target file, [`nmc_target::Target::load`]). Neither: the error lists
    /// every family's built-ins.
    pub fn load(name_or_path: &str) -> Result<Chip, Error> {
        if let Ok(c) = nmc_xylo::Chip::builtin(name_or_path) {
            return Ok(Chip::Xylo(c));
        }
        if let Ok(c) = nmc_loihi2::Chip::builtin(name_or_path) {
            return Ok(Chip::Loihi2(c));
        }
        let path = Path::new(name_or_path);
        let family = if path.is_file() {
            std::fs::read_to_string(path).ok().as_deref().and_then(file_family)
        } else {
            None
        };
        let bad = |e: &dyn std::fmt::Display| Error::BadInput(e.to_string());
        match family {
            Some(f) if f == nmc_loihi2::chip::FAMILY => {
                return nmc_loihi2::Chip::read(path).map(Chip::Loihi2).map_err(|e| bad(&e));
            }
            Some(f) if f == nmc_xylo::chip::FAMILY => {
                return nmc_xylo::Chip::read(path).map(Chip::Xylo).map_err(|e| bad(&e));
            }
            Some(_) => return Ok(Chip::Speck(nmc_speck::Chip::from_file(path)?)),
            None => {}
        }
        match nmc_target::Target::load(name_or_path) {
            Ok(t) => return Ok(Chip::Loihi(t)),
            Err(nmc_target::TargetError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if let Ok(c) = nmc_speck::Chip::builtin(name_or_path) {
            return Ok(Chip::Speck(c));
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
            Chip::Loihi(_) => nmc_target::FAMILY,
            Chip::Speck(_) => SPECK_FAMILY,
            Chip::Xylo(_) => nmc_xylo::chip::FAMILY,
            Chip::Loihi2(_) => nmc_loihi2::chip::FAMILY,
        }
    }

    /// The chip's name.
    pub fn name(&self) -> &str {
        match self {
            Chip::Loihi(t) => t.name(),
            Chip::Speck(c) => c.name(),
            Chip::Xylo(c) => &c.name,
            Chip::Loihi2(c) => c.name(),
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
            Chip::Xylo(c) => Err(Error::Usage(format!(
                "--target {}: `nmc {command}` runs on Loihi-family targets; on {} (a Xylo chip: one core, fixed \
                 populations, its own step) nmc runs `nmc compile MODEL.nir --target {} -o SPEC.npz` (with its \
                 fit report) and `nmc emulate SPEC.npz --target {} --input X.npy` (bit-exact with XyloSim)",
                c.name, c.name, c.name, c.name
            ))),
            Chip::Loihi2(c) => Err(Error::Usage(format!(
                "--target {}: `nmc {command}` runs on Loihi-1-family targets; on {} (Lava 0.10's fixed_pt Loihi 2: \
                 a weight exponent per connection sum, graded spikes, sigma-delta neurons) nmc runs `nmc compile \
                 MODEL.nir --target {} -o NET.json` (a network in Lava's process form, with its report) and `nmc \
                 emulate NET.json --target {} --input X.npy` (docs/loihi2.md); placing it on cores is not built \
                 (Loihi 2's per-core limits are not public)",
                c.name(),
                c.name(),
                c.name(),
                c.name()
            ))),
        }
    }

    /// The update rule the chip's file states, with its numbers (a
    /// placement-only chip has none: its step is not public).
    pub fn rule_summary(&self) -> nmc_rule::Summary {
        match self {
            Chip::Loihi(t) => t.rule_summary(),
            Chip::Xylo(c) => c.rule_summary(),
            Chip::Loihi2(c) => c.rule_summary(),
            Chip::Speck(c) => nmc_rule::Summary {
                name: c.name().to_string(),
                family: SPECK_FAMILY.to_string(),
                rule: None,
                numbers: None,
            },
        }
    }

    /// The Loihi 2 (Lava) chip, if this is one.
    pub fn loihi2(&self) -> Option<&nmc_loihi2::Chip> {
        match self {
            Chip::Loihi2(c) => Some(c),
            _ => None,
        }
    }

    /// The Xylo chip, if this is one.
    pub fn xylo(&self) -> Option<&nmc_xylo::Chip> {
        match self {
            Chip::Xylo(c) => Some(c),
            _ => None,
        }
    }

    /// The DYNAP-CNN chip, if this is one.
    pub fn speck(&self) -> Option<&nmc_speck::Chip> {
        match self {
            Chip::Speck(c) => Some(c),
            Chip::Loihi(_) | Chip::Xylo(_) | Chip::Loihi2(_) => None,
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
            Chip::Xylo(c) => ron::ser::to_string_pretty(c, Default::default())
                .map_err(|e| Error::Internal(format!("chip `{}`: {e}", c.name))),
            Chip::Loihi2(c) => Err(Error::Internal(format!(
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
            Chip::Speck(_) | Chip::Xylo(_) | Chip::Loihi2(_) => None,
        })
        .collect();
    let xylo: Vec<&nmc_xylo::Chip> = chips.iter().filter_map(Chip::xylo).collect();
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
    let loihi2: Vec<&nmc_loihi2::Chip> = chips.iter().filter_map(Chip::loihi2).collect();
    if !loihi2.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("family lava-loihi2 (emulate a Lava process network: bit-exact with Lava 0.10 fixed_pt):\n");
        for c in &loihi2 {
            out.push_str(&format!("{}  {}\n", c.name(), c.description()));
        }
    }
    if !xylo.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("family xylo-iaf (compile, emulate: bit-exact with rockpool's XyloSim):\n");
        out.push_str(&xylo_table(&xylo));
    }
    out
}

/// The table of Xylo chips: populations, synaptic states, widths and caps.
fn xylo_table(chips: &[&nmc_xylo::Chip]) -> String {
    let header = [
        "target",
        "inputs",
        "hidden",
        "outputs",
        "IEN/OEN",
        "syn states",
        "state/weight bits",
        "spikes/step",
        "description",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for c in chips {
        let p = &c.populations;
        rows.push(vec![
            c.name.clone(),
            p.inputs.to_string(),
            p.hidden.to_string(),
            p.outputs.to_string(),
            format!("{}/{}", p.max_input_expansion, p.max_output_expansion),
            c.synapses.hidden_states.to_string(),
            format!("{}/{}", c.formats.state_bits, c.formats.weight_bits),
            format!(
                "{} hidden, {} output",
                c.caps.hidden_spikes_per_step, c.caps.output_spikes_per_step
            ),
            c.description.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|k| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
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
