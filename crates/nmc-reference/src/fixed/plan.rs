//! Validation of a [`QModel`] against a [`Target`], and the resolved
//! integer plan the step runs on.

use super::arith::{Fit, shift_exact};
use super::error::{FixedError, param_err};
use nmc_ir::Shape;
use nmc_ir::qmodel::{InputEncoding, PerNeuron, QConnection, QModel, QPopulation, QWeights, Source};
use nmc_target::Target;

/// Everything the step needs, resolved to per-neuron integers.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) pops: Vec<PopPlan>,
    pub(crate) input: Option<InputPlan>,
    pub(crate) acc: Fit,
    pub(crate) cur: Fit,
    pub(crate) volt: Fit,
    pub(crate) decay_bits: u32,
}

/// The model's (single) input.
#[derive(Debug)]
pub(crate) struct InputPlan {
    pub(crate) name: String,
    pub(crate) features: usize,
    pub(crate) encoding: InputEncoding,
}

/// One population.
#[derive(Debug)]
pub(crate) struct PopPlan {
    pub(crate) name: String,
    pub(crate) shape: Shape,
    pub(crate) n: usize,
    pub(crate) spiking: bool,
    pub(crate) u_factor: Vec<i64>,
    pub(crate) v_factor: Vec<i64>,
    pub(crate) vth: Vec<i64>,
    pub(crate) bias: Vec<i64>,
    pub(crate) refractory: Vec<u32>,
    pub(crate) vmin: i64,
    /// `vmin` when it is the target's widest (a clamp there is a counted clip),
    /// else `i64::MIN`: a narrower vmin is the neuron's floor, not an overflow.
    pub(crate) vmin_counted: i64,
    pub(crate) vmax: i64,
    pub(crate) conns: Vec<ConnPlan>,
    /// Largest latency of a connection reading this population (0: none).
    pub(crate) max_read_latency: usize,
}

/// What a connection reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourcePlan {
    Input,
    Population(usize),
}

/// One connection with its weights as accumulated integers.
#[derive(Debug)]
pub(crate) struct ConnPlan {
    pub(crate) source: SourcePlan,
    pub(crate) latency: usize,
    pub(crate) map: MapPlan,
}

/// Weights laid out for event-driven accumulation (by source element).
#[derive(Debug)]
pub(crate) enum MapPlan {
    /// `wt[j·out + d]`: the weight from source `j` to destination `d`.
    Dense { out: usize, wt: Vec<i64> },
    /// Compressed columns: entries `col_ptr[j]..col_ptr[j+1]` of `rows`/`w`
    /// are the destinations of source `j`.
    Sparse {
        col_ptr: Vec<usize>,
        rows: Vec<usize>,
        w: Vec<i64>,
    },
    /// Cross-correlation geometry and `w[co][ci_local][ky][kx]`.
    Conv(ConvPlan),
}

/// A convolution's geometry.
#[derive(Debug)]
pub(crate) struct ConvPlan {
    pub(crate) in_hw: [usize; 2],
    pub(crate) out_shape: [usize; 3],
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: [usize; 2],
    pub(crate) dilation: [usize; 2],
    pub(crate) cin_per_group: usize,
    pub(crate) cout_per_group: usize,
    pub(crate) w: Vec<i64>,
}

/// `n` values of a per-neuron parameter (a one-value `Each` is broadcast).
fn per_neuron<T: Copy>(p: &PerNeuron<T>, n: usize) -> Vec<T> {
    match p {
        PerNeuron::Uniform(v) => vec![*v; n],
        PerNeuron::Each(v) if v.len() == n => v.clone(),
        PerNeuron::Each(v) => v.first().map(|&x| vec![x; n]).unwrap_or_default(),
    }
}

/// The field path of neuron `i`'s value of `p`.
fn field_of<T>(name: &str, p: &PerNeuron<T>, i: usize) -> String {
    match p {
        PerNeuron::Each(v) if v.len() > 1 => format!("compartment.{name}[{i}]"),
        _ => format!("compartment.{name}"),
    }
}

