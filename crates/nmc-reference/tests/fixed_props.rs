#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]
//! Property tests on random small QModels (dense, conv and sparse
//! connections, recurrent and skip connections, random legal parameters) for
//! `loihi1` and `tiny`:
//! * the probed state never leaves the declared registers (`q`, `u`) and
//!   `[vmin, vmax]` (`v`); the interpreter also debug-asserts this for every
//!   neuron and step;
//! * strict mode fails exactly when the lenient run counts an overflow, and
//!   names the earliest one (population, neuron, step, register);
//! * results are deterministic across runs and rayon thread counts.

mod fixed_common;

use fixed_common::*;
use ndarray::Array3;
use nmc_ir::Shape;
use nmc_ir::qmodel::{
    Compartment, InputEncoding, PerNeuron, Placement, QConnection, QInput, QModel, QPopulation, QWeights, Source,
};
use nmc_reference::Stimulus;
use nmc_reference::fixed::{FixedError, FixedOptions, FixedResult, simulate_fixed};
use nmc_target::Target;
use nmc_trace::OverflowEvent;
use proptest::prelude::*;

/// splitmix64: a tiny deterministic generator driven by proptest's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn per<T: Copy>(rng: &mut Rng, n: usize, mut f: impl FnMut(&mut Rng) -> T) -> PerNeuron<T> {
    if rng.chance(0.5) {
        PerNeuron::Uniform(f(rng))
    } else {
        PerNeuron::Each((0..n).map(|_| f(rng)).collect())
    }
}

fn random_compartment(rng: &mut Rng, n: usize, hot: bool, spiking: bool) -> Compartment {
    Compartment {
        decay_u: per(rng, n, |r| if r.chance(0.3) { 4095 } else { r.range(0, 4095) as u16 }),
        decay_v: per(rng, n, |r| if r.chance(0.2) { 0 } else { r.range(0, 4095) as u16 }),
        vth_mant: per(rng, n, |r| {
            if hot {
                r.range(1, (1 << 17) - 1) as i32
            } else {
                r.range(1, 100) as i32
            }
        }),
        bias_mant: per(rng, n, |r| {
            if hot {
                r.range(-4095, 4095) as i32
            } else {
                r.range(-40, 60) as i32
            }
        }),
        bias_exp: per(rng, n, |r| r.range(0, 7) as u8),
        refractory: per(rng, n, |r| r.range(0, 5) as u8),
        vmin_exp: if hot { rng.range(0, 31) } else { rng.range(16, 31) } as u8,
        vmax_exp: if hot { rng.range(0, 7) } else { rng.range(5, 7) } as u8,
        spiking,
    }
}

/// A random weight exponent (large ones when `hot`).
fn random_exp(rng: &mut Rng, hot: bool) -> i32 {
    if hot {
        rng.range(3, 7) as i32
    } else if rng.chance(0.2) {
        rng.range(-7, -1) as i32
    } else {
        rng.range(0, 4) as i32
    }
}

/// `count` random mantissas legal at `exp` in a mixed-sign format (hence in
/// any format), about 30% zeros.
fn random_mantissas(rng: &mut Rng, t: &Target, exp: i32, count: usize) -> Vec<i16> {
    let w = t.formats().weight();
    let step = w.mantissa_step(exp, true);
    let units = w.max_abs_mantissa(exp, true) / step;
    (0..count)
        .map(|_| {
            if rng.chance(0.3) {
                0
            } else {
                (rng.range(-units, units) * step) as i16
            }
        })
        .collect()
}

/// A random dense or sparse connection `src_shape → dst`.
fn random_conn(
    rng: &mut Rng,
    t: &Target,
    src: Source,
    src_shape: [usize; 3],
    dst: [usize; 3],
    latency: u32,
    hot: bool,
) -> QConnection {
    let (inp, out) = (src_shape.iter().product::<usize>(), dst.iter().product::<usize>());
    let exp = random_exp(rng, hot);
    let weights = if rng.chance(0.4) {
        QWeights::Dense {
            out,
            inp,
            mant: random_mantissas(rng, t, exp, out * inp),
        }
    } else {
        let mut row_ptr = vec![0u32];
        let mut col = vec![];
        for _ in 0..out {
            for j in 0..inp {
                if rng.chance(0.35) {
                    col.push(j as u32);
                }
            }
            row_ptr.push(col.len() as u32);
        }
        let mant = random_mantissas(rng, t, exp, col.len());
        QWeights::Sparse {
            out,
            inp,
            row_ptr,
            col,
            mant,
        }
    };
    QConnection {
        source: src,
        latency,
        weight_exp: exp as i8,
        weights,
        folded_from: vec![],
    }
}

