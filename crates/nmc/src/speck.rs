//! `nmc partition --target speck`: a float model grouped into DYNAP-CNN
//! layers and placed on the chip's cores (crate `nmc-speck`), as a report
//! (schema `nmc.speck-partition/1`). Placement only: docs/speck.md.

use crate::{Error, Graph};
use serde::Serialize;
use std::fmt;

/// The JSON schema name of [`SpeckPartition`].
pub const SCHEMA: &str = "nmc.speck-partition/1";

/// A network placed on a DYNAP-CNN chip: its layers and where each went.
#[derive(Debug, Clone, Serialize)]
pub struct SpeckPartition {
    /// `nmc.speck-partition/1`.
    pub schema: &'static str,
    /// The model's name (file stem).
    pub model: String,
    /// The chip's name.
    pub chip: String,
    /// The network's input `[c, h, w]`.
    pub input: [u32; 3],
    /// The layers, in topological order (as sinabs' `DynapcnnLayer`s).
    pub layers: Vec<nmc_speck::Layer>,
    /// Per layer, the model's nodes it is made of (weight, neurons, poolings).
    pub nodes: Vec<Vec<String>>,
    /// Per layer its core, memories against the core's, and the cores it fits.
    pub placement: nmc_speck::Report,
    /// What the deployment must do that placement does not show (e.g. an
    /// average pooling placed as sum pooling).
    pub notes: Vec<String>,
}

/// Groups `g` into layers and places them on `chip`; the error says which
/// node does not fit a layer, or which layer fits no core and by how much,
/// too many layers, or the layers that crowd too few cores.
pub fn partition(chip: &nmc_speck::Chip, g: &Graph) -> Result<SpeckPartition, Error> {
    let (lowered, placement) = nmc_speck::partition(chip, g)?;
    Ok(SpeckPartition {
        schema: SCHEMA,
        model: g.name.clone(),
        chip: chip.name().to_string(),
        input: lowered.input,
        layers: lowered.layers,
        nodes: lowered.nodes,
        placement: placement.report(),
        notes: lowered.notes,
    })
}

impl fmt::Display for SpeckPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model {} on {} (placement only; input {:?})",
            self.model, self.chip, self.input
        )?;
        writeln!(f, "{}", self.placement)?;
        writeln!(
            f,
            "layers (model nodes: input → kernel/stride/padding → neurons, pooling → destination):"
        )?;
        for (i, (l, nodes)) in self.layers.iter().zip(&self.nodes).enumerate() {
            let dests: Vec<String> = l
                .pooling
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    let to = l
                        .destinations
                        .get(j)
                        .map_or_else(|| "exit".to_string(), |d| format!("layer {d}"));
                    format!("{}x{} → {to}", p[0], p[1])
                })
                .collect();
            let pair = |v: [u32; 2]| {
                if v[0] == v[1] {
                    v[0].to_string()
                } else {
                    format!("{}x{}", v[0], v[1])
                }
            };
            writeln!(
                f,
                "  {i} [{}]: {:?} → {}x{} s{} p{} → {} {:?}, {}",
                nodes.join(", "),
                l.input,
                l.kernel[2],
                l.kernel[3],
                pair(l.stride),
                pair(l.padding),
                l.neuron,
                l.output,
                dests.join(", ")
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}
