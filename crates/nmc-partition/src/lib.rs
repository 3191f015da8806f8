//! # nmc-partition — from a quantized model to cores, chips and an artifact
//!
//! Three steps, each usable alone (docs/partition.md has the details):
//!
//! 1. [`partition`] places every chip population of a
//!    [`nmc_ir::qmodel::QModel`] on cores: convolution layers are cut into
//!    tiles of channels × rows × columns, other layers into ranges of
//!    neurons; the tile shapes are searched to use the fewest cores (then
//!    the fewest input axons), each input connection picks discrete or
//!    population axons, and cores are assigned to chips to keep spike
//!    traffic on chip. It returns a [`Placement`] (a serde side table) and a
//!    [`PartitionReport`] (text table, JSON `nmc.partition/1`, HTML core map).
//! 2. [`verify`] re-derives every count of a placement from the model and
//!    checks every limit of the target and that every neuron and synapse is
//!    placed exactly once; [`verify_artifact`] does the same from an emitted
//!    [`nmc_artifact::Artifact`] alone.
//! 3. [`emit`] writes the artifact: per core profiles, compartments, synapse
//!    formats, tables, axons and routes; host layers; input routes; layer
//!    maps; outputs.
//!
//! The cost model ([`CoreUsage`], [`Resource`]) is one set of functions
//! used by the search, the verifier and the emitter alike.
//!
//! ```
//! use nmc_partition::{partition, emit, verify, verify_artifact, PartitionOptions};
//! # fn model() -> nmc_ir::qmodel::QModel { nmc_partition::examples::dense_chain(&[20, 40, 10], 7) }
//! let target = nmc_target::Target::builtin("tiny").unwrap();
//! let model = model();
//! let (placement, report) = partition(&model, &target, &PartitionOptions::default()).unwrap();
//! verify(&model, &target, &placement).unwrap();
//! let artifact = emit(&model, &placement, &target).unwrap();
//! verify_artifact(&artifact, &target).unwrap();
//! assert_eq!(report.totals.cores as usize, artifact.cores.len());
//! ```

mod bound;
mod cost;
mod emit;
mod error;
pub mod examples;
mod options;
mod placement;
mod prep;
mod report;
mod resource;
mod search;
mod tiling;
mod verify;

pub use emit::emit;
pub use error::PartitionError;
pub use options::{Baseline, PartitionOptions};
pub use placement::{AxonMode, Block, CoreId, LayerPlacement, PLACEMENT_SCHEMA, Placement, Span, Tile, layout_index};
pub use prep::view_of;
pub use report::{CoreRow, HostRow, LayerRow, PARTITION_REPORT_SCHEMA, PartitionReport, ResourceAmount, Totals};
pub use resource::{CoreUsage, Resource};
pub use search::partition;
pub use verify::{VerifyError, usage, verify, verify_artifact, verify_artifact_synapses};
