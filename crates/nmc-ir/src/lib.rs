//! # nmc-ir — the typed dataflow graph of a spiking network
//!
//! Every stage of nmc speaks this IR: frontends build it, the reference
//! simulators run it, quantization rewrites it, partitioning annotates it
//! with side tables. The full semantics are in `docs/ir.md`; in short:
//!
//! - A [`Graph`] is a petgraph `DiGraph` of [`Node`]s. Each node has a
//!   unique name (a `.`-path for nodes inlined from nested NIR subgraphs),
//!   an [`Op`], metadata and the [`Fact`] (shape + [`Format`]) of the value
//!   it produces each step. Every edge carries its source's fact.
//! - Time is discrete with step [`Graph::dt`] seconds (default 1 ms; NIR has
//!   no dt). In one step every node updates once, in [`Graph::schedule`]
//!   order: a topological order of the graph without its recurrent (back)
//!   edges. A value produced at step `t` reaches its successors **in the
//!   same step `t`** along forward edges, and at step `t + 1` along
//!   recurrent edges.
//! - All inputs of a node are summed. Weighted ops (Affine, Conv, Scale)
//!   are linear and stateless; neuron populations ([`Neuron`]) and delays are
//!   the only state.
//! - Neuron updates (exact discretization, input `x[t]` held over the step,
//!   `α = e^{−dt/τ}`): synaptic current `i[t] = α_s·i[t−1] + (1−α_s)·w_in·x[t]`
//!   (CubaLI/CubaLIF; otherwise `i[t] = x[t]`), membrane
//!   `v[t] = α_m·v[t−1] + (1−α_m)·(v_leak + r·i[t])` (LI/LIF/Cuba*),
//!   `v[t] = v[t−1] + r·i[t]` (I/IF: charge per step). A spiking neuron
//!   spikes at step `t` when `v[t] > v_threshold`, then resets
//!   (`v ← v_reset`, or `v ← v − v_threshold` for subtractive reset).
//!
//! After quantization the network is a [`qmodel::QModel`]: integer
//! compartments and connections with chip timing (see that module).
//!
//! The [`GraphBuilder`] infers facts when nodes are wired and rejects shape
//! mismatches naming node and field; [`verify()`] re-checks every invariant
//! after a pass.

pub mod amplitude;
mod conventions;
mod dump;
mod fact;
mod float_step;
mod graph;
mod op;
pub mod qmodel;
mod tensor;
mod verify;

pub use conventions::{Conventions, Discretization, SpikeConvention};
pub use dump::{num, op_params, summary};
pub use fact::{Fact, Format, Shape};
pub use graph::{BuildError, DEFAULT_DT, Graph, GraphBuilder, Meta, Node, NodeId, Schedule};
pub use op::{Neuron, NeuronModel, Op, OpError, PoolKind, ResetMode};
pub use tensor::{Tensor, TensorShapeError};
pub use verify::{VerifyError, algebraic_loops, verify};
