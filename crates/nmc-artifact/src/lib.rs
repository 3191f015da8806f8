//! # nmc-artifact — what a chip is loaded with
//!
//! The artifact is the output of `nmc compile`: per core, the compartment
//! configuration, the input axons and synapse tables as the target stores
//! them, and the output routes of every compartment; plus the host-side
//! input encoder and the map from layers to (core, compartment) so spikes can
//! be reassembled. The emulator (`nmc-emu`) runs exactly this and nothing
//! else: it never sees the IR.
//!
//! These types are the artifact's own (not the IR's): changing any of them
//! bumps [`FORMAT_VERSION`].
//!
//! ## File format (`.nmca`)
//! `b"NMCA"`, format version (u32 LE), payload length (u64 LE), CRC-32 of
//! the payload (u32 LE), then the payload: the [`Artifact`] in `postcard`
//! encoding. The same artifact always encodes to the same bytes (no maps,
//! fields in declaration order; the only floats are `dt` and the host
//! readouts' weights, biases and filter constants, stored as their 8 IEEE
//! bytes, and the float host layers' constants likewise). Version 1 files
//! (no host readouts) and version 2 files (no float host layers) are still
//! read.
//!
//! ## Float host layers
//! A [`FloatHostLayer`] replaces the integer compartments of one host layer
//! by the float model: per step, `y = bias`, then for every neuron `o` and
//! stored entry `(o, j, w)` of row `o` in storage order with `x[j] ≠ 0`
//! (the input's real value, not its integer encoding), `y[o] = y[o] +
//! w·x[j]`, then [`nmc_core::lif::Lif::step`] on `y`
//! ([`nmc_core::lif::host_spikes`]); its spikes take the host layer's
//! routes as the integer layer's would (`nmc_ir::qmodel`, "Float host
//! layers").
//!
//! ## Host readouts
//! A [`HostReadout`] is a non-spiking linear output layer the host computes
//! in `f64` from chip layers' spikes, at the target's chip → host latency
//! `L` (`timing.host_output_delay_steps`): per step `t` and element `i`,
//! `y = bias[i]`, then for every input in order and every stored entry
//! `(i, j, w)` of row `i` in storage order whose source neuron `j` spiked at
//! `t − L`, `y = y + w`; the value is `y`, or with a filter
//! `f = decay·f + gain·y` (from `f = 0`). The QModel's rule
//! (`nmc_ir::qmodel`, "Host readouts"), and the fixed reference's.
//!
//! ## Semantics of the tables
//! A spike (an *event*) arriving at core `c` on input axon `a` with atom `k`
//! adds, for every entry `e` of the axon's synapse table with `e.atom == k`,
//! `e.mant · 2^(weight_shift + fmt.weight_exp)` to the input accumulator `q`
//! of compartment `base + e.cx`, where `fmt` is the table's synapse format,
//! `base` the axon's compartment base (0 for discrete axons) and
//! `weight_shift` the target's. Discrete axons always carry atom 0.
//! A compartment that spikes at step `t` sends one event along each of its
//! [`Route`]s; the event is accumulated at step `t + latency` where latency
//! is the target's on-chip synapse latency (host routes: plus the host
//! latency). The compartment update is the target's integer step.

use nmc_core::{Loc, Problem};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

mod compat;
mod float_host;
mod readout;

use compat::{ArtifactV1, ArtifactV2};
pub use float_host::{FloatHostLayer, FloatNeuron};
pub use readout::{HostReadout, ReadoutFilter, ReadoutInput, ReadoutWeights};

/// Version of the artifact types and file format.
pub const FORMAT_VERSION: u32 = 3;

/// Older format versions still read: 1 (no host readouts), 2 (no float
/// host layers).
pub const FORMAT_VERSIONS_READ: [u32; 3] = [1, 2, 3];

const MAGIC: &[u8; 4] = b"NMCA";
const HEADER: usize = 4 + 4 + 8 + 4;

