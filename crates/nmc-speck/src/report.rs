//! The partition report: per layer its memories, the core chosen, that
//! core's capacities and how full each memory is; as a text table for a
//! hardware engineer and as JSON.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::place::Placement;

/// One layer's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Position in the layer list.
    pub layer: usize,
    /// The layer's name.
    pub name: String,
    /// The core it runs on.
    pub core: usize,
    /// Kernel entries used / the core's kernel memory.
    pub kernel: Usage,
    /// Neuron entries used / the core's neuron memory.
    pub neuron: Usage,
    /// Bias entries used / the core's bias memory.
    pub bias: Usage,
    /// Every core the layer would fit.
    pub fits: Vec<usize>,
}

/// Entries used of a memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Entries the layer needs.
    pub used: u64,
    /// Entries the core has.
    pub capacity: u64,
    /// `100 · used / capacity`.
    pub percent: f64,
}

impl Usage {
    fn new(used: u64, capacity: u64) -> Usage {
        let percent = if capacity == 0 {
            0.0
        } else {
            // Rounded to 0.1 % so that text and JSON agree.
            (1000.0 * used as f64 / capacity as f64).round() / 10.0
        };
        Usage {
            used,
            capacity,
            percent,
        }
    }
}

/// The partition report of a [`Placement`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The chip's name.
    pub chip: String,
    /// Cores on the chip.
    pub cores: usize,
    /// Cores no layer uses, ascending.
    pub free_cores: Vec<usize>,
    /// One row per layer, in layer order.
    pub rows: Vec<Row>,
}

impl Placement {
    /// The partition report of this placement.
    pub fn report(&self) -> Report {
        let rows: Vec<Row> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = self.cores.get(p.core).copied().unwrap_or(crate::chip::CoreMemory {
                    kernel_memory: 0,
                    neuron_memory: 0,
                    bias_memory: 0,
                });
                Row {
                    layer: i,
                    name: p.name.clone(),
                    core: p.core,
                    kernel: Usage::new(p.memory.kernel, c.kernel_memory),
                    neuron: Usage::new(p.memory.neuron, c.neuron_memory),
                    bias: Usage::new(p.memory.bias, c.bias_memory),
                    fits: p.fits.clone(),
                }
            })
            .collect();
        let free_cores = (0..self.cores.len())
            .filter(|c| !rows.iter().any(|r| r.core == *c))
            .collect();
        Report {
            chip: self.chip.clone(),
            cores: self.cores.len(),
            free_cores,
            rows,
        }
    }
}

impl Report {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as a text table (also its `Display`).
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

fn ids(v: &[usize]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} layers on {} of {} cores (one layer per core); memory in entries, used/capacity",
            self.chip,
            self.rows.len(),
            self.cores - self.free_cores.len(),
            self.cores
        )?;
        let head = [
            "layer",
            "name",
            "core",
            "kernel",
            "use",
            "neuron",
            "use",
            "bias",
            "use",
            "fits cores",
        ];
        let mut table: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
        for r in &self.rows {
            let u = |x: &Usage| (format!("{}/{}", x.used, x.capacity), format!("{:.1}%", x.percent));
            let (k, kp) = u(&r.kernel);
            let (n, np) = u(&r.neuron);
            let (b, bp) = u(&r.bias);
            table.push(vec![
                r.layer.to_string(),
                r.name.clone(),
                r.core.to_string(),
                k,
                kp,
                n,
                np,
                b,
                bp,
                ids(&r.fits),
            ]);
        }
        let widths: Vec<usize> = (0..head.len())
            .map(|j| table.iter().map(|row| row[j].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &table {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(j, (c, w))| {
                    if j == 1 || j == 9 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())?;
        }
        write!(f, "free cores: {}", ids(&self.free_cores))
    }
}
