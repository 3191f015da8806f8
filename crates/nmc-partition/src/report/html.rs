//! The report as a self-contained HTML page ([`PartitionReport::to_html`]).

use crate::report::text::fmt_num;
use crate::report::{CoreRow, PartitionReport};
use crate::resource::Resource;
use std::fmt::Write as _;

/// A qualitative palette (Tableau 10) over the chip layers, in order.
const PALETTE: [(u8, u8, u8); 10] = [
    (0x4e, 0x79, 0xa7),
    (0xf2, 0x8e, 0x2b),
    (0xe1, 0x57, 0x59),
    (0x76, 0xb7, 0xb2),
    (0x59, 0xa1, 0x4f),
    (0xed, 0xc9, 0x48),
    (0xb0, 0x7a, 0xa1),
    (0xff, 0x9d, 0xa7),
    (0x9c, 0x75, 0x5f),
    (0xba, 0xb0, 0xac),
];

/// The colours of the layers: each chip layer's rank among the chip layers
/// picks its palette entry.
struct Colours {
    chip_rank: Vec<usize>,
}

impl Colours {
    fn new(r: &PartitionReport) -> Colours {
        let mut chip_rank = vec![0usize; r.layers.len()];
        let mut n = 0;
        for (k, l) in r.layers.iter().enumerate() {
            if l.placement == "chip" {
                chip_rank[k] = n;
                n += 1;
            }
        }
        Colours { chip_rank }
    }

    /// The layer's colour, mixed with white: full at utilisation 1, pale at 0.
    fn colour(&self, k: u32, util: f64) -> String {
        let rank = self.chip_rank.get(k as usize).copied().unwrap_or(0);
        let (r, g, b) = match PALETTE.get(rank) {
            Some(&c) => c,
            // Beyond the palette: hues a golden angle apart.
            None => hsl_rgb((rank as f64 * 137.508) % 360.0, 0.55, 0.5),
        };
        let a = 0.25 + 0.75 * util.clamp(0.0, 1.0);
        let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * a).round() as u8;
        format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl PartitionReport {
    /// A self-contained HTML page: one grid of cores per chip, each used
    /// core coloured by its (first) layer and shaded by its largest
    /// utilisation, details on hover, a legend of layers and the totals.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let pal = Colours::new(self);
        self.html_head(&mut h);
        self.html_summary(&mut h);
        self.html_chips(&mut h, &pal);
        self.html_legend(&mut h, &pal);
        self.html_layers(&mut h);
        h
    }

