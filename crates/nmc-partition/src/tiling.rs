//! What the search finds per layer, shared by the search and the report: a
//! layer's tiles ([`Tiling`]), how they were found ([`LayerSearch`]) and
//! why a tile does not fit ([`Fail`]).

use crate::placement::Block;
use crate::resource::{CoreUsage, Resource};
use serde::Serialize;

/// How a layer's tiling was found (internal to the search, shown per layer).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LayerSearch {
    pub tile_shape: [u32; 3],
    pub candidates: u64,
    pub evaluations: u64,
}

/// Why a tile does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fail {
    pub resource: Resource,
    pub need: u64,
    pub offer: u64,
    pub detail: String,
}

/// A population's tiles.
#[derive(Clone, Debug)]
pub(crate) struct Tiling {
    pub blocks: Vec<Block>,
    pub usage: Vec<CoreUsage>,
    pub search: LayerSearch,
}
