//! Random quantized models for `tiny`, built directly from the qmodel types:
//! event or real-valued (host-encoded) inputs, dense, sparse and conv maps,
//! recurrent (self and feedback) connections, non-spiking read-outs, host
//! readouts (dense or sparse f64 maps of 1–2 chip layers, filtered or not),
//! float host layers (the encoder in f64, dense or sparse, exact, Euler or
//! nengo rule, CubaLIF or LIF), and
//! sizes that spread the chip layers over several cores and chips. Every
//! model is legal and fits `tiny`; `Features` says what a model exercises,
//! so tests can assert that the generator reached each case.
#![allow(dead_code, clippy::unwrap_used)]

use ndarray::Array3;
use nmc_ir::qmodel::{
    Compartment, InputEncoding, PerNeuron, Placement, QConnection, QInput, QMODEL_SCHEMA_VERSION, QModel, QOutput,
    QPopulation, QReadout, QReadoutConnection, QWeights, ReadoutFilter, ReadoutWeights, Source,
};
use nmc_ir::{NeuronModel, Shape};
use nmc_reference::Stimulus;
use nmc_target::Target;

/// splitmix64, driven by a proptest seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.range(0, xs.len() as i64 - 1) as usize]
    }
}

/// What a generated model contains (by construction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    pub host_encoder: bool,
    pub non_spiking: bool,
    pub dense: bool,
    pub sparse: bool,
    pub conv: bool,
    /// A self-connection or a connection from a later population.
    pub recurrent: bool,
    /// A host readout (f64, from chip spikes).
    pub host_readout: bool,
    /// A float host layer (the encoder in f64).
    pub float_host: bool,
}

/// A model, a stimulus and the number of steps to run.
pub struct Case {
    pub model: QModel,
    pub stim: Stimulus,
    pub steps: usize,
    pub features: Features,
}

/// `count` mantissas legal at `exp` in a mixed-sign format (hence in any),
/// a fraction `zeros` of them 0, the rest biased positive by `bias`.
fn mantissas(rng: &mut Rng, t: &Target, exp: i32, count: usize, zeros: f64, bias: f64) -> Vec<i16> {
    let w = t.formats().weight();
    let step = w.mantissa_step(exp, true);
    let units = w.max_abs_mantissa(exp, true) / step;
    (0..count)
        .map(|_| {
            if rng.chance(zeros) {
                0
            } else {
                let mag = rng.range(units / 4, units);
                let sign = if rng.chance(bias) { 1 } else { -1 };
                (sign * mag * step) as i16
            }
        })
        .collect()
}

/// A per-neuron value with at most two distinct values (so a core's
/// profile and threshold tables never overflow).
fn two_valued<T: Copy>(rng: &mut Rng, n: usize, a: T, b: T) -> PerNeuron<T> {
    if rng.chance(0.5) {
        PerNeuron::Uniform(a)
    } else {
        PerNeuron::Each((0..n).map(|i| if i % 3 == 0 { b } else { a }).collect())
    }
}

fn compartment(rng: &mut Rng, n: usize, spiking: bool) -> Compartment {
    let du = rng.pick(&[4095u16, 3500, 2048]);
    let du2 = rng.pick(&[4095u16, 1000]);
    let vth = rng.range(60, 400) as i32;
    let refr = rng.range(0, 3) as u8;
    Compartment {
        decay_u: two_valued(rng, n, du, du2),
        decay_v: PerNeuron::Uniform(rng.pick(&[0u16, 100, 800])),
        vth_mant: two_valued(rng, n, vth, vth + 37),
        bias_mant: if rng.chance(0.5) {
            PerNeuron::Uniform(0)
        } else {
            PerNeuron::Each((0..n).map(|_| rng.range(-30, 60) as i32).collect())
        },
        bias_exp: PerNeuron::Uniform(rng.range(0, 3) as u8),
        refractory: two_valued(rng, n, refr, 5),
        vmin_exp: rng.pick(&[31u8, 23, 10, 0]),
        vmax_exp: rng.pick(&[7u8, 6]),
        spiking,
    }
}

fn connection(source: Source, latency: u32, weight_exp: i8, weights: QWeights) -> QConnection {
    QConnection {
        source,
        latency,
        weight_exp,
        weights,
        folded_from: vec![],
    }
}

