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
        #[arg(long)]
        input: PathBuf,
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

/// Writes to stdout; a closed pipe (`nmc inspect … | head`) ends quietly.
fn emit(s: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    if o.write_all(s.as_bytes()).and_then(|_| o.flush()).is_err() {
        std::process::exit(exit::OK);
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.cmd {
        Cmd::Inspect { model, load, json, ir } => {
            let g = nmc::load_model(&model, &load.options())?;
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
            steps,
            load,
            out,
            labels,
            json,
        } => {
            let g = nmc::load_model(&model, &load.options())?;
            let report = nmc::simulate::run(&g, &input, steps, out.as_deref(), labels.as_deref())?;
            if json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).context("serialising the report")?
                ));
            } else {
                emit(&report.to_string());
            }
        }
        Cmd::Targets { check, show } => {
            if let Some(path) = check {
                let t = nmc_target::Target::from_file(&path).map_err(|e| Failure {
                    code: exit::INPUT_ERROR,
                    err: e.into(),
                })?;
                emit(&format!("{}: valid target `{}`\n", path.display(), t.name()));
                emit(&nmc_target::render_table(&[t]).to_string());
            } else if let Some(name) = show {
                match nmc_target::builtin_source(&name) {
                    Some(src) => emit(src),
                    None => {
                        let t = nmc_target::Target::load(&name).map_err(|e| Failure {
                            code: exit::INPUT_ERROR,
                            err: e.into(),
                        })?;
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

fn main() -> ExitCode {
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {:#}", f.err);
            ExitCode::from(f.code as u8)
        }
    }
}
