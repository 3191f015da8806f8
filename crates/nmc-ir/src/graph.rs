//! The graph: nodes, edges with facts, the builder that wires them, and the
//! schedule (update order and recurrent edges).

use crate::conventions::{Conventions, Discretization, SpikeConvention};
use crate::fact::{Fact, Format, Shape};
use crate::op::{Op, OpError};
use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Handle of a node in a [`Graph`].
pub type NodeId = NodeIndex<u32>;

type OutEdge = (EdgeIndex<u32>, NodeId);

/// A metadata value carried from the source file (NIR `metadata` groups,
/// per-node extras such as a refractory period or placement hints).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Meta {
    /// A string.
    Str(String),
    /// A real number.
    Float(f64),
    /// An integer.
    Int(i64),
    /// An array of reals (flattened), with its shape.
    Floats(Vec<usize>, Vec<f64>),
    /// An array of integers (flattened), with its shape.
    Ints(Vec<usize>, Vec<i64>),
}

impl std::fmt::Display for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Meta::Str(s) => write!(f, "{s:?}"),
            Meta::Float(x) => write!(f, "{x}"),
            Meta::Int(i) => write!(f, "{i}"),
            Meta::Floats(s, v) if v.len() <= 8 => write!(f, "{}{v:?}", Shape::new(s.clone())),
            Meta::Ints(s, v) if v.len() <= 8 => write!(f, "{}{v:?}", Shape::new(s.clone())),
            Meta::Floats(s, _) => write!(f, "f64{}", Shape::new(s.clone())),
            Meta::Ints(s, _) => write!(f, "i64{}", Shape::new(s.clone())),
        }
    }
}

/// A node: a unique name (a path such as `lif1.lif` for nodes inlined from a
/// nested subgraph), its op, metadata, and its output fact.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Node {
    /// Unique name; `.`-separated path for nodes from nested subgraphs.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Metadata kept from the source file.
    pub meta: BTreeMap<String, Meta>,
    /// The fact of the value it produces each step.
    pub out: Fact,
}

/// The default time step when a file does not give one: 1 ms.
pub const DEFAULT_DT: f64 = 1e-3;

/// A dataflow graph of a spiking network, with typed edge facts.
///
/// Build it with [`GraphBuilder`]; a built graph has passed
/// [`crate::verify`]'s checks. It serialises (for dumps and JSON) but does
/// not deserialise: no graph enters nmc except through the builder.
#[derive(Clone, Debug, Serialize)]
pub struct Graph {
    pub(crate) g: DiGraph<Node, Fact>,
    /// Node ids by name (names are unique; built with the graph, never
    /// changed: node names are not editable).
    #[serde(skip)]
    by_name: HashMap<String, NodeId>,
    /// Source name (file stem) for reports.
    pub name: String,
    /// Simulation time step in seconds.
    pub dt: f64,
    /// How neuron ODEs are discretized.
    pub discretization: Discretization,
    /// Graph-level metadata from the file.
    pub meta: BTreeMap<String, Meta>,
}

/// An error found while building a graph: names the node and the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    /// Two nodes share a name.
    #[error("node `{0}`: duplicate node name")]
    DuplicateNode(String),
    /// An edge names a node that does not exist.
    #[error("edge {src} -> {dst}: node `{missing}` does not exist")]
    MissingNode {
        /// Edge source as written.
        src: String,
        /// Edge destination as written.
        dst: String,
        /// The name that was not found.
        missing: String,
    },
    /// An op rejected its input.
    #[error("node `{node}` ({kind}): {source}")]
    Op {
        /// The node.
        node: String,
        /// Its op kind.
        kind: &'static str,
        /// What the op said.
        source: OpError,
    },
    /// Inputs of a node disagree in shape.
    #[error("node `{node}`: incoming edges disagree on shape: `{a}` gives {fa}, `{b}` gives {fb}")]
    FanInMismatch {
        /// The node.
        node: String,
        /// First source.
        a: String,
        /// Its fact.
        fa: Shape,
        /// Second source.
        b: String,
        /// Its fact.
        fb: Shape,
    },
    /// A node could not be reached from any input, so nothing defines its value.
    #[error("node `{0}`: not reachable from any Input node, its input is undefined")]
    Unreachable(String),
    /// A node receives no edge.
    #[error("node `{0}`: has no incoming edge")]
    NoInput(String),
    /// The graph has no Input node.
    #[error("graph has no Input node")]
    NoInputNode,
    /// dt is not a positive finite number.
    #[error("dt: must be a positive finite number of seconds, got {0}")]
    BadDt(f64),
}

