//! How stimulus values enter the two integer executions (the fixed-point
//! reference and the emulator): the limits both apply, so that they accept
//! exactly the same stimuli and models. These are not chip numbers (the
//! chip sees only events); they bound what the host side encodes so that
//! both executions compute it exactly in 64-bit integers.

use std::ops::RangeInclusive;

/// Largest event count one input element may deliver in one step: with
/// weights below 2^24 and fan-ins below 2^19 the accumulator's 64-bit sum
/// cannot overflow (the register's own rule is then applied exactly).
pub const MAX_EVENTS: u32 = 1 << 20;

/// Widths (sign included) of a real-valued input's integer encoding
/// `clamp(round(x · 2^frac_bits), −2^(bits−1), 2^(bits−1) − 1)`: at most 32
/// bits, so a product with any legal weight stays far inside 64 bits.
pub const REAL_BITS: RangeInclusive<u8> = 1..=32;

/// Whether `x` is a legal event count: a non-negative integer at most
/// [`MAX_EVENTS`] (NaN and infinities are not).
pub fn is_event_count(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x <= f64::from(MAX_EVENTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_counts() {
        for ok in [0.0, 1.0, 7.0, f64::from(MAX_EVENTS)] {
            assert!(is_event_count(ok), "{ok}");
        }
        for bad in [
            -1.0,
            0.5,
            f64::from(MAX_EVENTS) + 1.0,
            f64::NAN,
            f64::INFINITY,
            -0.0 - 1e-300,
        ] {
            assert!(!is_event_count(bad), "{bad}");
        }
    }
}
