//! What a run records: spike counts per step and, optionally, every state
//! register, writable as `.npz` arrays `spikes.<layer>` and
//! `state.<layer>.<register>`.

use std::path::Path;

use ndarray::Array2;

use crate::Error;
use crate::npz::{self, NpyArray};

/// Per-step state registers after each step (steps × neurons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct States {
    /// Hidden membrane potentials (`Vmem`).
    pub hidden_vmem: Array2<i16>,
    /// Hidden synaptic state 1 (`Isyn`).
    pub hidden_isyn: Array2<i16>,
    /// Hidden synaptic state 2 (`Isyn2`), on chips that have it.
    pub hidden_isyn2: Option<Array2<i16>>,
    /// Output membrane potentials (`Vmem_out`).
    pub output_vmem: Array2<i16>,
    /// Output synaptic states (`Isyn_out`).
    pub output_isyn: Array2<i16>,
}

/// A run's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Spikes each hidden neuron emitted per step (steps × hidden; ≤ 31).
    pub spikes_hidden: Array2<u8>,
    /// Spikes each output neuron emitted per step (steps × outputs; ≤ 1).
    pub spikes_output: Array2<u8>,
    /// The registers, when asked for.
    pub states: Option<States>,
}

impl Record {
    /// The arrays as (name, array): `spikes.hidden`, `spikes.output`, and
    /// with states `state.hidden.vmem`, `state.hidden.isyn`,
    /// `state.hidden.isyn2`, `state.output.vmem`, `state.output.isyn`.
    pub fn arrays(&self) -> Vec<(String, NpyArray)> {
        let mut out = vec![
            (
                "spikes.hidden".to_string(),
                NpyArray::U8(self.spikes_hidden.clone().into_dyn()),
            ),
            (
                "spikes.output".to_string(),
                NpyArray::U8(self.spikes_output.clone().into_dyn()),
            ),
        ];
        if let Some(s) = &self.states {
            let mut reg =
                |name: &str, a: &Array2<i16>| out.push((name.to_string(), NpyArray::I16(a.clone().into_dyn())));
            reg("state.hidden.vmem", &s.hidden_vmem);
            reg("state.hidden.isyn", &s.hidden_isyn);
            if let Some(a) = &s.hidden_isyn2 {
                reg("state.hidden.isyn2", a);
            }
            reg("state.output.vmem", &s.output_vmem);
            reg("state.output.isyn", &s.output_isyn);
        }
        out
    }

    /// Write [`Record::arrays`] as a compressed `.npz`.
    pub fn write_npz(&self, path: &Path) -> Result<(), Error> {
        npz::write_npz(path, &self.arrays())
    }
}
