//! The argument groups several commands share: model loading (`--dt`,
//! ONNX conversion), the target, quantization, and the checks of an integer
//! run.

use super::Failure;
use super::output::note;
use clap::{Args, ValueEnum};
use nmc::{Error, LoadOptions};
use nmc_ir::{Discretization, ResetMode};
use std::path::PathBuf;

/// The checks of an integer run a CI job relies on (`emulate`, `verify`).
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Any wrap of q or u, or clip of v, in an integer run (fixed reference or emulator) is an
    /// error naming layer, neuron, step and register (exit 6). Without it overflows are counted
    /// per layer.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Compare every emulated spike (every layer, sample and step) with this golden spike file;
    /// exit 5 if any differs.
    #[arg(long, value_name = "GOLDEN.nmcs")]
    pub(crate) expect: Option<PathBuf>,
    /// With --expect: write the golden file from this run instead of comparing.
    #[arg(long, requires = "expect")]
    pub(crate) bless: bool,
}

#[derive(Args, Debug)]
pub(crate) struct LoadArgs {
    /// Time step in seconds (NIR has none; default: the file's metadata `dt`, else 0.001).
    #[arg(long)]
    dt: Option<f64>,
    /// How neuron ODEs become per-step updates (default: the file's metadata `discretization`,
    /// else exact).
    #[arg(long, value_enum)]
    discretization: Option<DiscArg>,
    /// What one spike is worth to the weights that read it: `step` (one unit in its step:
    /// snnTorch, Sinabs, Norse, Lava) or `impulse` (a unit-area impulse of height 1/dt: nengo,
    /// NengoDL). Default: the file's metadata `spike_convention`, else step.
    #[arg(long, value_enum, value_name = "CONVENTION")]
    spike_convention: Option<SpikeArg>,
    /// Reset rule of spiking neurons (NIR v0.2 files do not record it).
    #[arg(long, value_enum)]
    reset: Option<ResetArg>,
    /// ONNX models: calibration inputs (.npy/.npz, (N, *input_shape)) for the data-based
    /// normalisation; without it the normalisation is weight-based (a warning is printed).
    #[arg(long, value_name = "X.npy")]
    pub(crate) calibrate: Option<PathBuf>,
    /// ONNX models: percentile of each layer's positive activations mapped to the max rate.
    #[arg(long, default_value_t = 99.9)]
    percentile: f64,
    /// ONNX models: firing rate (Hz) the activation percentile maps to.
    #[arg(long, default_value_t = 250.0)]
    max_rate: f64,
    /// ONNX models: the logits layer as spikes (class = most spikes) or as a linear readout on
    /// the host (class = largest potential; no ties of whole spike counts).
    #[arg(long, value_enum, default_value_t = LogitsArg::Spikes)]
    logits: LogitsArg,
    #[command(flatten)]
    pub(crate) readout: super::readout::ReadoutArgs,
}

#[derive(Args, Debug)]
pub(crate) struct TargetArgs {
    /// Chip target: a built-in name (`nmc targets`) or a target file (.ron).
    #[arg(long, default_value = "loihi1")]
    pub(crate) target: String,
}

impl TargetArgs {
    /// The chip of any family (`nmc::chips`).
    pub(crate) fn chip(&self) -> Result<nmc::chips::Chip, Failure> {
        Ok(nmc::chips::Chip::load(&self.target)?)
    }
    /// The Loihi-family target `command` runs on; a placement-only chip
    /// (speck) is a usage error pointing at `nmc partition`.
    pub(crate) fn load(&self, command: &str) -> Result<nmc_target::Target, Failure> {
        Ok(self.chip()?.loihi(command)?)
    }
}

