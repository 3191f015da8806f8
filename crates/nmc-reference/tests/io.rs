//! Stimulus shapes and their errors, presentation time, array files in and
//! out.

mod common;

use common::*;
use ndarray::{Array2, Array3, ArrayD, Dimension, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter, write_npy};
use nmc_ir::{Discretization, NeuronModel, Shape};
use nmc_reference::float::simulate_with;
use nmc_reference::{Probe, SimError, SimOptions, Stimulus, npz_key, read_array, read_array_named, simulate};
use std::fs::File;

const EX: Discretization = Discretization::Exact;

fn arr(dims: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(dims), |i| i.slice().iter().fold(0.0, |a, &d| a * 10.0 + d as f64))
}

#[test]
fn stimulus_accepts_the_documented_layouts() {
    let s = Shape::new([2, 3, 4]);
    let st = Stimulus::from_array(arr(&[5, 24]), &s).expect("(steps, features)");
    assert_eq!((st.batch(), st.steps(), st.features()), (1, 5, 24));
    let st = Stimulus::from_array(arr(&[3, 5, 24]), &s).expect("(batch, steps, features)");
    assert_eq!((st.batch(), st.steps(), st.features()), (3, 5, 24));
    let st = Stimulus::from_array(arr(&[5, 2, 3, 4]), &s).expect("(steps, *shape)");
    assert_eq!((st.batch(), st.steps(), st.features()), (1, 5, 24));
    // Row-major flattening: element [t=4, c=1, h=2, w=3] is feature 23.
    assert_eq!(st.values()[[0, 4, 23]], 4123.0);
    let st = Stimulus::from_array(arr(&[3, 5, 2, 3, 4]), &s).expect("(batch, steps, *shape)");
    assert_eq!((st.batch(), st.steps(), st.features()), (3, 5, 24));
    assert_eq!(st.values()[[2, 4, 23]], 24123.0);
    // A Fortran-ordered array is read by index, not by memory order.
    let f = arr(&[24, 5]).reversed_axes();
    let st = Stimulus::from_array(f.clone(), &s).expect("fortran");
    assert_eq!(st.values()[[0, 3, 7]], f[[3, 7]]);
    // Rank-1 model input: (steps, n) and (batch, steps, n).
    let st = Stimulus::from_array(arr(&[2, 7, 3]), &Shape::new([3])).expect("rank 1");
    assert_eq!((st.batch(), st.steps()), (2, 7));
    // Scalar model input: (steps,) works.
    let st = Stimulus::from_array(arr(&[6]), &Shape::new(Vec::<usize>::new())).expect("scalar");
    assert_eq!((st.batch(), st.steps(), st.features()), (1, 6, 1));
    // Ambiguous [1,5] with (10,1,5): the exact input-shape match wins.
    let st = Stimulus::from_array(arr(&[10, 1, 5]), &Shape::new([1, 5])).expect("ambiguous");
    assert_eq!((st.batch(), st.steps()), (1, 10));
}

#[test]
fn stimulus_shape_errors_explain_the_convention() {
    let s = Shape::new([2, 34, 34]);
    let msg = |a: ArrayD<f64>| match Stimulus::from_array(a, &s) {
        Err(e @ SimError::StimulusShape { .. }) => e.to_string(),
        other => panic!("expected a shape error, got {other:?}"),
    };
    let m = msg(arr(&[2, 34, 34]));
    assert!(m.contains("[2, 34, 34]") && m.contains("[2,34,34]"), "{m}");
    assert!(
        m.contains("(batch, steps, features)") && m.contains("2312 features"),
        "{m}"
    );
    assert!(m.contains("without a time axis"), "{m}");
    assert!(m.contains("(steps, 2, 34, 34)"), "{m}");
    let m = msg(arr(&[2312, 10]));
    assert!(m.contains("time axis seems to be last"), "{m}");
    let m = msg(arr(&[10, 34, 34, 2]));
    assert!(m.contains("last axis has 2 elements"), "{m}");
    let m = msg(arr(&[4, 2312, 10]));
    assert!(m.contains("(batch, features, steps)"), "{m}");
    assert!(matches!(
        Stimulus::from_array(arr(&[0, 2312]), &s),
        Err(SimError::Empty(_))
    ));
    let mut bad = arr(&[3, 2312]);
    bad[[1, 7]] = f64::NAN;
    let e = Stimulus::from_array(bad, &s).expect_err("NaN");
    assert!(e.to_string().contains("step 1, feature 7"), "{e}");
}

fn passthrough(n: usize) -> nmc_ir::Graph {
    chain(1e-3, EX, vec![("in", input(&[n])), ("out", output(&[n]))])
}

