//! The integer arithmetic of one compartment step, parameterised by the
//! target's formats. Every number comes from the `Target` the artifact
//! carries; nothing here is a chip constant.

use nmc_core::{Loc, Problem};

/// What a register does when a result leaves its range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Overflow {
    /// Keep the low bits, sign-extended (two's complement wrap-around).
    Wrap,
    /// Saturate at the range limits.
    Clip,
}

/// A signed register of `bits` bits (sign included).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reg {
    /// Width in bits, sign included (2..=32).
    pub bits: u32,
    /// Overflow rule.
    pub overflow: Overflow,
}

impl Reg {
    /// Brings `x` into the register's range by its overflow rule.
    #[inline(always)]
    pub fn fit(self, x: i64) -> i64 {
        match self.overflow {
            Overflow::Wrap => {
                let sh = 64 - self.bits;
                (x << sh) >> sh
            }
            Overflow::Clip => {
                let hi = (1i64 << (self.bits - 1)) - 1;
                x.clamp(-hi - 1, hi)
            }
        }
    }
    /// True when `x` is outside the register's range (before `fit`).
    #[inline(always)]
    pub fn overflows(self, x: i64) -> bool {
        let hi = (1i64 << (self.bits - 1)) - 1;
        x > hi || x < -hi - 1
    }
}

/// The target's numeric rules for the compartment step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Numerics {
    /// Weight scale shift: `w = mant · 2^(weight_shift + weight_exp)`.
    pub weight_shift: i32,
    /// Input accumulator `q`.
    pub q: Reg,
    /// Synaptic current `u` (also `u + bias`).
    pub u: Reg,
    /// Voltage register (applied before the `[vmin, vmax]` clip).
    pub v: Reg,
    /// Decay resolution: decays are fractions of `2^decay_bits`.
    pub decay_bits: u32,
    /// Added to the stored `decay_u` by the chip.
    pub decay_u_offset: i64,
    /// Added to the stored `decay_v` by the chip.
    pub decay_v_offset: i64,
    /// Threshold scale shift: `vth = vth_mant · 2^vth_shift`.
    pub vth_shift: u32,
    /// The widest `vmin` the target allows (`−2^k_max + 1`): clamping there is a
    /// counted clip; a narrower vmin is the neuron's floor and is not counted.
    pub vmin_widest: i64,
    /// `vmax = 2^(vmax_base + vmax_step·m) − 1`.
    pub vmax_base: u32,
    /// See `vmax_base`.
    pub vmax_step: u32,
    /// Steps from a chip spike to its accumulation at the destination.
    pub chip_latency: u32,
    /// Steps from a host spike (or input event) to its accumulation on chip.
    pub host_latency: u32,
    /// Steps from a chip spike to its use by a host readout (`None`: the
    /// target states none, and runs no host readouts).
    pub host_output_latency: Option<u32>,
}

impl Numerics {
    /// The numerics a target declares. Latencies must be at least one step.
    pub fn from_target(t: &nmc_target::Target) -> Result<Self, Problem> {
        let reg = |r: &nmc_target::Register| Reg {
            bits: r.magnitude_bits() + 1,
            overflow: match r.overflow() {
                nmc_target::Overflow::Wrap => Overflow::Wrap,
                nmc_target::Overflow::Clip => Overflow::Clip,
            },
        };
        let f = t.formats();
        let num = Numerics {
            weight_shift: f.weight().scale_shift() as i32,
            q: reg(f.accumulator()),
            u: reg(f.current()),
            v: reg(f.voltage().register()),
            decay_bits: f.decay().bits(),
            decay_u_offset: f.decay().u_offset() as i64,
            decay_v_offset: f.decay().v_offset() as i64,
            vth_shift: f.threshold().shift(),
            vmin_widest: -(1i64 << (*f.voltage().vmin_exp_range().end()).min(62)) + 1,
            vmax_base: f.voltage().vmax_base(),
            vmax_step: f.voltage().vmax_step(),
            chip_latency: t.timing().synapse_delay_steps(),
            host_latency: t.timing().host_input_delay_steps(),
            host_output_latency: t.timing().host_output_delay_steps(),
        };
        if num.chip_latency == 0 || num.host_latency == 0 {
            return Err(Problem::new(
                Loc::Whole,
                "timing",
                format!(
                    "target `{}`: synapse and host delays must be at least one step (the emulator has no same-step delivery)",
                    t.name()
                ),
            ));
        }
        if [num.q.bits, num.u.bits, num.v.bits]
            .iter()
            .any(|&b| !(2..=48).contains(&b))
        {
            return Err(Problem::new(
                Loc::Whole,
                "formats",
                format!(
                    "target `{}`: register widths must be 2..=48 bits for the emulator",
                    t.name()
                ),
            ));
        }
        Ok(num)
    }

    /// Integer weight added to `q` for mantissa `mant` and exponent `exp`:
    /// `floor(mant · 2^(weight_shift + exp))`; `None` when it does not fit
    /// an i64 (an exponent no compiler emits: the file is damaged).
    #[inline]
    pub fn weight(&self, mant: i16, exp: i8) -> Option<i64> {
        let s = self.weight_shift + i32::from(exp);
        let m = i64::from(mant);
        if s >= 0 {
            // |mant| ≤ 2^15, so shifts up to 47 stay below 2^62.
            match s {
                _ if m == 0 => Some(0),
                0..=47 => Some(m << s),
                _ => None,
            }
        } else {
            Some(m >> (-s).min(63))
        }
    }
    /// Multiplier of a decayed value: `2^decay_bits − (stored + offset)`,
    /// clamped at 0.
    #[inline]
    pub fn decay_factor(&self, stored: u16, offset: i64) -> i64 {
        ((1i64 << self.decay_bits) - (stored as i64 + offset)).max(0)
    }
    /// `sign(x) · ((|x| · factor) >> decay_bits)`: decay rounding toward zero.
    #[inline(always)]
    pub fn decay(&self, x: i64, factor: i64) -> i64 {
        let m = (x.abs() * factor) >> self.decay_bits;
        if x < 0 { -m } else { m }
    }
    /// `vmin = −2^k + 1`.
    pub fn vmin(&self, k: u8) -> i64 {
        -(1i64 << k.min(62)) + 1
    }
    /// `vmax = 2^(vmax_base + vmax_step·m) − 1`.
    pub fn vmax(&self, m: u8) -> i64 {
        (1i64 << (self.vmax_base + self.vmax_step * m as u32).min(62)) - 1
    }
    /// Threshold value.
    pub fn vth(&self, mant: i32) -> i64 {
        (mant as i64) << self.vth_shift
    }
}
