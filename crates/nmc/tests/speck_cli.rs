//! `nmc partition --target speck` end to end, against sinabs 3.1.3's
//! decisions (tests/fixtures/speck): the NIR paper's N-MNIST CNN places with
//! sinabs' memory per layer; every chain network of the fixtures, written
//! here as a NIR file (conv or Flatten + Linear, IF, SumPool2d), lowers to
//! the layers sinabs built and places exactly when sinabs found a mapping,
//! exit 4 with the precise reason when not; the other commands refuse a
//! placement-only chip; `nmc targets` lists every family.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nmc_ir::{GraphBuilder, Neuron, NeuronModel, Op, PoolKind, Shape, Tensor};
use nmc_speck::{Chip, Layer, Memory};
use serde::Deserialize;
mod common;
use common::{fixtures, root};

const CNN: &str = "nir-paper/02_cnn/cnn_sinabs.nir";

fn nmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[derive(Deserialize)]
struct Fixture {
    name: String,
    input_shape: [usize; 3],
    layers: Vec<Layer>,
    sinabs: Sinabs,
}

#[derive(Deserialize)]
struct Sinabs {
    memory: Option<Vec<Memory>>,
    fits: Option<Vec<Vec<usize>>>,
    mapping: Option<Vec<usize>>,
    stage: Option<String>,
}

fn fixture_dir() -> PathBuf {
    root().join("tests/fixtures/speck")
}

fn fixture(name: &str) -> Fixture {
    let p = fixture_dir().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn tmp() -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-speck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o).0))
}

fn unnamed(layers: &[Layer]) -> Vec<Layer> {
    layers
        .iter()
        .map(|l| Layer {
            name: String::new(),
            ..l.clone()
        })
        .collect()
}

/// As [`unnamed`], without the bias flag: a NIR Conv2d always has a bias
/// `b` (sinabs' `from_nir` builds every convolution with one), so a fixture
/// layer without a bias comes back with one from a NIR file.
fn unnamed_unbiased(layers: &[Layer]) -> Vec<Layer> {
    unnamed(layers)
        .into_iter()
        .map(|l| Layer { bias: false, ..l })
        .collect()
}

