//! Spike record files (`.nmcs`): the deployed behaviour of a model on an
//! input, written sample by sample and compared sample by sample, so that a
//! golden file of thousands of inputs is written and checked in bounded
//! memory.
//!
//! `nmc emulate --spikes F` and `--expect F --bless` write one;
//! `nmc emulate --expect F` and `nmc verify --expect F` compare the run with
//! it and exit 5 when any spike of any layer differs (docs/reliability.md).
//!
//! ## Format, version 1 (little-endian)
//! ```text
//! "NMCS"  u32 version  u32 header_len  header (postcard)  u32 crc32(header)
//! per sample: u32 record_len  record (postcard)  u32 crc32(record)
//! u32 0xFFFF_FFFF  u64 samples                      (end mark)
//! ```
//! The header names the model, target, steps, batch, the layers (name and
//! shape), and a CRC-32 of the input values, so a comparison against a file
//! recorded on another input or presentation time is an input error, not a
//! mismatch. A record holds, per layer, the indices `t·n + i` of the spikes
//! of one sample in increasing order, delta-coded (postcard varints): a
//! sparse spike train costs about a byte per spike. The bytes depend only on
//! the spikes, so equal runs give byte-identical files.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"NMCS";
const VERSION: u32 = 1;
const END: u32 = 0xFFFF_FFFF;
/// Largest header or record accepted when reading (a damaged length field
/// must not trigger a huge allocation).
const MAX_CHUNK: u32 = 1 << 30;

/// What a spike file was recorded from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpikeHeader {
    /// The nmc version that wrote the file (informative, not compared).
    pub nmc_version: String,
    /// Model name.
    pub model: String,
    /// Target name.
    pub target: String,
    /// Steps per sample.
    pub steps: u64,
    /// Samples.
    pub batch: u64,
    /// CRC-32 of the input values (f64 little-endian bytes) and dimensions.
    pub input_crc: u32,
    /// Layers: name and shape, in artifact order.
    pub layers: Vec<(String, Vec<u64>)>,
}

impl SpikeHeader {
    fn neurons(&self, l: usize) -> u64 {
        self.layers[l].1.iter().product()
    }
}

/// The spikes of one sample: per layer, the sorted indices `t·n + i`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampleSpikes {
    /// Per layer.
    pub layers: Vec<Vec<u64>>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    /// Per layer, delta-coded indices (first absolute).
    layers: Vec<Vec<u64>>,
}

