//! Process exit codes of the `nmc` command. Stable: CI pipelines branch on
//! them (docs/cli.md).

/// Success.
pub const OK: i32 = 0;
/// An internal error (a bug in nmc).
pub const INTERNAL: i32 = 1;
/// Usage error: bad or missing command-line arguments (clap's code).
pub const USAGE: i32 = 2;
/// Input error: a file is unreadable or invalid (model, input array, target).
pub const INPUT_ERROR: i32 = 3;
/// The network does not fit the target's limits.
pub const DOES_NOT_FIT: i32 = 4;
/// Verification mismatch: fixed reference ≠ emulator, or a golden spike
/// file differs.
pub const MISMATCH: i32 = 5;
/// Strict mode: a register of the integer run wrapped or the voltage was
/// clipped (`--strict` on `simulate`, `emulate`, `verify`).
pub const OVERFLOW: i32 = 6;
/// Standard output could not be written (a full disk, an I/O error) by a
/// command that otherwise succeeded. A command that fails for another reason
/// keeps its own code; a reader closing the pipe (`| head`) is not an error.
pub const OUTPUT_ERROR: i32 = 7;
