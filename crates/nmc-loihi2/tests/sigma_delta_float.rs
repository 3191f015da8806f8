//! Sigma-delta networks against their float semantics (docs/loihi2.md §12).
//!
//! NIR has no sigma-delta node, so nmc defines one: a chain of sigma-delta
//! populations is a rate-free encoding of the ReLU network with the same
//! weights and biases, one step per Dense. The value a population
//! represents at step t is the running sum of its payloads scaled back to
//! float, `r(t) = Σ_{τ≤t} s_out(τ) · 2^−spike_exp`, and it must track
//!
//! ```text
//! y_0(t) = x(t),   y_k(0) = 0,   y_k(t) = ReLU(W_k · y_{k−1}(t − 1) + b_k)
//! ```
//!
//! i.e. the float network on the input of k steps earlier, within a bound
//! derived from the compiled parameters (`layer_bound`).
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;

use ndarray::Array2;
use nmc_ir::{Graph, GraphBuilder, Meta, Neuron, NeuronModel, Op, Shape, Tensor};
use nmc_loihi2::net::{Conn, Kind, Sdn};
use nmc_loihi2::{Chip, Input, Net, Record, compile, emu};

fn chip() -> Chip {
    Chip::builtin("loihi2").unwrap()
}

/// One Affine → sigma-delta layer of the float network.
#[derive(Clone)]
struct Layer {
    /// `[out, in]` row-major.
    w: Vec<f64>,
    b: Vec<f64>,
    inputs: usize,
    vth: i64,
    spike_exp: i64,
    state_exp: i64,
}

impl Layer {
    fn outputs(&self) -> usize {
        self.b.len()
    }

    /// `ReLU(W·x + b)`.
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        (0..self.outputs())
            .map(|j| {
                let z: f64 = (0..self.inputs).map(|i| self.w[j * self.inputs + i] * x[i]).sum();
                (z + self.b[j]).max(0.0)
            })
            .collect()
    }
}

/// The float ReLU network: the activations of every layer for input `x`.
fn forward(layers: &[Layer], x: &[f64]) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for l in layers {
        let y = l.apply(out.last().map_or(x, |v| v.as_slice()));
        out.push(y);
    }
    out
}

/// The float network pipelined one step per Dense: `[layer][step][neuron]`,
/// step t = 1..=T at index t − 1 (`xs[t − 1]` is the input of step t).
fn pipelined(layers: &[Layer], xs: &[Vec<f64>]) -> Vec<Vec<Vec<f64>>> {
    let mut prev: Vec<Vec<f64>> = xs.to_vec();
    let mut out = Vec::new();
    for l in layers {
        let zero = vec![0.0; l.inputs];
        let ys: Vec<Vec<f64>> = (0..xs.len())
            .map(|t| l.apply(if t == 0 { &zero } else { &prev[t - 1] }))
            .collect();
        out.push(ys.clone());
        prev = ys;
    }
    out
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u64) as i32
    }
}

fn random_layer(rng: &mut Rng, out: usize, inp: usize, int_bias: bool, exps: (i64, i64, i64)) -> Layer {
    let w = (0..out * inp).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let b = (0..out)
        .map(|_| {
            let b = rng.uniform(-4.0, 6.0);
            if int_bias { b.round() } else { b }
        })
        .collect();
    Layer {
        w,
        b,
        inputs: inp,
        vth: exps.0,
        spike_exp: exps.1,
        state_exp: exps.2,
    }
}

fn sd_meta(l: &Layer) -> BTreeMap<String, Meta> {
    BTreeMap::from([
        ("loihi2_neuron".to_string(), Meta::Str("sigma_delta".into())),
        ("spike_exp".to_string(), Meta::Int(l.spike_exp)),
        ("state_exp".to_string(), Meta::Int(l.state_exp)),
        ("vth".to_string(), Meta::Int(l.vth)),
    ])
}

/// Input → fc1 → sd1 → fc2 → sd2 → … → output.
fn graph(layers: &[Layer]) -> Graph {
    let mut b = GraphBuilder::new("sd_float");
    b.dt(1e-3);
    let shape = |n: usize| Shape::new([n]);
    b.node(
        "input",
        Op::Input {
            shape: shape(layers[0].inputs),
        },
        BTreeMap::new(),
    )
    .unwrap();
    let mut prev = "input".to_string();
    for (k, l) in layers.iter().enumerate() {
        let (fc, sd) = (format!("fc{}", k + 1), format!("sd{}", k + 1));
        let op = Op::Affine {
            weight: Tensor::new(Shape::new([l.outputs(), l.inputs]), l.w.clone()).unwrap(),
            bias: Some(Tensor::new(shape(l.outputs()), l.b.clone()).unwrap()),
        };
        b.node(&fc, op, BTreeMap::new()).unwrap();
        let n = Op::Neuron(Neuron::neutral(NeuronModel::I, shape(l.outputs())));
        b.node(&sd, n, sd_meta(l)).unwrap();
        b.edge(&prev, &fc).edge(&fc, &sd);
        prev = sd;
    }
    let out = layers.last().unwrap().outputs();
    b.node("output", Op::Output { shape: shape(out) }, BTreeMap::new())
        .unwrap();
    b.edge(&prev, "output");
    b.build().unwrap()
}