/// Checks that `model` is legal on `target`: the model's structure
/// ([`QModel::check`]), the target it names, its inputs, connection paths,
/// latencies and outputs ([`super::paths::check`]) and every stored integer
/// against the target's formats (decays, threshold and bias mantissas and
/// exponents, refractory delays, voltage bounds, weight mantissas at their
/// exponent and synapse format). The one rule the fixed reference and the
/// partitioner (`nmc compile`) share, so both accept exactly the same models.
pub(crate) fn validate(model: &QModel, target: &Target) -> Result<(), FixedError> {
    model.check()?;
    if model.target != target.name() {
        return Err(FixedError::TargetMismatch {
            model: model.name.clone(),
            model_target: model.target.clone(),
            target: target.name().to_string(),
        });
    }
    super::paths::check(model, target)?;
    for p in &model.populations {
        population(target, p)?;
    }
    Ok(())
}

pub(crate) fn build(model: &QModel, target: &Target) -> Result<Plan, FixedError> {
    validate(model, target)?;
    let input = model.inputs.first().map(|inp| InputPlan {
        name: inp.name.clone(),
        features: inp.shape.numel(),
        encoding: inp.encoding,
    });

    let mut pops = Vec::with_capacity(model.populations.len());
    for p in &model.populations {
        pops.push(population(target, p)?);
    }
    // Latency needs of each population as a source.
    for p in &model.populations {
        for c in &p.inputs {
            if let Source::Population(k) = c.source {
                let l = c.latency as usize;
                pops[k].max_read_latency = pops[k].max_read_latency.max(l);
            }
        }
    }
    Ok(Plan {
        pops,
        input,
        acc: Fit::of(target.formats().accumulator()),
        cur: Fit::of(target.formats().current()),
        volt: Fit::of(target.formats().voltage().register()),
        decay_bits: target.formats().decay().bits(),
    })
}

