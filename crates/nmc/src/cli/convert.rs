//! `nmc convert`: an ONNX ANN converted into a spiking network (report,
//! optional accuracy table, the network written with -o).

use super::args::LoadArgs;
use super::files::Files;
use super::output::emit;
use super::{Failure, write_file};
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc convert`; its help text is the doc comment of
// `Cmd::Convert` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct ConvertArgs {
    /// Model file (.onnx).
    pub(crate) model: PathBuf,
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
}

impl ConvertArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let ConvertArgs {
            model,
            load,
            output,
            input,
            labels,
            steps_list,
        } = self;
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
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([
            Some(self.model.as_path()),
            self.input.as_deref(),
            self.labels.as_deref(),
        ]);
        f.load(&self.load);
        f.write("-o", self.output.as_deref());
    }
}
