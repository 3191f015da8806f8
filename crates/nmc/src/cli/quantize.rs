//! `nmc quantize`: a float model quantized for a target (error report, the
//! quantized model written with -o).

use super::Failure;
use super::args::{LoadArgs, QuantArgs, TargetArgs};
use super::files::Files;
use super::output::emit;
use anyhow::Context;
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc quantize`; its help text is the doc comment of
// `Cmd::Quantize` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct QuantizeArgs {
    /// Model file (.nir).
    pub(crate) model: PathBuf,
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
}

impl QuantizeArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let QuantizeArgs {
            model,
            target,
            quant,
            load,
            output,
            json,
        } = self;
        let t = target.load("quantize")?;
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
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([Some(self.model.as_path())]);
        f.target(&self.target);
        f.load(&self.load);
        f.write("-o", self.output.as_deref());
    }
}
