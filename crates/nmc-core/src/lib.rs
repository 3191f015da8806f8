//! # nmc-core — the vocabulary every nmc stage shares
//!
//! A leaf crate (serde and thiserror only): the small types that more than
//! one stage must agree on, so that they are defined exactly once. Each
//! module documents the one function that implements its rule.

pub mod output;
pub mod text;