#[test]
fn presentation_time_tiles_or_truncates() {
    let g = passthrough(1);
    let s = stim(&[vec![0.0], vec![1.0], vec![2.0]]);
    let run = |steps| {
        let r = simulate(&g, &s, &SimOptions { steps }).expect("sim");
        (r.steps, r.outputs[0].values.iter().copied().collect::<Vec<_>>())
    };
    assert_eq!(run(None), (3, vec![0.0, 1.0, 2.0]));
    assert_eq!(run(Some(7)), (7, vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]));
    assert_eq!(run(Some(2)), (2, vec![0.0, 1.0]));
    assert!(matches!(
        simulate(&g, &s, &SimOptions { steps: Some(0) }),
        Err(SimError::Empty(_))
    ));
}

#[test]
fn simulate_checks_inputs_and_probes() {
    let g = passthrough(3);
    let e = simulate(&g, &constant(&[1.0, 2.0], 2), &SimOptions::default()).expect_err("features");
    assert!(e.to_string().contains("input `in` has shape [3]"), "{e}");
    let e = simulate_with(&g, &[], &SimOptions::default(), &[]).expect_err("count");
    assert!(e.to_string().contains("1 Input node(s) (`in`) but 0"), "{e}");
    let s = constant(&[1.0, 2.0, 3.0], 2);
    let e = simulate_with(&g, &[&s], &SimOptions::default(), &[Probe::voltage("out")]).expect_err("probe");
    assert!(e.to_string().contains("probe `out`: voltage can only be probed"), "{e}");
    let e = simulate_with(&g, &[&s], &SimOptions::default(), &[Probe::value("nope")]).expect_err("probe");
    assert!(e.to_string().contains("no node of that name"), "{e}");
    // An edit that would break a built graph is refused with the verifier's
    // message, and a graph whose public `dt` is set wrong is rejected by the
    // simulator with the same verifier.
    let mut g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[1])),
            ("n", neuron(NeuronModel::Lif, 1, |_| {})),
            ("out", output(&[1])),
        ],
    );
    let id = g.find("n").expect("n");
    let e = g
        .edit_op(id, |op| {
            if let nmc_ir::Op::Neuron(p) = op {
                p.tau_mem[0] = -1.0;
            }
        })
        .expect_err("invalid edit");
    assert!(e.iter().any(|e| e.to_string().contains("node `n`: tau")), "{e:?}");
    simulate(&g, &constant(&[1.0], 2), &SimOptions::default()).expect("the refused edit left the graph valid");
    g.dt = -1e-3;
    let e = simulate(&g, &constant(&[1.0], 2), &SimOptions::default()).expect_err("invalid");
    assert!(e.to_string().contains("dt: must be positive"), "{e}");
}

#[test]
fn two_inputs_each_tiled() {
    let g = graph(
        1e-3,
        EX,
        vec![("a", input(&[1])), ("b", input(&[1])), ("out", output(&[1]))],
        &[("a", "out"), ("b", "out")],
    );
    let a = stim(&[vec![1.0], vec![2.0]]);
    let b = stim(&[vec![10.0], vec![20.0], vec![30.0]]);
    let r = simulate_with(&g, &[&a, &b], &SimOptions::default(), &[]).expect("sim");
    assert_eq!(
        r.outputs[0].values.iter().copied().collect::<Vec<_>>(),
        vec![11.0, 22.0, 31.0]
    );
    let e = simulate(&g, &a, &SimOptions::default()).expect_err("two inputs");
    assert!(e.to_string().contains("2 Input node(s) (`a`, `b`)"), "{e}");
}

#[test]
fn read_array_converts_every_supported_dtype() {
    let dir = tmpdir("dtypes");
    let base = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as i64 - 5);
    let want = base.mapv(|x| x as f64).into_dyn();
    macro_rules! check {
        ($t:ty, $name:expr) => {{
            let p = dir.join(concat!($name, ".npy"));
            write_npy(&p, &base.mapv(|x| x as $t)).expect("write");
            assert_eq!(read_array(&p).expect($name), want, $name);
        }};
    }
    check!(f32, "f32");
    check!(f64, "f64");
    check!(i8, "i8");
    check!(i16, "i16");
    check!(i32, "i32");
    check!(i64, "i64");
    let p = dir.join("u8.npy");
    write_npy(&p, &base.mapv(|x| (x + 5) as u8)).expect("write");
    assert_eq!(read_array(&p).expect("u8"), want.mapv(|x| x + 5.0));
    let p = dir.join("bool.npy");
    write_npy(&p, &base.mapv(|x| x % 2 == 0)).expect("write");
    assert_eq!(
        read_array(&p).expect("bool"),
        want.mapv(|x| if x as i64 % 2 == 0 { 1.0 } else { 0.0 })
    );
    // Fortran order.
    let p = dir.join("fortran.npy");
    write_npy(&p, &base.mapv(|x| x as f32).reversed_axes()).expect("write");
    assert_eq!(read_array(&p).expect("fortran"), want.clone().reversed_axes());
    // Unsupported dtype: named with the file.
    let p = dir.join("f2.npy");
    std::fs::write(&p, raw_npy("<f2", 3, &[0u8; 6])).expect("write");
    let e = read_array(&p).expect_err("float16");
    let m = e.to_string();
    assert!(
        m.contains("f2.npy") && m.contains("<f2") && m.contains("not supported"),
        "{m}"
    );
    // A hand-written big-endian int32 file.
    let p = dir.join("be.npy");
    std::fs::write(&p, raw_npy(">i4", 2, &[0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe])).expect("write");
    assert_eq!(
        read_array(&p).expect("big-endian"),
        ndarray::arr1(&[256.0, -2.0]).into_dyn()
    );
    // Not an array file.
    let p = dir.join("junk.npy");
    std::fs::write(&p, b"hello").expect("write");
    let m = read_array(&p).expect_err("junk").to_string();
    assert!(m.contains("junk.npy"), "{m}");
    let m = read_array(&dir.join("missing.npy")).expect_err("missing").to_string();
    assert!(m.contains("missing.npy"), "{m}");
}

