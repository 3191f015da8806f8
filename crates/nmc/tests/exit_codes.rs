//! The exit-code table (docs/cli.md) against every error variant of the
//! façade. The binary takes a failing command's code from
//! `nmc::Error::exit_code` alone; this test pins that function, variant by
//! variant, through an exhaustive match — a new `Error` variant does not
//! compile here until it is given its documented code — and checks the
//! documented table lists every code `nmc::exit` defines.
#![allow(clippy::unwrap_used)]

use nmc::Error;
use nmc::exit;

/// The code docs/cli.md gives each kind of failure.
fn documented(e: &Error) -> i32 {
    match e {
        Error::Partition(nmc_partition::PartitionError::NotFit { .. }) | Error::DoesNotFit(_) | Error::Speck(_) => {
            exit::DOES_NOT_FIT
        }
        Error::Fixed(nmc_reference::FixedError::Overflow(_)) | Error::Emu(nmc_emu::EmuError::Overflow(_)) => {
            exit::OVERFLOW
        }
        Error::Mismatch(_) => exit::MISMATCH,
        Error::Usage(_) | Error::TooLarge(_) => exit::USAGE,
        Error::Structure(_) | Error::Internal(_) => exit::INTERNAL,
        Error::Frontend(_)
        | Error::Sim(_)
        | Error::Quant(_)
        | Error::Partition(_)
        | Error::Fixed(_)
        | Error::Emu(_)
        | Error::Artifact(_)
        | Error::Target(_)
        | Error::Chip(_)
        | Error::SpikeFile(_)
        | Error::BadInput(_)
        | Error::Input { .. }
        | Error::Labels { .. }
        | Error::Io { .. } => exit::INPUT_ERROR,
    }
}

/// A strict-mode overflow, as both integer executions report it.
fn overflow() -> nmc::trace::OverflowEvent {
    nmc::trace::OverflowEvent {
        layer: "l".into(),
        neuron: 0,
        step: 0,
        batch: 0,
        register: nmc::trace::Register::Voltage,
        exact: 1,
        stored: 0,
    }
}

fn missing() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nmc-exit-codes-{}-missing", std::process::id()))
}

/// One real instance of every variant (and of each sub-case the table
/// distinguishes), produced by the calls that produce them where that is
/// cheap.
fn samples() -> Vec<Error> {
    let m = missing();
    let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
    vec![
        nmc::load_model(&m.with_extension("nir"), &Default::default()).unwrap_err(),
        Error::from(nmc_reference::read_array(&m.with_extension("npy")).unwrap_err()),
        Error::from(nmc_quant::read_qmodel(&m.with_extension("ron")).unwrap_err()),
        Error::from(nmc_partition::PartitionError::Options("x".into())),
        Error::DoesNotFit("xylo-audio2: graph: hidden: 1200 hidden neurons do not fit".into()),
        Error::from(nmc_reference::FixedError::Empty("a run of 0 steps".into())),
        Error::from(nmc_reference::FixedError::Overflow(overflow())),
        Error::from(nmc_emu::EmuError::input(nmc_core::Loc::Whole, None, "x")),
        Error::from(nmc_emu::EmuError::Overflow(overflow())),
        Error::from(nmc_artifact::Artifact::read(&m.with_extension("nmca")).unwrap_err()),
        Error::from(nmc_target::Target::load("no-such-target").unwrap_err()),
        Error::from(nmc_speck::Chip::from_file(&m.with_extension("ron")).unwrap_err()),
        Error::from(nmc_speck::SpeckError::Place(nmc_speck::PlaceError::TooManyLayers {
            layers: 10,
            cores: 9,
        })),
        Error::Structure("x".into()),
        Error::from(nmc::spikefile::SpikeFileError::Io {
            path: "f".into(),
            source: io(),
        }),
        Error::Usage("x".into()),
        Error::BadInput("x".into()),
        Error::Mismatch("x".into()),
        Error::Internal("x".into()),
        Error::TooLarge("x".into()),
        Error::Input {
            path: "f".into(),
            error: Box::new(nmc_reference::SimError::Empty("x".into())),
        },
        Error::Labels {
            path: "f".into(),
            message: "x".into(),
        },
        Error::Io {
            path: "f".into(),
            source: io(),
        },
    ]
}

#[test]
fn every_error_variant_has_its_documented_exit_code() {
    let s = samples();
    for e in &s {
        assert_eq!(e.exit_code(), documented(e), "{e:?}");
    }
    // Every code the table distinguishes is reached by some failure (4 by a real
    // NotFit in ci_contract.rs).
    let codes: std::collections::BTreeSet<i32> = s.iter().map(Error::exit_code).collect();
    for c in [
        exit::INTERNAL,
        exit::USAGE,
        exit::INPUT_ERROR,
        exit::MISMATCH,
        exit::OVERFLOW,
    ] {
        assert!(codes.contains(&c), "no sample exits {c}");
    }
}

#[test]
fn the_documented_table_lists_every_code() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md")).unwrap();
    for c in [
        exit::OK,
        exit::INTERNAL,
        exit::USAGE,
        exit::INPUT_ERROR,
        exit::DOES_NOT_FIT,
        exit::MISMATCH,
        exit::OVERFLOW,
        exit::OUTPUT_ERROR,
    ] {
        assert!(
            doc.contains(&format!("\n| {c} | ")),
            "docs/cli.md has no row for exit code {c}"
        );
    }
}
