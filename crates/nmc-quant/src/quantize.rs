//! The pass: lower, place, choose integers, assemble the QModel and the report.

use crate::algebra::{Dynamics, dynamics, effective_tau};
use crate::choose::{Choice, ConnIn, PopIn, bounds, choose, g4, pow2, quant_bias, quant_mant, unit};
use crate::error::QuantError;
use crate::linmap::LinMap;
use crate::lower::{Chain, Lowered, PopLowered, SrcRef, chain_map, lower};
use crate::report::{
    ConnectionReport, DecayChange, InputReport, ParamChange, PopulationReport, QuantReport, REPORT_SCHEMA, RateChange,
    Saturation, Totals, Warning,
};
use crate::{EncoderMode, QuantOptions, apply_scale_firing_rates};
use nmc_ir::qmodel::{
    Compartment, InputEncoding, PerNeuron, Placement, QConnection, QInput, QMODEL_SCHEMA_VERSION, QModel, QOutput,
    QPopulation, QWeights, Source,
};
use nmc_ir::{Discretization, Graph, Op};
use nmc_target::Target;
use std::collections::BTreeMap;

fn per_neuron<T: Copy + PartialEq>(v: Vec<T>) -> PerNeuron<T> {
    match v.first() {
        Some(&f) if v.iter().all(|&x| x == f) => PerNeuron::Uniform(f),
        None => PerNeuron::Each(v),
        Some(_) => PerNeuron::Each(v),
    }
}

/// True for a chain an input encoder may run on the host: pointwise
/// (1×1, stride 1, no padding) 2-d convolutions, with Flatten and Scale ops.
fn pointwise(g: &Graph, c: &Chain) -> bool {
    let mut convs = 0;
    for &o in &c.ops {
        match &g.node(o).op {
            Op::Conv {
                weight,
                stride,
                padding,
                ..
            } => {
                let d = weight.shape().dims();
                if d.len() != 4
                    || d[2] != 1
                    || d[3] != 1
                    || stride.iter().any(|&s| s != 1)
                    || padding.iter().any(|&p| p != 0)
                {
                    return false;
                }
                convs += 1;
            }
            Op::Flatten { .. } | Op::Scale { .. } => {}
            _ => return false,
        }
    }
    convs > 0
}

