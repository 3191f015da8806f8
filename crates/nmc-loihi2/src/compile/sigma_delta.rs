//! Sigma-delta populations (node metadata `loihi2_neuron = "sigma_delta"`):
//! their metadata, the Delta that encodes a graph input for them, and the
//! SigmaDelta process with its incoming connections (docs/loihi2.md §12).

use std::collections::BTreeMap;

use nmc_ir::{Graph, Meta, NodeId, Op};

use super::*;

/// The sigma-delta parameters of a node, from its metadata.
pub(super) struct SdMeta {
    pub(super) vth: f64,
    pub(super) spike_exp: u32,
    pub(super) state_exp: u32,
    pub(super) act_mode: ActMode,
}

/// The Delta that encodes graph input `input` for sigma-delta populations.
pub(super) fn delta_name(input: &str) -> String {
    format!("{input}:delta")
}

/// A Delta with threshold 0 and exponents 0: its payload is exactly the
/// change of its (integer) input, every step.
pub(super) fn input_delta(neurons: usize) -> Sdn {
    Sdn {
        neurons,
        vth: 0,
        spike_exp: 0,
        state_exp: 0,
        cum_error: false,
        bias: vec![0; neurons],
        act_mode: ActMode::Relu,
    }
}

/// Whether graph input `id` feeds a sigma-delta population, directly or
/// through an Affine.
pub(super) fn feeds_sigma_delta(g: &Graph, id: NodeId) -> Result<bool, CompileError> {
    for o in g.outputs(id) {
        let dst = match g.node(o).op {
            Op::Affine { .. } => g.outputs(o),
            _ => vec![o],
        };
        for d in dst {
            let node = g.node(d);
            if matches!(node.op, Op::Neuron(_)) && sd_meta(&node.name, &node.meta)?.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn meta_int(
    node: &str,
    meta: &BTreeMap<String, Meta>,
    key: &str,
    lo: i64,
    hi: i64,
) -> Result<Option<i64>, CompileError> {
    match meta.get(key) {
        None => Ok(None),
        Some(Meta::Int(i)) if (lo..=hi).contains(i) => Ok(Some(*i)),
        Some(Meta::Float(x)) if x.fract() == 0.0 && (lo as f64..=hi as f64).contains(x) => Ok(Some(*x as i64)),
        Some(v) => Err(err(
            node,
            &format!("metadata.{key}"),
            format!("{v} is not an integer in {lo}..={hi}"),
        )),
    }
}

/// `loihi2_neuron = "sigma_delta"` and its parameters, or None.
pub(super) fn sd_meta(node: &str, meta: &BTreeMap<String, Meta>) -> Result<Option<SdMeta>, CompileError> {
    match meta.get("loihi2_neuron") {
        None => return Ok(None),
        Some(Meta::Str(s)) if s == "sigma_delta" => {}
        Some(Meta::Str(s)) if s == "lif" => return Ok(None),
        Some(v) => {
            return Err(err(
                node,
                "metadata.loihi2_neuron",
                format!("{v} is neither \"lif\" nor \"sigma_delta\""),
            ));
        }
    }
    let vth = match meta.get("vth") {
        None => 0.0,
        Some(Meta::Int(i)) if *i >= 0 => *i as f64,
        Some(Meta::Float(x)) if x.is_finite() && *x >= 0.0 => *x,
        Some(v) => return Err(err(node, "metadata.vth", format!("{v} is not a non-negative number"))),
    };
    let act_mode = match meta.get("act_mode") {
        None => ActMode::Relu,
        Some(Meta::Str(s)) if s.eq_ignore_ascii_case("relu") => ActMode::Relu,
        Some(Meta::Str(s)) if s.eq_ignore_ascii_case("unit") => ActMode::Unit,
        Some(v) => {
            return Err(err(
                node,
                "metadata.act_mode",
                format!("{v} is neither \"relu\" nor \"unit\""),
            ));
        }
    };
    Ok(Some(SdMeta {
        vth,
        spike_exp: meta_int(node, meta, "spike_exp", 0, 7)?.unwrap_or(0) as u32,
        state_exp: meta_int(node, meta, "state_exp", 0, 7)?.unwrap_or(0) as u32,
        act_mode,
    }))
}

/// A SigmaDelta population: act is the float value times `2^(spike_exp +
/// state_exp)`, its payloads the float change times `2^spike_exp`.
pub(super) fn sigma_delta(
    name: &str,
    n: &Neuron,
    m: &SdMeta,
    edges: &[Edge],
    num: &Numerics,
    warnings: &mut Vec<String>,
) -> Result<Compiled, CompileError> {
    let act_scale = 2f64.powi((m.spike_exp + m.state_exp) as i32);
    let vth = m.vth.round();
    if vth != m.vth {
        warnings.push(format!(
            "{name}: metadata.vth: {} rounded to {vth} (Lava's SigmaDelta threshold is an integer)",
            m.vth
        ));
    }
    if vth > num.sdn_vth_max as f64 {
        return Err(err(name, "metadata.vth", format!("{vth} exceeds {}", num.sdn_vth_max)));
    }
    let mut bias = Vec::with_capacity(n.len());
    let mut bias_err = 0.0f64;
    for j in 0..n.len() {
        let b: f64 = edges.iter().filter_map(|e| e.bias.as_ref().map(|b| b[j])).sum();
        let r = b.round();
        bias_err = bias_err.max((r - b).abs());
        if r.abs() > num.sdn_bias_max as f64 {
            return Err(err(name, "bias", format!("{r} exceeds ±{}", num.sdn_bias_max)));
        }
        bias.push(r as i64);
    }
    if bias_err > 0.0 {
        warnings.push(format!(
            "{name}: bias: rounded to whole units of the SigmaDelta's bias (largest error {bias_err:.3})"
        ));
    }
    let mut conns = Vec::new();
    for e in edges {
        let per_unit = e.graded_src.map_or(1.0, |se| 2f64.powi(se as i32));
        let x: Vec<f64> = e.w.iter().map(|w| w * act_scale / per_unit).collect();
        let (c, r) = quantize(&e.name, name, &x, &e.w, n.len(), e.inputs, e.graded_src.is_some(), num)?;
        conns.push((clone_edge(e), c, r));
    }
    let pop = PopReport {
        name: name.to_string(),
        kind: "sigma_delta".into(),
        neurons: n.len(),
        scale: (act_scale, act_scale),
        du: None,
        dv: None,
        decay_err: (0.0, 0.0),
        vth: vth as i64,
        threshold_err: if m.vth > 0.0 {
            ((vth - m.vth) / m.vth).abs()
        } else {
            0.0
        },
        bias_max: bias.iter().map(|b| b.abs()).max().unwrap_or(0),
    };
    let sdn = Sdn {
        neurons: n.len(),
        vth: vth as i64,
        spike_exp: m.spike_exp,
        state_exp: m.state_exp,
        cum_error: false,
        bias,
        act_mode: m.act_mode,
    };
    Ok((Kind::SigmaDelta(sdn), conns, pop))
}
