//! Float host layers (issues 12 and 15): a host layer that runs the float
//! model in f64 on the host. On the nengo fixtures with their first layer
//! off chip (`<net>_host.nir`), compiled for loihi1 with the default
//! `--host-layers auto` (float under the nengo rule): the host layer's
//! spikes in the emulator equal the float reference's spikes of that layer
//! bit for bit; A = B holds on every layer; a corrupted float weight in the
//! artifact breaks A = B; `integer` keeps the old integer compartment; the
//! QModel and the artifact keep the float layer through their files.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use ndarray::Array3;
use nmc::pipeline::{Compiled, compile, run_a_and_b};
use nmc_frontend::LoadOptions;
use nmc_ir::Graph;
use nmc_quant::{HostLayers, QuantOptions};
use nmc_reference::{SimOptions, Stimulus, simulate};
use nmc_target::Target;
use std::path::PathBuf;

const NETS: [(&str, &str); 3] = [("dense", "h1"), ("conv", "c1"), ("lowpass", "h1")];

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/nengo").join(name)
}

fn load(net: &str) -> (Graph, Stimulus) {
    let g = nmc_frontend::load(&fixture(&format!("{net}_host.nir")), &LoadOptions::default()).unwrap();
    let x: Array3<f64> = ndarray_npy::read_npy(fixture(&format!("{net}.input.npy"))).unwrap();
    (g, Stimulus::new(x).unwrap())
}

fn build(g: &Graph, t: &Target, h: HostLayers) -> Compiled {
    compile(g, t, &QuantOptions::default().host_layers(h), &Default::default()).unwrap()
}

#[test]
fn float_host_layer_is_the_float_reference_bit_for_bit_and_a_equals_b() {
    let t = Target::builtin("loihi1").unwrap();
    for (net, host) in NETS {
        let (g, stim) = load(net);
        let c = build(&g, &t, HostLayers::Auto);
        let k = c.qmodel.populations.iter().position(|p| p.name == host).unwrap();
        assert!(
            c.qmodel.populations[k].float.is_some(),
            "{net}: auto is float under nengo"
        );
        assert_eq!(c.artifact.float_host.len(), 1, "{net}");
        let steps = stim.steps();
        let (fixed, em, exact) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
        assert!(exact.equal, "{net}: {exact}");
        assert_eq!(fixed.trace, em.trace, "{net}");
        let float = simulate(&g, &stim, &SimOptions::default()).unwrap();
        let fl = float.layer(host).unwrap();
        let bl = em.trace.layer(host).unwrap();
        let n = fl.neurons();
        let (mut spikes, mut differ) = (0usize, 0usize);
        for b in 0..stim.batch() {
            for s in 0..steps {
                for i in 0..n {
                    let f = fl.spiked(b, s, i);
                    spikes += usize::from(f);
                    differ += usize::from(f != bl.spikes[(b * steps + s) * n + i]);
                }
            }
        }
        eprintln!("{net}/{host}: {spikes} float spikes, {differ} differing bits in the emulator");
        assert!(spikes > 100, "{net}: the host layer is driven");
        assert_eq!(
            differ, 0,
            "{net}: the emulator's float host layer is the float reference's"
        );

        // The integer host layer is not: the old path, kept by --host-layers integer.
        let ci = build(&g, &t, HostLayers::Integer);
        assert!(ci.qmodel.populations[k].float.is_none() && ci.artifact.float_host.is_empty());
        let (_, emi, exact_i) = run_a_and_b(&ci, &t, &stim, steps, false).unwrap();
        assert!(exact_i.equal, "{net}: {exact_i}");
        assert_ne!(
            emi.trace.layer(host).unwrap().spikes,
            bl.spikes,
            "{net}: integer differs"
        );
    }
}

/// A float weight of the artifact changed: B's host layer changes, A's does
/// not, so A = B fails and names the host layer.
#[test]
fn a_corrupted_float_weight_breaks_a_equals_b() {
    let t = Target::builtin("loihi1").unwrap();
    let (g, stim) = load("dense");
    let mut c = build(&g, &t, HostLayers::Float);
    match &mut c.artifact.float_host[0].weights {
        nmc_artifact::ReadoutWeights::Dense { w, .. } | nmc_artifact::ReadoutWeights::Sparse { w, .. } => {
            for x in w.iter_mut().take(64) {
                *x += 0.5;
            }
        }
    }
    let (_, _, exact) = run_a_and_b(&c, &t, &stim, stim.steps(), false).unwrap();
    assert!(!exact.equal);
    assert!(exact.to_string().contains("h1"), "{exact}");
}

/// The QModel (RON, schema 3) and the artifact (format 3) keep the float
/// layer; a schema-2 QModel cannot hold one.
#[test]
fn files_keep_the_float_host_layer() {
    let t = Target::builtin("loihi1").unwrap();
    let (g, _) = load("conv");
    let c = build(&g, &t, HostLayers::Auto);
    let ron = nmc_quant::qmodel_to_ron(&c.qmodel).unwrap();
    assert_eq!(nmc_quant::qmodel_from_ron(&ron, "m.q.ron").unwrap(), c.qmodel);
    let bytes = c.artifact.to_bytes().unwrap();
    assert_eq!(
        nmc_artifact::Artifact::from_bytes("a.nmca", &bytes).unwrap(),
        c.artifact
    );
    let old = ron.replacen("schema_version: 3", "schema_version: 2", 1);
    let e = nmc_quant::qmodel_from_ron(&old, "m.q.ron").unwrap_err().to_string();
    assert!(e.contains("float") && e.contains("schema_version 3"), "{e}");
    // Reports name it.
    let qr = c.quant_report.as_ref().unwrap();
    assert_eq!(qr.populations[0].host_model.as_deref(), Some("float (nengo)"));
    assert!(qr.to_string().contains("host float (nengo)"), "{qr}");
    assert_eq!(c.partition_report.host[0].model.as_deref(), Some("float"));
    assert!(c.partition_report.to_string().contains("c1 (float, f64)"));
}
