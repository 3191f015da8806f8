//! # nmc-target — chip descriptions
//!
//! A chip target is a RON file (`targets/*.ron`, schema in
//! `docs/targets.md`). It is parsed with `deny_unknown_fields` into the
//! plain serde structs of [`raw`] ([`RawTarget`]), then validated into a
//! [`Target`] whose fields are private and whose invariants hold by
//! construction. Every chip number nmc uses — core limits, synapse-memory
//! costing, bit widths, exponents, overflow rules, latencies, supported
//! neuron models — is read from a `Target`, never written as a constant
//! elsewhere.
//!
//! Built-in targets are embedded in the binary: `loihi1` (Intel Loihi, first
//! generation, as nengo-loihi emulates it) and `tiny` (a deliberately small
//! chip with Loihi's numerics, for tests that must split, route across cores
//! and chips, and run out of room with small models).
//!
//! ```
//! use nmc_target::Target;
//! let t = Target::load("loihi1").unwrap();
//! assert_eq!(t.core().max_compartments(), 1024);
//! assert_eq!(t.formats().weight().exp_range(), -7..=7);
//! // 64 dense 8-bit weights: 64·8 + 10 header bits = 522 → 9 words of 64 bits
//! assert_eq!(t.synapse_bits(64, 8, false), 576);
//! ```

mod error;
mod parse;
pub mod raw;
mod rule;
mod synapse;
mod table;
mod target;
mod validate;

use std::path::Path;

pub use error::{Problem, TargetError};
pub use parse::raw_from_ron_str;
pub use raw::{NeuronModel, Overflow, RawTarget, ResetMode};
pub use rule::{FAMILY, family_rule};
pub use synapse::SynapseCost;
pub use table::{SummaryRow, render_table};
pub use target::{
    AxonKind, AxonKindLimits, Axons, BiasFormat, Core, DecayFormat, Formats, Neurons, RefractoryFormat, Register,
    SCHEMA_VERSION, System, Target, ThresholdFormat, Timing, VoltageFormat, WeightFormat,
};

/// Built-in targets: name, origin shown in messages, RON source.
const BUILTINS: &[(&str, &str, &str)] = &[
    ("loihi1", "builtin:loihi1", include_str!("../../../targets/loihi1.ron")),
    ("tiny", "builtin:tiny", include_str!("../../../targets/tiny.ron")),
];

/// Names of the built-in targets.
pub fn builtin_names() -> &'static [&'static str] {
    &["loihi1", "tiny"]
}

/// The RON source of a built-in target, comments included.
pub fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _, _)| *n == name).map(|(_, _, src)| *src)
}

impl Target {
    /// A built-in target by name (see [`builtin_names`]).
    pub fn builtin(name: &str) -> Option<Target> {
        let (_, origin, src) = BUILTINS.iter().find(|(n, _, _)| *n == name)?;
        // The built-ins are validated by this crate's tests.
        Target::from_ron_str(src, origin).ok()
    }

    /// Parses and validates RON text. `origin` (a path, or another label)
    /// starts every error message.
    pub fn from_ron_str(src: &str, origin: &str) -> Result<Target, TargetError> {
        Target::from_raw(parse::raw_from_ron_str(src, origin)?, origin)
    }

    /// Reads and validates a target file.
    pub fn from_file(path: &Path) -> Result<Target, TargetError> {
        let shown = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| TargetError::Io {
            path: shown.clone(),
            source,
        })?;
        Target::from_ron_str(&src, &shown)
    }

    /// What `--target` accepts: a built-in name, else a path to a `.ron`
    /// file. If it is neither, the error lists the built-in names.
    pub fn load(name_or_path: &str) -> Result<Target, TargetError> {
        if let Some(t) = Target::builtin(name_or_path) {
            return Ok(t);
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            return Target::from_file(path);
        }
        Err(TargetError::NotFound {
            name: name_or_path.to_string(),
            builtins: builtin_names().join(", "),
        })
    }
}
