//! A layer's kernel, neuron and bias memory, in entries: sinabs 3.1.3's
//! `DynapcnnLayer.memory_summary` (backend/dynapcnn/dynapcnn_layer.py).
//!
//! The chip addresses kernels and neurons with bit fields, so each
//! dimension is rounded up to a power of two before multiplying:
//!
//! - kernel: `c · 2^(⌈log2(kh·kw)⌉ + ⌈log2 f⌉)`
//! - neuron: `f · 2^(⌈log2 h⌉ + ⌈log2 w⌉)`, `h × w` the conv output (before pooling)
//! - bias: `f` when the convolution has a bias, else 0
//!
//! ```
//! use nmc_speck::memory::{ceil_log2, Memory};
//! assert_eq!(ceil_log2(9), 4);
//! // 16 → 32 channels, 3x3: 16 · 2^(4 + 5) = 8192 kernel entries
//! let m = Memory::of_conv([32, 16, 3, 3], [32, 30, 30], true);
//! assert_eq!((m.kernel, m.neuron, m.bias), (8192, 32 * 1024, 32));
//! ```

use serde::{Deserialize, Serialize};

use crate::layers::Layer;

/// Memory one layer needs, in entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Kernel (weight) entries.
    pub kernel: u64,
    /// Neuron (state) entries.
    pub neuron: u64,
    /// Bias entries.
    pub bias: u64,
}

/// `⌈log2 n⌉` for `n ≥ 1` (0 for `n ≤ 1`), exactly as `np.ceil(np.log2(n))`
/// for the integers a layer has.
pub fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        return 0;
    }
    match n.checked_next_power_of_two() {
        Some(p) => p.trailing_zeros(),
        None => 64,
    }
}

/// `m · 2^e`, saturating at `u64::MAX`.
fn scaled(m: u64, e: u32) -> u64 {
    if m == 0 {
        return 0;
    }
    if e >= 64 || m.leading_zeros() < e {
        return u64::MAX;
    }
    m << e
}

impl Memory {
    /// The memory of a conv layer with kernel `[f, c, kh, kw]`, conv output
    /// `[f, h, w]` and a bias or not.
    pub fn of_conv(kernel: [u32; 4], output: [u32; 3], bias: bool) -> Memory {
        let [f, c, kh, kw] = kernel.map(u64::from);
        let [_, h, w] = output.map(u64::from);
        Memory {
            kernel: scaled(c, ceil_log2(kh.saturating_mul(kw)) + ceil_log2(f)),
            neuron: scaled(f, ceil_log2(h) + ceil_log2(w)),
            bias: if bias { f } else { 0 },
        }
    }

    /// The memory of `layer` (its kernel and neuron shapes).
    pub fn of(layer: &Layer) -> Memory {
        Memory::of_conv(layer.kernel, layer.output, layer.bias)
    }
}