#[derive(Args, Debug)]
pub(crate) struct QuantArgs {
    /// NengoDL's scale_firing_rates: input gain × S and spike amplitude ÷ S, so the network computes
    /// the same function with S× the firing rates (trade spikes for accuracy).
    #[arg(long, default_value_t = 1.0)]
    scale_firing_rates: f64,
    /// Input encoder: `auto` runs the model's leading 1×1-conv + neuron layer on the host (real-valued
    /// input such as pixels); `none` routes the input (already spikes/event counts) straight to the chip.
    #[arg(long, value_enum, default_value = "auto")]
    encoder: EncoderArg,
    /// Largest event count one input element delivers per step (event-camera frames bin
    /// several events per pixel); the accumulator bounds assume it.
    #[arg(long, default_value_t = 1)]
    max_input_events: u32,
    /// How host layers (input encoders) run: `float` runs the float model on the host in f64 with the
    /// graph's discretization rule (as nengo-loihi runs an off-chip layer); `integer` an integer
    /// compartment with the chip's step; `auto` is `float` under `--discretization nengo`, else `integer`.
    #[arg(long, value_enum, default_value = "auto")]
    host_layers: HostLayersArg,
    /// Which rule picks the integers of chip layers: `nmc`, nmc's own error-minimising search;
    /// `nengo-loihi`, the integers nengo-loihi 1.1's discretize picks (weight exponent and
    /// mantissas, vth, bias, decays, vmin/vmax, refractory), docs/quantization.md §3.
    #[arg(long, value_enum, default_value = "nmc")]
    profile: ProfileArg,
    /// Under `--profile nengo-loihi`: `POP=N` discretizes population POP in blocks of N neurons,
    /// as nengo-loihi does for a `BlockShape` (repeatable; default one block per population).
    #[arg(long = "nengo-loihi-block", value_name = "POP=N", value_parser = parse_block)]
    nengo_loihi_block: Vec<(String, usize)>,
}

