//! One test per kind of bad input: each error names the file, the node path
//! and the field when there is one. Byte-level damage (empty, random,
//! truncated) is made here from real files; structural damage comes from the
//! committed files of tests/fixtures/bad-nir/ (see make.py there).

mod common;

use common::{bad_nir, paper, temp_file};
use nmc_frontend::{FrontendError, LoadOptions, load, load_nir, load_nir_bytes};

fn err(path: &std::path::Path) -> FrontendError {
    match load(path, &LoadOptions::default()) {
        Ok(g) => panic!("{} should not load, got:\n{g}", path.display()),
        Err(e) => e,
    }
}

/// Loads a bad fixture and checks file, node, field and message fragments.
fn check(file: &str, node: Option<&str>, field: Option<&str>, fragments: &[&str]) -> FrontendError {
    let e = err(&bad_nir(file));
    let msg = e.to_string();
    assert!(
        msg.starts_with(&bad_nir(file).display().to_string()),
        "names the file: {msg}"
    );
    assert_eq!(e.node(), node, "node of: {msg}");
    assert_eq!(e.field(), field, "field of: {msg}");
    if let Some(n) = node {
        assert!(msg.contains(&format!("node `{n}`")), "{msg}");
    }
    if let Some(f) = field {
        assert!(msg.contains(&format!("field `{f}`")), "{msg}");
    }
    for frag in fragments {
        assert!(msg.contains(frag), "message lacks {frag:?}: {msg}");
    }
    e
}

#[test]
fn unknown_node_type_lists_the_supported_ones() {
    check(
        "unknown_type.nir",
        Some("lif"),
        Some("type"),
        &[
            "unknown node type `Sigmoid`",
            "supported types: Input, Output, Affine",
            "CubaLIF, NIRGraph",
        ],
    );
}

#[test]
fn missing_field() {
    check(
        "missing_field.nir",
        Some("lif"),
        Some("tau"),
        &["missing field", "LIF node needs tau, r, v_leak, v_threshold"],
    );
}

#[test]
fn unexpected_extra_field() {
    check(
        "extra_field.nir",
        Some("lif"),
        Some("gain"),
        &["unexpected field for a LIF node", "accepted extras: input_type"],
    );
}

#[test]
fn field_of_wrong_rank() {
    check(
        "wrong_rank.nir",
        Some("fc"),
        Some("weight"),
        &["expected rank 2 [out, in], got rank 3 (shape [4,3,1])"],
    );
}

#[test]
fn shapes_disagreeing_along_an_edge() {
    let e = check(
        "shape_mismatch.nir",
        Some("fc"),
        Some("weight"),
        &["expects input 5 elements (weight is [4,5]), got [3]"],
    );
    assert!(matches!(e, FrontendError::Build { .. }));
}

#[test]
fn edge_naming_a_missing_node() {
    check(
        "missing_edge_node.nir",
        Some("ghost"),
        Some("edges"),
        &["edge `fc` -> `ghost`", "does not exist", "has: fc, input, lif, output"],
    );
}

#[test]
fn duplicate_edge() {
    check(
        "duplicate_edge.nir",
        Some("lif"),
        Some("edges"),
        &["duplicate edge `fc` -> `lif`"],
    );
}

#[test]
fn unsupported_element_type() {
    check(
        "unsupported_dtype.nir",
        Some("fc"),
        Some("weight"),
        &["unsupported element type compound", "float32, float64"],
    );
}

#[test]
fn neuron_parameters_of_different_shapes() {
    check(
        "param_shapes.nir",
        Some("lif"),
        Some("r"),
        &["shape [5] disagrees with `tau` of shape [4]"],
    );
}

#[test]
fn non_positive_time_constant_fails_verification() {
    let e = check("negative_tau.nir", Some("lif"), Some("tau"), &["must be > 0", "-0.01"]);
    assert!(matches!(e, FrontendError::Verify { .. }));
}

#[test]
fn metadata_dt_that_is_not_a_number() {
    check(
        "bad_dt.nir",
        None,
        Some("metadata.dt"),
        &["expected one number (seconds)", "\"fast\""],
    );
}

#[test]
fn same_padding_that_needs_asymmetric_padding() {
    check(
        "same_padding_even_kernel.nir",
        Some("conv"),
        Some("padding"),
        &["\"same\" with kernel 2", "asymmetric padding"],
    );
}

#[test]
fn flatten_input_type_disagreeing_with_the_incoming_value() {
    check(
        "flatten_input_type.nir",
        Some("flat"),
        Some("input_type"),
        &["declares input shape [2,3,5] but the incoming value has shape [2,3,4]"],
    );
}

#[test]
fn edge_into_a_subgraph_with_several_inputs() {
    check(
        "ambiguous_subgraph.nir",
        Some("sub"),
        Some("edges"),
        &["several Input nodes (sub.a, sub.b)"],
    );
}

#[test]
fn subgraph_port_shape_disagreeing_with_what_flows_in() {
    check(
        "subgraph_port_shape.nir",
        Some("sub.input"),
        Some("shape"),
        &["declares [5] (5 elements) but receives [4] from `input`"],
    );
}

