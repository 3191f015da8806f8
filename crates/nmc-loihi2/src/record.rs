//! What a run records: every variable of every process at every step
//! (`<proc>.<var>`, shape steps × neurons), with an npz writer.

use ndarray::ArrayView2;
use ndarray_npy::NpzWriter;

use crate::net::Net;

/// One recorded variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The process name.
    pub process: String,
    /// The variable (`s_out`, `a_out`, `u`, `v`, `sigma`, `act`, `residue`).
    pub var: &'static str,
    /// Values per step.
    pub width: usize,
    /// Row-major steps × width.
    pub data: Vec<i64>,
}

impl Trace {
    /// `<proc>.<var>`, the fixtures' member name.
    pub fn key(&self) -> String {
        format!("{}.{}", self.process, self.var)
    }

    /// Steps recorded.
    pub fn steps(&self) -> usize {
        self.data.len().checked_div(self.width).unwrap_or(0)
    }

    /// The values as a steps × width array.
    pub fn view(&self) -> ArrayView2<'_, i64> {
        // Cannot fail: the slice holds exactly steps() · width values.
        ArrayView2::from_shape((self.steps(), self.width), &self.data[..self.steps() * self.width])
            .expect("the first steps × width values make a steps × width array")
    }

    /// Row `step` (0-based), if recorded.
    pub fn row(&self, step: usize) -> Option<&[i64]> {
        self.data.get(step * self.width..(step + 1) * self.width)
    }

    /// The npz member name: `spikes.<proc>` for `s_out`, else
    /// `state.<proc>.<var>`.
    pub fn npz_name(&self) -> String {
        if self.var == "s_out" {
            format!("spikes.{}", self.process)
        } else {
            format!("state.{}.{}", self.process, self.var)
        }
    }
}

/// Every variable of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    steps: usize,
    traces: Vec<Trace>,
}

/// Why an npz could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A member could not be written.
    #[error("{path}: member {member}: {message}")]
    Npz {
        /// The file.
        path: String,
        /// The member.
        member: String,
        /// The error.
        message: String,
    },
}

impl Record {
    /// Empty traces for every variable of `net`, with room for `steps`.
    pub fn for_net(net: &Net, steps: usize) -> Record {
        let mut traces = Vec::new();
        for p in net.processes() {
            let width = p.kind.output_width();
            for &var in p.kind.variables() {
                traces.push(Trace {
                    process: p.name.clone(),
                    var,
                    width,
                    data: Vec::with_capacity(width.saturating_mul(steps)),
                });
            }
        }
        Record { steps, traces }
    }

    /// Appends one step's values of trace `k` (no allocation: room was made).
    pub fn push(&mut self, k: usize, values: &[i64]) {
        self.traces[k].data.extend_from_slice(values);
    }

    /// Steps the run was asked for.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// All traces, process by process in creation order.
    pub fn traces(&self) -> &[Trace] {
        &self.traces
    }

    /// The trace `<proc>.<var>`.
    pub fn get(&self, key: &str) -> Option<&Trace> {
        self.traces
            .iter()
            .find(|t| t.process.len() + 1 + t.var.len() == key.len() && t.key() == key)
    }

    /// Writes `spikes.<proc>` and `state.<proc>.<var>` members (int64,
    /// steps × neurons) to an npz file.
    pub fn write_npz(&self, path: &std::path::Path) -> Result<(), WriteError> {
        let p = path.display().to_string();
        let file = std::fs::File::create(path).map_err(|source| WriteError::Io {
            path: p.clone(),
            source,
        })?;
        let mut npz = NpzWriter::new_compressed(file);
        for t in &self.traces {
            npz.add_array(t.npz_name(), &t.view()).map_err(|e| WriteError::Npz {
                path: p.clone(),
                member: t.npz_name(),
                message: e.to_string(),
            })?;
        }
        npz.finish().map_err(|e| WriteError::Npz {
            path: p.clone(),
            member: "(end)".into(),
            message: e.to_string(),
        })?;
        Ok(())
    }
}
