//! The real NIR files (NIR paper and other exporters) and the committed
//! synthetic valid files: each loads (or fails with its pinned message),
//! facts checked against what the files are known to hold, and every loaded
//! graph's dump compared with its golden in `tests/golden/nir/`.
//!
//! `NMC_BLESS=1 cargo test -p nmc-frontend --test fixtures` rewrites the
//! goldens.

mod common;

use common::{bad_nir, nir_files, nir_paper, paper, workspace};
use nmc_frontend::{FrontendError, LoadOptions, load, load_nir_bytes};
use nmc_ir::{Discretization, Graph, NeuronModel, Op, ResetMode, Shape};
use std::collections::BTreeMap;
use std::path::Path;

/// Real fixtures that are genuinely inconsistent, with the fragments their
/// error message must contain.
const MUST_FAIL: &[(&str, &[&str])] = &[
    (
        "03_rnn/extras/braille_noDelay_bias_zero_subgraph.nir",
        &[
            "braille_noDelay_bias_zero_subgraph.nir: node `lif1.lif`, field `edges`",
            "does not exist",
        ],
    ),
    (
        "03_rnn/extras/braille_noDelay_noBias_subtract_subgraph.nir",
        &[
            "braille_noDelay_noBias_subtract_subgraph.nir: node `lif1.lif`, field `edges`",
            "does not exist",
        ],
    ),
    (
        "other/spyx_shd.nir",
        &[
            "spyx_shd.nir: node `linear`, field `weight`",
            "got [128]",
            "looks transposed",
        ],
    ),
];

/// Every fixture the README lists; the test fails if one is missing.
const EXPECTED: &[&str] = &[
    "01_lif/lif_norse.nir",
    "01_lif/lif_rockpool.nir",
    "01_lif/two_lif_neurons.nir",
    "02_cnn/cnn_sinabs.nir",
    "03_rnn/braille_noDelay_bias_zero.nir",
    "03_rnn/braille_noDelay_noBias_subtract.nir",
    "03_rnn/extras/braille_noDelay_bias_zero_subgraph.nir",
    "03_rnn/extras/braille_noDelay_noBias_subtract_subgraph.nir",
    "other/nir4s_cnn_sinabs.nir",
    "other/nirtorch_feedback_graph.nir",
    "other/spyx_shd.nir",
];

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn load_ok(p: &Path) -> Graph {
    load(p, &opts()).unwrap_or_else(|e| panic!("{} should load: {e}", p.display()))
}

fn node<'g>(g: &'g Graph, name: &str) -> &'g nmc_ir::Node {
    let id = g.find(name).unwrap_or_else(|| panic!("no node `{name}` in {}", g.name));
    g.node(id)
}

fn neuron<'g>(g: &'g Graph, name: &str) -> &'g nmc_ir::Neuron {
    match &node(g, name).op {
        Op::Neuron(n) => n,
        other => panic!("`{name}` is not a neuron population: {other:?}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-12)
}

fn all_close(v: &[f64], x: f64) -> bool {
    v.iter().all(|&a| close(a, x))
}

#[test]
fn every_real_fixture_loads_or_fails_with_its_pinned_message() {
    let root = nir_paper();
    let files = nir_files(&root);
    for rel in EXPECTED {
        assert!(
            root.join(rel).is_file(),
            "fixture {rel} missing from {}",
            root.display()
        );
    }
    let mut loaded = 0;
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let res = load(f, &opts());
        match MUST_FAIL.iter().find(|(r, _)| *r == rel) {
            Some((_, fragments)) => {
                let e = res.expect_err(&format!("{rel} is inconsistent and must not load"));
                let msg = e.to_string();
                for frag in *fragments {
                    assert!(msg.contains(frag), "{rel}: message lacks {frag:?}: {msg}");
                }
                assert!(e.node().is_some() && e.field().is_some(), "{rel}: {e:?}");
            }
            None => {
                let g = res.unwrap_or_else(|e| panic!("{rel} should load: {e}"));
                assert!(nmc_ir::verify(&g).is_ok());
                loaded += 1;
            }
        }
    }
    assert_eq!(loaded, EXPECTED.len() - MUST_FAIL.len());
}

