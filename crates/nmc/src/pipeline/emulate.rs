//! `emulate_file`: an artifact emulated on an input file chunk by chunk,
//! streaming spikes to the sinks and accumulating the `nmc emulate` report.

use super::golden::{SampleSinks, spike_header, stimulus_crc};
use super::spikes_of;
use crate::Error;
use nmc_artifact::Artifact;
use nmc_emu::{EmuError, Emulator, InputData, RunOptions};
use nmc_reference::Stimulus;
use std::path::Path;

/// How [`emulate_file`] runs and what it writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmulateOptions<'a> {
    /// Steps to run (default: the input's time axis).
    pub steps: Option<usize>,
    /// Labels (.npy) for the readout's accuracy.
    pub labels: Option<&'a Path>,
    /// Write every layer's spikes to this `.npz` (holds the whole run in memory).
    pub out: Option<&'a Path>,
    /// Stream every layer's spikes to this spike file (`.nmcs`, bounded memory).
    pub spikes: Option<&'a Path>,
    /// Compare the run with this golden spike file (or write it, with `bless`).
    pub expect: Option<&'a Path>,
    /// Write `expect` instead of comparing with it.
    pub bless: bool,
    /// Strict overflow mode.
    pub strict: bool,
    /// The input file holds recorded spikes of the artifact's host layer,
    /// `(batch, steps, *host shape)` of 0/1 (`--input-spikes`), fed instead
    /// of running the host layer on real-valued input.
    pub host_spikes: bool,
    /// How host readouts are decided (default per readout: `last` when
    /// filtered, else `sum`).
    pub readout_decision: Option<crate::readout::ReadoutDecision>,
    /// Also write every layer's registers after every step to `out`
    /// (`state.<layer>.u`, `state.<layer>.v`, int64 `(batch, steps, *shape)`).
    pub record_state: bool,
}

/// Samples emulated at a time by [`emulate_file`]: memory holds one chunk's
/// spikes. A constant, so results never depend on the machine.
pub const EMULATE_CHUNK: usize = 16;

