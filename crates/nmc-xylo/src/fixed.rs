//! The integer primitives of the Xylo neuron, shared by the emulator
//! (`crate::emu`). The reference (`crate::reference`) restates them on its own.

/// The range of a signed register of `bits` bits (sign included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Width {
    pub min: i32,
    pub max: i32,
    bits: u32,
}

impl Width {
    pub(crate) fn new(bits: u32) -> Self {
        Width {
            min: -(1 << (bits - 1)),
            max: (1 << (bits - 1)) - 1,
            bits,
        }
    }
    /// Saturating: XyloIAFNeuron.h `safe_add` clamps to the register range.
    #[inline(always)]
    pub(crate) fn sat(self, v: i32) -> i32 {
        v.clamp(self.min, self.max)
    }
    /// Two's-complement wrap into the register (a C++ int → int16_t store).
    #[inline(always)]
    pub(crate) fn wrap(self, v: i32) -> i32 {
        let sh = 32 - self.bits;
        (v << sh) >> sh
    }
}

/// XyloIAFNeuron.cpp `decay`: `v >> dash`, but at least one step toward 0.
#[inline(always)]
pub(crate) fn decay(v: i32, dash: u32) -> i32 {
    let dv = v >> dash;
    if dv == 0 { v.signum() } else { dv }
}
