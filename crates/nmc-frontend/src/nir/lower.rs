//! Lowering: the raw NIR tree → an [`nmc_ir::Graph`].
//!
//! Conventions (see also the crate docs):
//!
//! - **Node order.** HDF5 lists group members alphabetically, so the file
//!   does not keep the writer's order. Within each (sub)graph nodes are added
//!   in natural order (`2` before `10`); only `edges` gives the topology.
//! - **Nested subgraphs** are inlined: node `inner` of subgraph `outer`
//!   becomes `outer.inner`. A subgraph's `Input`/`Output` nodes are its
//!   ports and are spliced out: an edge `a -> outer` connects `a` to every
//!   successor of the subgraph's (single) Input node, an edge `outer -> b`
//!   connects the predecessors of its (single) Output node to `b`. The
//!   ports' declared shapes are checked against the values that really
//!   flow through them (equal element counts, like the IR's Output).
//! - **Populations.** Neuron parameters are broadcast to one value per
//!   neuron; the population shape is the shape of the non-scalar parameter
//!   arrays (which must agree), or, when every parameter is a single value,
//!   the shape of the value arriving at the node.
//! - **Metadata.** The top graph's `metadata` becomes graph metadata (its
//!   `dt`, in seconds, sets the time step unless [`LoadOptions::dt`] is
//!   given); a subgraph's metadata is kept in the graph metadata under
//!   `<subgraph path>.<key>`; node metadata stays on the node. A node
//!   metadata value `refractory` or `t_ref` (seconds) sets
//!   [`Neuron::refractory`].