fn dense(rng: &mut Rng, t: &Target, out: usize, inp: usize, exp: i32) -> QWeights {
    QWeights::Dense {
        out,
        inp,
        mant: mantissas(rng, t, exp, out * inp, 0.4, 0.7),
    }
}

fn sparse(rng: &mut Rng, t: &Target, out: usize, inp: usize, exp: i32, density: f64, bias: f64) -> QWeights {
    let mut row_ptr = vec![0u32];
    let mut col = vec![];
    for _ in 0..out {
        for j in 0..inp {
            if rng.chance(density) {
                col.push(j as u32);
            }
        }
        row_ptr.push(col.len() as u32);
    }
    let mant = mantissas(rng, t, exp, col.len(), 0.0, bias);
    QWeights::Sparse {
        out,
        inp,
        row_ptr,
        col,
        mant,
    }
}

/// A 3×3 (or 2×2) convolution of `src` (`[C, H, W]`) and its output shape.
fn conv(rng: &mut Rng, t: &Target, s: [usize; 3], exp: i32) -> (QWeights, [usize; 3]) {
    let k = rng.range(2, 3) as usize;
    let stride = rng.range(1, 2) as usize;
    let pad = rng.range(0, 1) as usize;
    let groups = if s[0] == 2 && rng.chance(0.3) { 2 } else { 1 };
    let cout = groups * rng.range(1, 2) as usize;
    let oh = (s[1] + 2 * pad - k) / stride + 1;
    let ow = (s[2] + 2 * pad - k) / stride + 1;
    let out = [cout, oh, ow];
    let mant = mantissas(rng, t, exp, cout * (s[0] / groups) * k * k, 0.2, 0.75);
    let w = QWeights::Conv2d {
        in_shape: s,
        out_shape: out,
        kernel: [k, k],
        stride: [stride, stride],
        padding: [pad, pad],
        dilation: [1, 1],
        groups,
        mant,
    };
    (w, out)
}

fn population(
    name: String,
    shape: Vec<usize>,
    placement: Placement,
    c: Compartment,
    inputs: Vec<QConnection>,
) -> QPopulation {
    QPopulation {
        name,
        model: if c.spiking {
            NeuronModel::CubaLif
        } else {
            NeuronModel::CubaLi
        },
        shape: Shape::new(shape),
        placement,
        compartment: c,
        inputs,
        scale: 1.0,
        float: None,
    }
}

