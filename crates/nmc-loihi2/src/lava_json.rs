//! Reading a network in the form of `tests/fixtures/lava/NAME.json`: the
//! `processes` in creation order (kind and Lava constructor arguments) and
//! the `connections` as `[sender, receiver]` name pairs. Other top-level keys
//! (metadata) are ignored.

use serde::Deserialize;

use crate::chip::Chip;
use crate::net::{ActMode, Conn, Kind, Lif, Net, NetError, Process, Sdn, SignMode};

#[derive(Deserialize)]
struct RawNet {
    processes: Vec<RawProc>,
    connections: Vec<(String, String)>,
}

/// A scalar (broadcast) or one value per neuron.
#[derive(Deserialize)]
#[serde(untagged)]
enum Ints {
    One(i64),
    Many(Vec<i64>),
}

#[derive(Deserialize)]
struct RawProc {
    name: String,
    kind: String,
    shape: Vec<u64>,
    weights: Option<Vec<Vec<i64>>>,
    weights_effective: Option<Vec<Vec<i64>>>,
    weight_exp: Option<i64>,
    num_weight_bits: Option<i64>,
    sign_mode: Option<String>,
    num_message_bits: Option<i64>,
    du: Option<i64>,
    dv: Option<i64>,
    vth: Option<i64>,
    bias_mant: Option<Ints>,
    bias_exp: Option<Ints>,
    bias: Option<Ints>,
    spike_exp: Option<i64>,
    state_exp: Option<i64>,
    act_mode: Option<String>,
    cum_error: Option<bool>,
}

type Bad = (String, String);

impl Net {
    /// A network from a Lava-fixture JSON file (see [`Net::from_lava_json`]);
    /// messages start with the path.
    pub fn read_lava_json(chip: &Chip, path: &std::path::Path) -> Result<Net, NetError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| NetError::Syntax {
            origin: origin.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Net::from_lava_json(chip, &text, &origin)
    }

