#![allow(clippy::unwrap_used)]
//! End to end on small hand-built models: partition, both verifiers, emit, emulate.
mod common;

use common::*;
use nmc_partition::{PartitionError, PartitionOptions};

#[test]
fn dense_chain_on_tiny_runs() {
    let t = target("tiny");
    let m = nmc_partition::examples::dense_chain(&[16, 30, 20, 10], 3);
    let (pl, rep, a) = pipeline(&m, &t, &PartitionOptions::default());
    println!("{rep}");
    assert!(pl.cores.len() >= 4);
    a_equals_b(&m, &t, &a, 30, 5);
}

#[test]
fn fan_in_beyond_the_axons_of_a_core_is_named() {
    let t = target("tiny");
    let m = nmc_partition::examples::dense_chain(&[20, 70, 10], 3);
    let e = nmc_partition::partition(&m, &t, &PartitionOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PartitionError::NotFit { .. }), "{msg}");
    assert!(
        msg.contains("`d2`") && msg.contains("single neuron") && msg.contains("70") && msg.contains("64"),
        "{msg}"
    );
}

fn run_emu(m: &nmc_ir::qmodel::QModel, a: &nmc_artifact::Artifact) {
    a_equals_b(m, &target("tiny"), a, 25, 11);
}

#[test]
fn conv_net_on_tiny_spans_chips() {
    let t = target("tiny");
    let mut b = nmc_partition::examples::NetBuilder::new("convnet", 2, &t);
    let x = b.events_input("in", &[1, 6, 6]);
    let c1 = b.conv("c1", x, 4, 3, 1, 1);
    let c2 = b.conv("c2", c1, 4, 3, 2, 0);
    let d = b.dense("d", c2, 8);
    b.output("out", d);
    let m = b.build();
    let (pl, rep, a) = pipeline(&m, &t, &PartitionOptions::default());
    println!("{rep}");
    assert!(rep.totals.chips >= 2, "{rep}");
    assert!(pl.cores.len() >= 8);
    run_emu(&m, &a);
}

#[test]
fn host_encoder_and_recurrence() {
    let t = target("tiny");
    let mut b = nmc_partition::examples::NetBuilder::new("enc_rec", 4, &t);
    let x = b.real_input("img", &[1, 6, 6]);
    let e = b.conv("enc", x, 2, 1, 1, 0);
    let c = b.conv("c", e, 3, 3, 1, 0);
    let d = b.dense("d", c, 12);
    b.sparse_into(d, d, 4);
    b.output("out", d);
    let m = b.build();
    let (_pl, rep, a) = pipeline(&m, &t, &PartitionOptions::default());
    println!("{rep}");
    assert_eq!(a.host.len(), 1);
    run_emu(&m, &a);
}

#[test]
fn depthwise_conv_zero_weights_and_thresholds_per_neuron() {
    let t = target("tiny");
    let mut b = nmc_partition::examples::NetBuilder::new("dw", 5, &t);
    b.zeros = 0.3;
    b.vth_variants = 6;
    let x = b.events_input("in", &[2, 4, 4]);
    let c = b.conv_grouped("dw", x, 4, 3, 1, 1, 2);
    let d = b.conv("c", c, 2, 3, 2, 0);
    b.output("out", d);
    let m = b.build();
    let (_pl, rep, a) = pipeline(&m, &t, &PartitionOptions::default());
    println!("{rep}");
    run_emu(&m, &a);
}

