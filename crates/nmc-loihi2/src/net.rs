//! The deployed network: processes (RingBuffer source, Dense, Sparse, LIF,
//! Delta, SigmaDelta) and the connections between them, checked against a
//! chip's ranges. Reading Lava's JSON description is in [`crate::lava_json`].

use crate::chip::{Chip, Numerics};

/// How Lava picks and applies the weights' sign (`utils/weightutils.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMode {
    /// `determine_sign_mode` on the weights as passed.
    Auto,
    /// Both signs: clip to [−256, 255].
    Mixed,
    /// Clip to [0, 255].
    Excitatory,
    /// Clip to [−255, 0].
    Inhibitory,
}

/// A Dense or Sparse connection (Sparse holds its weights densely here; the
/// zeros are simply absent synapses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    /// Output (destination) neurons.
    pub outputs: usize,
    /// Input (source) neurons.
    pub inputs: usize,
    /// The weights as passed to Lava, row-major `outputs × inputs`.
    pub weights: Vec<i64>,
    /// Shared exponent applied to each output's sum.
    pub weight_exp: i32,
    /// Mantissa bits kept (1..8).
    pub num_weight_bits: u32,
    /// Sign mode.
    pub sign_mode: SignMode,
    /// 0 = binary spikes; > 0 = graded payloads multiply into the weights.
    pub num_message_bits: u32,
}

impl Conn {
    /// The sign mode the model uses: `Auto` resolved on the weights as passed.
    pub fn resolved_sign_mode(&self) -> SignMode {
        match self.sign_mode {
            SignMode::Auto => {
                let min = self.weights.iter().copied().min().unwrap_or(0);
                let max = self.weights.iter().copied().max().unwrap_or(0);
                if min >= 0 {
                    SignMode::Excitatory
                } else if max <= 0 {
                    SignMode::Inhibitory
                } else {
                    SignMode::Mixed
                }
            }
            m => m,
        }
    }

    /// The weights the model uses: Lava's `clip_weights(num_bits=8)` then
    /// `truncate_weights(num_weight_bits)`, row-major.
    pub fn effective_weights(&self) -> Vec<i64> {
        let mode = self.resolved_sign_mode();
        let mixed = mode == SignMode::Mixed;
        let k = 8 - i64::from(self.num_weight_bits) + i64::from(mixed);
        self.weights
            .iter()
            .map(|&w| {
                let neg = mode == SignMode::Inhibitory;
                let w = if neg { -w } else { w };
                let w = w.clamp(if mixed { -256 } else { 0 }, 255);
                let w = (w >> k) << k;
                if neg { -w } else { w }
            })
            .collect()
    }
}

/// A CUBA LIF population (`PyLifModelBitAcc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lif {
    /// Neurons.
    pub neurons: usize,
    /// Current decay, 0..4095.
    pub du: u32,
    /// Voltage decay, 0..4095.
    pub dv: u32,
    /// Threshold mantissa (used as `vth << 6`).
    pub vth: u32,
    /// Bias mantissa per neuron.
    pub bias_mant: Vec<i32>,
    /// Bias exponent per neuron (negative = floor shift).
    pub bias_exp: Vec<i32>,
}

/// SigmaDelta activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActMode {
    /// max(x, 0).
    Relu,
    /// The identity.
    Unit,
}

/// A Delta or SigmaDelta population (`PyDeltaModelFixed`,
/// `PySigmaDeltaModelFixed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdn {
    /// Neurons.
    pub neurons: usize,
    /// Threshold (scaled by 2^(spike_exp + state_exp) at construction).
    pub vth: i64,
    /// Spike exponent.
    pub spike_exp: u32,
    /// State exponent.
    pub state_exp: u32,
    /// Cumulative error mode.
    pub cum_error: bool,
    /// SigmaDelta bias per neuron (all 0 for Delta).
    pub bias: Vec<i64>,
    /// SigmaDelta activation (Delta ignores it).
    pub act_mode: ActMode,
}

/// What a process is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A RingBuffer source of this many channels.
    Source(usize),
    /// A Dense connection.
    Dense(Conn),
    /// A Sparse connection.
    Sparse(Conn),
    /// A LIF population.
    Lif(Lif),
    /// A Delta encoder.
    Delta(Sdn),
    /// A SigmaDelta population.
    SigmaDelta(Sdn),
}

