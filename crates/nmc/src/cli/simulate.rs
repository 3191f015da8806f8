//! `nmc simulate`: the float reference (or a quantized model's fixed-point
//! reference) on an input file or on recorded host-layer spikes.

use super::args::LoadArgs;
use super::files::Files;
use super::{Failure, one_input, print_report};
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc simulate`; its help text is the doc comment of
// `Cmd::Simulate` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct SimulateArgs {
    /// Model file (.nir).
    pub(crate) model: PathBuf,
    /// Input array (.npy/.npz): (steps, features), (batch, steps, features), or with the
    /// model's input shape as trailing dimensions, e.g. (steps, 2, 34, 34).
    #[arg(long, required_unless_present = "input_spikes", conflicts_with = "input_spikes")]
    input: Option<PathBuf>,
    /// Recorded spikes of the host layer (.npy/.npz, 0/1, (batch, steps, *layer shape)) in place
    /// of --input: the network after that layer runs on them. A quantized model names its host
    /// layer; for a float model name it with --host-layer.
    #[arg(long, value_name = "FILE")]
    input_spikes: Option<PathBuf>,
    /// With --input-spikes on a float model: the neuron population the spikes are the output of
    /// (the host encoder; `nmc quantize` and the partition report name it).
    #[arg(long, value_name = "NODE", requires = "input_spikes")]
    host_layer: Option<String>,
    /// Presentation time in steps: the input's time axis is repeated (or truncated) to N steps.
    #[arg(long)]
    steps: Option<usize>,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    decision: super::readout::DecisionArgs,
    /// Write per-layer spikes and output traces to this .npz file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Labels (.npy, one integer class per batch item): report the accuracy of the
    /// output's argmax of spike counts.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Print the stable JSON report (schema nmc.simulate/1) instead of a table.
    #[arg(long)]
    json: bool,
    /// Quantized models (.q.ron, run by the fixed-point reference): any wrap of q or u, or clip
    /// of v, is an error naming layer, neuron, step and register (exit 6). Without it
    /// overflows are counted per layer.
    #[arg(long)]
    strict: bool,
}

impl SimulateArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let SimulateArgs {
            model,
            input,
            input_spikes,
            host_layer,
            steps,
            load,
            decision,
            out,
            labels,
            json,
            strict,
        } = self;
        let (input, host_spikes) = one_input(input.as_ref(), input_spikes.as_ref())?;
        let g = match load.any(&model)? {
            nmc::pipeline::AnyModel::Float(g) => g,
            nmc::pipeline::AnyModel::Quant(q) => {
                let t = nmc_target::Target::load(&q.target).map_err(|e| {
                    Error::BadInput(format!(
                        "{}: the quantized model names target `{}`: {e}",
                        model.display(),
                        q.target
                    ))
                })?;
                let q = if host_spikes {
                    let shape = nmc::pipeline::host_shape(&q, &input)?;
                    nmc::pipeline::check_spike_file(&input, &shape)?;
                    Box::new(
                        q.with_host_spikes_input()
                            .map_err(|e| Error::Usage(format!("--input-spikes {}: {e}", input.display())))?,
                    )
                } else {
                    q
                };
                let r = nmc::pipeline::simulate_fixed_file(
                    &q,
                    &t,
                    &input,
                    steps,
                    labels.as_deref(),
                    strict,
                    out.as_deref(),
                )?;
                print_report(json, &r)?;
                return Ok(());
            }
            nmc::pipeline::AnyModel::Artifact(_) => {
                return Err(Error::Usage(format!("{}: an artifact runs with `nmc emulate`", model.display())).into());
            }
        };
        if strict {
            return Err(Error::Usage(
                "--strict checks integer registers: give a quantized model (.q.ron from `nmc quantize`), \
                 or use `nmc verify --strict` / `nmc emulate --strict`; the float reference has no registers"
                    .into(),
            )
            .into());
        }
        let g = match (host_spikes, &host_layer) {
            (false, _) => g,
            (true, None) => {
                return Err(Error::Usage(format!(
                    "--input-spikes {}: a float model does not say which layer is its host encoder; \
                     name the layer the spikes come from with --host-layer NODE",
                    input.display()
                ))
                .into());
            }
            (true, Some(node)) => {
                let cut = g.with_input_at(node).map_err(|m| {
                    Error::Usage(format!("--input-spikes {} --host-layer {node}: {m}", input.display()))
                })?;
                nmc::pipeline::check_spike_file(&input, &nmc::simulate::input_shape_of(&cut))?;
                Box::new(cut)
            }
        };
        let report = nmc::simulate::run(
            &g,
            &input,
            steps,
            out.as_deref(),
            labels.as_deref(),
            decision.decision(),
        )?;
        print_report(json, &report)?;
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([
            Some(self.model.as_path()),
            self.input.as_deref(),
            self.input_spikes.as_deref(),
            self.labels.as_deref(),
        ]);
        f.load(&self.load);
        f.write("--out", self.out.as_deref());
    }
}
