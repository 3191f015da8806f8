//! The chip description: cores with their memories and the layer rules,
//! read from `targets/speck.ron` (built in).

use serde::{Deserialize, Serialize};

/// The schema version of `targets/speck.ron` this crate reads.
pub const SCHEMA_VERSION: u64 = 1;

/// Built-in chips: name, origin shown in messages, RON source.
const BUILTINS: &[(&str, &str, &str)] = &[("speck", "builtin:speck", include_str!("../../../targets/speck.ron"))];

/// One core's memories, in entries as sinabs' `memory_summary` counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreMemory {
    /// Kernel (weight) memory entries.
    pub kernel_memory: u64,
    /// Neuron (state) memory entries.
    pub neuron_memory: u64,
    /// Bias memory entries.
    pub bias_memory: u64,
}

/// The rules every layer must follow, whatever core it goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Layers one core runs (1 on DYNAP-CNN chips).
    pub layers_per_core: u32,
    /// Largest kernel side; kernels must be square.
    pub max_kernel_size: u32,
    /// Allowed strides (each axis).
    pub strides: Vec<u32>,
    /// Largest padding (each axis).
    pub max_padding: u32,
    /// Allowed sum-pooling sizes (square).
    pub poolings: Vec<u32>,
    /// Most destinations one layer may send to.
    pub max_fan_out: u32,
    /// Most input or output channels of a layer.
    pub max_channels: u32,
    /// Neuron models a core runs (lower-case names, e.g. `iaf`).
    pub neuron_models: Vec<String>,
}

/// The file as written (`deny_unknown_fields`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChip {
    schema_version: u64,
    name: String,
    family: String,
    description: String,
    cores: Vec<CoreMemory>,
    limits: Limits,
}

/// A DYNAP-CNN family chip, validated: at least one core, every memory > 0,
/// non-empty rule sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chip {
    name: String,
    family: String,
    description: String,
    cores: Vec<CoreMemory>,
    limits: Limits,
}

/// Why a chip description was rejected. Every message starts with the
/// origin (`builtin:NAME` or a path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// No built-in chip has this name.
    #[error("no built-in DYNAP-CNN chip `{0}` (built in: speck)")]
    UnknownBuiltin(String),
    /// Not RON, or not of the schema's shape.
    #[error("{origin}:{line}:{col}: {message}")]
    Syntax {
        /// Where the text came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// A chip file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A field breaks a rule of the schema.
    #[error("{origin}: {field}: {message}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// Field path, e.g. `cores[3].kernel_memory`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl Chip {
    /// A built-in chip by name (`speck`).
    pub fn builtin(name: &str) -> Result<Chip, ChipError> {
        let (_, origin, src) = BUILTINS
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| ChipError::UnknownBuiltin(name.to_string()))?;
        chip_of_ron(src, origin)
    }

    /// Parses and validates chip RON text; `origin` (a path, or another
    /// label) starts every error message.
    pub fn from_ron_str(src: &str, origin: &str) -> Result<Chip, ChipError> {
        chip_of_ron(src, origin)
    }

    /// Reads and validates a chip file (RON, `family: "dynapcnn"`).
    pub fn from_file(path: &std::path::Path) -> Result<Chip, ChipError> {
        let shown = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| ChipError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Chip::from_ron_str(&src, &shown)
    }

    /// The built-in chip's RON source, comments included.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTINS.iter().find(|(n, _, _)| *n == name).map(|(_, _, s)| *s)
    }

    /// Names of the built-in chips.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTINS.iter().map(|(n, _, _)| *n).collect()
    }

    /// A chip from values in memory (for tests and tools), validated as a file is.
    pub fn new(name: &str, cores: Vec<CoreMemory>, limits: Limits) -> Result<Chip, ChipError> {
        let raw = RawChip {
            schema_version: SCHEMA_VERSION,
            name: name.to_string(),
            family: "dynapcnn".to_string(),
            description: format!("{name} (in memory)"),
            cores,
            limits,
        };
        validate(raw, &format!("chip:{name}"))
    }

    /// The chip's name (`speck`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The chip family (`dynapcnn`).
    pub fn family(&self) -> &str {
        &self.family
    }

    /// One line describing the chip.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The cores' memories, in core-id order.
    pub fn cores(&self) -> &[CoreMemory] {
        &self.cores
    }

    /// The layer rules.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The largest kernel and neuron memory of any core.
    pub fn largest(&self) -> CoreMemory {
        let max = |f: fn(&CoreMemory) -> u64| self.cores.iter().map(f).max().unwrap_or(0);
        CoreMemory {
            kernel_memory: max(|c| c.kernel_memory),
            neuron_memory: max(|c| c.neuron_memory),
            bias_memory: max(|c| c.bias_memory),
        }
    }

    /// How many layers the whole chip can hold.
    pub fn layer_slots(&self) -> usize {
        self.cores.len() * self.limits.layers_per_core as usize
    }
}

/// Whether RON text describes a chip of the DYNAP-CNN family: its top-level
/// `family` field is `"dynapcnn"` (other fields are not looked at). Loihi-like
/// target files have no `family` field.
pub fn is_dynapcnn(src: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        family: String,
    }
    ron::Options::default()
        .from_str::<Probe>(src)
        .is_ok_and(|p| p.family == "dynapcnn")
}

