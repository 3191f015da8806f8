//! Writing NIR: every fixture and the synthetic kitchen-sink graph (every op)
//! written and read back gives the same graph (the same text dump).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn roundtrip(path: PathBuf) {
    let g = nmc_frontend::load(&path, &Default::default()).unwrap();
    let bytes = nmc_frontend::to_nir_bytes(&g, "out.nir").unwrap();
    let back = nmc_frontend::load_nir_bytes("out.nir", &bytes, &Default::default()).unwrap();
    // Same nodes, ops, facts and edges; the dump prints them in schedule order.
    let (a, b) = (g.to_string(), back.to_string());
    // The graph name is the file stem; metadata lines differ by the written version.
    let strip = |s: &str| {
        s.lines()
            .skip(1)
            .filter(|l| !l.trim_start().starts_with("meta "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&a), strip(&b), "{}", path.display());
    assert_eq!(g.dt, back.dt);
    assert_eq!(g.discretization, back.discretization, "{}", path.display());
}

#[test]
fn trained_example_roundtrips() {
    roundtrip(root().join("examples/mnist_conv/mnist_conv.nir"));
}

#[test]
fn every_op_roundtrips() {
    roundtrip(root().join("tests/fixtures/bad-nir/valid/kitchen_sink.nir"));
}

#[test]
fn recurrent_graph_roundtrips() {
    roundtrip(root().join("tests/fixtures/bad-nir/valid/nested_ports.nir"));
}

/// A nengo network (impulse spikes, nengo's rule, refractory and voltage
/// floor in node metadata): written back, its weights are already folded, so
/// the file says `spike_convention = "step"` and reading it gives the same
/// graph — the 1/dt is not applied twice.
#[test]
fn nengo_network_roundtrips_without_folding_twice() {
    let path = root().join("tests/fixtures/nengo/lowpass.nir");
    roundtrip(path.clone());
    let g = nmc_frontend::load(&path, &Default::default()).unwrap();
    let bytes = nmc_frontend::to_nir_bytes(&g, "out.nir").unwrap();
    let back = nmc_frontend::load_nir_bytes("out.nir", &bytes, &Default::default()).unwrap();
    assert_eq!(nmc_ir::SpikeConvention::of(&g), nmc_ir::SpikeConvention::Impulse);
    assert_eq!(nmc_ir::SpikeConvention::of(&back), nmc_ir::SpikeConvention::Step);
    assert_eq!(back.discretization, nmc_ir::Discretization::Nengo);
    assert!(back.to_string().contains("v_min=0"), "{back}");
}
