//! The integer formats and registers of a [`Target`](super::Target)
//! (`formats`): weights, threshold, bias, decay, refractory delay,
//! accumulator, current and voltage.

use std::ops::RangeInclusive;

use crate::raw::{Overflow, RawRegister};

/// `formats`: the integer formats of parameters and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formats {
    pub(crate) weight: WeightFormat,
    pub(crate) threshold: ThresholdFormat,
    pub(crate) bias: BiasFormat,
    pub(crate) decay: DecayFormat,
    pub(crate) refractory: RefractoryFormat,
    pub(crate) accumulator: Register,
    pub(crate) current: Register,
    pub(crate) voltage: VoltageFormat,
}

impl Formats {
    /// Synaptic weights.
    pub fn weight(&self) -> &WeightFormat {
        &self.weight
    }

    /// Firing threshold.
    pub fn threshold(&self) -> &ThresholdFormat {
        &self.threshold
    }

    /// Bias.
    pub fn bias(&self) -> &BiasFormat {
        &self.bias
    }

    /// Decay constants.
    pub fn decay(&self) -> &DecayFormat {
        &self.decay
    }

    /// Refractory delay.
    pub fn refractory(&self) -> &RefractoryFormat {
        &self.refractory
    }

    /// The input accumulator `q`.
    pub fn accumulator(&self) -> &Register {
        &self.accumulator
    }

    /// The current `u`; also the register of `u + bias`.
    pub fn current(&self) -> &Register {
        &self.current
    }

    /// The voltage `v` and its clip bounds.
    pub fn voltage(&self) -> &VoltageFormat {
        &self.voltage
    }
}

/// `2^bits − 1`, saturating at `i64::MAX`.
pub(crate) fn mask(bits: u32) -> i64 {
    if bits >= 63 { i64::MAX } else { (1i64 << bits) - 1 }
}

/// `2^e` for a possibly negative `e`, as a shift of `x`; `None` when the
/// result does not fit or is not exact.
fn shift_exact(x: i64, e: i64) -> Option<i64> {
    let magnitude = u32::try_from(e.unsigned_abs()).ok()?;
    if magnitude >= 63 {
        return (x == 0).then_some(0);
    }
    if e >= 0 {
        x.checked_mul(1i64 << magnitude)
    } else {
        (x % (1i64 << magnitude) == 0).then_some(x >> magnitude)
    }
}

/// Synaptic weights: `w_int = w_mant · 2^(scale_shift + exp)`.
///
/// `|w_mant| < 2^mantissa_bits`; in a mixed-sign synapse format (both signs
/// in one list) `w_mant` is even when [`WeightFormat::mixed_sign_even`].
/// `w_int` is always a multiple of `2^granularity_shift`: for exponents
/// below `granularity_shift − scale_shift` the mantissa must be a multiple
/// of `2^(granularity_shift − scale_shift − exp)` (nengo-loihi rounds the
/// weight to that when compiling, as the chip drops those bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightFormat {
    pub(crate) mantissa_bits: u32,
    pub(crate) mixed_sign_even: bool,
    pub(crate) exp_min: i32,
    pub(crate) exp_max: i32,
    pub(crate) scale_shift: u32,
    pub(crate) granularity_shift: u32,
}

