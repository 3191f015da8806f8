//! Hostile `.npz` contents (what the `xylo_spec` fuzz target feeds) give
//! errors naming the array, never a panic or a huge allocation.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use nmc_xylo::{Chip, Config};
use zip::write::SimpleFileOptions;

fn npy<T: ndarray_npy::WritableElement>(a: &Array2<T>) -> Vec<u8> {
    let mut v = Vec::new();
    a.write_npy(&mut v).unwrap();
    v
}

/// A zip (stored) of the given raw entries.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn with_weights_in(bytes: Vec<u8>) -> Vec<u8> {
    let out = npy(&Array2::<i8>::zeros((4, 2)));
    zip_of(&[("weights_in.npy", bytes), ("weights_out.npy", out)])
}

/// Replace the header's text `from` by `to`, keeping the header length.
fn edit_header(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8(bytes[10..10 + hlen].to_vec()).unwrap();
    assert!(header.contains(from), "{header}");
    let mut new = header.replacen(from, to, 1);
    while new.len() < header.len() {
        new.insert(new.len() - 1, ' ');
    }
    while new.len() > header.len() && new.as_bytes()[new.len() - 2] == b' ' {
        new.remove(new.len() - 2);
    }
    assert_eq!(new.len(), header.len(), "edit must keep the header length");
    bytes[10..10 + hlen].copy_from_slice(new.as_bytes());
    bytes
}

#[test]
fn hostile_headers_are_named_errors() {
    let good = npy(&Array2::<i8>::ones((16, 4)));
    let cases = [
        ("huge shape", edit_header(good.clone(), "(16, 4)", "(99999999999, 99)")),
        ("complex dtype", edit_header(good.clone(), "'|i1'", "'<c8'")),
        ("truncated", good[..good.len() - 10].to_vec()),
        ("no magic", b"not an npy at all, just text".to_vec()),
        ("empty", Vec::new()),
        ("bad version", {
            let mut b = good.clone();
            b[6] = 9;
            b
        }),
    ];
    for (what, bytes) in cases {
        let e = Config::from_npz_bytes("hostile.npz", &with_weights_in(bytes)).unwrap_err();
        assert_eq!(e.field(), Some("weights_in"), "{what}: {e}");
        assert!(e.to_string().starts_with("hostile.npz: weights_in"), "{what}: {e}");
    }
    // Fortran order is a valid layout: read as the same values.
    let f = edit_header(npy(&Array2::<i8>::zeros((16, 4))), "False", "True ");
    Config::from_npz_bytes("f.npz", &with_weights_in(f)).unwrap();
}

#[test]
fn random_corruption_never_panics() {
    let mut c = Config::zeros(16, 5, 2, 2);
    c.weights_in[[3, 1, 1]] = 7;
    c.weights_rec[[1, 4, 0]] = -3;
    let entries: Vec<(String, Vec<u8>)> = c
        .to_arrays()
        .into_iter()
        .map(|(n, a)| {
            let mut v = Vec::new();
            match a {
                nmc_xylo::npz::NpyArray::I64(a) => a.write_npy(&mut v).unwrap(),
                _ => unreachable!(),
            }
            (format!("{n}.npy"), v)
        })
        .collect();
    let chips: Vec<Chip> = Chip::builtin_names().map(|n| Chip::builtin(n).unwrap()).collect();
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let mut e = entries.clone();
        let k = next() % e.len();
        let b = &mut e[k].1;
        for _ in 0..1 + next() % 4 {
            let i = next() % b.len();
            b[i] = (next() & 0xff) as u8;
        }
        if next() % 5 == 0 {
            let cut = next() % b.len();
            b.truncate(cut);
        }
        let refs: Vec<(&str, Vec<u8>)> = e.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        match Config::from_npz_bytes("r.npz", &zip_of(&refs)) {
            Ok(cfg) => {
                ok += 1;
                for chip in &chips {
                    if let Ok(mut em) = nmc_xylo::emu::Emulator::new(chip, &cfg) {
                        em.step(&vec![20; cfg.inputs()]);
                        em.step(&vec![20; cfg.inputs()]);
                    }
                }
            }
            Err(e) => {
                err += 1;
                assert!(e.to_string().starts_with("r.npz: "), "{e}");
            }
        }
    }
    assert!(ok > 100 && err > 100, "ok {ok}, err {err}");
}