use super::fields::Fields;
use super::raw::{Data, Group, Item, Value};
use crate::{FrontendError, LoadOptions};
use nmc_ir::{
    BuildError, DEFAULT_DT, Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, OpError, PoolKind, ResetMode, Shape,
    Tensor,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An edge by node path: (source, destination).
type Edge = (String, String);

/// Every node type the importer understands, for messages.
const SUPPORTED: &str = "Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, Flatten, SumPool2d, AvgPool2d, \
                         Threshold, Delay, I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph";

/// Node metadata keys that set a neuron population's refractory period.
const REFRACTORY_KEYS: [&str; 2] = ["refractory", "t_ref"];

/// Lowers the root group of a NIR file.
///
/// `budget` is the file's decoded-memory budget in bytes: the parameter
/// vectors of populations whose size comes from a shape field (not from
/// decoded data) are charged to it before they are allocated.
pub(crate) fn lower(file: &str, root: &Group, opts: &LoadOptions, budget: u64) -> Result<Graph, FrontendError> {
    let mut lw = Lowerer {
        file,
        opts,
        budget,
        nodes: Vec::new(),
        edges: Vec::new(),
        ports: BTreeMap::new(),
        graph_meta: BTreeMap::new(),
    };
    let top = match root.items.get("node") {
        Some(Item::Group(g)) => g,
        Some(Item::Unreadable(e)) => {
            return Err(FrontendError::nir(
                file,
                None,
                None,
                format!("cannot read the `node` group: {e}"),
            ));
        }
        _ => {
            let names: Vec<&str> = root.items.keys().map(String::as_str).collect();
            return Err(FrontendError::nir(
                file,
                None,
                None,
                format!(
                    "not a NIR graph file: the HDF5 file has no `node` group (top-level members: [{}])",
                    names.join(", ")
                ),
            ));
        }
    };
    match root.items.get("version") {
        None => {}
        Some(Item::Value(Value { data: Data::Str(s), .. })) if s.len() == 1 => {
            lw.graph_meta.insert("nir_version".into(), Meta::Str(s[0].clone()));
        }
        Some(_) => {
            return Err(FrontendError::nir(
                file,
                None,
                Some("version"),
                "expected one version string",
            ));
        }
    }
    let top_fields = Fields::new(file, None, top);
    let kind = match top.items.get("type") {
        Some(Item::Value(v)) => top_fields.string("type", v)?,
        _ => {
            return Err(top_fields.err(
                "type",
                "missing: the `node` group has no `type` (expected \"NIRGraph\")",
            ));
        }
    };
    if kind != "NIRGraph" {
        return Err(top_fields.err(
            "type",
            format!("the file holds a single `{kind}` node, not a NIRGraph; nmc imports graphs"),
        ));
    }
    lw.graph(top, None)?;
    lw.finish()
}

/// What the graph builder will receive for a node, once shapes are known.
enum PendingOp {
    /// A finished op.
    Ready(Op),
    /// A neuron population whose shape may come from its input.
    Neuron(NeuronSpec),
}

/// A check made after the graph is built, against the fact arriving at a node.
struct InputCheck {
    field: &'static str,
    /// Declared dimensions.
    declared: Vec<usize>,
    /// True when `declared` gives only the spatial dimensions (Conv's
    /// `input_shape` may omit the channel).
    spatial_only: bool,
}

struct PendingNode {
    name: String,
    op: PendingOp,
    meta: BTreeMap<String, Meta>,
    check: Option<InputCheck>,
}

struct NeuronSpec {
    model: NeuronModel,
    /// Parameters by NIR field name, as stored.
    params: Vec<(&'static str, Tensor)>,
    /// The population shape, when some parameter array fixes it.
    shape: Option<Shape>,
    refractory: f64,
    reset: ResetMode,
}

/// A spliced-out Input/Output node of a subgraph.
struct Port {
    field: &'static str,
    shape: Shape,
    is_input: bool,
}

/// How a node name in a graph's `edges` resolves.
enum Endpoint {
    Node(String),
    Subgraph { inputs: Vec<String>, outputs: Vec<String> },
}

struct Lowerer<'a> {
    file: &'a str,
    opts: &'a LoadOptions,
    /// Bytes the lowering may still allocate for shape-derived parameters.
    budget: u64,
    nodes: Vec<PendingNode>,
    /// Edges by full path; may name ports.
    edges: Vec<(String, String)>,
    ports: BTreeMap<String, Port>,
    graph_meta: BTreeMap<String, Meta>,
}

impl Lowerer<'_> {
    fn err(&self, node: Option<&str>, field: Option<&str>, message: impl Into<String>) -> FrontendError {
        FrontendError::nir(self.file, node, field, message)
    }

    /// Lowers one NIRGraph group. `path` is `None` for the top graph.
    /// Returns the ports (Input and Output node paths) of this graph.
    fn graph(&mut self, g: &Group, path: Option<&str>) -> Result<(Vec<String>, Vec<String>), FrontendError> {
        let file = self.file;
        let mut f = Fields::new(file, path, g);
        let prefix = path.map(|p| format!("{p}.")).unwrap_or_default();
        let scope = match path {
            None => "the top-level graph".to_string(),
            Some(p) => format!("subgraph `{p}`"),
        };
        let meta = f.metadata()?;
        for (k, v) in meta {
            self.graph_meta.insert(format!("{prefix}{k}"), v);
        }
        let edges_v = f.req("edges")?;
        let nodes_g = match g.items.get("nodes") {
            Some(Item::Group(n)) => n,
            Some(Item::Value(_)) => return Err(f.err("nodes", "expected a group of nodes, found a dataset")),
            Some(Item::Unreadable(e)) => return Err(f.err("nodes", format!("cannot be read: {e}"))),
            None => return Err(f.err("nodes", "missing field (a NIRGraph needs `nodes` and `edges`)")),
        };
        f.mark("nodes");
        let edges = self.edge_list(&f, edges_v)?;
        f.finish("NIRGraph")?;

        let mut names: Vec<&String> = nodes_g.items.keys().collect();
        names.sort_by(|a, b| natural_cmp(a, b));
        let mut endpoints: HashMap<&str, Endpoint> = HashMap::new();
        let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
        for name in names {
            let full = format!("{prefix}{name}");
            let ng = match &nodes_g.items[name] {
                Item::Group(ng) => ng,
                Item::Value(_) => {
                    return Err(self.err(Some(&full), None, "expected a node group, found a dataset"));
                }
                Item::Unreadable(e) => return Err(self.err(Some(&full), None, format!("cannot be read: {e}"))),
            };
            let nf = Fields::new(file, Some(&full), ng);
            let kind = match ng.items.get("type") {
                Some(Item::Value(v)) => nf.string("type", v)?,
                Some(_) => return Err(nf.err("type", "expected a string dataset")),
                None => return Err(nf.err("type", "missing field (every node has a `type`)")),
            };
            let ep = match kind.as_str() {
                "NIRGraph" => {
                    let (i, o) = self.graph(ng, Some(&full))?;
                    Endpoint::Subgraph { inputs: i, outputs: o }
                }
                "Input" | "Output" if path.is_some() => {
                    self.port(nf, &kind, &full)?;
                    if kind == "Input" {
                        inputs.push(full.clone());
                    } else {
                        outputs.push(full.clone());
                    }
                    Endpoint::Node(full)
                }
                _ => {
                    let node = self.node(nf, &kind, &full)?;
                    match &node.op {
                        PendingOp::Ready(Op::Input { .. }) => inputs.push(full.clone()),
                        PendingOp::Ready(Op::Output { .. }) => outputs.push(full.clone()),
                        _ => {}
                    }
                    self.nodes.push(node);
                    Endpoint::Node(full)
                }
            };
            endpoints.insert(name.as_str(), ep);
        }

        let mut seen = HashSet::new();
        for (s, d) in edges {
            if !seen.insert((s.clone(), d.clone())) {
                return Err(self.err(
                    Some(&format!("{prefix}{d}")),
                    Some("edges"),
                    format!("duplicate edge `{s}` -> `{d}` in {scope} (each edge adds its source's value once)"),
                ));
            }
            let resolve = |name: &str, as_src: bool| -> Result<String, FrontendError> {
                match endpoints.get(name) {
                    Some(Endpoint::Node(p)) => Ok(p.clone()),
                    Some(Endpoint::Subgraph { inputs, outputs }) => {
                        let (ports, what) = if as_src { (outputs, "Output") } else { (inputs, "Input") };
                        match ports.as_slice() {
                            [one] => Ok(one.clone()),
                            [] => Err(self.err(
                                Some(&format!("{prefix}{name}")),
                                Some("edges"),
                                format!("edge `{s}` -> `{d}` of {scope} connects to subgraph `{name}`, which has no {what} node"),
                            )),
                            many => Err(self.err(
                                Some(&format!("{prefix}{name}")),
                                Some("edges"),
                                format!(
                                    "edge `{s}` -> `{d}` of {scope} connects to subgraph `{name}`, which has several {what} nodes ({}); the edge cannot say which",
                                    many.join(", ")
                                ),
                            )),
                        }
                    }
                    None => {
                        let mut have: Vec<&str> = endpoints.keys().copied().collect();
                        have.sort_by(|a, b| natural_cmp(a, b));
                        Err(self.err(
                            Some(&format!("{prefix}{name}")),
                            Some("edges"),
                            format!(
                                "edge `{s}` -> `{d}` of {scope} names node `{name}`, which does not exist ({scope} has: {})",
                                have.join(", ")
                            ),
                        ))
                    }
                }
            };
            let src = resolve(&s, true)?;
            let dst = resolve(&d, false)?;
            self.edges.push((src, dst));
        }
        Ok((inputs, outputs))
    }

    /// Parses a graph's `edges`: an (E, 2) array of node-name strings.
    fn edge_list(&self, f: &Fields<'_>, v: &Value) -> Result<Vec<(String, String)>, FrontendError> {
        if v.numel() == 0 {
            return Ok(Vec::new());
        }
        match &v.data {
            Data::Str(s) if v.shape.len() == 2 && v.shape[1] == 2 => {
                Ok(s.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())).collect())
            }
            _ => Err(f.err(
                "edges",
                format!(
                    "expected an (E, 2) array of node-name strings, got {} of shape {}",
                    v.dtype(),
                    Shape::new(v.shape.clone())
                ),
            )),
        }
    }

    /// Records a subgraph's Input/Output node as a port to splice out.
    fn port(&mut self, mut f: Fields<'_>, kind: &str, full: &str) -> Result<(), FrontendError> {
        let is_input = kind == "Input";
        let (field, shape) = io_shape(&mut f, is_input)?;
        for (k, v) in f.metadata()? {
            self.graph_meta.insert(format!("{full}.{k}"), v);
        }
        f.finish(kind)?;
        self.ports.insert(full.to_string(), Port { field, shape, is_input });
        Ok(())
    }

    /// Lowers one non-graph node.
    fn node(&self, mut f: Fields<'_>, kind: &str, full: &str) -> Result<PendingNode, FrontendError> {
        let meta = f.metadata()?;
        let mut check = None;
        let op = match kind {
            "Input" => PendingOp::Ready(Op::Input {
                shape: io_shape(&mut f, true)?.1,
            }),
            "Output" => PendingOp::Ready(Op::Output {
                shape: io_shape(&mut f, false)?.1,
            }),
            "Affine" | "Linear" => {
                let needs: &[&str] = if kind == "Affine" {
                    &["weight", "bias"]
                } else {
                    &["weight"]
                };
                let w = f.req_of("weight", kind, needs)?;
                let weight = f.tensor_rank("weight", w, 2, "[out, in]")?;
                let bias = if kind == "Affine" {
                    let b = f.req_of("bias", kind, needs)?;
                    Some(f.tensor_rank("bias", b, 1, "[out]")?)
                } else {
                    None
                };
                PendingOp::Ready(Op::Affine { weight, bias })
            }
            "Scale" => {
                let v = f.req("scale")?;
                PendingOp::Ready(Op::Scale {
                    scale: f.tensor("scale", v)?,
                })
            }
            "Threshold" => {
                let v = f.req("threshold")?;
                PendingOp::Ready(Op::Threshold {
                    threshold: f.tensor("threshold", v)?,
                })
            }
            "Delay" => {
                let v = f.req("delay")?;
                PendingOp::Ready(Op::Delay {
                    delay: f.tensor("delay", v)?,
                })
            }
            "Conv1d" | "Conv2d" => {
                let (op, c) = conv(&mut f, kind, if kind == "Conv1d" { 1 } else { 2 })?;
                check = c;
                PendingOp::Ready(op)
            }
            "Flatten" => {
                let s = f.req("start_dim")?;
                let start_dim = f.int("start_dim", s)?;
                let e = f.req("end_dim")?;
                let end_dim = f.int("end_dim", e)?;
                if let Some(it) = f.opt_typed("input_type", "input")? {
                    check = Some(InputCheck {
                        field: "input_type",
                        declared: f.shape("input_type", it)?.0,
                        spatial_only: false,
                    });
                }
                // Rule: `start_dim`/`end_dim` index the per-step value
                // *without* a batch axis, as in nir 1.0's own shape
                // inference (`calc_flatten_output`); negative values count
                // from the end. Exporters that start from a PyTorch
                // `nn.Flatten(start_dim=1)` subtract the batch axis first
                // (sinabs writes start_dim=0 for [8,4,4] → [128]), which is
                // exactly this rule. A file that kept PyTorch's batch-counting
                // index would flatten less than intended; the next layer's
                // weight shape then disagrees and the build reports it.
                PendingOp::Ready(Op::Flatten { start_dim, end_dim })
            }
            "SumPool2d" | "AvgPool2d" => {
                let k = f.req("kernel_size")?;
                let kernel = f.per_dim("kernel_size", k, 2, 1)?;
                let s = f.req("stride")?;
                let stride = f.per_dim("stride", s, 2, 1)?;
                let p = f.req("padding")?;
                let padding = f.per_dim("padding", p, 2, 0)?;
                PendingOp::Ready(Op::Pool2d {
                    kind: if kind == "SumPool2d" {
                        PoolKind::Sum
                    } else {
                        PoolKind::Avg
                    },
                    kernel: [kernel[0], kernel[1]],
                    stride: [stride[0], stride[1]],
                    padding: [padding[0], padding[1]],
                })
            }
            "I" | "IF" | "LI" | "LIF" | "CubaLI" | "CubaLIF" => PendingOp::Neuron(self.neuron(&mut f, kind, &meta)?),
            other => {
                return Err(f.err(
                    "type",
                    format!("unknown node type `{other}`; supported types: {SUPPORTED}"),
                ));
            }
        };
        f.finish(kind)?;
        Ok(PendingNode {
            name: full.to_string(),
            op,
            meta,
            check,
        })
    }

    fn neuron(
        &self,
        f: &mut Fields<'_>,
        kind: &str,
        meta: &BTreeMap<String, Meta>,
    ) -> Result<NeuronSpec, FrontendError> {
        let (model, required, optional): (NeuronModel, &[&'static str], &[&'static str]) = match kind {
            "I" => (NeuronModel::I, &["r"], &[]),
            "IF" => (NeuronModel::If, &["r", "v_threshold"], &["v_reset"]),
            "LI" => (NeuronModel::Li, &["tau", "r", "v_leak"], &[]),
            "LIF" => (NeuronModel::Lif, &["tau", "r", "v_leak", "v_threshold"], &["v_reset"]),
            "CubaLI" => (NeuronModel::CubaLi, &["tau_syn", "tau_mem", "r", "v_leak"], &["w_in"]),
            _ => (
                NeuronModel::CubaLif,
                &["tau_syn", "tau_mem", "r", "v_leak", "v_threshold"],
                &["v_reset", "w_in"],
            ),
        };
        let mut params = Vec::new();
        for &name in required {
            let v = f.req_of(name, kind, required)?;
            params.push((name, f.tensor(name, v)?));
        }
        for &name in optional {
            if let Some(v) = f.opt(name)? {
                params.push((name, f.tensor(name, v)?));
            }
        }
        // Population shape: the shape shared by every parameter array that is
        // not a single value.
        let mut shape: Option<(&str, Shape)> = None;
        for (name, t) in &params {
            if t.len() == 1 {
                continue;
            }
            match &shape {
                None => shape = Some((name, t.shape().clone())),
                Some((first, s)) if s != t.shape() => {
                    return Err(f.err(
                        name,
                        format!("shape {} disagrees with `{first}` of shape {s}", t.shape()),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(NeuronSpec {
            model,
            params,
            shape: shape.map(|(_, s)| s),
            refractory: refractory(f, meta)?,
            reset: self.opts.reset.unwrap_or(ResetMode::Zero),
        })
    }

    /// Splices out ports, resolves population shapes, builds and checks.
    fn finish(self) -> Result<Graph, FrontendError> {
        let file = self.file;
        let (edges, port_sources) = splice(&self.edges, &self.ports);
        for (path, port) in &self.ports {
            if port_sources.get(path).is_none_or(Vec::is_empty) {
                let what = if port.is_input {
                    "the subgraph's Input node receives no edge in the enclosing graph"
                } else {
                    "the subgraph's Output node receives no edge inside the subgraph"
                };
                return Err(FrontendError::nir(file, Some(path), Some("edges"), what));
            }
        }

        let dt = match self.opts.dt {
            Some(dt) => dt,
            None => match self.graph_meta.get("dt") {
                None => DEFAULT_DT,
                Some(Meta::Float(x)) => *x,
                Some(Meta::Int(i)) => *i as f64,
                Some(other) => {
                    return Err(FrontendError::nir(
                        file,
                        None,
                        Some("metadata.dt"),
                        format!("expected one number (seconds), got {other}"),
                    ));
                }
            },
        };
        if !(dt.is_finite() && dt > 0.0) {
            let field = if self.opts.dt.is_some() { "dt" } else { "metadata.dt" };
            return Err(FrontendError::nir(
                file,
                None,
                Some(field),
                format!("the time step must be a positive number of seconds, got {dt}"),
            ));
        }
        let name = std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        let disc = self.opts.discretization.unwrap_or_default();
        let affine_shapes: HashMap<String, Vec<usize>> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.op {
                PendingOp::Ready(Op::Affine { weight, .. }) => Some((n.name.clone(), weight.shape().dims().to_vec())),
                _ => None,
            })
            .collect();
        let builder = |ops: Vec<(String, Op, BTreeMap<String, Meta>)>| -> Result<Graph, FrontendError> {
            let wrap = |source: BuildError| {
                let hint = transposed_hint(&source, &affine_shapes);
                FrontendError::Build {
                    file: file.to_string(),
                    source: Box::new(source),
                    hint,
                }
            };
            let mut b = GraphBuilder::new(name.clone());
            b.dt(dt).discretization(disc);
            for (k, v) in &self.graph_meta {
                b.meta(k.clone(), v.clone());
            }
            for (n, op, meta) in ops {
                b.node(n, op, meta).map_err(wrap)?;
            }
            for (s, d) in &edges {
                b.edge(s.clone(), d.clone());
            }
            b.build().map_err(wrap)
        };

        // Neuron populations whose parameters are all single values take
        // their shape from their input: build once with a shape-preserving
        // stand-in (a unit Scale) to learn it.
        let mut learned: HashMap<String, Shape> = HashMap::new();
        if self
            .nodes
            .iter()
            .any(|n| matches!(&n.op, PendingOp::Neuron(s) if s.shape.is_none()))
        {
            let probe_ops = self
                .nodes
                .iter()
                .map(|n| {
                    let op = match &n.op {
                        PendingOp::Ready(op) => op.clone(),
                        PendingOp::Neuron(s) => match &s.shape {
                            Some(shape) => Op::Neuron(Neuron::neutral(s.model, shape.clone())),
                            None => Op::Scale {
                                scale: Tensor::scalar(1.0),
                            },
                        },
                    };
                    (n.name.clone(), op, BTreeMap::new())
                })
                .collect();
            let probe = builder(probe_ops)?;
            let probe_ids = ids(&probe);
            for n in &self.nodes {
                if let PendingOp::Neuron(NeuronSpec { shape: None, .. }) = &n.op
                    && let Some(fact) = probe_ids.get(n.name.as_str()).and_then(|&id| probe.input_fact(id))
                {
                    learned.insert(n.name.clone(), fact.shape.clone());
                }
            }
        }

        let mut ops = Vec::with_capacity(self.nodes.len());
        let mut checks = Vec::new();
        let mut budget = self.budget;
        for n in self.nodes {
            let op = match n.op {
                PendingOp::Ready(op) => op,
                PendingOp::Neuron(spec) => {
                    let shape = match (&spec.shape, learned.get(&n.name)) {
                        (Some(s), _) | (None, Some(s)) => s.clone(),
                        (None, None) => {
                            return Err(FrontendError::nir(
                                file,
                                Some(&n.name),
                                None,
                                "cannot tell the population size: every parameter is a single value and no edge arrives",
                            ));
                        }
                    };
                    charge_population(file, &n.name, &shape, &mut budget)?;
                    Op::Neuron(population(file, &n.name, spec, shape)?)
                }
            };
            if let Some(c) = n.check {
                checks.push((n.name.clone(), c));
            }
            ops.push((n.name, op, n.meta));
        }
        let graph = builder(ops)?;
        let graph_ids = ids(&graph);

        // Declared input shapes (Flatten `input_type`, Conv `input_shape`).
        for (name, c) in checks {
            let Some(fact) = graph_ids.get(name.as_str()).and_then(|&id| graph.input_fact(id)) else {
                continue;
            };
            let got = fact.shape.dims();
            let ok = if c.spatial_only {
                got.len() == c.declared.len() + 1 && got[1..] == c.declared[..]
            } else {
                got == c.declared.as_slice()
            };
            if !ok {
                let what = if c.spatial_only { "spatial shape" } else { "input shape" };
                return Err(FrontendError::nir(
                    file,
                    Some(&name),
                    Some(c.field),
                    format!(
                        "declares {what} {} but the incoming value has shape {}",
                        Shape::new(c.declared),
                        fact.shape
                    ),
                ));
            }
        }
        // Subgraph ports: the values flowing through them must match.
        for (path, port) in &self.ports {
            for src in port_sources.get(path).map(Vec::as_slice).unwrap_or_default() {
                let Some(&id) = graph_ids.get(src.as_str()) else {
                    continue;
                };
                let got = &graph.node(id).out.shape;
                if got.numel() != port.shape.numel() {
                    let kind = if port.is_input { "Input" } else { "Output" };
                    return Err(FrontendError::nir(
                        file,
                        Some(path),
                        Some(port.field),
                        format!(
                            "the subgraph {kind} node declares {} ({} elements) but receives {got} from `{src}`",
                            port.shape,
                            port.shape.numel()
                        ),
                    ));
                }
            }
        }
        nmc_ir::verify(&graph).map_err(|errors| FrontendError::Verify {
            file: file.to_string(),
            errors,
        })?;
        // NIR is continuous-time: a loop with no neuron or delay on it is an
        // algebraic loop, not a one-step-late recurrence.
        if let Some(cycle) = nmc_ir::algebraic_loops(&graph).first() {
            let names: Vec<String> = cycle
                .iter()
                .take(8)
                .map(|&i| format!("`{}`", graph.node(i).name))
                .collect();
            let more = match cycle.len() {
                n if n > 8 => format!(" and {} more", n - 8),
                _ => String::new(),
            };
            return Err(FrontendError::nir(
                file,
                Some(&graph.node(cycle[0]).name),
                Some("edges"),
                format!(
                    "algebraic loop: the cycle through {}{more} has no neuron population or Delay on it (a \
                     recurrent connection must pass through one)",
                    names.join(", ")
                ),
            ));
        }
        Ok(graph)
    }
}

/// Node ids by name (`Graph::find` is a linear scan; hostile files have
/// many nodes).
fn ids(g: &Graph) -> HashMap<&str, nmc_ir::NodeId> {
    g.node_ids().map(|i| (g.node(i).name.as_str(), i)).collect()
}

/// A hint for an Affine/Linear whose weight would fit its input if it were
/// stored `[in, out]` instead of NIR's `[out, in]`.
fn transposed_hint(e: &BuildError, affine_shapes: &HashMap<String, Vec<usize>>) -> Option<String> {
    let BuildError::Op {
        node,
        source: OpError::InputShape {
            field: "weight", got, ..
        },
        ..
    } = e
    else {
        return None;
    };
    match affine_shapes.get(node)?.as_slice() {
        [out, inp] if *out == got.numel() && *inp != got.numel() => Some(format!(
            "the weight looks transposed: it is stored [{out},{inp}] but NIR's layout is [out, in], \
             and [{inp},{out}] would fit"
        )),
        _ => None,
    }
}

/// The shape of an Input (`shape` or `input_type`) or Output (`shape` or
/// `output_type`) node, and the field it came from.
fn io_shape(f: &mut Fields<'_>, is_input: bool) -> Result<(&'static str, Shape), FrontendError> {
    let (alt, member) = if is_input {
        ("input_type", "input")
    } else {
        ("output_type", "output")
    };
    let shape = match f.opt("shape")? {
        Some(v) => Some(f.shape("shape", v)?),
        None => None,
    };
    let typed = match f.opt_typed(alt, member)? {
        Some(v) => Some(f.shape(alt, v)?),
        None => None,
    };
    match (shape, typed) {
        (Some(s), Some(t)) if s != t => Err(f.err(alt, format!("{t} disagrees with `shape` {s}"))),
        (Some(s), _) => Ok(("shape", s)),
        (None, Some(t)) => Ok((alt, t)),
        (None, None) => Err(f.err("shape", format!("missing field (give `shape` or `{alt}`)"))),
    }
}

/// Conv1d/Conv2d. Returns the op and the `input_shape` check, if declared.
fn conv(f: &mut Fields<'_>, kind: &str, nsp: usize) -> Result<(Op, Option<InputCheck>), FrontendError> {
    let needs = ["weight", "bias", "stride", "padding", "dilation", "groups"];
    let w = f.req_of("weight", kind, &needs)?;
    let layout = if nsp == 1 {
        "[C_out, C_in/groups, k]"
    } else {
        "[C_out, C_in/groups, kH, kW]"
    };
    let weight = f.tensor_rank("weight", w, nsp + 2, layout)?;
    let b = f.req_of("bias", kind, &needs)?;
    let bias = f.tensor_rank("bias", b, 1, "[C_out]")?;
    let s = f.req_of("stride", kind, &needs)?;
    let stride = f.per_dim("stride", s, nsp, 1)?;
    let d = f.req_of("dilation", kind, &needs)?;
    let dilation = f.per_dim("dilation", d, nsp, 1)?;
    let g = f.req_of("groups", kind, &needs)?;
    let groups = f.int("groups", g)?;
    let groups = usize::try_from(groups)
        .ok()
        .filter(|&g| g >= 1)
        .ok_or_else(|| f.err("groups", format!("must be ≥ 1, got {groups}")))?;
    let p = f.req_of("padding", kind, &needs)?;
    let padding = match &p.data {
        Data::Str(_) => {
            let mode = f.string("padding", p)?;
            match mode.as_str() {
                "valid" => vec![0; nsp],
                // "same" keeps the spatial size. With stride 1 the output
                // size is `in + 2p − dilation·(k−1)`, so symmetric padding
                // p = dilation·(k−1)/2 works when that is a whole number;
                // otherwise PyTorch pads one side more, which the IR's
                // symmetric padding cannot express.
                "same" => {
                    let k = &weight.shape().dims()[2..];
                    let mut pad = Vec::with_capacity(nsp);
                    for i in 0..nsp {
                        if stride[i] != 1 {
                            return Err(f.err(
                                "padding",
                                format!("\"same\" needs stride 1 (as in PyTorch), stride is {stride:?}"),
                            ));
                        }
                        let total = dilation[i] * (k[i].saturating_sub(1));
                        if total % 2 != 0 {
                            return Err(f.err(
                                "padding",
                                format!(
                                    "\"same\" with kernel {} and dilation {} in dimension {i} needs asymmetric padding, which nmc does not support",
                                    k[i], dilation[i]
                                ),
                            ));
                        }
                        pad.push(total / 2);
                    }
                    pad
                }
                other => {
                    return Err(f.err(
                        "padding",
                        format!("unknown padding mode {other:?} (expected \"same\", \"valid\" or integers)"),
                    ));
                }
            }
        }
        _ => f.per_dim("padding", p, nsp, 0)?,
    };
    let check = match f.opt("input_shape")? {
        None => None,
        Some(v) => {
            let declared = f.shape("input_shape", v)?.0;
            if declared.len() != nsp && declared.len() != nsp + 1 {
                return Err(f.err(
                    "input_shape",
                    format!(
                        "expected {nsp} spatial sizes or {} sizes with channels, got {declared:?}",
                        nsp + 1
                    ),
                ));
            }
            Some(InputCheck {
                field: "input_shape",
                spatial_only: declared.len() == nsp,
                declared,
            })
        }
    };
    Ok((
        Op::Conv {
            weight,
            bias: Some(bias),
            stride,
            padding,
            dilation,
            groups,
        },
        check,
    ))
}

/// The refractory period from node metadata (`refractory` or `t_ref`).
fn refractory(f: &Fields<'_>, meta: &BTreeMap<String, Meta>) -> Result<f64, FrontendError> {
    let mut found: Option<(&str, f64)> = None;
    for key in REFRACTORY_KEYS {
        let Some(m) = meta.get(key) else { continue };
        let field = format!("metadata.{key}");
        let x = match m {
            Meta::Float(x) => *x,
            Meta::Int(i) => *i as f64,
            Meta::Floats(_, v) if !v.is_empty() && v.iter().all(|x| *x == v[0]) => v[0],
            Meta::Ints(_, v) if !v.is_empty() && v.iter().all(|x| *x == v[0]) => v[0] as f64,
            other => {
                return Err(f.err(
                    &field,
                    format!("expected one number of seconds for the whole population, got {other}"),
                ));
            }
        };
        if !(x.is_finite() && x >= 0.0) {
            return Err(f.err(&field, format!("must be ≥ 0 seconds, got {x}")));
        }
        if let Some((k0, x0)) = found
            && x0 != x
        {
            return Err(f.err(&field, format!("{x} disagrees with `metadata.{k0}` = {x0}")));
        }
        found = Some((key, x));
    }
    Ok(found.map_or(0.0, |(_, x)| x))
}

/// Bytes per neuron of a population's parameter vectors (eight `f64`s).
const POPULATION_BYTES_PER_NEURON: u64 = 8 * 8;

/// Charges a population over `shape` to the decode budget before its
/// parameters are broadcast: a shape field of a small file (an Input's
/// `shape`, a Conv's `padding`) can claim any size.
fn charge_population(file: &str, node: &str, shape: &Shape, budget: &mut u64) -> Result<(), FrontendError> {
    let neurons = shape.dims().iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64));
    let need = neurons.and_then(|n| n.checked_mul(POPULATION_BYTES_PER_NEURON));
    match need {
        Some(b) if b <= *budget => {
            *budget -= b;
            Ok(())
        }
        _ => Err(FrontendError::nir(
            file,
            Some(node),
            Some("shape"),
            format!(
                "a population of shape {shape} (from its input's shape) needs {} of parameters, more than this \
                 file's decode budget allows ({} left of the budget for a file of this size); the shape fields \
                 upstream (Input `shape`, Conv `padding`/`stride`) claim more than the file holds",
                need.map_or_else(|| "more than 2^64 bytes".to_string(), |b| format!("{b} bytes")),
                budget
            ),
        )),
    }
}

/// A population over `shape` from the NIR parameters, broadcast per neuron.
fn population(file: &str, node: &str, spec: NeuronSpec, shape: Shape) -> Result<Neuron, FrontendError> {
    let mut n = Neuron::neutral(spec.model, shape);
    let len = n.len();
    for (name, t) in spec.params {
        let v = t.broadcast_to(len).ok_or_else(|| {
            FrontendError::nir(
                file,
                Some(node),
                Some(name),
                format!("has {} values for a population of {len} neurons ({})", t.len(), n.shape),
            )
        })?;
        match name {
            "tau" | "tau_mem" => n.tau_mem = v,
            "tau_syn" => n.tau_syn = v,
            "r" => n.r = v,
            "v_leak" => n.v_leak = v,
            "v_threshold" => n.v_threshold = v,
            "v_reset" => n.v_reset = v,
            _ => n.w_in = v,
        }
    }
    n.reset = spec.reset;
    n.refractory = spec.refractory;
    Ok(n)
}

/// Removes the port nodes: each edge `a -> port` becomes `a -> t` for every
/// real node `t` the port forwards to (through chains of ports), edges out
/// of ports are dropped. Also returns, for each port, the real nodes whose
/// value flows into it.
fn splice(edges: &[(String, String)], ports: &BTreeMap<String, Port>) -> (Vec<Edge>, BTreeMap<String, Vec<String>>) {
    let is_port = |n: &str| ports.contains_key(n);
    // Edges by source and by destination, in edge order: a walk looks at the
    // edges of one node, not at all of them (chains of subgraphs made the
    // scan-everything version cubic in the number of ports).
    let mut by_src: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_dst: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, d) in edges {
        by_src.entry(s.as_str()).or_default().push(d.as_str());
        by_dst.entry(d.as_str()).or_default().push(s.as_str());
    }
    // Depth-first through ports (an explicit stack: chains can be long),
    // collecting real nodes in edge order, each once.
    let reach = |start: &str, forward: bool| -> Vec<String> {
        let adj = if forward { &by_src } else { &by_dst };
        let next = |n: &str| adj.get(n).map_or(&[][..], Vec::as_slice);
        let mut out = Vec::new();
        let mut listed: HashSet<&str> = HashSet::new();
        let mut seen: HashSet<&str> = HashSet::from([start]);
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some((at, k)) = stack.pop() {
            let Some(&to) = next(at).get(k) else { continue };
            stack.push((at, k + 1));
            if is_port(to) {
                if seen.insert(to) {
                    stack.push((to, 0));
                }
            } else if listed.insert(to) {
                out.push(to.to_string());
            }
        }
        out
    };
    // Each port's reach, computed once bottom-up (linear for chains of
    // subgraphs); the walk above is the definition and the fallback when
    // ports form a cycle.
    let fwd = memo_reach(&by_src, &is_port, ports.keys().map(String::as_str));
    let bwd = memo_reach(&by_dst, &is_port, ports.keys().map(String::as_str));
    let reach = |start: &str, forward: bool| -> Vec<String> {
        match (if forward { &fwd } else { &bwd }).as_ref().and_then(|m| m.get(start)) {
            Some(r) => r.iter().map(|t| t.to_string()).collect(),
            None => reach(start, forward),
        }
    };
    let mut out = Vec::with_capacity(edges.len());
    for (s, d) in edges {
        if is_port(s) {
            continue;
        }
        if is_port(d) {
            for t in reach(d, true) {
                out.push((s.clone(), t));
            }
        } else {
            out.push((s.clone(), d.clone()));
        }
    }
    let sources = ports.keys().map(|p| (p.clone(), reach(p, false))).collect();
    (out, sources)
}

