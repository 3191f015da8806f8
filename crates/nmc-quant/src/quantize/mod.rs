//! The pass: lower, place, choose integers, assemble the QModel and the report.
//!
//! The phases live one file each: `encode` (host encoders and input
//! encodings), `population` (one population, driving `neuron`,
//! `connections`, `weights`, `params`, `saturation` and `rate`) and
//! `accounting` (weight error sums and the totals).

mod accounting;
mod connections;
mod encode;
mod float_host;
mod nengo_loihi;
mod neuron;
mod params;
mod population;
mod profile_cost;
mod rate;
mod readout;
mod saturation;
mod scaled;
mod weights;

use crate::error::QuantError;
use crate::lower::{Lowered, SrcRef, lower};
use crate::report::{PopulationReport, QuantReport, REPORT_SCHEMA, Warning};
use crate::{EncoderMode, QuantOptions, apply_scale_firing_rates};
use accounting::ErrAcc;
use nmc_ir::Graph;
use nmc_ir::qmodel::{InputEncoding, QInput, QMODEL_SCHEMA_VERSION, QModel, QOutput, QPopulation, QReadout, Source};
use nmc_target::Target;
use std::collections::BTreeMap;

fn validate(opts: &QuantOptions) -> Result<(), QuantError> {
    let s = opts.scale_firing_rates;
    if !(s.is_finite() && s > 0.0) {
        return Err(QuantError::Option {
            option: "scale_firing_rates",
            message: format!("must be a positive number, is {s}"),
        });
    }
    let max_bits = *nmc_core::input::REAL_BITS.end();
    if !(2..=max_bits).contains(&opts.input_bits) {
        return Err(QuantError::Option {
            option: "input_bits",
            message: format!("must be in 2..={max_bits}, is {}", opts.input_bits),
        });
    }
    if opts.input_frac_bits >= opts.input_bits {
        return Err(QuantError::Option {
            option: "input_frac_bits",
            message: format!(
                "must be below input_bits ({}), is {}",
                opts.input_bits, opts.input_frac_bits
            ),
        });
    }
    if !(1..=nmc_core::input::MAX_EVENTS).contains(&opts.max_input_events) {
        return Err(QuantError::Option {
            option: "max_input_events",
            message: format!(
                "must be in 1..={} (the event counts the executions accept), is {}",
                nmc_core::input::MAX_EVENTS,
                opts.max_input_events
            ),
        });
    }
    for (k, v) in &opts.forced_scales {
        if !(v.is_finite() && *v > 0.0) {
            return Err(QuantError::Option {
                option: "forced_scales",
                message: format!("scale of `{k}` must be a positive number, is {v}"),
            });
        }
    }
    Ok(())
}

/// Everything decided about one population.
struct PopOut {
    q: QPopulation,
    report: PopulationReport,
    warnings: Vec<Warning>,
    /// Over all weights of the population.
    err_acc: ErrAcc,
}

struct Ctx<'a> {
    g: &'a Graph,
    target: &'a Target,
    opts: &'a QuantOptions,
    low: &'a Lowered,
    host: Vec<bool>,
    encodings: Vec<InputEncoding>,
}

impl Ctx<'_> {
    fn source_name(&self, s: SrcRef) -> String {
        match s {
            SrcRef::Input(i) => self.g.node(self.low.inputs[i]).name.clone(),
            SrcRef::Pop(k) => self.low.pops[k].name.clone(),
        }
    }

    fn src_ref(&self, id: nmc_ir::NodeId) -> SrcRef {
        match self.low.inputs.iter().position(|&i| i == id) {
            Some(i) => SrcRef::Input(i),
            None => SrcRef::Pop(self.low.pops.iter().position(|p| p.node == id).unwrap_or(0)),
        }
    }
}

/// Appends a warning about `parameter` of population `layer`.
fn warn(w: &mut Vec<Warning>, layer: &str, parameter: &str, message: String) {
    w.push(Warning {
        layer: layer.to_string(),
        parameter: parameter.to_string(),
        message,
    })
}

/// The QModel source of a lowered source reference.
fn source(s: SrcRef) -> Source {
    match s {
        SrcRef::Input(i) => Source::Input(i),
        SrcRef::Pop(k) => Source::Population(k),
    }
}