/// A compiled network for one target.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Artifact {
    /// Name of the model it was compiled from.
    pub model: String,
    /// Name of the target.
    pub target_name: String,
    /// The exact target description (RON) it was compiled for; the emulator
    /// validates and uses this, so an artifact is self-contained.
    pub target_ron: String,
    /// Time step in seconds (for rates only).
    pub dt: f64,
    /// Graph inputs.
    pub inputs: Vec<ArtInput>,
    /// Host-side populations (the input encoder), in update order.
    pub host: Vec<HostLayer>,
    /// Every used core.
    pub cores: Vec<CoreCfg>,
    /// Every population (host or chip), in the model's order, with where
    /// each neuron lives: for reassembling spikes per layer.
    pub layers: Vec<LayerMap>,
    /// Graph outputs: which layer each records.
    pub outputs: Vec<OutputMap>,
    /// Host readouts (format 2), in the model's readout order.
    pub readouts: Vec<HostReadout>,
    /// Float host layers (format 3): host layers run in `f64`.
    pub float_host: Vec<FloatHostLayer>,
}

/// How an input's values become integers (mirrors the quantized model).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Encoding {
    /// Real values: `clamp(round(x·2^frac_bits))` to a `bits`-bit signed
    /// integer, read by host layers through their weights.
    Real {
        /// Fractional bits.
        frac_bits: u8,
        /// Width, sign included.
        bits: u8,
    },
    /// Non-negative integer event counts, delivered straight to chip axons.
    Events,
}

/// A graph input.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ArtInput {
    /// Input name.
    pub name: String,
    /// Per-step shape.
    pub shape: Vec<usize>,
    /// Encoding.
    pub encoding: Encoding,
    /// For [`Encoding::Events`]: per input element, where its events go
    /// (empty for `Real` inputs, which only host layers read).
    pub routes: Vec<Vec<Route>>,
}

/// Destination of an event: core index (into [`Artifact::cores`]), input
/// axon of that core, and the atom it carries.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, PartialOrd, Ord, Hash)]
pub struct Route {
    /// Index into [`Artifact::cores`].
    pub core: u32,
    /// Input axon of that core.
    pub axon: u32,
    /// Atom (population index) carried; 0 for discrete axons.
    pub atom: u16,
}

/// A compartment profile: the parameters a core's compartments share by
/// reference (cores have few profile slots; the target says how many).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Hash, PartialOrd, Ord)]
pub struct CxProfile {
    /// Stored current decay.
    pub decay_u: u16,
    /// Stored voltage decay.
    pub decay_v: u16,
    /// Threshold mantissa.
    pub vth_mant: i32,
    /// Bias exponent.
    pub bias_exp: u8,
    /// Refractory delay in steps.
    pub refractory: u8,
    /// `vmin = −2^k + 1`.
    pub vmin_exp: u8,
    /// `vmax = 2^(9+2m) − 1`.
    pub vmax_exp: u8,
    /// False: never spikes (voltage read-out population).
    pub spiking: bool,
}

/// One compartment (neuron): its profile and its own bias mantissa.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Cx {
    /// Index into the core's profiles.
    pub profile: u16,
    /// Bias mantissa.
    pub bias_mant: i32,
}

/// A synapse format: how a table's weights are stored and scaled.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Hash, PartialOrd, Ord)]
pub struct SynFormat {
    /// Weight exponent.
    pub weight_exp: i8,
    /// Stored weight bits.
    pub weight_bits: u8,
    /// True when entries store a compartment index (sparse); false for dense
    /// runs covering consecutive compartments.
    pub indexed: bool,
}

/// One synapse: atom, target compartment (relative to the axon's base) and
/// weight mantissa.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Syn {
    /// Atom this synapse responds to.
    pub atom: u16,
    /// Target compartment, relative to the axon's base.
    pub cx: u16,
    /// Weight mantissa.
    pub mant: i16,
}

/// A synapse list (discrete axon) or table (population axon), sorted by
/// atom then compartment.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SynTable {
    /// Index into the core's synapse formats.
    pub format: u16,
    /// Number of atoms (1 for discrete axons).
    pub atoms: u16,
    /// Entries, sorted by (atom, cx).
    pub syns: Vec<Syn>,
}

/// An input axon of a core.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum InAxon {
    /// One presynaptic neuron, its own table.
    Discrete {
        /// Index into the core's tables.
        table: u32,
    },
    /// A population axon: a shared table, entries offset by `base`.
    Population {
        /// Index into the core's tables.
        table: u32,
        /// Compartment base offset.
        base: u16,
    },
}

