//! From nmc's IR (a NIR graph as the frontend reads it) to a Loihi 2
//! network ([`Net`]) in Lava 0.10's fixed-point semantics (docs/loihi2.md
//! §12): a RingBuffer source per graph input, one Dense per Affine/Linear,
//! one LIF per LIF/CubaLIF/IF population, and a SigmaDelta per population
//! marked with the node metadata `loihi2_neuron = "sigma_delta"`.
//!
//! The mapping, per LIF population with float decay `α` and input gain `g`
//! under the graph's discretization:
//!
//! * `du = round(4095 − 4096·α_syn)` (u's factor is `(4096 − (du + 1))/4096`;
//!   4095 when the model has no synaptic current: u then holds this step's
//!   input only), `dv = round(4096·(1 − α_mem))`;
//! * neuron `j`'s voltage is the float one times `s_j = (vth << 6)/θ_j`, so
//!   the shared `vth` is exact for every neuron; `vth` is the largest up to
//!   2048 (v then has 64× the threshold of headroom before it clips at
//!   ±(2^23 − 1)) for which every weight fits `254 << 7` and every bias
//!   `4095 << 7`;
//! * a weight from a spike is `x = s_j·g_mem·r·g_syn·w_in·W / 64` Dense
//!   units (the LIF adds `a << 6` to u); each connection's `weight_exp` is the
//!   smallest for which `max |x| / 2^weight_exp` fits the sign mode's range,
//!   and the mantissas are rounded (even for MIXED, which truncates its low
//!   bit);
//! * the bias enters v: `s_j·g_mem·(v_leak + r·Σ b · w_in·g_syn/(1 − α_syn))`
//!   (an Affine bias as the steady-state current it feeds), as
//!   `bias_mant << bias_exp`.
//!
//! A sigma-delta population reads changes, so a graph input that feeds one
//! (directly or through an Affine) is encoded by a Delta (`<input>:delta`,
//! vth 0, exponents 0: its payload is the change of the RingBuffer value,
//! whose integer is the float input); its Dense is graded.

use nmc_ir::{Graph, Neuron, NodeId, Op, ResetMode};

use crate::chip::{Chip, Numerics};

mod sigma_delta;
use crate::net::{ActMode, Conn, Kind, Lif, Net, Process, Sdn, SignMode};
use sigma_delta::{delta_name, feeds_sigma_delta, input_delta, sd_meta, sigma_delta};

pub use crate::compile_report::{CompileReport, ConnReport, PopReport};

