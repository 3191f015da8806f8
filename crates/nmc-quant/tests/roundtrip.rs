#![allow(clippy::unwrap_used)]
//! QModel files: write → read gives the same model; broken files give
//! errors naming the file, the position and the field.

mod common;

use common::*;
use nmc_ir::NeuronModel;
use nmc_quant::{QuantError, QuantOptions, qmodel_from_ron, qmodel_to_ron, quantize, read_qmodel, write_qmodel};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nmc-quant-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn mnist_conv_round_trip() {
    let g = load(&repo().join("examples/mnist_conv/mnist_conv.nir"));
    let (m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    let p = tmp("mnist_conv.q.ron");
    write_qmodel(&p, &m).unwrap();
    let back = read_qmodel(&p).unwrap();
    assert_eq!(back, m);
    // Deterministic: writing again gives the same bytes.
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(qmodel_to_ron(&back).unwrap(), text);
}

#[test]
fn small_models_round_trip() {
    for model in [NeuronModel::If, NeuronModel::Lif, NeuronModel::CubaLif] {
        let mut n = neuron(model, 3, 7e-3, 2e-3, 1.3, 0.7);
        n.refractory = 3e-3;
        let g = dense_graph(
            n,
            vec![0.5, -1.0, 0.25, 2.0, 0.0, -0.125],
            Some(vec![0.1, -0.2, 0.0]),
            1e-3,
        );
        let (m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
        let text = qmodel_to_ron(&m).unwrap();
        assert_eq!(qmodel_from_ron(&text, "mem").unwrap(), m);
    }
}

fn sample_text() -> String {
    let g = dense_graph(
        neuron(NeuronModel::If, 2, 0.0, 0.0, 1.0, 1.0),
        vec![0.5, -1.0, 0.25, 2.0],
        None,
        1e-3,
    );
    let (m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    qmodel_to_ron(&m).unwrap()
}

#[test]
fn other_schema_version() {
    let text = sample_text().replacen("schema_version: 3", "schema_version: 4", 1);
    let p = tmp("v4.q.ron");
    std::fs::write(&p, text).unwrap();
    let e = read_qmodel(&p).unwrap_err();
    assert!(
        matches!(
            e,
            QuantError::SchemaVersion {
                found: 4,
                supported: 3,
                ..
            }
        ),
        "{e}"
    );
    let m = e.to_string();
    assert!(
        m.starts_with(&p.display().to_string()) && m.contains("schema_version: 4"),
        "{m}"
    );
}

/// A version-1 file (no `readouts`) and a version-2 file (no float host
/// layers) are still read, as version 3.
#[test]
fn version_1_file_is_read() {
    let text = sample_text();
    for old in [1, 2] {
        let v = text.replacen("schema_version: 3", &format!("schema_version: {old}"), 1);
        let m = nmc_quant::qmodel_from_ron(&v, "old.q.ron").unwrap();
        assert_eq!(m.schema_version, 3);
        assert!(m.readouts.is_empty());
        assert_eq!(m, nmc_quant::qmodel_from_ron(&text, "v3.q.ron").unwrap());
    }
}

#[test]
fn truncated_file() {
    let text = sample_text();
    let cut = &text[..text.len() * 2 / 3];
    let p = tmp("cut.q.ron");
    std::fs::write(&p, cut).unwrap();
    let e = read_qmodel(&p).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, QuantError::Parse { .. }), "{m}");
    assert!(m.starts_with(&format!("{}:", p.display())), "{m}");
}

#[test]
fn unknown_and_missing_fields() {
    let text = sample_text().replacen("scale:", "scal:", 1);
    let m = qmodel_from_ron(&text, "x.q.ron").unwrap_err().to_string();
    assert!(m.starts_with("x.q.ron:") && m.contains("scal"), "{m}");
    let text = sample_text().replacen("  dt: 0.001,\n", "", 1);
    let m = qmodel_from_ron(&text, "y.q.ron").unwrap_err().to_string();
    assert!(m.contains("dt"), "{m}");
}

/// A model that parses but fails `QModel::check()` names the population and field.
#[test]
fn structural_check() {
    let g = dense_graph(
        neuron(NeuronModel::If, 2, 0.0, 0.0, 1.0, 1.0),
        vec![0.5, -1.0, 0.25, 2.0],
        None,
        1e-3,
    );
    let (mut m, _) = quantize(&g, &loihi1(), &QuantOptions::default()).unwrap();
    m.populations[0].inputs[0].source = nmc_ir::qmodel::Source::Population(7);
    let text = qmodel_to_ron(&m).unwrap();
    let e = qmodel_from_ron(&text, "z.q.ron").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, QuantError::Check { .. }), "{msg}");
    assert!(
        msg.contains("z.q.ron") && msg.contains("`pop`") && msg.contains("inputs[0]"),
        "{msg}"
    );
}

#[test]
fn missing_file() {
    let e = read_qmodel(std::path::Path::new("/nonexistent/m.q.ron")).unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/m.q.ron"), "{e}");
}
