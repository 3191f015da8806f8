//! Shared helpers of the `nmc` integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The third-party fixtures: `$NMC_SHARED_FIXTURES`, else `../shared/fixtures`
/// beside the checkout. Fails loudly when missing.
pub fn fixtures() -> PathBuf {
    let p = std::env::var_os("NMC_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/fixtures"));
    assert!(
        p.is_dir(),
        "shared fixtures not found at {} (set NMC_SHARED_FIXTURES)",
        p.display()
    );
    p
}

/// The NIR paper's Braille RNN (bias, reset to zero) with the dt and
/// discretization it was trained with (0.1 ms, Euler).
pub fn braille_bias_zero() -> nmc_ir::Graph {
    let opts = nmc::LoadOptions {
        dt: Some(1e-4),
        discretization: Some(nmc_ir::Discretization::Euler),
        ..Default::default()
    };
    nmc::load_model(
        &fixtures().join("nir-paper/03_rnn/braille_noDelay_bias_zero.nir"),
        &opts,
    )
    .unwrap()
}

/// Spikes from a fixed xorshift sequence: a 1 where the state is a multiple
/// of `one_in` (the Braille inputs themselves are not available).
pub fn xorshift_spikes(batch: usize, steps: usize, features: usize, one_in: u64) -> nmc_reference::Stimulus {
    let mut x = 0x2545f4914f6cdd1du64;
    let vals: Vec<f64> = (0..batch * steps * features)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(one_in) { 1.0 } else { 0.0 }
        })
        .collect();
    nmc_reference::Stimulus::new(ndarray::Array3::from_shape_vec((batch, steps, features), vals).unwrap()).unwrap()
}

/// The NIR paper's single LIF neuron at dt = 0.1 ms, and the input column of
/// the analytic trace `lif_exact.csv` as a one-sample stimulus.
pub fn lif_norse_with_exact_input() -> (nmc_ir::Graph, nmc_reference::Stimulus) {
    let opts = nmc::LoadOptions {
        dt: Some(1e-4),
        ..Default::default()
    };
    let g = nmc::load_model(&fixtures().join("nir-paper/01_lif/lif_norse.nir"), &opts).unwrap();
    let csv = std::fs::read_to_string(fixtures().join("nir-paper/01_lif/traces/lif_exact.csv")).unwrap();
    let vals: Vec<f64> = csv
        .lines()
        .map(|l| l.split(',').next().unwrap().trim().parse().unwrap())
        .collect();
    let n = vals.len();
    (
        g,
        nmc_reference::Stimulus::new(ndarray::Array3::from_shape_vec((1, n, 1), vals).unwrap()).unwrap(),
    )
}

/// A version-1 `.npy` file: `dict` (the header's Python dict, without
/// padding), padded to 64 bytes as numpy does, followed by `data`.
pub fn npy_file(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.trim_end().to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(h.len()).expect("short header").to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A little-endian float64 `.npy` with the given header shape and data (the
/// two need not agree: hostile tests declare more than they hold).
pub fn npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_file(
        &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"),
        &bytes,
    )
}

/// Runs the `nmc` binary with `args`, failing the test (with its stderr)
/// unless it exits 0.
pub fn nmc_ok(args: &[&str]) -> std::process::Output {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nmc {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The 0/1 arrays of an `.npz` whose names start with `prefix`, by the rest
/// of their name (`.npy` dropped), each `(batch, steps, *shape)` flattened to
/// `(batch, steps, neurons)`.
pub fn read_spikes_npz(p: &std::path::Path, prefix: &str) -> std::collections::BTreeMap<String, ndarray::Array3<u8>> {
    let mut z = ndarray_npy::NpzReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for name in z.names().unwrap() {
        let a: ndarray::ArrayD<u8> = z.by_name(&name).unwrap();
        let d = a.shape().to_vec();
        let a = a.into_shape_with_order((d[0], d[1], d[2..].iter().product())).unwrap();
        if let Some(k) = name.trim_end_matches(".npy").strip_prefix(prefix) {
            out.insert(k.to_string(), a);
        }
    }
    out
}
