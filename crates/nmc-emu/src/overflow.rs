//! Where the update loop reports wraps and clips: per-layer counts per register
//! and the item's first overflow by position (all off the hot path, `#[cold]`).

use crate::net::Net;
use crate::numerics::Overflow;
use nmc_trace::{OverflowCounts, Register};

/// One wrap or clip of a batch item, by position in the network (ordered
/// by step, layer, neuron, register).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ItemOverflow {
    pub(crate) step: usize,
    pub(crate) layer: u32,
    pub(crate) neuron: u32,
    pub(crate) register: Register,
    pub(crate) exact: i64,
    pub(crate) stored: i64,
}

/// Where the update loop reports overflows (off the hot path).
pub(crate) struct OverflowSink<'a> {
    /// The network: its numerics and per-compartment voltage bounds.
    pub(crate) net: &'a Net,
    pub(crate) rev: &'a [(u32, u32)],
    /// Per layer, plus one slot for compartments in no layer.
    pub(crate) counts: Vec<OverflowCounts>,
    pub(crate) step: usize,
    pub(crate) first: Option<ItemOverflow>,
}

impl OverflowSink<'_> {
    /// Records every register of compartment `cx` whose stored value
    /// differs from its exact one: `[q, u, u + bias, v]` as (exact, stored),
    /// `v` stored after its `[vmin, vmax]` clamp. A vmin narrower than the
    /// target's widest is the neuron's floor (nengo's min_voltage): holding
    /// `v` there is not a clip, and what counts (and is reported as stored)
    /// is `v` after its register and `vmax` only — the fixed reference's
    /// rule, so both report the same first overflow. Decided here, off the
    /// update loop.
    #[cold]
    #[inline(never)]
    pub(crate) fn hits(&mut self, cx: u32, mut regs: [(i64, i64); 4]) {
        let (num, consts) = (&self.net.num, &self.net.cx);
        let (vmin, vmax) = (consts.vmin[cx as usize], consts.vmax[cx as usize]);
        if vmin > num.vmin_widest {
            let v_exact = regs[3].0;
            let m = (1i64 << (num.v.bits - 1)) - 1;
            regs[3].1 = match num.v.overflow {
                Overflow::Wrap => num.v.fit(v_exact).min(vmax),
                Overflow::Clip => v_exact.clamp(-m - 1, m).min(vmax.min(m)),
            };
        }
        for (reg, (exact, stored)) in Register::ALL.into_iter().zip(regs) {
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
        self.counts[slot].count(register);
        let e = ItemOverflow {
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
