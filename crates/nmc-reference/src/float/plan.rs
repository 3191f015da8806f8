//! The compiled form of a graph: nodes in schedule order with buffer offsets
//! and per-node constants; the per-sample state; the per-sample record.

use super::kernels::{AffinePlan, ConvPlan, DelayPlan, NeuronPlan, NeuronState, PoolPlan};
use super::{Probe, ProbeKind};
use crate::error::SimError;
use bitvec::vec::BitVec;
use nmc_ir::{Graph, Op};
use std::collections::HashMap;

/// Elements of per-node state the bound below counts per output element
/// (value, scratch, previous value, a neuron's `i`, `v` and refractory
/// counter, with room to spare).
const STATE_WORDS_PER_ELEMENT: usize = 8;

/// The float reference's bound on one sample's state, in 8-byte words
/// (1 GiB): a model whose shapes or delays claim more is refused before
/// anything is allocated.
const MAX_STATE_WORDS: usize = 1 << 27;

/// What a node computes, with its constants.
pub(super) enum Kernel {
    /// Takes stimulus number `slot`.
    Input {
        slot: usize,
    },
    /// Output and Flatten: the value passes unchanged.
    Copy,
    Affine(AffinePlan),
    Scale(Vec<f64>),
    Conv(Box<ConvPlan>),
    Pool(PoolPlan),
    Threshold(Vec<f64>),
    Delay(DelayPlan),
    Neuron(Box<NeuronPlan>),
}

/// One node of the plan.
pub(super) struct PNode {
    name: String,
    /// Offset and length of its value in `State::vals`.
    off: usize,
    len: usize,
    /// Length of its (summed) input.
    in_len: usize,
    /// Offsets in `State::vals` of its forward sources (one per edge).
    fwd: Vec<usize>,
    /// Offsets in `State::prev` of its recurrent sources (one per edge).
    rec: Vec<usize>,
    kernel: Kernel,
}

/// A spiking layer or an output: where its value lives.
pub(super) struct Slot {
    pub(super) name: String,
    pub(super) model: String,
    pub(super) shape: nmc_ir::Shape,
    pub(super) off: usize,
    pub(super) len: usize,
}

/// The compiled graph.
pub(super) struct Plan {
    nodes: Vec<PNode>,
    vals_len: usize,
    prev_len: usize,
    scratch_len: usize,
    /// `(vals offset, prev offset, len)` of every source of a recurrent edge.
    prev_copies: Vec<(usize, usize, usize)>,
    /// Neuron counts of the neuron states, in state index order.
    neuron_sizes: Vec<usize>,
    /// Ring buffer sizes of the delay states, in state index order.
    delay_sizes: Vec<usize>,
    pub(super) spike_layers: Vec<Slot>,
    pub(super) outputs: Vec<Slot>,
    /// `(name, model, neurons)` of non-spiking populations.
    pub(super) non_spiking: Vec<(String, String, usize)>,
    by_name: HashMap<String, usize>,
}

/// A resolved probe.
pub(super) struct ProbePlan {
    source: ProbeSource,
    pub(super) len: usize,
}

enum ProbeSource {
    Value(usize),
    Voltage(usize),
    Current(usize),
}

impl Plan {
    /// Compiles a verified graph.
    pub(super) fn compile(graph: &Graph) -> Result<Plan, SimError> {
        let sched = graph.schedule();
        // Every size below is bounded by `layout.state`, checked before
        // anything is allocated: shapes come from files.
        let layout = Layout::of(graph, &sched)?;
        let PrevSlots {
            off: prev_off,
            copies: prev_copies,
            len: prev_len,
        } = PrevSlots::of(graph, &sched, &layout.offsets);
        let input_slots: HashMap<nmc_ir::NodeId, usize> = graph
            .input_nodes()
            .into_iter()
            .enumerate()
            .map(|(k, id)| (id, k))
            .collect();
        let mut state = layout.state;
        let mut plan = Plan {
            nodes: Vec::with_capacity(sched.order.len()),
            vals_len: layout.vals_len,
            prev_len,
            scratch_len: 0,
            prev_copies,
            neuron_sizes: Vec::new(),
            delay_sizes: Vec::new(),
            spike_layers: Vec::new(),
            outputs: Vec::new(),
            non_spiking: Vec::new(),
            by_name: HashMap::new(),
        };
        for &id in &sched.order {
            let node = graph.node(id);
            let len = node.out.shape.numel();
            let off = layout.offsets.get(&id).copied().unwrap_or(0);
            let in_shape = graph.input_fact(id).map(|f| f.shape.clone()).unwrap_or_default();
            let in_len = if matches!(node.op, Op::Input { .. }) {
                0
            } else {
                in_shape.numel()
            };
            plan.scratch_len = plan.scratch_len.max(in_len);
            let (fwd, rec) = sources(graph, &sched, id, &layout.offsets, &prev_off);
            let kernel = plan.kernel(graph, id, off, &in_shape, &input_slots, &mut state)?;
            plan.by_name.insert(node.name.clone(), plan.nodes.len());
            plan.nodes.push(PNode {
                name: node.name.clone(),
                off,
                len,
                in_len,
                fwd,
                rec,
                kernel,
            });
        }
        Ok(plan)
    }

