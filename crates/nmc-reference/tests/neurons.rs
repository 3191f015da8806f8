//! Neuron dynamics against closed forms, the NIR paper's single-LIF trace,
//! refractory/reset/integrator rules, and rate reporting.

mod common;

use common::*;
use nmc_ir::{Discretization, GraphBuilder, NeuronModel, Op, ResetMode, Shape, Tensor};
use nmc_reference::float::{decay_gain, simulate_with};
use nmc_reference::{Probe, SimOptions, simulate};
use std::collections::BTreeMap;

/// Smallest `k ≥ 1` with `c·(1 − α^k) > thr` (voltage `k` steps after a
/// reset to 0 under constant drive `c = v_leak + r·I`), and the distance of
/// `v_k`, `v_{k−1}` from the threshold (to keep the comparison away from
/// rounding ties).
fn lif_period(c: f64, alpha: f64, thr: f64) -> (usize, f64) {
    let mut k = 1;
    loop {
        let v = c * (1.0 - alpha.powi(k as i32));
        if v > thr {
            let prev = c * (1.0 - alpha.powi(k as i32 - 1));
            return (k, (v - thr).abs().min((prev - thr).abs()));
        }
        k += 1;
        assert!(k < 1_000_000, "no spike for c={c}");
    }
}

/// LIF under constant current, exact and Euler discretization: spikes at
/// steps `m·k − 1` exactly (so the rate is `1/(k·dt)` within one spike over
/// the run), with `k` from the closed form `v_k = (v_leak + r·I)(1 − α^k)`.
#[test]
fn lif_constant_current_matches_closed_form() {
    let dt = 1e-3;
    // (tau, r, v_leak, I); thr = 1, reset to 0.
    let cases = [
        (0.02, 1.0, 0.0, 1.2),
        (0.02, 1.0, 0.0, 1.5),
        (0.01, 2.0, 0.0, 0.9),
        (0.05, 1.0, 0.5, 0.8),
        (0.005, 0.5, 0.0, 7.3),
    ];
    for disc in [Discretization::Exact, Discretization::Euler] {
        let n = cases.len();
        let g = chain(
            dt,
            disc,
            vec![
                ("in", input(&[n])),
                (
                    "lif",
                    neuron(NeuronModel::Lif, n, |p| {
                        for (j, &(tau, r, vl, _)) in cases.iter().enumerate() {
                            p.tau_mem[j] = tau;
                            p.r[j] = r;
                            p.v_leak[j] = vl;
                        }
                    }),
                ),
                ("out", output(&[n])),
            ],
        );
        let steps = 10_000;
        let x: Vec<f64> = cases.iter().map(|c| c.3).collect();
        let res = simulate(&g, &constant(&x, steps), &SimOptions::default()).expect("sim");
        let layer = res.layer("lif").expect("layer");
        let rates = res.rate_report();
        for (j, &(tau, r, vl, i)) in cases.iter().enumerate() {
            let alpha = match disc {
                Discretization::Exact | Discretization::Nengo => (-dt / tau).exp(),
                Discretization::Euler => 1.0 - dt / tau,
            };
            let (k, margin) = lif_period(vl + r * i, alpha, 1.0);
            assert!(margin > 1e-9, "case {j}: too close to threshold for an exact check");
            let expected: Vec<usize> = (1..).map(|m| m * k - 1).take_while(|&t| t < steps).collect();
            assert_eq!(layer.spike_steps(0, j), expected, "{disc:?} case {j}: k = {k}");
            let rate = layer.counts()[j] as f64 / (steps as f64 * dt);
            let closed = 1.0 / (k as f64 * dt);
            // At most one spike of difference over the run.
            assert!(
                (rate - closed).abs() <= 1.0 / (steps as f64 * dt) + 1e-9,
                "{rate} vs {closed}"
            );
        }
        let max = rates.layers[0].max_rate_hz;
        let best = cases
            .iter()
            .map(|c| {
                let alpha = match disc {
                    Discretization::Exact | Discretization::Nengo => (-dt / c.0).exp(),
                    Discretization::Euler => 1.0 - dt / c.0,
                };
                (steps / lif_period(c.2 + c.1 * c.3, alpha, 1.0).0) as f64 / (steps as f64 * dt)
            })
            .fold(0.0, f64::max);
        assert_eq!(max, best);
    }
}