/// A random legal model for `t` (`tiny`'s sizes) and its stimulus.
pub fn random_case(seed: u64, t: &Target) -> Case {
    let rng = &mut Rng(seed);
    let chip_lat = t.timing().synapse_delay_steps();
    let host_lat = t.timing().host_input_delay_steps();
    let mut f = Features::default();
    let mut pops: Vec<QPopulation> = vec![];
    let real = rng.chance(0.4);
    let spatial = rng.chance(0.5);
    let in_shape: Vec<usize> = if spatial {
        vec![
            rng.range(1, 2) as usize,
            rng.range(4, 6) as usize,
            rng.range(4, 6) as usize,
        ]
    } else {
        vec![rng.range(6, 16) as usize]
    };
    let n_in: usize = in_shape.iter().product();
    let encoding = if real {
        InputEncoding::Real {
            frac_bits: rng.range(3, 7) as u8,
            bits: rng.range(8, 16) as u8,
        }
    } else {
        InputEncoding::Events
    };
    // (source, its [C,H,W] view, latency of a chip connection reading it)
    let mut prev = (Source::Input(0), view(&in_shape), host_lat);
    if real {
        f.host_encoder = true;
        // The host encoder: a 1×1 conv (spatial input) or a dense map.
        let (w, shape) = if spatial {
            let c = in_shape[0];
            let cout = rng.range(1, 2) as usize;
            let w = QWeights::Conv2d {
                in_shape: [c, in_shape[1], in_shape[2]],
                out_shape: [cout, in_shape[1], in_shape[2]],
                kernel: [1, 1],
                stride: [1, 1],
                padding: [0, 0],
                dilation: [1, 1],
                groups: 1,
                mant: mantissas(rng, t, 0, cout * c, 0.0, 1.0),
            };
            (w, vec![cout, in_shape[1], in_shape[2]])
        } else {
            let out = rng.range(8, 24) as usize;
            (dense(rng, t, out, n_in, 0), vec![out])
        };
        let c = compartment(rng, shape.iter().product(), true);
        pops.push(population(
            "enc".into(),
            shape.clone(),
            Placement::Host,
            c,
            vec![connection(Source::Input(0), 0, 0, w)],
        ));
        prev = (Source::Population(0), view(&shape), host_lat);
    }
    let layers = rng.range(1, 3) as usize;
    for l in 0..layers {
        let k = pops.len();
        let (src, s, lat) = prev;
        let src_n: usize = s.iter().product();
        let exp = rng.range(-1, 1) as i32;
        let (w, shape) = if s[1] > 2 && s[2] > 2 && rng.chance(0.6) {
            f.conv = true;
            let (w, o) = conv(rng, t, s, exp);
            (w, o.to_vec())
        } else if rng.chance(0.5) {
            f.dense = true;
            let out = rng.range(8, 36) as usize;
            (dense(rng, t, out, src_n, exp), vec![out])
        } else {
            f.sparse = true;
            let out = rng.range(8, 36) as usize;
            (sparse(rng, t, out, src_n, exp, 0.4, 0.75), vec![out])
        };
        let n: usize = shape.iter().product();
        let last = l + 1 == layers;
        let spiking = !(last && rng.chance(0.4));
        f.non_spiking |= !spiking;
        let mut conns = vec![connection(src, lat, exp as i8, w)];
        if spiking && n <= 40 && rng.chance(0.4) {
            f.recurrent = true;
            f.sparse = true;
            conns.push(connection(
                Source::Population(k),
                chip_lat,
                0,
                sparse(rng, t, n, n, 0, 0.08, 0.3),
            ));
        }
        let c = compartment(rng, n, spiking);
        pops.push(population(format!("p{k}"), shape.clone(), Placement::Chip, c, conns));
        prev = (Source::Population(k), view(&shape), chip_lat);
    }
    // Feedback: the last spiking chip layer into the first chip layer.
    let first_chip = usize::from(real);
    let last = pops.len() - 1;
    if last > first_chip && pops[last].compartment.spiking && rng.chance(0.5) {
        f.recurrent = true;
        f.sparse = true;
        let (out, inp) = (pops[first_chip].shape.numel(), pops[last].shape.numel());
        let w = sparse(rng, t, out, inp, 0, 0.1, 0.4);
        pops[first_chip]
            .inputs
            .push(connection(Source::Population(last), chip_lat, 0, w));
    }
    let outputs = vec![QOutput {
        name: "out".into(),
        source: Source::Population(last),
    }];
    // Drawn from their own stream, so the rest of each seed's case is unchanged.
    let readouts = host_readouts(&mut Rng(seed ^ 0x05EE_D0F4_EAD0_u64), t, &pops);
    f.host_readout = !readouts.is_empty();
    if real {
        let rng = &mut Rng(seed ^ 0x0F10_A7F1_0A7F_u64);
        if rng.chance(0.7) {
            f.float_host = true;
            pops[0].float = Some(float_host(rng, n_in, &pops[0].shape));
        }
    }
    let model = QModel {
        schema_version: QMODEL_SCHEMA_VERSION,
        name: format!("random{seed}"),
        target: t.name().into(),
        dt: 1e-3,
        inputs: vec![QInput {
            name: "in".into(),
            shape: Shape::new(in_shape),
            encoding,
        }],
        populations: pops,
        outputs,
        readouts,
    };
    model.check().unwrap();
    let (batch, t_len) = (rng.range(1, 2) as usize, rng.range(6, 14) as usize);
    let mut x = Array3::<f64>::zeros((batch, t_len, n_in));
    for v in x.iter_mut() {
        *v = if real {
            rng.range(-50, 200) as f64 / 100.0
        } else if rng.chance(0.35) {
            rng.range(1, 2) as f64
        } else {
            0.0
        };
    }
    Case {
        model,
        stim: Stimulus::new(x).unwrap(),
        steps: t_len + 6,
        features: f,
    }
}