/// Builds a [`Graph`]: add nodes and edges by name in any order, then
/// [`GraphBuilder::build`] infers every fact and checks every edge.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    name: String,
    nodes: Vec<(String, Op, BTreeMap<String, Meta>)>,
    index: HashMap<String, usize>,
    edges: Vec<(String, String)>,
    dt: Option<f64>,
    discretization: Discretization,
    meta: BTreeMap<String, Meta>,
}

impl GraphBuilder {
    /// A builder for a graph called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        GraphBuilder {
            name: name.into(),
            ..Default::default()
        }
    }
    /// Sets dt in seconds (default [`DEFAULT_DT`]).
    pub fn dt(&mut self, dt: f64) -> &mut Self {
        self.dt = Some(dt);
        self
    }
    /// Sets the discretization.
    pub fn discretization(&mut self, d: Discretization) -> &mut Self {
        self.discretization = d;
        self
    }
    /// Adds graph metadata.
    pub fn meta(&mut self, key: impl Into<String>, value: Meta) -> &mut Self {
        self.meta.insert(key.into(), value);
        self
    }
    /// Adds a node. Names must be unique.
    pub fn node(&mut self, name: impl Into<String>, op: Op, meta: BTreeMap<String, Meta>) -> Result<(), BuildError> {
        let name = name.into();
        if self.index.contains_key(&name) {
            return Err(BuildError::DuplicateNode(name));
        }
        self.index.insert(name.clone(), self.nodes.len());
        self.nodes.push((name, op, meta));
        Ok(())
    }
    /// Adds an edge `src → dst` by node name (checked in `build`).
    pub fn edge(&mut self, src: impl Into<String>, dst: impl Into<String>) -> &mut Self {
        self.edges.push((src.into(), dst.into()));
        self
    }
    /// True when a node of that name was added.
    pub fn has_node(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Infers every node's output fact in dataflow order and checks every
    /// edge against what its destination accepts. Nodes in a cycle take
    /// their fact from whichever input is known first; the remaining edges
    /// of the cycle are then checked like any other. A cycle that no Input
    /// reaches (driven only by biases) starts at its first node, in
    /// insertion order, whose op fixes its input shape
    /// ([`Op::fixed_input_shape`]).
    pub fn build(self) -> Result<Graph, BuildError> {
        let dt = self.dt.unwrap_or(DEFAULT_DT);
        if !(dt.is_finite() && dt > 0.0) {
            return Err(BuildError::BadDt(dt));
        }
        let wiring = self.wire()?;
        if !self.nodes.iter().any(|(_, op, _)| matches!(op, Op::Input { .. })) {
            return Err(BuildError::NoInputNode);
        }
        let facts = self.infer_facts(&wiring)?;
        self.check_edges(&wiring, &facts)?;
        Ok(self.into_graph(dt, wiring.edges, facts))
    }
}

/// The builder's edges resolved to node indices.
struct Wiring {
    /// Predecessors of each node, in edge order.
    preds: Vec<Vec<usize>>,
    /// Successors of each node, in edge order.
    succs: Vec<Vec<usize>>,
    /// Every edge as `(src, dst)`, in insertion order.
    edges: Vec<(usize, usize)>,
}

