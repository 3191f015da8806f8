//! The `nmc` command. Parses arguments, calls the library, prints reports,
//! and maps errors to the stable exit codes of docs/cli.md.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

use clap::{Parser, Subcommand};
use cli::output::{final_code, note};
use cli::{Failure, PeakRss, chain};
use nmc::exit;
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
    Convert(cli::convert::ConvertArgs),
    /// Show a model's nodes, shapes, neuron and synapse counts and parameters.
    Inspect(cli::inspect::InspectArgs),
    /// Run the float reference simulation and print per-layer spike counts and rates.
    Simulate(cli::simulate::SimulateArgs),
    /// Quantize a float model for a target: integer weights, decays, thresholds; print the error report.
    Quantize(cli::quantize::QuantizeArgs),
    /// Map a model onto the target's cores and print the partition report.
    Partition(cli::partition::PartitionArgs),
    /// Compile a model into a deployable artifact (.nmca): quantize, partition, emit. For `--target
    /// xylo-*` the output is a configuration .npz, for `--target loihi2` a Lava process network .json.
    Compile(cli::compile::CompileArgs),
    /// Run an artifact in the bit-accurate integer emulator.
    Emulate(cli::emulate::EmulateArgs),
    /// Verify a deployment: float reference vs fixed-point reference (A) vs emulated artifact (B).
    /// Exits 5 unless A = B bit for bit.
    Verify(cli::verify::VerifyArgs),
    /// List the built-in chip targets with their key limits, or check/show a target file.
    Targets(cli::targets::TargetsArgs),
}

/// Runs the parsed command line (after refusing one whose outputs name its
/// inputs).
fn run(cli: Cli) -> Result<(), Failure> {
    cli::files::same_file_guard(&cli.cmd)?;
    let _peak = PeakRss(std::env::var_os("NMC_REPORT_PEAK_RSS").is_some());
    match cli.cmd {
        Cmd::Convert(a) => a.run(),
        Cmd::Inspect(a) => a.run(),
        Cmd::Simulate(a) => a.run(),
        Cmd::Quantize(a) => a.run(),
        Cmd::Partition(a) => a.run(),
        Cmd::Compile(a) => a.run(),
        Cmd::Emulate(a) => a.run(),
        Cmd::Verify(a) => a.run(),
        Cmd::Targets(a) => a.run(),
    }
}

/// The model file a command reads, if any.
fn model_of(cmd: &Cmd) -> Option<PathBuf> {
    match cmd {
        Cmd::Convert(a) => Some(a.model.clone()),
        Cmd::Inspect(a) => Some(a.model.clone()),
        Cmd::Simulate(a) => Some(a.model.clone()),
        Cmd::Quantize(a) => Some(a.model.clone()),
        Cmd::Partition(a) => Some(a.model.clone()),
        Cmd::Compile(a) => Some(a.model.clone()),
        Cmd::Verify(a) => Some(a.model.clone()),
        Cmd::Emulate(a) => Some(a.artifact.clone()),
        Cmd::Targets(_) => None,
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
