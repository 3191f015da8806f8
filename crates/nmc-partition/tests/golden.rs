#![allow(clippy::unwrap_used)]
//! Golden partition reports (text) in `tests/golden/partition/`: the report
//! of each hand-built case, or the error and the report up to the failure.
//! `NMC_BLESS=1 cargo test -p nmc-partition --test golden` rewrites them.
mod common;

use common::*;
use nmc_partition::{Baseline, PartitionError, PartitionOptions, partition};

fn render(m: &nmc_ir::qmodel::QModel, t: &nmc_target::Target) -> String {
    let opts = PartitionOptions {
        rates: None,
        baseline: m.name.starts_with("seeds_mnist").then(|| Baseline {
            name: "nengo-loihi".into(),
            cores: 47,
        }),
    };
    match partition(m, t, &opts) {
        Ok((_, r)) => r.to_string(),
        Err(PartitionError::NotFit { report, .. }) => {
            let e = partition(m, t, &opts).unwrap_err();
            format!("error: {e}\n{report}")
        }
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn golden_reports() {
    let dir = repo().join("tests/golden/partition");
    let bless = nmc_golden::blessing();
    let mut failed = Vec::new();
    for (name, m, tn) in cases() {
        let text = render(&m, &target(tn));
        if let Err(m) = nmc_golden::check_with(&dir.join(format!("{name}.txt")), &text, bless) {
            failed.push(m);
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The JSON report carries the schema id, parses back, and agrees with the text.
#[test]
fn json_report() {
    let (_, m, tn) = cases().into_iter().find(|c| c.0 == "convnet_tiny").unwrap();
    let (pl, r) = partition(&m, &target(tn), &PartitionOptions::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["schema"], "nmc.partition/1");
    assert_eq!(v["totals"]["cores"], pl.cores.len());
    assert_eq!(v["cores"].as_array().unwrap().len(), pl.cores.len());
    assert_eq!(v["layers"][0]["name"], "c1");
    assert!(v["cores"][0]["usage"][0]["limit"].as_u64().unwrap() == 32);
    // The placement is serde too and round-trips.
    let s = serde_json::to_string(&pl).unwrap();
    let back: nmc_partition::Placement = serde_json::from_str(&s).unwrap();
    assert_eq!(back, pl);
}

/// The network lower bound is a bound: never above the cores a placement
/// uses, never below any single layer's bound, even where layers share a
/// core (the sum of the layers' bounds is not a bound then).
#[test]
fn network_lower_bound_is_a_bound() {
    for (name, m, tn) in cases() {
        let Ok((_, r)) = partition(&m, &target(tn), &PartitionOptions::default()) else {
            continue;
        };
        let lb = r.totals.lower_bound;
        assert!(
            lb <= r.totals.cores,
            "{name}: lower bound {lb} > {} cores used",
            r.totals.cores
        );
        let single = r.layers.iter().map(|l| l.lower_bound).max().unwrap_or(0);
        assert!(lb >= single, "{name}: {lb} below a layer's own bound {single}");
    }
}