/// One core's configuration.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CoreCfg {
    /// Chip index.
    pub chip: u16,
    /// Core index within the chip.
    pub core: u16,
    /// Compartment profiles.
    pub profiles: Vec<CxProfile>,
    /// Compartments.
    pub cx: Vec<Cx>,
    /// Synapse formats.
    pub formats: Vec<SynFormat>,
    /// Synapse tables.
    pub tables: Vec<SynTable>,
    /// Input axons.
    pub axons: Vec<InAxon>,
    /// Per compartment, where its spikes go.
    pub routes: Vec<Vec<Route>>,
}

/// Weights of a host layer from a real-valued input.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum HostWeights {
    /// `[out, in]` row-major mantissas.
    Dense {
        /// Outputs.
        out: usize,
        /// Inputs.
        inp: usize,
        /// Mantissas.
        mant: Vec<i16>,
    },
    /// 2-d convolution, as in the quantized model.
    Conv2d {
        /// `[C_in, H, W]`.
        in_shape: [usize; 3],
        /// `[C_out, H', W']`.
        out_shape: [usize; 3],
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// Stride.
        stride: [usize; 2],
        /// Padding.
        padding: [usize; 2],
        /// Dilation.
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
        /// Mantissas `[C_out, C_in/groups, kh, kw]`.
        mant: Vec<i16>,
    },
}

/// A host-side population (the input encoder): runs the same integer
/// compartment step as the chip, fed by a real-valued input.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct HostLayer {
    /// Index into [`Artifact::layers`].
    pub layer: u32,
    /// Index into [`Artifact::inputs`] it reads.
    pub input: u32,
    /// Weight exponent.
    pub weight_exp: i8,
    /// Weights.
    pub weights: HostWeights,
    /// Profiles.
    pub profiles: Vec<CxProfile>,
    /// Compartments.
    pub cx: Vec<Cx>,
    /// Per neuron, where its spikes go on the chip.
    pub routes: Vec<Vec<Route>>,
}

/// Where a layer lives.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum LayerLoc {
    /// A host layer: index into [`Artifact::host`]; neuron `i` is its
    /// compartment `i`.
    Host(u32),
    /// On chip: per neuron (row-major over `shape`), (core index,
    /// compartment index).
    Chip(Vec<(u32, u16)>),
}

/// A population and where its neurons are.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LayerMap {
    /// Population name.
    pub name: String,
    /// Population shape.
    pub shape: Vec<usize>,
    /// Where each neuron is.
    pub loc: LayerLoc,
}

/// A graph output and the layer it records.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OutputMap {
    /// Output name.
    pub name: String,
    /// Index into [`Artifact::layers`].
    pub layer: u32,
}

/// Reading or writing an artifact failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Not an artifact (wrong magic bytes).
    #[error("{file}: not an nmc artifact (expected magic bytes NMCA)")]
    NotArtifact {
        /// File name.
        file: String,
    },
    /// Written by another format version.
    #[error(
        "{file}: artifact format version {found}, this nmc reads versions 1 to {FORMAT_VERSION}; recompile the model"
    )]
    Version {
        /// File name.
        file: String,
        /// Version found.
        found: u32,
    },
    /// Shorter than its header says.
    #[error("{file}: truncated artifact: {what}")]
    Truncated {
        /// File name.
        file: String,
        /// What is missing.
        what: String,
    },
    /// Checksum mismatch.
    #[error("{file}: corrupted artifact: payload checksum {found:08x}, header says {expected:08x}")]
    Corrupted {
        /// File name.
        file: String,
        /// Checksum in the header.
        expected: u32,
        /// Checksum of the payload read.
        found: u32,
    },
    /// Payload does not decode.
    #[error("{file}: artifact payload does not decode: {message}")]
    Decode {
        /// File name.
        file: String,
        /// Decoder message.
        message: String,
    },
    /// Encoding failed.
    #[error("encoding the artifact failed: {0}")]
    Encode(String),
    /// Structural inconsistency (index out of range etc.).
    #[error("{file}: invalid artifact: {problem}")]
    Invalid {
        /// File name.
        file: String,
        /// What is wrong, where (core, layer, …) and in which field.
        problem: Problem,
    },
    /// OS error.
    #[error("{file}: {source}")]
    Io {
        /// File name.
        file: String,
        /// OS error.
        source: std::io::Error,
    },
}