impl WeightFormat {
    /// `|w_mant| < 2^mantissa_bits`.
    pub fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }

    /// Whether mixed-sign formats force `w_mant` even.
    pub fn mixed_sign_even(&self) -> bool {
        self.mixed_sign_even
    }

    /// Smallest weight exponent.
    pub fn exp_min(&self) -> i32 {
        self.exp_min
    }

    /// Largest weight exponent.
    pub fn exp_max(&self) -> i32 {
        self.exp_max
    }

    /// `exp_min..=exp_max`.
    pub fn exp_range(&self) -> RangeInclusive<i32> {
        self.exp_min..=self.exp_max
    }

    /// The fixed shift: `w_int = w_mant · 2^(scale_shift + exp)`.
    pub fn scale_shift(&self) -> u32 {
        self.scale_shift
    }

    /// `w_int` is always a multiple of `2^granularity_shift`.
    pub fn granularity_shift(&self) -> u32 {
        self.granularity_shift
    }

    /// The spacing of legal mantissas at exponent `exp`: 2 for mixed-sign
    /// even formats, and at least `2^(granularity_shift − scale_shift − exp)`.
    pub fn mantissa_step(&self, exp: i32, mixed_sign: bool) -> i64 {
        let base: i64 = if mixed_sign && self.mixed_sign_even { 2 } else { 1 };
        let lost = i64::from(self.granularity_shift) - i64::from(self.scale_shift) - i64::from(exp);
        let grain = if lost > 0 { 1i64 << lost.min(62) } else { 1 };
        base.max(grain)
    }

    /// The largest legal `|w_mant|` at exponent `exp` (254 for Loihi's
    /// mixed-sign formats at `exp ≥ −1`, 255 for single-sign ones).
    pub fn max_abs_mantissa(&self, exp: i32, mixed_sign: bool) -> i64 {
        let limit = mask(self.mantissa_bits);
        let step = self.mantissa_step(exp, mixed_sign);
        limit - limit % step
    }

    /// The accumulated integer `w_int` of mantissa `w_mant` at exponent
    /// `exp`, or `None` when the pair is not representable (exponent out of
    /// range, mantissa too large or not a multiple of
    /// [`WeightFormat::mantissa_step`]).
    pub fn weight_int(&self, w_mant: i64, exp: i32, mixed_sign: bool) -> Option<i64> {
        if !self.exp_range().contains(&exp) {
            return None;
        }
        if w_mant.unsigned_abs() > self.max_abs_mantissa(exp, mixed_sign).unsigned_abs() {
            return None;
        }
        if w_mant % self.mantissa_step(exp, mixed_sign) != 0 {
            return None;
        }
        shift_exact(w_mant, i64::from(self.scale_shift) + i64::from(exp))
    }

    /// The largest `|w_int|` of any legal weight.
    pub fn max_abs_weight_int(&self) -> i64 {
        self.exp_range()
            .filter_map(|e| self.weight_int(self.max_abs_mantissa(e, false), e, false))
            .max()
            .unwrap_or(0)
    }
}

/// Firing threshold: `vth = vth_mant · 2^shift`, `vth_mant` in `1..2^mantissa_bits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdFormat {
    pub(crate) mantissa_bits: u32,
    pub(crate) shift: u32,
}

impl ThresholdFormat {
    /// Bits of the threshold mantissa.
    pub fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }

    /// The fixed shift of the threshold.
    pub fn shift(&self) -> u32 {
        self.shift
    }

    /// Smallest mantissa (1).
    pub fn mantissa_min(&self) -> i64 {
        1
    }

    /// Largest mantissa, `2^mantissa_bits − 1`.
    pub fn mantissa_max(&self) -> i64 {
        mask(self.mantissa_bits)
    }

    /// `vth` of a mantissa, or `None` outside `mantissa_min..=mantissa_max`.
    pub fn value(&self, vth_mant: i64) -> Option<i64> {
        (self.mantissa_min()..=self.mantissa_max())
            .contains(&vth_mant)
            .then(|| vth_mant << self.shift)
    }

    /// The largest `vth`.
    pub fn max_value(&self) -> i64 {
        self.mantissa_max() << self.shift
    }
}

/// Bias: `bias = bias_mant · 2^bias_exp`, `|bias_mant| < 2^mantissa_bits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiasFormat {
    pub(crate) mantissa_bits: u32,
    pub(crate) exp_min: u32,
    pub(crate) exp_max: u32,
}

