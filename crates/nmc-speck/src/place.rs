//! Layer → core placement: a maximum bipartite matching over "layer fits
//! core" (all three memories within the core's, sinabs' `LayerConstraints.fits`),
//! one layer per core.
//!
//! sinabs 3.1.3 (`mapping.py`) solves the same matching with Edmonds–Karp
//! max-flow and, when no complete matching exists, raises one message for
//! every cause. [`place`] returns a valid assignment whenever one exists
//! (augmenting paths find a maximum matching) and otherwise says which
//! cause it is, in this order:
//!
//! 1. a layer fits no core — with its memories against every core's;
//! 2. more layers than the chip has cores;
//! 3. Hall's condition fails: these k layers fit only these j < k cores
//!    (the layers reachable by alternating paths from an unmatched layer of
//!    a maximum matching, König's construction).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::chip::{Chip, CoreMemory};
use crate::layers::{Layer, LayerError, check};
use crate::memory::Memory;

/// Whether `m` fits in `core` (sinabs: `0 <= need <= capacity` for kernel,
/// neuron and bias).
pub fn fits(m: &Memory, core: &CoreMemory) -> bool {
    m.kernel <= core.kernel_memory && m.neuron <= core.neuron_memory && m.bias <= core.bias_memory
}

/// The cores (ids, ascending) each layer fits.
pub fn fit_lists(chip: &Chip, memories: &[Memory]) -> Vec<Vec<usize>> {
    memories
        .iter()
        .map(|m| {
            chip.cores()
                .iter()
                .enumerate()
                .filter(|(_, c)| fits(m, c))
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

/// A maximum matching of a bipartite graph: `left[u]` = the right vertex
/// matched to left vertex `u`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// Right vertex of each left vertex, if matched.
    pub left: Vec<Option<usize>>,
    /// Left vertex of each right vertex, if matched.
    pub right: Vec<Option<usize>>,
}

impl Matching {
    /// Matched pairs.
    pub fn size(&self) -> usize {
        self.left.iter().flatten().count()
    }
}

/// Tries to find an augmenting path from left vertex `u` (Kuhn's algorithm).
fn augment(u: usize, adj: &[Vec<usize>], seen: &mut [bool], m: &mut Matching) -> bool {
    for &v in &adj[u] {
        if seen[v] {
            continue;
        }
        seen[v] = true;
        let free = match m.right[v] {
            None => true,
            Some(w) => augment(w, adj, seen, m),
        };
        if free {
            m.left[u] = Some(v);
            m.right[v] = Some(u);
            return true;
        }
    }
    false
}

/// A maximum matching of left vertices `0..adj.len()` to right vertices
/// `0..right`, `adj[u]` listing the right vertices `u` may take (out of
/// range entries are ignored). Deterministic: left vertices in order, each
/// taking the first free vertex of its list, else an augmenting path
/// (Kuhn's algorithm).
pub fn max_matching(adj: &[Vec<usize>], right: usize) -> Matching {
    let adj: Vec<Vec<usize>> = adj
        .iter()
        .map(|a| a.iter().copied().filter(|&v| v < right).collect())
        .collect();
    let mut m = Matching {
        left: vec![None; adj.len()],
        right: vec![None; right],
    };
    for u in 0..adj.len() {
        // A free vertex first (in list order), else an augmenting path.
        if let Some(&v) = adj[u].iter().find(|&&v| m.right[v].is_none()) {
            m.left[u] = Some(v);
            m.right[v] = Some(u);
            continue;
        }
        let mut seen = vec![false; right];
        augment(u, &adj, &mut seen, &mut m);
    }
    m
}

/// A set of left vertices whose neighbourhood is smaller than it (Hall's
/// theorem), when `m` is maximum and leaves a left vertex unmatched:
/// (layers, their cores), both ascending. `None` when `m` is complete.
pub fn hall_witness(adj: &[Vec<usize>], m: &Matching) -> Option<(Vec<usize>, Vec<usize>)> {
    let start = m.left.iter().position(Option::is_none)?;
    let mut in_l = vec![false; adj.len()];
    let mut in_r = vec![false; m.right.len()];
    let mut stack = vec![start];
    in_l[start] = true;
    let right = in_r.len();
    while let Some(u) = stack.pop() {
        for &v in adj[u].iter().filter(|&&v| v < right) {
            if in_r[v] {
                continue;
            }
            in_r[v] = true;
            // In a maximum matching every reachable core is matched.
            if let Some(w) = m.right[v]
                && !in_l[w]
            {
                in_l[w] = true;
                stack.push(w);
            }
        }
    }
    let pick = |s: &[bool]| {
        s.iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    Some((pick(&in_l), pick(&in_r)))
}

/// Where each layer went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The chip's name.
    pub chip: String,
    /// The chip's cores, in id order.
    pub cores: Vec<CoreMemory>,
    /// One entry per layer, in layer order.
    pub layers: Vec<Placed>,
}

/// One layer's placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    /// The layer's name.
    pub name: String,
    /// Its memory.
    pub memory: Memory,
    /// The core it runs on.
    pub core: usize,
    /// Every core it would fit.
    pub fits: Vec<usize>,
}

impl Placement {
    /// The core of each layer, in layer order.
    pub fn cores_used(&self) -> Vec<usize> {
        self.layers.iter().map(|p| p.core).collect()
    }
}

/// A layer that fits no core, with its memory and the cores' capacities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoFit {
    /// Position in the layer list.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its memory.
    pub memory: Memory,
    /// The largest kernel, neuron and bias memory of any core.
    pub largest: CoreMemory,
    /// Cores with enough kernel memory.
    pub kernel_cores: Vec<usize>,
    /// Cores with enough neuron memory.
    pub neuron_cores: Vec<usize>,
    /// Cores with enough bias memory.
    pub bias_cores: Vec<usize>,
}