#[test]
fn hdf5_file_that_is_not_a_nir_graph() {
    check(
        "not_nir.nir",
        None,
        None,
        &["not a NIR graph file", "no `node` group", "[data]"],
    );
}

#[test]
fn empty_file() {
    let p = temp_file("empty.nir", &[]);
    let e = err(&p);
    let msg = e.to_string();
    assert!(matches!(e, FrontendError::Container { .. }), "{e:?}");
    assert!(msg.starts_with(&p.display().to_string()), "{msg}");
    assert!(msg.contains("empty file (0 bytes)"), "{msg}");
    let _ = std::fs::remove_file(p);
}

#[test]
fn random_bytes_are_not_hdf5() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let p = temp_file("random.nir", &bytes);
    let msg = err(&p).to_string();
    assert!(msg.starts_with(&p.display().to_string()), "{msg}");
    assert!(msg.contains("not an HDF5 file (no HDF5 signature found)"), "{msg}");
    let _ = std::fs::remove_file(p);
}

#[test]
fn truncated_file() {
    let bytes = std::fs::read(paper("02_cnn/cnn_sinabs.nir")).unwrap();
    let half = bytes.len() / 2;
    let p = temp_file("cnn_half.nir", &bytes[..half]);
    let e = err(&p);
    let msg = e.to_string();
    assert!(msg.starts_with(&p.display().to_string()), "{msg}");
    assert!(
        msg.contains(&format!(
            "truncated HDF5 file: it has {half} bytes but its superblock says the file is {} bytes",
            bytes.len()
        )),
        "{msg}"
    );
    let _ = std::fs::remove_file(p);
}

#[test]
fn file_truncated_inside_the_header() {
    let bytes = std::fs::read(paper("01_lif/lif_norse.nir")).unwrap();
    let e = load_nir_bytes("lif_norse.nir", &bytes[..20], &LoadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("lif_norse.nir: truncated HDF5 file"), "{msg}");
}

#[test]
fn unsupported_extension_names_the_supported_formats() {
    let p = std::path::Path::new("model.pt");
    let e = load(p, &LoadOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "model.pt: unsupported model format .pt; supported formats: .nir (NIR graph in HDF5), .onnx (ANN, \
         converted to a spiking network)"
    );
    let e = load(std::path::Path::new("model"), &LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("(no extension)"), "{e}");
}

#[test]
fn missing_file() {
    let p = std::path::Path::new("/nonexistent/dir/net.nir");
    let e = load_nir(p, &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, FrontendError::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/net.nir: cannot read the file"),
        "{e}"
    );
    assert_eq!(e.file(), "/nonexistent/dir/net.nir");
}

#[test]
fn extension_is_case_insensitive() {
    let bytes = std::fs::read(paper("01_lif/lif_norse.nir")).unwrap();
    let p = temp_file("upper.NIR", &bytes);
    assert!(load(&p, &LoadOptions::default()).is_ok());
    let _ = std::fs::remove_file(p);
}

#[test]
fn unknown_spike_convention_names_the_accepted_values() {
    check(
        "unknown_spike_convention.nir",
        None,
        Some("metadata.spike_convention"),
        &["unknown spike convention \"nengo\"", "`step`, `impulse`"],
    );
}

#[test]
fn spike_convention_that_is_not_a_string() {
    check(
        "spike_convention_number.nir",
        None,
        Some("metadata.spike_convention"),
        &["expected a string (`step` or `impulse`), got 1"],
    );
}

#[test]
fn unknown_discretization_names_the_accepted_values() {
    check(
        "unknown_discretization.nir",
        None,
        Some("metadata.discretization"),
        &["unknown discretization \"rk4\"", "`exact`, `euler`, `nengo`"],
    );
}

#[test]
fn min_voltage_must_be_one_number_per_population() {
    check(
        "min_voltage_per_neuron.nir",
        Some("lif"),
        Some("metadata.min_voltage"),
        &["expected one number of volts for the whole population"],
    );
}

#[test]
fn min_voltage_above_the_threshold_fails_verification() {
    let e = check(
        "min_voltage_above_threshold.nir",
        Some("lif"),
        Some("v_min"),
        &["is not below neuron 0's threshold"],
    );
    assert!(matches!(e, FrontendError::Verify { .. }));
}

#[test]
fn options_override_the_file_conventions() {
    // The file's unknown value is not read when the option gives one.
    let o = LoadOptions {
        spike_convention: Some(nmc_ir::SpikeConvention::Impulse),
        discretization: Some(nmc_ir::Discretization::Nengo),
        ..LoadOptions::default()
    };
    let g = load(&bad_nir("unknown_spike_convention.nir"), &o).unwrap();
    assert_eq!(nmc_ir::SpikeConvention::of(&g), nmc_ir::SpikeConvention::Impulse);
    let g = load(&bad_nir("unknown_discretization.nir"), &o).unwrap();
    assert_eq!(g.discretization, nmc_ir::Discretization::Nengo);
}
