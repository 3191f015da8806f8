//! The conversion report: per-layer scales and factors, notes and warnings,
//! and its text form.

use std::fmt;

/// One spiking population of the converted network.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// IR node name of the population.
    pub name: String,
    /// ONNX nodes of the stage that feeds it.
    pub onnx_nodes: Vec<String>,
    /// ANN activation scale λ (percentile of positive activations, or the
    /// weight-based bound).
    pub ann_scale: f64,
    /// Factor applied to the stage's first weight tensor (`λ_prev / λ`).
    pub weight_factor: f64,
    /// Factor applied to the stage's biases (`r / λ`).
    pub bias_factor: f64,
    /// Expected mean firing rate in Hz on the calibration data (ANN
    /// activation / λ × max rate, clipped at the max rate); `None` without
    /// calibration.
    pub expected_mean_rate_hz: Option<f64>,
    /// Fraction of calibration activations above λ (they saturate).
    pub saturated_fraction: Option<f64>,
}

/// What the conversion did.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertReport {
    /// ONNX opset of the default domain.
    pub opset: i64,
    /// Percentile used.
    pub percentile: f64,
    /// Max rate in Hz and per step.
    pub max_rate_hz: f64,
    /// `max_rate_hz · dt`.
    pub rate_per_step: f64,
    /// Calibration samples used (0: weight-based).
    pub calibration_samples: usize,
    /// Per spiking layer.
    pub layers: Vec<LayerReport>,
    /// Output rate (spikes per step) × this ≈ the ANN's output (positive part).
    pub output_scale: f64,
    /// Notes (removed and folded ops, dropped Softmax).
    pub notes: Vec<String>,
    /// Warnings (no calibration, dead layers).
    pub warnings: Vec<String>,
}

impl fmt::Display for ConvertReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ONNX conversion (opset {}): {} normalisation, max rate {} Hz = {:.4} spikes/step",
            self.opset,
            if self.calibration_samples > 0 {
                format!(
                    "percentile {} on {} calibration samples,",
                    self.percentile, self.calibration_samples
                )
            } else {
                "weight-based".to_string()
            },
            self.max_rate_hz,
            self.rate_per_step
        )?;
        writeln!(
            f,
            "{:<20} {:>12} {:>12} {:>12} {:>12} {:>10}  onnx nodes",
            "layer", "ann scale", "w factor", "b factor", "mean Hz", "saturated"
        )?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<20} {:>12.5} {:>12.5} {:>12.5} {:>12} {:>10}  {}",
                l.name,
                l.ann_scale,
                l.weight_factor,
                l.bias_factor,
                l.expected_mean_rate_hz.map(|r| format!("{r:.2}")).unwrap_or("-".into()),
                l.saturated_fraction
                    .map(|s| format!("{:.3}%", s * 100.0))
                    .unwrap_or("-".into()),
                l.onnx_nodes.join(", ")
            )?;
        }
        writeln!(
            f,
            "output: rate (spikes/step) x {:.5} = ANN output (positive part)",
            self.output_scale
        )?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
