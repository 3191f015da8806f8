//! Graph semantics (schedule, recurrent edges, fan-in) and the stateless
//! ops, against direct implementations.

mod common;

use common::*;
use ndarray::{Array3, Axis};
use nmc_ir::{Discretization, Graph, NeuronModel, Op, PoolKind, Shape, Tensor};
use nmc_reference::{SimOptions, SimResult, Stimulus, simulate};
use proptest::prelude::*;

const EX: Discretization = Discretization::Exact;

fn out_trace(res: &SimResult, k: usize) -> Vec<f64> {
    res.outputs[k].values.iter().copied().collect()
}

/// `a ⇄ b` loop: `a[t] = x[t] + b[t−1]`, `b[t] = 0.5·a[t]`: an impulse at
/// t = 0 gives `a[t] = 0.5^t`. A same-step feedback would give something
/// else; the schedule marks `b → a` as the recurrent edge.
#[test]
fn recurrent_edge_delivers_one_step_late() {
    let g = graph(
        1e-3,
        EX,
        vec![
            ("in", input(&[1])),
            ("a", scale(vec![1.0])),
            ("b", scale(vec![0.5])),
            ("out", output(&[1])),
        ],
        &[("in", "a"), ("a", "b"), ("b", "a"), ("a", "out")],
    );
    let sched = g.schedule();
    assert_eq!(sched.back_edges.len(), 1);
    let (s, d) = g.edge_endpoints(sched.back_edges[0]).expect("edge");
    assert_eq!((g.node(s).name.as_str(), g.node(d).name.as_str()), ("b", "a"));
    let mut rows = vec![vec![0.0]; 8];
    rows[0][0] = 1.0;
    let res = simulate(&g, &stim(&rows), &SimOptions::default()).expect("sim");
    let expect: Vec<f64> = (0..8).map(|t| 0.5f64.powi(t)).collect();
    assert_eq!(out_trace(&res, 0), expect);
}

/// A spiking loop: IF → w_rec → IF. A spike at t re-enters at t+1 only.
#[test]
fn recurrent_spikes_arrive_next_step() {
    let g = graph(
        1e-3,
        EX,
        vec![
            ("in", input(&[1])),
            ("n", neuron(NeuronModel::If, 1, |p| p.v_threshold[0] = 0.5)),
            ("w_rec", affine(vec![vec![1.0]], None)),
            ("out", output(&[1])),
        ],
        &[("in", "n"), ("n", "w_rec"), ("w_rec", "n"), ("n", "out")],
    );
    let mut rows = vec![vec![0.0]; 6];
    rows[2][0] = 1.0;
    let res = simulate(&g, &stim(&rows), &SimOptions::default()).expect("sim");
    // Kick at 2 → spike at 2; its feedback (1.0 > 0.5) → spike at 3, 4, 5.
    assert_eq!(res.layer("n").expect("layer").spike_steps(0, 0), vec![2, 3, 4, 5]);
}

/// Forward edges deliver in the same step: a two-layer chain fires both
/// layers in the step of the input pulse.
#[test]
fn forward_spikes_arrive_same_step() {
    let g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[1])),
            ("n1", neuron(NeuronModel::If, 1, |p| p.v_threshold[0] = 0.5)),
            ("w", affine(vec![vec![1.0]], None)),
            ("n2", neuron(NeuronModel::If, 1, |p| p.v_threshold[0] = 0.5)),
            ("out", output(&[1])),
        ],
    );
    let mut rows = vec![vec![0.0]; 6];
    rows[3][0] = 1.0;
    let res = simulate(&g, &stim(&rows), &SimOptions::default()).expect("sim");
    assert_eq!(res.layer("n1").expect("l").spike_steps(0, 0), vec![3]);
    assert_eq!(res.layer("n2").expect("l").spike_steps(0, 0), vec![3]);
    assert_eq!(out_trace(&res, 0), vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
}

/// Fan-in is a sum, including a source wired twice.
#[test]
fn fan_in_sums() {
    let g = graph(
        1e-3,
        EX,
        vec![
            ("in", input(&[2])),
            ("a", affine(vec![vec![1.0, 0.0]], Some(vec![0.25]))),
            ("b", affine(vec![vec![0.0, 2.0]], None)),
            ("out", output(&[1])),
        ],
        &[("in", "a"), ("in", "b"), ("a", "out"), ("b", "out"), ("b", "out")],
    );
    let res = simulate(&g, &stim(&[vec![1.0, 3.0], vec![-2.0, 0.5]]), &SimOptions::default()).expect("sim");
    assert_eq!(out_trace(&res, 0), vec![1.25 + 12.0, -1.75 + 2.0]);
}

