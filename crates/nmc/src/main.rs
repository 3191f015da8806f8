//! The `nmc` command. Parses arguments, calls the library, prints reports,
//! and maps errors to the stable exit codes of docs/cli.md.
#![allow(clippy::print_stdout)]

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use nmc::{Error, LoadOptions, exit, inspect::InspectReport};
use nmc_ir::{Discretization, ResetMode};
use std::path::PathBuf;
use std::process::ExitCode;

/// nmc — compile trained spiking networks for neuromorphic chips, emulate
/// them bit-accurately, and verify them against a float reference.
#[derive(Parser, Debug)]
#[command(name = "nmc", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Convert an ONNX ANN into a spiking network: prints the conversion report (per layer the
    /// activation scale, normalisation and expected rate) and writes the network with -o. With
    /// --input and --labels, also measures ANN vs SNN accuracy at several presentation times and
    /// the float reference's per-layer rates.
    Convert {
        /// Model file (.onnx).
        model: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
        /// Write the converted spiking network here: a `.nir` file (readable by other NIR tools and
        /// by every nmc command), or any other extension for nmc's IR text dump.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// A labelled test set (with --labels) for the accuracy-vs-steps table.
        #[arg(long, requires = "labels")]
        input: Option<PathBuf>,
        /// Labels of --input.
        #[arg(long, requires = "input")]
        labels: Option<PathBuf>,
        /// Presentation times (steps) for the accuracy table.
        #[arg(long, value_delimiter = ',', default_value = "25,50,100,200")]
        steps_list: Vec<usize>,
    },
    /// Show a model's nodes, shapes, neuron and synapse counts and parameters.
    Inspect {
        /// Model file (.nir).
        model: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
        /// Print the stable JSON report (schema nmc.inspect/1) instead of a table.
        #[arg(long)]
        json: bool,
        /// Print the IR text dump (the format of the golden tests).
        #[arg(long, conflicts_with = "json")]
        ir: bool,
    },
    /// Run the float reference simulation and print per-layer spike counts and rates.
    Simulate {
        /// Model file (.nir).
        model: PathBuf,
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
    },
    /// Quantize a float model for a target: integer weights, decays, thresholds; print the error report.
    Quantize {
        /// Model file (.nir).
        model: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        quant: QuantArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Write the quantized model (RON, docs/quantization.md) here.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print the stable JSON report (schema nmc.quantize/1).
        #[arg(long)]
        json: bool,
    },
    /// Map a model onto the target's cores and print the partition report.
    Partition {
        /// Model file (.nir float, or .ron quantized).
        model: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        quant: QuantArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Input (.npy) for the float reference: its firing rates weigh inter-chip traffic.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Presentation time for --input.
        #[arg(long)]
        steps: Option<usize>,
        /// Write the JSON report (schema nmc.partition/1) here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write the HTML core map here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Print the JSON report instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Compile a model into a deployable artifact (.nmca): quantize, partition, emit.
    Compile {
        /// Model file (.nir float, or .ron quantized).
        model: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        quant: QuantArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// The artifact to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Run an artifact in the bit-accurate integer emulator.
    Emulate {
        /// Artifact (.nmca).
        artifact: PathBuf,
        /// Input array (.npy/.npz), as for `simulate`.
        #[arg(long, required_unless_present = "input_spikes", conflicts_with = "input_spikes")]
        input: Option<PathBuf>,
        /// Recorded spikes of the host layer (.npy/.npz, 0/1, (batch, steps, *host shape)), fed to
        /// the chip instead of running the host encoder: spikes of step t reach the chip after the
        /// target's host latency, as the encoder's own would.
        #[arg(long, value_name = "FILE")]
        input_spikes: Option<PathBuf>,
        /// Steps to run (default: the input's time axis).
        #[arg(long)]
        steps: Option<usize>,
        /// Labels for the accuracy of the output readout.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Write per-layer spikes to this .npz file (keeps the whole run in memory; prefer
        /// --spikes for large batches).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Stream every layer's spikes, sample by sample, to this spike file (.nmcs) in bounded
        /// memory.
        #[arg(long, value_name = "FILE.nmcs")]
        spikes: Option<PathBuf>,
        #[command(flatten)]
        check: CheckArgs,
        /// Print the JSON report (schema nmc.emulate/1).
        #[arg(long)]
        json: bool,
    },
    /// Verify a deployment: float reference vs fixed-point reference (A) vs emulated artifact (B).
    /// Exits 5 unless A = B bit for bit.
    Verify {
        /// Model file (.nir).
        model: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        quant: QuantArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Input array (.npy/.npz), as for `simulate`.
        #[arg(long, required_unless_present = "input_spikes", conflicts_with = "input_spikes")]
        input: Option<PathBuf>,
        /// Recorded spikes of the host layer (.npy/.npz, 0/1, (batch, steps, *host shape)) in place
        /// of --input: the float reference runs the network after the host layer on them, the
        /// fixed reference and the emulator feed them to the chip after the target's host latency.
        #[arg(long, value_name = "FILE")]
        input_spikes: Option<PathBuf>,
        /// Presentation time in steps.
        #[arg(long)]
        steps: Option<usize>,
        /// Labels: report float and deployed accuracy.
        #[arg(long)]
        labels: Option<PathBuf>,
        #[command(flatten)]
        check: CheckArgs,
        /// Write the HTML report (plots) here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Print the JSON report (schema nmc.verify/1).
        #[arg(long)]
        json: bool,
    },
    /// List the built-in chip targets with their key limits, or check/show a target file.
    Targets {
        /// Validate a target file (RON); errors name the field, e.g. `core.max_compartments: must be > 0`.
        #[arg(long, value_name = "FILE", conflicts_with = "show")]
        check: Option<PathBuf>,
        /// Print a target (built-in name or file) as RON; built-ins keep their comments.
        #[arg(long, value_name = "NAME|FILE")]
        show: Option<String>,
    },
}

/// The checks of an integer run a CI job relies on (`emulate`, `verify`).
#[derive(Args, Debug)]
struct CheckArgs {
    /// Any wrap of q or u, or clip of v, in an integer run (fixed reference or emulator) is an
    /// error naming layer, neuron, step and register (exit 6). Without it overflows are counted
    /// per layer.
    #[arg(long)]
    strict: bool,
    /// Compare every emulated spike (every layer, sample and step) with this golden spike file;
    /// exit 5 if any differs.
    #[arg(long, value_name = "GOLDEN.nmcs")]
    expect: Option<PathBuf>,
    /// With --expect: write the golden file from this run instead of comparing.
    #[arg(long, requires = "expect")]
    bless: bool,
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// Time step in seconds (NIR has none; default: the file's metadata `dt`, else 0.001).
    #[arg(long)]
    dt: Option<f64>,
    /// How neuron ODEs become per-step updates.
    #[arg(long, value_enum)]
    discretization: Option<DiscArg>,
    /// Reset rule of spiking neurons (NIR v0.2 files do not record it).
    #[arg(long, value_enum)]
    reset: Option<ResetArg>,
    /// ONNX models: calibration inputs (.npy/.npz, (N, *input_shape)) for the data-based
    /// normalisation; without it the normalisation is weight-based (a warning is printed).
    #[arg(long, value_name = "X.npy")]
    calibrate: Option<PathBuf>,
    /// ONNX models: percentile of each layer's positive activations mapped to the max rate.
    #[arg(long, default_value_t = 99.9)]
    percentile: f64,
    /// ONNX models: firing rate (Hz) the activation percentile maps to.
    #[arg(long, default_value_t = 250.0)]
    max_rate: f64,
}

#[derive(Args, Debug)]
struct TargetArgs {
    /// Chip target: a built-in name (`nmc targets`) or a target file (.ron).
    #[arg(long, default_value = "loihi1")]
    target: String,
}

impl TargetArgs {
    fn load(&self) -> Result<nmc_target::Target, Failure> {
        nmc_target::Target::load(&self.target).map_err(|e| Error::from(e).into())
    }
}

#[derive(Args, Debug)]
struct QuantArgs {
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
    fn options(&self) -> nmc_quant::QuantOptions {
        nmc_quant::QuantOptions {
            scale_firing_rates: self.scale_firing_rates,
            encoder: match self.encoder {
                EncoderArg::Auto => nmc_quant::EncoderMode::Auto,
                EncoderArg::None => nmc_quant::EncoderMode::None,
                EncoderArg::Onoff => nmc_quant::EncoderMode::OnOff,
            },
            max_input_events: self.max_input_events,
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
            ..Default::default()
        })
    }
    /// Converts an ONNX model (printing the report's warnings to stderr).
    fn convert(&self, model: &std::path::Path) -> Result<nmc_frontend::onnx::Conversion, Failure> {
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
    fn graph(&self, model: &std::path::Path) -> Result<nmc::Graph, Failure> {
        if Self::is_onnx(model) {
            return Ok(self.convert(model)?.graph);
        }
        Ok(nmc::load_model(model, &self.options())?)
    }
    /// As `pipeline::load_any`, converting `.onnx` files with the ONNX options.
    fn any(&self, model: &std::path::Path) -> Result<nmc::pipeline::AnyModel, Failure> {
        if Self::is_onnx(model) {
            return Ok(nmc::pipeline::AnyModel::Float(Box::new(self.convert(model)?.graph)));
        }
        Ok(nmc::pipeline::load_any(model, &self.options())?)
    }
    fn options(&self) -> LoadOptions {
        LoadOptions {
            dt: self.dt,
            discretization: self.discretization.map(|d| match d {
                DiscArg::Exact => Discretization::Exact,
                DiscArg::Euler => Discretization::Euler,
            }),
            reset: self.reset.map(|r| match r {
                ResetArg::Zero => ResetMode::Zero,
                ResetArg::Subtract => ResetMode::Subtract,
            }),
        }
    }
}

/// An error on its way to an exit code.
struct Failure {
    code: i32,
    err: anyhow::Error,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: e.exit_code(),
            err: e.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure {
            code: exit::INTERNAL,
            err,
        }
    }
}

