//! Shared test helpers: run the whole pipeline and check every invariant.
#![allow(dead_code)]

use nmc_artifact::Artifact;
use nmc_ir::qmodel::{InputEncoding, QModel};
use nmc_partition::{
    PartitionOptions, PartitionReport, Placement, emit, partition, usage, verify, verify_artifact,
    verify_artifact_synapses,
};
use nmc_target::Target;

pub fn target(name: &str) -> Target {
    Target::builtin(name).unwrap()
}

/// A variant of `tiny` with edited RON fields (`(old, new)` text pairs).
pub fn tiny_with(edits: &[(&str, &str)]) -> Target {
    let mut src = nmc_target::builtin_source("tiny").unwrap().to_string();
    for (a, b) in edits {
        assert!(src.contains(a), "`{a}` not in tiny.ron");
        src = src.replacen(a, b, 1);
    }
    Target::from_ron_str(&src, "tiny-edit").unwrap()
}

/// Partition, verify both ways, emit, compare the placement's usage with
/// the artifact's, compare synapses with the model, emit again
/// (determinism). Returns everything.
pub fn pipeline(m: &QModel, t: &Target, opts: &PartitionOptions) -> (Placement, PartitionReport, Artifact) {
    let (pl, rep) = partition(m, t, opts).unwrap_or_else(|e| panic!("partition failed: {e}"));
    let u = verify(m, t, &pl).unwrap_or_else(|e| panic!("placement invalid: {e}"));
    let a = emit(m, &pl, t).unwrap_or_else(|e| panic!("emit failed: {e}"));
    let ua = verify_artifact(&a, t).unwrap_or_else(|e| panic!("artifact invalid: {e}"));
    assert_eq!(u.len(), ua.len());
    for (i, (x, y)) in u.iter().zip(&ua).enumerate() {
        assert_eq!(x, y, "core {i}: placement usage != artifact usage");
    }
    assert_eq!(usage(m, t, &pl).unwrap(), u);
    verify_artifact_synapses(m, &a).unwrap_or_else(|e| panic!("artifact synapses: {e}"));
    let a2 = emit(m, &pl, t).unwrap();
    assert_eq!(
        a.to_bytes().unwrap(),
        a2.to_bytes().unwrap(),
        "emit is not deterministic"
    );
    let (pl2, rep2) = partition(m, t, opts).unwrap();
    assert_eq!(pl, pl2, "partition is not deterministic");
    assert_eq!(rep.to_json(), rep2.to_json());
    assert_eq!(rep.totals.cores as usize, a.cores.len());
    (pl, rep, a)
}

/// Random inputs for every model input: events (0/1) or reals in [0, 1).
pub fn inputs(m: &QModel, steps: usize, seed: u64) -> Vec<nmc_emu::InputData> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    m.inputs
        .iter()
        .map(|i| {
            let f = i.shape.numel();
            let data = (0..steps * f)
                .map(|_| match i.encoding {
                    InputEncoding::Events => (next() % 3 == 0) as u8 as f64,
                    InputEncoding::Real { .. } => (next() % 1000) as f64 / 1000.0,
                })
                .collect();
            nmc_emu::InputData {
                batch: 1,
                steps,
                features: f,
                data,
            }
        })
        .collect()
}

/// The differential rule: the fixed-point reference (spikes A) of the model
/// equals the emulated artifact (spikes B) on every neuron at every step.
pub fn a_equals_b(m: &QModel, t: &Target, a: &Artifact, steps: usize, seed: u64) {
    a_equals_b_spikes(m, t, a, steps, seed, true);
}

/// As [`a_equals_b`]; `need_spikes`: fail when nothing spikes.
pub fn a_equals_b_spikes(m: &QModel, t: &Target, a: &Artifact, steps: usize, seed: u64, need_spikes: bool) {
    let ins = inputs(m, steps, seed);
    assert!(ins.len() <= 1, "the fixed reference takes one input");
    let stim = match ins.first() {
        Some(i) => nmc_reference::Stimulus::new(
            ndarray::Array3::from_shape_vec((1, steps, i.features), i.data.clone()).unwrap(),
        )
        .unwrap(),
        None => nmc_reference::Stimulus::new(ndarray::Array3::zeros((1, steps, 0))).unwrap(),
    };
    let fixed = nmc_reference::simulate_fixed(m, t, &stim, &nmc_reference::FixedOptions::default()).unwrap();
    let emu = nmc_emu::Emulator::new(a).unwrap();
    let r = emu.run(&ins, steps).unwrap();
    // A = B: the same trace (spikes, read-out voltages, overflow counts, first overflow).
    assert_eq!(fixed.trace.first_difference(&r.trace), None, "A != B");
    assert!(fixed.trace == r.trace);
    let total: u64 = r.trace.layers.iter().map(|l| l.total()).sum();
    assert!(total > 0 || !need_spikes, "no spikes at all: the test says nothing");
}

/// Hand-built models used by several tests: (name, model, target name).
pub fn cases() -> Vec<(&'static str, QModel, &'static str)> {
    use nmc_partition::examples::{NetBuilder, dense_chain, seeds_mnist};
    let tiny = target("tiny");
    let loihi1 = target("loihi1");
    let mut v = vec![("dense_chain_tiny", dense_chain(&[16, 30, 20, 10], 3), "tiny")];
    let mut b = NetBuilder::new("convnet", 2, &tiny);
    let x = b.events_input("in", &[1, 6, 6]);
    let c1 = b.conv("c1", x, 4, 3, 1, 1);
    let c2 = b.conv("c2", c1, 4, 3, 2, 0);
    let d = b.dense("d", c2, 8);
    b.output("out", d);
    v.push(("convnet_tiny", b.build(), "tiny"));
    let mut b = NetBuilder::new("enc_rec", 4, &tiny);
    let x = b.real_input("img", &[1, 6, 6]);
    let e = b.conv("enc", x, 2, 1, 1, 0);
    let c = b.conv("c", e, 3, 3, 1, 0);
    let d = b.dense("d", c, 12);
    b.sparse_into(d, d, 4);
    b.output("out", d);
    v.push(("encoder_recurrent_tiny", b.build(), "tiny"));
    v.push(("seeds_mnist_loihi1", seeds_mnist(&loihi1, false, 1), "loihi1"));
    v.push(("seeds_mnist_encoder_loihi1", seeds_mnist(&loihi1, true, 1), "loihi1"));
    v.push(("seeds_mnist_encoder_tiny", seeds_mnist(&tiny, true, 1), "tiny"));
    v
}

/// The repository root.
pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