/// A float host layer of `shape` reading `n_in` real values: dense or
/// sparse f64 weights, a bias, a LIF or CubaLIF population under a random
/// rule (exact, Euler or nengo's), refractory 0–3 ms, floor 0 or none.
fn float_host(rng: &mut Rng, n_in: usize, shape: &Shape) -> nmc_ir::qmodel::FloatHost {
    let n = shape.numel();
    let val = |rng: &mut Rng, lo: i64, hi: i64| rng.range(lo, hi) as f64 / 100.0;
    let w: Vec<f64> = (0..n * n_in).map(|_| val(rng, -60, 120)).collect();
    let weights = if rng.chance(0.5) {
        ReadoutWeights::Dense { out: n, inp: n_in, w }
    } else {
        let (mut row_ptr, mut col, mut ws) = (vec![0u32], vec![], vec![]);
        for o in 0..n {
            for j in 0..n_in {
                if rng.chance(0.5) {
                    col.push(j as u32);
                    ws.push(w[o * n_in + j]);
                }
            }
            row_ptr.push(col.len() as u32);
        }
        ReadoutWeights::Sparse {
            out: n,
            inp: n_in,
            row_ptr,
            col,
            w: ws,
        }
    };
    let cuba = rng.chance(0.3);
    let model = if cuba { NeuronModel::CubaLif } else { NeuronModel::Lif };
    let mut p = nmc_ir::Neuron::neutral(model, shape.clone());
    for j in 0..n {
        p.tau_mem[j] = val(rng, 1, 5) / 10.0;
        p.r[j] = val(rng, 50, 300);
        if cuba {
            p.tau_syn[j] = val(rng, 1, 3) / 100.0;
            p.w_in[j] = 1.0;
        }
    }
    p.refractory = rng.range(0, 3) as f64 * 1e-3;
    p.v_min = if rng.chance(0.5) { 0.0 } else { f64::NEG_INFINITY };
    let disc = rng.pick(&[
        nmc_ir::Discretization::Exact,
        nmc_ir::Discretization::Euler,
        nmc_ir::Discretization::Nengo,
    ]);
    nmc_ir::qmodel::FloatHost {
        weights,
        bias: (0..n).map(|_| val(rng, -50, 50)).collect(),
        neuron: nmc_ir::qmodel::FloatNeuron::from(&p.float_step(1e-3, disc)),
    }
}

/// With probability 0.6, one host readout of 1–2 spiking chip populations:
/// dense or sparse f64 weights, a bias, a lowpass half the time.
fn host_readouts(rng: &mut Rng, t: &Target, pops: &[QPopulation]) -> Vec<QReadout> {
    let chip: Vec<usize> = (0..pops.len())
        .filter(|&k| pops[k].placement == Placement::Chip && pops[k].compartment.spiking)
        .collect();
    if chip.is_empty() || !rng.chance(0.6) {
        return Vec::new();
    }
    let latency = t.timing().host_output_delay_steps().unwrap();
    let n = rng.range(1, 12) as usize;
    let real = |rng: &mut Rng| rng.range(-1000, 1000) as f64 / 997.0;
    let mut inputs = Vec::new();
    for _ in 0..rng.range(1, 2.min(chip.len() as i64)) {
        let k = rng.pick(&chip);
        let inp = pops[k].shape.numel();
        let weights = if rng.chance(0.5) {
            ReadoutWeights::Dense {
                out: n,
                inp,
                w: (0..n * inp).map(|_| real(rng)).collect(),
            }
        } else {
            let (mut row_ptr, mut col, mut w) = (vec![0u32], Vec::new(), Vec::new());
            for _ in 0..n {
                for j in 0..inp {
                    if rng.chance(0.3) {
                        col.push(j as u32);
                        w.push(real(rng));
                    }
                }
                row_ptr.push(col.len() as u32);
            }
            ReadoutWeights::Sparse {
                out: n,
                inp,
                row_ptr,
                col,
                w,
            }
        };
        inputs.push(QReadoutConnection {
            source: Source::Population(k),
            latency,
            weights,
            folded_from: Vec::new(),
        });
    }
    let filter = rng.chance(0.5).then(|| {
        let tau = rng.range(2, 200) as f64 * 1e-3;
        let decay = (-1e-3 / tau).exp();
        ReadoutFilter {
            tau,
            decay,
            gain: -(-1e-3f64 / tau).exp_m1(),
        }
    });
    vec![QReadout {
        name: "ro".into(),
        output: "ro_out".into(),
        shape: Shape::new(vec![n]),
        inputs,
        bias: (0..n).map(|_| real(rng) * 0.1).collect(),
        filter,
    }]
}

fn view(shape: &[usize]) -> [usize; 3] {
    match shape {
        [c, h, w] => [*c, *h, *w],
        _ => [shape.iter().product(), 1, 1],
    }
}