/// The number of elements of `shape`; `None` if it overflows `usize` (a
/// zero anywhere makes it 0).
pub(crate) fn shape_len(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

impl Artifact {
    /// Encodes to the `.nmca` byte format (deterministic).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        let payload = postcard::to_stdvec(self).map_err(|e| ArtifactError::Encode(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Decodes `.nmca` bytes; `file` names the source in errors. Checks
    /// magic, version, length, checksum, then [`Artifact::check`].
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Self, ArtifactError> {
        let file_s = file.to_string();
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(ArtifactError::NotArtifact { file: file_s });
        }
        if bytes.len() < HEADER {
            return Err(ArtifactError::Truncated {
                file: file_s,
                what: format!("{} bytes, the header alone is {HEADER}", bytes.len()),
            });
        }
        let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let version = u32_at(4);
        if !FORMAT_VERSIONS_READ.contains(&version) {
            return Err(ArtifactError::Version {
                file: file_s,
                found: version,
            });
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&bytes[8..16]);
        let len = u64::from_le_bytes(len8);
        let crc = u32_at(16);
        let body = &bytes[HEADER..];
        if (body.len() as u64) < len {
            return Err(ArtifactError::Truncated {
                file: file_s,
                what: format!("payload has {} of {len} bytes", body.len()),
            });
        }
        if (body.len() as u64) > len {
            return Err(ArtifactError::Corrupted {
                file: file_s,
                expected: crc,
                found: crc32fast::hash(body),
            });
        }
        let found = crc32fast::hash(body);
        if found != crc {
            return Err(ArtifactError::Corrupted {
                file: file_s,
                expected: crc,
                found,
            });
        }
        let decode = |e: postcard::Error| ArtifactError::Decode {
            file: file_s.clone(),
            message: e.to_string(),
        };
        let a: Artifact = if version == 1 {
            postcard::from_bytes::<ArtifactV1>(body).map_err(decode)?.into()
        } else if version == 2 {
            postcard::from_bytes::<ArtifactV2>(body).map_err(decode)?.into()
        } else {
            postcard::from_bytes(body).map_err(decode)?
        };
        a.check()
            .map_err(|problem| ArtifactError::Invalid { file: file_s, problem })?;
        Ok(a)
    }

    /// Writes the artifact to a file atomically: to a temporary file beside
    /// it, synced, then renamed over `path`, so a failure or a kill leaves
    /// the previous file (or none) under the final name. (nmc-core's
    /// `output::AtomicFile` does the same for every other output; this crate
    /// depends on no nmc crate, so it keeps its own few lines.)
    pub fn write(&self, path: &std::path::Path) -> Result<(), ArtifactError> {
        let bytes = self.to_bytes()?;
        let io = |source| ArtifactError::Io {
            file: path.display().to_string(),
            source,
        };
        let name = path
            .file_name()
            .ok_or_else(|| io(std::io::Error::other("the path names no file")))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".nmc-tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = (|| {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// Reads an artifact file.
    pub fn read(path: &std::path::Path) -> Result<Self, ArtifactError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            file: file.clone(),
            source,
        })?;
        Artifact::from_bytes(&file, &bytes)
    }

    /// Structural checks: every index (route core/axon, axon table, table
    /// format, compartment profile, layer location, output layer, host
    /// layer input) is in range, and synapse targets stay inside the core.
    /// The first problem found names the core (and its compartment, table
    /// or axon), host layer, input, layer or output, and the field.
    pub fn check(&self) -> Result<(), Problem> {
        let ncores = self.cores.len();
        // Where a route of `loc` leads, if it is broken.
        let route = |loc: &dyn Fn() -> Loc, r: &Route| -> Result<(), Problem> {
            let bad = |m: String| Problem::new(loc(), "routes", m);
            let c = self
                .cores
                .get(r.core as usize)
                .ok_or_else(|| bad(format!("route to core index {} (artifact has {ncores} cores)", r.core)))?;
            let ax = c.axons.get(r.axon as usize).ok_or_else(|| {
                bad(format!(
                    "route to axon {} of core {} (it has {})",
                    r.axon,
                    r.core,
                    c.axons.len()
                ))
            })?;
            let table = match ax {
                InAxon::Discrete { table } | InAxon::Population { table, .. } => *table as usize,
            };
            let atoms = c.tables.get(table).map(|t| t.atoms).unwrap_or(0);
            if r.atom >= atoms {
                return Err(bad(format!(
                    "route to core {} axon {} carries atom {} ≥ {atoms}",
                    r.core, r.axon, r.atom
                )));
            }
            Ok(())
        };
        for (ci, c) in self.cores.iter().enumerate() {
            self.check_core(ci, c)?;
            for (k, routes) in c.routes.iter().enumerate() {
                for r in routes {
                    route(
                        &|| Loc::Compartment {
                            core: ci,
                            compartment: k,
                        },
                        r,
                    )?;
                }
            }
        }
        for (hi, h) in self.host.iter().enumerate() {
            let at = |field, m: String| Err(Problem::new(Loc::HostLayer(hi), field, m));
            if h.input as usize >= self.inputs.len() {
                return at("input", format!("input {} out of range", h.input));
            }
            if h.layer as usize >= self.layers.len() {
                return at("layer", format!("layer {} out of range", h.layer));
            }
            if h.routes.len() != h.cx.len() {
                return at(
                    "routes",
                    format!("{} entries for {} compartments", h.routes.len(), h.cx.len()),
                );
            }
            if let Some(x) = h.cx.iter().find(|x| x.profile as usize >= h.profiles.len()) {
                return at("cx", format!("profile {} out of range", x.profile));
            }
            for routes in &h.routes {
                for r in routes {
                    route(&|| Loc::HostLayer(hi), r)?;
                }
            }
        }
        for (ii, i) in self.inputs.iter().enumerate() {
            shape_len(&i.shape).ok_or_else(|| {
                Problem::new(
                    Loc::Input(ii),
                    "shape",
                    format!("input `{}`: {:?} overflows usize", i.name, i.shape),
                )
            })?;
            for routes in &i.routes {
                for r in routes {
                    route(&|| Loc::Input(ii), r)?;
                }
            }
        }
        for l in &self.layers {
            self.check_layer(l)?;
        }
        for (oi, o) in self.outputs.iter().enumerate() {
            if o.layer as usize >= self.layers.len() {
                return Err(Problem::new(
                    Loc::Output(oi),
                    "layer",
                    format!("output `{}`: layer {} out of range", o.name, o.layer),
                ));
            }
        }
        for (ri, r) in self.readouts.iter().enumerate() {
            self.check_readout(ri, r)?;
        }
        for (fi, f) in self.float_host.iter().enumerate() {
            self.check_float_host(fi, f)?;
        }
        Ok(())
    }

    /// Core `ci`'s own indices: one route list per compartment, profiles,
    /// table formats and atoms, axon tables, synapse targets.
    fn check_core(&self, ci: usize, c: &CoreCfg) -> Result<(), Problem> {
        let ncx = c.cx.len();
        if c.routes.len() != ncx {
            return Err(Problem::new(
                Loc::Core { index: ci, id: None },
                "routes",
                format!("{} entries for {ncx} compartments", c.routes.len()),
            ));
        }
        for (k, cx) in c.cx.iter().enumerate() {
            if cx.profile as usize >= c.profiles.len() {
                return Err(Problem::new(
                    Loc::Compartment {
                        core: ci,
                        compartment: k,
                    },
                    "profile",
                    format!("{} out of range", cx.profile),
                ));
            }
        }
        for (ti, t) in c.tables.iter().enumerate() {
            let at = |field, m: String| Err(Problem::new(Loc::Table { core: ci, table: ti }, field, m));
            if t.format as usize >= c.formats.len() {
                return at("format", format!("{} out of range", t.format));
            }
            if t.syns.iter().any(|s| s.atom >= t.atoms) {
                return at("syns", format!("a synapse's atom ≥ {}", t.atoms));
            }
        }
        for (ai, a) in c.axons.iter().enumerate() {
            let at = |field, m: String| Err(Problem::new(Loc::Axon { core: ci, axon: ai }, field, m));
            let (table, base) = match a {
                InAxon::Discrete { table } => (*table as usize, 0usize),
                InAxon::Population { table, base } => (*table as usize, *base as usize),
            };
            let Some(t) = c.tables.get(table) else {
                return at("table", format!("{table} out of range"));
            };
            if let Some(s) = t.syns.iter().find(|s| base + s.cx as usize >= ncx) {
                return at(
                    "table",
                    format!(
                        "synapse targets compartment {} but the core has {ncx}",
                        base + s.cx as usize
                    ),
                );
            }
        }
        Ok(())
    }

    /// A layer's shape and locations: its host layer or its (core,
    /// compartment) per neuron exist.
    fn check_layer(&self, l: &LayerMap) -> Result<(), Problem> {
        let at = |field, m: String| Err(Problem::new(Loc::Layer(l.name.clone()), field, m));
        let Some(n) = shape_len(&l.shape) else {
            return at("shape", format!("{:?} overflows usize", l.shape));
        };
        match &l.loc {
            LayerLoc::Host(h) => {
                let Some(host) = self.host.get(*h as usize) else {
                    return at("loc", format!("host layer {h} out of range"));
                };
                if host.cx.len() != n {
                    return at(
                        "loc",
                        format!("host layer has {} compartments for {n} neurons", host.cx.len()),
                    );
                }
            }
            LayerLoc::Chip(locs) => {
                if locs.len() != n {
                    return at("loc", format!("{} locations for {n} neurons", locs.len()));
                }
                for &(c, k) in locs {
                    let ok = self
                        .cores
                        .get(c as usize)
                        .is_some_and(|core| (k as usize) < core.cx.len());
                    if !ok {
                        return at("loc", format!("neuron at core {c} compartment {k} does not exist"));
                    }
                }
            }
        }
        Ok(())
    }

    /// A readable text dump (`nmc inspect model.nmca`): header, layers with
    /// their core spans, and per core the counts of compartments, profiles,
    /// axons, tables, synapses and routes.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "artifact v{FORMAT_VERSION} model {:?} target {:?} dt={} inputs={} host_layers={} cores={}",
            self.model,
            self.target_name,
            self.dt,
            self.inputs.len(),
            self.host.len(),
            self.cores.len()
        );
        for i in &self.inputs {
            let _ = writeln!(s, "  input {:?} shape={:?} encoding={:?}", i.name, i.shape, i.encoding);
        }
        for l in &self.layers {
            match &l.loc {
                LayerLoc::Host(h) => {
                    let _ = writeln!(s, "  layer {:?} shape={:?} on host (host layer {h})", l.name, l.shape);
                }
                LayerLoc::Chip(locs) => {
                    let mut cores: Vec<u32> = locs.iter().map(|&(c, _)| c).collect();
                    cores.sort_unstable();
                    cores.dedup();
                    let _ = writeln!(
                        s,
                        "  layer {:?} shape={:?} on {} cores {:?}",
                        l.name,
                        l.shape,
                        cores.len(),
                        cores
                    );
                }
            }
        }
        for (ci, c) in self.cores.iter().enumerate() {
            let syns: usize = c.tables.iter().map(|t| t.syns.len()).sum();
            let routes: usize = c.routes.iter().map(|r| r.len()).sum();
            let _ = writeln!(
                s,
                "  core {ci} (chip {} core {}): {} compartments, {} profiles, {} axons, {} tables, {} formats, {} synapses, {} routes",
                c.chip,
                c.core,
                c.cx.len(),
                c.profiles.len(),
                c.axons.len(),
                c.tables.len(),
                c.formats.len(),
                syns,
                routes
            );
        }
        for o in &self.outputs {
            let _ = writeln!(s, "  output {:?} <- layer {}", o.name, o.layer);
        }
        for f in &self.float_host {
            let _ = writeln!(s, "  host layer {} runs in f64 (float model)", f.host);
        }
        for r in &self.readouts {
            let layers: Vec<u32> = r.inputs.iter().map(|i| i.layer).collect();
            let filter = match r.filter {
                Some(f) => format!("lowpass tau={} decay={} gain={}", f.tau, f.decay, f.gain),
                None => "no filter".into(),
            };
            let _ = writeln!(
                s,
                "  host readout {:?} -> output {:?} shape={:?} from layers {layers:?}, {filter}",
                r.name, r.output, r.shape
            );
        }
        s
    }
}