impl GraphBuilder {
    /// Resolves every edge's node names to indices; fails on the first edge
    /// naming a node that does not exist.
    fn wire(&self) -> Result<Wiring, BuildError> {
        let n = self.nodes.len();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut edge_ix = Vec::with_capacity(self.edges.len());
        for (s, d) in &self.edges {
            let find = |x: &String| {
                self.index.get(x).copied().ok_or_else(|| BuildError::MissingNode {
                    src: s.clone(),
                    dst: d.clone(),
                    missing: x.clone(),
                })
            };
            let (si, di) = (find(s)?, find(d)?);
            preds[di].push(si);
            succs[si].push(di);
            edge_ix.push((si, di));
        }
        Ok(Wiring {
            preds,
            succs,
            edges: edge_ix,
        })
    }

    /// Infers every node's output fact, one node at a time (see
    /// [`GraphBuilder::next_node`] for the order).
    fn infer_facts(&self, w: &Wiring) -> Result<Vec<Option<Fact>>, BuildError> {
        // Infer facts: a node is ready when all its predecessors are known;
        // when nothing is ready but nodes remain (a cycle), take the first
        // node (in insertion order) with at least one known predecessor.
        // `ready` holds the nodes not done whose predecessors all are, so the
        // common case costs O(log n) per node (hostile graphs have 10^6).
        let n = self.nodes.len();
        let mut facts: Vec<Option<Fact>> = vec![None; n];
        let mut done = vec![false; n];
        let mut undone_preds: Vec<usize> = w.preds.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| undone_preds[i] == 0).collect();
        let mut remaining = n;
        while remaining > 0 {
            let (i, seed) = self.next_node(w, &ready, &done)?;
            let (name, op, _) = &self.nodes[i];
            let known: Vec<usize> = w.preds[i].iter().copied().filter(|&p| done[p]).collect();
            let input = self.node_input(i, &known, seed, &facts)?;
            let out = op.infer(input.as_ref()).map_err(|source| BuildError::Op {
                node: name.clone(),
                kind: op.kind_name(),
                source,
            })?;
            facts[i] = Some(out);
            done[i] = true;
            ready.remove(&i);
            for &t in &w.succs[i] {
                undone_preds[t] -= 1;
                if undone_preds[t] == 0 && !done[t] {
                    ready.insert(t);
                }
            }
            remaining -= 1;
        }
        Ok(facts)
    }

    /// The next node whose fact to infer: the first ready one; else (a
    /// cycle) the first with a known predecessor; else the seed of a cycle no
    /// Input reaches, with the input shape its op fixes. Fails when no node
    /// is left that can start.
    fn next_node(
        &self,
        w: &Wiring,
        ready: &std::collections::BTreeSet<usize>,
        done: &[bool],
    ) -> Result<(usize, Option<Shape>), BuildError> {
        let n = self.nodes.len();
        let preds = &w.preds;
        let pick = ready
            .first()
            .copied()
            .or_else(|| (0..n).find(|&i| !done[i] && preds[i].iter().any(|&p| done[p])));
        if let Some(i) = pick {
            return Ok((i, None));
        }
        // A cycle no Input reaches (e.g. driven by a bias) starts at its
        // first node whose op fixes the input shape it accepts.
        let seed = (0..n).find_map(|i| {
            let fixed = self.nodes[i].1.fixed_input_shape();
            (!done[i] && !preds[i].is_empty())
                .then_some(fixed)
                .flatten()
                .map(|s| (i, s))
        });
        match seed {
            Some((i, s)) => Ok((i, Some(s))),
            None => {
                let i = (0..n).find(|&i| !done[i]).unwrap_or(0);
                Err(BuildError::Unreachable(self.nodes[i].0.clone()))
            }
        }
    }

    /// The (summed) input fact of node `i` from its predecessors already
    /// inferred (`known`, in edge order): the first one's fact, Float when
    /// their formats differ; the `seed` shape when the node starts a cycle no
    /// Input reaches; `None` for an Input node. Fails on a shape mismatch
    /// between known predecessors, or a non-Input node without any.
    fn node_input(
        &self,
        i: usize,
        known: &[usize],
        seed: Option<Shape>,
        facts: &[Option<Fact>],
    ) -> Result<Option<Fact>, BuildError> {
        let (name, op, _) = &self.nodes[i];
        match known.first() {
            None if seed.is_some() => Ok(seed.map(|s| Fact::new(s, Format::Float))),
            None => {
                if !matches!(op, Op::Input { .. }) {
                    return Err(BuildError::NoInput(name.clone()));
                }
                Ok(None)
            }
            Some(&p0) => {
                let f0 = facts[p0].clone();
                let mut fact = f0.clone().unwrap_or_else(|| Fact::new(Shape::default(), Format::Float));
                for &p in &known[1..] {
                    let fp = facts[p].as_ref();
                    if let (Some(a), Some(b)) = (f0.as_ref(), fp) {
                        if a.shape != b.shape {
                            return Err(BuildError::FanInMismatch {
                                node: name.clone(),
                                a: self.nodes[p0].0.clone(),
                                fa: a.shape.clone(),
                                b: self.nodes[p].0.clone(),
                                fb: b.shape.clone(),
                            });
                        }
                        if a.format != b.format {
                            fact.format = Format::Float;
                        }
                    }
                }
                Ok(Some(fact))
            }
        }
    }

    /// Checks every edge (including the ones closing cycles) against what
    /// its destination accepts, and against the destination's other inputs.
    fn check_edges(&self, w: &Wiring, facts: &[Option<Fact>]) -> Result<(), BuildError> {
        let preds = &w.preds;
        // Nodes whose inputs disagree on shape (checked edge by edge below,
        // for the message; the others cost nothing per edge).
        let mixed: Vec<bool> = preds
            .iter()
            .map(|ps| {
                let mut shapes = ps.iter().filter_map(|&p| facts[p].as_ref().map(|f| &f.shape));
                shapes.next().is_some_and(|s0| shapes.any(|s| s != s0))
            })
            .collect();
        // Check every edge (including the ones closing cycles).
        for &(si, di) in &w.edges {
            let src_fact = facts[si].as_ref();
            let (dname, dop, _) = &self.nodes[di];
            if let Some(f) = src_fact {
                dop.infer(Some(f)).map_err(|source| BuildError::Op {
                    node: dname.clone(),
                    kind: dop.kind_name(),
                    source,
                })?;
                let check: &[usize] = if mixed[di] { &preds[di] } else { &[] };
                for &p in check {
                    if let Some(fp) = facts[p].as_ref()
                        && fp.shape != f.shape
                    {
                        return Err(BuildError::FanInMismatch {
                            node: dname.clone(),
                            a: self.nodes[si].0.clone(),
                            fa: f.shape.clone(),
                            b: self.nodes[p].0.clone(),
                            fb: fp.shape.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The graph: the nodes with their inferred facts, the edges carrying
    /// their source's fact.
    fn into_graph(self, dt: f64, edges: Vec<(usize, usize)>, mut facts: Vec<Option<Fact>>) -> Graph {
        let mut g: DiGraph<Node, Fact> = DiGraph::with_capacity(self.nodes.len(), edges.len());
        for (i, (name, op, meta)) in self.nodes.into_iter().enumerate() {
            let out = facts[i]
                .take()
                .unwrap_or_else(|| Fact::new(Shape::default(), Format::Float));
            g.add_node(Node { name, op, meta, out });
        }
        for (si, di) in edges {
            let f = g[NodeIndex::new(si)].out.clone();
            g.add_edge(NodeIndex::new(si), NodeIndex::new(di), f);
        }
        let by_name = g.node_indices().map(|i| (g[i].name.clone(), i)).collect();
        Graph {
            g,
            by_name,
            name: self.name,
            dt,
            discretization: self.discretization,
            meta: self.meta,
        }
    }
}

/// The order in which nodes update within one step, and which edges carry
/// last step's value (recurrent edges). See docs/ir.md, "Schedule".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Nodes in update order.
    pub order: Vec<NodeId>,
    /// Edges that close a cycle: their destination reads the value the
    /// source produced in the previous step.
    pub back_edges: Vec<EdgeIndex<u32>>,
}

impl Graph {
    /// The underlying petgraph (read-only).
    pub fn petgraph(&self) -> &DiGraph<Node, Fact> {
        &self.g
    }
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.g.node_count()
    }
    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.g[id]
    }
    /// All node ids in insertion order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.g.node_indices()
    }
    /// A node id by name.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }
    /// Predecessors of a node with the edge ids, in edge insertion order.
    pub fn inputs(&self, id: NodeId) -> Vec<(EdgeIndex<u32>, NodeId)> {
        let mut v: Vec<_> = self
            .g
            .edges_directed(id, Direction::Incoming)
            .map(|e| (e.id(), e.source()))
            .collect();
        v.sort_by_key(|(e, _)| e.index());
        v
    }
    /// Successors of a node, in edge insertion order.
    pub fn outputs(&self, id: NodeId) -> Vec<NodeId> {
        let mut v: Vec<_> = self
            .g
            .edges_directed(id, Direction::Outgoing)
            .map(|e| (e.id(), e.target()))
            .collect();
        v.sort_by_key(|(e, _)| e.index());
        v.into_iter().map(|(_, n)| n).collect()
    }
    /// The graph downstream of node `name`, with `name` replaced by an Input
    /// of its output shape (same name): what runs when that node's output is
    /// given (recorded host-encoder spikes, `--input-spikes`). Nodes that
    /// only feed `name` (the encoder and the original input) are dropped.
    /// Fails when a kept node still reads an original input (the input
    /// reaches the rest of the network around `name`).
    pub fn with_input_at(&self, name: &str) -> Result<Graph, String> {
        let at = self.find(name).ok_or_else(|| format!("no node `{name}`"))?;
        // Keep what reaches an Output without passing through `at`, and `at` itself.
        let mut keep = vec![false; self.g.node_count()];
        let mut stack: Vec<NodeId> = self.output_nodes();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut keep[n.index()], true) || n == at {
                continue;
            }
            stack.extend(self.inputs(n).into_iter().map(|(_, s)| s));
        }
        keep[at.index()] = true;
        let mut b = GraphBuilder::new(self.name.clone());
        b.dt(self.dt).discretization(self.discretization);
        for (k, v) in &self.meta {
            b.meta(k.clone(), v.clone());
        }
        for id in self.node_ids().filter(|i| keep[i.index()]) {
            let node = &self.g[id];
            if id != at && matches!(node.op, Op::Input { .. }) {
                return Err(format!(
                    "input `{}` also feeds the network beyond `{name}`; recorded spikes of `{name}` cannot replace it",
                    node.name
                ));
            }
            let op = if id == at {
                Op::Input {
                    shape: node.out.shape.clone(),
                }
            } else {
                node.op.clone()
            };
            b.node(node.name.clone(), op, node.meta.clone())
                .map_err(|e| e.to_string())?;
        }
        for e in self.g.edge_indices() {
            let Some((s, d)) = self.g.edge_endpoints(e) else {
                continue;
            };
            if keep[s.index()] && keep[d.index()] && d != at {
                b.edge(self.g[s].name.clone(), self.g[d].name.clone());
            }
        }
        b.build().map_err(|e| e.to_string())
    }
    /// Input nodes, in insertion order.
    pub fn input_nodes(&self) -> Vec<NodeId> {
        self.node_ids()
            .filter(|&i| matches!(self.g[i].op, Op::Input { .. }))
            .collect()
    }
    /// Output nodes, in insertion order.
    pub fn output_nodes(&self) -> Vec<NodeId> {
        self.node_ids()
            .filter(|&i| matches!(self.g[i].op, Op::Output { .. }))
            .collect()
    }
    /// The fact on the (summed) input of a node, if it has inputs.
    pub fn input_fact(&self, id: NodeId) -> Option<&Fact> {
        self.inputs(id).first().map(|&(e, _)| &self.g[e])
    }
    /// Edge endpoints.
    pub fn edge_endpoints(&self, e: EdgeIndex<u32>) -> Option<(NodeId, NodeId)> {
        self.g.edge_endpoints(e)
    }

    /// The update schedule: a depth-first search from the Input nodes (in
    /// insertion order, successors in edge order) marks every edge that
    /// reaches a node still on the stack as a back edge; the remaining edges
    /// form a DAG whose topological order (ties broken by insertion order)
    /// is the update order. Deterministic for a given graph.
    pub fn schedule(&self) -> Schedule {
        let n = self.g.node_count();
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Closed,
        }
        let mut mark = vec![Mark::New; n];
        let mut back = Vec::new();
        let mut roots = self.input_nodes();
        roots.extend(self.node_ids());
        for root in roots {
            if mark[root.index()] != Mark::New {
                continue;
            }
            // Iterative DFS: stack of (node, next successor position).
            let mut stack: Vec<(NodeId, usize, Vec<OutEdge>)> = Vec::new();
            mark[root.index()] = Mark::Open;
            stack.push((root, 0, self.out_edges(root)));
            while let Some((_, pos, succ)) = stack.last_mut() {
                if *pos < succ.len() {
                    let (e, t) = succ[*pos];
                    *pos += 1;
                    match mark[t.index()] {
                        Mark::Open => back.push(e),
                        Mark::Closed => {}
                        Mark::New => {
                            mark[t.index()] = Mark::Open;
                            let s = self.out_edges(t);
                            stack.push((t, 0, s));
                        }
                    }
                } else if let Some((node, _, _)) = stack.pop() {
                    mark[node.index()] = Mark::Closed;
                }
            }
        }
        back.sort_by_key(|e| e.index());
        let mut is_back = vec![false; self.g.edge_count()];
        for e in &back {
            is_back[e.index()] = true;
        }
        // Kahn on the DAG without back edges, smallest insertion index first.
        let mut indeg = vec![0usize; n];
        for e in self.g.edge_references() {
            if !is_back[e.id().index()] {
                indeg[e.target().index()] += 1;
            }
        }
        let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(&i) = ready.iter().next() {
            ready.remove(&i);
            order.push(NodeIndex::new(i));
            for (e, t) in self.out_edges(NodeIndex::new(i)) {
                if is_back[e.index()] {
                    continue;
                }
                indeg[t.index()] -= 1;
                if indeg[t.index()] == 0 {
                    ready.insert(t.index());
                }
            }
        }
        Schedule {
            order,
            back_edges: back,
        }
    }

    fn out_edges(&self, id: NodeId) -> Vec<(EdgeIndex<u32>, NodeId)> {
        let mut v: Vec<_> = self
            .g
            .edges_directed(id, Direction::Outgoing)
            .map(|e| (e.id(), e.target()))
            .collect();
        v.sort_by_key(|(e, _)| e.index());
        v
    }

    /// Total neurons over all neuron populations.
    pub fn neuron_count(&self) -> usize {
        self.node_ids()
            .filter_map(|i| match &self.g[i].op {
                Op::Neuron(n) => Some(n.len()),
                _ => None,
            })
            .sum()
    }
    /// Total synapses over all weighted ops.
    pub fn synapse_count(&self) -> u64 {
        self.node_ids()
            .map(|i| match self.input_fact(i) {
                Some(f) => self.g[i].op.synapse_count(&f.shape),
                None => 0,
            })
            .sum()
    }
}

impl Graph {
    /// The graph's conventions.
    pub fn conventions(&self) -> Conventions {
        let c = SpikeConvention::of(self);
        Conventions {
            dt: self.dt,
            discretization: self.discretization.name(),
            spike_convention: c.name(),
            spike_amplitude: c.amplitude(self.dt),
        }
    }
}

impl SpikeConvention {
    /// The convention a graph's source used (its metadata
    /// `spike_convention`; `step` when absent or unknown).
    pub fn of(g: &Graph) -> SpikeConvention {
        match g.meta.get(Self::META_KEY) {
            Some(Meta::Str(s)) => SpikeConvention::named(s).unwrap_or_default(),
            _ => SpikeConvention::Step,
        }
    }
}
