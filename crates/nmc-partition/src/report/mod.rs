//! The partition report: per core, per layer, host and totals; as a text
//! table ([`std::fmt::Display`]), JSON (schema [`PARTITION_REPORT_SCHEMA`])
//! and a self-contained HTML core map ([`PartitionReport::to_html`]).
//!
//! This module holds the data model; `build` makes it from a placement (or
//! from the tilings before a failure), `text` and `html` render it.

pub(crate) mod build;
mod html;
mod text;

use crate::options::Baseline;
use serde::Serialize;

/// Version tag of the JSON report.
pub const PARTITION_REPORT_SCHEMA: &str = "nmc.partition/1";

/// One resource of one core: amount used, limit, utilisation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceAmount {
    /// Resource name (see [`Resource::name`](crate::Resource::name)).
    pub resource: String,
    /// Used.
    pub used: u64,
    /// The target's limit.
    pub limit: u64,
    /// `100 · used / limit`.
    pub pct: f64,
}

/// A block as the core rows show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockRef {
    /// Population name.
    pub layer: String,
    /// Index of the population.
    pub layer_index: u32,
    /// Tile as `c0:c1,y0:y1,x0:x1`.
    pub tile: String,
    /// Axon mode per input connection.
    pub modes: Vec<String>,
}

/// One used core.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreRow {
    /// Index in the artifact's core list.
    pub index: u32,
    /// Chip.
    pub chip: u16,
    /// Core within the chip.
    pub core: u16,
    /// Blocks on it.
    pub blocks: Vec<BlockRef>,
    /// Every resource, in [`Resource::ALL`](crate::Resource::ALL) order.
    pub usage: Vec<ResourceAmount>,
    /// The most used resource.
    pub binding: String,
}

/// One population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRow {
    /// Population name.
    pub name: String,
    /// Population shape.
    pub shape: Vec<usize>,
    /// `host` or `chip`.
    pub placement: String,
    /// Neurons.
    pub neurons: u64,
    /// Blocks (chip) — 0 for host layers.
    pub blocks: u64,
    /// Cores holding its blocks.
    pub cores: Vec<u32>,
    /// Nominal tile `[C, H, W]` (the last tile of each axis may be smaller).
    pub tile_shape: [u32; 3],
    /// Per input connection, the modes used and how many blocks use each.
    pub modes: Vec<String>,
    /// Why it was split as it was.
    pub reason: String,
    /// `max over resources of ceil(layer total / core limit)`.
    pub lower_bound: u64,
    /// The resource giving the lower bound.
    pub lower_bound_resource: String,
    /// Tile shapes evaluated by the search.
    pub candidates: u64,
}

/// A host (encoder) layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostRow {
    /// Population name.
    pub layer: String,
    /// Neurons.
    pub neurons: u64,
    /// Routes from its neurons to chip axons.
    pub routes: u64,
    /// Estimated spikes per step it emits (needs rates).
    pub spikes_per_step: Option<f64>,
    /// Estimated events per step sent to the chip, spikes × routes (needs rates).
    pub events_per_step: Option<f64>,
    /// `float` for a float host layer (the float model in `f64` on the
    /// host); absent for an integer one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Cores used.
    pub cores: u64,
    /// Lower bound on cores for the whole network (docs/partition.md):
    /// the largest single layer's bound, or the compartments and synapse
    /// memory of all chip layers together, whichever is larger.
    pub lower_bound: u64,
    /// `100 · (cores − lower_bound) / lower_bound`.
    pub over_lower_bound_pct: f64,
    /// Chips used.
    pub chips: u64,
    /// Core pairs on different chips with spikes between them.
    pub inter_chip_edges: u64,
    /// Spike traffic between chips: spikes/s with rates, else routes.
    pub inter_chip_traffic: f64,
    /// All spike traffic between cores, same unit.
    pub total_traffic: f64,
    /// `spikes/s` or `routes`.
    pub traffic_unit: String,
    /// Another tool's core count, if given.
    pub baseline: Option<Baseline>,
}

/// Why partitioning stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Layer.
    pub layer: String,
    /// Resource.
    pub resource: String,
    /// Need.
    pub need: u64,
    /// Offer.
    pub offer: u64,
    /// Explanation.
    pub detail: String,
}

/// A host readout (the mirror of the host encoder, after the chip).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostReadoutRow {
    /// Readout name.
    pub name: String,
    /// The output it feeds.
    pub output: String,
    /// The chip layers whose spikes it reads.
    pub inputs: Vec<String>,
    /// Elements (its size).
    pub elements: u64,
    /// Stored f64 weights.
    pub weights: u64,
    /// The lowpass time constant (s), when filtered.
    pub synapse_tau: Option<f64>,
    /// Steps from a chip spike to the readout (the target's chip → host latency).
    pub latency: u32,
}

/// The partition report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionReport {
    /// [`PARTITION_REPORT_SCHEMA`].
    pub schema: String,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Cores per chip of the target.
    pub cores_per_chip: u32,
    /// Per core.
    pub cores: Vec<CoreRow>,
    /// Per population.
    pub layers: Vec<LayerRow>,
    /// Host layers.
    pub host: Vec<HostRow>,
    /// Host readouts: non-spiking linear output layers the host computes in
    /// f64 from chip spikes (no core resources).
    pub host_readouts: Vec<HostReadoutRow>,
    /// Totals.
    pub totals: Totals,
    /// Set when the network did not fit.
    pub failure: Option<Failure>,
    /// The conventions the float model was read with (dt, discretization,
    /// spike convention), when the report was made from one; a quantized
    /// model's integers carry none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conventions: Option<String>,
}

impl PartitionReport {
    /// The report as JSON (schema [`PARTITION_REPORT_SCHEMA`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
