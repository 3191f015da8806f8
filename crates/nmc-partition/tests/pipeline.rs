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
