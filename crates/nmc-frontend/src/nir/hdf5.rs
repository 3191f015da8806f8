//! Reads an HDF5 container into the format-neutral [`raw`](super::raw) tree.
//!
//! This is the only module that uses the `hdf5-reader` crate; swapping the
//! HDF5 implementation means rewriting this file only. NIR files are small
//! (kilobytes to a few megabytes), so the whole tree is read eagerly.
//!
//! `hdf5-reader` is strict about element types (reading an f32 dataset as
//! f64 is an error), so every dataset is read in its stored type and widened
//! explicitly here.

use super::raw::{ContainerError, Data, Group, Item, Value};
use hdf5_reader::{Dataset, Datatype, Hdf5File, OpenOptions, VarLenKind};

/// Nested groups deeper than this are reported instead of followed (a
/// defence against hostile files; NIR graphs nest a handful of levels).
const MAX_DEPTH: usize = 64;

/// Largest decoded dataset the reader will allocate.
const MAX_READ_BYTES: u64 = 4 << 30;

/// Memory the decoded datasets of one file may take, beyond
/// [`BYTES_PER_FILE_BYTE`] per byte of the file: the allowance for compressed
/// datasets (a defence against compression bombs and against headers that
/// declare far more elements than the file holds).
const EXTRA_DECODED_BYTES: u64 = 64 << 20;

/// Decoded bytes one byte of an uncompressed file can legitimately turn
/// into: an `int8` element widened to `i64` is 8 bytes; a one-byte string
/// becomes a `String` (24 bytes plus its heap buffer), counted as
/// [`STRING_COST`].
const BYTES_PER_FILE_BYTE: u64 = STRING_COST;

/// What one decoded string is charged, whatever its length (plus its length).
const STRING_COST: u64 = 40;

/// The decoded-memory budget of one file: every dataset is charged what its
/// decoded elements take (8 bytes per number, [`STRING_COST`] plus the
/// stored size per string) before it is read.
struct Budget {
    left: u64,
    total: u64,
}

/// The decoded-memory budget, in bytes, of a file of `len` bytes (the same
/// budget the container reader charges datasets to; lowering charges
/// shape-derived allocations to it as well).
pub(crate) fn decoded_budget(len: u64) -> u64 {
    Budget::for_file(len).total
}

impl Budget {
    fn for_file(len: u64) -> Self {
        let total = len
            .saturating_mul(BYTES_PER_FILE_BYTE)
            .saturating_add(EXTRA_DECODED_BYTES);
        Budget { left: total, total }
    }

    /// Charges a dataset before it is decoded.
    fn charge(&mut self, ds: &Dataset) -> Result<(), hdf5_reader::error::Error> {
        let n = ds.num_elements()?;
        let per = match ds.dtype() {
            Datatype::String { .. } | Datatype::VarLen { .. } => {
                STRING_COST.saturating_add(ds.raw_element_size().unwrap_or(16) as u64)
            }
            _ => 8,
        };
        let cost = n.saturating_mul(per);
        if cost > self.left {
            return Err(hdf5_reader::error::Error::ResourceLimit(format!(
                "{n} elements would take {cost} bytes once decoded; the file's datasets may take {} bytes in \
                 all (64 MiB plus {BYTES_PER_FILE_BYTE} per byte of the file), {} of which are left",
                self.total, self.left
            )));
        }
        self.left -= cost;
        Ok(())
    }
}

/// How many times the whole file's size one decoded dataset may take:
/// deflate, the best ratio HDF5 filters reach on real data, stays below
/// 1032:1; beyond that the extent is a damaged or hostile header (or a
/// dataset of unwritten chunks, which NIR writers do not produce).
const MAX_EXPANSION: u64 = 1024;

/// The per-dataset limit for small files (no real NIR file is refused by
/// it; a 16 KiB file may still decode a 16 MiB dataset).
const MIN_READ_BYTES: u64 = 16 << 20;

/// Opens `bytes` as HDF5 and reads the whole tree below the root group.
pub(crate) fn read(bytes: Vec<u8>) -> Result<Group, ContainerError> {
    if bytes.is_empty() {
        return Err(ContainerError::Empty);
    }
    let len = bytes.len() as u64;
    // A damaged header can claim any extent; refuse reads larger than the
    // file could hold (MAX_EXPANSION times its size, at most 4 GiB) instead
    // of attempting the allocation.
    let max_read = len.saturating_mul(MAX_EXPANSION).clamp(MIN_READ_BYTES, MAX_READ_BYTES);
    let options = OpenOptions::default().with_max_read_bytes(usize::try_from(max_read).unwrap_or(usize::MAX));
    let file = Hdf5File::from_vec_with_options(bytes, options).map_err(|e| match e {
        hdf5_reader::error::Error::InvalidMagic => ContainerError::NotContainer("no HDF5 signature found".into()),
        hdf5_reader::error::Error::UnexpectedEof { .. } | hdf5_reader::error::Error::OffsetOutOfBounds(_) => {
            ContainerError::Truncated { len, expected: 0 }
        }
        other => ContainerError::Corrupt(other.to_string()),
    })?;
    let sb = file.superblock();
    let expected = sb.base_address.saturating_add(sb.eof_address);
    if expected > len {
        return Err(ContainerError::Truncated { len, expected });
    }
    let root = file
        .root_group()
        .map_err(|e| ContainerError::Corrupt(format!("cannot open the root group: {e}")))?;
    let mut budget = Budget::for_file(len);
    read_group(&root, 0, &mut budget).map_err(|e| ContainerError::Corrupt(format!("cannot list the root group: {e}")))
}

