//! `nmc emulate … --out F.npz --record-state` on a Loihi-family artifact
//! (issue 17: every target records its registers): `state.<layer>.u` and
//! `state.<layer>.v` after every step, the same values the emulator's
//! single-neuron probe reports, written `(batch, steps, *shape)`.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use ndarray::ArrayD;

#[test]
fn recorded_registers_equal_the_probe() {
    let d = std::env::temp_dir().join(format!("nmc-record-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let model = root().join("examples/mnist_conv/mnist_conv.nir");
    let images: ArrayD<f32> = ndarray_npy::read_npy(root().join("examples/mnist_conv/test_images.npy")).unwrap();
    let two = images.slice_axis(ndarray::Axis(0), (0..2).into()).to_owned();
    let x = d.join("x.npy");
    ndarray_npy::write_npy(&x, &two).unwrap();
    let a = d.join("m.nmca");
    common::nmc_ok(&[
        "compile",
        model.to_str().unwrap(),
        "--target",
        "loihi1",
        "-o",
        a.to_str().unwrap(),
    ]);
    let out = d.join("out.npz");
    common::nmc_ok(&[
        "emulate",
        a.to_str().unwrap(),
        "--input",
        x.to_str().unwrap(),
        "--steps",
        "12",
        "--out",
        out.to_str().unwrap(),
        "--record-state",
    ]);
    let art = nmc_artifact::Artifact::read(&a).unwrap();
    let emu = nmc_emu::Emulator::new(&art).unwrap();
    let flat: Vec<f64> = two.iter().map(|&v| f64::from(v)).collect();
    let features = flat.len() / 2;
    let input = nmc_emu::InputData {
        batch: 2,
        steps: 1,
        features,
        data: flat,
    };
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut checked = 0;
    for (li, l) in art.layers.iter().enumerate() {
        let u: ArrayD<i64> = z.by_name(&format!("state.{}.u", l.name)).unwrap();
        let v: ArrayD<i64> = z.by_name(&format!("state.{}.v", l.name)).unwrap();
        let mut shape = vec![2, 12];
        shape.extend_from_slice(&l.shape);
        assert_eq!(u.shape(), shape.as_slice(), "{}", l.name);
        let n: usize = l.shape.iter().product();
        let (u, v) = (
            u.into_shape_with_order((2, 12, n)).unwrap(),
            v.into_shape_with_order((2, 12, n)).unwrap(),
        );
        for neuron in [0, n / 2, n - 1] {
            let p = emu.probe(std::slice::from_ref(&input), 1, 12, li, neuron).unwrap();
            for (t, s) in p.iter().enumerate() {
                assert_eq!(
                    (u[[1, t, neuron]], v[[1, t, neuron]]),
                    (s.u, s.v),
                    "{} neuron {neuron} step {t}",
                    l.name
                );
            }
            checked += 1;
        }
        assert!(v.iter().any(|&x| x != 0), "{}: the voltages move", l.name);
    }
    assert!(checked >= 9);
    // --record-state needs somewhere to write
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args([
            "emulate",
            a.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--record-state",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&d);
}