/// Delay by round(delay/dt) steps per element; Threshold strictly greater;
/// Scale elementwise.
#[test]
fn delay_threshold_scale() {
    let g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[3])),
            (
                "d",
                Op::Delay {
                    delay: Tensor::vector(vec![0.002, 0.0, 0.0031]),
                },
            ),
            ("s", scale(vec![2.0, -1.0, 1.0])),
            ("out", output(&[3])),
        ],
    );
    let rows: Vec<Vec<f64>> = (0..8)
        .map(|t| vec![t as f64 + 1.0, 10.0 * t as f64, 100.0 + t as f64])
        .collect();
    let res = simulate(&g, &stim(&rows), &SimOptions::default()).expect("sim");
    let v = &res.outputs[0].values;
    for t in 0..8 {
        let e0 = if t >= 2 { 2.0 * (t as f64 - 1.0) } else { 0.0 };
        let e2 = if t >= 3 { 100.0 + t as f64 - 3.0 } else { 0.0 };
        assert_eq!(v[[0, t, 0]], e0, "t={t}");
        assert_eq!(v[[0, t, 1]], -10.0 * t as f64, "t={t}");
        assert_eq!(v[[0, t, 2]], e2, "t={t}");
    }

    let g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[2])),
            (
                "th",
                Op::Threshold {
                    threshold: Tensor::scalar(0.5),
                },
            ),
            ("out", output(&[2])),
        ],
    );
    let res = simulate(&g, &stim(&[vec![0.5, 0.6], vec![0.7, -1.0]]), &SimOptions::default()).expect("sim");
    assert_eq!(out_trace(&res, 0), vec![0.0, 1.0, 1.0, 0.0]);
    let l = res.layer("th").expect("threshold is a spike layer");
    assert_eq!(l.model, "Threshold");
    assert!(l.spiked(0, 0, 1) && l.spiked(0, 1, 0) && !l.spiked(0, 0, 0));
}

/// Flatten is row-major: the element [1,2,3] of a [2,3,4] input is flat
/// index 23; stimuli in (steps, 2, 3, 4) are flattened the same way.
#[test]
fn flatten_is_row_major() {
    let mut w = vec![vec![0.0; 24]];
    w[0][23] = 1.0;
    let g = chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[2, 3, 4])),
            (
                "flat",
                Op::Flatten {
                    start_dim: 0,
                    end_dim: -1,
                },
            ),
            ("pick", affine(w, None)),
            ("out", output(&[1])),
        ],
    );
    let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 2, 3, 4]), |i| {
        (i[0] * 1000 + i[1] * 100 + i[2] * 10 + i[3]) as f64
    });
    let s = Stimulus::from_array(a, &Shape::new([2, 3, 4])).expect("stim");
    let res = simulate(&g, &s, &SimOptions::default()).expect("sim");
    assert_eq!(out_trace(&res, 0), vec![123.0, 1123.0]);
}

/// Direct convolution from the definition (cross-correlation, zero padding).
#[allow(clippy::too_many_arguments)]
fn naive_conv(
    x: &[f64],
    in_dims: &[usize],
    w: &[f64],
    wd: &[usize],
    bias: &[f64],
    stride: &[usize],
    pad: &[usize],
    dil: &[usize],
    groups: usize,
    out_dims: &[usize],
) -> Vec<f64> {
    let (c_out, cin_pg) = (wd[0], wd[1]);
    let cout_pg = c_out / groups;
    // Spatial dims as (H, W), 1-d as H = 1.
    let sp = |d: &[usize]| if d.len() == 2 { (d[0], d[1]) } else { (1, d[0]) };
    let (ih, iw) = sp(&in_dims[1..]);
    let (oh, ow) = sp(&out_dims[1..]);
    let (kh, kw) = sp(&wd[2..]);
    let (sh, sw) = sp(stride);
    let (dh, dw) = sp(dil);
    let (ph, pw) = if pad.len() == 2 { (pad[0], pad[1]) } else { (0, pad[0]) };
    let mut y = vec![0.0; c_out * oh * ow];
    for co in 0..c_out {
        let g = co / cout_pg;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = bias[co];
                for cil in 0..cin_pg {
                    let ci = g * cin_pg + cil;
                    for a in 0..kh {
                        for b in 0..kw {
                            let iy = (oy * sh + a * dh) as isize - ph as isize;
                            let ix = (ox * sw + b * dw) as isize - pw as isize;
                            if iy < 0 || ix < 0 || iy >= ih as isize || ix >= iw as isize {
                                continue;
                            }
                            let xi = (ci * ih + iy as usize) * iw + ix as usize;
                            let wi = ((co * cin_pg + cil) * kh + a) * kw + b;
                            acc += w[wi] * x[xi];
                        }
                    }
                }
                y[(co * oh + oy) * ow + ox] = acc;
            }
        }
    }
    y
}