/// Emulates an artifact on an input file, [`EMULATE_CHUNK`] samples at a
/// time: the `nmc emulate` report (with the golden comparison when
/// `expect` is given), optionally streaming every sample's spikes to a
/// spike file. Memory: the input array, the emulator, one chunk's spikes and
/// per-layer counters; `out` (`.npz`, `spikes.<layer>`, uint8 `(batch,
/// steps, *shape)`) alone keeps the whole run. A progress bar shows on a
/// terminal.
pub fn emulate_file(
    a: &Artifact,
    input: &Path,
    opts: &EmulateOptions<'_>,
) -> Result<crate::activity::EmulateReport, Error> {
    use std::io::IsTerminal;
    let emu = Emulator::new(a)?;
    let in_shape = input_shape(a, &emu, input, opts.host_spikes)?;
    let arr = nmc_reference::read_input(input, &in_shape)?;
    let stim = Stimulus::from_array(arr, &in_shape).map_err(crate::input_error(input))?;
    let steps = opts.steps.unwrap_or(stim.steps());
    if steps == 0 {
        return Err(EmuError::input(
            nmc_core::Loc::Whole,
            "steps",
            "nothing to emulate: the number of steps is 0",
        )
        .into());
    }
    let batch = stim.batch();
    let labels = match opts.labels {
        Some(p) => Some(crate::simulate::read_labels(p, batch)?),
        None => None,
    };
    check_budget(a, batch, steps, opts.out.is_some())?;
    if opts.record_state {
        let neurons: usize = a.layers.iter().map(|l| l.shape.iter().product::<usize>()).sum();
        crate::budget::check(
            "`nmc emulate --record-state`: every register of the run",
            batch,
            steps,
            32.0 * neurons as f64,
        )?;
    }
    let header = spike_header(a, steps, batch, stimulus_crc(&stim));
    let mut sinks = SampleSinks::new(&header, opts.spikes, opts.expect, opts.bless)?;
    let bar = if std::io::stderr().is_terminal() && batch > 1 {
        indicatif::ProgressBar::new(batch as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut totals = Totals::new(a, batch, steps, opts.out.is_some(), opts.readout_decision);
    let v = stim.values();
    let run = RunOptions {
        strict: opts.strict,
        record_state: opts.record_state,
    };
    let mut states: Vec<nmc_emu::LayerState> = Vec::new();
    let mut b0 = 0;
    while b0 < batch {
        let b1 = (b0 + EMULATE_CHUNK).min(batch);
        let chunk = chunk_input(v, b0, b1);
        let res = if opts.host_spikes {
            emu.run_host_spikes(&chunk, steps, &run, &|| bar.inc(1))
        } else {
            emu.run_opts(std::slice::from_ref(&chunk), steps, &run, &|| bar.inc(1))
        };
        let res = res.map_err(|e| chunk_error(e, b0, input))?;
        if let Some(st) = &res.states {
            states.resize_with(st.len(), Default::default);
            for (all, s) in states.iter_mut().zip(st) {
                all.u.extend_from_slice(&s.u);
                all.v.extend_from_slice(&s.v);
            }
        }
        totals.add(&res, steps);
        sinks.push(&res)?;
        b0 = b1;
    }
    bar.finish_and_clear();
    let golden = sinks.finish()?;
    if let (Some(p), Some(w)) = (opts.out, &totals.whole) {
        let layers: Vec<(&str, &[usize], &bitvec::vec::BitVec)> = a
            .layers
            .iter()
            .zip(w)
            .map(|(l, b)| (l.name.as_str(), l.shape.as_slice(), b))
            .collect();
        let states = opts.record_state.then_some(states.as_slice());
        write_spikes_npz(p, &layers, batch, steps, states)?;
    }
    Ok(totals.report(a, &emu, batch, steps, labels.as_deref(), golden))
}

/// The shape of one step of the input file: the artifact's first input, or
/// with `host_spikes` its single host layer (else a usage error).
fn input_shape(a: &Artifact, emu: &Emulator, input: &Path, host_spikes: bool) -> Result<nmc_ir::Shape, Error> {
    if host_spikes {
        let (_, _, shape) = emu.host_layer().ok_or_else(|| {
            Error::Usage(format!(
                "--input-spikes {}: the artifact has {} host layers; recorded spikes replace exactly one \
                 (an artifact without a host encoder takes event inputs: pass them with --input)",
                input.display(),
                a.host.len()
            ))
        })?;
        Ok(nmc_ir::Shape::new(shape.to_vec()))
    } else {
        Ok(a.inputs
            .first()
            .map(|i| nmc_ir::Shape::new(i.shape.clone()))
            .unwrap_or_default())
    }
}

/// The memory budget of a run: one chunk of spikes, and with `--out` every
/// spike of the run.
fn check_budget(a: &Artifact, batch: usize, steps: usize, out: bool) -> Result<(), Error> {
    let neurons: usize = a.layers.iter().map(|l| l.shape.iter().product::<usize>()).sum();
    crate::budget::check(
        "`nmc emulate`: one chunk of emulated spikes",
        batch.min(EMULATE_CHUNK),
        steps,
        neurons as f64 / 8.0 + 8.0,
    )?;
    if out {
        // The .npz keeps every spike of the run, one byte each while written.
        crate::budget::check(
            "`nmc emulate --out`: every spike of the run",
            batch,
            steps,
            1.125 * neurons as f64,
        )?;
    }
    Ok(())
}

/// Samples `b0..b1` of the input values, as the emulator takes them.
fn chunk_input(v: &ndarray::Array3<f64>, b0: usize, b1: usize) -> InputData {
    let (_, t_in, feats) = v.dim();
    InputData {
        batch: b1 - b0,
        steps: t_in,
        features: feats,
        data: v.as_slice().map_or_else(
            || {
                (b0..b1)
                    .flat_map(|b| v.index_axis(ndarray::Axis(0), b).iter().copied().collect::<Vec<_>>())
                    .collect()
            },
            |s| s[b0 * t_in * feats..b1 * t_in * feats].to_vec(),
        ),
    }
}

/// An emulator error of the chunk starting at sample `b0`, as the whole run
/// reports it: an overflow names its sample in the whole batch, an input
/// error names the input file.
fn chunk_error(e: EmuError, b0: usize, input: &Path) -> EmuError {
    match e {
        EmuError::Overflow(mut e) => {
            e.batch += b0;
            EmuError::Overflow(e)
        }
        EmuError::Input { file: None, problem } => EmuError::Input {
            file: Some(input.display().to_string()),
            problem,
        },
        e => e,
    }
}

/// What the chunks of a run add up to: per-layer activity, the readout's
/// argmax per sample, core and overflow counters, and (for `--out`) every
/// spike.
struct Totals {
    /// Per layer of the artifact, its activity so far.
    acc: Vec<crate::activity::ActivityAcc>,
    /// The layer the first output reads.
    out_layer: Option<usize>,
    /// Per sample so far, the output layer's most active neuron.
    argmax: Vec<usize>,
    /// Per host readout: its decision rule and the decided class per sample so far.
    readouts: Vec<(crate::readout::ReadoutDecision, Vec<usize>)>,
    /// Per core, spikes and synaptic events (empty before the first chunk).
    cores: Vec<nmc_emu::CoreActivity>,
    /// Per layer, wraps and clips (empty before the first chunk).
    overflows: Vec<crate::activity::LayerOverflow>,
    /// Spikes of the host layers.
    host_spikes: u64,
    /// Synaptic events.
    syn_events: u64,
    /// With `--out`: per layer, every spike so far.
    whole: Option<Vec<bitvec::vec::BitVec>>,
}

impl Totals {
    fn new(
        a: &Artifact,
        batch: usize,
        steps: usize,
        out: bool,
        decision: Option<crate::readout::ReadoutDecision>,
    ) -> Totals {
        Totals {
            acc: a
                .layers
                .iter()
                .map(|l| crate::activity::ActivityAcc::new(&l.name, l.shape.iter().product(), steps))
                .collect(),
            out_layer: a.outputs.first().map(|o| o.layer as usize),
            argmax: Vec::with_capacity(batch),
            readouts: a
                .readouts
                .iter()
                .map(|r| {
                    let d = crate::readout::ReadoutDecision::resolve(decision, r.filter.is_some());
                    (d, Vec::with_capacity(batch))
                })
                .collect(),
            cores: Vec::new(),
            overflows: Vec::new(),
            host_spikes: 0,
            syn_events: 0,
            whole: out.then(|| vec![bitvec::vec::BitVec::new(); a.layers.len()]),
        }
    }

    /// Adds one chunk's result.
    fn add(&mut self, res: &nmc_emu::EmuResult, steps: usize) {
        let t = &res.trace;
        for (k, l) in t.layers.iter().enumerate() {
            let view = spikes_of(&l.name, l.neurons(), t.batch, steps, &l.spikes);
            self.acc[k].add(&view);
            if self.out_layer == Some(k) {
                let c = view.counts(0, steps);
                self.argmax
                    .extend((0..t.batch).map(|b| crate::compare::argmax_u32(&c[b * view.n..(b + 1) * view.n])));
            }
            if let Some(w) = &mut self.whole {
                w[k].extend_from_bitslice(&l.spikes);
            }
        }
        for ((d, classes), r) in self.readouts.iter_mut().zip(&t.readouts) {
            let n = r.elements();
            classes.extend((0..t.batch).map(|b| d.decide(&r.values[b * steps * n..(b + 1) * steps * n], 0, steps, n)));
        }
        if self.cores.is_empty() {
            self.cores = res.cores.clone();
            self.overflows = crate::activity::LayerOverflow::all(t);
        } else {
            for (c, r) in self.cores.iter_mut().zip(&res.cores) {
                c.spikes += r.spikes;
                c.syn_events += r.syn_events;
            }
            for (o, l) in self.overflows.iter_mut().zip(&t.layers) {
                o.add(&crate::activity::LayerOverflow::of(l));
            }
        }
        self.host_spikes += res.host_spikes;
        self.syn_events += res.syn_events;
    }

    /// The `nmc emulate` report of the whole run.
    fn report(
        self,
        a: &Artifact,
        emu: &Emulator,
        batch: usize,
        steps: usize,
        labels: Option<&[usize]>,
        golden: Option<crate::spikefile::GoldenCheck>,
    ) -> crate::activity::EmulateReport {
        let output = self.out_layer.and_then(|k| a.layers.get(k)).map(|l| {
            let accuracy = labels.map(|y| crate::simulate::accuracy(&self.argmax, y));
            crate::activity::Readout {
                layer: l.name.clone(),
                argmax: self.argmax.clone(),
                accuracy,
            }
        });
        let readouts = a
            .readouts
            .iter()
            .zip(&self.readouts)
            .map(|(r, (d, classes))| crate::activity::ReadoutResult {
                readout: r.name.clone(),
                output: r.output.clone(),
                synapse_tau: r.filter.map(|f| f.tau),
                decision: *d,
                argmax: classes.clone(),
                accuracy: labels.map(|y| crate::simulate::accuracy(classes, y)),
            })
            .collect();
        let layers: Vec<crate::activity::LayerActivity> = self.acc.iter().map(|x| x.finish(a.dt)).collect();
        let warnings = crate::activity::warnings_of(&layers, &emu.layer_spiking(), batch, steps);
        crate::activity::EmulateReport {
            schema: "nmc.emulate/1",
            model: a.model.clone(),
            target: a.target_name.clone(),
            batch,
            steps,
            dt: a.dt,
            layers,
            warnings,
            cores: self.cores,
            host_spikes: self.host_spikes,
            syn_events: self.syn_events,
            output,
            readouts,
            overflows: self.overflows,
            golden,
        }
    }
}

/// Writes one `spikes.<layer>` array `(batch, steps, *shape)` of 0/1 per
/// layer to `p` (atomically), as `emulate --out` and `simulate --out` do.
pub(crate) fn write_spikes_npz(
    p: &Path,
    layers: &[(&str, &[usize], &bitvec::vec::BitVec)],
    batch: usize,
    steps: usize,
    states: Option<&[nmc_emu::LayerState]>,
) -> Result<(), Error> {
    let io = |e: String| Error::Io {
        path: p.display().to_string(),
        source: std::io::Error::other(e),
    };
    let keys: Vec<(String, &str)> = layers
        .iter()
        .map(|&(name, _, _)| (nmc_reference::npz_key("spikes", name), name))
        .collect();
    nmc_reference::check_unique_keys(p, &keys)?;
    // Written beside `p` and renamed over it once complete.
    let f = nmc_core::output::AtomicFile::create(p).map_err(|source| Error::Io {
        path: p.display().to_string(),
        source,
    })?;
    let mut w = ndarray_npy::NpzWriter::new_compressed(f);
    for &(name, lshape, b) in layers {
        let mut shape = vec![batch, steps];
        shape.extend_from_slice(lshape);
        let data: Vec<u8> = b.iter().map(|b| *b as u8).collect();
        let arr = ndarray::ArrayD::from_shape_vec(shape, data).map_err(|e| io(e.to_string()))?;
        w.add_array(nmc_reference::npz_key("spikes", name), &arr)
            .map_err(|e| io(e.to_string()))?;
    }
    for (&(name, lshape, _), st) in layers.iter().zip(states.unwrap_or_default()) {
        let mut shape = vec![batch, steps];
        shape.extend_from_slice(lshape);
        for (reg, data) in [("u", &st.u), ("v", &st.v)] {
            let arr = ndarray::ArrayD::from_shape_vec(shape.clone(), data.clone()).map_err(|e| io(e.to_string()))?;
            w.add_array(format!("state.{name}.{reg}"), &arr)
                .map_err(|e| io(e.to_string()))?;
        }
    }
    let f = w.finish().map_err(|e| io(e.to_string()))?;
    f.commit().map_err(|source| Error::Io {
        path: p.display().to_string(),
        source,
    })
}
