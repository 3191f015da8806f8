//! # nmc-qmodel — the quantized model contract
//!
//! The integer network after quantization (populations, connections, chip
//! timing), its RON file, and `validate(&QModel, &Target)`: the one place
//! that decides whether a model is runnable on a target.
