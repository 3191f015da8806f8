//! Standard output and error of the command: writing reports (a closed pipe
//! or a failed write never loses the verdict), notes, and the final exit code.

use nmc::exit;
use std::process::ExitCode;

/// What became of standard output: still writable, closed by the reader
/// (`nmc inspect … | head`: later output is dropped quietly), or failed
/// (`>/dev/full`: the run goes on and ends with [`exit::OUTPUT_ERROR`] unless
/// it already ends with a non-zero code). The verdict of a command is never
/// lost to its output: see `final_code`.
static STDOUT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(STDOUT_OK);
const STDOUT_OK: u8 = 0;
const STDOUT_CLOSED: u8 = 1;
const STDOUT_FAILED: u8 = 2;

/// Writes to stdout (see [`STDOUT`]).
pub(crate) fn emit(s: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT.load(Ordering::Relaxed) != STDOUT_OK {
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT.store(STDOUT_CLOSED, Ordering::Relaxed);
        } else {
            STDOUT.store(STDOUT_FAILED, Ordering::Relaxed);
            note(&format!("error: cannot write standard output: {e}"));
        }
    }
}

/// Writes one line to stderr; a failure to do so is not itself reported
/// (there is nowhere left to report it) and never changes the exit code.
pub(crate) fn note(line: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// The exit code of a finished command: its own code, or
/// [`exit::OUTPUT_ERROR`] when it succeeded but its standard output could
/// not be written. A closed pipe is not a failure.
pub(crate) fn final_code(code: i32) -> ExitCode {
    let failed = STDOUT.load(std::sync::atomic::Ordering::Relaxed) == STDOUT_FAILED;
    let code = if code == exit::OK && failed {
        exit::OUTPUT_ERROR
    } else {
        code
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
