//! `Scaled`: one population's scale choice and integers, the record the
//! quantizer's phases hand on (population → rate, saturation).

use super::connections::ConnMeta;
use super::params::{Biases, Thresholds, VoltageBounds};
use super::profile_cost::Searched;
use super::weights::Weights;
use crate::choose::{Bounds, ConnIn};

/// The choices and integers of one population, handed from phase to phase.
pub(super) struct Scaled {
    /// The connections as the scale search saw them.
    pub conns: Vec<ConnIn>,
    /// Their sources and latencies.
    pub meta: Vec<ConnMeta>,
    /// The voltage scale.
    pub s: f64,
    /// How the scale was chosen.
    pub rule: String,
    /// The bounds on the scale (and the worst-case sums).
    pub bnd: Bounds,
    /// `1 / γ_s'`: the current's steady-state gain.
    pub u_gain_max: f64,
    /// `1 / γ_m'` for leaky models.
    pub v_gain_max: Option<f64>,
    /// The quantized connections.
    pub weights: Weights,
    /// The threshold mantissas.
    pub th: Thresholds,
    /// The bias mantissas and exponents.
    pub bias: Biases,
    /// The float refractory period in steps.
    pub n_ref: f64,
    /// The stored refractory delay.
    pub refractory: u8,
    /// The voltage bounds.
    pub volt: VoltageBounds,
    /// Stored (decay_u, decay_v) when a profile chose them (else the dynamics').
    pub decays: Option<(Vec<u16>, Vec<u16>)>,
    /// nmc's search, when a profile replaced its integers.
    pub searched: Option<Searched>,
}
