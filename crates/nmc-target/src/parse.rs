//! RON text ↔ [`RawTarget`], with errors that name file, line and column.

use serde::Deserialize;

use crate::error::TargetError;
use crate::raw::{RawTarget, SCHEMA_VERSION, SHARED_SECTIONS, TOP_SECTION};

/// Only the version, read before the rest so that a file of another schema
/// version is reported as such rather than as a pile of unknown fields.
#[derive(Deserialize)]
struct VersionProbe {
    schema_version: u64,
}

/// The text before 1-based `line`/`col`, without `//` comments.
fn text_before(src: &str, line: usize, col: usize) -> String {
    let mut out = String::new();
    for (i, l) in src.lines().enumerate().take(line) {
        let l = if i + 1 == line {
            l.chars().take(col.saturating_sub(1)).collect::<String>()
        } else {
            l.to_string()
        };
        let code = l.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Byte index of the last `key:` (as a whole word) in `text`.
fn last_key(text: &str, key: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(key)
        .filter(|(i, _)| {
            let before_ok = text[..*i].chars().next_back().is_none_or(|c| !is_ident(c));
            let after = text[i + key.len()..].trim_start();
            before_ok && after.starts_with(':')
        })
        .map(|(i, _)| i)
        .last()
}

/// The section path of a struct's serde name; shared structs are resolved
/// by the nearest preceding field name in the text.
fn section_path(src: &str, line: usize, col: usize, serde_name: Option<String>) -> String {
    let Some(name) = serde_name else {
        return "a section".to_string();
    };
    let Some((_, candidates)) = SHARED_SECTIONS.iter().find(|(n, _)| *n == name) else {
        return name;
    };
    if candidates.is_empty() {
        return TOP_SECTION.to_string();
    }
    let before = text_before(src, line, col);
    candidates
        .iter()
        .filter_map(|(key, path)| last_key(&before, key).map(|i| (i, *path)))
        .max()
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| candidates.iter().map(|(_, p)| *p).collect::<Vec<_>>().join(" or "))
}

fn syntax(src: &str, origin: &str, e: ron::error::SpannedError) -> TargetError {
    let origin = origin.to_string();
    let (line, col) = (e.span.start.line, e.span.start.col);
    match e.code {
        ron::Error::NoSuchStructField { expected, found, outer } => TargetError::UnknownField {
            origin,
            line,
            col,
            field: found,
            section: section_path(src, line, col, outer),
            expected: expected.join(", "),
        },
        ron::Error::MissingStructField { field, outer } => TargetError::MissingField {
            origin,
            line,
            col,
            field: field.to_string(),
            section: section_path(src, line, col, outer),
        },
        code => TargetError::Syntax {
            origin,
            line,
            col,
            message: code.to_string(),
        },
    }
}

/// Parses RON text into the serde form (no validation beyond the shape).
pub fn raw_from_ron_str(src: &str, origin: &str) -> Result<RawTarget, TargetError> {
    if let Ok(VersionProbe { schema_version: found }) = ron::from_str::<VersionProbe>(src)
        && found != u64::from(SCHEMA_VERSION)
    {
        return Err(TargetError::SchemaVersion {
            origin: origin.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    ron::from_str::<RawTarget>(src).map_err(|e| syntax(src, origin, e))
}

/// Pretty RON of a raw target (no struct names, 4-space indent).
pub(crate) fn to_ron(raw: &RawTarget) -> Result<String, TargetError> {
    let config = ron::ser::PrettyConfig::new().indentor("    ").struct_names(false);
    ron::ser::to_string_pretty(raw, config)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| TargetError::Serialize {
            name: raw.name.clone(),
            message: e.to_string(),
        })
}