impl NoFit {
    /// Entries over the largest core's memory, per kind (0 = within).
    pub fn excess(&self) -> Memory {
        Memory {
            kernel: self.memory.kernel.saturating_sub(self.largest.kernel_memory),
            neuron: self.memory.neuron.saturating_sub(self.largest.neuron_memory),
            bias: self.memory.bias.saturating_sub(self.largest.bias_memory),
        }
    }
}

impl fmt::Display for NoFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, big, ex) = (self.memory, self.largest, self.excess());
        write!(f, "layer {} (`{}`) fits no core: ", self.index, self.name)?;
        let mut over = Vec::new();
        for (what, need, cap, x) in [
            ("kernel", m.kernel, big.kernel_memory, ex.kernel),
            ("neuron", m.neuron, big.neuron_memory, ex.neuron),
            ("bias", m.bias, big.bias_memory, ex.bias),
        ] {
            if x > 0 {
                over.push(format!("{what} memory {need} exceeds the largest core's {cap} by {x}"));
            }
        }
        if over.is_empty() {
            // The kinds that rule out some core another kind allows.
            let any: std::collections::BTreeSet<usize> = self
                .kernel_cores
                .iter()
                .chain(&self.neuron_cores)
                .chain(&self.bias_cores)
                .copied()
                .collect();
            let parts: Vec<String> = [
                ("kernel", m.kernel, &self.kernel_cores),
                ("neuron", m.neuron, &self.neuron_cores),
                ("bias", m.bias, &self.bias_cores),
            ]
            .iter()
            .filter(|(_, _, c)| any.iter().any(|i| !c.contains(i)))
            .map(|(what, need, c)| format!("{what} memory {need} fits cores {}", ids(c)))
            .collect();
            write!(f, "{}; no core has all of them", parts.join(", "))
        } else {
            write!(f, "{}", over.join("; "))
        }
    }
}

/// Why a network cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// A layer breaks a chip rule (kernel size, stride, neuron model, ...).
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// Some layers fit no core.
    #[error("{}{}", list(.no_fit), too_many_note(*.layers, *.cores))]
    NoCore {
        /// Every layer that fits no core.
        no_fit: Vec<NoFit>,
        /// Layers in the network.
        layers: usize,
        /// Cores on the chip.
        cores: usize,
    },
    /// More layers than cores; each layer alone would fit.
    #[error("{layers} layers, {cores} cores: the chip runs one layer per core")]
    TooManyLayers {
        /// Layers in the network.
        layers: usize,
        /// Cores on the chip.
        cores: usize,
    },
    /// Hall's condition fails: these layers fit only fewer cores.
    #[error(
        "{} layers ({}) fit only {} core{} ({}): one layer per core",
        .layers.len(), names(.layers), .cores.len(), if .cores.len() == 1 { "" } else { "s" },
        ids(.cores)
    )]
    Crowded {
        /// The layers (index, name), ascending.
        layers: Vec<(usize, String)>,
        /// The only cores they fit, ascending.
        cores: Vec<usize>,
    },
}

