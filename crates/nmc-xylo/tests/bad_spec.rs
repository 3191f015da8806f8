//! Bad specifications give errors naming the file, the array and the
//! element, never a panic.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use ndarray::{Array2, ArrayD, IxDyn};
use nmc_xylo::npz::{NpyArray, write_npz};
use nmc_xylo::{Chip, Config, Error, emu};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nmc-xylo-bad-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn good() -> Config {
    let mut c = Config::zeros(16, 6, 2, 2);
    c.weights_in[[0, 1, 0]] = 10;
    c.weights_rec[[1, 2, 1]] = -5;
    c.threshold.fill(100);
    c.threshold_out.fill(100);
    c
}

/// Write `good()` with `edit` applied to its arrays, read it back.
fn read_edited(name: &str, edit: impl FnOnce(&mut Vec<(String, NpyArray)>)) -> Result<Config, Error> {
    let mut arrays = good().to_arrays();
    edit(&mut arrays);
    let path = tmp(name);
    write_npz(&path, &arrays).unwrap();
    Config::read_npz(&path)
}

fn set(arrays: &mut [(String, NpyArray)], name: &str, a: ArrayD<i64>) {
    let slot = arrays.iter_mut().find(|(n, _)| n == name).unwrap();
    slot.1 = NpyArray::I64(a);
}

fn get(arrays: &[(String, NpyArray)], name: &str) -> ArrayD<i64> {
    match &arrays.iter().find(|(n, _)| n == name).unwrap().1 {
        NpyArray::I64(a) => a.clone(),
        _ => unreachable!(),
    }
}

/// The error names `field` (and `at`, when given) and the file.
fn expect(r: Result<Config, Error>, field: &str, at: &str, file: &str) -> String {
    let e = r.map(|_| ()).expect_err("must be rejected");
    let msg = e.to_string();
    assert_eq!(e.field(), Some(field), "{msg}");
    assert!(msg.contains(&format!("{field}{at}:")), "{msg}");
    assert!(msg.contains(file), "{msg}");
    msg
}

fn checked(c: Result<Config, Error>, chip: &str) -> Result<Config, Error> {
    let c = c?;
    c.check(&Chip::builtin(chip).unwrap())?;
    Ok(c)
}

#[test]
fn the_good_spec_round_trips_and_checks() {
    let c = read_edited("good.npz", |_| {}).unwrap();
    let mut want = good();
    want.source = c.source.clone();
    assert_eq!(c, want);
    c.check(&Chip::builtin("xylo-audio2").unwrap()).unwrap();
}

#[test]
fn wrong_shapes_name_the_array() {
    let r = read_edited("rank.npz", |a| {
        set(a, "weights_in", ArrayD::zeros(IxDyn(&[16, 6, 2, 1])))
    });
    expect(r, "weights_in", "", "rank.npz");
    let r = read_edited("square.npz", |a| {
        set(a, "weights_rec", ArrayD::zeros(IxDyn(&[6, 5, 2])))
    });
    expect(r, "weights_rec", "", "square.npz");
    let r = read_edited("len.npz", |a| set(a, "dash_mem", ArrayD::zeros(IxDyn(&[5]))));
    expect(r, "dash_mem", "", "len.npz");
    let r = read_edited("outlen.npz", |a| set(a, "bias_out", ArrayD::zeros(IxDyn(&[3]))));
    expect(r, "bias_out", "", "outlen.npz");
    let r = read_edited("states.npz", |a| {
        set(a, "weights_in", ArrayD::zeros(IxDyn(&[16, 6, 3])));
        set(a, "weights_rec", ArrayD::zeros(IxDyn(&[6, 6, 3])));
    });
    expect(r, "weights_in", "", "states.npz");
    let r = read_edited("ien.npz", |a| set(a, "weights_in", ArrayD::zeros(IxDyn(&[16, 7, 2]))));
    expect(r, "weights_in", "", "ien.npz");
    let r = read_edited("scalar.npz", |a| set(a, "weight_shift_in", ArrayD::zeros(IxDyn(&[2]))));
    expect(r, "weight_shift_in", "", "scalar.npz");
}

#[test]
fn missing_and_unknown_arrays_are_named() {
    let r = read_edited("missing.npz", |a| a.retain(|(n, _)| n != "weights_out"));
    expect(r, "weights_out", "", "missing.npz");
    let r = read_edited("typo.npz", |a| {
        a.push(("weight_in".into(), NpyArray::I64(ArrayD::zeros(IxDyn(&[1])))))
    });
    expect(r, "weight_in", "", "typo.npz");
}