/// A random convolution from `src` (`[C, H, W]`), and its output shape.
fn random_conv(
    rng: &mut Rng,
    t: &Target,
    src: Source,
    s: [usize; 3],
    lat: u32,
    hot: bool,
) -> (QConnection, [usize; 3]) {
    let groups = if s[0] == 2 && rng.chance(0.5) { 2 } else { 1 };
    let cout = groups * rng.range(1, 2) as usize;
    let mut geom = [(0usize, 0usize, 0usize, 0usize, 0usize); 2];
    for (i, g) in geom.iter_mut().enumerate() {
        let len = s[i + 1];
        loop {
            let k = rng.range(1, 3) as usize;
            let d = rng.range(1, 2) as usize;
            let p = rng.range(0, 1) as usize;
            let st = rng.range(1, 2) as usize;
            let eff = d * (k - 1) + 1;
            if len + 2 * p >= eff {
                *g = (k, d, p, st, (len + 2 * p - eff) / st + 1);
                break;
            }
        }
    }
    let out = [cout, geom[0].4, geom[1].4];
    let kernel = [geom[0].0, geom[1].0];
    let count = cout * (s[0] / groups) * kernel[0] * kernel[1];
    let exp = random_exp(rng, hot);
    let mant = random_mantissas(rng, t, exp, count);
    let c = QConnection {
        source: src,
        latency: lat,
        weight_exp: exp as i8,
        weights: QWeights::Conv2d {
            in_shape: s,
            out_shape: out,
            kernel,
            stride: [geom[0].3, geom[1].3],
            padding: [geom[0].2, geom[1].2],
            dilation: [geom[0].1, geom[1].1],
            groups,
            mant,
        },
        folded_from: vec![],
    };
    (c, out)
}

/// A random model for `t` and a random stimulus (batch 3).
fn random_case(seed: u64, t: &Target, hot: bool) -> (QModel, Stimulus) {
    let rng = &mut Rng(seed);
    let in_shape = [
        rng.range(1, 2) as usize,
        rng.range(2, 4) as usize,
        rng.range(2, 4) as usize,
    ];
    let real = rng.chance(0.3);
    let host_lat = t.timing().host_input_delay_steps();
    let chip_lat = t.timing().synapse_delay_steps();
    let mut pops: Vec<QPopulation> = vec![];
    let mut shapes: Vec<[usize; 3]> = vec![];
    let mut prev = (Source::Input(0), in_shape, host_lat);
    if real {
        // A host encoder reads the real-valued input in the same step.
        let conn = random_conn(rng, t, Source::Input(0), in_shape, in_shape, 0, hot);
        let c = random_compartment(rng, in_shape.iter().product(), hot, true);
        pops.push(population("enc", &in_shape, Placement::Host, c, vec![conn]));
        shapes.push(in_shape);
        prev = (Source::Population(0), in_shape, host_lat);
    }
    let layers = rng.range(1, 3) as usize;
    for l in 0..layers {
        let k = pops.len();
        let (src, src_shape, lat) = prev;
        let (first, shape) = if rng.chance(0.5) {
            random_conv(rng, t, src, src_shape, lat, hot)
        } else {
            let shape = [1, rng.range(1, 3) as usize, rng.range(1, 3) as usize];
            (random_conn(rng, t, src, src_shape, shape, lat, hot), shape)
        };
        let n: usize = shape.iter().product();
        let last = l + 1 == layers;
        let spiking = !(last && rng.chance(0.3));
        let mut conns = vec![first];
        if spiking && rng.chance(0.4) {
            // Recurrent (the chip's one latency: validation allows no other).
            conns.push(random_conn(rng, t, Source::Population(k), shape, shape, chip_lat, hot));
        }
        if k >= 1 && rng.chance(0.3) {
            // A skip connection from an earlier population (the host
            // encoder's spikes take the host latency).
            let j = rng.range(0, k as i64 - 1) as usize;
            let lat = if pops[j].placement == Placement::Host {
                host_lat
            } else {
                chip_lat
            };
            conns.push(random_conn(rng, t, Source::Population(j), shapes[j], shape, lat, hot));
        }
        let c = random_compartment(rng, n, hot, spiking);
        pops.push(population(&format!("p{k}"), &shape, Placement::Chip, c, conns));
        shapes.push(shape);
        prev = (Source::Population(k), shape, chip_lat);
    }
    let encoding = if real {
        InputEncoding::Real {
            frac_bits: rng.range(0, 6) as u8,
            bits: rng.range(2, 12) as u8,
        }
    } else {
        InputEncoding::Events
    };
    let input = QInput {
        name: "in".into(),
        shape: Shape::new(in_shape.to_vec()),
        encoding,
    };
    let m = model(t.name(), vec![input], pops);
    m.check().unwrap();
    let (batch, steps, f) = (3, rng.range(8, 20) as usize, in_shape.iter().product::<usize>());
    let mut x = Array3::<f64>::zeros((batch, steps, f));
    for v in x.iter_mut() {
        *v = if real {
            (rng.range(-400, 400) as f64) / 100.0
        } else if rng.chance(0.3) {
            rng.range(1, if hot { 4 } else { 2 }) as f64
        } else {
            0.0
        };
    }
    (m, Stimulus::new(x).unwrap())
}