/// IF: `v` grows by `r·I` per step (charge per step, no dt), spikes when
/// `v > thr` strictly: period `k = floor(thr/(r·I)) + 1`, checked exactly.
/// `r·I = 0.25` reaches exactly 1.0 at step 4 and must wait for step 5.
#[test]
fn if_constant_current_period_is_exact() {
    let ri = [0.25, 0.3, 0.45, 0.7, 2.0];
    let n = ri.len();
    for dt in [1e-3, 0.5] {
        let g = chain(
            dt,
            Discretization::Exact,
            vec![
                ("in", input(&[n])),
                ("if", neuron(NeuronModel::If, n, |_| {})),
                ("out", output(&[n])),
            ],
        );
        let steps = 1000;
        let res = simulate(&g, &constant(&ri, steps), &SimOptions::default()).expect("sim");
        let layer = res.layer("if").expect("layer");
        for (j, &x) in ri.iter().enumerate() {
            let k = (1.0 / x).floor() as usize + 1;
            let expected: Vec<usize> = (1..).map(|m| m * k - 1).take_while(|&t| t < steps).collect();
            assert_eq!(layer.spike_steps(0, j), expected, "r·I = {x}, dt = {dt}: k = {k}");
        }
        assert_eq!(
            ri.iter().map(|x| (1.0 / x).floor() as usize + 1).collect::<Vec<_>>()[0],
            5
        );
        // r·I = 2 spikes every step: the neuron sits at the 1/dt ceiling.
        let rep = res.rate_report();
        assert_eq!(rep.layers[0].at_ceiling, 1);
        assert_eq!(rep.layers[0].max_rate_hz, 1.0 / dt);
        assert_eq!(rep.layers[0].ceiling_hz, 1.0 / dt);
    }
}

/// IF with subtractive reset keeps the residue: over N steps the count is
/// `floor(N·r·I/thr)` (±1).
#[test]
fn if_subtract_reset_keeps_residue() {
    let g = chain(
        1e-3,
        Discretization::Exact,
        vec![
            ("in", input(&[2])),
            ("if", neuron(NeuronModel::If, 2, |p| p.reset = ResetMode::Subtract)),
            ("out", output(&[2])),
        ],
    );
    let steps = 10_000;
    let x = [0.3, 0.37];
    let res = simulate(&g, &constant(&x, steps), &SimOptions::default()).expect("sim");
    let c = res.layer("if").expect("layer").counts();
    for j in 0..2 {
        let expect = (steps as f64 * x[j]).floor();
        assert!((c[j] as f64 - expect).abs() <= 1.0, "{} vs {expect}", c[j]);
    }
    // First spike of 0.3 at step 3 (v = 1.2), leaving 0.2.
    let res = simulate_with(&g, &[&constant(&x, 5)], &SimOptions::default(), &[Probe::voltage("if")]).expect("sim");
    let v = &res.probes[0].values;
    assert!(res.layer("if").expect("layer").spiked(0, 3, 0));
    assert!((v[[0, 3, 0]] - 0.2).abs() < 1e-12, "{}", v[[0, 3, 0]]);
}

/// CubaLIF: the current converges to `w_in·x`; the steady rate matches the
/// continuous-time closed form `1/(τ_m·ln(1/(1 − thr/(r·I_ss))))`.
/// Tolerance 2%: with dt/τ_m = 1/200 the period is quantized to whole steps
/// (≤ 1 step in ~100–250, < 1%), and the synaptic transient before the first
/// spike costs at most one spike over the ~20 s run (< 0.2%).
#[test]
fn cubalif_rate_matches_continuous_closed_form() {
    let dt = 1e-4;
    // (tau_syn, tau_mem, r, w_in, x)
    let cases = [
        (0.005, 0.02, 1.0, 1.0, 1.5),
        (0.002, 0.02, 1.0, 2.0, 1.0),
        (0.005, 0.02, 2.0, 1.0, 1.2),
    ];
    let n = cases.len();
    let g = chain(
        dt,
        Discretization::Exact,
        vec![
            ("in", input(&[n])),
            (
                "lif",
                neuron(NeuronModel::CubaLif, n, |p| {
                    for (j, &(ts, tm, r, w, _)) in cases.iter().enumerate() {
                        p.tau_syn[j] = ts;
                        p.tau_mem[j] = tm;
                        p.r[j] = r;
                        p.w_in[j] = w;
                    }
                }),
            ),
            ("out", output(&[n])),
        ],
    );
    let steps = 200_000;
    let x: Vec<f64> = cases.iter().map(|c| c.4).collect();
    let res = simulate(&g, &constant(&x, steps), &SimOptions::default()).expect("sim");
    let layer = res.layer("lif").expect("layer");
    for (j, &(_, tm, r, w, xj)) in cases.iter().enumerate() {
        let i_ss = w * xj;
        let f = 1.0 / (tm * (1.0 / (1.0 - 1.0 / (r * i_ss))).ln());
        let rate = layer.counts()[j] as f64 / (steps as f64 * dt);
        assert!(
            (rate / f - 1.0).abs() < 0.02,
            "case {j}: simulated {rate} Hz, closed form {f} Hz"
        );
        // The steady inter-spike interval alone, same tolerance.
        let st = layer.spike_steps(0, j);
        let isi = (st[st.len() - 1] - st[st.len() - 2]) as f64 * dt;
        assert!(
            (1.0 / isi / f - 1.0).abs() < 0.02,
            "case {j}: ISI rate {} vs {f}",
            1.0 / isi
        );
    }
}

