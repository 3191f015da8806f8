//! The terminal rendering of the quantization report: aligned tables,
//! one per concern.

use super::{DecayChange, ProfileCost, QuantReport};
use std::fmt;

/// Formats a float compactly (4 significant digits, `inf`).
pub(crate) fn fmt_g(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x.is_nan() {
        return "nan".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-3..1e6).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}

/// `x` percent with 3 significant digits.
fn pct(x: f64) -> String {
    if x == 0.0 {
        return "0%".into();
    }
    let a = x.abs();
    if a < 1e-3 {
        return format!("{x:.2e}%");
    }
    let digits = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}%")
}

fn range(a: f64, b: f64) -> String {
    if a == b {
        fmt_g(a)
    } else {
        format!("{}..{}", fmt_g(a), fmt_g(b))
    }
}

/// Renders rows as an aligned table: the first `left` columns left-aligned,
/// the others right-aligned, two spaces between columns.
fn table(f: &mut fmt::Formatter<'_>, header: &[&str], rows: &[Vec<String>], left: usize) -> fmt::Result {
    let ncol = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(ncol) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |f: &mut fmt::Formatter<'_>, cells: Vec<&str>| -> fmt::Result {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i].saturating_sub(c.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if i < left {
                s.push_str(c);
                if i + 1 < ncol {
                    s.push_str(&" ".repeat(pad));
                }
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        writeln!(f, "{}", s.trim_end())
    };
    line(f, header.to_vec())?;
    for r in rows {
        line(f, r.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

impl QuantReport {
    /// The title line: model, target, dt, discretization, options.
    fn write_title(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "quantize `{}` for `{}`: dt {} s ({}, {} spikes), scale_firing_rates {}, encoder {}",
            self.model,
            self.target,
            fmt_g(self.dt),
            self.discretization,
            self.spike_convention,
            fmt_g(self.scale_firing_rates),
            self.encoder
        )?;
        Ok(())
    }

    /// The inputs table: shape, encoding and readers of every graph input.
    fn write_inputs(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "inputs")?;
        let rows: Vec<Vec<String>> = self
            .inputs
            .iter()
            .map(|i| {
                let enc = match (i.frac_bits, i.bits) {
                    (Some(fb), Some(b)) => format!("real: round(x·2^{fb}), {b} bits"),
                    _ => format!(
                        "events (integer counts, ≤ {} per step assumed)",
                        i.max_events.unwrap_or(1)
                    ),
                };
                vec![
                    i.name.clone(),
                    format!("{:?}", i.shape),
                    enc,
                    if i.readers.is_empty() {
                        "-".into()
                    } else {
                        i.readers.join(", ")
                    },
                ]
            })
            .collect();
        table(f, &["input", "shape", "encoding", "read by"], &rows, 4)?;
        Ok(())
    }

    /// The populations table: scale, threshold, bias, decays, refractory delay and rate.
    fn write_populations(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "populations (s: integer voltage per float voltage unit)")?;
        let rows: Vec<Vec<String>> = self
            .populations
            .iter()
            .map(|p| {
                let thr = p
                    .threshold
                    .as_ref()
                    .map(|t| {
                        format!(
                            "{} → {} ({})",
                            range(t.before_min, t.before_max),
                            range(t.after_min, t.after_max),
                            pct(100.0 * t.max_rel_err)
                        )
                    })
                    .unwrap_or_else(|| "-".into());
                let bias = p
                    .bias
                    .as_ref()
                    .map(|b| format!("{} ({})", range(b.before_min, b.before_max), pct(100.0 * b.max_rel_err)))
                    .unwrap_or_else(|| "-".into());
                let tau = |d: &DecayChange| {
                    if d.tau_before == 0.0 && d.tau_after == 0.0 {
                        format!("{} (instant)", range(f64::from(d.stored_min), f64::from(d.stored_max)))
                    } else if d.tau_before.is_infinite() && d.tau_after.is_infinite() {
                        format!("{} (∞)", range(f64::from(d.stored_min), f64::from(d.stored_max)))
                    } else {
                        format!(
                            "{} ({} → {} ms)",
                            range(f64::from(d.stored_min), f64::from(d.stored_max)),
                            fmt_g(d.tau_before * 1e3),
                            fmt_g(d.tau_after * 1e3)
                        )
                    }
                };
                let rate = p
                    .rate
                    .as_ref()
                    .map(|r| {
                        format!(
                            "{} → {} Hz ({:+.2}%)",
                            fmt_g(r.before_hz),
                            fmt_g(r.after_hz),
                            r.change_pct
                        )
                    })
                    .unwrap_or_else(|| "-".into());
                vec![
                    p.name.clone(),
                    p.model.clone(),
                    match &p.host_model {
                        Some(m) => format!("{} {m}", p.placement),
                        None => p.placement.clone(),
                    },
                    p.neurons.to_string(),
                    fmt_g(p.scale),
                    thr,
                    bias,
                    tau(&p.decay_v),
                    tau(&p.decay_u),
                    p.refractory.to_string(),
                    rate,
                ]
            })
            .collect();
        table(
            f,
            &[
                "population",
                "model",
                "place",
                "neurons",
                "s",
                "threshold (err)",
                "bias/step (err)",
                "decay_v (τ_mem)",
                "decay_u (τ_syn)",
                "ref",
                "rate (rep. input)",
            ],
            &rows,
            3,
        )?;
        Ok(())
    }

    /// The connections table: layout, latency, exponent and weight errors.
    fn write_connections(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "connections (errors relative to the connection's largest |w|)")?;
        let mut rows = Vec::new();
        for p in &self.populations {
            for c in &p.connections {
                rows.push(vec![
                    format!("{} → {}", c.source, p.name),
                    c.layout.clone(),
                    c.latency.to_string(),
                    c.weights.to_string(),
                    c.weight_exp.to_string(),
                    format!("{}{}", c.max_mantissa, if c.mixed_sign { "±" } else { "" }),
                    pct(100.0 * c.max_abs_err),
                    pct(100.0 * c.rms_err),
                    format!("{} ({})", c.zeroed, pct(c.zeroed_pct)),
                    pct(100.0 * c.nengo_rms_err),
                ]);
            }
        }
        table(
            f,
            &[
                "connection",
                "layout",
                "lat",
                "weights",
                "exp",
                "max|m|",
                "max err",
                "rms err",
                "zeroed",
                "nengo rms",
            ],
            &rows,
            2,
        )?;
        Ok(())
    }

    /// The saturation table: worst-case registers against their limits.
    fn write_saturation(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "saturation (worst case: every same-sign input of one neuron in one step)"
        )?;
        let rows: Vec<Vec<String>> = self
            .populations
            .iter()
            .map(|p| {
                let s = &p.saturation;
                let ratio = |a: f64, b: i64| format!("{} / {} ({:.0}%)", fmt_g(a.round()), b, 100.0 * a / b as f64);
                let risk = if s.overflow_possible {
                    match s.events_to_overflow {
                        Some(n) => format!("overflow needs ≥ {n} of {} inputs", s.fan_in_same_sign),
                        None => "overflow possible".into(),
                    }
                } else {
                    "safe".into()
                };
                let risk = match s.safe_input {
                    Some(x) if s.input_real => format!("{risk}; real input safe for |x| ≤ {}", fmt_g(x)),
                    Some(x) => format!("{risk}; input counts ≤ {} safe", fmt_g(x)),
                    None => risk,
                };
                vec![
                    p.name.clone(),
                    ratio(s.accumulator_worst, s.accumulator_max),
                    ratio(s.current_worst, s.current_max),
                    ratio(s.voltage_worst, s.voltage_max),
                    risk,
                ]
            })
            .collect();
        table(
            f,
            &["population", "|q| / max", "|u+bias| / max", "v / vmax", "risk"],
            &rows,
            1,
        )?;
        Ok(())
    }

    /// The table of what set each population's scale.
    fn write_scale_rules(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scale s: the top of its search octave")?;
        let rows: Vec<Vec<String>> = self
            .populations
            .iter()
            .map(|p| vec![p.name.clone(), p.scale_rule.clone()])
            .collect();
        table(f, &["population", "set by"], &rows, 2)?;
        Ok(())
    }

    /// The profile's cost against nmc's search (nothing under nmc's profile).
    fn write_profile_cost(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let costs: Vec<(&str, &ProfileCost)> = self
            .populations
            .iter()
            .filter_map(|p| p.profile_cost.as_ref().map(|c| (p.name.as_str(), c)))
            .collect();
        let Some((_, first)) = costs.first() else {
            return Ok(());
        };
        writeln!(
            f,
            "profile {} against nmc's search (the model holds the profile's integers; errors relative to the float \
             model)",
            first.profile
        )?;
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| pct(100.0 * v));
        let rate = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:+.2}%"));
        let rows: Vec<Vec<String>> = costs
            .iter()
            .flat_map(|(name, c)| {
                [
                    (name.to_string(), &c.held, c.profile.as_str()),
                    (String::new(), &c.nmc, "nmc search"),
                ]
                .into_iter()
                .map(|(n, side, rule)| {
                    vec![
                        n,
                        rule.to_string(),
                        fmt_g(side.scale),
                        pct(100.0 * side.weight_rms_err),
                        pct(100.0 * side.weight_max_err),
                        side.zeroed.to_string(),
                        opt(side.threshold_err),
                        opt(side.bias_err),
                        rate(side.rate_change_pct),
                    ]
                })
                .collect::<Vec<_>>()
            })
            .collect();
        table(
            f,
            &[
                "population",
                "rule",
                "scale s",
                "weight rms",
                "weight max",
                "zeroed",
                "vth err",
                "bias err",
                "rate",
            ],
            &rows,
            2,
        )?;
        Ok(())
    }

    /// The host readouts (nothing when there are none).
    fn write_readouts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.readouts.is_empty() {
            return Ok(());
        }
        writeln!(f, "host readouts (f64 on the host, from chip spikes; not quantized)")?;
        for r in &self.readouts {
            let synapse = match (r.synapse_tau, r.decay, r.gain) {
                (Some(tau), Some(d), Some(g)) => format!("lowpass tau {} s (decay {d}, gain {g})", nmc_ir::num(tau)),
                _ => "no filter".to_string(),
            };
            writeln!(
                f,
                "  {} -> output {}: {} elements, {synapse}, {} biased",
                r.name, r.output, r.elements, r.biased
            )?;
            for c in &r.inputs {
                writeln!(
                    f,
                    "    from chip layer {}: {} weights ({}), latency {} (chip -> host)",
                    c.source, c.weights, c.layout, c.latency
                )?;
            }
        }
        Ok(())
    }

    /// The totals line and the warnings.
    fn write_totals(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        writeln!(
            f,
            "totals: {} populations ({} host), {} neurons ({} on chip), {} connections, {} weights ({} non-zero, {} \
             rounded to zero = {}), rms weight error {} (nengo-loihi rule {}), {} warnings",
            t.populations,
            t.host_populations,
            t.neurons,
            t.chip_neurons,
            t.connections,
            t.weights,
            t.nonzero,
            t.zeroed,
            pct(t.zeroed_pct),
            pct(100.0 * t.rms_err),
            pct(100.0 * t.nengo_rms_err),
            t.warnings
        )?;
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "warnings")?;
            for w in &self.warnings {
                writeln!(f, "  {}: {}: {}", w.layer, w.parameter, w.message)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for QuantReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_title(f)?;
        writeln!(f)?;
        self.write_inputs(f)?;
        writeln!(f)?;
        self.write_populations(f)?;
        writeln!(f)?;
        self.write_connections(f)?;
        writeln!(f)?;
        self.write_saturation(f)?;
        writeln!(f)?;
        self.write_scale_rules(f)?;
        writeln!(f)?;
        if self.populations.iter().any(|p| p.profile_cost.is_some()) {
            self.write_profile_cost(f)?;
            writeln!(f)?;
        }
        if !self.readouts.is_empty() {
            self.write_readouts(f)?;
            writeln!(f)?;
        }
        self.write_totals(f)?;
        Ok(())
    }
}
