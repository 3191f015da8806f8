//! `.npz` archives of integer arrays: the reader the spec and the tests use,
//! and the writer of records.
//!
//! Reading accepts every integer and boolean NumPy dtype, and floating point
//! arrays whose values are all integers (as rockpool rounds them); values
//! come back as `i64`. Errors name the file and the array.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzWriter, ReadNpyExt, ReadableElement};

use crate::Error;

/// Arrays by name (without the `.npy` suffix).
pub type Arrays = BTreeMap<String, ArrayD<i64>>;

/// Largest decompressed entry read (bytes).
const MAX_ENTRY_BYTES: u64 = 1 << 29;

/// Read every array of an `.npz` file.
pub fn read_npz(path: &Path) -> Result<Arrays, Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    read_npz_bytes(&file, &bytes)
}

/// Read every array of an `.npz` held in memory; `file` names it in errors.
pub fn read_npz_bytes(file: &str, bytes: &[u8]) -> Result<Arrays, Error> {
    let whole = |m: String| Error::config(file, "<npz>", m);
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| whole(format!("not an npz (zip) archive: {e}")))?;
    let mut out = Arrays::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| whole(format!("entry {i}: {e}")))?;
        let raw = entry.name().to_string();
        let name = raw.strip_suffix(".npy").unwrap_or(&raw).to_string();
        let mut data = Vec::new();
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| Error::config(file, &name, format!("cannot decompress: {e}")))?;
        if data.len() as u64 > MAX_ENTRY_BYTES {
            return Err(Error::config(
                file,
                &name,
                format!("larger than {MAX_ENTRY_BYTES} bytes"),
            ));
        }
        let arr = parse_npy(&data).map_err(|m| Error::config(file, &name, m))?;
        if out.insert(name.clone(), arr).is_some() {
            return Err(Error::config(file, &name, "appears twice in the archive"));
        }
    }
    Ok(out)
}

/// The header's declared element count, checked against the bytes present
/// before anything is allocated for it.
fn declared_len(bytes: &[u8]) -> Result<usize, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (bad magic)".into());
    }
    let (hlen, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start.saturating_add(hlen))
        .ok_or("truncated .npy header")?;
    let header = String::from_utf8_lossy(header);
    let shape = header
        .split_once("'shape'")
        .and_then(|(_, rest)| rest.split_once('(')?.1.split_once(')'))
        .map(|(inside, _)| inside.to_string())
        .ok_or("the .npy header has no shape")?;
    let mut n: usize = 1;
    for d in shape.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let d: usize = d
            .parse()
            .map_err(|_| format!("bad dimension {d:?} in the .npy shape"))?;
        n = n.checked_mul(d).ok_or("the .npy shape overflows")?;
    }
    let data = bytes.len() - (start + hlen).min(bytes.len());
    if n > data {
        return Err(format!(
            "the header declares {n} elements but only {data} data bytes follow"
        ));
    }
    Ok(n)
}

fn try_read<T: ReadableElement>(bytes: &[u8]) -> Option<Result<ArrayD<T>, String>> {
    match ArrayD::<T>::read_npy(bytes) {
        Ok(a) => Some(Ok(a)),
        Err(ndarray_npy::ReadNpyError::WrongDescriptor(_)) => None,
        Err(e) => Some(Err(e.to_string())),
    }
}

macro_rules! try_int {
    ($bytes:expr, $($t:ty),*) => {
        $(
            if let Some(r) = try_read::<$t>($bytes) {
                let a = r?;
                let mut bad = None;
                let v = a.mapv(|x| i64::try_from(x).unwrap_or_else(|_| { bad = Some(x.to_string()); 0 }));
                if let Some(x) = bad {
                    return Err(format!("value {x} does not fit 64-bit signed"));
                }
                return Ok(v);
            }
        )*
    };
}

/// One `.npy` entry as `i64`s.
fn parse_npy(bytes: &[u8]) -> Result<ArrayD<i64>, String> {
    declared_len(bytes)?;
    try_int!(bytes, i8, u8, i16, u16, i32, u32, i64, u64);
    if let Some(r) = try_read::<bool>(bytes) {
        return Ok(r?.mapv(i64::from));
    }
    if let Some(r) = try_read::<f32>(bytes) {
        return float_to_int(r?.mapv(f64::from));
    }
    if let Some(r) = try_read::<f64>(bytes) {
        return float_to_int(r?);
    }
    Err("unsupported dtype (integer, bool or integral float arrays only)".into())
}

fn float_to_int(a: ArrayD<f64>) -> Result<ArrayD<i64>, String> {
    for (i, &x) in a.iter().enumerate() {
        if !x.is_finite() || x.fract() != 0.0 || x.abs() > 9.0e15 {
            return Err(format!("element {i} is {x}, not an integer"));
        }
    }
    Ok(a.mapv(|x| x as i64))
}

/// An array to write.
#[derive(Debug, Clone)]
pub enum NpyArray {
    /// `uint8` (spike counts).
    U8(ArrayD<u8>),
    /// `int16` (registers).
    I16(ArrayD<i16>),
    /// `int64`.
    I64(ArrayD<i64>),
}

/// Write `arrays` as a compressed `.npz` (entries `name.npy`).
pub fn write_npz(path: &Path, arrays: &[(String, NpyArray)]) -> Result<(), Error> {
    let file = path.display().to_string();
    let io = |m: String| Error::Io {
        file: file.clone(),
        message: m,
    };
    let f = std::fs::File::create(path).map_err(|e| io(e.to_string()))?;
    let mut w = NpzWriter::new_compressed(f);
    for (name, a) in arrays {
        let r = match a {
            NpyArray::U8(a) => w.add_array(name.as_str(), a),
            NpyArray::I16(a) => w.add_array(name.as_str(), a),
            NpyArray::I64(a) => w.add_array(name.as_str(), a),
        };
        r.map_err(|e| io(format!("{name}: {e}")))?;
    }
    w.finish().map_err(|e| io(e.to_string()))?;
    Ok(())
}

/// A scalar as a 0-d array.
pub fn scalar(v: i64) -> ArrayD<i64> {
    ArrayD::from_elem(IxDyn(&[]), v)
}
