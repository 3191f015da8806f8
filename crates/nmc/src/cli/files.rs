//! The files a command line reads and writes, and the guard that refuses an
//! output naming an input file or another output.

use super::Failure;
use super::args::{CheckArgs, LoadArgs, TargetArgs};
use crate::Cmd;
use nmc::Error;
use std::path::Path;

/// The files a command reads and the files it writes (with their flags),
/// each in the order of the command's arguments.
#[derive(Default)]
pub(crate) struct Files<'a> {
    /// The files read.
    inputs: Vec<&'a Path>,
    /// The files written, each with its flag.
    outputs: Vec<(&'static str, &'a Path)>,
}

impl<'a> Files<'a> {
    /// Input files (those given).
    pub(crate) fn read<const N: usize>(&mut self, paths: [Option<&'a Path>; N]) {
        self.inputs.extend(paths.into_iter().flatten());
    }
    /// An output file of `flag`, if given.
    pub(crate) fn write(&mut self, flag: &'static str, path: Option<&'a Path>) {
        self.outputs.extend(path.map(|o| (flag, o)));
    }
    /// The files of the model-loading options (`--calibrate`).
    pub(crate) fn load(&mut self, l: &'a LoadArgs) {
        self.inputs.extend(l.calibrate.as_deref());
    }
    /// `--target`, when it names an existing file.
    pub(crate) fn target(&mut self, t: &'a TargetArgs) {
        let p = Path::new(&t.target);
        if p.exists() {
            self.inputs.push(p);
        }
    }
    /// `--expect`: read, or with `--bless` written.
    pub(crate) fn check(&mut self, c: &'a CheckArgs) {
        if let Some(e) = c.expect.as_deref() {
            if c.bless {
                self.outputs.push(("--expect", e));
            } else {
                self.inputs.push(e);
            }
        }
    }
}

/// The files a command reads and the files it writes (with their flags).
fn files_of(cmd: &Cmd) -> Files<'_> {
    let mut f = Files::default();
    match cmd {
        Cmd::Convert(a) => a.files(&mut f),
        Cmd::Inspect(a) => a.files(&mut f),
        Cmd::Simulate(a) => a.files(&mut f),
        Cmd::Quantize(a) => a.files(&mut f),
        Cmd::Partition(a) => a.files(&mut f),
        Cmd::Compile(a) => a.files(&mut f),
        Cmd::Emulate(a) => a.files(&mut f),
        Cmd::Verify(a) => a.files(&mut f),
        Cmd::Targets(a) => a.files(&mut f),
    }
    f
}

/// Refuses a command line on which an output names an input file, or two
/// outputs name one file, by file identity (device and inode; for a file not
/// there yet, its canonical directory and name): `./m.nir`, `m.nir` and a
/// link to it are one file. (`--spikes F --expect F --bless` is the one
/// allowed pair: both record the same spikes; the library writes F once.)
pub(crate) fn same_file_guard(cmd: &Cmd) -> Result<(), Failure> {
    let Files { inputs, outputs } = files_of(cmd);
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