fn validate(opts: &QuantOptions) -> Result<(), QuantError> {
    let s = opts.scale_firing_rates;
    if !(s.is_finite() && s > 0.0) {
        return Err(QuantError::Option {
            option: "scale_firing_rates",
            message: format!("must be a positive number, is {s}"),
        });
    }
    if !(2..=63).contains(&opts.input_bits) {
        return Err(QuantError::Option {
            option: "input_bits",
            message: format!("must be in 2..=63, is {}", opts.input_bits),
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
    if opts.max_input_events == 0 {
        return Err(QuantError::Option {
            option: "max_input_events",
            message: "must be at least 1".into(),
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
    /// Over all weights: (sum sq err, sum sq nengo err, count).
    err_acc: (f64, f64, usize),
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
    let host: Vec<bool> = low
        .pops
        .iter()
        .map(|p| {
            opts.encoder != EncoderMode::None
                && !p.chains.is_empty()
                && p.chains
                    .iter()
                    .all(|c| matches!(graph.node(c.source).op, Op::Input { .. }) && pointwise(graph, c))
        })
        .collect();
    let mut warnings = Vec::new();
    let mut encodings = Vec::with_capacity(low.inputs.len());
    let mut input_reports = Vec::new();
    for &inp in &low.inputs {
        let name = &graph.node(inp).name;
        let readers: Vec<usize> = (0..low.pops.len())
            .filter(|&k| low.pops[k].chains.iter().any(|c| c.source == inp))
            .collect();
        let host_r: Vec<&str> = readers
            .iter()
            .filter(|&&k| host[k])
            .map(|&k| low.pops[k].name.as_str())
            .collect();
        let chip_r: Vec<&str> = readers
            .iter()
            .filter(|&&k| !host[k])
            .map(|&k| low.pops[k].name.as_str())
            .collect();
        if let (Some(h), Some(c)) = (host_r.first(), chip_r.first()) {
            return Err(QuantError::unsupported(
                name,
                "encoding",
                format!(
                    "is read by host encoder `{h}` (as real values) and by chip population `{c}` (which can only \
                     receive events); use --encoder none, or feed `{c}` from the encoder"
                ),
            ));
        }
        let enc = if host_r.is_empty() {
            InputEncoding::Events
        } else {
            InputEncoding::Real {
                frac_bits: opts.input_frac_bits,
                bits: opts.input_bits,
            }
        };
        if enc == InputEncoding::Events && !chip_r.is_empty() {
            warnings.push(Warning {
                layer: name.clone(),
                parameter: "encoding".into(),
                message: format!(
                    "read directly by chip population(s) {}: its values must be non-negative integer event counts \
                     (spikes); real-valued inputs (pixels) need an encoder (a 1×1 conv + spiking layer, run on the \
                     host with --encoder auto). The register bounds assume at most {} event(s) per input and step \
                     (max_input_events); see `saturation` for the counts that stay safe",
                    chip_r.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                    opts.max_input_events
                ),
            });
        }
        encodings.push(enc);
        let (frac_bits, bits) = match enc {
            InputEncoding::Real { frac_bits, bits } => (Some(frac_bits), Some(bits)),
            InputEncoding::Events => (None, None),
        };
        input_reports.push(InputReport {
            max_events: frac_bits.is_none().then_some(opts.max_input_events),
            name: name.clone(),
            shape: graph.node(inp).out.shape.dims().to_vec(),
            encoding: if frac_bits.is_some() { "real" } else { "events" }.into(),
            frac_bits,
            bits,
            readers: readers.iter().map(|&k| low.pops[k].name.clone()).collect(),
        });
    }
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
    let (mut se, mut sn, mut cnt) = (0.0, 0.0, 0usize);
    for (k, p) in low.pops.iter().enumerate() {
        let out = population(&ctx, k, p)?;
        se += out.err_acc.0;
        sn += out.err_acc.1;
        cnt += out.err_acc.2;
        warnings.extend(out.warnings);
        pops.push(out.q);
        reports.push(out.report);
    }
    let inputs = low
        .inputs
        .iter()
        .zip(&ctx.encodings)
        .map(|(&i, &encoding)| QInput {
            name: graph.node(i).name.clone(),
            shape: graph.node(i).out.shape.clone(),
            encoding,
        })
        .collect();
    let outputs = low
        .outputs
        .iter()
        .map(|(name, s)| QOutput {
            name: name.clone(),
            source: match s {
                SrcRef::Input(i) => Source::Input(*i),
                SrcRef::Pop(k) => Source::Population(*k),
            },
        })
        .collect();
    let model = QModel {
        schema_version: QMODEL_SCHEMA_VERSION,
        name: graph.name.clone(),
        target: target.name().to_string(),
        dt: graph.dt,
        inputs,
        populations: pops,
        outputs,
    };
    model.check().map_err(|e| QuantError::Internal {
        node: e.population.clone(),
        message: e.to_string(),
    })?;
    let conns: Vec<&ConnectionReport> = reports.iter().flat_map(|p| &p.connections).collect();
    let nonzero: usize = conns.iter().map(|c| c.nonzero).sum();
    let zeroed: usize = conns.iter().map(|c| c.zeroed).sum();
    let totals = Totals {
        populations: reports.len(),
        host_populations: reports.iter().filter(|p| p.placement == "host").count(),
        neurons: reports.iter().map(|p| p.neurons).sum(),
        chip_neurons: reports
            .iter()
            .filter(|p| p.placement == "chip")
            .map(|p| p.neurons)
            .sum(),
        connections: conns.len(),
        weights: conns.iter().map(|c| c.weights).sum(),
        nonzero,
        zeroed,
        zeroed_pct: if nonzero > 0 {
            100.0 * zeroed as f64 / nonzero as f64
        } else {
            0.0
        },
        rms_err: if cnt > 0 { (se / cnt as f64).sqrt() } else { 0.0 },
        nengo_rms_err: if cnt > 0 { (sn / cnt as f64).sqrt() } else { 0.0 },
        warnings: warnings.len(),
    };
    let report = QuantReport {
        schema: REPORT_SCHEMA.into(),
        model: graph.name.clone(),
        target: target.name().to_string(),
        dt: graph.dt,
        discretization: match graph.discretization {
            Discretization::Exact => "exact",
            Discretization::Euler => "euler",
        }
        .into(),
        scale_firing_rates: opts.scale_firing_rates,
        encoder: match opts.encoder {
            EncoderMode::Auto => "auto",
            EncoderMode::None => "none",
            EncoderMode::OnOff => "onoff",
        }
        .into(),
        inputs: input_reports,
        populations: reports,
        warnings,
        totals,
    };
    Ok((model, report))
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)))
}

/// Float steady-state rate (spikes/step) of a neuron under a constant drive
/// `d` per step (voltage units): IF `1/(θ/d + ½ + n)`; leaky with decay
/// `α`: the continuous crossing time `T = ln(v∞/(v∞−θ)) / ln(1/α)` with
/// `v∞ = d/(1−α)`, rate `1/(T + ½ + n)`; capped at `1/(n+1)`.
fn closed_form_rate(theta: f64, alpha: f64, d: f64, n_ref: f64) -> f64 {
    if d <= 0.0 || theta <= 0.0 {
        return 0.0;
    }
    let t = if alpha >= 1.0 {
        theta / d
    } else {
        let v_inf = d / (1.0 - alpha);
        if v_inf <= theta {
            return 0.0;
        }
        (v_inf / (v_inf - theta)).ln() / (1.0 / alpha).ln()
    };
    (1.0 / (t + 0.5 + n_ref)).min(1.0 / (n_ref + 1.0))
}

fn decay_change(stored: &[u16], alpha: f64, chip_alpha: f64, dt: f64, disc: Discretization) -> DecayChange {
    DecayChange {
        stored_min: stored.iter().copied().min().unwrap_or(0),
        stored_max: stored.iter().copied().max().unwrap_or(0),
        alpha_before: alpha,
        alpha_after: chip_alpha,
        tau_before: effective_tau(alpha, dt, disc),
        tau_after: effective_tau(chip_alpha, dt, disc),
    }
}

/// nengo-loihi's weight rule for one connection, as RMS relative error.
fn nengo_rms(target: &Target, c: &ConnIn, w_max_pop: f64) -> (f64, i32) {
    let wf = target.formats().weight();
    if c.max_abs <= 0.0 || w_max_pop <= 0.0 {
        return (0.0, 0);
    }
    let dw = (w_max_pop / c.max_abs).log2().floor().max(0.0) as i32;
    let e = (-dw).max(-6);
    let scale = 255.0 / w_max_pop * pow2(dw);
    let step = wf.mantissa_step(e, c.mixed) as f64;
    let max = wf.max_abs_mantissa(e, c.mixed) as f64;
    let vals = c.map.values();
    let mut sum = 0.0;
    for &a in vals {
        let m = ((a * scale / step).round() * step).clamp(-max, max);
        let err = (m / scale - a) / c.max_abs;
        sum += err * err;
    }
    ((sum / vals.len().max(1) as f64).sqrt(), e)
}

fn population(ctx: &Ctx<'_>, k: usize, p: &PopLowered) -> Result<PopOut, QuantError> {
    let g = ctx.g;
    let target = ctx.target;
    let f = target.formats();
    let wf = f.weight();
    let n = &p.neuron;
    let len = n.len();
    let dt = g.dt;
    let disc = g.discretization;
    let dy: Dynamics = dynamics(n, dt, disc, f.decay());
    let mut warnings = Vec::new();
    let warn = |w: &mut Vec<Warning>, param: &str, msg: String| {
        w.push(Warning {
            layer: p.name.clone(),
            parameter: param.to_string(),
            message: msg,
        })
    };

    // Gains: weights are s · g · W, biases s · b_v (docs/quantization.md).
    let gain: Vec<f64> = (0..len)
        .map(|d| dy.gain_m[d] * n.r[d] * dy.gain_s[d] * n.w_in[d])
        .collect();
    let leak = |d: usize| if n.model.leaks() { n.v_leak[d] } else { 0.0 };
    let bias_v: Vec<f64> = (0..len)
        .map(|d| dy.gain_m[d] * (leak(d) + n.r[d] * n.w_in[d] * p.bias[d]))
        .collect();
    let float_gain_m: Vec<f64> = (0..len)
        .map(|d| if n.model.leaks() { 1.0 - dy.alpha_m[d] } else { 1.0 })
        .collect();
    let bias_float: Vec<f64> = (0..len)
        .map(|d| float_gain_m[d] * (leak(d) + n.r[d] * n.w_in[d] * p.bias[d]))
        .collect();

    // Connections.
    let placement = if ctx.host[k] { Placement::Host } else { Placement::Chip };
    let timing = target.timing();
    let mut conns = Vec::with_capacity(p.chains.len());
    let mut meta = Vec::with_capacity(p.chains.len());
    for c in &p.chains {
        let (mut map, folded) = chain_map(g, c)?;
        let src = ctx.src_ref(c.source);
        // (latency, factor folded into the weights, largest source value).
        let (latency, factor, event_max): (u32, f64, f64) = match src {
            SrcRef::Input(i) => match ctx.encodings[i] {
                InputEncoding::Real { frac_bits, .. } => {
                    let f = pow2(-i32::from(frac_bits));
                    (0, f, 1.0 / f)
                }
                InputEncoding::Events => (
                    timing.host_input_delay_steps(),
                    1.0,
                    f64::from(ctx.opts.max_input_events),
                ),
            },
            SrcRef::Pop(j) => (
                if ctx.host[j] {
                    timing.host_input_delay_steps()
                } else {
                    timing.synapse_delay_steps()
                },
                1.0,
                1.0,
            ),
        };
        map.scale_rows(&gain);
        if factor != 1.0 {
            map.values_mut().iter_mut().for_each(|x| *x *= factor);
        }
        let (out, inp) = map.dims();
        if out != len {
            return Err(QuantError::Internal {
                node: p.name.clone(),
                message: format!("connection maps to {out} neurons, population has {len}"),
            });
        }
        if inp > u32::MAX as usize || map.values().len() > u32::MAX as usize {
            return Err(QuantError::unsupported(
                &p.name,
                "weights",
                "a connection has more than 2^32 sources or weights",
            ));
        }
        let mut name = ctx.source_name(src);
        if factor != 1.0 {
            name = format!("{name} (×2^-{})", ctx.opts.input_frac_bits);
        }
        meta.push((src, latency, ctx.source_name(src)));
        conns.push(ConnIn::new(name, folded, map, event_max));
    }

    // Thresholds.
    let spiking = n.model.spikes();
    if spiking
        && let Some((i, t)) = n
            .v_threshold
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && **t > 0.0))
    {
        return Err(QuantError::unrepresentable(
            &p.name,
            "v_threshold",
            format!(
                "is {t} (neuron {i}); target `{}` spikes when v > vth_mant·2^{} with vth_mant ≥ 1, so the \
                 threshold must be positive and finite",
                target.name(),
                f.threshold().shift()
            ),
        ));
    }
    let thresholds: &[f64] = if spiking { &n.v_threshold } else { &[] };
    let u_gain_max = dy.gain_s.iter().fold(1.0f64, |m, &g| m.max(1.0 / g));
    let v_gain_max = if n.model.leaks() {
        Some(dy.gain_m.iter().fold(1.0f64, |m, &g| m.max(1.0 / g)))
    } else {
        None
    };
    let pin = PopIn {
        name: &p.name,
        spiking,
        thresholds,
        bias_v: &bias_v,
        conns: &conns,
        u_gain_max,
        v_gain_max,
        all_inputs_present: ctx.host[k],
    };
    let forced = ctx.opts.forced_scales.get(&p.name).copied();
    let Choice { s, exps, rule } = choose(&pin, target, forced)?;
    let bnd = bounds(&pin, target);

    // Weights.
    let w_max_pop = conns.iter().fold(0.0f64, |m, c| m.max(c.max_abs));
    let mut qconns = Vec::with_capacity(conns.len());
    let mut creports = Vec::with_capacity(conns.len());
    let (mut se, mut sn, mut cnt) = (0.0, 0.0, 0usize);
    let mut gain_num = 0.0;
    let mut gain_den = 0.0;
    for (ci, c) in conns.iter().enumerate() {
        let e = exps[ci];
        let u = unit(wf, e);
        let vals = c.map.values();
        let mant: Vec<i64> = vals.iter().map(|&a| quant_mant(wf, s * a, e, c.mixed)).collect();
        let mixed_q = mant.iter().any(|&m| m > 0) && mant.iter().any(|&m| m < 0);
        if let Some((j, &m)) = mant
            .iter()
            .enumerate()
            .find(|(_, m)| wf.weight_int(**m, e, mixed_q).is_none())
        {
            return Err(QuantError::Internal {
                node: p.name.clone(),
                message: format!("inputs[{ci}].weights.mant[{j}] = {m} is not legal at exponent {e}"),
            });
        }
        let nonzero = vals.iter().filter(|&&a| a != 0.0).count();
        let zeroed = vals.iter().zip(&mant).filter(|(a, m)| **a != 0.0 && **m == 0).count();
        if nonzero > 0 && zeroed == nonzero {
            return Err(QuantError::unrepresentable(
                &p.name,
                "weight",
                format!(
                    "all {nonzero} weights of {} round to zero at voltage scale {} (weight_exp {e}, smallest \
                     non-zero |w_int| {})",
                    c.label(),
                    g4(s),
                    g4(wf.mantissa_step(e, c.mixed) as f64 * u)
                ),
            ));
        }
        let norm = if c.max_abs > 0.0 { s * c.max_abs } else { 1.0 };
        let (mut sq, mut mx) = (0.0, 0.0f64);
        for (&a, &m) in vals.iter().zip(&mant) {
            let err = (m as f64 * u - s * a) / norm;
            sq += err * err;
            mx = mx.max(err.abs());
            gain_num += m as f64 * u * a;
            gain_den += s * a * a;
        }
        let rms = (sq / vals.len().max(1) as f64).sqrt();
        let (nrms, ne) = nengo_rms(target, c, w_max_pop);
        se += sq;
        sn += nrms * nrms * vals.len() as f64;
        cnt += vals.len();
        let zeroed_pct = if nonzero > 0 {
            100.0 * zeroed as f64 / nonzero as f64
        } else {
            0.0
        };
        if zeroed_pct > 5.0 {
            warn(
                &mut warnings,
                "weight",
                format!(
                    "{zeroed} of {nonzero} non-zero weights ({zeroed_pct:.1}%) of {} round to zero",
                    c.label()
                ),
            );
        }
        let (src, latency, src_name) = &meta[ci];
        let m16 = |v: Vec<i64>| -> Vec<i16> { v.into_iter().map(|m| m as i16).collect() };
        let weights = match &c.map {
            LinMap::Dense { out, inp, .. } => QWeights::Dense {
                out: *out,
                inp: *inp,
                mant: m16(mant.clone()),
            },
            LinMap::Conv { geom, .. } => QWeights::Conv2d {
                in_shape: geom.in_shape,
                out_shape: geom.out_shape,
                kernel: geom.kernel,
                stride: geom.stride,
                padding: geom.padding,
                dilation: geom.dilation,
                groups: geom.groups,
                mant: m16(mant.clone()),
            },
            LinMap::Sparse(csr) => {
                let mut row_ptr = Vec::with_capacity(csr.out + 1);
                let mut col = Vec::new();
                let mut mv = Vec::new();
                row_ptr.push(0u32);
                for w in csr.row_ptr.windows(2) {
                    for (&c, &m) in csr.col[w[0]..w[1]].iter().zip(&mant[w[0]..w[1]]) {
                        if m != 0 {
                            col.push(c);
                            mv.push(m as i16);
                        }
                    }
                    row_ptr.push(col.len() as u32);
                }
                QWeights::Sparse {
                    out: csr.out,
                    inp: csr.inp,
                    row_ptr,
                    col,
                    mant: mv,
                }
            }
        };
        creports.push(ConnectionReport {
            source: src_name.clone(),
            folded_from: c.folded_from.clone(),
            layout: c.map.kind().into(),
            latency: *latency,
            weights: weights.stored(),
            nonzero,
            weight_exp: e as i8,
            mixed_sign: mixed_q,
            max_mantissa: mant.iter().map(|m| m.abs()).max().unwrap_or(0),
            max_abs_err: mx,
            rms_err: rms,
            zeroed,
            zeroed_pct,
            nengo_rms_err: nrms,
            nengo_weight_exp: ne,
        });
        qconns.push(QConnection {
            source: match src {
                SrcRef::Input(i) => Source::Input(*i),
                SrcRef::Pop(j) => Source::Population(*j),
            },
            latency: *latency,
            weight_exp: e as i8,
            weights,
            folded_from: c.folded_from.clone(),
        });
    }
    let gamma_w = if gain_den > 0.0 { gain_num / gain_den } else { 1.0 };

    // Threshold.
    let tf = f.threshold();
    let ts = pow2(tf.shift() as i32);
    let mut vth = Vec::with_capacity(len);
    for d in 0..len {
        let m = if spiking {
            (s * n.v_threshold[d] / ts).round() as i64
        } else {
            tf.mantissa_max()
        };
        if tf.value(m).is_none() {
            return Err(QuantError::unrepresentable(
                &p.name,
                "v_threshold",
                format!(
                    "v_threshold = {} (neuron {d}) at voltage scale {} needs vth_mant = {m}, outside {}..={}",
                    g4(n.v_threshold[d]),
                    g4(s),
                    tf.mantissa_min(),
                    tf.mantissa_max()
                ),
            ));
        }
        vth.push(m as i32);
    }
    let threshold_report = spiking.then(|| {
        let before: Vec<f64> = n.v_threshold.clone();
        let after: Vec<f64> = vth.iter().map(|&m| f64::from(m) * ts / s).collect();
        let err = before
            .iter()
            .zip(&after)
            .fold(0.0f64, |m, (b, a)| m.max(((a - b) / b).abs()));
        let (b0, b1) = min_max(&before);
        let (a0, a1) = min_max(&after);
        ParamChange {
            before_min: b0,
            before_max: b1,
            after_min: a0,
            after_max: a1,
            max_rel_err: err,
        }
    });
    if let Some(t) = &threshold_report
        && t.max_rel_err > 0.01
    {
        warn(
            &mut warnings,
            "v_threshold",
            format!(
                "rounds with {:.2}% error (vth_mant too small at voltage scale {})",
                100.0 * t.max_rel_err,
                g4(s)
            ),
        );
    }

    // Bias.
    let bf = f.bias();
    let mut bias_m = Vec::with_capacity(len);
    let mut bias_e = Vec::with_capacity(len);
    for (d, &b) in bias_v.iter().enumerate() {
        let Some((m, e)) = quant_bias(target, s * b) else {
            return Err(QuantError::unrepresentable(
                &p.name,
                "bias",
                format!(
                    "{} per step (neuron {d}, from {}) is {} at voltage scale {}, beyond the largest bias {} \
                     (|bias_mant| ≤ {}, bias_exp ≤ {})",
                    g4(b),
                    if p.bias_ops.is_empty() {
                        "v_leak".to_string()
                    } else {
                        p.bias_ops.join(", ")
                    },
                    g4(s * b),
                    g4(s),
                    bf.max_value(),
                    bf.mantissa_max(),
                    bf.exp_max()
                ),
            ));
        };
        if bf.value(m, e).is_none() {
            return Err(QuantError::Internal {
                node: p.name.clone(),
                message: format!("bias {m}·2^{e} out of range"),
            });
        }
        bias_m.push(m as i32);
        bias_e.push(e as u8);
    }
    let bias_after: Vec<f64> = bias_m
        .iter()
        .zip(&bias_e)
        .map(|(&m, &e)| f64::from(m) * pow2(i32::from(e)) / s)
        .collect();
    let bmax = bias_float.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
    let bias_report = (bmax > 0.0).then(|| {
        let (b0, b1) = min_max(&bias_float);
        let (a0, a1) = min_max(&bias_after);
        let err = bias_float
            .iter()
            .zip(&bias_after)
            .fold(0.0f64, |m, (b, a)| m.max((a - b).abs() / bmax));
        ParamChange {
            before_min: b0,
            before_max: b1,
            after_min: a0,
            after_max: a1,
            max_rel_err: err,
        }
    });
    let bias_zeroed = bias_v
        .iter()
        .zip(&bias_m)
        .filter(|(b, m)| **b != 0.0 && **m == 0)
        .count();
    if bias_zeroed > 0 {
        warn(
            &mut warnings,
            "bias",
            format!(
                "{bias_zeroed} of {len} non-zero biases round to zero at voltage scale {}",
                g4(s)
            ),
        );
    }
    if n.model.has_synapse() && p.bias.iter().any(|&b| b != 0.0) {
        warn(
            &mut warnings,
            "bias",
            format!(
                "the float graph filters the bias of {} through the synaptic current (τ_syn); the chip adds its \
                 bias after the current, so it acts at once: steady state equal (bias = s·γ_m·r·w_in·b), \
                 transient differs for about τ_syn",
                p.bias_ops
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    // Decays.
    let dmax = f.decay().max();
    if let Some(d) = dy.decay_v.iter().find(|&&d| u32::from(d) > dmax) {
        return Err(QuantError::Internal {
            node: p.name.clone(),
            message: format!("decay_v {d} > {dmax}"),
        });
    }
    if let Some(i) = dy.v_clamped.iter().position(|&c| c) {
        let tau = n.tau_mem[i];
        let msg = if dy.decay_v[i] == 0 {
            format!(
                "τ_mem = {} s is so long that 2^{}·(1 − α) rounds to 0: the chip's membrane does not leak \
                 (weights keep the float gain, the leak is lost)",
                g4(tau),
                f.decay().bits()
            )
        } else {
            format!(
                "τ_mem = {} s is so short that the decay saturates at {} (α' = {}, float α = {})",
                g4(tau),
                dy.decay_v[i],
                g4(dy.chip_alpha_m[i]),
                g4(dy.alpha_m[i])
            )
        };
        warn(&mut warnings, "tau_mem", msg);
    } else if n.model.leaks() {
        // A large relative change of the leak rate.
        let i = 0;
        let gf = 1.0 - dy.alpha_m[i];
        let gc = 1.0 - dy.chip_alpha_m[i];
        if gf > 0.0 && ((gc - gf) / gf).abs() > 0.1 {
            warn(
                &mut warnings,
                "tau_mem",
                format!(
                    "τ_mem = {} s: decay_v = {} changes the leak per step by {:+.1}% (effective τ_mem {} s)",
                    g4(n.tau_mem[i]),
                    dy.decay_v[i],
                    100.0 * (gc - gf) / gf,
                    g4(effective_tau(dy.chip_alpha_m[i], dt, disc))
                ),
            );
        }
    }
    if n.model.has_synapse() {
        if let Some(i) = dy.u_clamped.iter().position(|&c| c) {
            warn(
                &mut warnings,
                "tau_syn",
                format!(
                    "τ_syn = {} s is so long that 2^{}·(1 − α) rounds below the chip's offset: decay_u = 0, the \
                     current decays by 1/{} per step (effective τ_syn {} s)",
                    g4(n.tau_syn[i]),
                    f.decay().bits(),
                    f.decay().one(),
                    g4(effective_tau(dy.chip_alpha_s[i], dt, disc))
                ),
            );
        } else {
            let i = 0;
            let gf = 1.0 - dy.alpha_s[i];
            let gc = 1.0 - dy.chip_alpha_s[i];
            if gf > 0.0 && ((gc - gf) / gf).abs() > 0.1 {
                warn(
                    &mut warnings,
                    "tau_syn",
                    format!(
                        "τ_syn = {} s: decay_u = {} changes the current's decay per step by {:+.1}%",
                        g4(n.tau_syn[i]),
                        dy.decay_u[i],
                        100.0 * (gc - gf) / gf
                    ),
                );
            }
        }
    }

    // Refractory: the float neuron holds n steps after a spike; the chip
    // holds D − 1 steps for a stored delay D (the counter is decremented in
    // the spike's own step), so D = n + 1 (0 for none).
    let n_ref = (n.refractory / dt).round();
    let stored_ref = if n_ref <= 0.0 { 0.0 } else { n_ref + 1.0 };
    let rmax = f.refractory().max_steps().min(u32::from(u8::MAX));
    if stored_ref > f64::from(rmax) {
        return Err(QuantError::unrepresentable(
            &p.name,
            "refractory",
            format!(
                "{} s is {} steps at dt = {} s; target `{}` holds at most {} steps (stored delay ≤ {})",
                g4(n.refractory),
                n_ref,
                g4(dt),
                target.name(),
                rmax.saturating_sub(1),
                rmax
            ),
        ));
    }
    let refractory = stored_ref as u8;

    // Voltage bounds: the widest the target allows.
    let vf = f.voltage();
    let vmin_exp = *vf.vmin_exp_range().end();
    let vmax_exp = *vf.vmax_exp_range().end();
    let vmax = vf.vmax(vmax_exp).unwrap_or(i64::MAX);
    if spiking
        && let Some(&m) = vth.iter().max()
        && (i64::from(m) << tf.shift()) >= vmax
    {
        return Err(QuantError::unrepresentable(
            &p.name,
            "v_threshold",
            format!("vth = {} is not below vmax = {vmax}", i64::from(m) << tf.shift()),
        ));
    }

    // Saturation.
    let acc = f.accumulator();
    let cur = f.current();
    let q_worst = s * bnd.q_worst;
    let bias_int_max = bias_m
        .iter()
        .zip(&bias_e)
        .map(|(&m, &e)| (i64::from(m) << e).abs())
        .max()
        .unwrap_or(0) as f64;
    let u_worst = q_worst * u_gain_max + bias_int_max;
    let v_worst = if spiking {
        f64::from(vth.iter().copied().max().unwrap_or(0)) * ts + u_worst
    } else {
        v_gain_max.map(|gm| u_worst * gm).unwrap_or(f64::INFINITY)
    };
    let overflow = q_worst > acc.max() as f64 || u_worst > cur.max() as f64 || v_worst > vmax as f64;
    let mut row: Vec<f64> = conns
        .iter()
        .flat_map(|c| c.map.row_values(bnd.worst_row).into_iter().map(|x| x * c.event_max))
        .collect();
    let pos_heavy = row.iter().filter(|&&x| x > 0.0).sum::<f64>() >= -row.iter().filter(|&&x| x < 0.0).sum::<f64>();
    row.retain(|&x| if pos_heavy { x > 0.0 } else { x < 0.0 });
    row.sort_by(|a, b| b.abs().total_cmp(&a.abs()));
    let fan_in_same_sign = row.len();
    let events_to_overflow = (q_worst > acc.max() as f64).then(|| {
        let mut sum = 0.0;
        let mut k = 0;
        for x in &row {
            sum += s * x.abs();
            k += 1;
            if sum > acc.max() as f64 {
                break;
            }
        }
        k
    });
    let reads_real = meta
        .iter()
        .any(|(src, _, _)| matches!(src, SrcRef::Input(i) if matches!(ctx.encodings[*i], InputEncoding::Real { .. })));
    let reads_events = meta
        .iter()
        .any(|(src, _, _)| matches!(src, SrcRef::Input(i) if ctx.encodings[*i] == InputEncoding::Events));
    // In input units: |x| for a real input, the count for events.
    let safe_input = ((reads_real || reads_events) && q_worst > 0.0).then(|| {
        let per = if reads_real {
            1.0
        } else {
            f64::from(ctx.opts.max_input_events)
        };
        per * acc.max() as f64 / q_worst
    });
    if overflow {
        let what = if q_worst > acc.max() as f64 {
            match events_to_overflow {
                Some(e) => format!(
                    "worst-case |q| = {} exceeds the accumulator (±2^{}, {:?}); it needs ≥ {e} of the {} \
                     same-sign inputs of neuron {} active in one step",
                    g4(q_worst.round()),
                    acc.magnitude_bits(),
                    acc.overflow(),
                    fan_in_same_sign,
                    bnd.worst_row
                ),
                None => format!("worst-case |q| = {} exceeds the accumulator", g4(q_worst.round())),
            }
        } else if u_worst > cur.max() as f64 {
            format!(
                "worst-case |u + bias| = {} exceeds the current register (±2^{}, {:?})",
                g4(u_worst.round()),
                cur.magnitude_bits(),
                cur.overflow()
            )
        } else {
            format!(
                "worst-case voltage {} exceeds vmax = {vmax} (clipped)",
                g4(v_worst.round())
            )
        };
        let extra = match safe_input {
            Some(x) if reads_real => format!("; the real input is safe for |x| ≤ {}", g4(x)),
            Some(x) => format!("; event counts up to {} per input are safe", g4(x)),
            None => String::new(),
        };
        warn(
            &mut warnings,
            "saturation",
            format!("{what}{extra} (a smaller scale would cost weight or threshold precision)"),
        );
    }

    // Rate under a representative constant input.
    let rate = spiking.then(|| {
        let d0 = 0;
        let nref = n_ref.max(0.0);
        let alpha = if n.model.leaks() { dy.alpha_m[d0] } else { 1.0 };
        let theta = n.v_threshold[d0];
        // The representative input: IF/I 0.1·θ per step; leaky models a
        // drive whose steady-state voltage is 1.5·θ.
        let drive = if alpha < 1.0 {
            1.5 * theta * (1.0 - alpha)
        } else {
            0.1 * theta
        };
        let b_float = bias_float.iter().sum::<f64>() / len.max(1) as f64;
        let b_after = bias_after.iter().sum::<f64>() / len.max(1) as f64;
        let d_syn = (drive - b_float).max(0.0);
        let d_total = d_syn + b_float;
        let before = closed_form_rate(theta, alpha, d_total, nref);
        let chip_alpha = if n.model.leaks() { dy.chip_alpha_m[d0] } else { 1.0 };
        let ratio = if n.model.leaks() && float_gain_m[d0] > 0.0 {
            dy.gain_m[d0] / float_gain_m[d0]
        } else {
            1.0
        };
        let theta_after = f64::from(vth[d0]) * ts / s;
        let after = closed_form_rate(theta_after, chip_alpha, gamma_w * d_syn * ratio + b_after, nref);
        RateChange {
            drive: d_total,
            before_hz: before / dt,
            after_hz: after / dt,
            change_pct: if before > 0.0 {
                100.0 * (after - before) / before
            } else {
                0.0
            },
        }
    });

    let dc_v = decay_change(
        &dy.decay_v,
        dy.alpha_m[0],
        dy.chip_alpha_m[0],
        dt,
        if n.model.leaks() { disc } else { Discretization::Exact },
    );
    let dc_u = decay_change(&dy.decay_u, dy.alpha_s[0], dy.chip_alpha_s[0], dt, disc);
    let dc_u = if n.model.has_synapse() {
        dc_u
    } else {
        DecayChange {
            tau_before: 0.0,
            tau_after: 0.0,
            ..dc_u
        }
    };
    let compartment = Compartment {
        decay_u: per_neuron(dy.decay_u.clone()),
        decay_v: per_neuron(dy.decay_v.clone()),
        vth_mant: per_neuron(vth),
        bias_mant: per_neuron(bias_m),
        bias_exp: per_neuron(bias_e),
        refractory: PerNeuron::Uniform(refractory),
        vmin_exp: vmin_exp as u8,
        vmax_exp: vmax_exp as u8,
        spiking,
    };
    let report = PopulationReport {
        name: p.name.clone(),
        model: n.model.nir_name().into(),
        placement: match placement {
            Placement::Host => "host",
            Placement::Chip => "chip",
        }
        .into(),
        neurons: len,
        shape: n.shape.dims().to_vec(),
        scale: s,
        scale_rule: rule,
        connections: creports,
        threshold: threshold_report,
        bias: bias_report,
        decay_u: dc_u,
        decay_v: dc_v,
        refractory,
        vmin_exp: vmin_exp as u8,
        vmax_exp: vmax_exp as u8,
        saturation: Saturation {
            accumulator_worst: q_worst,
            accumulator_max: acc.max(),
            current_worst: u_worst,
            current_max: cur.max(),
            voltage_worst: v_worst,
            voltage_max: vmax,
            overflow_possible: overflow,
            events_to_overflow,
            fan_in_same_sign,
            safe_input,
            input_real: reads_real,
        },
        rate,
    };
    let q = QPopulation {
        name: p.name.clone(),
        model: n.model,
        shape: n.shape.clone(),
        placement,
        compartment,
        inputs: qconns,
        scale: s,
    };
    Ok(PopOut {
        q,
        report,
        warnings,
        err_acc: (se, sn, cnt),
    })
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
