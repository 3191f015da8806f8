//! Reading input arrays from `.npy` and `.npz` files, whatever their numeric
//! type, as `f64`.

use crate::error::SimError;
use ndarray::ArrayD;
use ndarray_npy::{NpzReader, ReadNpyError, ReadNpyExt, ReadNpzError, ReadableElement};
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

/// The numeric types [`read_array`] converts to `f64`.
const SUPPORTED: &str = "float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool";

/// Reads an array as `f64`.
///
/// * `.npy`: any of float32/64, int8/16/32/64, uint8/16/32/64 or bool, either
///   byte order, C or Fortran order (the header's dtype decides); 64-bit
///   integers beyond 2^53 lose precision, `true` is 1.
/// * `.npz` (`numpy.savez`, compressed or not): the first array in the
///   archive; use [`read_array_named`] to pick another.
///
/// Errors name the file (and the archive entry) and, for an unsupported
/// type, the dtype.
pub fn read_array(path: &Path) -> Result<ndarray::ArrayD<f64>, SimError> {
    if is_npz(path) {
        read_npz(path, None)
    } else {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| SimError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if bytes.starts_with(b"PK\x03\x04") {
            return read_npz(path, None);
        }
        let mut src = NpySource(&bytes);
        load_f64(&mut src).map_err(|m| array_err(path, None, m))
    }
}

/// Reads an array from `.npy` or `.npz` bytes in memory (an archive is told
/// by its zip signature), as [`read_array`] does; `name` stands for the file
/// in errors.
pub fn read_array_bytes(name: &str, bytes: &[u8]) -> Result<ndarray::ArrayD<f64>, SimError> {
    let path = Path::new(name);
    if bytes.starts_with(b"PK\x03\x04") {
        return read_npz_from(path, Cursor::new(bytes), None);
    }
    load_f64(&mut NpySource(bytes)).map_err(|m| array_err(path, None, m))
}

/// Reads the array called `name` (without `.npy`) from a `.npz` archive, as
/// `f64` (same types as [`read_array`]). The error for a missing name lists
/// the names the archive holds.
pub fn read_array_named(path: &Path, name: &str) -> Result<ndarray::ArrayD<f64>, SimError> {
    read_npz(path, Some(name))
}

fn is_npz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

fn array_err(path: &Path, entry: Option<&str>, message: String) -> SimError {
    SimError::Array {
        path: path.to_path_buf(),
        message: match entry {
            Some(e) => format!("array `{e}`: {message}"),
            None => message,
        },
    }
}

fn read_npz(path: &Path, name: Option<&str>) -> Result<ArrayD<f64>, SimError> {
    let file = File::open(path).map_err(|source| SimError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_npz_from(path, BufReader::new(file), name)
}

fn read_npz_from<R: Read + Seek>(path: &Path, reader: R, name: Option<&str>) -> Result<ArrayD<f64>, SimError> {
    let mut npz =
        NpzReader::new(reader).map_err(|e| array_err(path, None, format!("not a readable .npz archive ({e})")))?;
    let names = npz
        .names()
        .map_err(|e| array_err(path, None, format!("cannot list the .npz archive ({e})")))?;
    let (index, entry) = match name {
        None => match names.first() {
            Some(n) => (0, n.clone()),
            None => return Err(array_err(path, None, "the .npz archive holds no array".into())),
        },
        Some(want) => match names.iter().position(|n| n == want) {
            Some(i) => (i, want.to_string()),
            None => {
                return Err(array_err(
                    path,
                    None,
                    format!("no array named `{want}`; the archive holds: {}", names.join(", ")),
                ));
            }
        },
    };
    let mut src = NpzSource { npz: &mut npz, index };
    load_f64(&mut src).map_err(|m| array_err(path, Some(&entry), m))
}

/// Why one typed read failed.
enum LoadError {
    /// The file's dtype is another one (its descriptor, e.g. `'<i2'`).
    Descriptor(String),
    /// Anything else, as a message.
    Other(String),
}

/// Somewhere an `.npy` payload can be read from with a chosen element type.
trait Source {
    fn load<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, LoadError>;
}

fn from_npy_error(e: ReadNpyError) -> LoadError {
    match e {
        ReadNpyError::WrongDescriptor(d) => LoadError::Descriptor(d.to_string()),
        ReadNpyError::ParseHeader(h) => LoadError::Other(format!("not a valid .npy header ({h})")),
        ReadNpyError::MissingData => LoadError::Other("the data is shorter than the header's shape".into()),
        ReadNpyError::ExtraBytes(n) => LoadError::Other(format!("{n} bytes follow the data the header describes")),
        other => LoadError::Other(other.to_string()),
    }
}

struct NpySource<'a>(&'a [u8]);

