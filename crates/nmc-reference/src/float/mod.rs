//! The float simulator: `f64` everywhere, the IR semantics of the crate doc.
//!
//! [`simulate`] compiles the graph once into a plan (schedule order, buffer
//! offsets, per-node constants such as decays, gains, transposed weights and
//! convolution tap tables), then runs every sample of the batch with its own
//! preallocated state; the per-step loop does not allocate. Samples run in
//! parallel on the rayon pool; each sample's result depends only on its
//! input, so results are identical for any number of threads.

mod kernels;
mod plan;

pub use kernels::decay_gain;

use crate::error::SimError;
pub use crate::probe::{Probe, ProbeKind};
use crate::rates::NonSpiking;
use crate::result::{LayerSpikes, OutputTrace, ProbeTrace, SimResult};
use crate::stimulus::{SimOptions, Stimulus};
use bitvec::vec::BitVec;
use ndarray::Array3;
use nmc_ir::Graph;
use plan::{Plan, State};
use rayon::prelude::*;

/// Runs `graph` on `stim` (the graph must have exactly one Input node) for
/// `opts.steps` steps (default: the stimulus's time axis). See the crate doc
/// for the exact semantics.
pub fn simulate(graph: &Graph, stim: &Stimulus, opts: &SimOptions) -> Result<SimResult, SimError> {
    simulate_with(graph, &[stim], opts, &[])
}

/// Runs `graph` with one stimulus per Input node (in
/// [`Graph::input_nodes`] order, all with the same batch), recording the
/// given probes. Each input is tiled or truncated to the run length
/// independently; the default run length is the longest input's time axis.
pub fn simulate_with(
    graph: &Graph,
    stims: &[&Stimulus],
    opts: &SimOptions,
    probes: &[Probe],
) -> Result<SimResult, SimError> {
    nmc_ir::verify(graph).map_err(|errors| SimError::InvalidGraph {
        graph: graph.name.clone(),
        errors,
    })?;
    let plan = Plan::compile(graph)?;
    let input_ids = graph.input_nodes();
    if stims.len() != input_ids.len() {
        return Err(SimError::InputCount {
            graph: graph.name.clone(),
            expected: input_ids.len(),
            names: input_ids
                .iter()
                .map(|&i| format!("`{}`", graph.node(i).name))
                .collect::<Vec<_>>()
                .join(", "),
            got: stims.len(),
        });
    }
    let mut batch = 0;
    for (k, (&id, s)) in input_ids.iter().zip(stims).enumerate() {
        let node = graph.node(id);
        if s.features() != node.out.shape.numel() {
            return Err(SimError::FeatureMismatch {
                input: node.name.clone(),
                expected: node.out.shape.clone(),
                got: s.features(),
            });
        }
        if k == 0 {
            batch = s.batch();
        } else if s.batch() != batch {
            return Err(SimError::BatchMismatch {
                input: node.name.clone(),
                expected: batch,
                got: s.batch(),
            });
        }
    }
    let steps = match opts.steps {
        Some(s) => s,
        None => stims.iter().map(|s| s.steps()).max().unwrap_or(0),
    };
    if steps == 0 {
        return Err(SimError::Empty("nothing to simulate: the number of steps is 0".into()));
    }
    if batch == 0 {
        return Err(SimError::Empty("nothing to simulate: the batch is empty".into()));
    }
    let probe_plan = probes.iter().map(|p| plan.probe(p)).collect::<Result<Vec<_>, _>>()?;

    let records: Vec<plan::Record> = (0..batch)
        .into_par_iter()
        .map(|b| {
            let inputs: Vec<(&[f64], usize, usize)> =
                stims.iter().map(|s| (s.sample(b), s.steps(), s.features())).collect();
            let mut state = State::new(&plan);
            let mut rec = plan::Record::new(&plan, steps, &probe_plan);
            for t in 0..steps {
                state.step(&plan, t, &inputs);
                rec.capture(&plan, &state, t, &probe_plan);
            }
            rec
        })
        .collect();

    let layers = plan
        .spike_layers
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let mut spikes = BitVec::with_capacity(batch * steps * l.len);
            for r in &records {
                spikes.extend_from_bitslice(&r.spikes[k]);
            }
            LayerSpikes {
                name: l.name.clone(),
                model: l.model.clone(),
                shape: l.shape.clone(),
                batch,
                steps,
                spikes,
            }
        })
        .collect();
    let gather = |len: usize, pick: &dyn Fn(&plan::Record) -> &[f64]| -> Array3<f64> {
        let mut data = Vec::with_capacity(batch * steps * len);
        for r in &records {
            data.extend_from_slice(pick(r));
        }
        Array3::from_shape_vec((batch, steps, len), data).unwrap_or_else(|_| Array3::zeros((batch, steps, len)))
    };
    let outputs = plan
        .outputs
        .iter()
        .enumerate()
        .map(|(k, o)| OutputTrace {
            name: o.name.clone(),
            values: gather(o.len, &|r| &r.outputs[k]),
        })
        .collect();
    let probes = probes
        .iter()
        .zip(&probe_plan)
        .enumerate()
        .map(|(k, (p, pp))| ProbeTrace {
            node: p.node.clone(),
            kind: p.kind,
            values: gather(pp.len, &|r| &r.probes[k]),
        })
        .collect();
    let non_spiking = plan
        .non_spiking
        .iter()
        .map(|(name, model, neurons)| NonSpiking {
            name: name.clone(),
            model: model.clone(),
            neurons: *neurons,
        })
        .collect();
    Ok(SimResult {
        dt: graph.dt,
        steps,
        batch,
        layers,
        outputs,
        non_spiking,
        probes,
    })
}