/// Quantizes `graph` for `target`; see the crate documentation.
pub fn quantize(graph: &Graph, target: &Target, opts: &QuantOptions) -> Result<(QModel, QuantReport), QuantError> {
    validate(opts)?;
    let scaled;
    let graph = if opts.scale_firing_rates != 1.0 {
        scaled = apply_scale_firing_rates(graph, opts.scale_firing_rates)?;
        &scaled
    } else {
        graph
    };
    let with_encoder;
    let graph = if opts.encoder == EncoderMode::OnOff {
        with_encoder = crate::insert_onoff_encoder(graph)?;
        &with_encoder
    } else {
        graph
    };
    let low = lower(graph, target)?;
    for name in opts.forced_scales.keys() {
        if !low.pops.iter().any(|p| &p.name == name) {
            return Err(QuantError::Option {
                option: "forced_scales",
                message: format!("`{name}` is not a neuron population of the graph"),
            });
        }
    }
    for name in opts.nengo_loihi_blocks.keys() {
        if !low.pops.iter().any(|p| &p.name == name) {
            return Err(QuantError::Option {
                option: "nengo_loihi_blocks",
                message: format!("`{name}` is not a neuron population of the graph"),
            });
        }
    }
    if !opts.nengo_loihi_blocks.is_empty() && opts.profile != crate::Profile::NengoLoihi {
        return Err(QuantError::Option {
            option: "nengo_loihi_blocks",
            message: "blocks are nengo-loihi's: use them with the nengo-loihi profile".into(),
        });
    }
    let host = encode::host_populations(graph, opts, &low)?;
    let encode::Inputs {
        encodings,
        reports: input_reports,
        mut warnings,
    } = encode::inputs(graph, opts, &low, &host)?;
    let ctx = Ctx {
        g: graph,
        target,
        opts,
        low: &low,
        host,
        encodings,
    };
    let mut pops = Vec::with_capacity(low.pops.len());
    let mut reports = Vec::with_capacity(low.pops.len());
    let mut err = ErrAcc::default();
    let host_float = float_host::wanted(graph, opts);
    for (k, p) in low.pops.iter().enumerate() {
        let mut out = population::population(&ctx, k, p)?;
        if host_float && ctx.host[k] {
            out.q.float = Some(float_host::float_host(&ctx, p)?);
            out.report.host_model = Some(float_host::model_name(graph));
        }
        err.add(&out.err_acc);
        warnings.extend(out.warnings);
        pops.push(out.q);
        reports.push(out.report);
    }
    let mut readouts = Vec::with_capacity(low.readouts.len());
    let mut readout_reports = Vec::with_capacity(low.readouts.len());
    for r in &low.readouts {
        let (q, rep) = readout::readout(&ctx, r)?;
        readouts.push(q);
        readout_reports.push(rep);
    }
    let model = assemble_model(&ctx, pops, readouts)?;
    let totals = accounting::totals(&reports, &err, warnings.len());
    let report = QuantReport {
        schema: REPORT_SCHEMA.into(),
        model: graph.name.clone(),
        target: target.name().to_string(),
        dt: graph.dt,
        discretization: graph.discretization.name().into(),
        spike_convention: nmc_ir::SpikeConvention::of(graph).name().into(),
        scale_firing_rates: opts.scale_firing_rates,
        encoder: match opts.encoder {
            EncoderMode::Auto => "auto",
            EncoderMode::None => "none",
            EncoderMode::OnOff => "onoff",
        }
        .into(),
        inputs: input_reports,
        populations: reports,
        readouts: readout_reports,
        warnings,
        totals,
    };
    Ok((model, report))
}

/// The QModel of the quantized populations, with its inputs and outputs,
/// checked.
fn assemble_model(ctx: &Ctx<'_>, pops: Vec<QPopulation>, readouts: Vec<QReadout>) -> Result<QModel, QuantError> {
    let graph = ctx.g;
    let inputs = ctx
        .low
        .inputs
        .iter()
        .zip(&ctx.encodings)
        .map(|(&i, &encoding)| QInput {
            name: graph.node(i).name.clone(),
            shape: graph.node(i).out.shape.clone(),
            encoding,
        })
        .collect();
    let outputs = ctx
        .low
        .outputs
        .iter()
        .map(|(name, s)| QOutput {
            name: name.clone(),
            source: source(*s),
        })
        .collect();
    let model = QModel {
        schema_version: QMODEL_SCHEMA_VERSION,
        name: graph.name.clone(),
        target: ctx.target.name().to_string(),
        dt: graph.dt,
        inputs,
        populations: pops,
        outputs,
        readouts,
    };
    model.check().map_err(|e| QuantError::Internal {
        node: e.population.clone(),
        message: e.to_string(),
    })?;
    Ok(model)
}

/// Quantizes one population of `graph` at a given voltage scale `s`
/// (instead of the searched one) and returns it with its report entry: for
/// tests and for reproducing a known conversion (e.g. the NIR paper's Lava
/// parameters for `lif_norse.nir`).
pub fn quantize_population_with_scale(
    graph: &Graph,
    target: &Target,
    opts: &QuantOptions,
    population: &str,
    s: f64,
) -> Result<(QPopulation, PopulationReport), QuantError> {
    let mut o = opts.clone();
    o.forced_scales = BTreeMap::from([(population.to_string(), s)]);
    let (m, r) = quantize(graph, target, &o)?;
    let k = m
        .populations
        .iter()
        .position(|p| p.name == population)
        .ok_or_else(|| QuantError::Option {
            option: "population",
            message: format!("`{population}` is not a neuron population"),
        })?;
    Ok((m.populations[k].clone(), r.populations[k].clone()))
}
