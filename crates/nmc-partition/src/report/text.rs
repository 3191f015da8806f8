//! The report as a text table ([`std::fmt::Display`]).

use crate::report::{PartitionReport, ResourceAmount};
use crate::resource::Resource;
use std::fmt::{self, Write as _};

/// A traffic amount: whole numbers without decimals, else two.
pub(super) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], right: &[bool]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w[i] - c.chars().count();
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        out.push_str("  ");
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), out);
    for r in rows {
        line(r.iter().map(|s| s.as_str()).collect(), out);
    }
}

impl fmt::Display for PartitionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.text_summary(&mut s);
        self.text_layers(&mut s);
        self.text_host(&mut s);
        self.text_readouts(&mut s);
        self.text_cores(&mut s);
        f.write_str(&s)
    }
}

impl PartitionReport {
    /// The summary lines: cores, bound, chips, traffic, baseline, failure.
    fn text_summary(&self, s: &mut String) {
        let tt = &self.totals;
        let _ = writeln!(
            s,
            "partition of `{}` on `{}` ({})",
            self.model, self.target, self.schema
        );
        if let Some(c) = &self.conventions {
            let _ = writeln!(s, "conventions: {c}");
        }
        if self.failure.is_some() {
            let _ = writeln!(
                s,
                "cores: {} placed before the failure (each tile on its own core), lower bound {}",
                tt.cores, tt.lower_bound
            );
        } else {
            let _ = writeln!(
                s,
                "cores: {} used, lower bound {} ({:+.1}%); chips: {}; inter-chip edges: {}; inter-chip traffic: {} of {} {}",
                tt.cores,
                tt.lower_bound,
                tt.over_lower_bound_pct,
                tt.chips,
                tt.inter_chip_edges,
                fmt_num(tt.inter_chip_traffic),
                fmt_num(tt.total_traffic),
                tt.traffic_unit
            );
        }
        if let Some(b) = tt.baseline.as_ref().filter(|_| self.failure.is_none()) {
            let d = if b.cores == 0 {
                0.0
            } else {
                100.0 * (tt.cores as f64 - b.cores as f64) / b.cores as f64
            };
            let verdict = if tt.cores < b.cores {
                "fewer"
            } else if tt.cores == b.cores {
                "as many"
            } else {
                "more"
            };
            let _ = writeln!(
                s,
                "baseline: {} uses {} cores; this placement uses {} ({d:+.1}%, {verdict})",
                b.name, b.cores, tt.cores
            );
        }
        if let Some(fl) = &self.failure {
            let _ = writeln!(
                s,
                "FAILED at layer `{}`: {} ({}: need {}, a core offers {})",
                fl.layer, fl.detail, fl.resource, fl.need, fl.offer
            );
        }
    }

    /// The table of layers.
    fn text_layers(&self, s: &mut String) {
        s.push_str("layers:\n");
        let rows: Vec<Vec<String>> = self
            .layers
            .iter()
            .map(|l| {
                vec![
                    l.name.clone(),
                    l.placement.clone(),
                    l.neurons.to_string(),
                    l.blocks.to_string(),
                    if l.placement == "chip" && l.blocks > 0 {
                        format!("{}×{}×{}", l.tile_shape[0], l.tile_shape[1], l.tile_shape[2])
                    } else {
                        "-".into()
                    },
                    if l.placement == "chip" {
                        format!("{} ({})", l.lower_bound, l.lower_bound_resource)
                    } else {
                        "-".into()
                    },
                    l.modes.join("; "),
                    l.reason.clone(),
                ]
            })
            .collect();
        table(
            s,
            &[
                "layer",
                "where",
                "neurons",
                "blocks",
                "tile",
                "lower bound",
                "axons",
                "why",
            ],
            &rows,
            &[false, false, true, true, false, false, false, false],
        );
    }

    /// The table of host layers, if any.
    fn text_host(&self, s: &mut String) {
        if !self.host.is_empty() {
            s.push_str("host:\n");
            let rows: Vec<Vec<String>> = self
                .host
                .iter()
                .map(|h| {
                    vec![
                        match &h.model {
                            Some(m) => format!("{} ({m}, f64)", h.layer),
                            None => h.layer.clone(),
                        },
                        h.neurons.to_string(),
                        h.routes.to_string(),
                        h.spikes_per_step.map_or("n/a (no rates)".into(), |x| format!("{x:.2}")),
                        h.events_per_step.map_or("n/a".into(), |x| format!("{x:.2}")),
                    ]
                })
                .collect();
            table(
                s,
                &["encoder", "neurons", "routes", "spikes/step", "events/step"],
                &rows,
                &[false, true, true, true, true],
            );
        }
    }

    /// The table of host readouts, if any.
    fn text_readouts(&self, s: &mut String) {
        if self.host_readouts.is_empty() {
            return;
        }
        s.push_str("host readouts (f64 on the host, from chip spikes):\n");
        let rows: Vec<Vec<String>> = self
            .host_readouts
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.output.clone(),
                    r.inputs.join(" "),
                    r.elements.to_string(),
                    r.weights.to_string(),
                    r.synapse_tau
                        .map_or("none".into(), |t| format!("lowpass {} s", nmc_ir::num(t))),
                    r.latency.to_string(),
                ]
            })
            .collect();
        table(
            s,
            &[
                "readout",
                "output",
                "from chip layers",
                "size",
                "weights",
                "synapse",
                "latency",
            ],
            &rows,
            &[false, false, false, true, true, false, true],
        );
    }

    /// The table of cores.
    fn text_cores(&self, s: &mut String) {
        s.push_str("cores:\n");
        let pct = |a: &ResourceAmount| format!("{} {:.0}%", a.used, a.pct);
        let rows: Vec<Vec<String>> = self
            .cores
            .iter()
            .map(|c| {
                let blocks: Vec<String> = c.blocks.iter().map(|b| format!("{}[{}]", b.layer, b.tile)).collect();
                let mut r = vec![
                    c.index.to_string(),
                    c.chip.to_string(),
                    c.core.to_string(),
                    blocks.join(" "),
                ];
                for a in &c.usage {
                    r.push(pct(a));
                }
                r.push(c.binding.clone());
                r
            })
            .collect();
        let mut header = vec!["#", "chip", "core", "blocks"];
        header.extend(Resource::ALL.iter().map(|r| r.short()));
        header.push("binding");
        let mut right = vec![true, true, true, false];
        right.extend([true; 8]);
        right.push(false);
        table(s, &header, &rows, &right);
    }
}