/// Integer inputs (the RingBuffer value is the float input): `[step][channel]`.
fn run(net: &Net, xs: &[Vec<f64>]) -> Record {
    let (ch, steps) = (xs[0].len(), xs.len());
    let mut data = Array2::<i32>::zeros((ch, steps));
    for (t, x) in xs.iter().enumerate() {
        for (c, &v) in x.iter().enumerate() {
            assert_eq!(v.fract(), 0.0, "inputs are integers");
            data[[c, t]] = v as i32;
        }
    }
    emu::run(&chip(), net, &Input::single(data), steps).unwrap()
}

fn sdn<'a>(net: &'a Net, name: &str) -> &'a Sdn {
    match &net.processes()[net.index_of(name).unwrap()].kind {
        Kind::SigmaDelta(s) => s,
        k => panic!("{name} is {k:?}"),
    }
}

fn dense<'a>(net: &'a Net, name: &str) -> &'a Conn {
    match &net.processes()[net.index_of(name).unwrap()].kind {
        Kind::Dense(c) => c,
        k => panic!("{name} is {k:?}"),
    }
}

/// Layer k's reconstruction `Σ s_out · 2^−spike_exp`: `[step][neuron]`.
fn reconstruct(rec: &Record, net: &Net, k: usize) -> Vec<Vec<f64>> {
    let name = format!("sd{}", k + 1);
    let s = sdn(net, &name);
    let tr = rec.get(&format!("{name}.s_out")).unwrap();
    let unit = 2f64.powi(-(s.spike_exp as i32));
    let mut acc = vec![0.0; tr.width];
    (0..tr.steps())
        .map(|t| {
            for (a, &p) in acc.iter_mut().zip(tr.row(t).unwrap()) {
                *a += p as f64 * unit;
            }
            acc.clone()
        })
        .collect()
}

/// For population `name` (a SigmaDelta, or the input's Delta): the steps in
/// which some neuron sent a non-zero pre-shift `s` (from act and residue:
/// `s = Δact + residue(t−1) − residue(t)`), and the most steps in which any
/// one neuron did.
fn send_steps(rec: &Record, name: &str) -> (usize, usize) {
    let act = rec.get(&format!("{name}.act")).unwrap();
    let res = rec.get(&format!("{name}.residue")).unwrap();
    let (w, steps) = (act.width, act.steps());
    let (mut any, mut per) = (0, vec![0usize; w]);
    for t in 0..steps {
        let mut sent = false;
        for (j, n) in per.iter_mut().enumerate() {
            let prev = |tr: &nmc_loihi2::Trace| if t == 0 { 0 } else { tr.data[(t - 1) * w + j] };
            let s = act.data[t * w + j] - prev(act) + prev(res) - res.data[t * w + j];
            if s != 0 {
                *n += 1;
                sent = true;
            }
        }
        any += usize::from(sent);
    }
    (any, per.into_iter().max().unwrap_or(0))
}

/// The terms of one layer's error bound, in float units.
#[derive(Debug)]
struct Bound {
    /// `vth` (the residue stays below it).
    vth: f64,
    /// `>> state_exp` drops < 2^−spike_exp per send (only if state_exp > 0).
    state_floor: f64,
    /// A negative `weight_exp` floors < 1 act unit per step with input.
    dense_floor: f64,
    /// Largest `|round(b) − b|`.
    bias: f64,
    /// Weight rounding (against the largest input) and the propagated
    /// error of the layer below, through the row sums.
    weights: f64,
}

impl Bound {
    fn total(&self) -> f64 {
        self.vth + self.state_floor + self.dense_floor + self.bias + self.weights
    }
}

