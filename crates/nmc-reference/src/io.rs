//! Reading input arrays from `.npy` and `.npz` files, whatever their numeric
//! type, as `f64`.

use crate::error::SimError;
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};
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
        load_npy_bytes(&bytes).map_err(|m| array_err(path, None, m))
    }
}

/// Parses `.npy` bytes, refusing a header whose shape needs more bytes than
/// follow it before anything is allocated for the data.
fn load_npy_bytes(bytes: &[u8]) -> Result<ArrayD<f64>, String> {
    if let Some(d) = Declared::parse(bytes)? {
        let have = (bytes.len() - d.header_len) as u64;
        // An empty array (a zero dimension) whose other dimensions claim far
        // more than the file holds: array readers size buffers from those
        // dimensions (a structure-aware generator found a 2^60-byte
        // allocation), so they are held to the same bound plus 1 MiB.
        if d.data_bytes == 0 && d.nonzero_bytes > have.saturating_add(1 << 20) {
            return Err(format!(
                "the header declares shape {:?} of dtype {}: empty, but its other dimensions claim {} bytes, more \
                 than the {have} bytes that follow it",
                d.shape, d.descr, d.nonzero_bytes
            ));
        }
        if d.data_bytes > have {
            return Err(format!(
                "the header declares shape {:?} of dtype {} ({} bytes of data) but only {have} bytes follow it",
                d.shape, d.descr, d.data_bytes
            ));
        }
    }
    load_f64(&mut NpySource(bytes))
}

/// An `.npz` entry's header may declare at most this many bytes of data per
/// byte of compressed entry (deflate inflates at most about 1032:1), plus
/// [`INFLATE_SLACK`]: more is a damaged or hostile archive, refused before it
/// is inflated.
const MAX_INFLATION: u64 = 1100;
/// See [`MAX_INFLATION`].
const INFLATE_SLACK: u64 = 1 << 20;
/// Longest `.npy` header accepted (numpy's are a few hundred bytes).
const MAX_HEADER: usize = 1 << 20;

/// What an `.npy` header declares.
struct Declared {
    /// Bytes up to the end of the header.
    header_len: usize,
    /// The data size with every zero dimension taken as absent.
    nonzero_bytes: u64,
    /// Bytes of data the shape and dtype need.
    data_bytes: u64,
    shape: Vec<u64>,
    descr: String,
}

impl Declared {
    /// Reads the header at the start of `bytes`. `Ok(None)` when the header
    /// is incomplete or not in numpy's usual form: the full parser then
    /// reports it.
    fn parse(bytes: &[u8]) -> Result<Option<Declared>, String> {
        if bytes.len() < 10 || !bytes.starts_with(b"\x93NUMPY") {
            return Ok(None);
        }
        let (start, hlen) = match bytes[6] {
            1 => (10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
            _ if bytes.len() >= 12 => {
                let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
                (12, usize::try_from(n).unwrap_or(usize::MAX))
            }
            _ => return Ok(None),
        };
        if hlen > MAX_HEADER {
            return Err(format!(
                "the .npy header claims {hlen} bytes (at most {MAX_HEADER} accepted)"
            ));
        }
        let Some(text) = bytes.get(start..start + hlen).and_then(|h| std::str::from_utf8(h).ok()) else {
            return Ok(None);
        };
        let value = |key: &str| {
            text.split_once(key)
                .map(|(_, rest)| rest.trim_start().trim_start_matches(':'))
        };
        let Some(descr) = value("'descr'")
            .and_then(|r| r.trim_start().strip_prefix('\''))
            .and_then(|r| r.split_once('\''))
            .map(|(d, _)| d.to_string())
        else {
            return Ok(None);
        };
        let Some(item) = descr
            .trim_start_matches(['<', '>', '|', '='])
            .get(1..)
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return Ok(None);
        };
        let Some(dims) = value("'shape'")
            .and_then(|r| r.trim_start().strip_prefix('('))
            .and_then(|r| r.split_once(')'))
            .map(|(d, _)| d)
        else {
            return Ok(None);
        };
        let mut shape = Vec::new();
        for d in dims.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match d.trim_end_matches('L').parse::<u64>() {
                Ok(n) => shape.push(n),
                Err(_) => return Ok(None),
            }
        }
        let data_bytes = shape
            .iter()
            .try_fold(item, |acc, &n| acc.checked_mul(n))
            .ok_or_else(|| format!("the header's shape {shape:?} of dtype {descr} needs more than 2^64 bytes"))?;
        // A zero dimension makes the array empty, but array libraries still
        // multiply the other dimensions (ndarray requires every partial
        // product to fit in isize): refuse a shape whose non-zero dimensions
        // overflow, whatever the data size.
        let nonzero = shape
            .iter()
            .filter(|&&n| n != 0)
            .try_fold(item, |acc, &n| acc.checked_mul(n))
            .filter(|&b| b <= isize::MAX as u64);
        let Some(nonzero_bytes) = nonzero else {
            return Err(format!(
                "the header's shape {shape:?} of dtype {descr}: the product of its dimensions overflows (an array \
                 with a zero dimension is empty, but its other dimensions must still multiply to a representable size)"
            ));
        };
        Ok(Some(Declared {
            nonzero_bytes,
            header_len: start + hlen,
            data_bytes,
            shape,
            descr,
        }))
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
    // The same declared-size checks as a file (the generator in
    // crates/nmc-frontend/tests/hostile_gen.rs found this path without them).
    load_npy_bytes(bytes).map_err(|m| array_err(path, None, m))
}

