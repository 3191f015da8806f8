//! Structure-aware generators of hostile NIR files (issue 18): valid NIR
//! layout, hostile values in the fields that set sizes — Input `shape`
//! dimensions up to 2^40, Conv `padding`/`stride` up to 2^40, Delay seconds
//! from 0 to 1e300 (and NaN, negative), node names up to 30,000 characters (the HDF5 writer used here stores link names in the object header, which caps them near 64 KiB; the committed long_name.nir fixture has 70,000),
//! chains of up to 60 nested subgraphs — plus `.npy` headers with any
//! dimensions (zeros among huge ones). Every file must load or fail with an
//! error naming the node and field; a loaded graph must simulate one step
//! or fail with an error: never a panic, never an allocation the bounds do
//! not allow (an abort fails the whole test binary).
#![allow(clippy::unwrap_used)]

use hdf5_pure::{FileBuilder, GroupBuilder};
use proptest::prelude::*;

/// One hostile graph: input → [conv] → lif → [delay] → output, optionally
/// wrapped in a chain of subgraphs.
#[derive(Debug, Clone)]
struct Spec {
    input: Vec<u64>,
    conv: Option<(u64, u64)>,
    delay: Option<f64>,
    lif_name: String,
    chain: usize,
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..8, Just(0u64), (10u32..41).prop_map(|k| 1u64 << k)]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(size(), 1..4),
        prop::option::of((size(), 1u64..4)),
        prop::option::of(prop_oneof![
            0.0..0.01f64,
            Just(1e6),
            Just(1e300),
            Just(-1.0),
            Just(f64::NAN)
        ]),
        prop_oneof![Just("lif".to_string()), (1usize..30_000).prop_map(|n| "l".repeat(n))],
        prop_oneof![Just(0usize), 1usize..60],
    )
        .prop_map(|(input, conv, delay, lif_name, chain)| Spec {
            input,
            conv,
            delay,
            lif_name,
            chain,
        })
}

fn string(g: &mut GroupBuilder, name: &str, v: &str) {
    g.create_dataset(name).with_vlen_strings(&[v]).with_shape(&[]);
}

fn ints(g: &mut GroupBuilder, name: &str, v: &[u64]) {
    let v: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    g.create_dataset(name).with_i64_data(&v).with_shape(&[v.len() as u64]);
}

fn floats(g: &mut GroupBuilder, name: &str, v: &[f64]) {
    g.create_dataset(name).with_f64_data(v).with_shape(&[v.len() as u64]);
}

fn edges(g: &mut GroupBuilder, e: &[(String, String)]) {
    let flat: Vec<&str> = e.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    g.create_dataset("edges")
        .with_vlen_strings(&flat)
        .with_shape(&[e.len() as u64, 2]);
}

/// Fills `graph` (a NIRGraph group) with the spec's nodes.
fn body(graph: &mut GroupBuilder, s: &Spec) {
    string(graph, "type", "NIRGraph");
    let mut nodes = graph.create_group("nodes");
    let mut e = Vec::new();
    let mut prev = "input".to_string();
    let mut n = nodes.create_group("input");
    string(&mut n, "type", "Input");
    ints(&mut n, "shape", &s.input);
    nodes.add_group(n.finish());
    if let Some((pad, stride)) = s.conv {
        let mut n = nodes.create_group("conv");
        string(&mut n, "type", "Conv2d");
        let c_in = s.input.first().copied().unwrap_or(1).min(4) as usize;
        n.create_dataset("weight")
            .with_f64_data(&vec![0.1; c_in * 9])
            .with_shape(&[1, c_in as u64, 3, 3]);
        floats(&mut n, "bias", &[0.0]);
        ints(&mut n, "stride", &[stride, stride]);
        ints(&mut n, "padding", &[pad, pad]);
        ints(&mut n, "dilation", &[1, 1]);
        n.create_dataset("groups").with_i64_data(&[1]).with_shape(&[]);
        nodes.add_group(n.finish());
        e.push((prev, "conv".to_string()));
        prev = "conv".to_string();
    }
    let mut n = nodes.create_group(&s.lif_name);
    string(&mut n, "type", "LIF");
    for (k, v) in [
        ("tau", 0.01),
        ("r", 1.0),
        ("v_leak", 0.0),
        ("v_threshold", 1.0),
        ("v_reset", 0.0),
    ] {
        floats(&mut n, k, &[v]);
    }
    nodes.add_group(n.finish());
    e.push((prev, s.lif_name.clone()));
    prev = s.lif_name.clone();
    if let Some(d) = s.delay {
        let mut n = nodes.create_group("delay");
        string(&mut n, "type", "Delay");
        floats(&mut n, "delay", &[d]);
        nodes.add_group(n.finish());
        e.push((prev, "delay".to_string()));
        prev = "delay".to_string();
    }
    let mut n = nodes.create_group("output");
    string(&mut n, "type", "Output");
    ints(&mut n, "shape", &s.input);
    nodes.add_group(n.finish());
    e.push((prev, "output".to_string()));
    graph.add_group(nodes.finish());
    edges(graph, &e);
}