fn run(
    m: &QModel,
    t: &Target,
    s: &Stimulus,
    steps: Option<usize>,
    strict: bool,
    probe: Option<(usize, usize, usize)>,
) -> Result<FixedResult, FixedError> {
    simulate_fixed(m, t, s, &FixedOptions { steps, strict, probe })
}

fn check_case(seed: u64, target: &str, hot: bool) {
    let t = Target::builtin(target).unwrap();
    let (m, s) = random_case(seed, &t, hot);
    let total_steps = s.steps() + 5; // also tiles the stimulus
    let f = t.formats();
    let (acc, cur) = (f.accumulator(), f.current());
    let vf = f.voltage();

    // Registers: probe one neuron of every population in one batch item.
    let base = run(&m, &t, &s, Some(total_steps), false, None).unwrap();
    let mut rng = Rng(seed ^ 0xA5A5);
    for (k, p) in m.populations.iter().enumerate() {
        let n = p.shape.numel();
        let probe = (k, rng.range(0, n as i64 - 1) as usize, rng.range(0, 2) as usize);
        let r = run(&m, &t, &s, Some(total_steps), false, Some(probe)).unwrap();
        assert_eq!(r.trace, base.trace, "a probe does not change the run");
        assert_eq!(r.probe.len(), total_steps);
        let c = &p.compartment;
        let vmin = vf.vmin(u32::from(c.vmin_exp)).unwrap();
        let vmax = vf.vmax(u32::from(c.vmax_exp)).unwrap();
        let vth = f
            .threshold()
            .value(i64::from(c.vth_mant.expand(n).get(probe.1).copied().unwrap_or(1)))
            .unwrap();
        for (step, st) in r.probe.iter().enumerate() {
            assert!((acc.min()..=acc.max()).contains(&st.q), "q {} at step {step}", st.q);
            assert!((cur.min()..=cur.max()).contains(&st.u), "u {} at step {step}", st.u);
            assert!(
                (vmin..=vmax).contains(&st.v),
                "v {} outside [{vmin}, {vmax}] at step {step}",
                st.v
            );
            if c.spiking {
                assert!(st.v <= vth, "v {} above vth {vth} after the step", st.v);
            }
            assert_eq!(
                st.spiked,
                r.trace.spiked(k, probe.2, step, probe.1),
                "probe and layer agree on spikes"
            );
        }
    }

    // Strict mode.
    let total = base.trace.total_overflows();
    match run(&m, &t, &s, Some(total_steps), true, None) {
        Ok(r) => {
            assert_eq!(total, 0, "strict succeeded although {total} overflows were counted");
            assert_eq!(r, base);
        }
        Err(FixedError::Overflow(e)) => {
            assert!(total > 0, "strict failed without counted overflows");
            assert_eq!(
                Some(&e),
                base.trace.first_overflow.as_ref(),
                "strict stops at the first overflow"
            );
            let OverflowEvent {
                layer: population,
                neuron,
                step,
                register,
                exact,
                stored,
                ..
            } = e;
            let population_index = m.populations.iter().position(|p| p.name == population).unwrap();
            assert!(neuron < m.populations[population_index].shape.numel());
            assert_ne!(exact, i128::from(stored));
            if step > 0 {
                let before = run(&m, &t, &s, Some(step), false, None).unwrap();
                assert_eq!(
                    before.trace.total_overflows(),
                    0,
                    "the reported overflow at step {step} is the first"
                );
            }
            let upto = run(&m, &t, &s, Some(step + 1), false, None).unwrap();
            let count = upto.trace.layers[population_index].overflows.get(register);
            assert!(count > 0, "{register} of `{population}` overflows by step {step}");
        }
        Err(e) => panic!("unexpected error {e}"),
    }

    // Determinism: again, and on pools of 1 and 2 threads.
    let again = run(&m, &t, &s, Some(total_steps), false, None).unwrap();
    assert_eq!(again, base);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let r = pool.install(|| run(&m, &t, &s, Some(total_steps), false, Some((0, 0, 2))).unwrap());
        assert_eq!(r.trace, base.trace, "{threads} threads");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_models_on_loihi1(seed in any::<u64>(), hot in any::<bool>()) {
        check_case(seed, "loihi1", hot);
    }

    #[test]
    fn random_models_on_tiny(seed in any::<u64>(), hot in any::<bool>()) {
        check_case(seed, "tiny", hot);
    }
}

