//! The integer primitives of the step, written out here (not borrowed from
//! `nmc-target`) so that this reference stays an independent statement of
//! the semantics.

use nmc_target::{Overflow, Register};

/// A signed register of `bits` magnitude bits plus sign (`−2^bits ..= 2^bits − 1`)
/// and its overflow rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fit {
    bits: u32,
    wrap: bool,
}

impl Fit {
    /// The register as the target declares it (`bits` ≤ 63 by the target's validation).
    pub(crate) fn of(r: &Register) -> Fit {
        Fit {
            bits: r.magnitude_bits().min(63),
            wrap: matches!(r.overflow(), Overflow::Wrap),
        }
    }

    /// `−2^bits`.
    pub(crate) fn min(self) -> i64 {
        (-(1i128 << self.bits)) as i64
    }

    /// `2^bits − 1`.
    pub(crate) fn max(self) -> i64 {
        ((1i128 << self.bits) - 1) as i64
    }

    /// Brings an exact value into the register: keep the low `bits + 1` bits
    /// as two's complement (wrap), or saturate (clip).
    pub(crate) fn apply(self, x: i128) -> i64 {
        if self.wrap {
            let unused = 127 - self.bits;
            ((x << unused) >> unused) as i64
        } else {
            x.clamp(i128::from(self.min()), i128::from(self.max())) as i64
        }
    }
}

/// One decay step: `sign(x) · ((|x| · factor) >> bits)`, the magnitude
/// truncated toward zero. `factor` is `2^bits − offset − stored decay` (≥ 0).
pub(crate) fn decay(x: i64, factor: i64, bits: u32) -> i128 {
    let magnitude = (i128::from(x.unsigned_abs()) * i128::from(factor)) >> bits;
    if x < 0 { -magnitude } else { magnitude }
}

/// `x · 2^e` for a possibly negative `e`, exact or `None` (a set bit would
/// be shifted out, or the result leaves `i64`).
pub(crate) fn shift_exact(x: i64, e: i32) -> Option<i64> {
    if e >= 0 {
        if e >= 64 {
            return (x == 0).then_some(0);
        }
        i64::try_from(i128::from(x) << e).ok()
    } else {
        let s = e.unsigned_abs();
        if s >= 64 {
            return (x == 0).then_some(0);
        }
        let x = i128::from(x);
        (x & ((1i128 << s) - 1) == 0).then(|| (x >> s) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_clip() {
        let w = Fit { bits: 21, wrap: true };
        assert_eq!(w.apply((1 << 21) - 1), (1 << 21) - 1);
        assert_eq!(w.apply(1 << 21), -(1 << 21));
        assert_eq!(w.apply(-(1 << 21) - 1), (1 << 21) - 1);
        assert_eq!(w.apply(4_161_536), -32_768);
        let c = Fit { bits: 21, wrap: false };
        assert_eq!(c.apply(1 << 40), (1 << 21) - 1);
        assert_eq!(c.apply(-(1 << 40)), -(1 << 21));
        let wide = Fit { bits: 63, wrap: true };
        assert_eq!((wide.min(), wide.max()), (i64::MIN, i64::MAX));
        assert_eq!(wide.apply(i128::from(i64::MAX) + 1), i64::MIN);
    }

    #[test]
    fn decay_truncates_toward_zero() {
        assert_eq!(decay(640, 3933, 12), 614);
        assert_eq!(decay(-640, 3933, 12), -614);
        assert_eq!(decay(1, 4095, 12), 0);
        assert_eq!(decay(-1, 4095, 12), 0);
        assert_eq!(decay(i64::MIN, 4096, 12), i128::from(i64::MIN));
    }

    #[test]
    fn exact_shifts() {
        assert_eq!(shift_exact(10, 6), Some(640));
        assert_eq!(shift_exact(128, -1), Some(64));
        assert_eq!(shift_exact(3, -1), None);
        assert_eq!(shift_exact(-128, -7), Some(-1));
        assert_eq!(shift_exact(1, 63), None);
        assert_eq!(shift_exact(0, 200), Some(0));
    }
}