#[test]
fn cnn_sinabs_facts() {
    let g = load_ok(&paper("02_cnn/cnn_sinabs.nir"));
    assert_eq!(g.name, "cnn_sinabs");
    assert_eq!(g.node_count(), 15);
    assert_eq!(node(&g, "input").out.shape, Shape::new([2, 34, 34]));
    for conv in ["0", "2"] {
        assert_eq!(node(&g, conv).out.shape, Shape::new([16, 16, 16]), "conv {conv}");
    }
    assert_eq!(node(&g, "5").out.shape, Shape::new([8, 8, 8]));
    assert_eq!(node(&g, "7").out.shape, Shape::new([8, 4, 4]));
    // Flatten of [8,4,4] with start_dim=0 (no batch axis) → [128].
    assert_eq!(node(&g, "8").out.shape, Shape::new([128]));
    assert_eq!(node(&g, "output").out.shape, Shape::new([10]));
    // IF populations: 16·16·16 ×2 + 8·8·8 + 256 + 10.
    assert_eq!(g.neuron_count(), 2 * 4096 + 512 + 256 + 10);
    let if1 = neuron(&g, "1");
    assert_eq!(if1.model, NeuronModel::If);
    assert!(all_close(&if1.r, 1.0) && all_close(&if1.v_threshold, 1.0));
    assert!(if1.tau_mem.iter().all(|t| t.is_infinite()), "IF has no leak");
    assert!(g.schedule().back_edges.is_empty());
    assert_eq!(g.dt, nmc_ir::DEFAULT_DT);
    match &node(&g, "0").op {
        Op::Conv { stride, padding, .. } => {
            assert_eq!(stride, &[2, 2]);
            assert_eq!(padding, &[1, 1]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lif_norse_facts() {
    let g = load_ok(&paper("01_lif/lif_norse.nir"));
    let lif = neuron(&g, "1");
    assert_eq!(lif.model, NeuronModel::Lif);
    assert_eq!(lif.shape, Shape::new([1]));
    assert!(close(lif.tau_mem[0], 0.0025), "{}", lif.tau_mem[0]);
    assert!(close(lif.v_threshold[0], 0.1), "{}", lif.v_threshold[0]);
    assert_eq!((lif.r[0], lif.v_leak[0], lif.v_reset[0]), (1.0, 0.0, 0.0));
    assert_eq!(lif.reset, ResetMode::Zero);
    assert_eq!(g.meta.get("nir_version"), Some(&nmc_ir::Meta::Str("0.1.1".into())));
}

#[test]
fn lif_rockpool_output_with_equal_element_count_loads() {
    let g = load_ok(&paper("01_lif/lif_rockpool.nir"));
    assert_eq!(node(&g, "output").out.shape, Shape::new([1, 1, 1]));
    assert!((neuron(&g, "1_LIFNeuronTorch").r[0] - 24.0197).abs() < 1e-4);
}

#[test]
fn braille_has_a_recurrent_edge_and_cuba_parameters() {
    let g = load_ok(&paper("03_rnn/braille_noDelay_bias_zero.nir"));
    let sched = g.schedule();
    assert_eq!(sched.back_edges.len(), 1);
    let (s, t) = g.edge_endpoints(sched.back_edges[0]).unwrap();
    assert_eq!(
        (g.node(s).name.as_str(), g.node(t).name.as_str()),
        ("lif1.w_rec", "lif1.lif")
    );
    let lif1 = neuron(&g, "lif1.lif");
    assert_eq!(lif1.model, NeuronModel::CubaLif);
    assert_eq!(lif1.len(), 38);
    assert!(all_close(&lif1.tau_syn, 2.2222e-4) || close(lif1.tau_syn[0], 0.0002222222281091009));
    assert!(close(lif1.tau_mem[0], 1e-3));
    assert!(close(lif1.w_in[0], 2.2222222));
    assert_eq!(lif1.reset, ResetMode::Zero);
    assert_eq!(g.neuron_count(), 38 + 7);
}

#[test]
fn reset_and_discretization_and_dt_options_apply() {
    let o = LoadOptions {
        dt: Some(1e-4),
        discretization: Some(Discretization::Euler),
        reset: Some(ResetMode::Subtract),
        spike_convention: None,
    };
    let g = load(&paper("03_rnn/braille_noDelay_noBias_subtract.nir"), &o).unwrap();
    assert_eq!(g.dt, 1e-4);
    assert_eq!(g.discretization, Discretization::Euler);
    assert_eq!(neuron(&g, "lif1.lif").reset, ResetMode::Subtract);
    assert_eq!(neuron(&g, "lif2").reset, ResetMode::Subtract);
    assert_eq!(neuron(&g, "lif1.lif").len(), 40);
}

#[test]
fn feedback_graph_with_int64_parameters_and_an_input_free_cycle_loads() {
    let g = load_ok(&paper("other/nirtorch_feedback_graph.nir"));
    let state = neuron(&g, "state");
    assert_eq!(state.len(), 2000);
    // r, v_leak, v_reset, v_threshold are int64 in the file.
    assert!(all_close(&state.r, 1.0) && all_close(&state.v_threshold, 1.0));
    assert!(all_close(&state.tau_mem, 0.02));
    assert_eq!(neuron(&g, "feedback_ir").model, NeuronModel::Li);
    assert_eq!(g.schedule().back_edges.len(), 1);
    // The output probe sums the decoded ensemble and the direct input.
    assert_eq!(g.inputs(g.find("output_probe").unwrap()).len(), 2);
}

#[test]
fn nir4s_cnn_reads_the_extra_v_reset() {
    let g = load_ok(&paper("other/nir4s_cnn_sinabs.nir"));
    assert_eq!(g.node_count(), 15);
    assert!(all_close(&neuron(&g, "1").v_reset, 1.0));
}

#[test]
fn repaired_braille_subgraph_matches_the_flat_file() {
    let flat = load_ok(&paper("03_rnn/braille_noDelay_bias_zero.nir"));
    let nested = load_ok(&bad_nir("valid/braille_subgraph_fixed.nir"));
    // The subgraph's Input/Output ports are spliced out entirely.
    assert_eq!(nested.node_count(), flat.node_count());
    assert_eq!(nested.petgraph().edge_count(), flat.petgraph().edge_count());
    assert!(nested.find("lif1.input").is_none() && nested.find("lif1.output").is_none());
    assert_eq!(neuron(&nested, "lif1.lif1"), neuron(&flat, "lif1.lif"));
    assert_eq!(node(&nested, "lif1.lin").op, node(&flat, "lif1.w_rec").op);
    let back = nested.schedule().back_edges;
    assert_eq!(back.len(), 1);
    let (s, t) = nested.edge_endpoints(back[0]).unwrap();
    assert_eq!(
        (nested.node(s).name.as_str(), nested.node(t).name.as_str()),
        ("lif1.lin", "lif1.lif1")
    );
    // fc1 feeds the inner population, which feeds fc2.
    let lif = nested.find("lif1.lif1").unwrap();
    let preds: Vec<&str> = nested
        .inputs(lif)
        .iter()
        .map(|(_, p)| nested.node(*p).name.as_str())
        .collect();
    assert!(preds.contains(&"fc1"), "{preds:?}");
    assert_eq!(nested.outputs(lif).len(), 2);
}

#[test]
fn kitchen_sink_covers_every_node_type() {
    let g = load_ok(&bad_nir("valid/kitchen_sink.nir"));
    // dt from the graph metadata.
    assert_eq!(g.dt, 1e-4);
    assert_eq!(g.meta.get("author"), Some(&nmc_ir::Meta::Str("nmc tests".into())));
    assert_eq!(g.meta.get("sub.role"), Some(&nmc_ir::Meta::Str("integrator".into())));
    let kinds: std::collections::BTreeSet<&str> = g.node_ids().map(|i| g.node(i).op.kind_name()).collect();
    for k in [
        "input",
        "output",
        "affine",
        "scale",
        "conv1d",
        "conv2d",
        "flatten",
        "avgpool2d",
        "threshold",
        "delay",
        "i",
        "if",
        "li",
        "lif",
        "cubali",
        "cubalif",
    ] {
        assert!(kinds.contains(k), "no {k} node: {kinds:?}");
    }
    // "same" padding of a 3×3 kernel is 1; the spatial size is kept.
    match &node(&g, "conv").op {
        Op::Conv { padding, .. } => assert_eq!(padding, &[1, 1]),
        other => panic!("{other:?}"),
    }
    assert_eq!(node(&g, "conv").out.shape, Shape::new([4, 8, 8]));
    assert_eq!(node(&g, "conv1").out.shape, Shape::new([5, 14]));
    // One-element parameters: the population takes the input's shape.
    assert_eq!(neuron(&g, "if1").shape, Shape::new([4, 4, 4]));
    assert!(all_close(&neuron(&g, "if1").v_threshold, 0.5));
    // Refractory periods from node metadata, both spellings.
    assert_eq!(neuron(&g, "lif").refractory, 0.002);
    assert_eq!(neuron(&g, "cuba").refractory, 0.003);
    assert!(node(&g, "cuba").meta.contains_key("placement.core"));
    assert!(all_close(&neuron(&g, "lif").v_reset, -0.1));
    // The subgraph is inlined, its ports are gone, and both branches feed it.
    assert!(g.find("sub").is_none() && g.find("sub.input").is_none() && g.find("sub.output").is_none());
    let li = g.find("sub.li").unwrap();
    let preds: Vec<&str> = g.inputs(li).iter().map(|(_, p)| g.node(*p).name.as_str()).collect();
    assert_eq!(preds, ["fc", "lin"]);
    assert_eq!(neuron(&g, "sub.li").model, NeuronModel::Li);
    assert!(all_close(&neuron(&g, "sub.li").r, 1.0), "int64 r");
    // int32 weights converted exactly.
    match &node(&g, "lin").op {
        Op::Affine { weight, bias: None } => {
            assert!(weight.data().iter().all(|w| w.fract() == 0.0 && w.abs() <= 3.0))
        }
        other => panic!("{other:?}"),
    }
    // An explicit dt wins over the metadata.
    let g2 = load(
        &bad_nir("valid/kitchen_sink.nir"),
        &LoadOptions {
            dt: Some(5e-4),
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(g2.dt, 5e-4);
}

#[test]
fn nested_subgraphs_inline_as_paths() {
    let g = load_ok(&bad_nir("valid/nested_ports.nir"));
    let mut names: Vec<&str> = g.node_ids().map(|i| g.node(i).name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["block.inner.lif", "block.inner.rec", "fc", "in", "li", "out"]);
    // `li` receives the inner population and the skip path (block.input →
    // block.output), which reads `fc` directly.
    let li = g.find("li").unwrap();
    let preds: Vec<&str> = g.inputs(li).iter().map(|(_, p)| g.node(*p).name.as_str()).collect();
    assert_eq!(preds, ["block.inner.lif", "fc"]);
    assert_eq!(g.schedule().back_edges.len(), 1);
}

#[test]
fn bytes_and_file_give_the_same_graph() {
    let p = paper("01_lif/two_lif_neurons.nir");
    let bytes = std::fs::read(&p).unwrap();
    let a = load_ok(&p);
    let b = load_nir_bytes("two_lif_neurons.nir", &bytes, &opts()).unwrap();
    assert_eq!(a.to_string(), b.to_string());
}

#[test]
fn goldens_match() {
    let golden_dir = workspace().join("tests/golden/nir");
    let bless = nmc_golden::blessing();
    let mut files = nir_files(&nir_paper());
    files.extend(nir_files(&workspace().join("tests/fixtures/bad-nir/valid")));
    let mut dumps: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        match load(&f, &opts()) {
            Ok(g) => {
                let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
                assert!(
                    dumps.insert(stem.clone(), g.to_string()).is_none(),
                    "two fixtures named {stem}"
                );
            }
            Err(FrontendError::Nir { .. } | FrontendError::Build { .. }) => {} // pinned above
            Err(e) => panic!("{e}"),
        }
    }
    if bless {
        std::fs::create_dir_all(&golden_dir).unwrap();
        for old in std::fs::read_dir(&golden_dir).unwrap().flatten() {
            if old.path().extension().is_some_and(|e| e == "txt") {
                std::fs::remove_file(old.path()).unwrap();
            }
        }
    }
    let mut drift = Vec::new();
    for (stem, dump) in &dumps {
        let path = golden_dir.join(format!("{stem}.txt"));
        if let Err(m) = nmc_golden::check_with(&path, dump, bless) {
            drift.push(m);
        }
    }
    if !bless {
        for e in std::fs::read_dir(&golden_dir).into_iter().flatten().flatten() {
            let stem = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            if e.path().extension().is_some_and(|x| x == "txt") && !dumps.contains_key(&stem) {
                drift.push(format!("{}: no fixture produces it", e.path().display()));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "golden dumps drifted (rerun with NMC_BLESS=1 to accept):\n{}",
        drift.join("\n")
    );
}