/// The spec as NIR bytes; with `chain > 0` the graph sits at the end of a
/// chain of subgraphs `s0 → s1 → …` of Input → Output port pairs.
fn nir(s: &Spec) -> Vec<u8> {
    let mut fb = FileBuilder::new();
    fb.create_dataset("version")
        .with_vlen_strings(&["1.0.8"])
        .with_shape(&[]);
    let mut root = fb.create_group("node");
    if s.chain == 0 {
        body(&mut root, s);
    } else {
        string(&mut root, "type", "NIRGraph");
        let mut nodes = root.create_group("nodes");
        let mut e = Vec::new();
        let mut n = nodes.create_group("input");
        string(&mut n, "type", "Input");
        ints(&mut n, "shape", &s.input);
        nodes.add_group(n.finish());
        let mut prev = "input".to_string();
        for i in 0..s.chain {
            let name = format!("s{i}");
            let mut g = nodes.create_group(&name);
            if i + 1 == s.chain {
                body(&mut g, s);
            } else {
                string(&mut g, "type", "NIRGraph");
                let mut inner = g.create_group("nodes");
                for (k, t) in [("input", "Input"), ("output", "Output")] {
                    let mut p = inner.create_group(k);
                    string(&mut p, "type", t);
                    ints(&mut p, "shape", &s.input);
                    inner.add_group(p.finish());
                }
                g.add_group(inner.finish());
                edges(&mut g, &[("input".into(), "output".into())]);
            }
            nodes.add_group(g.finish());
            e.push((prev, name.clone()));
            prev = name;
        }
        let mut n = nodes.create_group("output");
        string(&mut n, "type", "Output");
        ints(&mut n, "shape", &s.input);
        nodes.add_group(n.finish());
        e.push((prev, "output".to_string()));
        root.add_group(nodes.finish());
        edges(&mut root, &e);
    }
    fb.add_group(root.finish());
    fb.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn hostile_size_fields_load_or_fail_cleanly(s in spec()) {
        let bytes = nir(&s);
        match nmc_frontend::load_nir_bytes("gen.nir", &bytes, &Default::default()) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("gen.nir"), "the error names the file: {msg}");
            }
            Ok(g) => {
                // One sample, one step of zeros: a graph that loaded is
                // simulated or refused, never allocated beyond the bounds.
                let features: usize = g.input_nodes().first().map_or(0, |&i| g.node(i).out.shape.numel());
                prop_assume!(features <= 1 << 16);
                let x = ndarray::Array3::zeros((1, 1, features));
                let stim = nmc_reference::Stimulus::new(x).unwrap();
                let _ = nmc_reference::simulate(&g, &stim, &Default::default());
            }
        }
    }

    #[test]
    fn npy_headers_with_any_dimensions_never_panic(
        dims in prop::collection::vec(prop_oneof![Just(0u64), 1u64..5, (20u32..64).prop_map(|k| 1u64 << k)], 0..5),
        descr in prop_oneof![Just("<f8"), Just("<f4"), Just("|u1"), Just("<i8"), Just("|b1")],
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let shape: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        let shape = match shape.len() {
            1 => format!("({},)", shape[0]),
            _ => format!("({})", shape.join(", ")),
        };
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(&data);
        // Ok or Err, never a panic or an unbounded allocation.
        let _ = nmc_reference::read_array_bytes("gen.npy", &b);
    }
}