impl BiasFormat {
    /// Bits of `|bias_mant|` (the sign is extra).
    pub fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }

    /// Largest `|bias_mant|`, `2^mantissa_bits − 1`.
    pub fn mantissa_max(&self) -> i64 {
        mask(self.mantissa_bits)
    }

    /// Smallest bias exponent.
    pub fn exp_min(&self) -> u32 {
        self.exp_min
    }

    /// Largest bias exponent.
    pub fn exp_max(&self) -> u32 {
        self.exp_max
    }

    /// `exp_min..=exp_max`.
    pub fn exp_range(&self) -> RangeInclusive<u32> {
        self.exp_min..=self.exp_max
    }

    /// `bias` of a mantissa and exponent, or `None` when out of range.
    pub fn value(&self, bias_mant: i64, bias_exp: u32) -> Option<i64> {
        (bias_mant.unsigned_abs() <= self.mantissa_max().unsigned_abs() && self.exp_range().contains(&bias_exp))
            .then(|| bias_mant << bias_exp)
    }

    /// The largest `|bias|`.
    pub fn max_value(&self) -> i64 {
        self.mantissa_max() << self.exp_max
    }
}

/// Decay constants: stored in `0..=max()`; one step of decay is
/// `x ← sign(x) · ((|x| · (2^bits − offset − d)) >> bits)` (truncation
/// toward zero), with `offset` = [`DecayFormat::u_offset`] for the current
/// and [`DecayFormat::v_offset`] for the voltage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecayFormat {
    pub(crate) bits: u32,
    pub(crate) u_offset: u32,
    pub(crate) v_offset: u32,
}

impl DecayFormat {
    /// Bits of a decay constant (and of the division).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// `2^bits`: the decay denominator.
    pub fn one(&self) -> i64 {
        1i64 << self.bits
    }

    /// Largest stored decay constant, `2^bits − 1`.
    pub fn max(&self) -> u32 {
        (1u32 << self.bits) - 1
    }

    /// Added by the chip to the stored `decay_u` (the stored value is this much less).
    pub fn u_offset(&self) -> u32 {
        self.u_offset
    }

    /// Added by the chip to the stored `decay_v`.
    pub fn v_offset(&self) -> u32 {
        self.v_offset
    }

    /// The multiplier `2^bits − u_offset − decay_u` of the current decay
    /// for a stored `decay_u` (`None` above [`DecayFormat::max`]).
    pub fn u_factor(&self, decay_u: u32) -> Option<i64> {
        (decay_u <= self.max()).then(|| self.one() - i64::from(self.u_offset) - i64::from(decay_u))
    }

    /// The multiplier `2^bits − v_offset − decay_v` of the voltage decay.
    pub fn v_factor(&self, decay_v: u32) -> Option<i64> {
        (decay_v <= self.max()).then(|| self.one() - i64::from(self.v_offset) - i64::from(decay_v))
    }

    /// One decay step of `x` by `factor` (from [`DecayFormat::u_factor`] or
    /// [`DecayFormat::v_factor`]): `sign(x) · ((|x| · factor) >> bits)`.
    pub fn apply(&self, x: i64, factor: i64) -> i64 {
        let magnitude = (i128::from(x.unsigned_abs()) * i128::from(factor)) >> self.bits;
        let magnitude = i64::try_from(magnitude).unwrap_or(i64::MAX);
        if x < 0 { -magnitude } else { magnitude }
    }
}

/// Refractory delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefractoryFormat {
    pub(crate) max_steps: u32,
}

impl RefractoryFormat {
    /// Largest refractory delay, in steps.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }
}

/// A signed state register of `magnitude_bits` bits plus sign, holding
/// `−2^b ..= 2^b − 1`, with its overflow rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    pub(crate) magnitude_bits: u32,
    pub(crate) overflow: Overflow,
}

impl Register {
    pub(crate) fn from_raw(r: &RawRegister) -> Register {
        Register {
            magnitude_bits: r.magnitude_bits,
            overflow: r.overflow,
        }
    }

    /// Bits besides the sign.
    pub fn magnitude_bits(&self) -> u32 {
        self.magnitude_bits
    }

    /// What happens outside the range.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// Smallest value, `−2^magnitude_bits`.
    pub fn min(&self) -> i64 {
        i64::MIN >> (63 - self.magnitude_bits)
    }