fn population(target: &Target, p: &QPopulation) -> Result<PopPlan, FixedError> {
    let f = target.formats();
    let n = p.shape.numel();
    let c = &p.compartment;
    let name = p.name.as_str();

    let decay = f.decay();
    let one = 1i64 << decay.bits();
    let dmax = decay.max();
    let mut u_factor = Vec::with_capacity(n);
    for (i, d) in per_neuron(&c.decay_u, n).into_iter().enumerate() {
        if u32::from(d) > dmax {
            return Err(param_err(
                name,
                field_of("decay_u", &c.decay_u, i),
                format!("is {d}; the target's decays are 0..={dmax}"),
            ));
        }
        u_factor.push(one - i64::from(decay.u_offset()) - i64::from(d));
    }
    let mut v_factor = Vec::with_capacity(n);
    for (i, d) in per_neuron(&c.decay_v, n).into_iter().enumerate() {
        if u32::from(d) > dmax {
            return Err(param_err(
                name,
                field_of("decay_v", &c.decay_v, i),
                format!("is {d}; the target's decays are 0..={dmax}"),
            ));
        }
        v_factor.push(one - i64::from(decay.v_offset()) - i64::from(d));
    }

    let th = f.threshold();
    let mut vth = Vec::with_capacity(n);
    for (i, m) in per_neuron(&c.vth_mant, n).into_iter().enumerate() {
        if th.value(i64::from(m)).is_none() {
            return Err(param_err(
                name,
                field_of("vth_mant", &c.vth_mant, i),
                format!(
                    "is {m}; the target's threshold mantissas are {}..={}",
                    th.mantissa_min(),
                    th.mantissa_max()
                ),
            ));
        }
        let v = shift_exact(i64::from(m), th.shift() as i32)
            .ok_or_else(|| param_err(name, field_of("vth_mant", &c.vth_mant, i), "threshold overflows"))?;
        vth.push(v);
    }

    let bf = f.bias();
    let mants = per_neuron(&c.bias_mant, n);
    let exps = per_neuron(&c.bias_exp, n);
    let mut bias = Vec::with_capacity(n);
    for i in 0..n {
        let (m, e) = (mants[i], exps[i]);
        if i64::from(m).unsigned_abs() > bf.mantissa_max().unsigned_abs() {
            return Err(param_err(
                name,
                field_of("bias_mant", &c.bias_mant, i),
                format!(
                    "is {m}; the target's bias mantissas satisfy |m| <= {}",
                    bf.mantissa_max()
                ),
            ));
        }
        if !bf.exp_range().contains(&u32::from(e)) || bf.value(i64::from(m), u32::from(e)).is_none() {
            return Err(param_err(
                name,
                field_of("bias_exp", &c.bias_exp, i),
                format!(
                    "is {e}; the target's bias exponents are {}..={}",
                    bf.exp_min(),
                    bf.exp_max()
                ),
            ));
        }
        let v = shift_exact(i64::from(m), i32::from(e))
            .ok_or_else(|| param_err(name, field_of("bias_exp", &c.bias_exp, i), "bias overflows"))?;
        bias.push(v);
    }

    let rmax = f.refractory().max_steps();
    let mut refractory = Vec::with_capacity(n);
    for (i, r) in per_neuron(&c.refractory, n).into_iter().enumerate() {
        if u32::from(r) > rmax {
            return Err(param_err(
                name,
                field_of("refractory", &c.refractory, i),
                format!("is {r} steps; the target allows at most {rmax}"),
            ));
        }
        refractory.push(u32::from(r));
    }

    let vf = f.voltage();
    let k = u32::from(c.vmin_exp);
    if vf.vmin(k).is_none() {
        let r = vf.vmin_exp_range();
        return Err(param_err(
            name,
            "compartment.vmin_exp",
            format!("is {k}; the target's vmin exponents are {}..={}", r.start(), r.end()),
        ));
    }
    let m = u32::from(c.vmax_exp);
    if vf.vmax(m).is_none() {
        let r = vf.vmax_exp_range();
        return Err(param_err(
            name,
            "compartment.vmax_exp",
            format!("is {m}; the target's vmax exponents are {}..={}", r.start(), r.end()),
        ));
    }
    // vmin = −2^k + 1, vmax = 2^(base + step·m) − 1 (both ≤ 63 bits by the target's rules).
    let vmin = (1 - (1i128 << k.min(63))) as i64;
    // Clamping at the widest vmin is saturation (counted as a clip); a narrower vmin is
    // the neuron's own floor (nengo's min_voltage) and clamping there is its rule.
    let vmin_counted = if k == *vf.vmin_exp_range().end() {
        vmin
    } else {
        i64::MIN
    };
    let vmax_bits = (vf.vmax_base() + vf.vmax_step() * m).min(63);
    let vmax = ((1i128 << vmax_bits) - 1) as i64;

    let mut conns = Vec::with_capacity(p.inputs.len());
    for (ci, conn) in p.inputs.iter().enumerate() {
        conns.push(connection(target, p, ci, conn)?);
    }

    Ok(PopPlan {
        name: p.name.clone(),
        shape: p.shape.clone(),
        n,
        spiking: c.spiking,
        u_factor,
        v_factor,
        vth,
        bias,
        refractory,
        vmin,
        vmin_counted,
        vmax,
        conns,
        max_read_latency: 0,
    })
}

/// Resolves connection `ci` of `p`: its source, its weights as integers
/// and their layout.
fn connection(target: &Target, p: &QPopulation, ci: usize, conn: &QConnection) -> Result<ConnPlan, FixedError> {
    let source = source_plan(conn);
    let w_int = weight_ints(target, p, ci, conn)?;
    let map = map_plan(&conn.weights, w_int);
    Ok(ConnPlan {
        source,
        latency: conn.latency as usize,
        map,
    })
}

/// The field path of connection `ci`'s field `f`.
fn conn_field(ci: usize, f: &str) -> String {
    format!("inputs[{ci}].{f}")
}

/// What a connection reads (its path and latency are checked by
/// [`super::paths::check`]).
fn source_plan(conn: &QConnection) -> SourcePlan {
    match conn.source {
        Source::Input(_) => SourcePlan::Input,
        Source::Population(k) => SourcePlan::Population(k),
    }
}

