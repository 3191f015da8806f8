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
//!   [`Neuron::refractory`](nmc_ir::Neuron::refractory).
//!
//! Code layout: this module walks the (sub)graphs and their edges; `decode`
//! turns each node group into the op the builder will receive, `assemble`
//! builds and checks the graph (`finish`), `splice` removes subgraph ports.

mod assemble;
mod decode;
mod splice;

use super::fields::Fields;
use super::raw::{Data, Group, Item, Value};
use crate::{FrontendError, LoadOptions};
use decode::io_shape;
use nmc_ir::{Graph, Meta, NeuronModel, Op, ResetMode, Shape, Tensor};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An edge by node path: (source, destination).
type Edge = (String, String);

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
    /// Lower voltage clamp from node metadata (`−∞`: none).
    v_min: f64,
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
    use super::splice::splice;
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
