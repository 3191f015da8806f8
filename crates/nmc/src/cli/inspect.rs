//! `nmc inspect`: a model's nodes, shapes, counts and parameters (table,
//! JSON or IR dump), or a quantized model's or an artifact's summary.

use super::Failure;
use super::args::LoadArgs;
use super::files::Files;
use super::output::emit;
use anyhow::Context;
use clap::Args;
use nmc::inspect::InspectReport;
use std::path::PathBuf;

// The arguments of `nmc inspect`; its help text is the doc comment of
// `Cmd::Inspect` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Model file (.nir).
    pub(crate) model: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Print the stable JSON report (schema nmc.inspect/1) instead of a table.
    #[arg(long)]
    json: bool,
    /// Print the IR text dump (the format of the golden tests).
    #[arg(long, conflicts_with = "json")]
    ir: bool,
}

impl InspectArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let InspectArgs { model, load, json, ir } = self;
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
        Ok(())
    }

    /// The files the command reads.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([Some(self.model.as_path())]);
        f.load(&self.load);
    }
}