/// Prints a report: its stable JSON with `--json`, else its table.
fn print_report<T: serde::Serialize + std::fmt::Display>(json: bool, r: &T) -> Result<(), Failure> {
    if json {
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(r).context("serialising the report")?
        ));
    } else {
        emit(&r.to_string());
    }
    Ok(())
}

/// What became of standard output: still writable, closed by the reader
/// (`nmc inspect … | head`: later output is dropped quietly), or failed
/// (`>/dev/full`: the run goes on and ends with [`exit::OUTPUT_ERROR`] unless
/// it already ends with a non-zero code). The verdict of a command is never
/// lost to its output: see `final_code`.
static STDOUT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(STDOUT_OK);
const STDOUT_OK: u8 = 0;
const STDOUT_CLOSED: u8 = 1;
const STDOUT_FAILED: u8 = 2;

/// Writes to stdout (see [`STDOUT`]).
fn emit(s: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT.load(Ordering::Relaxed) != STDOUT_OK {
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT.store(STDOUT_CLOSED, Ordering::Relaxed);
        } else {
            STDOUT.store(STDOUT_FAILED, Ordering::Relaxed);
            note(&format!("error: cannot write standard output: {e}"));
        }
    }
}

/// Writes one line to stderr; a failure to do so is not itself reported
/// (there is nowhere left to report it) and never changes the exit code.
fn note(line: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// The exit code of a finished command: its own code, or
/// [`exit::OUTPUT_ERROR`] when it succeeded but its standard output could
/// not be written. A closed pipe is not a failure.
fn final_code(code: i32) -> ExitCode {
    let failed = STDOUT.load(std::sync::atomic::Ordering::Relaxed) == STDOUT_FAILED;
    let code = if code == exit::OK && failed {
        exit::OUTPUT_ERROR
    } else {
        code
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn write_file(p: &std::path::Path, text: &str) -> Result<(), Failure> {
    nmc_core::output::write_atomic(p, text.as_bytes()).map_err(|source| {
        Error::Io {
            path: p.display().to_string(),
            source,
        }
        .into()
    })
}

/// Exit 5 when a golden comparison found a difference.
fn golden_verdict(g: Option<&nmc::spikefile::GoldenCheck>) -> Result<(), Failure> {
    match g {
        Some(g) if !g.equal => Err(Failure::from(Error::Mismatch(format!(
            "deployed spikes differ from the golden file {} (see the report above; re-record with --bless if the change is intended)",
            g.file
        )))),
        _ => Ok(()),
    }
}

/// With `NMC_REPORT_PEAK_RSS` set, prints the process's peak resident memory
/// (Linux `VmHWM`) on stderr when the command ends: how the memory bounds of
/// docs/reliability.md are measured.
struct PeakRss(bool);

impl Drop for PeakRss {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        match status.lines().find(|l| l.starts_with("VmHWM:")) {
            Some(l) => note(&format!("peak RSS: {}", l.trim_start_matches("VmHWM:").trim())),
            None => note("peak RSS: unknown (no /proc/self/status)"),
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    same_file_guard(&cli.cmd)?;
    let _peak = PeakRss(std::env::var_os("NMC_REPORT_PEAK_RSS").is_some());
    match cli.cmd {
        Cmd::Convert {
            model,
            load,
            output,
            input,
            labels,
            steps_list,
        } => {
            let c = load.convert(&model)?;
            emit(&c.report.to_string());
            if let (Some(inp), Some(lab)) = (&input, &labels) {
                let t = nmc::pipeline::conversion_accuracy(&model, &c.graph, inp, lab, &steps_list)?;
                emit(&t);
            }
            if let Some(p) = &output {
                if p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("nir"))
                {
                    nmc_frontend::write_nir(&c.graph, p).map_err(Error::from)?;
                    emit(&format!("wrote NIR {}\n", p.display()));
                } else {
                    write_file(p, &c.graph.to_string())?;
                    emit(&format!("IR dump: {}\n", p.display()));
                }
            }
        }
        Cmd::Inspect { model, load, json, ir } => {
            let g = match load.any(&model)? {
                nmc::pipeline::AnyModel::Float(g) => g,
                nmc::pipeline::AnyModel::Quant(q) => {
                    if json {
                        emit(&format!(
                            "{}\n",
                            serde_json::to_string_pretty(&q).context("serialising the model")?
                        ));
                    } else {
                        emit(&nmc::inspect::qmodel_summary(&q));
                    }
                    return Ok(());
                }
                nmc::pipeline::AnyModel::Artifact(a) => {
                    emit(&a.dump());
                    return Ok(());
                }
            };
            if ir {
                emit(&g.to_string());
            } else if json {
                let r = InspectReport::new(&g);
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&r).context("serialising the report")?
                ));
            } else {
                emit(&InspectReport::new(&g).to_string());
            }
        }
        Cmd::Simulate {
            model,
            input,
            input_spikes,
            host_layer,
            steps,
            load,
            out,
            labels,
            json,
            strict,
        } => {
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
                        nmc::pipeline::host_shape(&q, &input)?;
                        nmc::pipeline::check_spike_file(&input)?;
                        Box::new(
                            q.with_host_spikes_input()
                                .map_err(|e| Error::Usage(format!("--input-spikes {}: {e}", input.display())))?,
                        )
                    } else {
                        q
                    };
                    let r = nmc::pipeline::simulate_fixed_file(&q, &t, &input, steps, labels.as_deref(), strict)?;
                    print_report(json, &r)?;
                    return Ok(());
                }
                nmc::pipeline::AnyModel::Artifact(_) => {
                    return Err(
                        Error::Usage(format!("{}: an artifact runs with `nmc emulate`", model.display())).into(),
                    );
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
                    nmc::pipeline::check_spike_file(&input)?;
                    Box::new(g.with_input_at(node).map_err(|m| {
                        Error::Usage(format!("--input-spikes {} --host-layer {node}: {m}", input.display()))
                    })?)
                }
            };
            let report = nmc::simulate::run(&g, &input, steps, out.as_deref(), labels.as_deref())?;
            print_report(json, &report)?;
        }
        Cmd::Quantize {
            model,
            target,
            quant,
            load,
            output,
            json,
        } => {
            let t = target.load()?;
            let g = load.graph(&model)?;
            let (q, report) = nmc::pipeline::quantize(&g, &t, &quant.options())?;
            if let Some(p) = &output {
                nmc_quant::write_qmodel(p, &q).map_err(Error::from)?;
            }
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).context("serialising the report")?
                ));
            } else {
                emit(&report.to_string());
                if let Some(p) = &output {
                    emit(&format!("wrote {}\n", p.display()));
                }
            }
        }
        Cmd::Partition {
            model,
            target,
            quant,
            load,
            input,
            steps,
            report,
            html,
            json,
        } => {
            let t = target.load()?;
            let (q, g) = match load.any(&model)? {
                nmc::pipeline::AnyModel::Float(g) => (nmc::pipeline::quantize(&g, &t, &quant.options())?.0, Some(g)),
                nmc::pipeline::AnyModel::Quant(q) => (*q, None),
                nmc::pipeline::AnyModel::Artifact(_) => {
                    return Err(Error::Usage(format!(
                        "{}: already an artifact; partition takes a .nir or .ron model",
                        model.display()
                    ))
                    .into());
                }
            };
            let rates = match (input, g) {
                (Some(inp), Some(g)) => Some(nmc::pipeline::float_rates(&g, &q, &inp, steps)?),
                (Some(_), None) => {
                    return Err(Error::Usage("--input needs a float model (.nir) to simulate".into()).into());
                }
                _ => None,
            };
            nmc_reference::validate(&q, &t).map_err(Error::from)?;
            let (_, rep) = nmc_partition::partition(
                &q,
                &t,
                &nmc_partition::PartitionOptions {
                    rates,
                    ..Default::default()
                },
            )
            .map_err(Error::from)?;
            if let Some(p) = &report {
                write_file(
                    p,
                    &serde_json::to_string_pretty(&rep).context("serialising the report")?,
                )?;
            }
            if let Some(p) = &html {
                write_file(p, &rep.to_html())?;
            }
            print_report(json, &rep)?;
        }
        Cmd::Compile {
            model,
            target,
            quant,
            load,
            output,
        } => {
            let t = target.load()?;
            let c = match load.any(&model)? {
                nmc::pipeline::AnyModel::Float(g) => {
                    nmc::pipeline::compile(&g, &t, &quant.options(), &Default::default())?
                }
                nmc::pipeline::AnyModel::Quant(q) => nmc::pipeline::compile_quantized(*q, &t, &Default::default())?,
                nmc::pipeline::AnyModel::Artifact(_) => {
                    return Err(Error::Usage(format!(
                        "{}: already an artifact; compile takes a .nir, .onnx or .ron model",
                        model.display()
                    ))
                    .into());
                }
            };
            c.artifact.write(&output).map_err(Error::from)?;
            if let Some(r) = &c.quant_report {
                emit(&r.to_string());
            }
            emit(&c.partition_report.to_string());
            emit(&format!(
                "wrote {} ({} cores, {} host layers, target {})\n",
                output.display(),
                c.artifact.cores.len(),
                c.artifact.host.len(),
                c.artifact.target_name
            ));
        }
        Cmd::Emulate {
            artifact,
            input,
            input_spikes,
            steps,
            labels,
            out,
            spikes,
            check: CheckArgs { strict, expect, bless },
            json,
        } => {
            let a = nmc_artifact::Artifact::read(&artifact).map_err(Error::from)?;
            let (input, host_spikes) = one_input(input.as_ref(), input_spikes.as_ref())?;
            let report = nmc::pipeline::emulate_file(
                &a,
                &input,
                &nmc::pipeline::EmulateOptions {
                    host_spikes,
                    steps,
                    labels: labels.as_deref(),
                    out: out.as_deref(),
                    spikes: spikes.as_deref(),
                    expect: expect.as_deref(),
                    bless,
                    strict,
                },
            )?;
            print_report(json, &report)?;
            if bless && let Some(p) = &expect {
                note(&format!(
                    "blessed {}: {} samples × {} steps",
                    p.display(),
                    report.batch,
                    report.steps
                ));
            }
            golden_verdict(report.golden.as_ref())?;
        }
        Cmd::Verify {
            model,
            target,
            quant,
            load,
            input,
            input_spikes,
            steps,
            labels,
            check: CheckArgs { strict, expect, bless },
            html,
            json,
        } => {
            let t = target.load()?;
            if model
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("ron"))
            {
                // A quantized model has no float network: the A = B check alone.
                let q = nmc_quant::read_qmodel(&model).map_err(nmc::Error::from)?;
                let (path, host_spikes) = one_input(input.as_ref(), input_spikes.as_ref())?;
                let r = nmc::pipeline::verify_quantized(
                    q,
                    &t,
                    &path,
                    steps,
                    strict,
                    expect.as_deref().map(|p| (p, bless)),
                    host_spikes,
                )?;
                print_report(json, &r)?;
                if !r.exact.equal {
                    return Err(Error::Mismatch(
                        "verification failed: the emulated artifact differs from the fixed-point reference".into(),
                    )
                    .into());
                }
                return golden_verdict(r.golden.as_ref());
            }
            let g = load.graph(&model)?;
            let mut vopts = nmc::pipeline::VerifyOptions {
                quant: quant.options(),
                steps,
                labels: None,
                strict,
                expect: expect.clone(),
                bless,
            };
            let (path, host_spikes) = one_input(input.as_ref(), input_spikes.as_ref())?;
            let out = if host_spikes {
                nmc::pipeline::verify_host_spikes(&g, &t, &path, labels.as_deref(), &vopts)?
            } else {
                let (stim, labels) = nmc::pipeline::read_stimulus(&g, &path, labels.as_deref())?;
                vopts.labels = labels;
                nmc::pipeline::verify(&g, &t, &stim, &vopts)?
            };
            if let Some(p) = &html {
                let page = out
                    .page
                    .render()
                    .map_err(|e| Error::Internal(format!("rendering the HTML report: {e}")))?;
                write_file(p, &page)?;
            }
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&out.report).context("serialising the report")?
                ));
            } else {
                emit(&out.report.to_string());
                if let Some(p) = &html {
                    emit(&format!("HTML report: {}\n", p.display()));
                }
            }
            if !out.report.exact.equal {
                return Err(Error::Mismatch(
                    "verification failed: the emulated artifact differs from the fixed-point reference".into(),
                )
                .into());
            }
            golden_verdict(out.report.golden.as_ref())?;
        }
        Cmd::Targets { check, show } => {
            if let Some(path) = check {
                let t = nmc_target::Target::from_file(&path).map_err(Error::from)?;
                emit(&format!("{}: valid target `{}`\n", path.display(), t.name()));
                emit(&nmc_target::render_table(&[t]).to_string());
            } else if let Some(name) = show {
                match nmc_target::builtin_source(&name) {
                    Some(src) => emit(src),
                    None => {
                        let t = nmc_target::Target::load(&name).map_err(Error::from)?;
                        emit(&t.to_ron().context("serialising the target")?.to_string());
                    }
                }
            } else {
                let ts: Vec<nmc_target::Target> = nmc_target::builtin_names()
                    .iter()
                    .filter_map(|n| nmc_target::Target::builtin(n))
                    .collect();
                emit(&nmc_target::render_table(&ts).to_string());
            }
        }
    }
    Ok(())
}

