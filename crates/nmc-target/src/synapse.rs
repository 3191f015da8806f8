//! The synapse-memory costing rule.
//!
//! # Where the rule comes from
//!
//! nengo-loihi (v1.1.0, `nengo_loihi/block.py`, method
//! `SynapseConfig.bits_per_axon`, and the same method of `SynapseFmt` in
//! older releases) computes the synapse memory of one axon's weights so:
//!
//! - every synapse costs its stored weight width (its `WEIGHT_BITS_MAP`
//!   offers 0, 1, 2, 3, 4, 5, 6 or 8 bits; nengo-loihi always picks 8) plus
//!   the delay bits and the tag bits of the format (both left at 0 by
//!   nengo-loihi), plus the index width when the list is stored
//!   uncompressed/sparse (compression 0; population weights are stored this
//!   way); dense lists (compression 3, every target compartment in order)
//!   pay no index;
//! - index widths come from its `INDEX_BITS_MAP`: 0, 6, 7, 8, 9, 10, 11 or
//!   12 bits; a list uses the smallest one that holds
//!   `ceil(log2(largest index + 1))` bits;
//! - the synapses are cut into runs of `n_synapses + 1` (nengo-loihi sets
//!   `n_synapses = 63`, so 64); each run also pays a header of 4 bits (the
//!   synapse-format index) and 6 bits (the run length), and is rounded up to
//!   a whole 64-bit memory word;
//! - a core's total (the sum over its synapse lists, a list shared by several
//!   population axons counted once) must stay within 16384 words × 64 bits =
//!   1,048,576 bits (`MAX_SYNAPSE_BITS`).
//!
//! [`SynapseCost::bits`] is that computation with every number taken from
//! the target file.

use crate::raw::RawSynapseCost;

/// `synapse_cost`: how a synapse list is counted in synapse memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynapseCost {
    pub(crate) word_bits: u32,
    pub(crate) max_run_length: u32,
    pub(crate) format_index_bits: u32,
    pub(crate) run_length_bits: u32,
    pub(crate) delay_bits: u32,
    pub(crate) tag_bits: u32,
    pub(crate) weight_bits: Vec<u32>,
    pub(crate) index_bits: Vec<u32>,
    pub(crate) core_index_bits: u32,
}

impl SynapseCost {
    pub(crate) fn from_raw(r: &RawSynapseCost, core_index_bits: u32) -> SynapseCost {
        SynapseCost {
            word_bits: r.word_bits,
            max_run_length: r.max_run_length,
            format_index_bits: r.format_index_bits,
            run_length_bits: r.run_length_bits,
            delay_bits: r.delay_bits,
            tag_bits: r.tag_bits,
            weight_bits: r.weight_bits.clone(),
            index_bits: r.index_bits.clone(),
            core_index_bits,
        }
    }

    /// Bits of one memory word; every run is rounded up to whole words.
    pub fn word_bits(&self) -> u32 {
        self.word_bits
    }

    /// Most synapses in one run.
    pub fn max_run_length(&self) -> u32 {
        self.max_run_length
    }

    /// Header bits naming the synapse format of a run.
    pub fn format_index_bits(&self) -> u32 {
        self.format_index_bits
    }

    /// Header bits holding the run length.
    pub fn run_length_bits(&self) -> u32 {
        self.run_length_bits
    }

    /// All header bits of one run: `format_index_bits + run_length_bits`.
    pub fn run_header_bits(&self) -> u32 {
        self.format_index_bits + self.run_length_bits
    }

    /// Per-synapse delay bits.
    pub fn delay_bits(&self) -> u32 {
        self.delay_bits
    }

    /// Per-synapse tag bits.
    pub fn tag_bits(&self) -> u32 {
        self.tag_bits
    }

    /// Stored weight widths a synapse format may use, increasing.
    pub fn weight_bits(&self) -> &[u32] {
        &self.weight_bits
    }

    /// Index widths a sparse synapse format may use, increasing.
    pub fn index_bits(&self) -> &[u32] {
        &self.index_bits
    }

    /// The smallest allowed index width that holds `max_index`
    /// (`ceil(log2(max_index + 1))` bits), or `None` if none is wide enough.
    pub fn index_bits_for(&self, max_index: u64) -> Option<u32> {
        let needed = u64::BITS - max_index.leading_zeros();
        self.index_bits.iter().copied().find(|&b| b >= needed)
    }

    /// The index width that addresses every compartment of a core
    /// (`index_bits_for(max_compartments − 1)`); validation guarantees it exists.
    pub fn core_index_bits(&self) -> u32 {
        self.core_index_bits
    }

    /// Bits of one synapse: `weight_bits + delay_bits + tag_bits + index_bits`.
    pub fn bits_per_synapse(&self, weight_bits: u32, index_bits: u32) -> u64 {
        u64::from(weight_bits) + u64::from(self.delay_bits) + u64::from(self.tag_bits) + u64::from(index_bits)
    }

    /// Synapse-memory bits of a list of `n_weights` synapses: runs of up to
    /// `max_run_length`, each costing `n · bits_per_synapse + header`
    /// rounded up to a multiple of `word_bits`. `index_bits` is 0 for dense
    /// lists. The widths are taken as given (not checked against
    /// [`SynapseCost::weight_bits`] / [`SynapseCost::index_bits`]).
    pub fn bits(&self, n_weights: usize, weight_bits: u32, index_bits: u32) -> u64 {
        let n = n_weights as u64;
        let run = u64::from(self.max_run_length);
        let per_synapse = self.bits_per_synapse(weight_bits, index_bits);
        let header = u64::from(self.run_header_bits());
        let word = u64::from(self.word_bits);
        let run_cost = |len: u64| (len * per_synapse + header).div_ceil(word) * word;
        let full_runs = n / run;
        let rest = n % run;
        full_runs * run_cost(run) + if rest > 0 { run_cost(rest) } else { 0 }
    }

    /// Synapse-memory words of the same list: `bits(...) / word_bits`.
    pub fn words(&self, n_weights: usize, weight_bits: u32, index_bits: u32) -> u64 {
        self.bits(n_weights, weight_bits, index_bits) / u64::from(self.word_bits)
    }
}