#[test]
fn rates_weigh_traffic_and_host_spikes() {
    let (_, m, tn) = cases().into_iter().find(|c| c.0 == "encoder_recurrent_tiny").unwrap();
    let t = target(tn);
    let rates: Vec<Vec<f64>> = m
        .populations
        .iter()
        .enumerate()
        .map(|(k, p)| (0..p.shape.numel()).map(|i| ((i + k) % 5) as f64 * 10.0).collect())
        .collect();
    let opts = PartitionOptions {
        rates: Some(rates.clone()),
        baseline: None,
    };
    let (_, rep, _) = pipeline(&m, &t, &opts);
    assert_eq!(rep.totals.traffic_unit, "spikes/s");
    let h = &rep.host[0];
    let want: f64 = rates[0].iter().map(|r| r * m.dt).sum();
    assert!((h.spikes_per_step.unwrap() - want).abs() < 1e-9);
    assert!(h.events_per_step.unwrap() >= want);
    assert!(rep.to_string().contains("spikes/s"));
    // Rates of the wrong length are refused.
    let mut bad = rates;
    bad[1].pop();
    let e = nmc_partition::partition(
        &m,
        &t,
        &PartitionOptions {
            rates: Some(bad),
            baseline: None,
        },
    )
    .unwrap_err();
    assert!(matches!(e, PartitionError::Options(_)), "{e}");
}

#[test]
fn emit_refuses_a_broken_placement_and_a_wrong_latency() {
    let (_, m, tn) = cases().into_iter().find(|c| c.0 == "convnet_tiny").unwrap();
    let t = target(tn);
    let (pl, _) = nmc_partition::partition(&m, &t, &PartitionOptions::default()).unwrap();
    // A block moved onto another core overlaps that core's compartments.
    let mut bad = pl.clone();
    if let nmc_partition::LayerPlacement::Chip { blocks, .. } = &mut bad.layers[0] {
        blocks[0].core = blocks[1].core;
    }
    let e = nmc_partition::emit(&m, &bad, &t).unwrap_err();
    assert!(matches!(e, PartitionError::Invalid(_)), "{e}");
    // A neuron left out.
    let mut bad = pl.clone();
    if let nmc_partition::LayerPlacement::Chip { blocks, .. } = &mut bad.layers[0] {
        blocks[0].tile.c.end -= 1;
    }
    let e = nmc_partition::verify(&m, &t, &bad).unwrap_err();
    let first = nmc_core::Loc::Layer(m.populations[0].name.clone());
    assert!(
        e.problems
            .iter()
            .any(|p| p.loc == first && p.field == Some("blocks") && p.message.contains("not placed")),
        "{e}"
    );
    // A core id beyond the system.
    let mut bad = pl.clone();
    bad.cores[0].chip = 99;
    assert!(nmc_partition::verify(&m, &t, &bad).is_err());
    // A connection whose latency is not the chip's.
    let mut m2 = m.clone();
    m2.populations[1].inputs[0].latency = 5;
    let e = nmc_partition::emit(&m2, &pl, &t).unwrap_err();
    assert!(matches!(e, PartitionError::Latency { .. }), "{e}");
    let e = nmc_partition::partition(&m2, &t, &PartitionOptions::default()).unwrap_err();
    assert!(e.to_string().contains("latency 5"), "{e}");
}

#[test]
fn verify_artifact_catches_an_over_full_core() {
    let (_, m, tn) = cases().into_iter().find(|c| c.0 == "convnet_tiny").unwrap();
    let t = target(tn);
    let (_, _, a) = pipeline(&m, &t, &PartitionOptions::default());
    // The same artifact checked against a smaller target.
    let small = tiny_with(&[
        ("max_compartments: 32", "max_compartments: 16"),
        ("max_base: 31", "max_base: 15"),
        ("max_base: 28", "max_base: 12"),
    ]);
    let mut a2 = a.clone();
    a2.target_name = small.name().to_string();
    a2.target_ron = small.to_ron().unwrap();
    let e = nmc_partition::verify_artifact(&a2, &small).unwrap_err();
    assert!(
        e.problems
            .iter()
            .any(|p| p.loc.core().is_some() && p.field == Some("compartments")),
        "{e}"
    );
    // A table entry beyond a dense run.
    let mut a3 = a.clone();
    let c = a3.cores.iter_mut().find(|c| !c.tables.is_empty()).unwrap();
    c.tables[0].syns.reverse();
    assert!(nmc_partition::verify_artifact(&a3, &t).is_err());
}
