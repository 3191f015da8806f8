//! `nmc partition`: a model mapped onto the target's cores (partition
//! report as table or JSON, optional JSON and HTML files).

use super::args::{LoadArgs, QuantArgs, TargetArgs};
use super::files::Files;
use super::{Failure, print_report, write_file};
use anyhow::Context;
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc partition`; its help text is the doc comment of
// `Cmd::Partition` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct PartitionArgs {
    /// Model file (.nir float, or .ron quantized).
    pub(crate) model: PathBuf,
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
}

impl PartitionArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let PartitionArgs {
            model,
            target,
            quant,
            load,
            input,
            steps,
            report,
            html,
            json,
        } = self;
        let chip = target.chip()?;
        if let Some(c) = chip.speck() {
            if input.is_some() || steps.is_some() || html.is_some() {
                return Err(Error::Usage(format!(
                    "--target {}: placement only; --input, --steps and --html are for loihi-family targets",
                    c.name()
                ))
                .into());
            }
            return speck(c, &model, &load, report.as_deref(), json);
        }
        if let Some(x) = chip.xylo() {
            let g = load.float(&model, &x.name)?;
            let rep = nmc::xylo::partition(&g, x)?;
            if let Some(p) = report.as_deref() {
                write_file(
                    p,
                    &serde_json::to_string_pretty(&rep).context("serialising the report")?,
                )?;
            }
            return print_report(json, &rep);
        }
        let t = chip.loihi("partition")?;
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
        let conventions = g.as_ref().map(|g| g.conventions().to_string());
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
        let rep = nmc_partition::PartitionReport { conventions, ..rep };
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
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([Some(self.model.as_path()), self.input.as_deref()]);
        f.target(&self.target);
        f.load(&self.load);
        f.write("--report", self.report.as_deref());
        f.write("--html", self.html.as_deref());
    }
}

/// `nmc partition MODEL.nir --target speck`: the DYNAP-CNN placement report;
/// a network that does not fit exits 4 with the reason.
fn speck(
    chip: &nmc_speck::Chip,
    model: &std::path::Path,
    load: &LoadArgs,
    report: Option<&std::path::Path>,
    json: bool,
) -> Result<(), Failure> {
    let g = load.float(model, chip.name())?;
    let rep = nmc::speck::partition(chip, &g).map_err(|e| Failure {
        code: e.exit_code(),
        err: anyhow::Error::from(e).context(format!("{}: does not fit `{}`", model.display(), chip.name())),
    })?;
    if let Some(p) = report {
        write_file(
            p,
            &serde_json::to_string_pretty(&rep).context("serialising the report")?,
        )?;
    }
    print_report(json, &rep)
}
