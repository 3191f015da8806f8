//! The `nmc targets` table.

use crate::target::Target;

/// One row of the `nmc targets` table: a target's key limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Target name.
    pub name: String,
    /// Cores per chip.
    pub cores_per_chip: u32,
    /// Chips in the largest system.
    pub max_chips: u32,
    /// Compartments per core.
    pub compartments_per_core: u32,
    /// Input axons per core.
    pub input_axons_per_core: u32,
    /// Output-axon slots per core.
    pub output_axon_slots_per_core: u32,
    /// Synapse-memory bits per core.
    pub synapse_bits_per_core: u64,
    /// Weight mantissa bits.
    pub weight_bits: u32,
}

impl SummaryRow {
    /// Column headers, in the order of [`SummaryRow::cells`].
    pub const HEADER: [&'static str; 8] = [
        "target",
        "cores/chip",
        "chips",
        "compartments/core",
        "axons in",
        "axons out",
        "synapse bits/core",
        "weight bits",
    ];

    /// The row's cells as text, in the order of [`SummaryRow::HEADER`].
    pub fn cells(&self) -> [String; 8] {
        [
            self.name.clone(),
            self.cores_per_chip.to_string(),
            self.max_chips.to_string(),
            self.compartments_per_core.to_string(),
            self.input_axons_per_core.to_string(),
            self.output_axon_slots_per_core.to_string(),
            self.synapse_bits_per_core.to_string(),
            self.weight_bits.to_string(),
        ]
    }
}

impl Target {
    /// The target's row of the `nmc targets` table.
    pub fn summary_row(&self) -> SummaryRow {
        SummaryRow {
            name: self.name().to_string(),
            cores_per_chip: self.system().cores_per_chip(),
            max_chips: self.system().max_chips(),
            compartments_per_core: self.core().max_compartments(),
            input_axons_per_core: self.core().max_input_axons(),
            output_axon_slots_per_core: self.core().max_output_axon_slots(),
            synapse_bits_per_core: self.core().synapse_memory_bits(),
            weight_bits: self.formats().weight().mantissa_bits(),
        }
    }
}

/// An aligned text table of the targets' key limits (names left-aligned,
/// numbers right-aligned, two spaces between columns, one line per target
/// after the header, each line ending in `\n`).
pub fn render_table(targets: &[Target]) -> String {
    // A target name comes from a file and may be any length: shorten it here
    // (`format!` width arguments panic past u16::MAX; JSON keeps it whole).
    let rows: Vec<[String; 8]> = targets
        .iter()
        .map(|t| {
            t.summary_row()
                .cells()
                .map(|c| nmc_core::text::shorten(&c, nmc_core::text::MAX_CELL).into_owned())
        })
        .collect();
    let mut widths = SummaryRow::HEADER.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = SummaryRow::HEADER.map(str::to_string);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i == 0 {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("{cell:>w$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