/// The synaptic current of CubaLI follows `w_in·x·(1 − α_s^{t+1})` and the
/// LI's output is its voltage; non-spiking populations have no spike layer.
#[test]
fn cubali_current_and_non_spiking_listing() {
    let dt = 1e-3;
    let g = chain(
        dt,
        Discretization::Exact,
        vec![
            ("in", input(&[1])),
            (
                "li",
                neuron(NeuronModel::CubaLi, 1, |p| {
                    p.tau_syn[0] = 0.004;
                    p.tau_mem[0] = 0.01;
                    p.w_in[0] = 3.0;
                    p.r[0] = 0.5;
                }),
            ),
            ("out", output(&[1])),
        ],
    );
    let res = simulate_with(
        &g,
        &[&constant(&[2.0], 50)],
        &SimOptions::default(),
        &[Probe::current("li"), Probe::voltage("li")],
    )
    .expect("sim");
    let (a_s, g_s) = decay_gain(Discretization::Exact, dt, 0.004);
    assert!((a_s + g_s - 1.0).abs() < 1e-15);
    let (a_m, g_m) = decay_gain(Discretization::Exact, dt, 0.01);
    let mut v = 0.0;
    for t in 0..50 {
        let i = 3.0 * 2.0 * (1.0 - a_s.powi(t as i32 + 1));
        let got_i = res.probes[0].values[[0, t, 0]];
        assert!((got_i - i).abs() < 1e-12, "t={t}: {got_i} vs {i}");
        v = a_m * v + g_m * (0.5 * got_i);
        assert!((res.probes[1].values[[0, t, 0]] - v).abs() < 1e-12);
        assert_eq!(res.outputs[0].values[[0, t, 0]], res.probes[1].values[[0, t, 0]]);
    }
    assert!(res.layers.is_empty());
    assert_eq!(res.non_spiking.len(), 1);
    assert_eq!(res.non_spiking[0].model, "CubaLI");
    let text = res.rate_report().to_string();
    assert!(text.contains("no spiking layers"), "{text}");
    assert!(text.contains("li (CubaLI, 1)"), "{text}");
}

/// I integrates charge per step: `v[t] = r·Σ x`, independent of dt.
#[test]
fn integrator_charge_per_step_ignores_dt() {
    let mut outs = Vec::new();
    for dt in [1e-4, 1e-3, 0.25] {
        let g = chain(
            dt,
            Discretization::Exact,
            vec![
                ("in", input(&[1])),
                ("i", neuron(NeuronModel::I, 1, |p| p.r[0] = 2.0)),
                ("out", output(&[1])),
            ],
        );
        let res = simulate(
            &g,
            &stim(&[vec![1.0], vec![0.5], vec![0.0], vec![-1.0]]),
            &SimOptions::default(),
        )
        .expect("sim");
        outs.push(res.outputs[0].values.clone());
    }
    for o in &outs {
        assert_eq!(o.iter().copied().collect::<Vec<_>>(), vec![2.0, 3.0, 3.0, 1.0]);
    }
}

/// Refractory: after a spike at t, steps t+1..=t+n are held at v_reset with
/// no spike; a neuron driven above threshold every step fires every n+1 steps.
#[test]
fn refractory_holds_reset_voltage() {
    let dt = 1e-3;
    let g = chain(
        dt,
        Discretization::Exact,
        vec![
            ("in", input(&[1])),
            (
                "if",
                neuron(NeuronModel::If, 1, |p| {
                    p.refractory = 0.003;
                    p.v_reset[0] = -0.5;
                }),
            ),
            ("out", output(&[1])),
        ],
    );
    let res = simulate_with(
        &g,
        &[&constant(&[2.0], 20)],
        &SimOptions::default(),
        &[Probe::voltage("if")],
    )
    .expect("sim");
    let layer = res.layer("if").expect("layer");
    assert_eq!(layer.spike_steps(0, 0), vec![0, 4, 8, 12, 16]);
    for t in [1, 2, 3, 5, 6, 7] {
        assert_eq!(res.probes[0].values[[0, t, 0]], -0.5, "t={t}");
    }
    assert_eq!(res.rate_report().layers[0].at_ceiling, 0);
}