impl SampleSpikes {
    fn encode(&self) -> Record {
        Record {
            layers: self
                .layers
                .iter()
                .map(|ix| {
                    let mut prev = 0;
                    ix.iter()
                        .map(|&x| {
                            let d = x - prev;
                            prev = x;
                            d
                        })
                        .collect()
                })
                .collect(),
        }
    }
    fn decode(r: Record) -> Self {
        SampleSpikes {
            layers: r
                .layers
                .into_iter()
                .map(|d| {
                    let mut acc = 0u64;
                    d.into_iter()
                        .map(|x| {
                            acc = acc.saturating_add(x);
                            acc
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// A spike file could not be read, written or compared.
#[derive(Debug, thiserror::Error)]
pub enum SpikeFileError {
    /// An OS error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid spike file.
    #[error("{path}: not a valid spike file: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file was recorded on another input or presentation time: the
    /// comparison would mean nothing.
    #[error("{path}: the golden spikes were recorded with {what}; re-record them with --bless")]
    Incomparable {
        /// The file.
        path: String,
        /// What differs.
        what: String,
    },
}

/// Writes a spike file sample by sample.
pub struct SpikeWriter {
    path: PathBuf,
    /// Written beside `path` and renamed over it by [`SpikeWriter::finish`]:
    /// a run that fails or is killed leaves the old file (or none).
    out: nmc_core::output::AtomicFile,
    header: SpikeHeader,
    written: u64,
    buf: Vec<u8>,
}

impl SpikeWriter {
    /// Creates the file and writes its header.
    pub fn create(path: &Path, header: SpikeHeader) -> Result<Self, SpikeFileError> {
        let out = nmc_core::output::AtomicFile::create(path).map_err(|source| SpikeFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut w = SpikeWriter {
            path: path.to_path_buf(),
            out,
            header,
            written: 0,
            buf: Vec::new(),
        };
        let h = postcard::to_stdvec(&w.header).map_err(|e| w.invalid(e.to_string()))?;
        let mut head = Vec::with_capacity(h.len() + 16);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&(h.len() as u32).to_le_bytes());
        head.extend_from_slice(&h);
        head.extend_from_slice(&crc32fast::hash(&h).to_le_bytes());
        w.write(&head)?;
        Ok(w)
    }

    fn invalid(&self, message: String) -> SpikeFileError {
        SpikeFileError::Invalid {
            path: self.path.display().to_string(),
            message,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), SpikeFileError> {
        self.out.write_all(bytes).map_err(|source| SpikeFileError::Io {
            path: self.path.display().to_string(),
            source,
        })
    }

    /// Appends the next sample.
    pub fn push(&mut self, s: &SampleSpikes) -> Result<(), SpikeFileError> {
        if s.layers.len() != self.header.layers.len() || self.written >= self.header.batch {
            return Err(self.invalid(format!(
                "sample {} with {} layers does not fit the header ({} samples of {} layers)",
                self.written,
                s.layers.len(),
                self.header.batch,
                self.header.layers.len()
            )));
        }
        self.buf.clear();
        let rec = postcard::to_stdvec(&s.encode()).map_err(|e| self.invalid(e.to_string()))?;
        self.buf.extend_from_slice(&(rec.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&rec);
        self.buf.extend_from_slice(&crc32fast::hash(&rec).to_le_bytes());
        let b = std::mem::take(&mut self.buf);
        self.write(&b)?;
        self.buf = b;
        self.written += 1;
        Ok(())
    }

    /// Writes the end mark; every sample of the header must have been pushed.
    pub fn finish(mut self) -> Result<(), SpikeFileError> {
        if self.written != self.header.batch {
            return Err(self.invalid(format!("{} of {} samples written", self.written, self.header.batch)));
        }
        let mut tail = Vec::with_capacity(12);
        tail.extend_from_slice(&END.to_le_bytes());
        tail.extend_from_slice(&self.written.to_le_bytes());
        self.write(&tail)?;
        let path = self.path.display().to_string();
        self.out.commit().map_err(|source| SpikeFileError::Io { path, source })
    }
}

/// Reads a spike file sample by sample, from a file ([`SpikeReader::open`])
/// or any byte stream ([`SpikeReader::from_reader`], what the fuzzer drives).
pub struct SpikeReader<R: Read = BufReader<std::fs::File>> {
    path: String,
    inp: R,
    /// The header.
    pub header: SpikeHeader,
    read: u64,
}

impl SpikeReader {
    /// Opens a file and reads its header.
    pub fn open(path: &Path) -> Result<Self, SpikeFileError> {
        let p = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| SpikeFileError::Io {
            path: p.clone(),
            source,
        })?;
        SpikeReader::from_reader(&p, BufReader::new(f))
    }
}

impl<R: Read> SpikeReader<R> {
    /// Reads the header from `inp`; `name` stands for the file in errors.
    pub fn from_reader(name: &str, inp: R) -> Result<Self, SpikeFileError> {
        let mut r = SpikeReader {
            path: name.to_string(),
            inp,
            header: SpikeHeader {
                nmc_version: String::new(),
                model: String::new(),
                target: String::new(),
                steps: 0,
                batch: 0,
                input_crc: 0,
                layers: Vec::new(),
            },
            read: 0,
        };
        let mut magic = [0u8; 4];
        r.exact(&mut magic, "magic")?;
        if &magic != MAGIC {
            return Err(r.invalid("no NMCS magic (not written by `nmc ... --spikes/--bless`)".into()));
        }
        let version = r.u32("version")?;
        if version != VERSION {
            return Err(r.invalid(format!("format version {version}; this nmc reads version {VERSION}")));
        }
        let len = r.u32("header length")?;
        let h = r.chunk(len, "header")?;
        r.header = postcard::from_bytes(&h).map_err(|e| r.invalid(format!("header: {e}")))?;
        for (name, shape) in &r.header.layers {
            let n = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
            if n.and_then(|n| n.checked_mul(r.header.steps)).is_none() {
                return Err(r.invalid(format!("layer `{name}`: shape {shape:?} × steps overflows")));
            }
        }
        Ok(r)
    }

    fn invalid(&self, message: String) -> SpikeFileError {
        SpikeFileError::Invalid {
            path: self.path.clone(),
            message,
        }
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), SpikeFileError> {
        self.inp
            .read_exact(buf)
            .map_err(|e| self.invalid(format!("truncated at the {what} ({e})")))
    }

    fn u32(&mut self, what: &str) -> Result<u32, SpikeFileError> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads `len` bytes and their CRC.
    fn chunk(&mut self, len: u32, what: &str) -> Result<Vec<u8>, SpikeFileError> {
        if len > MAX_CHUNK {
            return Err(self.invalid(format!("{what} claims {len} bytes")));
        }
        let mut v = Vec::new();
        (&mut self.inp)
            .take(u64::from(len))
            .read_to_end(&mut v)
            .map_err(|e| self.invalid(format!("{what}: {e}")))?;
        if v.len() != len as usize {
            return Err(self.invalid(format!("truncated in the {what}")));
        }
        let crc = self.u32(what)?;
        if crc != crc32fast::hash(&v) {
            return Err(self.invalid(format!("{what}: CRC mismatch (the file is damaged)")));
        }
        Ok(v)
    }

    /// The next sample (`None` after the last, once the end mark is checked).
    pub fn next_sample(&mut self) -> Result<Option<SampleSpikes>, SpikeFileError> {
        let len = self.u32("record length")?;
        if len == END {
            let mut b = [0u8; 8];
            self.exact(&mut b, "end mark")?;
            let n = u64::from_le_bytes(b);
            if n != self.read || n != self.header.batch {
                return Err(self.invalid(format!(
                    "end mark says {n} samples, {} read, header says {}",
                    self.read, self.header.batch
                )));
            }
            return Ok(None);
        }
        if self.read >= self.header.batch {
            return Err(self.invalid(format!(
                "more records than the {} samples of the header",
                self.header.batch
            )));
        }
        let rec = self.chunk(len, &format!("record of sample {}", self.read))?;
        let r: Record = postcard::from_bytes(&rec).map_err(|e| self.invalid(format!("sample {}: {e}", self.read)))?;
        let s = SampleSpikes::decode(r);
        if s.layers.len() != self.header.layers.len() {
            return Err(self.invalid(format!(
                "sample {} has {} layers, the header {}",
                self.read,
                s.layers.len(),
                self.header.layers.len()
            )));
        }
        for (l, ix) in s.layers.iter().enumerate() {
            let bound = self.header.neurons(l) * self.header.steps;
            if ix.windows(2).any(|w| w[0] >= w[1]) || ix.last().is_some_and(|&x| x >= bound) {
                return Err(self.invalid(format!(
                    "sample {}, layer `{}`: spike indices not increasing or beyond steps × neurons",
                    self.read, self.header.layers[l].0
                )));
            }
        }
        self.read += 1;
        Ok(Some(s))
    }
}

/// One layer's differences against the golden file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LayerDiff {
    /// Layer name.
    pub layer: String,
    /// Spikes in the golden file.
    pub spikes_expected: u64,
    /// Spikes now.
    pub spikes_now: u64,
    /// (sample, step, neuron) positions that differ.
    pub differing_bits: u64,
    /// Samples with at least one difference in this layer.
    pub samples_differing: u64,
}

/// The first difference found (by sample, then layer order, then index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstDiff {
    /// Layer.
    pub layer: String,
    /// Sample.
    pub sample: u64,
    /// Step.
    pub step: u64,
    /// Neuron (row-major index in the layer).
    pub neuron: u64,
    /// Whether the golden file has a spike there (the run then has none).
    pub expected_spike: bool,
}

/// The result of comparing a run with a golden spike file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoldenCheck {
    /// The golden file.
    pub file: String,
    /// Whether every spike of every layer is equal.
    pub equal: bool,
    /// Samples compared.
    pub samples: u64,
    /// Layers present in one and not the other, or with another shape.
    pub structure: Vec<String>,
    /// Per layer (of the run).
    pub layers: Vec<LayerDiff>,
    /// The first difference.
    pub first: Option<FirstDiff>,
}

impl fmt::Display for GoldenCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.equal {
            return writeln!(
                f,
                "golden {}: equal ({} samples, {} layers, every spike identical)",
                self.file,
                self.samples,
                self.layers.len()
            );
        }
        writeln!(f, "golden {}: DIFFERS ({} samples compared)", self.file, self.samples)?;
        for s in &self.structure {
            writeln!(f, "  structure: {s}")?;
        }
        if let Some(d) = &self.first {
            writeln!(
                f,
                "  first difference: layer `{}`, sample {}, step {}, neuron {}: golden {}, now {}",
                d.layer,
                d.sample,
                d.step,
                d.neuron,
                if d.expected_spike { "spike" } else { "no spike" },
                if d.expected_spike { "no spike" } else { "spike" },
            )?;
        }
        writeln!(
            f,
            "  {:<14} {:>12} {:>12} {:>14} {:>16}",
            "layer", "golden", "now", "differing bits", "samples differ"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "  {:<14} {:>12} {:>12} {:>14} {:>16}",
                l.layer, l.spikes_expected, l.spikes_now, l.differing_bits, l.samples_differing
            )?;
        }
        Ok(())
    }
}

/// Compares samples one by one with a golden file.
pub struct GoldenComparer {
    reader: SpikeReader,
    /// Golden layer index for each run layer (`None`: absent or reshaped).
    map: Vec<Option<usize>>,
    check: GoldenCheck,
}

impl GoldenComparer {
    /// Opens `path` and checks it was recorded on the same input and steps
    /// as `now` (else [`SpikeFileError::Incomparable`]). Layers that differ
    /// in name or shape are reported as structural differences.
    pub fn open(path: &Path, now: &SpikeHeader) -> Result<Self, SpikeFileError> {
        let reader = SpikeReader::open(path)?;
        let g = &reader.header;
        let p = path.display().to_string();
        let incomparable = |what: String| SpikeFileError::Incomparable { path: p.clone(), what };
        if g.steps != now.steps {
            return Err(incomparable(format!("{} steps, this run has {}", g.steps, now.steps)));
        }
        if g.batch != now.batch {
            return Err(incomparable(format!("{} samples, this run has {}", g.batch, now.batch)));
        }
        if g.input_crc != now.input_crc {
            return Err(incomparable(format!(
                "another input (input CRC {:08x}, this run's {:08x})",
                g.input_crc, now.input_crc
            )));
        }
        let mut structure = Vec::new();
        let map: Vec<Option<usize>> = now
            .layers
            .iter()
            .map(|(name, shape)| match g.layers.iter().position(|(n, _)| n == name) {
                Some(k) if &g.layers[k].1 == shape => Some(k),
                Some(k) => {
                    structure.push(format!(
                        "layer `{name}` has shape {shape:?}, golden {:?}",
                        g.layers[k].1
                    ));
                    None
                }
                None => {
                    structure.push(format!("layer `{name}` is new (not in the golden file)"));
                    None
                }
            })
            .collect();
        for (name, _) in &g.layers {
            if !now.layers.iter().any(|(n, _)| n == name) {
                structure.push(format!("golden layer `{name}` is gone"));
            }
        }
        let layers = now
            .layers
            .iter()
            .map(|(name, _)| LayerDiff {
                layer: name.clone(),
                ..Default::default()
            })
            .collect();
        Ok(GoldenComparer {
            check: GoldenCheck {
                file: p,
                equal: structure.is_empty(),
                samples: 0,
                structure,
                layers,
                first: None,
            },
            reader,
            map,
        })
    }

    /// Compares the next sample of the run (`now`, in the run's layer order,
    /// `n[l]` neurons per layer).
    pub fn push(&mut self, now: &SampleSpikes, neurons: &[u64]) -> Result<(), SpikeFileError> {
        let sample = self.check.samples;
        let gold = self.reader.next_sample()?.ok_or_else(|| SpikeFileError::Invalid {
            path: self.check.file.clone(),
            message: format!("ends before sample {sample}"),
        })?;
        for (l, ix) in now.layers.iter().enumerate() {
            let d = &mut self.check.layers[l];
            d.spikes_now += ix.len() as u64;
            let Some(k) = self.map[l] else { continue };
            let g = &gold.layers[k];
            d.spikes_expected += g.len() as u64;
            // Symmetric difference of two sorted lists.
            let (mut i, mut j, mut diff) = (0, 0, 0u64);
            let mut first: Option<(u64, bool)> = None;
            while i < ix.len() || j < g.len() {
                let (a, b) = (ix.get(i).copied(), g.get(j).copied());
                match (a, b) {
                    (Some(x), Some(y)) if x == y => {
                        i += 1;
                        j += 1;
                    }
                    (Some(x), Some(y)) if x < y => {
                        first.get_or_insert((x, false));
                        diff += 1;
                        i += 1;
                    }
                    (Some(x), None) => {
                        first.get_or_insert((x, false));
                        diff += 1;
                        i += 1;
                    }
                    (_, Some(y)) => {
                        first.get_or_insert((y, true));
                        diff += 1;
                        j += 1;
                    }
                    (None, None) => break,
                }
            }
            if diff > 0 {
                d.differing_bits += diff;
                d.samples_differing += 1;
                self.check.equal = false;
                if self.check.first.is_none()
                    && let Some((x, expected_spike)) = first
                {
                    let n = neurons[l].max(1);
                    self.check.first = Some(FirstDiff {
                        layer: d.layer.clone(),
                        sample,
                        step: x / n,
                        neuron: x % n,
                        expected_spike,
                    });
                }
            }
        }
        self.check.samples += 1;
        Ok(())
    }

    /// Checks the golden file ends here and returns the comparison.
    pub fn finish(mut self) -> Result<GoldenCheck, SpikeFileError> {
        match self.reader.next_sample()? {
            None => Ok(self.check),
            Some(_) => Err(SpikeFileError::Invalid {
                path: self.check.file,
                message: format!("more samples than the {} compared", self.check.samples),
            }),
        }
    }
}

/// CRC-32 of an input array (dimensions, then values as f64 little-endian).
pub fn input_crc(dims: &[usize], values: impl IntoIterator<Item = f64>) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for d in dims {
        h.update(&(*d as u64).to_le_bytes());
    }
    for v in values {
        h.update(&v.to_le_bytes());
    }
    h.finalize()
}
