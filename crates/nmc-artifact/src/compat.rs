//! Reading older format versions: version 1 has no host readouts.

use crate::{ArtInput, Artifact, CoreCfg, HostLayer, LayerMap, OutputMap};
use serde::Deserialize;

/// The payload of a version-1 file: [`Artifact`] without `readouts`.
#[derive(Deserialize)]
pub(crate) struct ArtifactV1 {
    model: String,
    target_name: String,
    target_ron: String,
    dt: f64,
    inputs: Vec<ArtInput>,
    host: Vec<HostLayer>,
    cores: Vec<CoreCfg>,
    layers: Vec<LayerMap>,
    outputs: Vec<OutputMap>,
}

impl From<ArtifactV1> for Artifact {
    fn from(a: ArtifactV1) -> Artifact {
        Artifact {
            model: a.model,
            target_name: a.target_name,
            target_ron: a.target_ron,
            dt: a.dt,
            inputs: a.inputs,
            host: a.host,
            cores: a.cores,
            layers: a.layers,
            outputs: a.outputs,
            readouts: Vec::new(),
        }
    }
}
