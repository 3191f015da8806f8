//! The report of [`crate::compile::compile`]: per population the voltage
//! scale, decays and their error, threshold; per connection the weight
//! exponent, bits, sign mode and weight error.

use std::fmt;

/// One population of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PopReport {
    /// The graph node (and process) name.
    pub name: String,
    /// `lif`, `sigma_delta`, or `delta` (the encoder of a graph input that
    /// feeds sigma-delta populations).
    pub kind: String,
    /// Neurons.
    pub neurons: usize,
    /// Integer state per float voltage (activation for sigma-delta), smallest
    /// and largest over the neurons.
    pub scale: (f64, f64),
    /// Current decay (LIF).
    pub du: Option<u32>,
    /// Voltage decay (LIF).
    pub dv: Option<u32>,
    /// Largest relative error of Lava's decay factors `(4095 − du)/4096` and
    /// `(4096 − dv)/4096` against the float decays (current, voltage).
    pub decay_err: (f64, f64),
    /// The threshold mantissa (LIF: `vth << 6` is the threshold; sigma-delta:
    /// `vth << (spike_exp + state_exp)`).
    pub vth: i64,
    /// Largest relative threshold error (0 for LIF: the scale is chosen per
    /// neuron so the shared `vth` is exact).
    pub threshold_err: f64,
    /// Largest |bias| in integer state units.
    pub bias_max: i64,
}

/// One Dense of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConnReport {
    /// The Dense (the Affine node's name).
    pub name: String,
    /// The receiving population.
    pub to: String,
    /// The shared exponent applied to each output's sum.
    pub weight_exp: i32,
    /// `num_weight_bits`.
    pub num_weight_bits: u32,
    /// MIXED, EXCITATORY or INHIBITORY.
    pub sign_mode: String,
    /// Graded payloads (a sigma-delta sender).
    pub graded: bool,
    /// Largest |weight| as passed.
    pub max_mantissa: i64,
    /// RMS of (integer − exact) weight relative to the largest |weight|.
    pub rms_err: f64,
    /// Non-zero float weights whose integer weight is 0.
    pub zeroed: usize,
}

/// What compiling a graph for Loihi 2 chose and cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CompileReport {
    /// The chip.
    pub target: String,
    /// The graph's time step (s).
    pub dt: f64,
    /// The discretization the decays follow.
    pub discretization: String,
    /// Populations, in graph order.
    pub populations: Vec<PopReport>,
    /// Connections, in graph order.
    pub connections: Vec<ConnReport>,
    /// Approximations worth knowing, naming node and field.
    pub warnings: Vec<String>,
}

fn pct(x: f64) -> String {
    format!("{:.3}%", 100.0 * x)
}

impl fmt::Display for CompileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "loihi2 compile for {} (dt = {} s, {} discretization; Lava 0.10 fixed_pt: 8-bit weights << weight_exp \
             on each sum, 12-bit decays, vth << 6)",
            self.target, self.dt, self.discretization
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  {:<14} {:<11} {:>7} {:>21} {:>5} {:>5} {:>17} {:>7} {:>8} {:>9}",
            "population", "kind", "neurons", "scale", "du", "dv", "decay err u/v", "vth", "vth err", "bias max"
        )?;
        for p in &self.populations {
            let o = |x: Option<u32>| x.map_or("-".to_string(), |v| v.to_string());
            writeln!(
                f,
                "  {:<14} {:<11} {:>7} {:>21} {:>5} {:>5} {:>17} {:>7} {:>8} {:>9}",
                p.name,
                p.kind,
                p.neurons,
                format!("{:.1}..{:.1}", p.scale.0, p.scale.1),
                o(p.du),
                o(p.dv),
                format!("{}/{}", pct(p.decay_err.0), pct(p.decay_err.1)),
                p.vth,
                pct(p.threshold_err),
                p.bias_max
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<14} {:<14} {:>10} {:>5} {:>11} {:>7} {:>7} {:>9} {:>7}",
            "connection", "to", "weight_exp", "bits", "sign mode", "graded", "max |w|", "rms err", "zeroed"
        )?;
        for c in &self.connections {
            writeln!(
                f,
                "  {:<14} {:<14} {:>10} {:>5} {:>11} {:>7} {:>7} {:>9} {:>7}",
                c.name,
                c.to,
                c.weight_exp,
                c.num_weight_bits,
                c.sign_mode,
                if c.graded { "yes" } else { "no" },
                c.max_mantissa,
                pct(c.rms_err),
                c.zeroed
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
