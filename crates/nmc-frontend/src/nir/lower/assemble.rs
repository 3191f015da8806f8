//! Graph assembly: subgraph ports spliced out, the time step, population
//! shapes resolved (learned from a probe build when only the incoming value
//! fixes them), the IR graph built, then declared shapes, port shapes and
//! loops checked.

use super::splice::splice;
use super::{Edge, InputCheck, Lowerer, NeuronSpec, PendingNode, PendingOp, Port};
use crate::FrontendError;
use nmc_ir::{
    BuildError, DEFAULT_DT, Discretization, Graph, GraphBuilder, Meta, Neuron, Op, OpError, Shape, SpikeConvention,
    Tensor,
};

/// `a`, `b` or `c`, for messages.
fn names(all: &[&str]) -> String {
    all.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
use std::collections::{BTreeMap, HashMap};

/// A node as the graph builder takes it.
type IrNode = (String, Op, BTreeMap<String, Meta>);

/// Declared-input checks by node name.
type Checks = Vec<(String, InputCheck)>;

impl Lowerer<'_> {
    /// Splices out ports, resolves population shapes, builds and checks.
    pub(super) fn finish(self) -> Result<Graph, FrontendError> {
        let file = self.file;
        let (edges, port_sources) = splice(&self.edges, &self.ports);
        check_ports_fed(file, &self.ports, &port_sources)?;
        let dt = self.time_step()?;
        let convention = self.spike_convention()?;
        let name = std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string());
        let asm = Assembly {
            file,
            name,
            dt,
            disc: self.discretization()?,
            graph_meta: &self.graph_meta,
            edges: &edges,
            affine_shapes: affine_shapes(&self.nodes),
        };
        let learned = learn_shapes(&asm, &self.nodes)?;
        let (ops, checks) = resolve(file, self.nodes, &learned, self.budget)?;
        let graph = asm.build(ops)?;
        let graph_ids = ids(&graph);
        check_inputs(file, &graph, &graph_ids, checks)?;
        check_ports(file, &graph, &graph_ids, &self.ports, &port_sources)?;
        nmc_ir::verify(&graph).map_err(|errors| FrontendError::Verify {
            file: file.to_string(),
            errors,
        })?;
        check_algebraic_loops(file, &graph)?;
        fold_spike_convention(file, graph, convention)
    }

    /// The discretization: the options', else the graph metadata
    /// `discretization` (`exact`, `euler` or `nengo`), else the default.
    fn discretization(&self) -> Result<Discretization, FrontendError> {
        if let Some(d) = self.opts.discretization {
            return Ok(d);
        }
        match self.graph_meta.get("discretization") {
            None => Ok(Discretization::default()),
            Some(Meta::Str(s)) => Discretization::named(s).ok_or_else(|| {
                FrontendError::nir(
                    self.file,
                    None,
                    Some("metadata.discretization"),
                    format!(
                        "unknown discretization {s:?}; expected one of {}",
                        names(&Discretization::ALL.map(|d| d.name()))
                    ),
                )
            }),
            Some(other) => Err(FrontendError::nir(
                self.file,
                None,
                Some("metadata.discretization"),
                format!("expected a string, got {other}"),
            )),
        }
    }

    /// The spike convention: the options', else the graph metadata
    /// `spike_convention` (`step` or `impulse`), else `step`.
    fn spike_convention(&self) -> Result<SpikeConvention, FrontendError> {
        if let Some(c) = self.opts.spike_convention {
            return Ok(c);
        }
        let field = Some("metadata.spike_convention");
        match self.graph_meta.get(SpikeConvention::META_KEY) {
            None => Ok(SpikeConvention::Step),
            Some(Meta::Str(s)) => SpikeConvention::named(s).ok_or_else(|| {
                FrontendError::nir(
                    self.file,
                    None,
                    field,
                    format!(
                        "unknown spike convention {s:?}; expected one of {} (a spike is one unit in its step, \
                         or a unit-area impulse of height 1/dt as in nengo)",
                        names(&SpikeConvention::ALL.map(|c| c.name()))
                    ),
                )
            }),
            Some(other) => Err(FrontendError::nir(
                self.file,
                None,
                field,
                format!("expected a string (`step` or `impulse`), got {other}"),
            )),
        }
    }

    /// The time step: the options' `dt`, else the graph metadata `dt`, else
    /// the default; it must be a positive number of seconds.
    fn time_step(&self) -> Result<f64, FrontendError> {
        let file = self.file;
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
        Ok(dt)
    }
}

/// Folds an impulse file's spike height `1/dt` into the weights that
/// read the spikes (the IR's spikes are 1; docs/ir.md, "Spike
/// convention"), and records the file's convention in the graph
/// metadata `spike_convention`.
fn fold_spike_convention(file: &str, graph: Graph, conv: SpikeConvention) -> Result<Graph, FrontendError> {
    let (mut graph, _) = nmc_ir::amplitude::scale_spike_amplitude(&graph, conv.amplitude(graph.dt), "impulse")
        .map_err(|source| FrontendError::Build {
            file: file.to_string(),
            source: Box::new(source),
            hint: None,
        })?;
    // Recorded when the file or the options said it (absent means step).
    if conv != SpikeConvention::Step || graph.meta.contains_key(SpikeConvention::META_KEY) {
        graph
            .meta
            .insert(SpikeConvention::META_KEY.into(), Meta::Str(conv.name().into()));
    }
    Ok(graph)
}