/// The bound on `max_t |r_k(t) − y_k(t)|`, from the compiled Dense and
/// SigmaDelta of layer k, the float layer, `y_max` (the largest |value| of
/// each input of the layer in the float run) and `e_prev` (the bound of the
/// layer below; 0 for the graph input, which its Delta encodes exactly).
fn layer_bound(net: &Net, rec: &Record, layers: &[Layer], k: usize, y_max: &[f64], e_prev: f64) -> Bound {
    let l = &layers[k];
    let s = sdn(net, &format!("sd{}", k + 1));
    let c = dense(net, &format!("fc{}", k + 1));
    assert_eq!(
        (s.vth, s.spike_exp as i64, s.state_exp as i64),
        (l.vth, l.spike_exp, l.state_exp)
    );
    let act_scale = 2f64.powi((s.spike_exp + s.state_exp) as i32);
    let src_exp = if k == 0 {
        0
    } else {
        sdn(net, &format!("sd{k}")).spike_exp as i32
    };
    // Float weight of one integer weight: a payload of 1 is 2^−src_exp.
    let unit = 2f64.powi(c.weight_exp + src_exp) / act_scale;
    let wq: Vec<f64> = c.effective_weights().iter().map(|&m| m as f64 * unit).collect();
    let mut weights = 0.0f64;
    for j in 0..l.outputs() {
        let row: f64 = (0..l.inputs)
            .map(|i| {
                let q = j * l.inputs + i;
                (wq[q] - l.w[q]).abs() * (y_max[i] + e_prev) + l.w[q].abs() * e_prev
            })
            .sum();
        weights = weights.max(row);
    }
    let bias = (0..l.outputs())
        .map(|j| (s.bias[j] as f64 - l.b[j]).abs())
        .fold(0.0, f64::max);
    let sender = if k == 0 {
        "input:delta".to_string()
    } else {
        format!("sd{k}")
    };
    let (sender_steps, _) = send_steps(rec, &sender);
    let (_, own_sends) = send_steps(rec, &format!("sd{}", k + 1));
    // The floor loses nothing when every mantissa is a whole act unit.
    let exact = c.weight_exp >= 0 || c.effective_weights().iter().all(|m| m % (1 << -c.weight_exp) == 0);
    let dense_floor = if exact { 0.0 } else { sender_steps as f64 / act_scale };
    let state_floor = if s.state_exp > 0 {
        own_sends as f64 * 2f64.powi(-(s.spike_exp as i32))
    } else {
        0.0
    };
    let vth = s.vth as f64;
    Bound {
        vth,
        state_floor,
        dense_floor,
        bias,
        weights,
    }
}

/// Per layer: (max |r − y| over all steps, its bound, max |y|).
fn check(layers: &[Layer], xs: &[Vec<f64>]) -> Vec<(f64, Bound, f64)> {
    let (net, rep) = compile::compile(&graph(layers), &chip()).unwrap();
    eprintln!("{rep}");
    let rec = run(&net, xs);
    let ys = pipelined(layers, xs);
    let mut y_max: Vec<f64> = (0..layers[0].inputs)
        .map(|i| xs.iter().map(|x| x[i].abs()).fold(0.0, f64::max))
        .collect();
    let mut e_prev = 0.0;
    let mut out = Vec::new();
    for k in 0..layers.len() {
        let r = reconstruct(&rec, &net, k);
        let err = r
            .iter()
            .zip(&ys[k])
            .flat_map(|(a, b)| a.iter().zip(b).map(|(p, q)| (p - q).abs()))
            .fold(0.0, f64::max);
        let bound = layer_bound(&net, &rec, layers, k, &y_max, e_prev);
        y_max = (0..layers[k].outputs())
            .map(|j| ys[k].iter().map(|y| y[j].abs()).fold(0.0, f64::max))
            .collect();
        let top = y_max.iter().copied().fold(0.0, f64::max);
        eprintln!(
            "sd{}: max |r − y| = {err:.4}, bound {bound:?}, max |y| = {top:.2}",
            k + 1
        );
        e_prev = bound.total();
        out.push((err, bound, top));
    }
    out
}

/// `segments` random integer inputs in 0..=15, each held `hold` steps.
fn piecewise(rng: &mut Rng, ch: usize, segments: usize, hold: usize) -> Vec<Vec<f64>> {
    let mut xs = Vec::new();
    for _ in 0..segments {
        let x: Vec<f64> = (0..ch).map(|_| f64::from(rng.int(0, 15))).collect();
        xs.extend(std::iter::repeat_n(x, hold));
    }
    xs
}

/// A slow integer ramp per channel (0 → 15 and back, phase-shifted).
fn ramp(ch: usize, steps: usize) -> Vec<Vec<f64>> {
    (0..steps)
        .map(|t| {
            (0..ch)
                .map(|c| {
                    let p = (t / 3 + 5 * c) % 30;
                    (if p < 15 { p } else { 30 - p }) as f64
                })
                .collect()
        })
        .collect()
}

/// Every layer within its bound; with `informative`, the bound is also
/// below the largest activation it bounds (it says something).
fn assert_within(res: &[(f64, Bound, f64)], informative: bool) {
    for (k, (err, b, top)) in res.iter().enumerate() {
        assert!(err <= &b.total(), "sd{}: error {err} exceeds the bound {b:?}", k + 1);
        assert!(
            !informative || b.total() < *top,
            "sd{}: bound {} against max |y| {top}",
            k + 1,
            b.total()
        );
    }
}

