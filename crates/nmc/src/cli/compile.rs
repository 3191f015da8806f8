//! `nmc compile`: a model quantized, partitioned and emitted into a
//! deployable artifact (.nmca).

use super::Failure;
use super::args::{LoadArgs, QuantArgs, TargetArgs};
use super::files::Files;
use super::output::emit;
use clap::Args;
use nmc::Error;
use std::path::PathBuf;

// The arguments of `nmc compile`; its help text is the doc comment of
// `Cmd::Compile` (a doc comment here would replace it).
#[derive(Args, Debug)]
pub(crate) struct CompileArgs {
    /// Model file (.nir float, or .ron quantized).
    pub(crate) model: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    quant: QuantArgs,
    #[command(flatten)]
    load: LoadArgs,
    /// The artifact to write.
    #[arg(short, long)]
    output: PathBuf,
}

impl CompileArgs {
    /// Runs the command.
    pub(crate) fn run(self) -> Result<(), Failure> {
        let CompileArgs {
            model,
            target,
            quant,
            load,
            output,
        } = self;
        let chip = target.chip()?;
        if let Some(x) = chip.xylo() {
            return compile_xylo(x, &model, &load, &output);
        }
        if let Some(l2) = chip.loihi2() {
            return compile_loihi2(l2, &model, &load, &output);
        }
        let t = chip.loihi("compile")?;
        let c = match load.any(&model)? {
            nmc::pipeline::AnyModel::Float(g) => nmc::pipeline::compile(&g, &t, &quant.options(), &Default::default())?,
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
        Ok(())
    }

    /// The files the command reads and writes.
    pub(crate) fn files<'a>(&'a self, f: &mut Files<'a>) {
        f.read([Some(self.model.as_path())]);
        f.target(&self.target);
        f.load(&self.load);
        f.write("-o", Some(self.output.as_path()));
    }
}

/// `nmc compile MODEL --target xylo-*`: a float model to a configuration
/// `.npz` in rockpool's specification form, with the compile report.
fn compile_xylo(
    chip: &nmc_xylo::Chip,
    model: &std::path::Path,
    load: &LoadArgs,
    output: &std::path::Path,
) -> Result<(), Failure> {
    let g = load.float(model, &chip.name)?;
    let report = nmc::xylo::compile(&g, chip, output)?;
    emit(&report.to_string());
    emit(&format!(
        "wrote {} (a {} configuration: the arrays of rockpool's XyloSim.from_specification)\n",
        output.display(),
        chip.name
    ));
    Ok(())
}

/// `nmc compile MODEL --target loihi2`: a float model to a network in Lava's
/// JSON process form (docs/loihi2.md §12), with the compile report.
fn compile_loihi2(
    chip: &nmc_loihi2::Chip,
    model: &std::path::Path,
    load: &LoadArgs,
    output: &std::path::Path,
) -> Result<(), Failure> {
    let g = load.float(model, chip.name())?;
    let report = nmc::loihi2::compile(&g, chip, output)?;
    emit(&report.to_string());
    emit(&format!(
        "wrote {} (Lava 0.10 process arguments; run it with `nmc emulate {} --target {} --input X.npy`)\n",
        output.display(),
        output.display(),
        chip.name()
    ));
    Ok(())
}
