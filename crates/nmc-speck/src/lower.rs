//! A NIR graph (nmc's IR, as `nmc::load_model` reads a `.nir` file) grouped
//! into DYNAP-CNN layers, the way sinabs 3.1.3's `DynapcnnNetwork` groups a
//! torch graph (`backend/dynapcnn/sinabs_edges_handler.py`,
//! `collect_dynapcnn_layer_info`; `dynapcnn_layer_utils.py`; `dynapcnn_layer.py`):
//!
//! - every weight node (Conv2d, or an Affine/Linear, which becomes a
//!   convolution whose kernel covers its whole input, sinabs'
//!   `convert_linear_to_conv`) followed by its spiking neurons starts one
//!   layer ("weight-neuron" edges);
//! - sum poolings after the neurons belong to that layer; a chain of them
//!   multiplies (`consolidate_dest_pooling`), and every path through them to
//!   a weight node, or to the output, is one destination with its own
//!   pooling ("neuron-pooling", "pooling-pooling", "pooling-weight" edges);
//! - a neuron → weight edge is a destination without pooling;
//! - a layer with no destination is an exit (`set_exit_destinations`);
//! - average pooling is placed as sum pooling of the same kernel, as sinabs
//!   maps it (it divides the next layer's weights by the kernel's area); a
//!   note in [`Lowered::notes`] says so;
//! - Flatten nodes are ignored (sinabs' `IGNORED_LAYER_TYPES`): a Linear
//!   after a Flatten reads the shape before it;
//! - layers are numbered in topological order (sinabs'
//!   `index_layers_topologically=True`), the input shape of the first from
//!   the graph's Input node.
//!
//! Anything else is an error naming the node and the field: a neuron that
//! is not a spiking model the chip runs (a LIF, a non-spiking LI), pooling whose stride is not its kernel or
//! that pads, a dilated or grouped convolution, a 1-d convolution, a
//! recurrent edge, or a node kind with no place in a DYNAP-CNN layer. The
//! chip's own layer rules (square kernels, strides, pooling sizes, fan-out,
//! ...) are [`crate::check`]'s, run by [`crate::place`].

use std::collections::BTreeMap;

use nmc_ir::{Graph, NeuronModel, NodeId, Op, PoolKind};
use serde::Serialize;

use crate::chip::Chip;
use crate::layers::Layer;
use crate::place::{PlaceError, Placement, place};

/// A graph grouped into layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lowered {
    /// The input shape `[c, h, w]` of the network (the Input node's).
    pub input: [u32; 3],
    /// The layers, in topological order.
    pub layers: Vec<Layer>,
    /// Per layer, the graph nodes it is made of: its weight node, its
    /// neuron node, then its pooling nodes.
    pub nodes: Vec<Vec<String>>,
    /// What the deployment must do that placement does not show (an
    /// average pooling placed as sum pooling, whose next layer's weights
    /// must be rescaled), one line per node.
    pub notes: Vec<String>,
}

