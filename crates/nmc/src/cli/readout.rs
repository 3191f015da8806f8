//! The readout options: the lowpass filter of linear readouts (part of
//! model loading) and the decision rule of readout outputs.

use super::Failure;
use clap::{Args, ValueEnum};
use nmc::Error;
use nmc::readout::ReadoutDecision;

/// `--readout-synapse`: applied to every float model a command loads.
#[derive(Args, Debug, Default)]
pub(crate) struct ReadoutArgs {
    /// Lowpass time constant in seconds of every linear readout (an Affine/Conv straight into an
    /// Output, run on the host from the chip's spikes): NengoDL's probe `synapse` (out_p_filt),
    /// nengo's Lowpass. Inserts an LI node `<output>.synapse` before the Output. Default: the
    /// Output node's metadata `synapse`, where a file gives one (python/nmc_nengo writes it).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) readout_synapse: Option<f64>,
}

impl ReadoutArgs {
    /// The graph with the readout synapse inserted: the option's for every
    /// linear readout, else those the Output nodes ask for in their metadata
    /// `synapse` (a nengo Probe's).
    pub(crate) fn apply(&self, g: nmc::Graph) -> Result<nmc::Graph, Failure> {
        match self.readout_synapse {
            None => nmc_quant::apply_output_synapses(&g).map_err(|e| Error::BadInput(e.to_string()).into()),
            Some(tau) => nmc_quant::insert_readout_synapse(&g, tau)
                .map_err(|e| Error::Usage(format!("--readout-synapse {tau}: {e}")).into()),
        }
    }
}

/// `--readout-decision`.
#[derive(Args, Debug, Default)]
pub(crate) struct DecisionArgs {
    /// How a readout output (a host readout or a voltage) decides its class: argmax of the value
    /// at the last step, or of its sum over time. Default: `last` for a readout filtered by a
    /// readout synapse, else `sum`. Spike-count outputs always use their counts.
    #[arg(long, value_enum)]
    readout_decision: Option<DecisionArg>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DecisionArg {
    /// Argmax of the value at the last step (NengoDL's `[:, -1]`).
    Last,
    /// Argmax of the sum over time.
    Sum,
}

impl DecisionArgs {
    /// The decision asked for (`None`: each output's default).
    pub(crate) fn decision(&self) -> Option<ReadoutDecision> {
        self.readout_decision.map(|d| match d {
            DecisionArg::Last => ReadoutDecision::Last,
            DecisionArg::Sum => ReadoutDecision::Sum,
        })
    }
}