    /// Largest value, `2^magnitude_bits − 1`.
    pub fn max(&self) -> i64 {
        !self.min()
    }

    /// Brings `x` into range by the register's rule: [`Overflow::Wrap`]
    /// keeps the low `magnitude_bits + 1` bits (two's complement),
    /// [`Overflow::Clip`] saturates.
    pub fn apply(&self, x: i64) -> i64 {
        match self.overflow {
            Overflow::Wrap => {
                let unused = 63 - self.magnitude_bits;
                (x << unused) >> unused
            }
            Overflow::Clip => x.clamp(self.min(), self.max()),
        }
    }
}

/// The voltage register and its per-core clip bounds
/// `vmin = −2^k + 1` (`k` in [`VoltageFormat::vmin_exp_range`]) and
/// `vmax = 2^(vmax_base + vmax_step·m) − 1` (`m` in
/// [`VoltageFormat::vmax_exp_range`]). After each update `v` is brought into
/// the register by its overflow rule and then clipped to `[vmin, vmax]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoltageFormat {
    pub(crate) register: Register,
    pub(crate) vmin_exp_min: u32,
    pub(crate) vmin_exp_max: u32,
    pub(crate) vmax_base: u32,
    pub(crate) vmax_step: u32,
    pub(crate) vmax_exp_min: u32,
    pub(crate) vmax_exp_max: u32,
}

impl VoltageFormat {
    /// The voltage register.
    pub fn register(&self) -> &Register {
        &self.register
    }

    /// Legal `k` of `vmin = −2^k + 1`.
    pub fn vmin_exp_range(&self) -> RangeInclusive<u32> {
        self.vmin_exp_min..=self.vmin_exp_max
    }

    /// Legal `m` of `vmax = 2^(vmax_base + vmax_step·m) − 1`.
    pub fn vmax_exp_range(&self) -> RangeInclusive<u32> {
        self.vmax_exp_min..=self.vmax_exp_max
    }

    /// See [`VoltageFormat::vmax`].
    pub fn vmax_base(&self) -> u32 {
        self.vmax_base
    }

    /// See [`VoltageFormat::vmax`].
    pub fn vmax_step(&self) -> u32 {
        self.vmax_step
    }

    /// `vmin = −2^k + 1`, or `None` for `k` out of range.
    pub fn vmin(&self, k: u32) -> Option<i64> {
        self.vmin_exp_range().contains(&k).then(|| -mask(k))
    }

    /// `vmax = 2^(vmax_base + vmax_step·m) − 1`, or `None` for `m` out of range.
    pub fn vmax(&self, m: u32) -> Option<i64> {
        self.vmax_exp_range()
            .contains(&m)
            .then(|| mask(self.vmax_base + self.vmax_step * m))
    }

    /// The lowest `vmin` (at the largest `k`).
    pub fn lowest_vmin(&self) -> i64 {
        -mask(self.vmin_exp_max)
    }