/// A node that does not fit a DYNAP-CNN layer: which node, which field,
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}` ({kind}): {field}: {message}")]
pub struct LowerError {
    /// The node's name.
    pub node: String,
    /// Its op kind (`conv2d`, `lif`, ...).
    pub kind: String,
    /// The field, e.g. `model`, `kind`, `dilation`, `op`.
    pub field: String,
    /// What the chip (or sinabs) requires and what the node has.
    pub message: String,
}

/// Why a graph cannot be placed: it does not group into layers, or the
/// layers do not fit the chip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeckError {
    /// A node does not fit a DYNAP-CNN layer.
    #[error(transparent)]
    Lower(#[from] LowerError),
    /// The layers break a chip rule or fit no assignment to cores.
    #[error(transparent)]
    Place(#[from] PlaceError),
}

/// Groups `g` into layers ([`lower`]) and places them on `chip` ([`place`]).
pub fn partition(chip: &Chip, g: &Graph) -> Result<(Lowered, Placement), SpeckError> {
    let lowered = lower(chip, g)?;
    let placement = place(chip, &lowered.layers)?;
    Ok((lowered, placement))
}

/// What a node is to the grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Input,
    Output,
    Flatten,
    Weight,
    Neuron,
    Pool,
}

struct Ctx<'a> {
    g: &'a Graph,
    chip: &'a Chip,
    /// Layer index of each weight node.
    layer_of: BTreeMap<NodeId, usize>,
    /// Notes for [`Lowered::notes`], collected while grouping.
    notes: std::cell::RefCell<Vec<String>>,
}

impl Ctx<'_> {
    fn err(&self, id: NodeId, field: &str, message: String) -> LowerError {
        let n = self.g.node(id);
        LowerError {
            node: n.name.clone(),
            kind: n.op.kind_name().to_string(),
            field: field.to_string(),
            message,
        }
    }

    fn role(&self, id: NodeId) -> Result<Role, LowerError> {
        Ok(match &self.g.node(id).op {
            Op::Input { .. } => Role::Input,
            Op::Output { .. } => Role::Output,
            Op::Flatten { .. } => Role::Flatten,
            Op::Conv { .. } | Op::Affine { .. } => Role::Weight,
            Op::Neuron(_) => Role::Neuron,
            Op::Pool2d { .. } => Role::Pool,
            _ => {
                return Err(self.err(
                    id,
                    "op",
                    "has no place in a DYNAP-CNN layer (conv or linear → IAF neurons → sum pooling); \
                     sinabs maps Conv2d, Linear/Affine, IAF, SumPool2d and Flatten only"
                        .into(),
                ));
            }
        })
    }

    /// Successors, looking through Flatten nodes.
    fn succs(&self, id: NodeId) -> Result<Vec<NodeId>, LowerError> {
        let mut out = Vec::new();
        for s in self.g.outputs(id) {
            if self.role(s)? == Role::Flatten {
                out.extend(self.succs(s)?);
            } else {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Predecessors, looking through Flatten nodes.
    fn preds(&self, id: NodeId) -> Result<Vec<NodeId>, LowerError> {
        let mut out = Vec::new();
        for (_, p) in self.g.inputs(id) {
            if self.role(p)? == Role::Flatten {
                out.extend(self.preds(p)?);
            } else {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The value `id` produces as `[c, h, w]` (`[n]` is `[n, 1, 1]`).
    fn shape3(&self, id: NodeId, field: &str) -> Result<[u32; 3], LowerError> {
        let dims = self.g.node(id).out.shape.dims().to_vec();
        let d: Vec<u32> = dims
            .iter()
            .map(|&x| u32::try_from(x))
            .collect::<Result<_, _>>()
            .map_err(|_| self.err(id, field, format!("{dims:?} is too large")))?;
        match d.as_slice() {
            [c, h, w] => Ok([*c, *h, *w]),
            [n] => Ok([*n, 1, 1]),
            _ => Err(self.err(
                id,
                field,
                format!("{dims:?}: a DYNAP-CNN layer reads [c, h, w] or a flat [n]"),
            )),
        }
    }
}

fn u32s(v: &[usize]) -> Option<Vec<u32>> {
    v.iter().map(|&x| u32::try_from(x).ok()).collect()
}

/// Groups `g` into DYNAP-CNN layers for `chip` (the module doc says how).
pub fn lower(chip: &Chip, g: &Graph) -> Result<Lowered, LowerError> {
    let mut cx = Ctx {
        g,
        chip,
        layer_of: BTreeMap::new(),
        notes: Default::default(),
    };
    let sched = g.schedule();
    if let Some(&e) = sched.back_edges.first()
        && let Some((a, b)) = g.edge_endpoints(e)
    {
        return Err(cx.err(
            b,
            "input",
            format!(
                "the edge from `{}` closes a cycle; a DYNAP-CNN network is feed-forward",
                g.node(a).name
            ),
        ));
    }
    let inputs = g.input_nodes();
    let input = match inputs.as_slice() {
        [i] => cx.shape3(*i, "shape")?,
        [_, second, ..] => {
            return Err(cx.err(
                *second,
                "op",
                format!("a second Input node ({} in all); sinabs maps one input", inputs.len()),
            ));
        }
        [] => {
            return Err(LowerError {
                node: g.name.clone(),
                kind: "graph".into(),
                field: "input".into(),
                message: "no Input node".into(),
            });
        }
    };
    let mut weights = Vec::new();
    for &id in &sched.order {
        if cx.role(id)? == Role::Weight {
            cx.layer_of.insert(id, weights.len());
            weights.push(id);
        }
    }
    let mut layers = Vec::new();
    let mut nodes = Vec::new();
    let mut owner: BTreeMap<NodeId, usize> = BTreeMap::new();
    for (index, &w) in weights.iter().enumerate() {
        let (layer, names) = cx.layer(index, w, &mut owner)?;
        layers.push(layer);
        nodes.push(names);
    }
    // Every neuron and pooling node belongs to a layer (sinabs: "Spiking
    // layer ... cannot be assigned to a DynapCNN layer").
    for &id in &sched.order {
        let r = cx.role(id)?;
        if matches!(r, Role::Neuron | Role::Pool) && !owner.contains_key(&id) {
            let what = if r == Role::Neuron {
                "a spiking layer must follow a conv or linear layer"
            } else {
                "a pooling layer must follow a spiking layer or another pooling layer"
            };
            return Err(cx.err(id, "input", format!("{what}; this one reads no layer")));
        }
    }
    let notes = cx.notes.into_inner();
    Ok(Lowered {
        input,
        layers,
        nodes,
        notes,
    })
}

/// One destination: the layer it feeds (`None`: an exit) and its pooling.
type Dest = (Option<usize>, [u32; 2]);

impl Ctx<'_> {
    /// The layer of weight node `w` (layer `index`).
    fn layer(
        &self,
        index: usize,
        w: NodeId,
        owner: &mut BTreeMap<NodeId, usize>,
    ) -> Result<(Layer, Vec<String>), LowerError> {
        let g = self.g;
        let input = self.layer_input(w)?;
        let neuron = match self.succs(w)?.as_slice() {
            [n] if self.role(*n)? == Role::Neuron => *n,
            [n] => {
                return Err(self.err(
                    w,
                    "output",
                    format!(
                        "feeds `{}` ({}); a conv or linear layer must feed spiking neurons",
                        g.node(*n).name,
                        g.node(*n).op.kind_name()
                    ),
                ));
            }
            s => {
                return Err(self.err(
                    w,
                    "output",
                    format!(
                        "feeds {} nodes; a conv or linear layer feeds exactly one IAF population",
                        s.len()
                    ),
                ));
            }
        };
        if self.preds(neuron)?.len() != 1 {
            return Err(self.err(
                neuron,
                "input",
                "reads several nodes; a DYNAP-CNN spiking layer reads one conv or linear layer".into(),
            ));
        }
        let model = self.neuron_model(neuron)?;
        let (kernel, stride, padding, bias) = self.weight(w, input)?;
        let mut layer = Layer {
            name: g.node(w).name.clone(),
            input,
            kernel,
            stride,
            padding,
            pooling: Vec::new(),
            destinations: Vec::new(),
            output: [kernel[0], 0, 0],
            bias,
            neuron: model,
        };
        layer.output = layer.conv_output().ok_or_else(|| {
            self.err(
                w,
                "weight",
                format!("kernel {kernel:?} does not fit the input {input:?}"),
            )
        })?;
        owner.insert(w, index);
        owner.insert(neuron, index);
        let mut names = vec![g.node(w).name.clone(), g.node(neuron).name.clone()];
        let mut dests: Vec<Dest> = Vec::new();
        for s in self.succs(neuron)? {
            match self.role(s)? {
                Role::Weight => dests.push((Some(self.layer_of[&s]), [1, 1])),
                // An exit only when the layer has no other destination
                // (sinabs' set_exit_destinations).
                Role::Output => {}
                Role::Pool => self.pool_paths(s, [1, 1], index, owner, &mut names, &mut dests)?,
                _ => return Err(self.bad_successor(neuron, s)),
            }
        }
        if dests.is_empty() {
            dests.push((None, [1, 1]));
        }
        // Destination layers first, ascending, then exits.
        dests.sort_by_key(|(d, _)| d.map_or((1, 0), |i| (0, i)));
        layer.pooling = dests.iter().map(|(_, p)| *p).collect();
        layer.destinations = dests.iter().filter_map(|(d, _)| *d).collect();
        Ok((layer, names))
    }

    fn bad_successor(&self, from: NodeId, to: NodeId) -> LowerError {
        self.err(
            to,
            "input",
            format!(
                "reads `{}` ({}); after spiking neurons come pooling, the next conv or linear layer, or the output",
                self.g.node(from).name,
                self.g.node(from).op.kind_name()
            ),
        )
    }

    /// Follows pooling node `p` (after pooling `acc` so far), adding one
    /// destination per path to a weight node or an exit.
    fn pool_paths(
        &self,
        p: NodeId,
        acc: [u32; 2],
        index: usize,
        owner: &mut BTreeMap<NodeId, usize>,
        names: &mut Vec<String>,
        dests: &mut Vec<Dest>,
    ) -> Result<(), LowerError> {
        let Op::Pool2d {
            kind,
            kernel,
            stride,
            padding,
        } = &self.g.node(p).op
        else {
            return Err(self.err(p, "op", "is not a pooling node".into()));
        };
        if *kind == PoolKind::Avg {
            // sinabs (utils.py construct_next_pooling_layer) maps AvgPool2d to
            // sum pooling of the same kernel and divides the next layer's
            // weights by the kernel's area: memory and placement are those of
            // sum pooling.
            let area: usize = kernel.iter().product();
            let note = format!(
                "node `{}` (avgpool2d {}): placed as sum pooling, as sinabs maps it; the chip sums, so the \
                 weights of the layer it feeds must be divided by {area} (sinabs does this when it converts; at an \
                 exit the chip sends the sum)",
                self.g.node(p).name,
                kernel.iter().map(usize::to_string).collect::<Vec<_>>().join("x"),
            );
            let mut notes = self.notes.borrow_mut();
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        if stride != kernel {
            return Err(self.err(
                p,
                "stride",
                format!("{stride:?}: must equal the kernel {kernel:?} (sinabs: pooling stride = kernel size)"),
            ));
        }
        if padding.iter().any(|&x| x != 0) {
            return Err(self.err(p, "padding", format!("{padding:?}: the chip's pooling does not pad")));
        }
        if self.preds(p)?.len() != 1 {
            return Err(self.err(
                p,
                "input",
                "reads several nodes; DYNAP-CNN pooling reads one spiking layer".into(),
            ));
        }
        let k = u32s(kernel).unwrap_or_else(|| vec![u32::MAX; 2]);
        let acc = [acc[0].saturating_mul(k[0]), acc[1].saturating_mul(k[1])];
        if owner.insert(p, index).is_none() {
            names.push(self.g.node(p).name.clone());
        }
        let succs = self.succs(p)?;
        if succs.is_empty() {
            dests.push((None, acc));
        }
        for s in succs {
            match self.role(s)? {
                Role::Weight => dests.push((Some(self.layer_of[&s]), acc)),
                Role::Output => dests.push((None, acc)),
                Role::Pool => self.pool_paths(s, acc, index, owner, names, dests)?,
                _ => return Err(self.bad_successor(p, s)),
            }
        }
        Ok(())
    }

    /// The input `[c, h, w]` of weight node `w`: the Input's shape, or what
    /// the layers feeding it deliver (all the same).
    fn layer_input(&self, w: NodeId) -> Result<[u32; 3], LowerError> {
        let preds = self.preds(w)?;
        let mut shape: Option<([u32; 3], NodeId)> = None;
        for p in preds {
            let r = self.role(p)?;
            if !matches!(r, Role::Input | Role::Neuron | Role::Pool) {
                return Err(self.err(
                    w,
                    "input",
                    format!(
                        "reads `{}` ({}); a conv or linear layer reads the input, spiking neurons or pooling",
                        self.g.node(p).name,
                        self.g.node(p).op.kind_name()
                    ),
                ));
            }
            let s = self.shape3(p, "shape")?;
            match shape {
                Some((s0, p0)) if s0 != s => {
                    return Err(self.err(
                        w,
                        "input",
                        format!(
                            "`{}` delivers {s0:?}, `{}` {s:?}; a layer's sources must agree",
                            self.g.node(p0).name,
                            self.g.node(p).name
                        ),
                    ));
                }
                _ => shape = Some((s, p)),
            }
        }
        shape
            .map(|(s, _)| s)
            .ok_or_else(|| self.err(w, "input", "reads nothing".into()))
    }

    /// The chip's name of the neuron model of `n`, if the chip runs it.
    fn neuron_model(&self, n: NodeId) -> Result<String, LowerError> {
        let Op::Neuron(pop) = &self.g.node(n).op else {
            return Err(self.err(n, "op", "is not a neuron population".into()));
        };
        let name = match pop.model {
            NeuronModel::If => "iaf",
            NeuronModel::Lif => "lif",
            NeuronModel::CubaLif => "cubalif",
            m => {
                return Err(self.err(
                    n,
                    "model",
                    format!(
                        "{} does not spike; a DYNAP-CNN layer ends in IAF neurons (sinabs: IAFSqueeze)",
                        m.nir_name()
                    ),
                ));
            }
        };
        let allowed = &self.chip.limits().neuron_models;
        if !allowed.iter().any(|a| a == name) {
            return Err(self.err(
                n,
                "model",
                format!(
                    "{}: the chip runs {allowed:?} neurons only (sinabs maps IAFSqueeze only; a leaky neuron has no \
                     DYNAP-CNN equivalent)",
                    pop.model.nir_name()
                ),
            ));
        }
        Ok(name.to_string())
    }

    /// Kernel `[f, c, kh, kw]`, stride, padding and bias of weight node `w`
    /// reading `input`.
    #[allow(clippy::type_complexity)]
    fn weight(&self, w: NodeId, input: [u32; 3]) -> Result<([u32; 4], [u32; 2], [u32; 2], bool), LowerError> {
        let big = |f: &str| self.err(w, f, "too large".into());
        match &self.g.node(w).op {
            Op::Conv {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                if stride.len() != 2 {
                    return Err(self.err(w, "weight", "a 1-d convolution; DYNAP-CNN cores run 2-d ones".into()));
                }
                if dilation.iter().any(|&d| d != 1) {
                    return Err(self.err(w, "dilation", format!("{dilation:?}: the chip has no dilation")));
                }
                if *groups != 1 {
                    return Err(self.err(w, "groups", format!("{groups}: the chip runs ungrouped convolutions")));
                }
                let k = u32s(weight.shape().dims()).ok_or_else(|| big("weight"))?;
                let s = u32s(stride).ok_or_else(|| big("stride"))?;
                let p = u32s(padding).ok_or_else(|| big("padding"))?;
                Ok(([k[0], k[1], k[2], k[3]], [s[0], s[1]], [p[0], p[1]], bias.is_some()))
            }
            Op::Affine { weight, bias } => {
                let d = weight.shape().dims();
                let [c, h, wd] = input;
                let numel = u64::from(c) * u64::from(h) * u64::from(wd);
                if d.len() != 2 || d[1] as u64 != numel {
                    return Err(self.err(w, "weight", format!("{d:?}: expects {numel} inputs (input {input:?})")));
                }
                let f = u32::try_from(d[0]).map_err(|_| big("weight"))?;
                // sinabs' convert_linear_to_conv: kernel = the input's (h, w).
                Ok(([f, c, h, wd], [1, 1], [0, 0], bias.is_some()))
            }
            _ => Err(self.err(w, "op", "is not a conv or linear layer".into())),
        }
    }
}