impl Source for NpySource<'_> {
    fn load<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, LoadError> {
        check_header_len(self.0)?;
        ArrayD::<T>::read_npy(Cursor::new(self.0)).map_err(from_npy_error)
    }
}

/// The header length in the `.npy` preamble must fit in the bytes that
/// follow: `ndarray-npy` allocates it before reading, so a damaged length
/// (up to 4 GiB in format 2 and 3) would be allocated, not reported.
fn check_header_len(bytes: &[u8]) -> Result<(), LoadError> {
    // Magic (6 bytes), version (2), header length (2 bytes in format 1, 4
    // after). Anything shorter or without the magic: ndarray-npy reports it.
    let (len, start) = match bytes {
        [0x93, b'N', b'U', b'M', b'P', b'Y', 1, _, a, b, ..] => (usize::from(u16::from_le_bytes([*a, *b])), 10),
        [0x93, b'N', b'U', b'M', b'P', b'Y', _, _, a, b, c, d, ..] => {
            (u32::from_le_bytes([*a, *b, *c, *d]) as usize, 12)
        }
        _ => return Ok(()),
    };
    let left = bytes.len() - start;
    if len > left {
        return Err(LoadError::Other(format!(
            "not a valid .npy header (it claims {len} bytes, {left} follow)"
        )));
    }
    Ok(())
}

struct NpzSource<'a, R: Read + Seek> {
    npz: &'a mut NpzReader<R>,
    index: usize,
}

impl<R: Read + Seek> Source for NpzSource<'_, R> {
    fn load<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, LoadError> {
        self.npz.by_index(self.index).map_err(|e| match e {
            ReadNpzError::Npy(e) => from_npy_error(e),
            ReadNpzError::Zip(z) => LoadError::Other(format!("cannot read the archive entry ({z})")),
        })
    }
}

/// Reads as f64; on a descriptor mismatch dispatches on the dtype the file
/// declares.
fn load_f64<S: Source>(src: &mut S) -> Result<ArrayD<f64>, String> {
    let descr = match src.load::<f64>() {
        Ok(a) => return Ok(a),
        Err(LoadError::Other(m)) => return Err(m),
        Err(LoadError::Descriptor(d)) => d,
    };
    let code = descr.trim_matches(|c| c == '\'' || c == '"');
    let kind = code.trim_start_matches(['<', '>', '|', '=']);
    let r = match kind {
        "f4" => src.load::<f32>().map(|a| a.mapv(f64::from)),
        "i1" | "b" => src.load::<i8>().map(|a| a.mapv(f64::from)),
        "i2" => src.load::<i16>().map(|a| a.mapv(f64::from)),
        "i4" => src.load::<i32>().map(|a| a.mapv(f64::from)),
        "i8" => src.load::<i64>().map(|a| a.mapv(|x| x as f64)),
        "u1" | "B" => src.load::<u8>().map(|a| a.mapv(f64::from)),
        "u2" => src.load::<u16>().map(|a| a.mapv(f64::from)),
        "u4" => src.load::<u32>().map(|a| a.mapv(f64::from)),
        "u8" => src.load::<u64>().map(|a| a.mapv(|x| x as f64)),
        "b1" => src.load::<bool>().map(|a| a.mapv(|x| if x { 1.0 } else { 0.0 })),
        _ => {
            return Err(format!(
                "dtype {descr} is not supported (supported: {SUPPORTED}); convert it, e.g. with \
                 `a.astype(numpy.float32)`"
            ));
        }
    };
    r.map_err(|e| match e {
        LoadError::Descriptor(d) => format!(
            "dtype {d} is not supported (supported: {SUPPORTED}, little- or big-endian); convert it, e.g. with \
             `a.astype(numpy.float32)`"
        ),
        LoadError::Other(m) => format!("dtype {descr}: {m}"),
    })
}
