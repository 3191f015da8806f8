//! Where a problem is, as data: the one location vocabulary of the checks.
//!
//! The float IR's verifier, the partition verifiers, the artifact's
//! structural check and the emulator report each violated rule as a
//! [`Problem`]: a [`Loc`] (node, layer, connection, block, core, table, axon,
//! compartment, host layer, input, output, host readout), the field it is about, and a
//! message. A caller finds "which core, which layer, which field" in the
//! data; it never parses the message. `Display` renders
//! `{loc}: {field}: {message}`, leaving out what is absent.

use std::fmt;

/// A core's id on the system: which chip, which core of that chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CoreId {
    /// Chip index.
    pub chip: u16,
    /// Core index on the chip.
    pub core: u16,
}

/// The thing a problem is about. Layers, connections and blocks are named by
/// the layer (population) name; cores and their parts by the core's index in
/// the placement's or artifact's core list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    /// The whole graph, model, placement or artifact (its header: schema,
    /// names, target, `dt`, counts).
    Whole,
    /// A node of the float graph, by name.
    Node(String),
    /// A layer: a population of the quantized model, or an artifact layer.
    Layer(String),
    /// Connection `inputs[input]` of a layer.
    Connection {
        /// Layer name.
        layer: String,
        /// Index into the layer's inputs.
        input: usize,
    },
    /// Block `block` of a layer's placement.
    Block {
        /// Layer name.
        layer: String,
        /// Index into the layer's blocks.
        block: usize,
    },
    /// A core, with its (chip, core) id when the problem is about the id or
    /// the id helps find it.
    Core {
        /// Index in the core list.
        index: usize,
        /// The core's id, when given.
        id: Option<CoreId>,
    },
    /// Compartment `compartment` of core `core`.
    Compartment {
        /// Core index.
        core: usize,
        /// Compartment index on the core.
        compartment: usize,
    },
    /// Synapse table `table` of core `core`.
    Table {
        /// Core index.
        core: usize,
        /// Table index on the core.
        table: usize,
    },
    /// Input axon `axon` of core `core`.
    Axon {
        /// Core index.
        core: usize,
        /// Axon index on the core.
        axon: usize,
    },
    /// A host layer of an artifact, by index.
    HostLayer(usize),
    /// An input of the model or artifact, by index.
    Input(usize),
    /// An output of the model or artifact, by index.
    Output(usize),
    /// A host readout of the model or artifact, by index.
    Readout(usize),
}

impl Loc {
    /// The float graph node, if the problem is at one.
    pub fn node(&self) -> Option<&str> {
        match self {
            Loc::Node(n) => Some(n),
            _ => None,
        }
    }

    /// The layer, if the problem is at a layer, one of its connections or
    /// one of its blocks.
    pub fn layer(&self) -> Option<&str> {
        match self {
            Loc::Layer(l) | Loc::Connection { layer: l, .. } | Loc::Block { layer: l, .. } => Some(l),
            _ => None,
        }
    }

    /// The core index, if the problem is at a core or one of its
    /// compartments, tables or axons.
    pub fn core(&self) -> Option<usize> {
        match *self {
            Loc::Core { index, .. } => Some(index),
            Loc::Compartment { core, .. } | Loc::Table { core, .. } | Loc::Axon { core, .. } => Some(core),
            _ => None,
        }
    }
}

impl fmt::Display for Loc {
    /// `node `n``, `layer `l``, `layer `l` inputs[2]`, `layer `l` block 1`,
    /// `core 3`, `core 3 (chip 0 core 3)`, `core 3 table 2`, `core 3 axon 4`,
    /// `core 3 compartment 5`, `host layer 0`, `input 0`, `output 1`, `host readout 0`;
    /// nothing for [`Loc::Whole`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Whole => Ok(()),
            Loc::Node(n) => write!(f, "node `{n}`"),
            Loc::Layer(l) => write!(f, "layer `{l}`"),
            Loc::Connection { layer, input } => write!(f, "layer `{layer}` inputs[{input}]"),
            Loc::Block { layer, block } => write!(f, "layer `{layer}` block {block}"),
            Loc::Core { index, id: None } => write!(f, "core {index}"),
            Loc::Core {
                index,
                id: Some(CoreId { chip, core }),
            } => write!(f, "core {index} (chip {chip} core {core})"),
            Loc::Compartment { core, compartment } => write!(f, "core {core} compartment {compartment}"),
            Loc::Table { core, table } => write!(f, "core {core} table {table}"),
            Loc::Axon { core, axon } => write!(f, "core {core} axon {axon}"),
            Loc::HostLayer(h) => write!(f, "host layer {h}"),
            Loc::Input(i) => write!(f, "input {i}"),
            Loc::Output(o) => write!(f, "output {o}"),
            Loc::Readout(r) => write!(f, "host readout {r}"),
        }
    }
}

/// One violated rule: where, which field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Problem {
    /// Where.
    pub loc: Loc,
    /// The field of the thing at `loc` (`tau_mem`, `routes`, `inner`,
    /// `compartments`, …), when the problem is about one.
    pub field: Option<&'static str>,
    /// What is wrong, in words (without the location and field).
    pub message: String,
}

impl Problem {
    /// A problem at `loc`, about `field` (a `&'static str` or `None`).
    pub fn new(loc: Loc, field: impl Into<Option<&'static str>>, message: impl Into<String>) -> Self {
        Problem {
            loc,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// `{loc}: {field}: {message}`, leaving out an absent location or field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc != Loc::Whole {
            write!(f, "{}: ", self.loc)?;
        }
        if let Some(field) = self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_location_field_and_message_in_order() {
        let p = Problem::new(Loc::Node("lif".into()), "tau", "must be > 0, neuron 0 has -1");
        assert_eq!(p.to_string(), "node `lif`: tau: must be > 0, neuron 0 has -1");
        let p = Problem::new(Loc::Whole, "dt", "must be positive");
        assert_eq!(p.to_string(), "dt: must be positive");
        let p = Problem::new(Loc::Table { core: 3, table: 2 }, None, "synapses not sorted");
        assert_eq!(p.to_string(), "core 3 table 2: synapses not sorted");
        let id = Some(CoreId { chip: 1, core: 7 });
        let p = Problem::new(Loc::Core { index: 9, id }, "compartments", "40 > 32");
        assert_eq!(p.to_string(), "core 9 (chip 1 core 7): compartments: 40 > 32");
    }

    #[test]
    fn accessors_find_layer_and_core_through_their_parts() {
        let conn = Loc::Connection {
            layer: "fc".into(),
            input: 1,
        };
        assert_eq!((conn.layer(), conn.core(), conn.node()), (Some("fc"), None, None));
        let block = Loc::Block {
            layer: "conv".into(),
            block: 0,
        };
        assert_eq!(block.layer(), Some("conv"));
        for (loc, core) in [
            (Loc::Axon { core: 4, axon: 0 }, 4),
            (
                Loc::Compartment {
                    core: 5,
                    compartment: 2,
                },
                5,
            ),
            (Loc::Table { core: 6, table: 1 }, 6),
            (Loc::Core { index: 7, id: None }, 7),
        ] {
            assert_eq!((loc.core(), loc.layer()), (Some(core), None), "{loc}");
        }
        assert_eq!(Loc::HostLayer(0).core(), None);
        assert_eq!(Loc::Node("n".into()).node(), Some("n"));
    }
}