/// A graph that cannot be compiled for Loihi 2: which node, which field,
/// why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{node}: {field}: {message}")]
pub struct CompileError {
    /// The graph node (or `graph`).
    pub node: String,
    /// The parameter or aspect.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(node: &str, field: &str, message: impl Into<String>) -> CompileError {
    CompileError {
        node: node.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// The largest threshold mantissa the compile aims for: `2048 << 6 = 2^17`,
/// 64× below v's clip bound.
const VTH_TARGET: u32 = 2048;

/// A weight matrix into a population.
struct Edge {
    /// The Dense's name (the Affine node, or `<src>-><dst>` for a direct hop).
    name: String,
    /// The sending process's name.
    src: String,
    /// The sender sends graded payloads (a sigma-delta population, or the
    /// Delta encoding a graph input): a payload of 1 is a float change of
    /// `2^−this`.
    graded_src: Option<u32>,
    /// `[out, in]` row-major.
    w: Vec<f64>,
    inputs: usize,
    bias: Option<Vec<f64>>,
}

/// Compiles `g` for `chip`: the network and its report.
pub fn compile(g: &Graph, chip: &Chip) -> Result<(Net, CompileReport), CompileError> {
    let num = chip.numerics();
    let mut processes = Vec::new();
    let mut connections = Vec::new();
    let mut report = CompileReport {
        target: chip.name().to_string(),
        dt: g.dt,
        discretization: g.discretization.name().into(),
        populations: vec![],
        connections: vec![],
        warnings: vec![],
    };
    if g.input_nodes().is_empty() {
        return Err(err("graph", "inputs", "the graph has no Input node"));
    }
    // Unsupported ops first (they explain the wiring errors around them).
    for id in g.node_ids() {
        let node = g.node(id);
        if !matches!(
            node.op,
            Op::Input { .. } | Op::Neuron(_) | Op::Output { .. } | Op::Affine { .. }
        ) {
            return Err(err(
                &node.name,
                "op",
                format!(
                    "{} has no Loihi 2 process here (Input, Affine/Linear, LIF/CubaLIF/IF and sigma-delta \
                     populations)",
                    node.op.kind_name()
                ),
            ));
        }
    }
    for id in g.node_ids() {
        check_node(g, id)?;
    }
    for id in g.node_ids() {
        let node = g.node(id);
        match &node.op {
            Op::Input { shape } => {
                processes.push(Process {
                    name: node.name.clone(),
                    kind: Kind::Source(shape.numel()),
                });
                if feeds_sigma_delta(g, id)? {
                    processes.push(Process {
                        name: delta_name(&node.name),
                        kind: Kind::Delta(input_delta(shape.numel())),
                    });
                    connections.push((node.name.clone(), delta_name(&node.name)));
                    report.populations.push(PopReport {
                        name: delta_name(&node.name),
                        kind: "delta".into(),
                        neurons: shape.numel(),
                        scale: (1.0, 1.0),
                        du: None,
                        dv: None,
                        decay_err: (0.0, 0.0),
                        vth: 0,
                        threshold_err: 0.0,
                        bias_max: 0,
                    });
                }
            }
            Op::Neuron(n) => {
                let sd = sd_meta(&node.name, &node.meta)?;
                let edges = edges(g, id, n.len(), sd.is_some())?;
                let (kind, conns, pop) = match sd {
                    Some(m) => sigma_delta(&node.name, n, &m, &edges, num, &mut report.warnings)?,
                    None => lif(g, &node.name, n, &edges, num, &mut report.warnings)?,
                };
                for (e, c, r) in conns {
                    connections.push((e.src.clone(), e.name.clone()));
                    connections.push((e.name.clone(), node.name.clone()));
                    processes.push(Process {
                        name: e.name.clone(),
                        kind: Kind::Dense(c),
                    });
                    report.connections.push(r);
                }
                processes.push(Process {
                    name: node.name.clone(),
                    kind,
                });
                report.populations.push(pop);
            }
            _ => {}
        }
    }
    let net = Net::new(chip, processes, &connections, &g.name).map_err(|e| err("graph", "net", e.to_string()))?;
    Ok((net, report))
}

/// Only Input, Output, Affine and neuron populations have a Loihi 2 form.
fn check_node(g: &Graph, id: NodeId) -> Result<(), CompileError> {
    let node = g.node(id);
    match &node.op {
        Op::Input { .. } | Op::Neuron(_) => Ok(()),
        Op::Output { .. } => {
            for (_, src) in g.inputs(id) {
                if !matches!(g.node(src).op, Op::Neuron(_)) {
                    return Err(err(
                        &node.name,
                        "input",
                        format!(
                            "a Loihi 2 network's outputs are neuron populations; `{}` is {}",
                            g.node(src).name,
                            g.node(src).op.kind_name()
                        ),
                    ));
                }
            }
            Ok(())
        }
        Op::Affine { .. } => {
            let outs = g.outputs(id);
            let ok = outs.len() == 1 && matches!(g.node(outs[0]).op, Op::Neuron(_));
            if !ok {
                let to: Vec<String> = outs
                    .iter()
                    .map(|&o| format!("`{}` ({})", g.node(o).name, g.node(o).op.kind_name()))
                    .collect();
                return Err(err(
                    &node.name,
                    "output",
                    format!(
                        "an Affine becomes a Dense into one neuron population; this one feeds [{}] (a linear \
                         readout has no Loihi 2 process: end the graph with a population)",
                        to.join(", ")
                    ),
                ));
            }
            let ins = g.inputs(id);
            let [(_, src)] = ins[..] else {
                return Err(err(&node.name, "input", "an Affine reads exactly one sender"));
            };
            if !matches!(g.node(src).op, Op::Input { .. } | Op::Neuron(_)) {
                return Err(err(
                    &node.name,
                    "input",
                    format!(
                        "reads `{}` ({}); a Dense reads the graph input or a neuron population",
                        g.node(src).name,
                        g.node(src).op.kind_name()
                    ),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The weights into population `id` (`n` neurons; `sd`: a sigma-delta
/// population, which reads a graph input through its Delta encoder).
fn edges(g: &Graph, id: NodeId, n: usize, sd: bool) -> Result<Vec<Edge>, CompileError> {
    let name = &g.node(id).name;
    let mut out = Vec::new();
    for (_, via) in g.inputs(id) {
        let node = g.node(via);
        let (w, inputs, bias, src, dense) = match &node.op {
            Op::Affine { weight, bias } => {
                let d = weight.shape().dims();
                if d.len() != 2 || d[0] != n {
                    return Err(err(
                        &node.name,
                        "weight",
                        format!("shape {:?} does not feed {n} neurons", d),
                    ));
                }
                let src = g.inputs(via)[0].1;
                (
                    weight.data().to_vec(),
                    d[1],
                    bias.as_ref().map(|b| b.data().to_vec()),
                    src,
                    node.name.clone(),
                )
            }
            Op::Input { .. } | Op::Neuron(_) => {
                let m = node.out.shape.numel();
                if m != n {
                    return Err(err(
                        name,
                        "input",
                        format!("`{}` sends {m} values to {n} neurons without weights", node.name),
                    ));
                }
                let mut w = vec![0.0; n * n];
                for j in 0..n {
                    w[j * n + j] = 1.0;
                }
                (w, n, None, via, format!("{}->{}", node.name, name))
            }
            op => {
                return Err(err(
                    name,
                    "input",
                    format!("reads `{}` ({}); a population reads Affines", node.name, op.kind_name()),
                ));
            }
        };
        let src_node = g.node(src);
        let (src_name, graded_src) = if sd && matches!(src_node.op, Op::Input { .. }) {
            (delta_name(&src_node.name), Some(input_delta(0).spike_exp))
        } else {
            (
                src_node.name.clone(),
                sd_meta(&src_node.name, &src_node.meta)?.map(|m| m.spike_exp),
            )
        };
        out.push(Edge {
            name: dense,
            src: src_name,
            graded_src,
            w,
            inputs,
            bias,
        });
    }
    if out.is_empty() {
        return Err(err(name, "input", "the population has no input"));
    }
    Ok(out)
}

/// A compiled population: its process, its incoming connections, its report row.
type Compiled = (Kind, Vec<(Edge, Conn, ConnReport)>, PopReport);

fn clone_edge(e: &Edge) -> Edge {
    Edge {
        name: e.name.clone(),
        src: e.src.clone(),
        graded_src: e.graded_src,
        w: e.w.clone(),
        inputs: e.inputs,
        bias: e.bias.clone(),
    }
}

/// Float decays and gains of one LIF population, per neuron.
struct Consts {
    /// Weight factor per neuron: `g_mem·r·(g_syn·)w_in`.
    k: Vec<f64>,
    /// Float bias per neuron (voltage per step, before the scale).
    bias: Vec<f64>,
    du: u32,
    dv: u32,
    err_u: f64,
    err_v: f64,
}

fn consts(g: &Graph, n: &Neuron, edges: &[Edge], num: &Numerics) -> Consts {
    let len = n.len();
    let one = f64::from(1u32 << num.decay_shift);
    let syn = n.tau_syn.iter().any(|&t| t > 0.0);
    let (mut a_s, mut a_m) = (vec![0.0; len], vec![1.0; len]);
    let (mut k, mut bias) = (vec![0.0; len], vec![0.0; len]);
    for j in 0..len {
        let (am, gm) = if n.model.leaks() {
            g.discretization.decay_gain(g.dt, n.tau_mem[j])
        } else {
            (1.0, 1.0)
        };
        let (as_, gs) = if n.tau_syn[j] > 0.0 {
            g.discretization.decay_gain(g.dt, n.tau_syn[j])
        } else {
            (0.0, 1.0)
        };
        a_s[j] = as_;
        a_m[j] = am;
        k[j] = gm * n.r[j] * gs * n.w_in[j];
        let b: f64 = edges.iter().filter_map(|e| e.bias.as_ref().map(|b| b[j])).sum();
        let leak = if n.model.leaks() { n.v_leak[j] } else { 0.0 };
        bias[j] = gm * leak + k[j] * b / (1.0 - as_).max(f64::MIN_POSITIVE);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let max_u = f64::from(num.decay_max);
    let du = if syn {
        (max_u - one * mean(&a_s)).round().clamp(0.0, max_u) as u32
    } else {
        num.decay_max
    };
    let dv = (one * (1.0 - mean(&a_m))).round().clamp(0.0, max_u) as u32;
    let fu = (one - f64::from(du + num.du_offset)) / one;
    let fv = (one - f64::from(dv + num.dv_offset)) / one;
    let rel = |c: f64, a: f64| if a > 0.0 { ((c - a) / a).abs() } else { c.abs() };
    Consts {
        k,
        bias,
        du,
        dv,
        err_u: a_s.iter().map(|&a| rel(fu, a)).fold(0.0, f64::max),
        err_v: a_m.iter().map(|&a| rel(fv, a)).fold(0.0, f64::max),
    }
}

fn lif(
    g: &Graph,
    name: &str,
    n: &Neuron,
    edges: &[Edge],
    num: &Numerics,
    warnings: &mut Vec<String>,
) -> Result<Compiled, CompileError> {
    if !n.model.spikes() {
        return Err(err(
            name,
            "model",
            format!(
                "{} does not spike; a Loihi 2 LIF does (mark a non-spiking layer `loihi2_neuron = \"sigma_delta\"`)",
                n.model.nir_name()
            ),
        ));
    }
    if n.refractory > 0.0 {
        return Err(err(
            name,
            "refractory",
            format!(
                "{} s: Lava 0.10's fixed-point LIF has no refractory period",
                n.refractory
            ),
        ));
    }
    for (j, &t) in n.v_threshold.iter().enumerate() {
        if !(t.is_finite() && t > 0.0) {
            return Err(err(
                name,
                &format!("v_threshold[{j}]"),
                format!("{t}: the compile needs a positive finite threshold"),
            ));
        }
    }
    if n.reset == ResetMode::Subtract {
        warnings.push(format!(
            "{name}: reset: the graph subtracts the threshold; Lava's LIF resets v to 0"
        ));
    } else if n.v_reset.iter().any(|&r| r != 0.0) {
        warnings.push(format!("{name}: v_reset: not 0; Lava's LIF resets v to 0"));
    }
    if n.v_min.is_finite() {
        warnings.push(format!(
            "{name}: v_min: {} is not applied (Lava clips v at ±(2^23 − 1) only)",
            n.v_min
        ));
    }
    let c = consts(g, n, edges, num);
    if c.err_u > 0.01 || c.err_v > 0.01 {
        warnings.push(format!(
            "{name}: tau: Lava's 12-bit decays differ from the float ones by up to {:.2} % (current) and {:.2} % \
             (voltage)",
            100.0 * c.err_u,
            100.0 * c.err_v
        ));
    }
    let vth = choose_vth(name, n, &c, edges, num)?;
    let vth_eff = f64::from(vth << num.vth_shift);
    let s: Vec<f64> = n.v_threshold.iter().map(|t| vth_eff / t).collect();
    let act = f64::from(1u32 << num.act_shift);
    let mut conns = Vec::new();
    for e in edges {
        let x: Vec<f64> =
            e.w.iter()
                .enumerate()
                .map(|(q, w)| {
                    let j = q / e.inputs;
                    s[j] * c.k[j] * w / act
                })
                .collect();
        if e.graded_src.is_some() {
            return Err(err(
                &e.name,
                "input",
                format!(
                    "`{}` is a sigma-delta population (it sends changes); a LIF reads spikes",
                    e.src
                ),
            ));
        }
        let (conn, r) = quantize(&e.name, name, &x, &e.w, n.len(), e.inputs, false, num)?;
        conns.push((clone_edge(e), conn, r));
    }
    let (mut bias_mant, mut bias_exp) = (Vec::new(), Vec::new());
    for (sj, bj) in s.iter().zip(&c.bias) {
        let (m, e) = bias_of(sj * bj, num);
        bias_mant.push(m);
        bias_exp.push(e);
    }
    let smin = s.iter().copied().fold(f64::INFINITY, f64::min);
    let smax = s.iter().copied().fold(0.0, f64::max);
    let pop = PopReport {
        name: name.to_string(),
        kind: "lif".into(),
        neurons: n.len(),
        scale: (smin, smax),
        du: Some(c.du),
        dv: Some(c.dv),
        decay_err: (c.err_u, c.err_v),
        vth: i64::from(vth),
        threshold_err: 0.0,
        bias_max: bias_mant
            .iter()
            .zip(&bias_exp)
            .map(|(&m, &e)| (i64::from(m) * 2i64.pow(e.max(0) as u32)).abs())
            .max()
            .unwrap_or(0),
    };
    let l = Lif {
        neurons: n.len(),
        du: c.du,
        dv: c.dv,
        vth,
        bias_mant,
        bias_exp,
    };
    Ok((Kind::Lif(l), conns, pop))
}

/// The largest `vth ≤ VTH_TARGET` for which every weight and bias fits.
fn choose_vth(name: &str, n: &Neuron, c: &Consts, edges: &[Edge], num: &Numerics) -> Result<u32, CompileError> {
    let shift = f64::from(1u32 << num.vth_shift);
    let w_cap = 254.0 * 2f64.powi(num.weight_exp_max);
    let b_cap = f64::from(num.bias_mant_max) * 2f64.powi(num.bias_exp_max);
    let mut vth = f64::from(VTH_TARGET.min(num.vth_max));
    for j in 0..n.len() {
        let theta = n.v_threshold[j];
        let wmax = edges
            .iter()
            .flat_map(|e| e.w[j * e.inputs..(j + 1) * e.inputs].iter())
            .fold(0.0f64, |m, w| m.max(w.abs()));
        // s_j = vth·64/θ_j; weight s_j·k_j·W/64 ≤ w_cap; bias s_j·B_j ≤ b_cap.
        let xw = c.k[j].abs() * wmax / theta; // per unit of vth
        if xw > 0.0 {
            vth = vth.min((w_cap / xw).floor());
        }
        let xb = c.bias[j].abs() * shift / theta;
        if xb > 0.0 {
            vth = vth.min((b_cap / xb).floor());
        }
    }
    if vth < 1.0 {
        return Err(err(
            name,
            "v_threshold",
            "the weights or biases are so large against the threshold that no vth ≥ 1 fits them in 8-bit \
             weights << 7 and 13-bit biases << 7",
        ));
    }
    Ok(vth as u32)
}

/// `b` as `bias_mant << bias_exp` (the smallest exponent ≥ 0 that fits).
fn bias_of(b: f64, num: &Numerics) -> (i32, i32) {
    let mut e = 0;
    while e < num.bias_exp_max && b.abs() / 2f64.powi(e) > f64::from(num.bias_mant_max) {
        e += 1;
    }
    let m = (b / 2f64.powi(e))
        .round()
        .clamp(f64::from(num.bias_mant_min), f64::from(num.bias_mant_max));
    (m as i32, e)
}

/// The Dense of one weight matrix: `x` in Dense units (`[out, in]`), `w`
/// the float weights (for the zeroed count).
#[allow(clippy::too_many_arguments)]
fn quantize(
    via: &str,
    dst: &str,
    x: &[f64],
    w: &[f64],
    outputs: usize,
    inputs: usize,
    graded: bool,
    num: &Numerics,
) -> Result<(Conn, ConnReport), CompileError> {
    let lo = x.iter().copied().fold(0.0f64, f64::min);
    let hi = x.iter().copied().fold(0.0f64, f64::max);
    let (mode, cap) = if lo >= 0.0 {
        (SignMode::Excitatory, 255.0)
    } else if hi <= 0.0 {
        (SignMode::Inhibitory, 255.0)
    } else {
        (SignMode::Mixed, 254.0)
    };
    let max = hi.max(-lo);
    let mut we = num.weight_exp_min;
    while we < num.weight_exp_max && max / 2f64.powi(we) > cap {
        we += 1;
    }
    if max / 2f64.powi(we) > cap + 0.5 {
        return Err(err(
            via,
            "weight",
            format!(
                "the largest weight into `{dst}` is {max:.1} Dense units; 8 bits << {} hold {}",
                num.weight_exp_max,
                cap * 2f64.powi(num.weight_exp_max)
            ),
        ));
    }
    if max == 0.0 {
        we = 0;
    }
    let unit = 2f64.powi(we);
    let step = if mode == SignMode::Mixed { 2.0 } else { 1.0 };
    let (mut sq, mut zeroed) = (0.0, 0usize);
    let mut weights = Vec::with_capacity(x.len());
    for (&xi, &wi) in x.iter().zip(w) {
        let m = (step * (xi / unit / step).round()).clamp(-256.0, 255.0);
        let e = if max > 0.0 { (m * unit - xi) / max } else { 0.0 };
        sq += e * e;
        zeroed += usize::from(m == 0.0 && wi != 0.0);
        weights.push(m as i64);
    }
    let c = Conn {
        outputs,
        inputs,
        weights,
        weight_exp: we,
        num_weight_bits: 8,
        sign_mode: mode,
        num_message_bits: if graded { 24 } else { 0 },
    };
    let r = ConnReport {
        name: via.to_string(),
        to: dst.to_string(),
        weight_exp: we,
        num_weight_bits: 8,
        sign_mode: format!("{mode:?}").to_uppercase(),
        graded,
        max_mantissa: c.weights.iter().map(|w| w.abs()).max().unwrap_or(0),
        rms_err: (sq / x.len().max(1) as f64).sqrt(),
        zeroed,
    };
    Ok((c, r))
}
