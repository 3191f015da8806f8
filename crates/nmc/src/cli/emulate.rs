//! `nmc emulate`: an artifact run in the bit-accurate emulator (report,
//! optional spike files, golden comparison).

use super::args::CheckArgs;
use super::files::Files;
use super::output::note;
use super::{Failure, golden_verdict, one_input, print_report};
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc emulate`; its help text is the doc comment of
// `Cmd::Emulate` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct EmulateArgs {
    /// Artifact (.nmca).
    pub(crate) artifact: PathBuf,
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
    #[command(flatten)]
    decision: super::readout::DecisionArgs,
    /// Print the JSON report (schema nmc.emulate/1).
    #[arg(long)]
    json: bool,
    /// The chip of a vendor configuration: `xylo-audio2`/`xylo-imu` (ARTIFACT is then a
    /// specification `.npz`, rockpool's `XyloSim.from_specification` arrays) or `loihi2`
    /// (ARTIFACT is a network in Lava's process form, `.json`, docs/loihi2.md). An `.nmca`
    /// artifact names its own target.
    #[arg(long)]
    target: Option<String>,
    /// Also write every register per step to --out (`state.<layer>.<register>`: `u`
    /// and `v` of every layer of an artifact; a Xylo configuration's `vmem`, `isyn`,
    /// `isyn2`). Memory: 16 bytes per neuron and step.
    #[arg(long)]
    record_state: bool,
}

impl EmulateArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        if let Some(t) = &self.target {
            let chip = nmc::chips::Chip::load(t)?;
            if let Some(x) = chip.xylo() {
                let Some(input) = &self.input else {
                    return Err(Error::Usage("a Xylo configuration takes its input events with --input".into()).into());
                };
                let r = nmc::xylo::emulate(
                    x,
                    &self.artifact,
                    input,
                    self.steps,
                    self.out.as_deref(),
                    self.record_state,
                )?;
                print_report(self.json, &r)?;
                return Ok(());
            }
            if let Some(l2) = chip.loihi2() {
                let r = nmc::loihi2::emulate(
                    l2,
                    &self.artifact,
                    self.input.as_deref(),
                    self.steps,
                    self.out.as_deref(),
                )?;
                print_report(self.json, &r)?;
                return Ok(());
            }
            chip.loihi("emulate")?;
            return Err(Error::Usage(format!(
                "--target {t}: emulate runs the target its artifact was compiled for (`nmc compile --target`)"
            ))
            .into());
        }
        let EmulateArgs {
            artifact,
            input,
            input_spikes,
            steps,
            labels,
            out,
            spikes,
            check: CheckArgs { strict, expect, bless },
            decision,
            json,
            target: _,
            record_state,
        } = self;
        if record_state && out.is_none() {
            return Err(Error::Usage("--record-state writes the registers into --out F.npz: give --out".into()).into());
        }
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
                readout_decision: decision.decision(),
                record_state,
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
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([
            Some(self.artifact.as_path()),
            self.input.as_deref(),
            self.input_spikes.as_deref(),
            self.labels.as_deref(),
        ]);
        f.write("--out", self.out.as_deref());
        f.write("--spikes", self.spikes.as_deref());
        f.check(&self.check);
    }
}
