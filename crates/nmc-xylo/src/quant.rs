//! From a float network (nmc's IR of a NIR graph) to a Xylo configuration:
//! the populations placed on the chip's fixed hidden and output
//! populations, the weights as int8 mantissas with one left shift per
//! matrix, thresholds and biases as int16, time constants as decay shifts
//! — and a report of what that costs and of how the network fills the chip
//! (docs/xylo.md, "Compiling a NIR graph").
//!
//! The mapping (per target neuron `j`, float parameters of nmc's IR under
//! the graph's discretization: decay `α`, input gain `g`; `α' = 1 − 2^−dash`
//! the chip's decay):
//!
//! * `dash = argmin |ln(1 − 2^−d) − ln α|` (`d` in 1..15 for the synaptic
//!   current, 0..15 for the membrane);
//! * the chip state `i` is the float current times `s·g_m·r`, and the chip
//!   decays `i` after adding the input; since its decays are the nearest
//!   `1 − 2^−dash`, not the float ones, a weight is set so the steady state
//!   from input to voltage (the DC gain, what sets a firing rate) equals the
//!   float model's: `x = s · g_m·r·g_s·w_in·W · (1 − α'_s)/(α'_s·(1 − α_s))
//!   · (1 − α'_m)/(1 − α_m)` integer units per spike (exactly
//!   `s·g_m·r·g_s·w_in·W/α'_s` when the decays are exact);
//! * `threshold = round(s·θ)`, `bias = round(s·g_m·v_leak)` (plus an
//!   Affine bias `b` as the steady-state current it feeds,
//!   `s·g_m·r·g_s·w_in·b / (1 − α_s)`);
//! * the scale `s` of a population: the largest with `s·θ_max ≤ 2^12` (the
//!   int16 state keeps 8× the threshold of headroom) and every weight into
//!   it within `127 · 2^7`;
//! * each matrix's shift: the smallest with its largest `|x|` within
//!   `127 · 2^shift`; mantissas `round(x / 2^shift)`.

use std::fmt;

use nmc_ir::{Discretization, Graph, NeuronModel, NodeId, Op, ResetMode};

use crate::{Chip, Config};

/// A network that cannot be compiled for a Xylo chip: which node, which
/// field, why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{node}: {field}: {message}")]
pub struct QuantError {
    /// The graph node (or `graph`).
    pub node: String,
    /// The parameter or aspect.
    pub field: String,
    /// What is wrong, and what the chip allows.
    pub message: String,
}

fn err(node: &str, field: &str, message: impl Into<String>) -> QuantError {
    QuantError {
        node: node.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// Where a population sits on the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// In the hidden population.
    Hidden,
    /// In the output (readout) population.
    Output,
}

/// One population of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PopReport {
    /// The graph node.
    pub name: String,
    /// Hidden or output.
    pub role: Role,
    /// Its first chip neuron (index into its chip population).
    pub first: usize,
    /// Neurons.
    pub neurons: usize,
    /// Integer voltage per float voltage.
    pub scale: f64,
    /// Membrane decay shifts used (sorted, distinct).
    pub dash_mem: Vec<i64>,
    /// Synaptic decay shifts used.
    pub dash_syn: Vec<i64>,
    /// Largest relative error of the chip's membrane decay `1 − 2^−dash`
    /// against the float decay.
    pub decay_mem_err: f64,
    /// The same for the synaptic current.
    pub decay_syn_err: f64,
    /// Largest relative threshold error.
    pub threshold_err: f64,
    /// Largest integer threshold.
    pub threshold_max: i64,
}

/// One weight matrix of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatrixReport {
    /// `weights_in`, `weights_rec` or `weights_out`.
    pub array: String,
    /// The graph nodes whose weights it holds.
    pub from: Vec<String>,
    /// Its left shift.
    pub shift: i64,
    /// Largest |mantissa|.
    pub max_mantissa: i64,
    /// Non-zero entries.
    pub nonzero: usize,
    /// RMS of (chip − float) relative to the matrix's largest |weight|.
    pub rms_err: f64,
    /// Non-zero float weights whose mantissa is 0.
    pub zeroed: usize,
}