/// `a[b, t, :]` as a vector (the `s!` macro conflicts with `forbid(unsafe_code)`).
fn row(a: &Array3<f64>, b: usize, t: usize) -> Vec<f64> {
    a.index_axis(Axis(0), b).index_axis(Axis(0), t).to_vec()
}

/// Random inputs with about a third exact zeros (like spikes) and the rest
/// in [−1, 1).
fn random_input(batch: usize, n: usize, seed: u64) -> Array3<f64> {
    let mut r = Lcg(seed);
    Array3::from_shape_fn((batch, 2, n), |_| {
        let u = r.next();
        if u < 0.33 { 0.0 } else { 2.0 * r.next() - 1.0 }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Conv1d/Conv2d with stride, padding, dilation, groups and bias equals
    /// the direct definition on random data.
    #[test]
    fn conv_matches_direct(
        two_d in any::<bool>(),
        groups in 1usize..=3, cin_pg in 1usize..=3, cout_pg in 1usize..=3,
        k in (1usize..=3, 1usize..=3), stride in (1usize..=3, 1usize..=3),
        pad in (0usize..=2, 0usize..=2), dil in (1usize..=2, 1usize..=2),
        size in (1usize..=8, 1usize..=8), with_bias in any::<bool>(), seed in any::<u64>(),
    ) {
        let nsp = if two_d { 2 } else { 1 };
        let pick = |p: (usize, usize)| if two_d { vec![p.0, p.1] } else { vec![p.1] };
        let (ks, ss, ps, ds, sz) = (pick(k), pick(stride), pick(pad), pick(dil), pick(size));
        let mut out_sp = Vec::new();
        for i in 0..nsp {
            let eff = ds[i] * (ks[i] - 1) + 1;
            prop_assume!(sz[i] + 2 * ps[i] >= eff);
            out_sp.push((sz[i] + 2 * ps[i] - eff) / ss[i] + 1);
        }
        let c_in = cin_pg * groups;
        let c_out = cout_pg * groups;
        let mut wd = vec![c_out, cin_pg];
        wd.extend(&ks);
        let mut rng = Lcg(seed ^ 0x9e37_79b9_7f4a_7c15);
        let w: Vec<f64> = (0..wd.iter().product::<usize>()).map(|_| 2.0 * rng.next() - 1.0).collect();
        let bias: Vec<f64> = (0..c_out).map(|_| if with_bias { rng.next() } else { 0.0 }).collect();
        let mut in_dims = vec![c_in];
        in_dims.extend(&sz);
        let mut out_dims = vec![c_out];
        out_dims.extend(&out_sp);
        let op = Op::Conv {
            weight: Tensor::new(Shape::new(wd.clone()), w.clone()).expect("w"),
            bias: with_bias.then(|| Tensor::vector(bias.clone())),
            stride: ss.clone(), padding: ps.clone(), dilation: ds.clone(), groups,
        };
        let n_in: usize = in_dims.iter().product();
        let x = random_input(2, n_in, seed);
        let g = chain(1e-3, EX, vec![("in", input(&in_dims)), ("conv", op), ("out", output(&out_dims))]);
        let res = simulate(&g, &Stimulus::new(x.clone()).expect("stim"), &SimOptions::default()).expect("sim");
        for b in 0..2 {
            for t in 0..2 {
                let xs: Vec<f64> = row(&x, b, t);
                let want = naive_conv(&xs, &in_dims, &w, &wd, &bias, &ss, &ps, &ds, groups, &out_dims);
                let got = row(&res.outputs[0].values, b, t);
                prop_assert_eq!(got.len(), want.len());
                for (i, (a, e)) in got.iter().zip(&want).enumerate() {
                    prop_assert!((a - e).abs() <= 1e-12 * (1.0 + e.abs()), "elem {}: {} vs {}", i, a, e);
                }
            }
        }
    }

    /// SumPool2d/AvgPool2d with stride and zero padding equal the direct
    /// window sum (avg: divided by the kernel area, padding counted).
    #[test]
    fn pool_matches_direct(
        avg in any::<bool>(), c in 1usize..=3, h in 1usize..=7, w in 1usize..=7,
        k in (1usize..=3, 1usize..=3), s in (1usize..=3, 1usize..=3), p in (0usize..=1, 0usize..=1),
        seed in any::<u64>(),
    ) {
        prop_assume!(h + 2 * p.0 >= k.0 && w + 2 * p.1 >= k.1);
        let oh = (h + 2 * p.0 - k.0) / s.0 + 1;
        let ow = (w + 2 * p.1 - k.1) / s.1 + 1;
        let op = Op::Pool2d {
            kind: if avg { PoolKind::Avg } else { PoolKind::Sum },
            kernel: [k.0, k.1], stride: [s.0, s.1], padding: [p.0, p.1],
        };
        let x = random_input(1, c * h * w, seed);
        let g = chain(1e-3, EX, vec![("in", input(&[c, h, w])), ("pool", op), ("out", output(&[c, oh, ow]))]);
        let res = simulate(&g, &Stimulus::new(x.clone()).expect("stim"), &SimOptions::default()).expect("sim");
        for t in 0..2 {
            let xs: Vec<f64> = row(&x, 0, t);
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for a in 0..k.0 {
                            for b in 0..k.1 {
                                let iy = (oy * s.0 + a) as isize - p.0 as isize;
                                let ix = (ox * s.1 + b) as isize - p.1 as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    acc += xs[(ch * h + iy as usize) * w + ix as usize];
                                }
                            }
                        }
                        if avg { acc /= (k.0 * k.1) as f64; }
                        let got = res.outputs[0].values[[0, t, (ch * oh + oy) * ow + ox]];
                        prop_assert!((got - acc).abs() <= 1e-12 * (1.0 + acc.abs()), "{} vs {}", got, acc);
                    }
                }
            }
        }
    }
}