#[test]
fn out_of_range_values_name_the_element() {
    let chip = "xylo-audio2";
    let r = checked(
        read_edited("dash.npz", |a| {
            let mut d = get(a, "dash_syn");
            d[[3]] = 16;
            set(a, "dash_syn", d);
        }),
        chip,
    );
    let m = expect(r, "dash_syn", "[3]", "dash.npz");
    assert!(m.contains("16"), "{m}");
    let r = checked(
        read_edited("w.npz", |a| {
            let mut w = get(a, "weights_rec");
            w[[2, 4, 1]] = 200;
            set(a, "weights_rec", w);
        }),
        chip,
    );
    expect(r, "weights_rec", "[2, 4, 1]", "w.npz");
    let r = checked(
        read_edited("wneg.npz", |a| {
            let mut w = get(a, "weights_out");
            w[[5, 1]] = -129;
            set(a, "weights_out", w);
        }),
        chip,
    );
    expect(r, "weights_out", "[5, 1]", "wneg.npz");
    let r = checked(
        read_edited("shift.npz", |a| set(a, "weight_shift_out", nmc_xylo::npz::scalar(8))),
        chip,
    );
    expect(r, "weight_shift_out", "", "shift.npz");
    let r = checked(
        read_edited("th.npz", |a| {
            let mut t = get(a, "threshold");
            t[[0]] = 40000;
            set(a, "threshold", t);
        }),
        chip,
    );
    expect(r, "threshold", "[0]", "th.npz");
    let r = checked(
        read_edited("dashneg.npz", |a| {
            let mut d = get(a, "dash_mem_out");
            d[[1]] = -1;
            set(a, "dash_mem_out", d);
        }),
        chip,
    );
    expect(r, "dash_mem_out", "[1]", "dashneg.npz");
}

#[test]
fn bad_aliases_are_named() {
    for (name, v) in [("alias_hi.npz", 6), ("alias_neg.npz", -2)] {
        let r = checked(
            read_edited(name, |a| {
                let mut al = get(a, "aliases");
                al[[2]] = v;
                set(a, "aliases", al);
            }),
            "xylo-audio2",
        );
        expect(r, "aliases", "[2]", name);
    }
}

#[test]
fn chip_limits_are_enforced() {
    // XyloIMU has one synaptic state: a weight on the second is refused.
    let r = checked(read_edited("imu2.npz", |_| {}), "xylo-imu");
    expect(r, "weights_rec", "[1, 2, 1]", "imu2.npz");
    // ... but a second state axis of zeros is fine.
    let r = checked(
        read_edited("imu2z.npz", |a| set(a, "weights_rec", ArrayD::zeros(IxDyn(&[6, 6, 2])))),
        "xylo-imu",
    );
    r.unwrap();
    // Populations.
    let imu = Chip::builtin("xylo-imu").unwrap();
    let c = Config::zeros(16, 497, 1, 1);
    assert_eq!(c.check(&imu).unwrap_err().field(), Some("weights_rec"));
    let c = Config::zeros(16, 200, 1, 1);
    assert_eq!(c.check(&imu).unwrap_err().field(), Some("weights_in"), "IEN 200 > 128");
    let mut c = Config::zeros(16, 200, 17, 1);
    c.weights_in = ndarray::Array3::zeros((16, 100, 1));
    c.weights_out = Array2::zeros((100, 17));
    let e = c.check(&imu).unwrap_err();
    assert!(
        e.field() == Some("weights_out") && e.to_string().contains("17 output neurons"),
        "{e}"
    );
    // XyloAudio 2's shared pool of 32000 recurrent entries.
    let a2 = Chip::builtin("xylo-audio2").unwrap();
    let mut c = Config::zeros(16, 1000, 8, 1);
    for pre in 0..1000 {
        for k in 0..33 {
            c.weights_rec[[pre, (pre + k) % 1000, 0]] = 1;
        }
    }
    let e = c.check(&a2).unwrap_err();
    assert!(
        e.field() == Some("weights_rec") && e.to_string().contains("33000 recurrent entries"),
        "{e}"
    );
}

#[test]
fn garbage_files_are_errors_not_panics() {
    let path = tmp("garbage.npz");
    std::fs::write(&path, b"PK\x03\x04 certainly not a zip").unwrap();
    let e = Config::read_npz(&path).unwrap_err();
    assert!(e.to_string().contains("garbage.npz"), "{e}");
    let e = Config::read_npz(&tmp("absent.npz")).unwrap_err();
    assert!(e.to_string().contains("absent.npz"), "{e}");
    // A float weight that is not an integer; integral floats are accepted.
    for (name, w, ok) in [("float.npz", 0.5, false), ("float_int.npz", 3.0, true)] {
        let path = tmp(name);
        let f = std::fs::File::create(&path).unwrap();
        let mut z = ndarray_npy::NpzWriter::new(f);
        let mut wf = ndarray::Array2::<f64>::zeros((16, 4));
        wf[[1, 2]] = w;
        z.add_array("weights_in", &wf).unwrap();
        z.add_array("weights_out", &ndarray::Array2::<i8>::zeros((4, 1)))
            .unwrap();
        z.finish().unwrap();
        let r = Config::read_npz(&path);
        if ok {
            assert_eq!(r.unwrap().weights_in[[1, 2, 0]], 3);
        } else {
            expect(r, "weights_in", "", name);
        }
    }
    let e = Config::from_npz_bytes("mem.npz", b"").unwrap_err();
    assert!(e.to_string().starts_with("mem.npz"), "{e}");
}

#[test]
fn input_of_the_wrong_width_is_refused() {
    let chip = Chip::builtin("xylo-audio2").unwrap();
    let input = Array2::<u32>::zeros((5, 15));
    let e = emu::run(&chip, &good(), input.view(), emu::Recording::Spikes).unwrap_err();
    assert!(
        matches!(e, Error::Input { .. }) && e.to_string().contains("15 channels"),
        "{e}"
    );
    let e = nmc_xylo::reference::run(&chip, &good(), input.view()).unwrap_err();
    assert!(matches!(e, Error::Input { .. }), "{e}");
}