/// The one input file of a command taking `--input` or `--input-spikes`, and
/// whether it holds recorded host spikes. (clap already enforces exactly one.)
fn one_input(input: Option<&PathBuf>, spikes: Option<&PathBuf>) -> Result<(PathBuf, bool), Failure> {
    match (input, spikes) {
        (Some(i), None) => Ok((i.clone(), false)),
        (None, Some(s)) => Ok((s.clone(), true)),
        _ => Err(Error::Usage("give exactly one of --input and --input-spikes".into()).into()),
    }
}

/// An error and its causes, `a: b: c`, leaving out a cause its parent already
/// ends with (an I/O error that names its source would otherwise print the
/// operating system's message twice).
fn chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let c = cause.to_string();
        if out.ends_with(&c) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&c);
    }
    out
}

/// The model file a command reads, if any.
/// The files a command reads and the files it writes (with their flags).
fn files_of(cmd: &Cmd) -> (Vec<&std::path::Path>, Vec<(&'static str, &std::path::Path)>) {
    use std::path::Path;
    let mut inputs: Vec<&Path> = Vec::new();
    let mut outputs: Vec<(&'static str, &Path)> = Vec::new();
    fn load<'a>(l: &'a LoadArgs, inputs: &mut Vec<&'a Path>) {
        inputs.extend(l.calibrate.as_deref());
    }
    fn target<'a>(t: &'a TargetArgs, inputs: &mut Vec<&'a Path>) {
        let p = Path::new(&t.target);
        if p.exists() {
            inputs.push(p);
        }
    }
    fn check<'a>(c: &'a CheckArgs, inputs: &mut Vec<&'a Path>, outputs: &mut Vec<(&'static str, &'a Path)>) {
        if let Some(e) = c.expect.as_deref() {
            if c.bless {
                outputs.push(("--expect", e));
            } else {
                inputs.push(e);
            }
        }
    }
    match cmd {
        Cmd::Convert {
            model,
            load: l,
            output,
            input,
            labels,
            ..
        } => {
            inputs.extend(
                [Some(model.as_path()), input.as_deref(), labels.as_deref()]
                    .into_iter()
                    .flatten(),
            );
            load(l, &mut inputs);
            outputs.extend(output.as_deref().map(|o| ("-o", o)));
        }
        Cmd::Inspect { model, load: l, .. } => {
            inputs.push(model);
            load(l, &mut inputs);
        }
        Cmd::Simulate {
            model,
            input,
            input_spikes,
            load: l,
            out,
            labels,
            ..
        } => {
            inputs.extend(
                [
                    Some(model.as_path()),
                    input.as_deref(),
                    input_spikes.as_deref(),
                    labels.as_deref(),
                ]
                .into_iter()
                .flatten(),
            );
            load(l, &mut inputs);
            outputs.extend(out.as_deref().map(|o| ("--out", o)));
        }
        Cmd::Quantize {
            model,
            target: t,
            load: l,
            output,
            ..
        } => {
            inputs.push(model);
            target(t, &mut inputs);
            load(l, &mut inputs);
            outputs.extend(output.as_deref().map(|o| ("-o", o)));
        }
        Cmd::Partition {
            model,
            target: t,
            load: l,
            input,
            report,
            html,
            ..
        } => {
            inputs.extend([Some(model.as_path()), input.as_deref()].into_iter().flatten());
            target(t, &mut inputs);
            load(l, &mut inputs);
            outputs.extend(report.as_deref().map(|o| ("--report", o)));
            outputs.extend(html.as_deref().map(|o| ("--html", o)));
        }
        Cmd::Compile {
            model,
            target: t,
            load: l,
            output,
            ..
        } => {
            inputs.push(model);
            target(t, &mut inputs);
            load(l, &mut inputs);
            outputs.push(("-o", output));
        }
        Cmd::Emulate {
            artifact,
            input,
            input_spikes,
            labels,
            out,
            spikes,
            check: c,
            ..
        } => {
            inputs.extend(
                [
                    Some(artifact.as_path()),
                    input.as_deref(),
                    input_spikes.as_deref(),
                    labels.as_deref(),
                ]
                .into_iter()
                .flatten(),
            );
            outputs.extend(out.as_deref().map(|o| ("--out", o)));
            outputs.extend(spikes.as_deref().map(|o| ("--spikes", o)));
            check(c, &mut inputs, &mut outputs);
        }
        Cmd::Verify {
            model,
            target: t,
            load: l,
            input,
            input_spikes,
            labels,
            check: c,
            html,
            ..
        } => {
            inputs.extend(
                [
                    Some(model.as_path()),
                    input.as_deref(),
                    input_spikes.as_deref(),
                    labels.as_deref(),
                ]
                .into_iter()
                .flatten(),
            );
            target(t, &mut inputs);
            load(l, &mut inputs);
            outputs.extend(html.as_deref().map(|o| ("--html", o)));
            check(c, &mut inputs, &mut outputs);
        }
        Cmd::Targets { check, .. } => inputs.extend(check.as_deref()),
    }
    (inputs, outputs)
}