/// A population of shape `dims`.
fn pop(model: NeuronModel, dims: &[usize], f: impl FnOnce(&mut nmc_ir::Neuron)) -> Op {
    let mut p = nmc_ir::Neuron::neutral(model, Shape::new(dims.to_vec()));
    f(&mut p);
    Op::Neuron(p)
}

/// A small spiking CNN (grouped conv, LIF/IF/CubaLIF, avg pool, dense).
fn cnn() -> Graph {
    let mut r = Lcg(3);
    let mut t = |dims: &[usize], s: f64| {
        let n: usize = dims.iter().product();
        Tensor::new(
            Shape::new(dims.to_vec()),
            (0..n).map(|_| s * (r.next() - 0.4)).collect(),
        )
        .expect("t")
    };
    let conv = |w: Tensor, stride: usize, groups: usize| Op::Conv {
        weight: w,
        bias: None,
        stride: vec![stride; 2],
        padding: vec![1; 2],
        dilation: vec![1; 2],
        groups,
    };
    let w0 = t(&[8, 2, 3, 3], 2.0);
    let w1 = t(&[8, 4, 3, 3], 1.5);
    let fc = t(&[5, 8 * 4 * 4], 1.0);
    chain(
        1e-3,
        EX,
        vec![
            ("in", input(&[2, 16, 16])),
            ("c0", conv(w0, 2, 1)),
            ("n0", pop(NeuronModel::Lif, &[8, 8, 8], |p| p.tau_mem.fill(0.01))),
            ("c1", conv(w1, 1, 2)),
            ("n1", pop(NeuronModel::If, &[8, 8, 8], |_| {})),
            (
                "p",
                Op::Pool2d {
                    kind: PoolKind::Avg,
                    kernel: [2, 2],
                    stride: [2, 2],
                    padding: [0, 0],
                },
            ),
            (
                "flat",
                Op::Flatten {
                    start_dim: 0,
                    end_dim: -1,
                },
            ),
            ("fc", Op::Affine { weight: fc, bias: None }),
            (
                "n2",
                neuron(NeuronModel::CubaLif, 5, |p| {
                    p.tau_syn.fill(0.002);
                    p.tau_mem.fill(0.005);
                    p.r.fill(5.0);
                }),
            ),
            ("out", output(&[5])),
        ],
    )
}

/// The same run twice, and on 1 vs 2 rayon threads, is identical; each
/// sample's result does not depend on the rest of the batch.
#[test]
fn deterministic_across_runs_and_threads() {
    let g = cnn();
    let mut r = Lcg(99);
    let x = Array3::from_shape_fn((4, 30, 2 * 16 * 16), |_| if r.next() < 0.3 { 1.0 } else { 0.0 });
    let stim = Stimulus::new(x.clone()).expect("stim");
    let opts = SimOptions::default();
    let a = simulate(&g, &stim, &opts).expect("sim");
    let b = simulate(&g, &stim, &opts).expect("sim");
    assert_eq!(a, b);
    let totals: Vec<u64> = a.layers.iter().map(|l| l.total()).collect();
    assert!(
        totals.iter().all(|&n| n > 0),
        "every layer should spike for a meaningful test: {totals:?}"
    );
    let on = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("pool")
            .install(|| simulate(&g, &stim, &opts).expect("sim"))
    };
    assert_eq!(on(1), a);
    assert_eq!(on(2), a);
    let one = Stimulus::new(x.index_axis(Axis(0), 2).insert_axis(Axis(0)).to_owned()).expect("stim");
    let single = simulate(&g, &one, &opts).expect("sim");
    for (la, ls) in a.layers.iter().zip(&single.layers) {
        assert_eq!(la.counts_of(2), ls.counts_of(0), "layer {}", la.name);
    }
    assert_eq!(
        a.outputs[0].values.index_axis(Axis(0), 2),
        single.outputs[0].values.index_axis(Axis(0), 0)
    );
}