/// For every port, the real nodes reachable through ports along `adj`, in the
/// order of [`splice`]'s depth-first walk, each once: a port's list is the
/// ordered union of its successors' (a real node stands for itself), computed
/// after them with an explicit stack. For a graph of ports without cycles
/// this equals the walk; `None` when ports form a cycle (the caller walks).
fn memo_reach<'a>(
    adj: &HashMap<&'a str, Vec<&'a str>>,
    is_port: &dyn Fn(&str) -> bool,
    ports: impl Iterator<Item = &'a str>,
) -> Option<HashMap<&'a str, Vec<&'a str>>> {
    let next = |n: &str| adj.get(n).map_or(&[][..], Vec::as_slice);
    let mut done: HashMap<&'a str, Vec<&'a str>> = HashMap::new();
    let mut open: HashSet<&'a str> = HashSet::new();
    for root in ports {
        if done.contains_key(root) {
            continue;
        }
        open.insert(root);
        let mut stack: Vec<(&'a str, usize)> = vec![(root, 0)];
        while let Some(&mut (at, ref mut k)) = stack.last_mut() {
            if let Some(&to) = next(at).get(*k) {
                *k += 1;
                if is_port(to) && !done.contains_key(to) {
                    if !open.insert(to) {
                        return None; // a cycle of ports
                    }
                    stack.push((to, 0));
                }
                continue;
            }
            stack.pop();
            open.remove(at);
            let mut list = Vec::new();
            let mut listed = HashSet::new();
            for &to in next(at) {
                let items: &[&'a str] = if is_port(to) {
                    done.get(to).map_or(&[][..], Vec::as_slice)
                } else {
                    std::slice::from_ref(&to)
                };
                for &t in items {
                    if listed.insert(t) {
                        list.push(t);
                    }
                }
            }
            done.insert(at, list);
        }
    }
    Some(done)
}

/// Natural order: digit runs compare as numbers (`2` < `10`).
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let nb = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                let (da, db) = (a[..na].trim_start_matches('0'), b[..nb].trim_start_matches('0'));
                let ord = da
                    .len()
                    .cmp(&db.len())
                    .then_with(|| da.cmp(db))
                    .then_with(|| na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["10", "2", "input", "1", "a10", "a9", "output", "0"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["0", "1", "2", "10", "a9", "a10", "input", "output"]);
    }

    #[test]
    fn splice_through_port_chain() {
        let mut ports = BTreeMap::new();
        for p in ["s.in", "s.out"] {
            ports.insert(
                p.to_string(),
                Port {
                    field: "shape",
                    shape: Shape::new([1]),
                    is_input: p.ends_with("in"),
                },
            );
        }
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        let edges = vec![
            e("a", "s.in"),
            e("s.in", "s.x"),
            e("s.x", "s.out"),
            e("s.out", "b"),
            e("s.in", "s.out"),
        ];
        let (out, src) = splice(&edges, &ports);
        assert_eq!(out, vec![e("a", "s.x"), e("a", "b"), e("s.x", "b")]);
        assert_eq!(src["s.in"], vec!["a".to_string()]);
        assert_eq!(src["s.out"], vec!["s.x".to_string(), "a".to_string()]);
    }
}