fn parse_block(s: &str) -> Result<(String, usize), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected POP=N"))?;
    let n: usize = v.parse().map_err(|_| format!("`{s}`: N must be a positive integer"))?;
    if n == 0 {
        return Err(format!("`{s}`: N must be a positive integer"));
    }
    Ok((k.to_string(), n))
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ProfileArg {
    /// nmc's own search.
    Nmc,
    /// nengo-loihi 1.1's discretize.
    NengoLoihi,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum HostLayersArg {
    /// `float` when the discretization is nengo's, else `integer`.
    Auto,
    /// The float model on the host, f64.
    Float,
    /// An integer compartment with the chip's step.
    Integer,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum EncoderArg {
    /// The model's own leading 1×1 conv + neurons run on the host.
    Auto,
    /// No host encoder: inputs are event counts delivered to input axons.
    None,
    /// Insert a fixed on/off encoder (an on and an off IF neuron per input element, on the
    /// host) in front of a model that reads real values without an encoder of its own.
    Onoff,
}

impl QuantArgs {
    pub(crate) fn options(&self) -> nmc_quant::QuantOptions {
        nmc_quant::QuantOptions {
            scale_firing_rates: self.scale_firing_rates,
            encoder: match self.encoder {
                EncoderArg::Auto => nmc_quant::EncoderMode::Auto,
                EncoderArg::None => nmc_quant::EncoderMode::None,
                EncoderArg::Onoff => nmc_quant::EncoderMode::OnOff,
            },
            max_input_events: self.max_input_events,
            host_layers: match self.host_layers {
                HostLayersArg::Auto => nmc_quant::HostLayers::Auto,
                HostLayersArg::Float => nmc_quant::HostLayers::Float,
                HostLayersArg::Integer => nmc_quant::HostLayers::Integer,
            },
            profile: match self.profile {
                ProfileArg::Nmc => nmc_quant::Profile::Nmc,
                ProfileArg::NengoLoihi => nmc_quant::Profile::NengoLoihi,
            },
            nengo_loihi_blocks: self.nengo_loihi_block.iter().cloned().collect(),
            ..Default::default()
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum DiscArg {
    /// exp(-dt/τ) decay, input held over the step (default).
    Exact,
    /// 1 - dt/τ decay (snnTorch/Norse style).
    Euler,
    /// nengo 3's LIF step: exact decay, continuous refractory period with the spike time
    /// interpolated, synaptic current read one step after its input.
    Nengo,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogitsArg {
    /// A spiking layer; classes by spike counts.
    Spikes,
    /// A linear readout on the host; classes by potentials.
    Readout,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum SpikeArg {
    /// A spike is one unit of charge in its step.
    Step,
    /// A spike is a unit-area impulse of height 1/dt.
    Impulse,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ResetArg {
    /// v ← v_reset.
    Zero,
    /// v ← v − v_threshold.
    Subtract,
}

impl LoadArgs {
    fn convert_options(&self) -> Result<nmc_frontend::onnx::ConvertOptions, Failure> {
        let calibration = match &self.calibrate {
            Some(p) => Some(nmc_reference::read_array(p).map_err(Error::from)?),
            None => None,
        };
        let o = self.options();
        Ok(nmc_frontend::onnx::ConvertOptions {
            calibration,
            percentile: self.percentile,
            max_rate_hz: self.max_rate,
            dt: o.dt,
            reset: o.reset,
            logits: match self.logits {
                LogitsArg::Spikes => nmc_frontend::onnx::LogitsLayer::Spikes,
                LogitsArg::Readout => nmc_frontend::onnx::LogitsLayer::Readout,
            },
            ..Default::default()
        })
    }
    /// Converts an ONNX model (printing the report's warnings to stderr).
    pub(crate) fn convert(&self, model: &std::path::Path) -> Result<nmc_frontend::onnx::Conversion, Failure> {
        let c = nmc_frontend::onnx::convert(model, &self.convert_options()?).map_err(Error::from)?;
        for w in &c.report.warnings {
            note(&format!("warning: {w}"));
        }
        Ok(c)
    }
    fn is_onnx(model: &std::path::Path) -> bool {
        model
            .extension()
            .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("onnx"))
    }
    /// Loads a float model; `.onnx` files are converted with the ONNX options.
    pub(crate) fn graph(&self, model: &std::path::Path) -> Result<nmc::Graph, Failure> {
        if Self::is_onnx(model) {
            return self.readout.apply(self.convert(model)?.graph);
        }
        let g = nmc::load_model(model, &self.options())?;
        warn_about(model, &g);
        self.readout.apply(g)
    }
    /// As `pipeline::load_any`, converting `.onnx` files with the ONNX options.
    /// The float model in `model` (`.nir` or `.onnx`) for a target of another
    /// family (`target`): a quantized model or artifact is Loihi-1-family, a
    /// usage error saying so.
    pub(crate) fn float(&self, model: &std::path::Path, target: &str) -> Result<nmc_ir::Graph, Failure> {
        match self.any(model)? {
            nmc::pipeline::AnyModel::Float(g) => Ok(*g),
            _ => Err(Error::Usage(format!(
                "{}: --target {target} takes a float model (.nir or .onnx); a quantized model or artifact is for a \
                 loihi-family target",
                model.display()
            ))
            .into()),
        }
    }

    pub(crate) fn any(&self, model: &std::path::Path) -> Result<nmc::pipeline::AnyModel, Failure> {
        if Self::is_onnx(model) {
            let g = self.readout.apply(self.convert(model)?.graph)?;
            return Ok(nmc::pipeline::AnyModel::Float(Box::new(g)));
        }
        match nmc::pipeline::load_any(model, &self.options())? {
            nmc::pipeline::AnyModel::Float(g) => {
                warn_about(model, &g);
                Ok(nmc::pipeline::AnyModel::Float(Box::new(self.readout.apply(*g)?)))
            }
            _ if self.readout.readout_synapse.is_some() => Err(Error::Usage(format!(
                "{}: --readout-synapse changes a float model; a quantized model or artifact already has its readouts",
                model.display()
            ))
            .into()),
            m => Ok(m),
        }
    }
    fn options(&self) -> LoadOptions {
        LoadOptions {
            dt: self.dt,
            discretization: self.discretization.map(|d| match d {
                DiscArg::Exact => Discretization::Exact,
                DiscArg::Euler => Discretization::Euler,
                DiscArg::Nengo => Discretization::Nengo,
            }),
            spike_convention: self.spike_convention.map(|c| match c {
                SpikeArg::Step => nmc_ir::SpikeConvention::Step,
                SpikeArg::Impulse => nmc_ir::SpikeConvention::Impulse,
            }),
            reset: self.reset.map(|r| match r {
                ResetArg::Zero => ResetMode::Zero,
                ResetArg::Subtract => ResetMode::Subtract,
            }),
        }
    }
}

/// Prints the load warnings of a float model on stderr.
fn warn_about(path: &std::path::Path, g: &nmc::Graph) {
    for w in nmc::load_warnings(g) {
        note(&format!("warning: {}: {w}", path.display()));
    }
}
