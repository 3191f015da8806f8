//! The placement: which core every chip neuron lives on, in which
//! compartment, and how each of its input connections enters the core.
//!
//! A placement is a plain serde side table of a [`nmc_ir::qmodel::QModel`]:
//! it never copies parameters or weights. [`crate::emit`] turns model +
//! placement into the artifact; [`crate::verify`] checks a placement
//! against a target without trusting whoever produced it.

use serde::{Deserialize, Serialize};

/// Version tag of the [`Placement`] format.
pub const PLACEMENT_SCHEMA: &str = "nmc.placement/1";

/// Where every population of a model runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Must equal [`PLACEMENT_SCHEMA`].
    pub schema: String,
    /// Name of the model.
    pub model: String,
    /// Name of the target.
    pub target: String,
    /// The used cores, in the order the artifact lists them.
    pub cores: Vec<CoreId>,
    /// One entry per population of the model, in the model's order.
    pub layers: Vec<LayerPlacement>,
}

/// A physical core: chip index and core index within the chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CoreId {
    /// Chip, `0..max_chips`.
    pub chip: u16,
    /// Core within the chip, `0..cores_per_chip`.
    pub core: u16,
}

/// Where one population runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerPlacement {
    /// On the host (the input encoder).
    Host,
    /// On chip, cut into blocks.
    Chip {
        /// The population viewed as `[C, H, W]`: the output shape of its
        /// convolution input for conv-shaped populations, `[N, 1, 1]` for
        /// the others (see [`crate::view_of`]).
        view: [u32; 3],
        /// Blocks; together they cover every neuron exactly once.
        blocks: Vec<Block>,
    },
}

/// A half-open range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First index.
    pub start: u32,
    /// One past the last index.
    pub end: u32,
}

impl Span {
    /// `[start, end)`.
    pub fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }
    /// Number of indices.
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether `i` is inside.
    pub fn contains(&self, i: u32) -> bool {
        self.start <= i && i < self.end
    }
}

/// A box of a population's `[C, H, W]` view: channels × rows × columns.
/// Flat populations (`[N, 1, 1]`) use `c` as the neuron range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tile {
    /// Channels (or neurons).
    pub c: Span,
    /// Rows.
    pub y: Span,
    /// Columns.
    pub x: Span,
}

impl Tile {
    /// Neurons in the tile.
    pub fn len(&self) -> u64 {
        u64::from(self.c.len()) * u64::from(self.y.len()) * u64::from(self.x.len())
    }
    /// True when it holds no neuron.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `[c, h, w]` extents.
    pub fn shape(&self) -> [u32; 3] {
        [self.c.len(), self.y.len(), self.x.len()]
    }
}

/// How one input connection of a block enters its core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AxonMode {
    /// One discrete axon per source element with a non-zero weight into the
    /// block; its list stores the non-zero weights with compartment indices.
    Discrete,
    /// Discrete axons whose lists are dense runs: every compartment from 0
    /// (a discrete axon has no compartment base) to the list's last target,
    /// zeros included, no index bits (dense and sparse connections only).
    DiscreteRun,
    /// Population axons of the 16-bit kind (convolutions only): one axon per
    /// input pixel and atom chunk, atom = input channel, tables shared.
    Population16,
    /// Population axons of the 32-bit kind (convolutions only).
    Population32,
}

impl AxonMode {
    /// All modes.
    pub const ALL: [AxonMode; 4] = [
        AxonMode::Discrete,
        AxonMode::DiscreteRun,
        AxonMode::Population16,
        AxonMode::Population32,
    ];
    /// The target's axon kind of this mode.
    pub fn kind(self) -> nmc_target::AxonKind {
        match self {
            AxonMode::Discrete | AxonMode::DiscreteRun => nmc_target::AxonKind::Discrete,
            AxonMode::Population16 => nmc_target::AxonKind::Population16,
            AxonMode::Population32 => nmc_target::AxonKind::Population32,
        }
    }
    /// Whether the synapse lists of this mode store compartment indices.
    pub fn indexed(self) -> bool {
        !matches!(self, AxonMode::DiscreteRun)
    }
    /// Whether it is a population-axon mode.
    pub fn is_population(self) -> bool {
        matches!(self, AxonMode::Population16 | AxonMode::Population32)
    }
    /// Short name for reports.
    pub fn short(self) -> &'static str {
        match self {
            AxonMode::Discrete => "discrete",
            AxonMode::DiscreteRun => "discrete-run",
            AxonMode::Population16 => "pop16",
            AxonMode::Population32 => "pop32",
        }
    }
}

/// A tile of one population placed on one core.
///
/// Its neurons occupy compartments `offset .. offset + tile.len()` of the
/// core, in the order given by `inner` (see [`Block::local_index`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// The neurons.
    pub tile: Tile,
    /// Index into [`Placement::cores`].
    pub core: u32,
    /// First compartment of the block in its core.
    pub offset: u32,
    /// Compartment order: channels are cut into groups of `inner`
    /// consecutive channels (`inner` divides the tile's channel count, or is
    /// 1); within a group the channel varies fastest, then the column, then
    /// the row, then the group. `inner = 1` is channel-major (CHW),
    /// `inner = channels` pixel-major (HWC).
    pub inner: u32,
    /// Per input connection of the population (same order as
    /// `QPopulation::inputs`), how it enters the core.
    pub modes: Vec<AxonMode>,
}

impl Block {
    /// Compartment (relative to `offset`) of the neuron at tile-relative
    /// channel `c`, row `y`, column `x`.
    pub fn local_index(&self, c: u32, y: u32, x: u32) -> u32 {
        layout_index(self.tile.shape(), self.inner, c, y, x)
    }
}

/// The compartment order of [`Block::inner`], for a tile of extents
/// `[tc, th, tw]`: `g·th·tw·(c / g) + (c % g) + g·(y·tw + x)` with `g = inner`.
pub fn layout_index(shape: [u32; 3], inner: u32, c: u32, y: u32, x: u32) -> u32 {
    let [_, th, tw] = shape;
    let g = inner.max(1);
    let pix = y * tw + x;
    g * th * tw * (c / g) + (c % g) + g * pix
}
