//! # nmc-reference — the float reference simulator
//!
//! [`simulate`] runs an [`nmc_ir::Graph`] over a batch of inputs in `f64`,
//! following the IR semantics of `docs/ir.md` (and the `nmc-ir` crate doc)
//! exactly. It records the spikes of every spiking layer as bit vectors and
//! the value of every Output node at every step, and reports firing rates
//! computed **only from spike counts** ([`SimResult::rate_report`]). It also
//! reads input arrays ([`read_array`], `.npy`/`.npz`) and writes results
//! ([`SimResult::write_npz`]).
//!
//! The float simulator lives in the [`float`] module; the input and output
//! types ([`Stimulus`], [`SimResult`], [`RateReport`]) are shared, so that a
//! fixed-point interpreter can sit beside it and produce the same results.
//!
//! ## Inputs
//!
//! A [`Stimulus`] is an `f64` array of shape `(batch, steps, features)`
//! (NengoDL's convention: axis 0 the samples, axis 1 time, the last axis the
//! model input flattened row-major, `C, H, W` for NIR convolution inputs).
//! [`Stimulus::from_array`] also accepts `(steps, features)` (one sample),
//! `(steps, *input_shape)` and `(batch, steps, *input_shape)`.
//! [`SimOptions::steps`] sets the presentation time `S`; step `t` of the run
//! reads time index `t mod T` of an input with `T` steps, so a shorter input
//! is tiled along time (a static frame given once is shown for `S` steps) and
//! a longer one is truncated. By default `S = T`.
//!
//! ## One step
//!
//! For `t = 0, 1, …, S − 1` every node updates once, in
//! [`nmc_ir::Graph::schedule`] order:
//!
//! 1. An Input node's value is `stim[b, t mod T, :]`.
//! 2. Every other node sums its incoming edges: `x[t] = Σ_fwd y_src[t] +
//!    Σ_rec y_src[t − 1]`, where forward edges deliver the value the source
//!    produced in the same step and recurrent edges (`schedule.back_edges`)
//!    the value of the previous step (`y_src[−1] = 0`).
//! 3. It applies its op to `x[t]`:
//!
//! | op | `y[t]` |
//! |---|---|
//! | Output | `x[t]` (recorded, flattened to `features`) |
//! | Affine | `W·x[t] + b` |
//! | Scale | `s ⊙ x[t]` |
//! | Conv | `y[co, o] = b[co] + Σ_{ci ∈ group(co)} Σ_k W[co, ci − g·C_in/G, k]·x[ci, o·stride − pad + k·dil]`, zero outside the input |
//! | Flatten | `x[t]` (row-major reshape) |
//! | SumPool2d / AvgPool2d | window sum (zero padding); avg divides by `kh·kw` (padding included) |
//! | Threshold | `1` where `x[t] > θ`, else `0` |
//! | Delay | `x[t − d]`, `d = round(delay/dt)` per element, `0` for `t < d` |
//!
//! ## Neurons
//!
//! Per neuron, with `dt` from the graph and the constants computed once
//! before the run:
//!
//! | | exact (default) | Euler |
//! |---|---|---|
//! | decay `α` | `exp(−dt/τ)` | `1 − dt/τ` |
//! | gain `γ` | `1 − exp(−dt/τ)` (as `−expm1(−dt/τ)`) | `dt/τ` |
//!
//! `τ = +∞` gives `α = 1, γ = 0` under both rules.
//!
//! ```text
//! synaptic current   i[t] = α_s·i[t−1] + γ_s·w_in·x[t]      if τ_syn > 0 (CubaLI, CubaLIF)
//!                    i[t] = w_in·x[t]                      if τ_syn = 0 (w_in = 1 for I, IF, LI, LIF)
//! membrane           v[t] = α_m·v[t−1] + γ_m·(v_leak + r·i[t])   (LI, LIF, CubaLI, CubaLIF)
//!                    v[t] = v[t−1] + r·i[t]                       (I, IF: charge per step, no dt, τ_mem unused)
//! spike (IF, LIF, CubaLIF)
//!                    s[t] = 1 if v[t] > v_threshold (strictly), else 0
//!                    if s[t] = 1: v[t] ← v_reset (reset zero) or v[t] − v_threshold (reset subtract)
//! output             y[t] = s[t] for spiking models, v[t] for I, LI, CubaLI
//! ```
//!
//! A leaky model with `τ_mem = +∞` therefore never moves (`γ_m = 0`, the
//! exact limit of the ODE); integrators are I/IF.
//!
//! **Refractory period.** With `n = round(refractory/dt)` steps, a neuron
//! that spikes at step `t` is refractory in steps `t+1 … t+n`: in those steps
//! its synaptic current still evolves (the formula above), but the membrane
//! ignores it, `v` is held at `v_reset` (under both reset rules) and no spike
//! is emitted. Its first possible spike after `t` is at `t + n + 1`, so the
//! highest rate is `1/((n+1)·dt)`.
//!
//! All state (`i`, `v`, refractory counters, delay lines, recurrent values)
//! starts at zero. Edge formats are ignored: every value is an `f64`.
//!
//! ## Results
//!
//! * Spiking layers ([`LayerSpikes`]) are the spiking neuron populations
//!   (IF, LIF, CubaLIF) and Threshold nodes; their spikes are bits at index
//!   `(b·steps + t)·n + i`.
//! * Non-spiking populations (I, LI, CubaLI) have no spikes and no rate; they
//!   are listed in [`SimResult::non_spiking`] (and in the rate report, as a
//!   note) and their values are seen through Output nodes or probes.
//! * Every Output node gives an [`OutputTrace`] `(batch, steps, features)`.
//! * [`Probe`]s (via [`float::simulate_with`]) record a node's value, or a
//!   population's membrane voltage (after reset) or synaptic current.
//!
//! **Rates** are `spikes / (steps·dt)` per neuron, averaged over the batch,
//! from spike counts only — never from an amplitude-scaled output. A neuron
//! can spike at most once per step, so `1/dt` is the ceiling; the report
//! counts the neurons sitting there.
//!
//! ## `.npz` keys ([`SimResult::write_npz`])
//!
//! * `spikes.<layer>`: `uint8`, shape `(batch, steps, *layer shape)`, per
//!   spiking layer;
//! * `output.<name>`: `float64`, shape `(batch, steps, features)`, per
//!   Output node;
//! * `probe.<node>.<value|voltage|current>`: `float64`, `(batch, steps,
//!   neurons)`, per probe.
//!
//! `<layer>` is the node name with `/` and `\` replaced by `_`.
//! `numpy.load(path)["spikes.1"]` reads a layer back.

mod error;
mod events;
pub mod fixed;
pub mod float;
mod io;
mod probe;
mod rates;
mod result;
mod stimulus;

pub use error::SimError;
pub use events::read_input;
pub use fixed::{FixedError, FixedOptions, FixedResult, ProbeState, simulate_fixed, validate};
pub use float::{Probe, ProbeKind, simulate};
pub use io::{read_array, read_array_bytes, read_array_named};
pub use rates::{LayerRates, LayerStat, NonSpiking, RateReport, activity_warnings};
pub use result::{LayerSpikes, OutputTrace, ProbeTrace, SimResult, check_unique_keys, npz_key};
pub use stimulus::{SimOptions, Stimulus};