/// Reads the array called `name` (without `.npy`) from a `.npz` archive, as
/// `f64` (same types as [`read_array`]). The error for a missing name lists
/// the names the archive holds.
pub fn read_array_named(path: &Path, name: &str) -> Result<ndarray::ArrayD<f64>, SimError> {
    read_npz(path, Some(name))
}

/// The array names (without `.npy`) of a `.npz` archive; empty for any
/// other file (an `.npy`), so that [`read_array`] reports what is wrong with it.
pub(crate) fn npz_entries(path: &Path) -> Result<Vec<String>, SimError> {
    let io = |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(io)?;
    if n < 4 || &magic != b"PK\x03\x04" {
        return Ok(Vec::new());
    }
    file.rewind().map_err(io)?;
    let zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| array_err(path, None, format!("not a readable .npz archive ({e})")))?;
    Ok((0..zip.len())
        .map(|i| {
            let n = zip.name_for_index(i).unwrap_or_default();
            n.strip_suffix(".npy").unwrap_or(n).to_string()
        })
        .collect())
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
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| array_err(path, None, format!("not a readable .npz archive ({e})")))?;
    let names: Vec<String> = (0..zip.len())
        .map(|i| {
            let n = zip.name_for_index(i).unwrap_or_default();
            n.strip_suffix(".npy").unwrap_or(n).to_string()
        })
        .collect();
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
    let bytes = read_entry(&mut zip, index).map_err(|m| array_err(path, Some(&entry), m))?;
    load_npy_bytes(&bytes).map_err(|m| array_err(path, Some(&entry), m))
}

/// Inflates one archive entry, never more than its `.npy` header declares
/// (plus one byte, to detect a longer stream), and only when the declared
/// size is one deflate can produce from the entry's compressed size.
fn read_entry<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, index: usize) -> Result<Vec<u8>, String> {
    let mut e = zip
        .by_index(index)
        .map_err(|z| format!("cannot read the archive entry ({z})"))?;
    let compressed = e.compressed_size();
    let io = |err: std::io::Error| format!("cannot read the archive entry ({err})");
    let mut buf = Vec::new();
    (&mut e).take(12).read_to_end(&mut buf).map_err(io)?;
    let hlen = match buf.get(6) {
        Some(1) if buf.len() >= 10 => usize::from(u16::from_le_bytes([buf[8], buf[9]])) + 10,
        Some(_) if buf.len() >= 12 => {
            usize::try_from(u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]])).unwrap_or(usize::MAX)
        }
        _ => 0,
    };
    let hlen = hlen.min(MAX_HEADER + 12);
    let more = (hlen as u64).saturating_sub(buf.len() as u64);
    (&mut e).take(more).read_to_end(&mut buf).map_err(io)?;
    let Some(d) = Declared::parse(&buf)? else {
        // Not a header this check understands: the full parser reports it,
        // reading at most the slack.
        (&mut e).take(INFLATE_SLACK).read_to_end(&mut buf).map_err(io)?;
        return Ok(buf);
    };
    let limit = compressed.saturating_mul(MAX_INFLATION).saturating_add(INFLATE_SLACK);
    if d.data_bytes > limit {
        return Err(format!(
            "the header declares shape {:?} of dtype {} ({} bytes of data) but the entry holds {compressed} \
             compressed bytes, which cannot inflate to more than {limit}",
            d.shape, d.descr, d.data_bytes
        ));
    }
    let want = (d.header_len as u64 + d.data_bytes).saturating_sub(buf.len() as u64);
    (&mut e)
        .take(want.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > d.header_len as u64 + d.data_bytes {
        return Err(format!(
            "the entry inflates to more than the {} bytes its header declares (shape {:?} of dtype {})",
            d.header_len as u64 + d.data_bytes,
            d.shape,
            d.descr
        ));
    }
    Ok(buf)
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