/// How the network fills the chip: (used, available) per resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fit {
    /// Input channels.
    pub inputs: (usize, usize),
    /// Hidden neurons.
    pub hidden: (usize, usize),
    /// Output neurons.
    pub outputs: (usize, usize),
    /// Largest recurrent fan-out of one hidden neuron.
    pub fanout: (usize, usize),
    /// Recurrent entries (None: the chip's pool size is not known).
    pub recurrent: (usize, Option<usize>),
}

/// What compiling a graph for a Xylo chip chose and cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuantReport {
    /// The chip.
    pub target: String,
    /// The graph's time step (s).
    pub dt: f64,
    /// The float discretization the mapping follows.
    pub discretization: String,
    /// Populations, hidden first.
    pub populations: Vec<PopReport>,
    /// The three matrices.
    pub matrices: Vec<MatrixReport>,
    /// How the network fills the chip.
    pub fit: Fit,
    /// Approximations worth knowing, naming node and field.
    pub warnings: Vec<String>,
}

/// A population found in the graph.
struct Pop {
    id: NodeId,
    name: String,
    role: Role,
    first: usize,
    n: usize,
}

/// A weight matrix into a population, from the graph.
struct Edge {
    /// Source: `None` for the graph input, else the population index.
    src: Option<usize>,
    /// The Affine/Linear node.
    via: String,
    /// `[out, in]` row-major.
    w: Vec<f64>,
    /// Optional bias per target neuron.
    bias: Option<Vec<f64>>,
}

/// The neuron populations of `g`, hidden (in graph order) then the output.
fn populations(g: &Graph, chip: &Chip) -> Result<Vec<Pop>, QuantError> {
    let mut outs = Vec::new();
    for o in g.output_nodes() {
        for (_, src) in g.inputs(o) {
            if matches!(g.node(src).op, Op::Neuron(_)) {
                outs.push(src);
            } else {
                return Err(err(
                    &g.node(o).name,
                    "input",
                    format!(
                        "a Xylo output reads output neurons; `{}` ({}) is not a neuron population",
                        g.node(src).name,
                        g.node(src).op.kind_name()
                    ),
                ));
            }
        }
    }
    outs.dedup();
    if outs.len() != 1 {
        return Err(err(
            "graph",
            "outputs",
            format!(
                "a Xylo chip has one output population; the graph's outputs read {} populations",
                outs.len()
            ),
        ));
    }
    let mut pops = Vec::new();
    let mut next = 0;
    for id in g.node_ids() {
        let Op::Neuron(n) = &g.node(id).op else { continue };
        if id == outs[0] {
            continue;
        }
        pops.push(Pop {
            id,
            name: g.node(id).name.clone(),
            role: Role::Hidden,
            first: next,
            n: n.len(),
        });
        next += n.len();
    }
    let Op::Neuron(n) = &g.node(outs[0]).op else {
        return Err(err("graph", "outputs", "not a neuron population"));
    };
    pops.push(Pop {
        id: outs[0],
        name: g.node(outs[0]).name.clone(),
        role: Role::Output,
        first: 0,
        n: n.len(),
    });
    let p = &chip.populations;
    let hidden: usize = pops.iter().filter(|p| p.role == Role::Hidden).map(|p| p.n).sum();
    if hidden > p.hidden as usize {
        return Err(err(
            "graph",
            "hidden",
            format!(
                "{hidden} hidden neurons ({}) do not fit: {} has {}",
                names(&pops, Role::Hidden),
                chip.name,
                p.hidden
            ),
        ));
    }
    if n.len() > p.outputs as usize {
        return Err(err(
            &g.node(outs[0]).name,
            "neurons",
            format!(
                "{} output neurons do not fit: {} has {} output neurons",
                n.len(),
                chip.name,
                p.outputs
            ),
        ));
    }
    Ok(pops)
}