/// Every port must receive a value.
fn check_ports_fed(
    file: &str,
    ports: &BTreeMap<String, Port>,
    port_sources: &BTreeMap<String, Vec<String>>,
) -> Result<(), FrontendError> {
    for (path, port) in ports {
        if port_sources.get(path).is_none_or(Vec::is_empty) {
            let what = if port.is_input {
                "the subgraph's Input node receives no edge in the enclosing graph"
            } else {
                "the subgraph's Output node receives no edge inside the subgraph"
            };
            return Err(FrontendError::nir(file, Some(path), Some("edges"), what));
        }
    }
    Ok(())
}

/// Weight dims of every Affine/Linear node, for [`transposed_hint`].
fn affine_shapes(nodes: &[PendingNode]) -> HashMap<String, Vec<usize>> {
    nodes
        .iter()
        .filter_map(|n| match &n.op {
            PendingOp::Ready(Op::Affine { weight, .. }) => Some((n.name.clone(), weight.shape().dims().to_vec())),
            _ => None,
        })
        .collect()
}

/// What every build of the graph shares: name, time step, discretization,
/// graph metadata and edges.
struct Assembly<'a> {
    file: &'a str,
    name: String,
    dt: f64,
    disc: Discretization,
    graph_meta: &'a BTreeMap<String, Meta>,
    edges: &'a [Edge],
    affine_shapes: HashMap<String, Vec<usize>>,
}

impl Assembly<'_> {
    /// Builds the graph of these nodes.
    fn build(&self, ops: Vec<IrNode>) -> Result<Graph, FrontendError> {
        let file = self.file;
        let wrap = |source: BuildError| {
            let hint = transposed_hint(&source, &self.affine_shapes);
            FrontendError::Build {
                file: file.to_string(),
                source: Box::new(source),
                hint,
            }
        };
        let mut b = GraphBuilder::new(self.name.clone());
        b.dt(self.dt).discretization(self.disc);
        for (k, v) in self.graph_meta {
            b.meta(k.clone(), v.clone());
        }
        for (n, op, meta) in ops {
            b.node(n, op, meta).map_err(wrap)?;
        }
        for (s, d) in self.edges {
            b.edge(s.clone(), d.clone());
        }
        b.build().map_err(wrap)
    }
}

/// Neuron populations whose parameters are all single values take their
/// shape from their input: build once with a shape-preserving stand-in (a
/// unit Scale) to learn it.
fn learn_shapes(asm: &Assembly<'_>, nodes: &[PendingNode]) -> Result<HashMap<String, Shape>, FrontendError> {
    let mut learned: HashMap<String, Shape> = HashMap::new();
    if nodes
        .iter()
        .any(|n| matches!(&n.op, PendingOp::Neuron(s) if s.shape.is_none()))
    {
        let probe_ops = nodes
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
        let probe = asm.build(probe_ops)?;
        let probe_ids = ids(&probe);
        for n in nodes {
            if let PendingOp::Neuron(NeuronSpec { shape: None, .. }) = &n.op
                && let Some(fact) = probe_ids.get(n.name.as_str()).and_then(|&id| probe.input_fact(id))
            {
                learned.insert(n.name.clone(), fact.shape.clone());
            }
        }
    }
    Ok(learned)
}

/// The ops for the final build (populations at their resolved shape,
/// charged to the decode budget) and the declared-input checks.
fn resolve(
    file: &str,
    nodes: Vec<PendingNode>,
    learned: &HashMap<String, Shape>,
    mut budget: u64,
) -> Result<(Vec<IrNode>, Checks), FrontendError> {
    let mut ops = Vec::with_capacity(nodes.len());
    let mut checks = Vec::new();
    for n in nodes {
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
    Ok((ops, checks))
}

/// Declared input shapes (Flatten `input_type`, Conv `input_shape`) against
/// the values that arrive.
fn check_inputs(
    file: &str,
    graph: &Graph,
    graph_ids: &HashMap<&str, nmc_ir::NodeId>,
    checks: Checks,
) -> Result<(), FrontendError> {
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
    Ok(())
}

/// Subgraph ports: the values flowing through them must match.
fn check_ports(
    file: &str,
    graph: &Graph,
    graph_ids: &HashMap<&str, nmc_ir::NodeId>,
    ports: &BTreeMap<String, Port>,
    port_sources: &BTreeMap<String, Vec<String>>,
) -> Result<(), FrontendError> {
    for (path, port) in ports {
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
    Ok(())
}

/// NIR is continuous-time: a loop with no neuron or delay on it is an
/// algebraic loop, not a one-step-late recurrence.
fn check_algebraic_loops(file: &str, graph: &Graph) -> Result<(), FrontendError> {
    if let Some(cycle) = nmc_ir::algebraic_loops(graph).first() {
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
    Ok(())
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
    n.v_min = spec.v_min;
    Ok(n)
}
