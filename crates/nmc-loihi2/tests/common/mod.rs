//! Shared by the tests: reading the Lava fixtures of tests/fixtures/lava.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use ndarray::Array2;
use ndarray_npy::NpzReader;
use nmc_loihi2::{Chip, Input, Net};

/// tests/fixtures/lava of this checkout.
pub fn lava_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/lava")
}

/// `$NMC_SHARED_FIXTURES`, else `../shared/fixtures` beside the checkout.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("NMC_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

/// Every network NAME with NAME.json and NAME.npz (not nir_lif), sorted.
pub fn fixture_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(lava_dir())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            let stem = n.strip_suffix(".json")?.to_string();
            (stem != "nir_lif" && stem != "index" && lava_dir().join(format!("{stem}.npz")).exists()).then_some(stem)
        })
        .collect();
    v.sort();
    v
}

/// A member of any integer (or bool) dtype, as i64.
pub fn member(z: &mut NpzReader<std::fs::File>, name: &str) -> Array2<i64> {
    macro_rules! try_as {
        ($($t:ty),*) => {$(
            if let Ok(a) = z.by_name::<ndarray::OwnedRepr<$t>, ndarray::Ix2>(name) {
                return a.mapv(|x| x as i64);
            }
        )*};
    }
    try_as!(i64, i32, i16, i8, u8, u16, u32);
    if let Ok(a) = z.by_name::<ndarray::OwnedRepr<bool>, ndarray::Ix2>(name) {
        return a.mapv(i64::from);
    }
    panic!("{name}: not a 2-d integer array");
}

/// A fixture: the network, its input, its step count and every recorded
/// member (name, steps × neurons).
pub struct Fixture {
    pub name: String,
    pub json: serde_json::Value,
    pub net: Net,
    pub input: Input,
    pub steps: usize,
    pub recorded: Vec<(String, Array2<i64>)>,
}

pub fn load(chip: &Chip, name: &str) -> Fixture {
    let path = lava_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let net = Net::from_lava_json(chip, &text, &path.display().to_string()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut z = NpzReader::new(std::fs::File::open(lava_dir().join(format!("{name}.npz"))).unwrap()).unwrap();
    let input = member(&mut z, "input").mapv(|x| i32::try_from(x).unwrap());
    let recorded = json["recorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let k = k.as_str().unwrap().to_string();
            let a = member(&mut z, &k);
            (k, a)
        })
        .collect();
    Fixture {
        name: name.to_string(),
        steps: json["steps"].as_u64().unwrap() as usize,
        json,
        net,
        input: Input::single(input),
        recorded,
    }
}

/// A 1-d member of any integer dtype, as i64.
pub fn member1(z: &mut NpzReader<std::fs::File>, name: &str) -> Vec<i64> {
    macro_rules! try_as {
        ($($t:ty),*) => {$(
            if let Ok(a) = z.by_name::<ndarray::OwnedRepr<$t>, ndarray::Ix1>(name) {
                return a.iter().map(|&x| x as i64).collect();
            }
        )*};
    }
    try_as!(i64, i32, i16, i8, u8, u16, u32);
    panic!("{name}: not a 1-d integer array");
}
