//! Where the update loop reports wraps and clips: per-layer counts and, in strict
//! mode, the first overflow by position (all off the hot path, `#[cold]`).

use crate::error::Register;

/// One wrap or clip, by position in the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OverflowEvent {
    pub(crate) step: usize,
    pub(crate) layer: u32,
    pub(crate) neuron: u32,
    pub(crate) register: Register,
    pub(crate) exact: i64,
    pub(crate) stored: i64,
}

/// Where the update loop reports overflows (off the hot path).
pub(crate) struct OverflowSink<'a> {
    pub(crate) rev: &'a [(u32, u32)],
    pub(crate) counts: Vec<[u64; 3]>,
    pub(crate) strict: bool,
    pub(crate) step: usize,
    pub(crate) first: Option<OverflowEvent>,
}

impl OverflowSink<'_> {
    /// Records every register of compartment `cx` whose stored value
    /// differs from its exact one: `[q, u, u + bias, v]` as (exact, stored).
    #[cold]
    #[inline(never)]
    pub(crate) fn hits(&mut self, cx: u32, regs: [(i64, i64); 4]) {
        const ORDER: [Register; 4] = [
            Register::Accumulator,
            Register::Current,
            Register::CurrentBias,
            Register::Voltage,
        ];
        for (reg, (exact, stored)) in ORDER.into_iter().zip(regs) {
            if exact != stored {
                self.hit(reg, cx, exact, stored);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn hit(&mut self, register: Register, cx: u32, exact: i64, stored: i64) {
        let (layer, neuron) = self.rev[cx as usize];
        let slot = if layer == u32::MAX {
            self.counts.len() - 1
        } else {
            layer as usize
        };
        let k = match register {
            Register::Accumulator => 0,
            Register::Current | Register::CurrentBias => 1,
            Register::Voltage => 2,
        };
        self.counts[slot][k] += 1;
        if self.strict {
            let e = OverflowEvent {
                step: self.step,
                layer,
                neuron: if layer == u32::MAX { cx } else { neuron },
                register,
                exact,
                stored,
            };
            if self.first.is_none_or(|f| e < f) {
                self.first = Some(e);
            }
        }
    }
}