/// Connection `ci`'s weights as accumulated integers, in the order of its
/// mantissas, each checked against the target's weight format.
fn weight_ints(target: &Target, p: &QPopulation, ci: usize, conn: &QConnection) -> Result<Vec<i64>, FixedError> {
    let name = p.name.as_str();
    let field = |f: &str| conn_field(ci, f);
    let wf = target.formats().weight();
    let exp = i32::from(conn.weight_exp);
    if !wf.exp_range().contains(&exp) {
        let r = wf.exp_range();
        return Err(param_err(
            name,
            field("weight_exp"),
            format!(
                "is {exp}; the target's weight exponents are {}..={}",
                r.start(),
                r.end()
            ),
        ));
    }
    let mant: &[i16] = match &conn.weights {
        QWeights::Dense { mant, .. } | QWeights::Conv2d { mant, .. } | QWeights::Sparse { mant, .. } => mant,
    };
    let mixed = mant.iter().any(|&m| m > 0) && mant.iter().any(|&m| m < 0);
    let shift = wf.scale_shift() as i32 + exp;
    let mut w_int = Vec::with_capacity(mant.len());
    for (j, &m) in mant.iter().enumerate() {
        let m = i64::from(m);
        let legal = wf.weight_int(m, exp, mixed);
        let mine = shift_exact(m, shift);
        match (legal, mine) {
            (Some(a), Some(b)) if a == b => w_int.push(b),
            _ => {
                return Err(param_err(
                    name,
                    field(&format!("weights.mant[{j}]")),
                    format!(
                        "{m} is not a legal weight mantissa at exponent {exp} in a {} synapse format (|m| <= {}, a \
                         multiple of {})",
                        if mixed { "mixed-sign" } else { "single-sign" },
                        wf.max_abs_mantissa(exp, mixed),
                        wf.mantissa_step(exp, mixed)
                    ),
                ));
            }
        }
    }
    Ok(w_int)
}

/// Lays the integer weights `w_int` (in `weights`' order) out for
/// event-driven accumulation.
fn map_plan(weights: &QWeights, w_int: Vec<i64>) -> MapPlan {
    match weights {
        QWeights::Dense { out, inp, .. } => dense_map(*out, *inp, &w_int),
        QWeights::Sparse { inp, row_ptr, col, .. } => sparse_map(*inp, row_ptr, col, &w_int),
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            ..
        } => MapPlan::Conv(ConvPlan {
            in_hw: [in_shape[1], in_shape[2]],
            out_shape: *out_shape,
            kernel: *kernel,
            stride: *stride,
            padding: *padding,
            dilation: *dilation,
            cin_per_group: in_shape[0] / groups,
            cout_per_group: out_shape[0] / groups,
            w: w_int,
        }),
    }
}

/// Dense `w_int[d·inp + j]` transposed to `wt[j·out + d]`.
fn dense_map(out: usize, inp: usize, w_int: &[i64]) -> MapPlan {
    let mut wt = vec![0i64; out * inp];
    for d in 0..out {
        for j in 0..inp {
            wt[j * out + d] = w_int[d * inp + j];
        }
    }
    MapPlan::Dense { out, wt }
}

/// Compressed rows (`row_ptr`, `col`, `w_int`) turned into compressed columns.
fn sparse_map(inp: usize, row_ptr: &[u32], col: &[u32], w_int: &[i64]) -> MapPlan {
    let mut count = vec![0usize; inp + 1];
    for &c in col {
        count[c as usize + 1] += 1;
    }
    for j in 0..inp {
        count[j + 1] += count[j];
    }
    let col_ptr = count.clone();
    let mut next = count;
    let mut rows = vec![0usize; col.len()];
    let mut w = vec![0i64; col.len()];
    for d in 0..row_ptr.len().saturating_sub(1) {
        for e in row_ptr[d] as usize..row_ptr[d + 1] as usize {
            let j = col[e] as usize;
            let slot = next[j];
            next[j] += 1;
            rows[slot] = d;
            w[slot] = w_int[e];
        }
    }
    MapPlan::Sparse { col_ptr, rows, w }
}