    /// The kernel of node `id` (its value at `off`, its summed input of
    /// shape `in_shape`), listing it among the spiking layers, outputs,
    /// non-spiking populations, neuron or delay states as it is one.
    /// `state` is the state bound's running sum.
    fn kernel(
        &mut self,
        graph: &Graph,
        id: nmc_ir::NodeId,
        off: usize,
        in_shape: &nmc_ir::Shape,
        input_slots: &HashMap<nmc_ir::NodeId, usize>,
        state: &mut usize,
    ) -> Result<Kernel, SimError> {
        let node = graph.node(id);
        let len = node.out.shape.numel();
        let slot = |model: &str| Slot {
            name: node.name.clone(),
            model: model.to_string(),
            shape: node.out.shape.clone(),
            off,
            len,
        };
        Ok(match &node.op {
            Op::Input { .. } => Kernel::Input {
                slot: input_slots.get(&id).copied().unwrap_or(0),
            },
            Op::Output { .. } => {
                self.outputs.push(slot("Output"));
                Kernel::Copy
            }
            Op::Flatten { .. } => Kernel::Copy,
            Op::Affine { weight, bias } => Kernel::Affine(AffinePlan::new(weight, bias.as_ref())),
            Op::Scale { scale } => Kernel::Scale(broadcast(scale, len)),
            Op::Threshold { threshold } => {
                self.spike_layers.push(slot("Threshold"));
                Kernel::Threshold(broadcast(threshold, len))
            }
            Op::Conv {
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => Kernel::Conv(Box::new(ConvPlan::new(
                weight,
                bias.as_ref(),
                stride,
                padding,
                dilation,
                *groups,
                in_shape.dims(),
                node.out.shape.dims(),
            ))),
            Op::Pool2d {
                kind,
                kernel,
                stride,
                padding,
            } => Kernel::Pool(PoolPlan::new(
                *kind,
                *kernel,
                *stride,
                *padding,
                in_shape.dims(),
                node.out.shape.dims(),
            )),
            Op::Delay { delay } => self.delay(node, delay, graph.dt, state)?,
            Op::Neuron(n) => {
                if n.model.spikes() {
                    self.spike_layers.push(slot(n.model.nir_name()));
                } else {
                    self.non_spiking
                        .push((node.name.clone(), n.model.nir_name().to_string(), len));
                }
                let p = NeuronPlan::new(n, graph.dt, graph.discretization, self.neuron_sizes.len());
                self.neuron_sizes.push(len);
                Kernel::Neuron(Box::new(p))
            }
        })
    }

    /// The kernel of delay node `node` and its ring buffer, counted into
    /// the state bound's running sum `state`.
    fn delay(
        &mut self,
        node: &nmc_ir::Node,
        delay: &nmc_ir::Tensor,
        dt: f64,
        state: &mut usize,
    ) -> Result<Kernel, SimError> {
        let len = node.out.shape.numel();
        let p = DelayPlan::new(&node.name, &broadcast(delay, len), dt, self.delay_sizes.len())?;
        let ring = p.ring.saturating_mul(len);
        *state = state.saturating_add(ring);
        if *state > MAX_STATE_WORDS {
            return Err(SimError::TooLarge {
                node: node.name.clone(),
                field: "delay",
                message: format!(
                    "a delay line of {} steps × {len} elements is over the float reference's \
                     {} MiB state bound",
                    p.ring - 1,
                    (MAX_STATE_WORDS * 8) >> 20
                ),
            });
        }
        self.delay_sizes.push(ring);
        Ok(Kernel::Delay(p))
    }

    /// Resolves a probe against the plan.
    pub(super) fn probe(&self, p: &Probe) -> Result<ProbePlan, SimError> {
        let err = |message: String| SimError::Probe {
            node: p.node.clone(),
            message,
        };
        let Some(&k) = self.by_name.get(&p.node) else {
            return Err(err("no node of that name".into()));
        };
        let node = &self.nodes[k];
        let source = match (p.kind, &node.kernel) {
            (ProbeKind::Value, _) => ProbeSource::Value(node.off),
            (ProbeKind::Voltage, Kernel::Neuron(n)) => ProbeSource::Voltage(n.state),
            (ProbeKind::Current, Kernel::Neuron(n)) => ProbeSource::Current(n.state),
            (kind, _) => {
                return Err(err(format!(
                    "{} can only be probed on a neuron population",
                    kind.name()
                )));
            }
        };
        Ok(ProbePlan { source, len: node.len })
    }
}

fn broadcast(t: &nmc_ir::Tensor, n: usize) -> Vec<f64> {
    t.broadcast_to(n).unwrap_or_else(|| vec![0.0; n])
}

/// Where every node's value lives in `State::vals`.
struct Layout {
    offsets: HashMap<nmc_ir::NodeId, usize>,
    vals_len: usize,
    /// The state bound's running sum over all nodes (delay rings come later).
    state: usize,
}

impl Layout {
    /// Lays the values out in schedule order, refusing a model whose shapes
    /// claim more state than [`MAX_STATE_WORDS`].
    fn of(graph: &Graph, sched: &nmc_ir::Schedule) -> Result<Layout, SimError> {
        let mut offsets: HashMap<nmc_ir::NodeId, usize> = HashMap::new();
        let mut off = 0usize;
        let mut state = 0usize;
        for &id in &sched.order {
            let node = graph.node(id);
            offsets.insert(id, off);
            let n = node.out.shape.numel();
            // Values, scratch, previous values and a neuron's i, v and
            // refractory counter: a generous bound on the per-element state.
            state = state.saturating_add(n.saturating_mul(STATE_WORDS_PER_ELEMENT));
            if state > MAX_STATE_WORDS {
                return Err(SimError::TooLarge {
                    node: node.name.clone(),
                    field: "shape",
                    message: format!(
                        "the float reference would hold more than {} MiB of state up to this node (shape {}); \
                         the model's shapes claim more than a simulation can hold",
                        (MAX_STATE_WORDS * 8) >> 20,
                        node.out.shape
                    ),
                });
            }
            off += n;
        }
        Ok(Layout {
            offsets,
            vals_len: off,
            state,
        })
    }
}

/// The `State::prev` slots of the sources of recurrent edges.
struct PrevSlots {
    /// Offset in `State::prev` of each such source.
    off: HashMap<nmc_ir::NodeId, usize>,
    /// `(vals offset, prev offset, len)` of each such source.
    copies: Vec<(usize, usize, usize)>,
    len: usize,
}

impl PrevSlots {
    /// One slot per source of a back edge, in back edge order.
    fn of(graph: &Graph, sched: &nmc_ir::Schedule, offsets: &HashMap<nmc_ir::NodeId, usize>) -> PrevSlots {
        let mut prev_off: HashMap<nmc_ir::NodeId, usize> = HashMap::new();
        let mut prev_copies = Vec::new();
        let mut prev_len = 0;
        for &e in &sched.back_edges {
            if let Some((s, _)) = graph.edge_endpoints(e)
                && !prev_off.contains_key(&s)
            {
                let len = graph.node(s).out.shape.numel();
                prev_off.insert(s, prev_len);
                prev_copies.push((offsets.get(&s).copied().unwrap_or(0), prev_len, len));
                prev_len += len;
            }
        }
        PrevSlots {
            off: prev_off,
            copies: prev_copies,
            len: prev_len,
        }
    }
}

/// The offsets of node `id`'s sources: forward ones in `State::vals`,
/// recurrent ones in `State::prev`, in edge order.
fn sources(
    graph: &Graph,
    sched: &nmc_ir::Schedule,
    id: nmc_ir::NodeId,
    offsets: &HashMap<nmc_ir::NodeId, usize>,
    prev_off: &HashMap<nmc_ir::NodeId, usize>,
) -> (Vec<usize>, Vec<usize>) {
    let mut fwd = Vec::new();
    let mut rec = Vec::new();
    for (e, s) in graph.inputs(id) {
        if sched.back_edges.contains(&e) {
            rec.push(prev_off.get(&s).copied().unwrap_or(0));
        } else {
            fwd.push(offsets.get(&s).copied().unwrap_or(0));
        }
    }
    (fwd, rec)
}

/// All mutable state of one sample, preallocated.
pub(super) struct State {
    vals: Vec<f64>,
    prev: Vec<f64>,
    scratch: Vec<f64>,
    neurons: Vec<NeuronState>,
    delays: Vec<Vec<f64>>,
}

impl State {
    pub(super) fn new(plan: &Plan) -> State {
        State {
            vals: vec![0.0; plan.vals_len],
            prev: vec![0.0; plan.prev_len],
            scratch: vec![0.0; plan.scratch_len],
            neurons: plan.neuron_sizes.iter().map(|&n| NeuronState::new(n)).collect(),
            delays: plan.delay_sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Advances one step. `inputs[k]` is stimulus `k` of this sample:
    /// `(steps × features data, steps, features)`.
    pub(super) fn step(&mut self, plan: &Plan, t: usize, inputs: &[(&[f64], usize, usize)]) {
        let State {
            vals,
            prev,
            scratch,
            neurons,
            delays,
        } = self;
        for &(vo, po, len) in &plan.prev_copies {
            prev[po..po + len].copy_from_slice(&vals[vo..vo + len]);
        }
        for node in &plan.nodes {
            let n_in = node.in_len;
            let x = &mut scratch[..n_in];
            if !matches!(node.kernel, Kernel::Input { .. }) {
                x.fill(0.0);
                for &o in &node.fwd {
                    add_into(x, &vals[o..o + n_in]);
                }
                for &o in &node.rec {
                    add_into(x, &prev[o..o + n_in]);
                }
            }
            let x = &*x;
            let out = &mut vals[node.off..node.off + node.len];
            match &node.kernel {
                Kernel::Input { slot } => {
                    if let Some(&(data, steps, f)) = inputs.get(*slot) {
                        let row = (t % steps) * f;
                        out.copy_from_slice(&data[row..row + f]);
                    }
                }
                Kernel::Copy => out.copy_from_slice(x),
                Kernel::Affine(p) => p.run(x, out),
                Kernel::Scale(s) => {
                    for ((o, &xi), &si) in out.iter_mut().zip(x).zip(s) {
                        *o = si * xi;
                    }
                }
                Kernel::Threshold(th) => {
                    for ((o, &xi), &ti) in out.iter_mut().zip(x).zip(th) {
                        *o = if xi > ti { 1.0 } else { 0.0 };
                    }
                }
                Kernel::Conv(p) => p.run(x, out),
                Kernel::Pool(p) => p.run(x, out),
                Kernel::Delay(p) => p.run(t, x, out, &mut delays[p.state]),
                Kernel::Neuron(p) => p.run(x, out, &mut neurons[p.state]),
            }
        }
    }
}

#[inline]
fn add_into(acc: &mut [f64], src: &[f64]) {
    for (a, &s) in acc.iter_mut().zip(src) {
        *a += s;
    }
}

/// What one sample recorded: per spiking layer `steps × n` bits, per output
/// and probe `steps × len` values.
pub(super) struct Record {
    pub(super) spikes: Vec<BitVec>,
    pub(super) outputs: Vec<Vec<f64>>,
    pub(super) probes: Vec<Vec<f64>>,
}

impl Record {
    pub(super) fn new(plan: &Plan, steps: usize, probes: &[ProbePlan]) -> Record {
        Record {
            spikes: plan
                .spike_layers
                .iter()
                .map(|l| BitVec::repeat(false, steps * l.len))
                .collect(),
            outputs: plan.outputs.iter().map(|o| vec![0.0; steps * o.len]).collect(),
            probes: probes.iter().map(|p| vec![0.0; steps * p.len]).collect(),
        }
    }

    /// Copies what step `t` produced.
    pub(super) fn capture(&mut self, plan: &Plan, st: &State, t: usize, probes: &[ProbePlan]) {
        for (bits, l) in self.spikes.iter_mut().zip(&plan.spike_layers) {
            let vals = &st.vals[l.off..l.off + l.len];
            let base = t * l.len;
            for (i, &v) in vals.iter().enumerate() {
                if v != 0.0 {
                    bits.set(base + i, true);
                }
            }
        }
        for (buf, o) in self.outputs.iter_mut().zip(&plan.outputs) {
            buf[t * o.len..(t + 1) * o.len].copy_from_slice(&st.vals[o.off..o.off + o.len]);
        }
        for (buf, p) in self.probes.iter_mut().zip(probes) {
            let src: &[f64] = match p.source {
                ProbeSource::Value(off) => &st.vals[off..off + p.len],
                ProbeSource::Voltage(s) => &st.neurons[s].v,
                ProbeSource::Current(s) => &st.neurons[s].i,
            };
            buf[t * p.len..(t + 1) * p.len].copy_from_slice(src);
        }
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        f.debug_struct("Plan").field("order", &names).finish_non_exhaustive()
    }
}