fn names(pops: &[Pop], role: Role) -> String {
    pops.iter()
        .filter(|p| p.role == role)
        .map(|p| format!("{} {}", p.name, p.n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The weight matrices into population `p`: each input is an Affine (or
/// Linear) from the graph input or another population.
fn edges(g: &Graph, pops: &[Pop], p: &Pop) -> Result<Vec<Edge>, QuantError> {
    let mut out = Vec::new();
    for (_, via) in g.inputs(p.id) {
        let node = g.node(via);
        let Op::Affine { weight, bias } = &node.op else {
            return Err(err(
                &p.name,
                "input",
                format!(
                    "Xylo takes weights (Affine/Linear) into a population; `{}` is {}",
                    node.name,
                    node.op.kind_name()
                ),
            ));
        };
        let srcs = g.inputs(via);
        let [(_, src)] = srcs[..] else {
            return Err(err(
                &node.name,
                "input",
                "an Affine into a Xylo population reads one source",
            ));
        };
        let src_ix = match &g.node(src).op {
            Op::Input { .. } => None,
            Op::Neuron(_) => pops.iter().position(|q| q.id == src),
            _ => {
                return Err(err(
                    &node.name,
                    "input",
                    format!(
                        "reads `{}` ({}); Xylo weights read the input channels or neurons",
                        g.node(src).name,
                        g.node(src).op.kind_name()
                    ),
                ));
            }
        };
        if let Some(k) = src_ix
            && pops[k].role == Role::Output
        {
            return Err(err(
                &node.name,
                "input",
                "output neurons cannot feed other neurons on Xylo (they only leave the chip)",
            ));
        }
        if p.role == Role::Output && src_ix.is_none() {
            return Err(err(
                &node.name,
                "input",
                "the graph input feeds the output population directly; on Xylo inputs reach hidden neurons only",
            ));
        }
        let dims = weight.shape().dims().to_vec();
        if dims.len() != 2 || dims[0] != p.n {
            return Err(err(
                &node.name,
                "weight",
                format!("shape {dims:?} does not feed {} neurons", p.n),
            ));
        }
        out.push(Edge {
            src: src_ix,
            via: node.name.clone(),
            w: weight.data().to_vec(),
            bias: bias.as_ref().map(|b| b.data().to_vec()),
        });
    }
    Ok(out)
}

/// The chip's decay shift nearest (in log) to the float decay `alpha`, and
/// the chip's decay `1 − 2^−d`.
fn dash(alpha: f64, min: i64) -> (i64, f64) {
    let a = alpha.clamp(1e-12, 1.0 - 1e-12);
    let mut best = (min, f64::INFINITY);
    for d in min..=15 {
        let c = 1.0 - 2f64.powi(-(d as i32));
        let e = if c <= 0.0 {
            f64::INFINITY
        } else {
            (c.ln() - a.ln()).abs()
        };
        let e = if c <= 0.0 && a < 0.5 { a } else { e };
        if e < best.1 {
            best = (d, e);
        }
    }
    (best.0, 1.0 - 2f64.powi(-(best.0 as i32)))
}

/// Float decay and input gain of time constant `tau` at `dt`.
fn decay_gain(tau: f64, dt: f64, d: Discretization) -> (f64, f64) {
    if !tau.is_finite() {
        return (1.0, 1.0);
    }
    match d {
        Discretization::Euler => (1.0 - dt / tau, dt / tau),
        Discretization::Exact | Discretization::Nengo => {
            let a = (-dt / tau).exp();
            (a, 1.0 - a)
        }
    }
}

/// Per-neuron constants of one population.
struct Consts {
    dash_mem: Vec<i64>,
    dash_syn: Vec<i64>,
    /// Weight factor per target neuron: `g_m·r·g_s·w_in / α'_s`.
    k: Vec<f64>,
    /// Steady-state factor of an Affine bias: `g_m·r·g_s·w_in / (1 − α_s)`.
    kb: Vec<f64>,
    /// `g_m·v_leak` per neuron.
    leak: Vec<f64>,
    theta: Vec<f64>,
    err_mem: f64,
    err_syn: f64,
}

fn consts(g: &Graph, p: &Pop, warnings: &mut Vec<String>) -> Result<Consts, QuantError> {
    let Op::Neuron(n) = &g.node(p.id).op else {
        return Err(err(&p.name, "op", "not a neuron population"));
    };
    if !matches!(n.model, NeuronModel::CubaLif) {
        return Err(err(
            &p.name,
            "model",
            format!(
                "Xylo neurons are current-based LIF (NIR CubaLIF: a synaptic current and a membrane); this is {}",
                n.model.nir_name()
            ),
        ));
    }
    if n.refractory > 0.0 {
        return Err(err(&p.name, "refractory", "Xylo neurons have no refractory period"));
    }
    if n.reset == ResetMode::Zero {
        warnings.push(format!(
            "{}: reset: the graph resets to v_reset; Xylo resets by subtracting the threshold \
             (load with --reset subtract if the network was trained that way)",
            p.name
        ));
    }
    let mut c = Consts {
        dash_mem: vec![],
        dash_syn: vec![],
        k: vec![],
        kb: vec![],
        leak: vec![],
        theta: n.v_threshold.clone(),
        err_mem: 0.0,
        err_syn: 0.0,
    };
    for j in 0..n.len() {
        let (am, gm) = decay_gain(n.tau_mem[j], g.dt, g.discretization);
        let (as_, gs) = decay_gain(n.tau_syn[j], g.dt, g.discretization);
        let (dm, cm) = dash(am, 0);
        let (ds, cs) = dash(as_, 1);
        c.err_mem = c.err_mem.max(((cm - am) / am.max(f64::MIN_POSITIVE)).abs());
        c.err_syn = c.err_syn.max(((cs - as_) / as_.max(f64::MIN_POSITIVE)).abs());
        c.dash_mem.push(dm);
        c.dash_syn.push(ds);
        // The chip's decays are the nearest 1 − 2^−dash, not the float ones:
        // the gains are set so the steady state (DC gain) from input to
        // current and from current to voltage equals the float model's.
        let dc_syn = if as_ < 1.0 {
            (1.0 - cs) / (cs * (1.0 - as_))
        } else {
            1.0 / cs
        };
        let dc_mem = if am < 1.0 { (1.0 - cm) / (1.0 - am) } else { 1.0 };
        let base = gm * n.r[j] * gs * n.w_in[j];
        c.k.push(base * dc_syn * dc_mem);
        c.kb.push(if as_ < 1.0 {
            base / (1.0 - as_) * dc_mem
        } else {
            base * dc_mem
        });
        c.leak.push(gm * n.v_leak[j] * dc_mem);
    }
    if c.err_mem > 0.05 || c.err_syn > 0.05 {
        let fast = n.tau_syn.iter().chain(&n.tau_mem).any(|&t| t > 0.0 && t < g.dt);
        let hint = if fast {
            format!(
                "; time constants below dt = {} s decay almost fully in one step — is dt right? (a NIR file \
                 need not store it: give --dt)",
                g.dt
            )
        } else {
            String::new()
        };
        warnings.push(format!(
            "{}: tau: the chip's decays 1 − 2^−dash differ from the float ones by up to {:.1} % (membrane) and \
             {:.1} % (synapse){hint}",
            p.name,
            100.0 * c.err_mem,
            100.0 * c.err_syn
        ));
    }
    Ok(c)
}

/// One matrix being filled: chip-unit float weights, placed.
#[derive(Default)]
struct Acc {
    /// (row = source index, column = target index, value in integer units, float weight).
    entries: Vec<(usize, usize, f64, f64)>,
    from: Vec<String>,
}

impl Acc {
    /// The shift and mantissas; RMS error relative to the largest weight.
    fn finish(&self, name: &str, shift_max: i64, out: &mut dyn FnMut(usize, usize, i64)) -> MatrixReport {
        let max = self.entries.iter().fold(0.0f64, |m, e| m.max(e.2.abs()));
        let mut shift = 0;
        while shift < shift_max && max > 127.0 * 2f64.powi(shift as i32) {
            shift += 1;
        }
        let unit = 2f64.powi(shift as i32);
        let (mut sq, mut mm, mut nz, mut zeroed) = (0.0, 0i64, 0usize, 0usize);
        for &(r, c, x, w) in &self.entries {
            let m = (x / unit).round().clamp(-128.0, 127.0) as i64;
            let e = if max > 0.0 { (m as f64 * unit - x) / max } else { 0.0 };
            sq += e * e;
            mm = mm.max(m.abs());
            nz += usize::from(m != 0);
            zeroed += usize::from(m == 0 && w != 0.0);
            out(r, c, m);
        }
        MatrixReport {
            array: name.into(),
            from: self.from.clone(),
            shift,
            max_mantissa: mm,
            nonzero: nz,
            rms_err: (sq / self.entries.len().max(1) as f64).sqrt(),
            zeroed,
        }
    }
}

/// Compiles `g` for `chip`: the configuration and its report.
pub fn compile(g: &Graph, chip: &Chip) -> Result<(Config, QuantReport), QuantError> {
    let ins = g.input_nodes();
    let [input] = ins[..] else {
        return Err(err(
            "graph",
            "inputs",
            format!("Xylo takes one input; the graph has {}", ins.len()),
        ));
    };
    let n_in = g.node(input).out.shape.numel();
    if n_in > chip.populations.inputs as usize {
        return Err(err(
            &g.node(input).name,
            "shape",
            format!(
                "{n_in} input channels do not fit: {} has {}",
                chip.name, chip.populations.inputs
            ),
        ));
    }
    let pops = populations(g, chip)?;
    let mut warnings = Vec::new();
    let hidden: usize = pops.iter().filter(|p| p.role == Role::Hidden).map(|p| p.n).sum();
    let out_n = pops.last().map_or(0, |p| p.n);
    let states = chip.synapses.hidden_states as usize;
    let mut cfg = Config::zeros(n_in, hidden, out_n, states);
    let (mut m_in, mut m_rec, mut m_out) = (Acc::default(), Acc::default(), Acc::default());
    let mut reports = Vec::new();
    let th_max_int = ((1i64 << (chip.formats.threshold_bits - 1)) - 1) as f64;
    let w_cap = 127.0 * 2f64.powi((1i32 << chip.formats.weight_shift_bits) - 1);
    for p in &pops {
        let c = consts(g, p, &mut warnings)?;
        let es = edges(g, &pops, p)?;
        let mut x_max = 0.0f64;
        for e in &es {
            let cols = e.w.len() / p.n.max(1);
            for (k, &w) in e.w.iter().enumerate() {
                x_max = x_max.max((w * c.k[k / cols.max(1)]).abs());
            }
        }
        let th = c.theta.iter().fold(0.0f64, |m, &t| m.max(t.abs()));
        let mut s = if th > 0.0 { 4096.0 / th } else { 4096.0 };
        if x_max * s > w_cap {
            s = w_cap / x_max;
        }
        let mut th_err = 0.0f64;
        let mut th_int_max = 0;
        for j in 0..p.n {
            let t = (s * c.theta[j]).round();
            if t > th_max_int {
                return Err(err(&p.name, "v_threshold", format!("{t} exceeds the int16 threshold")));
            }
            th_err = th_err.max(((t / s - c.theta[j]) / c.theta[j]).abs());
            th_int_max = th_int_max.max(t as i64);
            let mut b = s * c.leak[j];
            for e in &es {
                if let Some(bias) = &e.bias {
                    b += s * c.kb[j] * bias[j];
                }
            }
            let b = b.round().clamp(-32768.0, 32767.0) as i64;
            let (dm, ds) = (c.dash_mem[j], c.dash_syn[j]);
            match p.role {
                Role::Hidden => {
                    let k = p.first + j;
                    cfg.threshold[k] = t as i64;
                    cfg.bias[k] = b;
                    cfg.dash_mem[k] = dm;
                    cfg.dash_syn[k] = ds;
                    cfg.dash_syn_2[k] = ds;
                }
                Role::Output => {
                    cfg.threshold_out[j] = t as i64;
                    cfg.bias_out[j] = b;
                    cfg.dash_mem_out[j] = dm;
                    cfg.dash_syn_out[j] = ds;
                }
            }
        }
        for e in &es {
            let cols = e.w.len() / p.n.max(1);
            let acc = match (e.src, p.role) {
                (None, _) => &mut m_in,
                (Some(_), Role::Hidden) => &mut m_rec,
                (Some(_), Role::Output) => &mut m_out,
            };
            acc.from.push(e.via.clone());
            let src_first = e.src.map_or(0, |k| pops[k].first);
            for j in 0..p.n {
                for i in 0..cols {
                    let w = e.w[j * cols + i];
                    let tgt = if p.role == Role::Hidden { p.first + j } else { j };
                    acc.entries.push((src_first + i, tgt, s * c.k[j] * w, w));
                }
            }
        }
        let distinct = |v: &[i64]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        };
        reports.push(PopReport {
            name: p.name.clone(),
            role: p.role,
            first: p.first,
            neurons: p.n,
            scale: s,
            dash_mem: distinct(&c.dash_mem),
            dash_syn: distinct(&c.dash_syn),
            decay_mem_err: c.err_mem,
            decay_syn_err: c.err_syn,
            threshold_err: th_err,
            threshold_max: th_int_max,
        });
    }
    let shift_max = (1i64 << chip.formats.weight_shift_bits) - 1;
    let mut matrices = Vec::new();
    let r = m_in.finish("weights_in", shift_max, &mut |i, j, m| cfg.weights_in[[i, j, 0]] += m);
    cfg.weight_shift_in = r.shift;
    matrices.push(r);
    let r = m_rec.finish("weights_rec", shift_max, &mut |i, j, m| cfg.weights_rec[[i, j, 0]] += m);
    cfg.weight_shift_rec = r.shift;
    matrices.push(r);
    let r = m_out.finish("weights_out", shift_max, &mut |i, j, m| cfg.weights_out[[i, j]] += m);
    cfg.weight_shift_out = r.shift;
    matrices.push(r);
    let fit = fit(&cfg, chip, n_in, hidden, out_n);
    cfg.check(chip).map_err(|e| err("graph", "fit", e.to_string()))?;
    let report = QuantReport {
        target: chip.name.clone(),
        dt: g.dt,
        discretization: g.discretization.name().into(),
        populations: reports,
        matrices,
        fit,
        warnings,
    };
    Ok((cfg, report))
}

/// How the configuration fills the chip.
fn fit(cfg: &Config, chip: &Chip, n_in: usize, hidden: usize, out_n: usize) -> Fit {
    let h = cfg.weights_rec.shape()[0];
    let mut fan = 0;
    let mut entries = 0;
    for pre in 0..h {
        let f = (0..h)
            .filter(|&post| (0..cfg.weights_rec.shape()[2]).any(|st| cfg.weights_rec[[pre, post, st]] != 0))
            .count();
        fan = fan.max(f);
        entries += f;
    }
    Fit {
        inputs: (n_in, chip.populations.inputs as usize),
        hidden: (hidden, chip.populations.hidden as usize),
        outputs: (out_n, chip.populations.outputs as usize),
        fanout: (fan, chip.limits.max_fanout_per_neuron as usize),
        recurrent: (entries, chip.limits.recurrent_pool.map(|p| p as usize)),
    }
}

fn pct(x: f64) -> String {
    format!("{:.3}%", 100.0 * x)
}

impl fmt::Display for QuantReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "xylo compile for {} (dt = {} s, {} discretization; weights int8 << one shift per matrix, thresholds \
             and biases int16, decays as bit shifts)",
            self.target, self.dt, self.discretization
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  {:<12} {:<7} {:>6} {:>8} {:>10} {:>10} {:>10} {:>12} {:>10} {:>8}",
            "population",
            "role",
            "first",
            "neurons",
            "scale s",
            "dash_mem",
            "dash_syn",
            "decay err",
            "vth err",
            "vth max"
        )?;
        for p in &self.populations {
            let d = |v: &[i64]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
            writeln!(
                f,
                "  {:<12} {:<7} {:>6} {:>8} {:>10.4} {:>10} {:>10} {:>12} {:>10} {:>8}",
                p.name,
                format!("{:?}", p.role).to_lowercase(),
                p.first,
                p.neurons,
                p.scale,
                d(&p.dash_mem),
                d(&p.dash_syn),
                format!("{}/{}", pct(p.decay_mem_err), pct(p.decay_syn_err)),
                pct(p.threshold_err),
                p.threshold_max
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  {:<12} {:<24} {:>6} {:>9} {:>9} {:>9} {:>8}",
            "matrix", "from", "shift", "max |m|", "non-zero", "rms err", "zeroed"
        )?;
        for m in &self.matrices {
            writeln!(
                f,
                "  {:<12} {:<24} {:>6} {:>9} {:>9} {:>9} {:>8}",
                m.array,
                m.from.join(","),
                m.shift,
                m.max_mantissa,
                m.nonzero,
                pct(m.rms_err),
                m.zeroed
            )?;
        }
        writeln!(f)?;
        let x = &self.fit;
        let pool = x.recurrent.1.map_or("not published".to_string(), |p| p.to_string());
        writeln!(
            f,
            "fit: inputs {}/{} · hidden {}/{} · outputs {}/{} · largest recurrent fan-out {}/{} · recurrent \
             entries {}/{}",
            x.inputs.0,
            x.inputs.1,
            x.hidden.0,
            x.hidden.1,
            x.outputs.0,
            x.outputs.1,
            x.fanout.0,
            x.fanout.1,
            x.recurrent.0,
            pool
        )?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