    /// The highest `vmax` (at the largest `m`).
    pub fn highest_vmax(&self) -> i64 {
        mask(self.vmax_base + self.vmax_step * self.vmax_exp_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;

    fn loihi1() -> Target {
        Target::builtin("loihi1").expect("built in")
    }

    #[test]
    fn masks_and_shifts_at_the_edges() {
        assert_eq!(mask(0), 0);
        assert_eq!(mask(8), 255);
        assert_eq!(mask(63), i64::MAX);
        assert_eq!(shift_exact(3, 2), Some(12));
        assert_eq!(shift_exact(12, -2), Some(3));
        assert_eq!(shift_exact(13, -2), None);
        assert_eq!(shift_exact(1, 63), None);
        assert_eq!(shift_exact(0, -70), Some(0));
        assert_eq!(shift_exact(i64::MAX, 1), None);
    }

    #[test]
    fn registers_wrap_and_clip() {
        let wrap = Register {
            magnitude_bits: 21,
            overflow: Overflow::Wrap,
        };
        assert_eq!((wrap.min(), wrap.max()), (-(1 << 21), (1 << 21) - 1));
        assert_eq!(wrap.apply((1 << 21) - 1), (1 << 21) - 1);
        assert_eq!(wrap.apply(1 << 21), -(1 << 21));
        assert_eq!(wrap.apply(-(1 << 21) - 1), (1 << 21) - 1);
        assert_eq!(wrap.apply(3 << 21), -(1 << 21));
        let clip = Register {
            magnitude_bits: 21,
            overflow: Overflow::Clip,
        };
        assert_eq!(clip.apply(1 << 30), (1 << 21) - 1);
        assert_eq!(clip.apply(-(1 << 30)), -(1 << 21));
        let wide = Register {
            magnitude_bits: 63,
            overflow: Overflow::Wrap,
        };
        assert_eq!((wide.min(), wide.max()), (i64::MIN, i64::MAX));
        assert_eq!(wide.apply(-5), -5);
        let one = Register {
            magnitude_bits: 1,
            overflow: Overflow::Wrap,
        };
        assert_eq!((one.min(), one.max(), one.apply(2)), (-2, 1, -2));
    }

    /// nengo-loihi's two-part weight shift for mixed-sign 8-bit formats: the
    /// stored 7-bit magnitude `w_q = w_mant / 2` is shifted by `1 + exp`
    /// (right for negative), then by 6. Every legal `(w_mant, exp)` of the
    /// target must give the same `w_int`, and exactly (no bits dropped).
    #[test]
    fn weight_int_matches_the_two_part_shift() {
        let t = loihi1();
        let w = t.formats().weight();
        for exp in w.exp_range() {
            let step = w.mantissa_step(exp, true);
            assert_eq!(step, if exp >= -1 { 2 } else { 1 << -exp }, "exp {exp}");
            let max = w.max_abs_mantissa(exp, true);
            let mut m = -max;
            while m <= max {
                let w_q = m / 2;
                let s2 = 1 + exp;
                let chip = if s2 >= 0 { w_q << s2 } else { w_q >> -s2 } << 6;
                assert_eq!(w.weight_int(m, exp, true), Some(chip), "w_mant {m} exp {exp}");
                assert_eq!(chip % 64, 0);
                m += step;
            }
            assert_eq!(w.weight_int(max + step, exp, true), None);
        }
        // Low bits are not representable at negative exponents.
        assert_eq!(w.weight_int(2, -2, true), None);
        assert_eq!(w.weight_int(4, -2, true), Some(64));
        assert_eq!(w.max_abs_mantissa(-7, true), 128);
        assert_eq!(w.weight_int(128, -7, true), Some(64));
        // Single-sign formats use all 8 bits.
        assert_eq!(w.weight_int(255, 0, false), Some(255 * 64));
        assert_eq!(w.max_abs_weight_int(), 255 << 13);
        assert!(w.max_abs_weight_int() <= t.formats().accumulator().max());
    }

    #[test]
    fn decay_truncates_toward_zero() {
        let d = loihi1().formats().decay().clone();
        // Current decay with stored decay_u = 0: factor 4095 (the chip's +1).
        let f = d.u_factor(0).expect("in range");
        assert_eq!(f, 4095);
        assert_eq!(d.apply(4096, f), 4095);
        assert_eq!(d.apply(-4096, f), -4095);
        assert_eq!(d.apply(1, f), 0);
        assert_eq!(d.apply(-1, f), 0);
        assert_eq!(d.u_factor(4096), None);
        // No overflow at the widest state.
        let big = (1i64 << 31) - 1;
        assert_eq!(d.apply(big, d.one()), big);
    }

    #[test]
    fn threshold_and_bias_extremes() {
        let t = loihi1();
        assert_eq!(t.formats().threshold().max_value(), ((1 << 17) - 1) << 6);
        assert_eq!(t.formats().bias().max_value(), 4095 << 7);
        assert!(t.formats().bias().max_value() <= t.formats().current().max());
        assert!(t.formats().threshold().max_value() <= t.formats().voltage().register().max());
    }
}
