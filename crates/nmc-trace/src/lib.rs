//! # nmc-trace — what every execution produces
//!
//! One stimulus type in, one trace type out, for the float reference, the
//! fixed-point reference, the emulator and the host layers; A = B is `==`
//! on traces.