/// Refuses a command line on which an output names an input file, or two
/// outputs name one file, by file identity (device and inode; for a file not
/// there yet, its canonical directory and name): `./m.nir`, `m.nir` and a
/// link to it are one file. (`--spikes F --expect F --bless` is the one
/// allowed pair: both record the same spikes; the library writes F once.)
fn same_file_guard(cmd: &Cmd) -> Result<(), Failure> {
    let (inputs, outputs) = files_of(cmd);
    let usage = |m: String| Failure::from(Error::Usage(m));
    for (flag, o) in &outputs {
        if let Some(i) = inputs.iter().find(|i| nmc_core::output::same_file(i, o)) {
            let hint = if *flag == "--spikes" {
                " (to record a golden file use --expect FILE --bless)"
            } else {
                ""
            };
            return Err(usage(format!(
                "{flag} {} is the input file {}: writing it would replace the input; choose another output \
                 path{hint}",
                o.display(),
                i.display()
            )));
        }
    }
    for (k, (f1, o1)) in outputs.iter().enumerate() {
        for (f2, o2) in &outputs[k + 1..] {
            let spikes_bless = matches!((*f1, *f2), ("--spikes", "--expect") | ("--expect", "--spikes"));
            if !spikes_bless && nmc_core::output::same_file(o1, o2) {
                return Err(usage(format!(
                    "{f1} {} and {f2} {} name the same file",
                    o1.display(),
                    o2.display()
                )));
            }
        }
    }
    Ok(())
}

