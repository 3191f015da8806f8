//! QModel files: pretty, deterministic RON.

use crate::error::QuantError;
use nmc_ir::qmodel::{QMODEL_SCHEMA_VERSION, QMODEL_SCHEMA_VERSIONS_READ, QModel};
use serde::Deserialize;
use std::path::Path;

/// The QModel as the text [`write_qmodel`] writes.
pub fn qmodel_to_ron(model: &QModel) -> Result<String, ron::Error> {
    let config = ron::ser::PrettyConfig::new()
        .indentor("  ")
        .struct_names(false)
        .compact_arrays(true);
    ron::ser::to_string_pretty(model, config).map(|mut s| {
        s.push('\n');
        s
    })
}

/// Only the version, read first so that a file of another version is
/// reported as such rather than as a field mismatch.
#[derive(Deserialize)]
struct VersionProbe {
    schema_version: u64,
}

/// Parses QModel RON text; `origin` (a path) starts every error message.
/// Checks the schema version first (1 to 3 are read; an older file has no
/// host readouts or float host layers and is returned as the current
/// version), then the structure
/// ([`QModel::check`]).
pub fn qmodel_from_ron(src: &str, origin: &str) -> Result<QModel, QuantError> {
    if let Ok(VersionProbe { schema_version: found }) = ron::from_str::<VersionProbe>(src)
        && !QMODEL_SCHEMA_VERSIONS_READ.iter().any(|&v| u64::from(v) == found)
    {
        return Err(QuantError::SchemaVersion {
            path: origin.to_string(),
            found,
            supported: QMODEL_SCHEMA_VERSION,
        });
    }
    let mut model: QModel = ron::from_str(src).map_err(|e| QuantError::Parse {
        path: origin.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    model.check().map_err(|source| QuantError::Check {
        path: origin.to_string(),
        source,
    })?;
    model.schema_version = QMODEL_SCHEMA_VERSION;
    Ok(model)
}

/// Writes a QModel as pretty RON (deterministic: the same model gives the
/// same bytes).
pub fn write_qmodel(path: &Path, model: &QModel) -> Result<(), QuantError> {
    let shown = path.display().to_string();
    let text = qmodel_to_ron(model).map_err(|e| QuantError::Serialize {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    nmc_core::output::write_atomic(path, text.as_bytes()).map_err(|source| QuantError::Io { path: shown, source })
}

/// Reads a QModel file: checks `schema_version`, parses (errors name file,
/// line, column and the field), then runs [`QModel::check`].
pub fn read_qmodel(path: &Path) -> Result<QModel, QuantError> {
    let shown = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|source| QuantError::Io {
        path: shown.clone(),
        source,
    })?;
    qmodel_from_ron(&src, &shown)
}