/// Parses and validates RON text (the built-ins and chip files; fuzzed as
/// `speck_ron`).
fn chip_of_ron(src: &str, origin: &str) -> Result<Chip, ChipError> {
    let raw: RawChip = ron::Options::default().from_str(src).map_err(|e| ChipError::Syntax {
        origin: origin.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    validate(raw, origin)
}

fn validate(raw: RawChip, origin: &str) -> Result<Chip, ChipError> {
    let bad = |field: String, message: &str| ChipError::Invalid {
        origin: origin.to_string(),
        field,
        message: message.to_string(),
    };
    if raw.schema_version != SCHEMA_VERSION {
        return Err(bad(
            "schema_version".into(),
            &format!(
                "{} is not supported (this nmc reads {SCHEMA_VERSION})",
                raw.schema_version
            ),
        ));
    }
    if raw.family != "dynapcnn" {
        return Err(bad("family".into(), &format!("`{}`: must be `dynapcnn`", raw.family)));
    }
    if raw.name.is_empty() {
        return Err(bad("name".into(), "must not be empty"));
    }
    if raw.cores.is_empty() {
        return Err(bad("cores".into(), "must list at least one core"));
    }
    for (i, c) in raw.cores.iter().enumerate() {
        for (f, v) in [
            ("kernel_memory", c.kernel_memory),
            ("neuron_memory", c.neuron_memory),
            ("bias_memory", c.bias_memory),
        ] {
            if v == 0 {
                return Err(bad(format!("cores[{i}].{f}"), "must be > 0"));
            }
        }
    }
    let l = &raw.limits;
    for (f, v) in [
        ("layers_per_core", l.layers_per_core),
        ("max_kernel_size", l.max_kernel_size),
        ("max_fan_out", l.max_fan_out),
        ("max_channels", l.max_channels),
    ] {
        if v == 0 {
            return Err(bad(format!("limits.{f}"), "must be > 0"));
        }
    }
    for (f, v) in [("strides", &l.strides), ("poolings", &l.poolings)] {
        if v.is_empty() || v.contains(&0) {
            return Err(bad(format!("limits.{f}"), "must be a non-empty list of values > 0"));
        }
    }
    if l.neuron_models.is_empty() {
        return Err(bad("limits.neuron_models".into(), "must name at least one model"));
    }
    Ok(Chip {
        name: raw.name,
        family: raw.family,
        description: raw.description,
        cores: raw.cores,
        limits: raw.limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> &'static str {
        BUILTINS[0].2
    }

    #[test]
    fn builtin_speck_parses() {
        let c = Chip::builtin("speck").unwrap();
        assert_eq!(c.cores().len(), 9);
        assert_eq!(c.family(), "dynapcnn");
        assert_eq!(c.largest().kernel_memory, 65536);
        assert!(matches!(Chip::builtin("loihi1"), Err(ChipError::UnknownBuiltin(_))));
    }

    #[test]
    fn the_family_probe_tells_chip_files_from_loihi_targets() {
        assert!(is_dynapcnn(src()));
        assert!(!is_dynapcnn(include_str!("../../../targets/loihi1.ron")));
        assert!(!is_dynapcnn(&src().replace("\"dynapcnn\"", "\"loihi\"")));
        assert!(!is_dynapcnn("(") && !is_dynapcnn(""));
        let c = Chip::from_ron_str(&src().replace("name: \"speck\"", "name: \"mine\""), "m.ron").unwrap();
        assert_eq!(c.name(), "mine");
        let e = Chip::from_file(std::path::Path::new("/nonexistent/x.ron")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.ron: "), "{e}");
    }

    #[test]
    fn truncated_or_mutated_files_give_errors_not_panics() {
        let src = src();
        let mut cuts: Vec<usize> = (0..src.len()).step_by(7).filter(|&i| src.is_char_boundary(i)).collect();
        cuts.push(src.len());
        for i in cuts {
            let t = &src[..i];
            let _ = is_dynapcnn(t);
            let _ = Chip::from_ron_str(t, "t.ron");
        }
        let mut x = 0x9e3779b97f4a7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = src.as_bytes().to_vec();
            let at = (x % b.len() as u64) as usize;
            b[at] = b"0123456789(),:[]\" x-"[(x >> 40) as usize % 17];
            if let Ok(t) = std::str::from_utf8(&b) {
                let _ = is_dynapcnn(t);
                let _ = Chip::from_ron_str(t, "t.ron");
            }
        }
    }

    #[test]
    fn syntax_errors_name_origin_line_and_field() {
        let e = chip_of_ron(&src().replace("max_fan_out", "max_fanout"), "x.ron").unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("x.ron:"), "{m}");
        assert!(m.contains("max_fanout"), "{m}");
        let e = chip_of_ron("(", "y.ron").unwrap_err();
        assert!(e.to_string().starts_with("y.ron:1:"), "{e}");
    }

    #[test]
    fn invalid_values_name_the_field() {
        let e = chip_of_ron(&src().replacen("kernel_memory: 32768", "kernel_memory: 0", 1), "x.ron").unwrap_err();
        assert_eq!(e.to_string(), "x.ron: cores[3].kernel_memory: must be > 0");
        let e = chip_of_ron(&src().replace("strides: [1, 2, 4, 8]", "strides: []"), "x.ron").unwrap_err();
        assert!(e.to_string().starts_with("x.ron: limits.strides: "), "{e}");
        let e = chip_of_ron(&src().replace("schema_version: 1", "schema_version: 7"), "x.ron").unwrap_err();
        assert!(e.to_string().starts_with("x.ron: schema_version: 7 is not"), "{e}");
        let e = chip_of_ron(&src().replace("family: \"dynapcnn\"", "family: \"loihi\""), "x.ron").unwrap_err();
        assert!(e.to_string().starts_with("x.ron: family: "), "{e}");
    }
}