    /// A network from Lava-fixture JSON text, checked against `chip`.
    /// `origin` (a path, say) starts every message. Missing optional
    /// arguments take Lava 0.10's defaults.
    pub fn from_lava_json(chip: &Chip, text: &str, origin: &str) -> Result<Net, NetError> {
        let raw: RawNet = serde_json::from_str(text).map_err(|e| NetError::Syntax {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |(field, message): Bad| NetError::Invalid {
            origin: origin.to_string(),
            field,
            message,
        };
        let max = usize::try_from(chip.totals().neurons_per_chip).unwrap_or(usize::MAX);
        let mut processes = Vec::with_capacity(raw.processes.len());
        for (i, p) in raw.processes.into_iter().enumerate() {
            let at = format!("processes[{i}] ({})", p.name);
            let kind = kind_of(&p, &at, max).map_err(invalid)?;
            processes.push(Process { name: p.name, kind });
        }
        Net::new(chip, processes, &raw.connections, origin)
    }
}

fn kind_of(p: &RawProc, at: &str, max: usize) -> Result<Kind, Bad> {
    let f = |name: &str| format!("{at}.{name}");
    let dims = |want: usize| -> Result<Vec<usize>, Bad> {
        if p.shape.len() != want {
            return Err((
                f("shape"),
                format!("has {} dimensions, `{}` needs {want}", p.shape.len(), p.kind),
            ));
        }
        p.shape
            .iter()
            .enumerate()
            .map(|(k, &d)| match usize::try_from(d) {
                Ok(d) if (1..=max).contains(&d) => Ok(d),
                _ => Err((format!("{}[{k}]", f("shape")), format!("{d} is outside 1..={max}"))),
            })
            .collect()
    };
    Ok(match p.kind.as_str() {
        "source" => Kind::Source(dims(1)?[0]),
        "dense" | "sparse" => {
            let d = dims(2)?;
            let c = conn_of(p, &f, d[0], d[1])?;
            if p.kind == "dense" {
                Kind::Dense(c)
            } else {
                Kind::Sparse(c)
            }
        }
        "lif" => {
            let n = dims(1)?[0];
            Kind::Lif(Lif {
                neurons: n,
                du: small(&f("du"), p.du.unwrap_or(0))?,
                dv: small(&f("dv"), p.dv.unwrap_or(0))?,
                vth: small(&f("vth"), p.vth.unwrap_or(10))?,
                bias_mant: ints32(&f("bias_mant"), p.bias_mant.as_ref(), n)?,
                bias_exp: ints32(&f("bias_exp"), p.bias_exp.as_ref(), n)?,
            })
        }
        "delta" | "sigma_delta" => {
            let n = dims(1)?[0];
            let sigma = p.kind == "sigma_delta";
            let act_mode = match p.act_mode.as_deref() {
                None | Some("RELU") => ActMode::Relu,
                Some("UNIT") => ActMode::Unit,
                Some(o) => return Err((f("act_mode"), format!("`{o}` is neither RELU nor UNIT"))),
            };
            let bias = match (&p.bias, sigma) {
                (Some(_), false) => return Err((f("bias"), "a Delta has no bias".into())),
                (b, _) => ints(&f("bias"), b.as_ref(), n)?,
            };
            let s = Sdn {
                neurons: n,
                vth: p.vth.ok_or_else(|| (f("vth"), "is missing".to_string()))?,
                spike_exp: small(&f("spike_exp"), p.spike_exp.unwrap_or(0))?,
                state_exp: small(&f("state_exp"), p.state_exp.unwrap_or(0))?,
                cum_error: p.cum_error.unwrap_or(false),
                bias,
                act_mode,
            };
            if sigma { Kind::SigmaDelta(s) } else { Kind::Delta(s) }
        }
        o => {
            return Err((
                f("kind"),
                format!("`{o}` is not one of source, dense, sparse, lif, delta, sigma_delta"),
            ));
        }
    })
}

fn conn_of(p: &RawProc, f: &dyn Fn(&str) -> String, outputs: usize, inputs: usize) -> Result<Conn, Bad> {
    let rows = p
        .weights
        .as_ref()
        .ok_or_else(|| (f("weights"), "is missing".to_string()))?;
    let matrix = |name: &str, rows: &[Vec<i64>]| -> Result<Vec<i64>, Bad> {
        if rows.len() != outputs {
            return Err((f(name), format!("has {} rows, shape says {outputs}", rows.len())));
        }
        let mut out = Vec::with_capacity(outputs * inputs);
        for (r, row) in rows.iter().enumerate() {
            if row.len() != inputs {
                return Err((
                    format!("{}[{r}]", f(name)),
                    format!("has {} values, shape says {inputs}", row.len()),
                ));
            }
            out.extend_from_slice(row);
        }
        Ok(out)
    };
    let sign_mode = match p.sign_mode.as_deref() {
        None | Some("auto") => SignMode::Auto,
        Some("MIXED") => SignMode::Mixed,
        Some("EXCITATORY") => SignMode::Excitatory,
        Some("INHIBITORY") => SignMode::Inhibitory,
        Some(o) => {
            return Err((
                f("sign_mode"),
                format!("`{o}` is not one of auto, MIXED, EXCITATORY, INHIBITORY"),
            ));
        }
    };
    let c = Conn {
        outputs,
        inputs,
        weights: matrix("weights", rows)?,
        weight_exp: i32::try_from(p.weight_exp.unwrap_or(0))
            .map_err(|_| (f("weight_exp"), "is not a 32-bit integer".to_string()))?,
        num_weight_bits: small(&f("num_weight_bits"), p.num_weight_bits.unwrap_or(8))?,
        sign_mode,
        num_message_bits: small(&f("num_message_bits"), p.num_message_bits.unwrap_or(0))?,
    };
    if let Some(eff) = &p.weights_effective {
        let eff = matrix("weights_effective", eff)?;
        // Lava's own effective weights must be what the rules give; checked
        // only once the ranges are known good (weights may be out of range).
        if c.weights.iter().all(|w| i32::try_from(*w).is_ok())
            && (1..=8).contains(&c.num_weight_bits)
            && let Some(k) = c.effective_weights().iter().zip(&eff).position(|(a, b)| a != b)
        {
            return Err((
                format!("{}[{}][{}]", f("weights_effective"), k / inputs, k % inputs),
                format!(
                    "{} is not Lava's clip/truncate of weight {} ({} under sign mode {:?})",
                    eff[k],
                    c.weights[k],
                    c.effective_weights()[k],
                    c.resolved_sign_mode()
                ),
            ));
        }
    }
    Ok(c)
}

fn small(field: &str, v: i64) -> Result<u32, Bad> {
    u32::try_from(v).map_err(|_| (field.to_string(), format!("{v} is not a non-negative 32-bit integer")))
}

fn ints(field: &str, v: Option<&Ints>, n: usize) -> Result<Vec<i64>, Bad> {
    Ok(match v {
        None => vec![0; n],
        Some(Ints::One(x)) => vec![*x; n],
        Some(Ints::Many(xs)) if xs.len() == n => xs.clone(),
        Some(Ints::Many(xs)) => return Err((field.to_string(), format!("has {} values for {n} neurons", xs.len()))),
    })
}

fn ints32(field: &str, v: Option<&Ints>, n: usize) -> Result<Vec<i32>, Bad> {
    ints(field, v, n)?
        .into_iter()
        .enumerate()
        .map(|(k, x)| i32::try_from(x).map_err(|_| (format!("{field}[{k}]"), format!("{x} is not a 32-bit integer"))))
        .collect()
}
