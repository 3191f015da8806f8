//! Spike files of emulated runs: their header, per-sample records, and the
//! sinks a run streams its samples to (a spike file, a golden comparison).

use crate::Error;
use crate::spikefile::{GoldenCheck, GoldenComparer, SampleSpikes, SpikeHeader, SpikeWriter, input_crc};
use nmc_artifact::Artifact;
use nmc_emu::EmuResult;
use nmc_reference::Stimulus;
use std::path::Path;

/// The spike-file header of an emulated run.
pub(super) fn spike_header(a: &Artifact, steps: usize, batch: usize, input_crc: u32) -> SpikeHeader {
    SpikeHeader {
        nmc_version: env!("CARGO_PKG_VERSION").to_string(),
        model: a.model.clone(),
        target: a.target_name.clone(),
        steps: steps as u64,
        batch: batch as u64,
        input_crc,
        layers: a
            .layers
            .iter()
            .map(|l| (l.name.clone(), l.shape.iter().map(|&d| d as u64).collect()))
            .collect(),
    }
}

/// The CRC of a stimulus, as recorded in spike files.
pub fn stimulus_crc(stim: &Stimulus) -> u32 {
    let v = stim.values();
    let (b, t, f) = v.dim();
    input_crc(&[b, t, f], v.iter().copied())
}

/// Sample `b` of an emulator result, as a spike-file record.
pub fn sample_spikes(res: &EmuResult, b: usize) -> SampleSpikes {
    let t = &res.trace;
    SampleSpikes {
        layers: t
            .layers
            .iter()
            .map(|l| {
                let len = t.steps * l.neurons();
                l.spikes[b * len..(b + 1) * len].iter_ones().map(|x| x as u64).collect()
            })
            .collect(),
    }
}

/// Where the samples of a run go: a spike file, a golden comparison, both.
pub(super) struct SampleSinks {
    writers: Vec<SpikeWriter>,
    cmp: Option<GoldenComparer>,
    neurons: Vec<u64>,
}

impl SampleSinks {
    pub(super) fn new(
        header: &SpikeHeader,
        spikes: Option<&Path>,
        expect: Option<&Path>,
        bless: bool,
    ) -> Result<SampleSinks, Error> {
        let same = matches!((spikes, expect), (Some(s), Some(e)) if nmc_core::output::same_file(s, e));
        if !bless && same {
            // Writing the file would truncate the golden it is compared with.
            return Err(Error::Usage(
                "--spikes and --expect name the same file: to record a golden file use --expect FILE --bless".into(),
            ));
        }
        let mut writers = Vec::new();
        if let Some(p) = spikes {
            writers.push(SpikeWriter::create(p, header.clone())?);
        }
        let mut cmp = None;
        if let Some(p) = expect {
            if bless {
                if !same {
                    writers.push(SpikeWriter::create(p, header.clone())?);
                }
            } else {
                cmp = Some(GoldenComparer::open(p, header)?);
            }
        }
        let neurons = header.layers.iter().map(|(_, s)| s.iter().product()).collect();
        Ok(SampleSinks { writers, cmp, neurons })
    }
    pub(super) fn push(&mut self, res: &EmuResult) -> Result<(), Error> {
        if self.writers.is_empty() && self.cmp.is_none() {
            return Ok(());
        }
        for b in 0..res.trace.batch {
            let s = sample_spikes(res, b);
            for w in &mut self.writers {
                w.push(&s)?;
            }
            if let Some(c) = &mut self.cmp {
                c.push(&s, &self.neurons)?;
            }
        }
        Ok(())
    }
    pub(super) fn finish(self) -> Result<Option<GoldenCheck>, Error> {
        for w in self.writers {
            w.finish()?;
        }
        Ok(match self.cmp {
            Some(c) => Some(c.finish()?),
            None => None,
        })
    }
}

/// Compares a whole emulator result with a golden spike file, or writes it
/// (`bless`). `None` when blessing.
pub fn check_golden(
    a: &Artifact,
    res: &EmuResult,
    input_crc: u32,
    path: &Path,
    bless: bool,
) -> Result<Option<GoldenCheck>, Error> {
    let header = spike_header(a, res.trace.steps, res.trace.batch, input_crc);
    let mut sinks = SampleSinks::new(&header, None, Some(path), bless)?;
    sinks.push(res)?;
    sinks.finish()
}