/// The single LIF neuron of the NIR paper (`lif_norse.nir`, built by hand),
/// driven by the input column of the analytic trace `lif_exact.csv`, spikes
/// exactly at steps 460, 510, 710, 760: the steps of the analytic trace.
#[test]
fn nir_paper_single_lif_spikes_at_analytic_steps() {
    let path = fixtures().join("nir-paper/01_lif/traces/lif_exact.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().parse::<f64>().expect("number")).collect())
        .collect();
    assert_eq!(rows.len(), 1000);
    let mut b = GraphBuilder::new("lif_norse");
    b.dt(1e-4);
    let m = BTreeMap::new;
    b.node("input", input(&[1]), m()).expect("node");
    b.node(
        "0",
        Op::Affine {
            weight: Tensor::new(Shape::new([1, 1]), vec![1.0]).expect("w"),
            bias: Some(Tensor::vector(vec![0.0])),
        },
        m(),
    )
    .expect("node");
    b.node(
        "1",
        neuron(NeuronModel::Lif, 1, |p| {
            p.tau_mem[0] = 0.0025;
            p.r[0] = 1.0;
            p.v_leak[0] = 0.0;
            p.v_threshold[0] = 0.1;
            p.v_reset[0] = 0.0;
        }),
        m(),
    )
    .expect("node");
    b.node("output", output(&[1]), m()).expect("node");
    b.edge("input", "0").edge("0", "1").edge("1", "output");
    let g = b.build().expect("graph");

    let drive: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[0]]).collect();
    let res = simulate(&g, &stim(&drive), &SimOptions::default()).expect("sim");
    let got = res.layer("1").expect("layer").spike_steps(0, 0);
    assert_eq!(got, vec![460, 510, 710, 760]);
    let analytic: Vec<usize> = (0..rows.len()).filter(|&t| rows[t][2] > 0.5).collect();
    assert_eq!(got, analytic);
    let out: Vec<usize> = (0..1000).filter(|&t| res.outputs[0].values[[0, t, 0]] == 1.0).collect();
    assert_eq!(out, got);
    let rep = res.rate_report();
    assert_eq!(rep.layers[0].spikes, 4);
    assert!((rep.layers[0].mean_rate_hz - 4.0 / (1000.0 * 1e-4)).abs() < 1e-9);
}

/// Rate report: table header, JSON fields, rates from counts.
#[test]
fn rate_report_text_and_json() {
    let g = chain(
        1e-3,
        Discretization::Exact,
        vec![
            ("in", input(&[3])),
            ("layer/one", neuron(NeuronModel::If, 3, |_| {})),
            ("out", output(&[3])),
        ],
    );
    // Neuron 0 silent, neuron 1 at the ceiling, neuron 2 every 2nd step.
    let res = simulate(&g, &constant(&[0.0, 5.0, 0.6], 100), &SimOptions::default()).expect("sim");
    let rep = res.rate_report();
    let l = &rep.layers[0];
    assert_eq!((l.neurons, l.spikes, l.silent, l.at_ceiling), (3, 150, 1, 1));
    assert!((l.mean_rate_hz - 500.0).abs() < 1e-9);
    assert!((l.max_rate_hz - 1000.0).abs() < 1e-9);
    let text = rep.to_string();
    assert!(text.contains("dt 0.001 s"), "{text}");
    assert!(text.contains("100 steps"), "{text}");
    assert!(text.contains("batch 1"), "{text}");
    assert!(
        text.contains("rates = spikes / (steps·dt), from spike counts"),
        "{text}"
    );
    assert!(text.contains("spiked on every step"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("layer") && lines[2].starts_with("layer/one"),
        "{text}"
    );
    // Columns are aligned: the header and the row have equal width.
    assert_eq!(lines[1].chars().count(), lines[2].chars().count(), "{text}");
    let json = serde_json::to_value(&rep).expect("json");
    for key in [
        "name",
        "model",
        "neurons",
        "spikes",
        "mean_rate_hz",
        "max_rate_hz",
        "silent",
        "at_ceiling",
        "ceiling_hz",
    ] {
        assert!(json["layers"][0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["layers"][0]["model"], "IF");
    assert_eq!(json["steps"], 100);
}
