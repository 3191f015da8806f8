//! The conventions that differ between frameworks and that a graph is read
//! with: the discretization rule, the spike convention, and the
//! [`Conventions`] every report prints (docs/ir.md).

use serde::{Deserialize, Serialize};

/// How a node's neuron ODEs are turned into per-step updates
/// (docs/ir.md, "Discretization").
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Default)]
pub enum Discretization {
    /// Exact integration with the input held constant over a step:
    /// decay `α = exp(−dt/τ)`, input gain `1 − α`.
    #[default]
    Exact,
    /// Forward Euler: decay `1 − dt/τ`, input gain `dt/τ` (what snnTorch,
    /// Norse and the NIR paper's Loihi conversion use).
    Euler,
    /// nengo 3's `LIF.step`: the exact decay with the input held over the
    /// step, plus a continuous refractory period (partial steps), the spike
    /// time interpolated within its step, and a synaptic current that
    /// reaches the membrane one step after its input (a nengo `Lowpass`
    /// synapse is one filter update read in the next step). docs/ir.md,
    /// "nengo's LIF".
    Nengo,
}

impl Discretization {
    /// Every rule, in a fixed order (for help texts and errors).
    pub const ALL: [Discretization; 3] = [Discretization::Exact, Discretization::Euler, Discretization::Nengo];

    /// The rule's name in files, flags and reports: `exact`, `euler`, `nengo`.
    pub fn name(self) -> &'static str {
        match self {
            Discretization::Exact => "exact",
            Discretization::Euler => "euler",
            Discretization::Nengo => "nengo",
        }
    }

    /// The rule named `s` (exactly one of [`Discretization::name`]'s).
    pub fn named(s: &str) -> Option<Discretization> {
        Discretization::ALL.into_iter().find(|d| d.name() == s)
    }
}

impl std::fmt::Display for Discretization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What one spike is worth to the weights that read it (docs/ir.md,
/// "Spike convention"). nmc's IR is always [`SpikeConvention::Step`]: the
/// frontend folds an impulse file's `1/dt` into the weights that read its
/// spikes, and records the file's convention in the graph metadata
/// `spike_convention`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, Default)]
pub enum SpikeConvention {
    /// A spike is one unit of charge in its step (snnTorch, Sinabs,
    /// Norse, Lava, nmc's IR).
    #[default]
    Step,
    /// A spike is a unit-area impulse of height `1/dt` (nengo, and NIR's
    /// continuous-time reading).
    Impulse,
}

impl SpikeConvention {
    /// Every convention, in a fixed order.
    pub const ALL: [SpikeConvention; 2] = [SpikeConvention::Step, SpikeConvention::Impulse];
    /// The graph metadata key that records a file's convention.
    pub const META_KEY: &'static str = "spike_convention";

    /// The name in files, flags and reports: `step`, `impulse`.
    pub fn name(self) -> &'static str {
        match self {
            SpikeConvention::Step => "step",
            SpikeConvention::Impulse => "impulse",
        }
    }

    /// The convention named `s` (exactly one of [`SpikeConvention::name`]'s).
    pub fn named(s: &str) -> Option<SpikeConvention> {
        SpikeConvention::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The value one spike carries at time step `dt`: `1` or `1/dt`.
    pub fn amplitude(self, dt: f64) -> f64 {
        match self {
            SpikeConvention::Step => 1.0,
            SpikeConvention::Impulse => 1.0 / dt,
        }
    }
}

impl std::fmt::Display for SpikeConvention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Discretization {
    /// Decay `α` and input gain `γ` of a time constant `tau` over a step
    /// `dt`: exact `α = e^{−dt/τ}`, `γ = −expm1(−dt/τ)` (so `α + γ = 1` up to
    /// rounding); Euler `α = 1 − dt/τ`, `γ = dt/τ`. `τ = ±∞` gives `(1, 0)`
    /// (no leak). The one implementation of the rule of docs/ir.md: the float
    /// reference and the quantizer both call it.
    pub fn decay_gain(self, dt: f64, tau: f64) -> (f64, f64) {
        if tau.is_infinite() {
            return (1.0, 0.0);
        }
        match self {
            Discretization::Exact | Discretization::Nengo => {
                let x = -dt / tau;
                (x.exp(), -x.exp_m1())
            }
            Discretization::Euler => (1.0 - dt / tau, dt / tau),
        }
    }
}

/// The conventions a graph is read with, that differ between frameworks:
/// every report shows them (docs/ir.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conventions {
    /// Time step in seconds.
    pub dt: f64,
    /// The discretization rule's name.
    pub discretization: &'static str,
    /// The source's spike convention (`step` or `impulse`).
    pub spike_convention: &'static str,
    /// The value one spike of the source carries (`1` or `1/dt`); in the IR
    /// it is folded into the weights that read spikes.
    pub spike_amplitude: f64,
}

impl std::fmt::Display for Conventions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dt = {} s · discretization = {} · spikes = {}",
            crate::num(self.dt),
            self.discretization,
            self.spike_convention
        )?;
        if self.spike_convention == SpikeConvention::Impulse.name() {
            write!(
                f,
                " (height 1/dt = {}, folded into the weights that read them)",
                crate::num(self.spike_amplitude)
            )?;
        } else {
            write!(f, " (one unit per spike)")?;
        }
        Ok(())
    }
}