/// A version-1 `.npy` file of a 1-d array with the given descriptor.
fn raw_npy(descr: &str, len: usize, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({len},), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn read_npz_first_or_named() {
    let dir = tmpdir("npz");
    let p = dir.join("x.npz");
    let mut w = NpzWriter::new_compressed(File::create(&p).expect("create"));
    w.add_array("frames", &Array3::from_elem((1, 2, 3), 7i16)).expect("add");
    w.add_array("labels", &ndarray::arr1(&[3u8, 4])).expect("add");
    w.finish().expect("finish");
    assert_eq!(
        read_array(&p).expect("first"),
        ArrayD::from_elem(IxDyn(&[1, 2, 3]), 7.0)
    );
    assert_eq!(
        read_array_named(&p, "labels").expect("named"),
        ndarray::arr1(&[3.0, 4.0]).into_dyn()
    );
    let m = read_array_named(&p, "nope").expect_err("missing").to_string();
    assert!(m.contains("x.npz") && m.contains("frames, labels"), "{m}");
}

#[test]
fn npz_round_trip() {
    let g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[2, 2])),
            ("conv/lif", {
                let mut p = nmc_ir::Neuron::neutral(NeuronModel::If, Shape::new([2, 2]));
                p.v_threshold.fill(0.5);
                nmc_ir::Op::Neuron(p)
            }),
            ("out", output(&[4])),
        ],
    );
    let mut r = Lcg(5);
    let x = Array3::from_shape_fn((3, 6, 4), |_| r.next());
    let res = simulate_with(
        &g,
        &[&Stimulus::new(x).expect("stim")],
        &SimOptions::default(),
        &[Probe::voltage("conv/lif")],
    )
    .expect("sim");
    assert!(res.layers[0].total() > 0);
    let dir = tmpdir("roundtrip");
    let p = dir.join("out.npz");
    res.write_npz(&p).expect("write");
    let mut npz = NpzReader::new(File::open(&p).expect("open")).expect("npz");
    let mut names = npz.names().expect("names");
    names.sort();
    assert_eq!(names, vec!["output.out", "probe.conv_lif.voltage", "spikes.conv_lif"]);
    assert_eq!(npz_key("spikes", "conv/lif"), "spikes.conv_lif");
    let spikes: ArrayD<u8> = npz.by_name("spikes.conv_lif").expect("spikes");
    assert_eq!(spikes.shape(), &[3, 6, 2, 2]);
    let l = &res.layers[0];
    for b in 0..3 {
        for t in 0..6 {
            for i in 0..4 {
                assert_eq!(spikes[[b, t, i / 2, i % 2]] == 1, l.spiked(b, t, i));
            }
        }
    }
    let out: Array3<f64> = npz.by_name("output.out").expect("output");
    assert_eq!(out, res.outputs[0].values);
    let v: Array3<f64> = npz.by_name("probe.conv_lif.voltage").expect("probe");
    assert_eq!(v, res.probes[0].values);
    // And through read_array_named, as f64.
    let s = read_array_named(&p, "spikes.conv_lif").expect("read");
    assert_eq!(s, spikes.mapv(f64::from));
}

/// The fuzz finding `npy/v3-header-len-662MB.npy` (a header length of 662 MB
/// in a 12-byte file) stored inside an `.npz` archive, both deflated and
/// stored: refused as a damaged header, not allocated.
#[test]
fn a_huge_header_length_inside_an_npz_entry_is_refused() {
    use std::io::Write as _;
    let npy = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fuzz-regressions/npy/v3-header-len-662MB.npy"),
    )
    .unwrap();
    for method in [zip::CompressionMethod::Stored, zip::CompressionMethod::Deflated] {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        w.start_file(
            "x.npy",
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(&npy).unwrap();
        w.finish().unwrap();
        let e = nmc_reference::read_array_bytes("bad.npz", buf.get_ref())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.npz") && e.contains("array `x`"), "{method:?}: {e}");
        assert!(e.contains("header"), "{method:?}: {e}");
    }
}
