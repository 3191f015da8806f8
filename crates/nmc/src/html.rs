//! The self-contained HTML verify report: summary, per-layer table, and
//! SVG plots (rate scatter float vs deployed, output traces over time, a
//! spike raster of a few neurons). Plots are drawn with `plotters` into
//! inline SVG; the page needs no network and no script.

use crate::compare::LayerFidelity;
use plotters::prelude::*;
use std::fmt::Write as _;

/// Everything the page shows.
#[derive(Debug, Default)]
pub struct VerifyPage {
    /// Page title.
    pub title: String,
    /// Summary lines (label, value), shown first.
    pub summary: Vec<(String, String)>,
    /// Whether A = B held (shown as a banner).
    pub exact: Option<bool>,
    /// Per-layer fidelity rows.
    pub layers: Vec<LayerFidelity>,
    /// Per layer, (float rate, deployed rate) in Hz per (item, neuron),
    /// already subsampled.
    pub scatter: Vec<(String, Vec<(f64, f64)>)>,
    /// Output traces of one sample: class names, then cumulative spike
    /// counts per class per step, float and deployed (deployed already
    /// aligned by its lag).
    pub traces: Option<OutputTraces>,
    /// Raster rows: label, float spike steps, deployed spike steps.
    pub raster: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Steps shown in traces and raster.
    pub steps: usize,
}

/// Cumulative output counts over time for one sample.
#[derive(Debug, Default)]
pub struct OutputTraces {
    /// Which sample.
    pub sample: usize,
    /// Its label, when known.
    pub label: Option<usize>,
    /// Float: per class, cumulative count at each step.
    pub float: Vec<Vec<u32>>,
    /// Deployed: per class, cumulative count at each step.
    pub deployed: Vec<Vec<u32>>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn scatter_svg(series: &[(String, Vec<(f64, f64)>)]) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (560, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|&(a, b)| a.max(b)))
            .fold(1.0f64, f64::max)
            * 1.05;
        let mut chart = ChartBuilder::on(&root)
            .caption("Firing rate per neuron: float vs deployed (Hz)", ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max, 0.0..max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("float reference (Hz)")
            .y_desc("deployed (Hz)")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (max, max)], BLACK.mix(0.4)))
            .map_err(|e| e.to_string())?;
        for (k, (name, pts)) in series.iter().enumerate() {
            let c = COLORS[k % COLORS.len()];
            chart
                .draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 2, c.mix(0.5).filled())))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x, y), 4, c.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn traces_svg(tr: &OutputTraces, steps: usize) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (560, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let ymax = tr
            .float
            .iter()
            .chain(&tr.deployed)
            .flat_map(|v| v.iter().copied())
            .max()
            .unwrap_or(1)
            .max(1) as f64
            * 1.1;
        let label = tr.label.map(|l| format!(", label {l}")).unwrap_or_default();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Output spike counts over time, sample {}{label}", tr.sample),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..steps.max(1) as f64, 0.0..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("step (deployed aligned by its lag)")
            .y_desc("cumulative spikes")
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, (f, d)) in tr.float.iter().zip(&tr.deployed).enumerate() {
            let c = COLORS[k % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    f.iter().enumerate().map(|(t, &v)| (t as f64, v as f64)),
                    c.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(format!("class {k}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
            chart
                .draw_series(DashedLineSeries::new(
                    d.iter().enumerate().map(|(t, &v)| (t as f64, v as f64)),
                    6,
                    4,
                    c.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn raster_svg(rows: &[(String, Vec<usize>, Vec<usize>)], steps: usize) -> Result<String, String> {
    let mut buf = String::new();
    let h = 80 + 22 * rows.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut buf, (1140, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Spike raster: float (black) and deployed (red, aligned)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(160)
            .build_cartesian_2d(-0.5..steps.max(1) as f64 - 0.5, -0.5..rows.len().max(1) as f64 - 0.5)
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|y| {
                let k = y.round();
                if (y - k).abs() < 1e-6 && k >= 0.0 {
                    labels.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("step")
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, (_, f, d)) in rows.iter().enumerate() {
            let y = k as f64;
            chart
                .draw_series(
                    f.iter()
                        .map(|&t| Rectangle::new([(t as f64 - 0.3, y), (t as f64 + 0.3, y + 0.35)], BLACK.filled())),
                )
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(
                    d.iter()
                        .map(|&t| Rectangle::new([(t as f64 - 0.3, y - 0.35), (t as f64 + 0.3, y)], RED.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn fmt_f(x: f64, digits: usize) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{x:.digits$}")
    }
}

impl VerifyPage {
    /// Renders the page.
    pub fn render(&self) -> Result<String, String> {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}}\
table{{border-collapse:collapse;margin:12px 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
th{{background:#f2f2f2}}td:first-child,th:first-child{{text-align:left}}\
.ok{{background:#e3f5e1;border:1px solid #4a4;padding:8px 12px}}.bad{{background:#fbe3e3;border:1px solid #c44;padding:8px 12px}}\
.plots{{display:flex;flex-wrap:wrap;gap:12px}}</style></head><body><h1>{}</h1>",
            esc(&self.title),
            esc(&self.title)
        );
        match self.exact {
            Some(true) => h.push_str(
                "<p class=\"ok\"><b>A = B</b>: the fixed-point reference and the emulated artifact agree on every spike of every neuron at every step.</p>",
            ),
            Some(false) => h.push_str(
                "<p class=\"bad\"><b>A ≠ B</b>: the emulated artifact differs from the fixed-point reference (see the summary).</p>",
            ),
            None => {}
        }
        h.push_str("<table>");
        for (k, v) in &self.summary {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
        h.push_str("</table><h2>Layers: deployed vs float reference</h2><table><tr><th>layer</th><th>neurons</th><th>lag (steps)</th><th>float spikes</th><th>deployed spikes</th><th>float Hz</th><th>deployed Hz</th><th>rate correlation</th><th>mean |Δrate| Hz</th></tr>");
        for l in &self.layers {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&l.layer),
                l.neurons,
                l.lag,
                l.float_spikes,
                l.deployed_spikes,
                fmt_f(l.float_rate_hz, 1),
                fmt_f(l.deployed_rate_hz, 1),
                fmt_f(l.rate_correlation, 4),
                fmt_f(l.mean_abs_rate_error_hz, 2)
            );
        }
        h.push_str("</table><h2>Plots</h2><div class=\"plots\">");
        h.push_str(&scatter_svg(&self.scatter)?);
        if let Some(t) = &self.traces {
            h.push_str(&traces_svg(t, self.steps)?);
        }
        h.push_str("</div>");
        if !self.raster.is_empty() {
            h.push_str(&raster_svg(&self.raster, self.steps)?);
        }
        h.push_str("<p>Rates are spike counts divided by steps·dt. Deployed layers lag the float reference by the chip's pipeline latency; each deployed layer is read over the window shifted by its lag, so both see the same presentation.</p></body></html>\n");
        Ok(h)
    }
}