/// The generator reaches what the properties are about: models with and
/// without overflows (both strict branches), models whose every layer
/// spikes, real inputs and convolutions.
#[test]
fn the_generator_reaches_both_branches() {
    let t = loihi1();
    let mut with = 0;
    let mut without = 0;
    let mut active = 0;
    let mut real = 0;
    let mut conv = 0;
    for seed in 0..40u64 {
        for hot in [false, true] {
            let (m, s) = random_case(seed, &t, hot);
            let r = run(&m, &t, &s, None, false, None).unwrap();
            if r.trace.layers.iter().filter(|l| l.spiking()).all(|l| l.total() > 0) {
                active += 1;
            }
            if matches!(m.inputs[0].encoding, InputEncoding::Real { .. }) {
                real += 1;
            }
            if m.populations
                .iter()
                .any(|p| p.inputs.iter().any(|c| matches!(c.weights, QWeights::Conv2d { .. })))
            {
                conv += 1;
            }
            if r.trace.total_overflows() > 0 {
                with += 1;
            } else {
                without += 1;
            }
        }
    }
    eprintln!("overflows: with {with}, without {without}; all layers spike: {active}; real: {real}; conv: {conv}");
    assert!(with >= 5 && without >= 5, "with {with}, without {without}");
    assert!(active >= 20, "only {active} of 80 models spike in every layer");
    assert!(real >= 10 && conv >= 10, "real {real}, conv {conv}");
}

/// The same connection as a dense `[out, in]` matrix: conv by the gather
/// formula `out[co, oy, ox] += W[co, ci − g·C_in/G, ky, kx] · in[ci, oy·s − p + ky·d, ox·s − p + kx·d]`,
/// sparse by its rows. Each dense entry receives at most one mantissa.
fn to_dense(w: &QWeights) -> QWeights {
    let (out, inp) = w.dims();
    let mut mant = vec![0i16; out * inp];
    match w {
        QWeights::Dense { .. } => return w.clone(),
        QWeights::Sparse {
            row_ptr, col, mant: m, ..
        } => {
            for d in 0..out {
                for e in row_ptr[d] as usize..row_ptr[d + 1] as usize {
                    mant[d * inp + col[e] as usize] = m[e];
                }
            }
        }
        QWeights::Conv2d {
            in_shape,
            out_shape,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            mant: m,
        } => {
            let cin_g = in_shape[0] / groups;
            let cout_g = out_shape[0] / groups;
            for co in 0..out_shape[0] {
                let g = co / cout_g;
                for oy in 0..out_shape[1] {
                    for ox in 0..out_shape[2] {
                        let d = (co * out_shape[1] + oy) * out_shape[2] + ox;
                        for cil in 0..cin_g {
                            let ci = g * cin_g + cil;
                            for ky in 0..kernel[0] {
                                for kx in 0..kernel[1] {
                                    let y = (oy * stride[0] + ky * dilation[0]) as i64 - padding[0] as i64;
                                    let x = (ox * stride[1] + kx * dilation[1]) as i64 - padding[1] as i64;
                                    if y < 0 || x < 0 || y >= in_shape[1] as i64 || x >= in_shape[2] as i64 {
                                        continue;
                                    }
                                    let j = (ci * in_shape[1] + y as usize) * in_shape[2] + x as usize;
                                    assert_eq!(mant[d * inp + j], 0, "one tap per pair");
                                    mant[d * inp + j] = m[((co * cin_g + cil) * kernel[0] + ky) * kernel[1] + kx];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    QWeights::Dense { out, inp, mant }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Conv (scattered event by event) and sparse (transposed to columns)
    /// connections give exactly the spikes, voltages and overflow counts of
    /// the same maps written densely.
    #[test]
    fn layouts_agree_with_their_dense_form(seed in any::<u64>(), hot in any::<bool>()) {
        let t = loihi1();
        let (m, s) = random_case(seed, &t, hot);
        let mut d = m.clone();
        for p in &mut d.populations {
            for c in &mut p.inputs {
                c.weights = to_dense(&c.weights);
            }
        }
        let a = run(&m, &t, &s, None, false, None).unwrap();
        let b = run(&d, &t, &s, None, false, None).unwrap();
        prop_assert_eq!(a, b);
    }
}
