//! Reading older format versions: version 1 has no host readouts, version
//! 2 no float host layers.

use crate::{ArtInput, Artifact, CoreCfg, HostLayer, HostReadout, LayerMap, OutputMap};
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
            float_host: Vec::new(),
        }
    }
}

/// The payload of a version-2 file: [`Artifact`] without `float_host`.
#[derive(Deserialize)]
pub(crate) struct ArtifactV2 {
    v1: ArtifactV1,
    readouts: Vec<HostReadout>,
}

impl From<ArtifactV2> for Artifact {
    fn from(a: ArtifactV2) -> Artifact {
        Artifact {
            readouts: a.readouts,
            ..a.v1.into()
        }
    }
}