fn list(v: &[NoFit]) -> String {
    v.iter().map(NoFit::to_string).collect::<Vec<_>>().join("\n")
}

fn too_many_note(layers: usize, cores: usize) -> String {
    if layers > cores {
        format!("\n(and {layers} layers, {cores} cores: one layer per core)")
    } else {
        String::new()
    }
}

fn names(v: &[(usize, String)]) -> String {
    v.iter()
        .map(|(i, n)| format!("{i} `{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ids(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

/// Checks the layers ([`check`]) and places them ([`assign`]).
pub fn place(chip: &Chip, layers: &[Layer]) -> Result<Placement, PlaceError> {
    check(chip, layers)?;
    let memories: Vec<Memory> = layers.iter().map(Memory::of).collect();
    let names: Vec<String> = layers.iter().map(|l| l.name.clone()).collect();
    assign(chip, &names, &memories)
}

/// Places layers by memory alone (what sinabs' `get_valid_mapping` decides):
/// `names[i]` and `memories[i]` describe layer `i`.
pub fn assign(chip: &Chip, names: &[String], memories: &[Memory]) -> Result<Placement, PlaceError> {
    let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| i.to_string());
    let fit = fit_lists(chip, memories);
    let (n, slots) = (memories.len(), chip.layer_slots());
    let no_fit: Vec<NoFit> = fit
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_empty())
        .map(|(i, _)| {
            let m = memories[i];
            let with = |ok: &dyn Fn(&CoreMemory) -> bool| {
                chip.cores()
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| ok(c))
                    .map(|(j, _)| j)
                    .collect()
            };
            NoFit {
                index: i,
                name: name(i),
                memory: m,
                largest: chip.largest(),
                kernel_cores: with(&|c| m.kernel <= c.kernel_memory),
                neuron_cores: with(&|c| m.neuron <= c.neuron_memory),
                bias_cores: with(&|c| m.bias <= c.bias_memory),
            }
        })
        .collect();
    if !no_fit.is_empty() {
        return Err(PlaceError::NoCore {
            no_fit,
            layers: n,
            cores: slots,
        });
    }
    if n > slots {
        return Err(PlaceError::TooManyLayers {
            layers: n,
            cores: slots,
        });
    }
    // One slot per (core, layer on it); DYNAP-CNN has one layer per core.
    // Each layer tries the smallest core it fits first (kernel + neuron
    // entries, then id), which keeps the large cores for the large layers;
    // the matching finds an assignment whatever the order.
    let per = chip.limits().layers_per_core as usize;
    let size = |c: usize| {
        let m = chip.cores()[c];
        (m.kernel_memory.saturating_add(m.neuron_memory), c)
    };
    let adj: Vec<Vec<usize>> = fit
        .iter()
        .map(|f| {
            let mut order = f.clone();
            order.sort_by_key(|&c| size(c));
            order.iter().flat_map(|&c| (0..per).map(move |k| c * per + k)).collect()
        })
        .collect();
    let m = max_matching(&adj, slots);
    if let Some((ls, rs)) = hall_witness(&adj, &m) {
        let mut cores: Vec<usize> = rs.iter().map(|s| s / per).collect();
        cores.dedup();
        return Err(PlaceError::Crowded {
            layers: ls.into_iter().map(|i| (i, name(i))).collect(),
            cores,
        });
    }
    let layers = m
        .left
        .iter()
        .enumerate()
        .map(|(i, s)| Placed {
            name: name(i),
            memory: memories[i],
            core: s.map_or(usize::MAX, |s| s / per),
            fits: fit[i].clone(),
        })
        .collect();
    Ok(Placement {
        chip: chip.name().to_string(),
        cores: chip.cores().to_vec(),
        layers,
    })
}
