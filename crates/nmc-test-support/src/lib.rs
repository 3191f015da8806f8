//! # nmc-test-support — dev-only helpers shared by the workspace's tests
//!
//! Paths to the repository and the shared fixtures, a deterministic rng,
//! the one golden-file harness, and model builders. Never a dependency of
//! a library crate's `[dependencies]`.