impl Kind {
    /// The kind's name as Lava's JSON spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Source(_) => "source",
            Kind::Dense(_) => "dense",
            Kind::Sparse(_) => "sparse",
            Kind::Lif(_) => "lif",
            Kind::Delta(_) => "delta",
            Kind::SigmaDelta(_) => "sigma_delta",
        }
    }

    /// Values the process receives per step (0 for a source).
    pub fn input_width(&self) -> usize {
        match self {
            Kind::Source(_) => 0,
            Kind::Dense(c) | Kind::Sparse(c) => c.inputs,
            Kind::Lif(l) => l.neurons,
            Kind::Delta(s) | Kind::SigmaDelta(s) => s.neurons,
        }
    }

    /// Values the process sends per step.
    pub fn output_width(&self) -> usize {
        match self {
            Kind::Source(n) => *n,
            Kind::Dense(c) | Kind::Sparse(c) => c.outputs,
            Kind::Lif(l) => l.neurons,
            Kind::Delta(s) | Kind::SigmaDelta(s) => s.neurons,
        }
    }

    /// Dense or Sparse: a one-step buffer.
    pub fn is_connection(&self) -> bool {
        matches!(self, Kind::Dense(_) | Kind::Sparse(_))
    }

    /// The variables recorded for this kind, in a fixed order.
    pub fn variables(&self) -> &'static [&'static str] {
        match self {
            Kind::Source(_) => &["s_out"],
            Kind::Dense(_) | Kind::Sparse(_) => &["a_out"],
            Kind::Lif(_) => &["u", "v", "s_out"],
            Kind::Delta(_) => &["act", "residue", "s_out"],
            Kind::SigmaDelta(_) => &["sigma", "act", "residue", "s_out"],
        }
    }
}

/// One named process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Unique name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
}

/// A checked network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    processes: Vec<Process>,
    connections: Vec<(usize, usize)>,
    order: Vec<usize>,
}

/// Why a network was rejected. Messages start with the origin and name the
/// process and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Not JSON, or not of the expected shape.
    #[error("{origin}: {message}")]
    Syntax {
        /// Where the text came from.
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A field breaks a rule.
    #[error("{origin}: {field}: {message}")]
    Invalid {
        /// Where the network came from.
        origin: String,
        /// Field path, e.g. `processes[2] (lif).du`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl NetError {
    /// The field path of an `Invalid` error.
    pub fn field(&self) -> Option<&str> {
        match self {
            NetError::Invalid { field, .. } => Some(field),
            NetError::Syntax { .. } => None,
        }
    }
}

type Bad = (String, String);

impl Net {
    /// A network from processes and named connections `(sender, receiver)`,
    /// checked against `chip`. `origin` is shown in messages.
    pub fn new(
        chip: &Chip,
        processes: Vec<Process>,
        connections: &[(String, String)],
        origin: &str,
    ) -> Result<Net, NetError> {
        let invalid = |(field, message): Bad| NetError::Invalid {
            origin: origin.to_string(),
            field,
            message,
        };
        for (i, p) in processes.iter().enumerate() {
            check_process(chip, i, p).map_err(invalid)?;
            if processes[..i].iter().any(|q| q.name == p.name) {
                return Err(invalid((
                    format!("processes[{i}].name"),
                    format!("`{}` is used twice", p.name),
                )));
            }
        }
        let edges = resolve(&processes, connections).map_err(invalid)?;
        let order = upstream_order(&processes, &edges).map_err(invalid)?;
        Ok(Net {
            processes,
            connections: edges,
            order,
        })
    }

    /// The processes, in creation order.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// Connections as (sender, receiver) indices into [`Net::processes`].
    pub fn connections(&self) -> &[(usize, usize)] {
        &self.connections
    }

    /// Sources and neurons (not Dense/Sparse), every same-step sender before
    /// its receivers.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The index of the process called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.processes.iter().position(|p| p.name == name)
    }
}

fn label(i: usize, p: &Process) -> String {
    format!("processes[{i}] ({})", p.name)
}

fn within(field: String, v: i64, lo: i64, hi: i64) -> Result<(), Bad> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err((field, format!("{v} is outside {lo}..={hi}")))
    }
}

fn check_process(chip: &Chip, i: usize, p: &Process) -> Result<(), Bad> {
    let n = chip.numerics();
    let at = |f: &str| format!("{}.{f}", label(i, p));
    if p.name.is_empty() {
        return Err((format!("processes[{i}].name"), "is empty".into()));
    }
    let max = i64::try_from(chip.totals().neurons_per_chip).unwrap_or(i64::MAX);
    let width = |f: &str, w: usize| within(at(f), i64::try_from(w).unwrap_or(i64::MAX), 1, max);
    match &p.kind {
        Kind::Source(c) => width("shape", *c),
        Kind::Dense(c) | Kind::Sparse(c) => {
            width("shape[0]", c.outputs)?;
            width("shape[1]", c.inputs)?;
            check_conn(n, c, &at)
        }
        Kind::Lif(l) => {
            width("shape", l.neurons)?;
            within(at("du"), l.du.into(), 0, n.decay_max.into())?;
            within(at("dv"), l.dv.into(), 0, n.decay_max.into())?;
            within(at("vth"), l.vth.into(), 0, n.vth_max.into())?;
            per_neuron(
                &at("bias_mant"),
                l.neurons,
                &l.bias_mant,
                n.bias_mant_min,
                n.bias_mant_max,
            )?;
            per_neuron(&at("bias_exp"), l.neurons, &l.bias_exp, n.bias_exp_min, n.bias_exp_max)
        }
        Kind::Delta(s) | Kind::SigmaDelta(s) => {
            width("shape", s.neurons)?;
            within(at("vth"), s.vth, 0, n.sdn_vth_max)?;
            within(at("spike_exp"), s.spike_exp.into(), 0, n.sdn_exp_max.into())?;
            within(at("state_exp"), s.state_exp.into(), 0, n.sdn_exp_max.into())?;
            if s.bias.len() != s.neurons {
                return Err((
                    at("bias"),
                    format!("has {} values for {} neurons", s.bias.len(), s.neurons),
                ));
            }
            for (k, &b) in s.bias.iter().enumerate() {
                within(format!("{}[{k}]", at("bias")), b, -n.sdn_bias_max, n.sdn_bias_max)?;
            }
            Ok(())
        }
    }
}