fn model_of(cmd: &Cmd) -> Option<PathBuf> {
    match cmd {
        Cmd::Convert { model, .. }
        | Cmd::Inspect { model, .. }
        | Cmd::Simulate { model, .. }
        | Cmd::Quantize { model, .. }
        | Cmd::Partition { model, .. }
        | Cmd::Compile { model, .. }
        | Cmd::Verify { model, .. } => Some(model.clone()),
        Cmd::Emulate { artifact, .. } => Some(artifact.clone()),
        Cmd::Targets { .. } => None,
    }
}

fn main() -> ExitCode {
    // A panic is a bug: one line naming it, and exit code 1 (internal error) instead of Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        let what = info.payload_as_str().unwrap_or("panic").replace('\n', " ");
        let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
        note(&format!(
            "internal error{at}: {what} (a bug in nmc; please report it with the command line)"
        ));
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE as u8
            } else {
                exit::OK as u8
            });
        }
    };
    let model = model_of(&cli.cmd);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // For the test of this safety net (crates/nmc/tests/hostile.rs).
        if std::env::var_os("NMC_TEST_PANIC").is_some() {
            panic!("NMC_TEST_PANIC is set");
        }
        run(cli)
    })) {
        Ok(Ok(())) => final_code(exit::OK),
        Ok(Err(mut f)) => {
            // Errors of later stages (quantize, partition) name the node and field but
            // not the file: prefix the model file.
            if let Some(m) = &model {
                let shown = m.display().to_string();
                let msg = format!("{:#}", f.err);
                let names_no_file = [
                    "node `",
                    "layer `",
                    "population `",
                    "model `",
                    "invalid artifact",
                    "artifact target",
                ]
                .iter()
                .any(|p| msg.starts_with(p));
                if matches!(f.code, exit::INPUT_ERROR | exit::DOES_NOT_FIT) && names_no_file {
                    f.err = f.err.context(shown);
                }
            }
            note(&format!("error: {}", chain(&f.err)));
            final_code(f.code)
        }
        Err(_) => ExitCode::from(exit::INTERNAL as u8),
    }
}