    /// The document head and style sheet.
    fn html_head(&self, h: &mut String) {
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>nmc partition: {m} on {t}</title>\n<style>\n\
body{{font-family:system-ui,sans-serif;margin:20px;color:#222;background:#fafafa}}\n\
h1{{font-size:20px;margin:0 0 6px}} .sum{{margin:0 0 14px;font-size:14px}}\n\
.chips{{display:flex;flex-wrap:wrap;gap:18px}}\n\
.chip{{border:1px solid #999;border-radius:6px;padding:8px;background:#fff}}\n\
.chip h2{{font-size:13px;margin:0 0 6px}}\n\
.grid{{display:grid;grid-template-columns:repeat({cols},{cell}px);gap:3px}}\n\
.core{{width:{cell}px;height:{cell}px;border-radius:3px;border:1px solid rgba(0,0,0,.25);box-sizing:border-box;font-size:9px;line-height:{cell}px;text-align:center;overflow:hidden;color:#000}}\n\
.free{{background:#eee;border:1px dashed #bbb}}\n\
.legend{{margin-top:16px;font-size:13px}} .legend span.sw{{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:middle;margin:0 6px 0 14px;border:1px solid rgba(0,0,0,.3)}}\n\
.shade{{margin-top:8px;font-size:12px}}\n\
table{{border-collapse:collapse;margin-top:16px;font-size:12px}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}} th{{background:#eee}} td.l,th.l{{text-align:left}}\n\
</style></head><body>\n",
            m = esc(&self.model),
            t = esc(&self.target),
            cols = grid_cols(self.cores_per_chip),
            cell = if self.cores_per_chip > 64 { 26 } else { 44 },
        );
    }

    /// The title, the summary line and the failure, if any.
    fn html_summary(&self, h: &mut String) {
        let tt = &self.totals;
        let _ = writeln!(h, "<h1>{} on {}</h1>", esc(&self.model), esc(&self.target));
        let mut summary = if self.failure.is_some() {
            format!(
                "{} cores placed before the failure (each tile on its own core); lower bound {}",
                tt.cores, tt.lower_bound
            )
        } else {
            format!(
                "{} cores used (lower bound {}, {:+.1}%) on {} chip(s) of {} cores; inter-chip edges {}, traffic {} of {} {}",
                tt.cores,
                tt.lower_bound,
                tt.over_lower_bound_pct,
                tt.chips,
                self.cores_per_chip,
                tt.inter_chip_edges,
                fmt_num(tt.inter_chip_traffic),
                fmt_num(tt.total_traffic),
                esc(&tt.traffic_unit)
            )
        };
        if let Some(b) = tt.baseline.as_ref().filter(|_| self.failure.is_none()) {
            let _ = write!(summary, "; {} uses {} cores", esc(&b.name), b.cores);
        }
        let _ = writeln!(h, "<p class=\"sum\" id=\"summary\">{summary}</p>");
        if let Some(fl) = &self.failure {
            let _ = writeln!(
                h,
                "<p class=\"sum\" style=\"color:#b00\">FAILED at layer {}: {} ({}: need {}, offer {})</p>",
                esc(&fl.layer),
                esc(&fl.detail),
                esc(&fl.resource),
                fl.need,
                fl.offer
            );
        }
    }

    /// One grid of cores per chip.
    fn html_chips(&self, h: &mut String, pal: &Colours) {
        h.push_str("<div class=\"chips\">\n");
        let nchips = self.cores.iter().map(|c| c.chip as usize + 1).max().unwrap_or(0);
        for chip in 0..nchips {
            self.html_chip(h, pal, chip);
        }
    }

    /// The grid of chip `chip`: a cell per core, free or used.
    fn html_chip(&self, h: &mut String, pal: &Colours, chip: usize) {
        let mut cells: Vec<Option<&CoreRow>> = vec![None; self.cores_per_chip as usize];
        for c in self.cores.iter().filter(|c| c.chip as usize == chip) {
            if let Some(slot) = cells.get_mut(c.core as usize) {
                *slot = Some(c);
            }
        }
        let used = cells.iter().filter(|c| c.is_some()).count();
        let _ = writeln!(
            h,
            "<div class=\"chip\"><h2>chip {chip} — {used} of {} cores</h2><div class=\"grid\">",
            self.cores_per_chip
        );
        for (i, cell) in cells.iter().enumerate() {
            match cell {
                None => {
                    let _ = writeln!(
                        h,
                        "<div class=\"core free\" title=\"chip {chip} core {i}: free\"></div>"
                    );
                }
                Some(c) => html_core(h, pal, chip, i, c),
            }
        }
        h.push_str("</div></div>\n");
    }

    /// The legend of layers and of shades.
    fn html_legend(&self, h: &mut String, pal: &Colours) {
        h.push_str("</div>\n<div class=\"legend\" id=\"legend\"><b>layers:</b>");
        for (k, l) in self.layers.iter().enumerate() {
            if l.placement == "host" {
                let _ = write!(
                    h,
                    "<span class=\"sw\" style=\"background:#fff;border-style:dashed\"></span>{} (host, {} neurons)",
                    esc(&l.name),
                    l.neurons
                );
            } else {
                let _ = write!(
                    h,
                    "<span class=\"sw\" style=\"background:{}\"></span>{} ({} blocks, {} neurons)",
                    pal.colour(k as u32, 1.0),
                    esc(&l.name),
                    l.blocks,
                    l.neurons
                );
            }
        }
        h.push_str("</div>\n<div class=\"shade\">shade: the core's largest utilisation (first chip layer's colour) — ");
        let first_chip = self.layers.iter().position(|l| l.placement == "chip").unwrap_or(0) as u32;
        for u in [0, 25, 50, 75, 100] {
            let _ = write!(
                h,
                "<span class=\"sw\" style=\"display:inline-block;width:14px;height:14px;vertical-align:middle;margin:0 4px 0 10px;border:1px solid rgba(0,0,0,.3);background:{}\"></span>{u}%",
                pal.colour(first_chip, f64::from(u) / 100.0)
            );
        }
    }

    /// The table of layers.
    fn html_layers(&self, h: &mut String) {
        h.push_str("</div>\n<table><tr><th class=\"l\">layer</th><th>where</th><th>neurons</th><th>blocks</th><th>tile</th><th>lower bound</th><th class=\"l\">why</th></tr>\n");
        for l in &self.layers {
            let (tile, lb) = if l.placement == "chip" && l.blocks == 0 {
                (
                    "-".into(),
                    format!("{} ({})", l.lower_bound, esc(&l.lower_bound_resource)),
                )
            } else if l.placement == "chip" {
                (
                    format!("{}×{}×{}", l.tile_shape[0], l.tile_shape[1], l.tile_shape[2]),
                    format!("{} ({})", l.lower_bound, esc(&l.lower_bound_resource)),
                )
            } else {
                ("-".into(), "-".into())
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{tile}</td><td>{lb}</td><td class=\"l\">{}</td></tr>",
                esc(&l.name),
                l.placement,
                l.neurons,
                l.blocks,
                esc(&l.reason)
            );
        }
        h.push_str("</table>\n</body></html>\n");
    }
}

/// The cell of used core `c`, at core `i` of chip `chip`.
fn html_core(h: &mut String, pal: &Colours, chip: usize, i: usize, c: &CoreRow) {
    let k = c.blocks.first().map_or(0, |b| b.layer_index);
    let util = c
        .usage
        .iter()
        .filter(|a| a.resource != Resource::VoltageLimits.name() || a.used > a.limit)
        .map(|a| a.pct)
        .fold(0.0, f64::max)
        .min(100.0);

    let mut title = format!("core #{} (chip {chip} core {i})\n", c.index);
    for b in &c.blocks {
        let _ = writeln!(title, "{} [{}] axons: {}", b.layer, b.tile, b.modes.join(","));
    }
    for a in &c.usage {
        let _ = writeln!(title, "{}: {} / {} ({:.1}%)", a.resource, a.used, a.limit, a.pct);
    }
    let _ = write!(title, "binding: {}", c.binding);
    let _ = writeln!(
        h,
        "<div class=\"core\" data-layer=\"{k}\" style=\"background:{}\" title=\"{}\">{}</div>",
        pal.colour(k, util / 100.0),
        esc(&title),
        c.index
    );
}

/// HSL (degrees, 0..1, 0..1) to RGB.
fn hsl_rgb(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

fn grid_cols(cpc: u32) -> u32 {
    // A near-square grid, wider than tall.
    let mut c = (f64::from(cpc).sqrt().ceil() as u32).max(1);
    while c < cpc && !cpc.is_multiple_of(c) {
        c += 1;
    }
    if c * c < cpc { c * 2 } else { c }
}