fn check_conn(n: &Numerics, c: &Conn, at: &dyn Fn(&str) -> String) -> Result<(), Bad> {
    if c.weights.len() != c.outputs.saturating_mul(c.inputs) {
        return Err((
            at("weights"),
            format!("has {} values for shape [{}, {}]", c.weights.len(), c.outputs, c.inputs),
        ));
    }
    let wmax = (1i64 << (n.payload_bits - 1)) - 1;
    for (k, &w) in c.weights.iter().enumerate() {
        within(
            format!("{}[{}][{}]", at("weights"), k / c.inputs, k % c.inputs),
            w,
            -wmax - 1,
            wmax,
        )?;
    }
    within(
        at("weight_exp"),
        c.weight_exp.into(),
        n.weight_exp_min.into(),
        n.weight_exp_max.into(),
    )?;
    within(
        at("num_weight_bits"),
        c.num_weight_bits.into(),
        n.num_weight_bits_min.into(),
        n.num_weight_bits_max.into(),
    )?;
    within(
        at("num_message_bits"),
        c.num_message_bits.into(),
        0,
        n.num_message_bits_max.into(),
    )
}

fn per_neuron(field: &str, neurons: usize, vals: &[i32], lo: i32, hi: i32) -> Result<(), Bad> {
    if vals.len() != neurons {
        return Err((
            field.to_string(),
            format!("has {} values for {neurons} neurons", vals.len()),
        ));
    }
    for (k, &v) in vals.iter().enumerate() {
        within(format!("{field}[{k}]"), v.into(), lo.into(), hi.into())?;
    }
    Ok(())
}

fn resolve(processes: &[Process], connections: &[(String, String)]) -> Result<Vec<(usize, usize)>, Bad> {
    let find = |k: usize, side: usize, name: &str| {
        processes.iter().position(|p| p.name == name).ok_or_else(|| {
            (
                format!("connections[{k}][{side}]"),
                format!("no process is called `{name}`"),
            )
        })
    };
    let mut edges = Vec::with_capacity(connections.len());
    for (k, (s, d)) in connections.iter().enumerate() {
        let (si, di) = (find(k, 0, s)?, find(k, 1, d)?);
        let (sk, dk) = (&processes[si].kind, &processes[di].kind);
        if let Kind::Source(_) = dk {
            return Err((
                format!("connections[{k}][1]"),
                format!("`{d}` is a source: it takes no input"),
            ));
        }
        if sk.output_width() != dk.input_width() {
            return Err((
                format!("connections[{k}]"),
                format!(
                    "`{s}` sends {} values but `{d}` takes {}",
                    sk.output_width(),
                    dk.input_width()
                ),
            ));
        }
        if edges.contains(&(si, di)) {
            return Err((
                format!("connections[{k}]"),
                format!("`{s}` -> `{d}` is connected twice"),
            ));
        }
        edges.push((si, di));
    }
    Ok(edges)
}

/// Kahn's order over the same-step edges (those whose sender is not a
/// Dense/Sparse, between processes that are not Dense/Sparse); a cycle left
/// over has no Dense/Sparse to break it.
fn upstream_order(processes: &[Process], edges: &[(usize, usize)]) -> Result<Vec<usize>, Bad> {
    let same_step = |&(s, d): &(usize, usize)| !processes[s].kind.is_connection() && !processes[d].kind.is_connection();
    let mut indeg = vec![0usize; processes.len()];
    for e in edges.iter().filter(|e| same_step(e)) {
        indeg[e.1] += 1;
    }
    let nodes: Vec<usize> = (0..processes.len())
        .filter(|&i| !processes[i].kind.is_connection())
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    let mut done = vec![false; processes.len()];
    while order.len() < nodes.len() {
        // Lowest ready index first: creation order wherever it is valid.
        let Some(&next) = nodes.iter().find(|&&i| !done[i] && indeg[i] == 0) else {
            let left: Vec<&str> = nodes
                .iter()
                .filter(|&&i| !done[i])
                .map(|&i| processes[i].name.as_str())
                .collect();
            return Err((
                "connections".into(),
                format!("a cycle with no Dense/Sparse in it among {}", left.join(", ")),
            ));
        };
        done[next] = true;
        order.push(next);
        for e in edges.iter().filter(|e| same_step(e) && e.0 == next) {
            indeg[e.1] -= 1;
        }
    }
    Ok(order)
}
