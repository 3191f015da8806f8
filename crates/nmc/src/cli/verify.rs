//! `nmc verify`: float reference vs fixed-point reference (A) vs emulated
//! artifact (B); exit 5 unless A = B (or a golden comparison differs).

use super::args::{CheckArgs, LoadArgs, QuantArgs, TargetArgs};
use super::files::Files;
use super::output::emit;
use super::{Failure, golden_verdict, one_input, print_report, write_file};
use anyhow::Context;
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc verify`; its help text is the doc comment of
// `Cmd::Verify` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// Model file (.nir).
    pub(crate) model: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    quant: QuantArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    decision: super::readout::DecisionArgs,
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
}

impl VerifyArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let VerifyArgs {
            model,
            target,
            quant,
            load,
            decision,
            input,
            input_spikes,
            steps,
            labels,
            check: CheckArgs { strict, expect, bless },
            html,
            json,
        } = self;
        let t = target.load("verify")?;
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
            readout_decision: decision.decision(),
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
        f.target(&self.target);
        f.load(&self.load);
        f.write("--html", self.html.as_deref());
        f.check(&self.check);
    }
}
