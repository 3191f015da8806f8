//! Source data: for each RingBuffer source, an int32 array of shape
//! (channels, columns); in step t the source sends column (t − 1) mod
//! columns.

use ndarray::Array2;

use crate::net::{Kind, Net};

/// The data of every source of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    data: Vec<(Option<String>, Array2<i32>)>,
}

/// Why an input does not fit a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A source has no data.
    #[error("source `{0}`: no input data given")]
    Missing(String),
    /// Data was given for a name that is not a source.
    #[error("input `{0}`: the network has no source of that name")]
    Unknown(String),
    /// Unnamed data for a network without exactly one source.
    #[error("unnamed input data, but the network has {0} sources")]
    Ambiguous(usize),
    /// Wrong shape.
    #[error("source `{name}`: data has shape ({rows}, {cols}), the source needs ({channels}, columns ≥ 1)")]
    Shape {
        /// The source.
        name: String,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
        /// Channels of the source.
        channels: usize,
    },
}

impl Input {
    /// No data (for networks without sources).
    pub fn none() -> Input {
        Input::default()
    }

    /// The data of the network's only source.
    pub fn single(data: Array2<i32>) -> Input {
        Input {
            data: vec![(None, data)],
        }
    }

    /// Adds the data of the source called `name`.
    pub fn with(mut self, name: &str, data: Array2<i32>) -> Input {
        self.data.push((Some(name.to_string()), data));
        self
    }

    /// For each process of `net`, the data of that source (None for others),
    /// checked.
    pub fn resolve<'a>(&'a self, net: &Net) -> Result<Vec<Option<&'a Array2<i32>>>, InputError> {
        let sources: Vec<usize> = (0..net.processes().len())
            .filter(|&i| matches!(net.processes()[i].kind, Kind::Source(_)))
            .collect();
        let mut out = vec![None; net.processes().len()];
        for (name, d) in &self.data {
            let i = match name {
                None if sources.len() == 1 => sources[0],
                None => return Err(InputError::Ambiguous(sources.len())),
                Some(n) => *sources
                    .iter()
                    .find(|&&i| net.processes()[i].name == *n)
                    .ok_or_else(|| InputError::Unknown(n.clone()))?,
            };
            out[i] = Some(d);
        }
        for &i in &sources {
            let p = &net.processes()[i];
            let d = out[i].ok_or_else(|| InputError::Missing(p.name.clone()))?;
            if d.nrows() != p.kind.output_width() || d.ncols() == 0 {
                return Err(InputError::Shape {
                    name: p.name.clone(),
                    rows: d.nrows(),
                    cols: d.ncols(),
                    channels: p.kind.output_width(),
                });
            }
        }
        Ok(out)
    }
}
