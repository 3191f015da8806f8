//! One population, phase by phase: neuron state, connections, the scale
//! search, weights, thresholds and biases, decays and refractory delay,
//! voltage bounds, saturation, rate, and the assembled QModel population
//! with its report entry.

use super::neuron::{self, NeuronState};
use super::params::{self, VoltageBounds};
use super::profile_cost::{self, Searched};
use super::scaled::Scaled;
use super::weights;
use super::{Ctx, PopOut, connections, nengo_loihi, rate, saturation};
use crate::Profile;
use crate::choose::{Choice, PopIn, bounds, choose};
use crate::error::QuantError;
use crate::lower::PopLowered;
use crate::report::{PopulationReport, ProfileCost, RateChange, Saturation, Warning};
use nmc_ir::qmodel::{Compartment, PerNeuron, Placement, QPopulation};

fn per_neuron<T: Copy + PartialEq>(v: Vec<T>) -> PerNeuron<T> {
    match v.first() {
        Some(&f) if v.iter().all(|&x| x == f) => PerNeuron::Uniform(f),
        None => PerNeuron::Each(v),
        Some(_) => PerNeuron::Each(v),
    }
}

/// Quantizes population `k` (`p`).
pub(super) fn population(ctx: &Ctx<'_>, k: usize, p: &PopLowered) -> Result<PopOut, QuantError> {
    let mut warnings = Vec::new();
    let ns = neuron::state(ctx.g, ctx.target, p);
    let sc = scale(ctx, k, p, &ns, &mut warnings)?;
    let sat = saturation::saturation(ctx, p, &sc, &mut warnings);
    let rate = rate::rate(ctx.g, p, &ns, &sc);
    let cost = sc.searched.as_ref().map(|nmc| ProfileCost {
        profile: ctx.opts.profile.name().into(),
        held: profile_cost::held_side(sc.s, &sc.weights, &sc.th, &sc.bias, rate.as_ref().map(|r| r.change_pct)),
        nmc: nmc.side(rate::searched_rate(ctx.g, p, &ns, &sc).map(|r| r.change_pct)),
    });
    let err_acc = sc.weights.err;
    let (q, mut report) = assemble(ctx, k, p, &ns, sc, sat, rate);
    report.profile_cost = cost;
    Ok(PopOut {
        q,
        report,
        warnings,
        err_acc,
    })
}

/// Connections, the scale search, and every integer at the chosen scale
/// (in the order their errors are reported).
fn scale(
    ctx: &Ctx<'_>,
    k: usize,
    p: &PopLowered,
    ns: &NeuronState,
    warnings: &mut Vec<Warning>,
) -> Result<Scaled, QuantError> {
    let target = ctx.target;
    let n = &p.neuron;
    let dy = &ns.dy;
    let (conns, meta) = connections::connections(ctx, p, &ns.gain)?;
    params::check_thresholds(target, p)?;
    let spiking = n.model.spikes();
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
        bias_v: &ns.bias_v,
        conns: &conns,
        u_gain_max,
        v_gain_max,
        all_inputs_present: ctx.host[k],
    };
    let forced = ctx.opts.forced_scales.get(&p.name).copied();
    let Choice { s, exps, rule } = choose(&pin, target, forced)?;
    let bnd = bounds(&pin, target);
    let mut weights = weights::weights(target, &p.name, &conns, &meta, s, &exps, warnings)?;
    let mut th = params::thresholds(target, p, s, warnings)?;
    let mut bias = params::biases(target, p, ns, s, warnings)?;
    neuron::decays(ctx.g, target, p, dy, warnings)?;
    let (n_ref, mut refractory) = neuron::refractory(ctx.g, target, p)?;
    let mut volt = params::voltage_bounds(target, p, s, &th.vth, warnings)?;
    let (mut s, mut rule, mut decays, mut searched) = (s, rule, None, None);
    if ctx.opts.profile == Profile::NengoLoihi && !ctx.host[k] {
        // nengo-loihi's discretize replaces every integer; nmc's choice is
        // kept aside for the report (what the profile costs against it), and
        // the error columns are recomputed from the integers held.
        searched = Some(Searched::keep(s, &weights, &th, &bias));
        let block = ctx.opts.nengo_loihi_blocks.get(&p.name).copied().unwrap_or(n.len());
        let nl = nengo_loihi::discretize(ctx.g.dt, p, &conns, &dy.gain_m, &dy.gain_s, block)?;
        profile_cost::apply(
            target,
            ns,
            &n.v_threshold,
            &conns,
            &nl,
            (&mut weights, &mut th, &mut bias),
        );
        for (((q, r), c), (e, mant)) in weights
            .qconns
            .iter_mut()
            .zip(&mut weights.reports)
            .zip(&conns)
            .zip(&nl.conns)
        {
            q.weight_exp = *e;
            q.weights = weights::qweights(&c.map, mant);
            r.weight_exp = *e;
            r.max_mantissa = mant.iter().map(|m| m.abs()).max().unwrap_or(0);
        }
        th.vth = nl.vth;
        bias.mant = nl.bias_mant;
        bias.exp = nl.bias_exp;
        refractory = nl.refractory;
        volt.vmin_exp = nl.vmin_exp;
        volt.vmax_exp = nl.vmax_exp;
        volt.vmax = (1i64 << (9 + 2 * u32::from(nl.vmax_exp))) - 1;
        decays = Some((nl.decay_u, nl.decay_v));
        s = nl.s;
        rule = nl.rule;
    }
    Ok(Scaled {
        decays,
        conns,
        meta,
        s,
        rule,
        bnd,
        u_gain_max,
        v_gain_max,
        weights,
        th,
        bias,
        n_ref,
        refractory,
        volt,
        searched,
    })
}

/// The QModel population and its report entry.
fn assemble(
    ctx: &Ctx<'_>,
    k: usize,
    p: &PopLowered,
    ns: &NeuronState,
    sc: Scaled,
    saturation: Saturation,
    rate: Option<RateChange>,
) -> (QPopulation, PopulationReport) {
    let n = &p.neuron;
    let dy = &ns.dy;
    let spiking = n.model.spikes();
    let placement = if ctx.host[k] { Placement::Host } else { Placement::Chip };
    let (dc_v, dc_u) = neuron::decay_changes(ctx.g, p, dy);
    let VoltageBounds { vmin_exp, vmax_exp, .. } = sc.volt;
    let (decay_u, decay_v) = sc
        .decays
        .clone()
        .unwrap_or_else(|| (dy.decay_u.clone(), dy.decay_v.clone()));
    let compartment = Compartment {
        decay_u: per_neuron(decay_u),
        decay_v: per_neuron(decay_v),
        vth_mant: per_neuron(sc.th.vth),
        bias_mant: per_neuron(sc.bias.mant),
        bias_exp: per_neuron(sc.bias.exp),
        refractory: PerNeuron::Uniform(sc.refractory),
        vmin_exp,
        vmax_exp,
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
        neurons: n.len(),
        shape: n.shape.dims().to_vec(),
        scale: sc.s,
        scale_rule: sc.rule,
        connections: sc.weights.reports,
        threshold: sc.th.report,
        bias: sc.bias.report,
        decay_u: dc_u,
        decay_v: dc_v,
        refractory: sc.refractory,
        vmin_exp,
        vmax_exp,
        saturation,
        rate,
        host_model: None,
        profile_cost: None,
    };
    let q = QPopulation {
        name: p.name.clone(),
        model: n.model,
        shape: n.shape.clone(),
        placement,
        compartment,
        inputs: sc.weights.qconns,
        scale: sc.s,
        float: None,
    };
    (q, report)
}