/// Reads a group recursively. Fails only when the group's own member list
/// cannot be read; members that fail become [`Item::Unreadable`].
fn read_group(
    g: &hdf5_reader::group::Group,
    depth: usize,
    budget: &mut Budget,
) -> Result<Group, hdf5_reader::error::Error> {
    let (group_names, dataset_names) = g.member_names()?;
    let mut out = Group::default();
    for name in group_names {
        let item = if depth >= MAX_DEPTH {
            Item::Unreadable(format!("groups nested deeper than {MAX_DEPTH} levels"))
        } else {
            match g.group(&name).and_then(|sub| read_group(&sub, depth + 1, budget)) {
                Ok(sub) => Item::Group(sub),
                Err(e) => Item::Unreadable(e.to_string()),
            }
        };
        out.items.insert(name, item);
    }
    for name in dataset_names {
        let item = match g.dataset(&name).and_then(|ds| {
            budget.charge(&ds)?;
            read_dataset(&ds)
        }) {
            Ok(v) => Item::Value(v),
            Err(e) => Item::Unreadable(e.to_string()),
        };
        out.items.insert(name, item);
    }
    Ok(out)
}

/// Reads one dataset, dispatching on its stored type.
fn read_dataset(ds: &Dataset) -> Result<Value, hdf5_reader::error::Error> {
    let shape: Vec<usize> = ds
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| hdf5_reader::error::Error::InvalidData("dimension does not fit in memory".into()))?;
    let data = match ds.dtype() {
        Datatype::FloatingPoint { size: 4, .. } => Data::Float(
            ds.read_array::<f32>()?.iter().map(|&x| f64::from(x)).collect(),
            "float32",
        ),
        Datatype::FloatingPoint { size: 8, .. } => {
            Data::Float(ds.read_array::<f64>()?.iter().copied().collect(), "float64")
        }
        Datatype::FixedPoint { size, signed, .. } => read_int(ds, *size, *signed)?,
        Datatype::String { .. }
        | Datatype::VarLen {
            kind: VarLenKind::String,
            ..
        } => Data::Str(ds.read_strings()?),
        other => Data::Unsupported(describe(other)),
    };
    Ok(Value { shape, data })
}

fn read_int(ds: &Dataset, size: u8, signed: bool) -> Result<Data, hdf5_reader::error::Error> {
    fn widen<T: hdf5_reader::H5Type + Copy + Into<i64>>(ds: &Dataset) -> Result<Vec<i64>, hdf5_reader::error::Error> {
        Ok(ds.read_array::<T>()?.iter().map(|&x| x.into()).collect())
    }
    Ok(match (size, signed) {
        (1, true) => Data::Int(widen::<i8>(ds)?, "int8"),
        (2, true) => Data::Int(widen::<i16>(ds)?, "int16"),
        (4, true) => Data::Int(widen::<i32>(ds)?, "int32"),
        (8, true) => Data::Int(widen::<i64>(ds)?, "int64"),
        (1, false) => Data::Int(widen::<u8>(ds)?, "uint8"),
        (2, false) => Data::Int(widen::<u16>(ds)?, "uint16"),
        (4, false) => Data::Int(widen::<u32>(ds)?, "uint32"),
        (8, false) => {
            let v = ds.read_array::<u64>()?;
            match v.iter().map(|&x| i64::try_from(x)).collect::<Result<Vec<_>, _>>() {
                Ok(v) => Data::Int(v, "uint64"),
                Err(_) => Data::Unsupported("uint64 with values above 2^63".into()),
            }
        }
        (s, true) => Data::Unsupported(format!("int{}", u32::from(s) * 8)),
        (s, false) => Data::Unsupported(format!("uint{}", u32::from(s) * 8)),
    })
}

/// A short name for a type this reader does not convert.
fn describe(t: &Datatype) -> String {
    match t {
        Datatype::FloatingPoint { size, .. } => format!("float{}", u32::from(*size) * 8),
        Datatype::Compound { fields, .. } => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            format!("compound {{{}}}", names.join(", "))
        }
        Datatype::Enum { members, .. } => {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            format!("enum {{{}}}", names.join(", "))
        }
        Datatype::Array { dims, .. } => format!("array{dims:?}"),
        Datatype::VarLen { .. } => "variable-length sequence".into(),
        Datatype::Opaque { tag, .. } => format!("opaque {tag:?}"),
        Datatype::Reference { .. } => "object reference".into(),
        Datatype::Bitfield { size, .. } => format!("bitfield{}", u32::from(*size) * 8),
        Datatype::FixedPoint { .. } | Datatype::String { .. } => format!("{t:?}"),
    }
}
