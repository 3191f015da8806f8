//! A neuron population's constants for the one `f64` step
//! ([`nmc_core::lif::Lif`]) under a discretization rule: the float
//! reference runs every population with them, and the quantizer stores
//! them for a float host layer, so the two compute the same bits.

use crate::conventions::Discretization;
use crate::op::{Neuron, ResetMode};
use nmc_core::lif::{Lif, NengoRule};

impl Neuron {
    /// The constants of this population's float step at time step `dt`
    /// under rule `disc` (docs/ir.md): decays and gains from
    /// [`Discretization::decay_gain`], refractory steps `round(T_ref/dt)`
    /// for the exact and Euler rules, the continuous `T_ref` for nengo's.
    pub fn float_step(&self, dt: f64, disc: Discretization) -> Lif {
        let len = self.len();
        let mut syn_decay = vec![0.0; len];
        let mut syn_gain = vec![0.0; len];
        let mut syn = vec![false; len];
        let mut mem_decay = vec![1.0; len];
        let mut mem_gain = vec![0.0; len];
        for j in 0..len {
            if self.tau_syn[j] > 0.0 {
                let (a, g) = disc.decay_gain(dt, self.tau_syn[j]);
                syn_decay[j] = a;
                syn_gain[j] = g * self.w_in[j];
                syn[j] = true;
            }
            let (a, g) = disc.decay_gain(dt, self.tau_mem[j]);
            mem_decay[j] = a;
            mem_gain[j] = g;
        }
        let n_ref = (self.refractory / dt).round();
        Lif {
            syn_decay,
            syn_gain,
            syn,
            w_in: self.w_in.clone(),
            mem_decay,
            mem_gain,
            v_leak: self.v_leak.clone(),
            r: self.r.clone(),
            threshold: self.v_threshold.clone(),
            v_reset: self.v_reset.clone(),
            integrator: !self.model.leaks(),
            spiking: self.model.spikes(),
            subtract: self.reset == ResetMode::Subtract,
            refractory_steps: if n_ref.is_finite() && n_ref > 0.0 {
                n_ref.min(f64::from(u32::MAX)) as u32
            } else {
                0
            },
            v_min: self.v_min,
            nengo: (disc == Discretization::Nengo).then(|| NengoRule {
                dt,
                tau: self.tau_mem.clone(),
                t_ref: self.refractory,
            }),
        }
    }
}