/// 4 → 6 → 3, random weights, integer biases, vth 1: a held input
/// (constant after the latency) and a random piecewise-constant one.
#[test]
fn relu_4_6_3_tracks_the_float_network() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let layers = vec![
        random_layer(&mut rng, 6, 4, true, (1, 4, 0)),
        random_layer(&mut rng, 3, 6, true, (1, 4, 0)),
    ];
    // Constant input: after the latency of 2 the reconstruction stays at
    // ReLU(W2·ReLU(W1·x + b1) + b2) (an integrator would grow without end).
    let x = vec![9.0, 3.0, 14.0, 6.0];
    let xs = vec![x.clone(); 60];
    let res = check(&layers, &xs);
    assert_within(&res, true);
    let (net, _) = compile::compile(&graph(&layers), &chip()).unwrap();
    let r2 = reconstruct(&run(&net, &xs), &net, 1);
    let y = forward(&layers, &x);
    for t in [2, 10, 59] {
        for j in 0..3 {
            assert!(
                (r2[t][j] - y[1][j]).abs() <= res[1].1.total(),
                "step {t}: {:?} vs {:?}",
                r2[t],
                y[1]
            );
        }
    }
    assert_eq!(r2[20], r2[59], "settled: nothing is sent once the input holds");
    let xs = piecewise(&mut rng, 4, 8, 15);
    assert_within(&check(&layers, &xs), true);
}

/// Two sigma-delta layers with state_exp > 0 (its `>>` floor) and
/// non-integer biases (rounded to Lava's integer bias), on a slow ramp.
#[test]
fn chain_with_state_exp_and_rounded_biases_on_a_ramp() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let layers = vec![
        random_layer(&mut rng, 5, 3, false, (2, 6, 2)),
        random_layer(&mut rng, 4, 5, false, (1, 5, 1)),
    ];
    let res = check(&layers, &ramp(3, 150));
    assert_within(&res, true);
    assert!(res[0].1.bias > 0.0 && res[0].1.state_floor > 0.0, "{:?}", res[0].1);
}

/// 5 → 8 → 6 → 3 with weights in multiples of 1/4, integer biases and
/// spike_exp 2, 4, 6 (state_exp 0): every weight is a whole number of act
/// units, so no rounding or floor loses anything.
fn exact_layers(vth: i64) -> Vec<Layer> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    [(8, 5), (6, 8), (3, 6)]
        .iter()
        .enumerate()
        .map(|(k, &(o, i))| {
            let mut l = random_layer(&mut rng, o, i, true, (vth, 2 + 2 * k as i64, 0));
            for w in &mut l.w {
                *w = (*w * 4.0).round() / 4.0;
            }
            l
        })
        .collect()
}

/// With vth = 0, weights exact in 8 bits and integer biases, every term
/// of the bound is 0 and the chip computes the float ReLU network exactly;
/// each halving of vth lowers the error of the last layer.
#[test]
fn vth_zero_is_exact_and_halving_vth_lowers_the_error() {
    let xs = piecewise(&mut Rng(7), 5, 10, 12);
    let res = check(&exact_layers(0), &xs);
    for (k, (err, b, _)) in res.iter().enumerate() {
        assert_eq!((*err, b.total()), (0.0, 0.0), "sd{}: {b:?}", k + 1);
    }
    let mut last = f64::INFINITY;
    for vth in [8, 4, 2, 1, 0] {
        let res = check(&exact_layers(vth), &xs);
        assert_within(&res, false);
        let err = res.iter().map(|r| r.0).fold(0.0, f64::max);
        eprintln!("vth {vth}: max error over the layers {err:.4}");
        assert!(err < last, "vth {vth}: {err} is not below {last}");
        last = err;
    }
}

/// On a time-varying input each layer follows the float network on the
/// input of exactly k steps earlier: lag k fits exactly (vth 0, exact
/// weights), lags k ± 1 do not.
#[test]
fn the_lag_is_one_step_per_layer() {
    let layers = exact_layers(0);
    let xs = piecewise(&mut Rng(11), 5, 12, 6);
    let (net, _) = compile::compile(&graph(&layers), &chip()).unwrap();
    let rec = run(&net, &xs);
    for k in 0..layers.len() {
        let r = reconstruct(&rec, &net, k);
        let err = |lag: usize| {
            (lag + 1..xs.len())
                .map(|t| {
                    let y = &forward(&layers, &xs[t - lag])[k];
                    r[t].iter().zip(y).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
                })
                .fold(0.0, f64::max)
        };
        let lag = k + 1;
        assert_eq!(err(lag), 0.0, "sd{}: lag {lag}", k + 1);
        assert!(
            err(lag - 1) > 1.0 && err(lag + 1) > 1.0,
            "sd{}: {} {}",
            k + 1,
            err(lag - 1),
            err(lag + 1)
        );
    }
}