#[test]
fn the_nmnist_cnn_places_on_speck_with_sinabs_memory() {
    let fx = fixture("nir_paper_nmnist_cnn");
    let model = fixtures().join(CNN);
    let model = model.to_str().unwrap();
    let report = tmp().join("cnn.speck.json");
    let o = nmc(&[
        "partition",
        model,
        "--target",
        "speck",
        "--report",
        report.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // The text names every layer (by its weight node) and its core.
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(j["schema"], "nmc.speck-partition/1");
    let rows = j["placement"]["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["0", "2", "5", "9", "11"]);
    let mem = fx.sinabs.memory.as_ref().unwrap();
    let fits = fx.sinabs.fits.as_ref().unwrap();
    let mut cores = std::collections::BTreeSet::new();
    for (i, r) in rows.iter().enumerate() {
        let core = r["core"].as_u64().unwrap() as usize;
        assert!(fits[i].contains(&core), "layer {i} on core {core}");
        assert!(cores.insert(core), "core {core} used twice");
        assert_eq!(r["kernel"]["used"].as_u64().unwrap(), mem[i].kernel, "layer {i}");
        assert_eq!(r["neuron"]["used"].as_u64().unwrap(), mem[i].neuron, "layer {i}");
        assert_eq!(r["bias"]["used"].as_u64().unwrap(), mem[i].bias, "layer {i}");
        let fit: Vec<usize> = serde_json::from_value(r["fits"].clone()).unwrap();
        assert_eq!(&fit, &fits[i], "layer {i}");
        let line = out
            .lines()
            .find(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() > 2 && w[0] == i.to_string() && w[1] == names[i]
            })
            .unwrap_or_else(|| panic!("no row for {}: {out}", names[i]));
        assert_eq!(
            line.split_whitespace().nth(2),
            Some(core.to_string().as_str()),
            "{line}"
        );
    }
    let layers: Vec<Layer> = serde_json::from_value(j["layers"].clone()).unwrap();
    assert_eq!(unnamed(&layers), unnamed(&fx.layers));
    // --json prints the same report.
    let o = nmc(&["partition", model, "--target", "speck", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json_of(&o), j);
}

/// A NIR file of a chain network from its layer list: Conv2d, or Flatten +
/// Linear where the kernel covers an unpadded input, then IF, then the
/// layer's SumPool2d.
fn write_chain(fx: &Fixture, path: &Path) {
    write_chain_pooled(fx, path, PoolKind::Sum)
}

/// The chain as a NIR file, its poolings of `kind`.
fn write_chain_pooled(fx: &Fixture, path: &Path, kind: PoolKind) {
    let t = |dims: Vec<usize>| Tensor::new(Shape::new(dims.clone()), vec![0.01; dims.iter().product()]).unwrap();
    let u = |v: &[u32]| v.iter().map(|&x| x as usize).collect::<Vec<usize>>();
    let mut b = GraphBuilder::new(fx.name.clone());
    let add = |b: &mut GraphBuilder, n: &str, op: Op| b.node(n, op, BTreeMap::new()).unwrap();
    add(
        &mut b,
        "input",
        Op::Input {
            shape: Shape::new(fx.input_shape.to_vec()),
        },
    );
    let (mut prev, mut flat) = ("input".to_string(), false);
    let mut shape: Vec<usize> = fx.input_shape.to_vec();
    for (i, l) in fx.layers.iter().enumerate() {
        let k = u(&l.kernel);
        let bias = l.bias.then(|| t(vec![k[0]]));
        let linear = l.padding == [0, 0] && l.kernel[2..] == l.input[1..] && (flat || l.input[1..] != [1, 1]);
        let w = format!("w{i}");
        if linear {
            if !flat {
                let f = format!("flatten{i}");
                add(
                    &mut b,
                    &f,
                    Op::Flatten {
                        start_dim: 0,
                        end_dim: -1,
                    },
                );
                b.edge(prev.clone(), f.clone());
                prev = f;
            }
            add(
                &mut b,
                &w,
                Op::Affine {
                    weight: t(vec![k[0], k[1] * k[2] * k[3]]),
                    bias,
                },
            );
            shape = vec![k[0]];
            flat = true;
        } else {
            add(
                &mut b,
                &w,
                Op::Conv {
                    weight: t(k.clone()),
                    bias,
                    stride: u(&l.stride),
                    padding: u(&l.padding),
                    dilation: vec![1, 1],
                    groups: 1,
                },
            );
            shape = u(&l.output);
        }
        b.edge(prev.clone(), w.clone());
        let n = format!("if{i}");
        add(
            &mut b,
            &n,
            Op::Neuron(Neuron::neutral(NeuronModel::If, Shape::new(shape.clone()))),
        );
        b.edge(w, n.clone());
        prev = n;
        if l.pooling[0] != [1, 1] {
            let p = format!("pool{i}");
            let kp = [l.pooling[0][0] as usize, l.pooling[0][1] as usize];
            add(
                &mut b,
                &p,
                Op::Pool2d {
                    kind,
                    kernel: kp,
                    stride: kp,
                    padding: [0, 0],
                },
            );
            b.edge(prev.clone(), p.clone());
            shape = vec![shape[0], shape[1] / kp[0], shape[2] / kp[1]];
            prev = p;
        }
    }
    add(
        &mut b,
        "output",
        Op::Output {
            shape: Shape::new(shape),
        },
    );
    b.edge(prev, "output");
    nmc_frontend::write_nir(&b.build().unwrap(), path).unwrap();
}

/// The fixtures that are one chain of IAF layers.
fn chains() -> Vec<Fixture> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| fixture(n))
        .filter(|f| {
            let n = f.layers.len();
            f.layers.iter().enumerate().all(|(i, l)| {
                l.neuron == "iaf"
                    && l.pooling.len() == 1
                    && l.destinations == if i + 1 < n { vec![i + 1] } else { vec![] }
            })
        })
        .collect()
}

#[test]
fn every_chain_fixture_partitions_as_sinabs_decided() {
    let chip = Chip::builtin("speck").unwrap();
    let chains = chains();
    assert!(chains.len() >= 25, "{} chain fixtures", chains.len());
    let (mut placed, mut refused) = (0, 0);
    for fx in &chains {
        let path = tmp().join(format!("{}.nir", fx.name));
        write_chain(fx, &path);
        let o = nmc(&["partition", path.to_str().unwrap(), "--target", "speck", "--json"]);
        let (out, err) = text(&o);
        // sinabs' layer list, named as the NIR file names the weight nodes.
        let renamed: Vec<Layer> = fx
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| Layer {
                name: format!("w{i}"),
                ..l.clone()
            })
            .collect();
        match nmc_speck::place(&chip, &renamed) {
            Ok(_) => {
                assert_eq!(o.status.code(), Some(0), "{}: {err}", fx.name);
                // sinabs mapped it (or refused it only for a rule nmc checks too).
                assert!(fx.sinabs.mapping.is_some(), "{}", fx.name);
                let j: serde_json::Value = serde_json::from_str(&out).unwrap();
                let layers: Vec<Layer> = serde_json::from_value(j["layers"].clone()).unwrap();
                assert_eq!(unnamed_unbiased(&layers), unnamed_unbiased(&fx.layers), "{}", fx.name);
                let used: Vec<u64> = j["placement"]["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["kernel"]["used"].as_u64().unwrap())
                    .collect();
                let sinabs: Vec<u64> = fx.sinabs.memory.as_ref().unwrap().iter().map(|m| m.kernel).collect();
                assert_eq!(used, sinabs, "{}", fx.name);
                placed += 1;
            }
            Err(e) => {
                // Exit 4 with the reason nmc-speck gives for sinabs' layer list.
                assert_eq!(o.status.code(), Some(4), "{}: {out}{err}", fx.name);
                assert!(err.contains(&e.to_string()), "{}: expected {e} in {err}", fx.name);
                assert!(err.contains("does not fit `speck`"), "{err}");
                assert!(fx.sinabs.mapping.is_none() || fx.sinabs.stage.is_none(), "{}", fx.name);
                refused += 1;
            }
        }
    }
    assert!(placed >= 10 && refused >= 5, "placed {placed}, refused {refused}");
}

#[test]
fn average_pooling_places_as_sum_pooling_with_a_note_naming_the_factor() {
    // sinabs maps AvgPool2d to sum pooling and rescales the next layer: the
    // same layers, memories and cores as the sum-pooled chain.
    let fx = chains()
        .into_iter()
        .find(|fx| fx.sinabs.mapping.is_some() && fx.layers.iter().any(|l| l.pooling[0] != [1, 1]))
        .expect("a placed chain fixture with pooling");
    let (sum, avg) = (tmp().join("sum.nir"), tmp().join("avg.nir"));
    write_chain_pooled(&fx, &sum, PoolKind::Sum);
    write_chain_pooled(&fx, &avg, PoolKind::Avg);
    let run = |p: &Path, json: bool| {
        let mut args = vec!["partition", p.to_str().unwrap(), "--target", "speck"];
        if json {
            args.push("--json");
        }
        let o = nmc(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
        text(&o).0
    };
    let (js, ja) = (json_of_str(&run(&sum, true)), json_of_str(&run(&avg, true)));
    assert_eq!(js["layers"], ja["layers"]);
    assert_eq!(js["placement"], ja["placement"]);
    assert_eq!(js["notes"].as_array().unwrap().len(), 0);
    let notes = ja["notes"].as_array().unwrap();
    let pooled = fx.layers.iter().filter(|l| l.pooling[0] != [1, 1]).count();
    assert_eq!(notes.len(), pooled, "{notes:?}");
    let text = run(&avg, false);
    let (i, l) = fx
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| l.pooling[0] != [1, 1])
        .unwrap();
    let note = format!(
        "note: node `pool{i}` (avgpool2d {}x{}): placed as sum pooling",
        l.pooling[0][0], l.pooling[0][1]
    );
    assert!(text.contains(&note), "{text}");
    let area = l.pooling[0][0] * l.pooling[0][1];
    assert!(text.contains(&format!("must be divided by {area}")), "{text}");
}

fn json_of_str(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn a_network_too_big_for_speck_exits_4_with_the_reason() {
    for (name, reason) in [
        (
            "linear_too_big",
            "layer 2 (`w2`) fits no core: kernel memory 131072 exceeds the largest core's 65536 by 65536",
        ),
        ("ten_layers", "10 layers, 9 cores: the chip runs one layer per core"),
        (
            "hall_four_on_three",
            "4 layers (0 `w0`, 1 `w1`, 2 `w2`, 3 `w3`) fit only 3 cores (0, 1, 2): one layer per core",
        ),
    ] {
        let fx = fixture(name);
        assert!(fx.sinabs.mapping.is_none(), "{name}: sinabs mapped it");
        let path = tmp().join(format!("big-{name}.nir"));
        write_chain(&fx, &path);
        let o = nmc(&["partition", path.to_str().unwrap(), "--target", "speck"]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(4), "{name}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(
            err.trim_end(),
            format!("error: {}: does not fit `speck`: {reason}", path.display()),
            "{name}"
        );
    }
}

#[test]
fn a_lif_network_is_refused_naming_the_node() {
    // NIR paper's single LIF neuron: Affine -> LIF.
    let model = fixtures().join("nir-paper/01_lif/lif_norse.nir");
    let o = nmc(&["partition", model.to_str().unwrap(), "--target", "speck"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("node `1` (lif): model: LIF: the chip runs [\"iaf\"] neurons only"),
        "{err}"
    );
}

#[test]
fn the_pipeline_commands_say_speck_is_placement_only() {
    let model = fixtures().join(CNN);
    let m = model.to_str().unwrap();
    let x = tmp().join("x.npy");
    let x = x.to_str().unwrap();
    for args in [
        vec!["compile", m, "--target", "speck", "-o", "never.nmca"],
        vec!["quantize", m, "--target", "speck"],
        vec!["verify", m, "--target", "speck", "--input", x],
        vec!["emulate", "never.nmca", "--target", "speck", "--input", x],
    ] {
        let o = nmc(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(err.contains(&format!("`nmc {}`", args[0])), "{err}");
        assert!(
            err.contains("placement-only") && err.contains("nmc partition MODEL.nir --target speck"),
            "{err}"
        );
    }
    assert!(!root().join("never.nmca").exists());
    // Loihi targets are unaffected; emulate still takes its target from the artifact.
    let o = nmc(&["emulate", "never.nmca", "--target", "loihi1", "--input", x]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o)
            .1
            .contains("emulate runs the target its artifact was compiled for")
    );
}

#[test]
fn targets_lists_every_family_and_shows_speck() {
    let o = nmc(&["targets"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("family loihi") && out.contains("family dynapcnn"), "{out}");
    for name in ["loihi1", "tiny", "speck"] {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name} missing: {out}");
    }
    let speck = out.lines().find(|l| l.starts_with("speck")).unwrap();
    assert!(speck.contains("16384-65536") && speck.contains("1,2,4,8"), "{speck}");
    let o = nmc(&["targets", "--show", "speck"]);
    assert_eq!(o.status.code(), Some(0));
    let src = text(&o).0;
    assert_eq!(src, std::fs::read_to_string(root().join("targets/speck.ron")).unwrap());
    // A chip file of one's own: checked, listed, and placed on.
    let mine = tmp().join("mine.ron");
    std::fs::write(
        &mine,
        src.replace("name: \"speck\"", "name: \"speck-small\"").replacen(
            "kernel_memory: 65536",
            "kernel_memory: 1024",
            2,
        ),
    )
    .unwrap();
    let mine = mine.to_str().unwrap();
    let o = nmc(&["targets", "--check", mine]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("valid DYNAP-CNN chip `speck-small`"));
    let o = nmc(&["partition", fixtures().join(CNN).to_str().unwrap(), "--target", mine]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("on speck-small"));
    let bad = tmp().join("bad.ron");
    std::fs::write(&bad, src.replace("max_fan_out: 2", "max_fan_out: 0")).unwrap();
    let o = nmc(&[
        "partition",
        fixtures().join(CNN).to_str().unwrap(),
        "--target",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).1.contains("limits.max_fan_out: must be > 0"), "{:?}", text(&o));
}
