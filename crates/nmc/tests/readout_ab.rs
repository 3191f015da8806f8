//! A = B covers the integer voltages of non-spiking (read-out) populations,
//! not only spike bits: the experiment of ../shared/design/review.md (P1),
//! which passed at HEAD 194b446 although 20 of 60 read-out voltages differed.
#![allow(clippy::unwrap_used)]

use nmc::pipeline::{compile_quantized, run_a_and_b};
use nmc_partition::examples::dense_chain;
use nmc_reference::Stimulus;

fn stimulus(steps: usize) -> Stimulus {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let vals: Vec<f64> = (0..steps * 16)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            f64::from(u8::from(s.is_multiple_of(3)))
        })
        .collect();
    Stimulus::new(ndarray::Array3::from_shape_vec((1, steps, 16), vals).unwrap()).unwrap()
}

#[test]
fn a_corrupted_readout_layer_makes_a_differ_from_b() {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let mut q = dense_chain(&[16, 30, 10], 7);
    let last = q.populations.len() - 1;
    q.populations[last].compartment.spiking = false; // a voltage read-out, legal in a .q.ron
    let steps = 6;
    let stim = stimulus(steps);
    let mut c = compile_quantized(q, &t, &Default::default()).unwrap();
    let (_, _, exact) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    assert!(exact.equal, "{exact}");
    assert_eq!(exact.voltages, 60, "10 read-out neurons × 6 steps are compared");
    assert!(exact.to_string().contains("60 read-out voltages"), "{exact}");
    // An emission bug in the read-out layer only.
    for core in &mut c.artifact.cores {
        for p in &mut core.profiles {
            if !p.spiking {
                p.decay_v = 2000;
            }
        }
    }
    let (fixed, em, exact) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    let name = &fixed.trace.layers[last].name;
    let va = fixed.trace.layers[last].voltages.as_ref().unwrap();
    let vb = em.trace.layer(name).unwrap().voltages.as_ref().unwrap();
    let differ = va.iter().zip(vb).filter(|(a, b)| a != b).count() as u64;
    assert!(differ > 0, "the corruption changes the read-out");
    assert!(!exact.equal, "A = B must see the read-out voltages: {exact}");
    let m = exact.voltage_mismatch.as_ref().unwrap();
    assert_eq!((&m.layer, m.differing), (name, differ));
    assert_eq!(va[m.step * 10 + m.neuron], m.a);
    assert_eq!(vb[m.step * 10 + m.neuron], m.b);
    assert!(exact.to_string().contains("A ≠ B: read-out voltages differ"), "{exact}");
    assert!(
        exact.mismatch.is_none(),
        "the spikes still agree: only the voltages tell"
    );
}

/// The 16 → 30 → 10 chain for `tiny` (read-out last, 20 steps), compiled,
/// with A = B checked, and the hidden layer's spikes in A as (step, neuron)
/// in step order.
struct Chain {
    c: nmc::pipeline::Compiled,
    t: nmc_target::Target,
    stim: Stimulus,
    steps: usize,
    hidden_spikes: Vec<(usize, usize)>,
}

const HIDDEN: &str = "d1";
const READOUT: &str = "d2";

fn chain() -> Chain {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let mut q = dense_chain(&[16, 30, 10], 7);
    let last = q.populations.len() - 1;
    q.populations[last].compartment.spiking = false;
    assert_eq!(
        (q.populations[0].name.as_str(), q.populations[last].name.as_str()),
        (HIDDEN, READOUT)
    );
    let steps = 20;
    let stim = stimulus(steps);
    let c = compile_quantized(q, &t, &Default::default()).unwrap();
    let (fixed, _, before) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    assert!(before.equal, "the unmutated artifact agrees: {before}");
    let k = fixed.trace.position(HIDDEN).unwrap();
    let n = fixed.trace.layers[k].neurons();
    let tr = &fixed.trace;
    let hidden_spikes = (0..steps)
        .flat_map(|s| (0..n).map(move |i| (s, i)))
        .filter(|&(s, i)| tr.spiked(k, 0, s, i))
        .collect();
    Chain {
        c,
        t,
        stim,
        steps,
        hidden_spikes,
    }
}

impl Chain {
    /// (core, compartment) of neuron `i` of layer `name`.
    fn loc(&self, name: &str, i: usize) -> (usize, usize) {
        let l = self.c.artifact.layers.iter().find(|l| l.name == name).unwrap();
        match &l.loc {
            nmc_artifact::LayerLoc::Chip(locs) => (locs[i].0 as usize, locs[i].1 as usize),
            nmc_artifact::LayerLoc::Host(_) => panic!("`{name}` is on the host"),
        }
    }
    /// Runs A and B on the (mutated) artifact.
    fn check(&self) -> nmc::pipeline::ExactCheck {
        run_a_and_b(&self.c, &self.t, &self.stim, self.steps, false).unwrap().2
    }
}

/// The (compartment, mantissa) pairs an event on `axon` with `atom` of core
/// `core` adds to, sorted.
fn delivered(a: &nmc_artifact::Artifact, core: usize, axon: usize, atom: u16) -> Vec<(usize, i16)> {
    let c = &a.cores[core];
    let (table, base) = match c.axons[axon] {
        nmc_artifact::InAxon::Discrete { table } => (table as usize, 0),
        nmc_artifact::InAxon::Population { table, base } => (table as usize, base as usize),
    };
    let mut v: Vec<(usize, i16)> = c.tables[table]
        .syns
        .iter()
        .filter(|s| s.atom == atom && s.mant != 0)
        .map(|s| (base + s.cx as usize, s.mant))
        .collect();
    v.sort_unstable();
    v
}

/// Asserts that the mutated artifact makes A ≠ B through the read-out's
/// voltages only, the mismatch naming the read-out layer.
fn assert_readout_differs(what: &str, after: &nmc::pipeline::ExactCheck) {
    assert!(!after.equal, "corrupting {what} must make A ≠ B: {after}");
    let m = after
        .voltage_mismatch
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: {after}"));
    assert_eq!(m.layer, READOUT, "{what}: {after}");
    assert!(m.differing > 0 && m.a != m.b, "{what}: {after}");
    assert!(after.mismatch.is_none(), "{what}: no spiking layer is touched: {after}");
}

/// Asserts that the mutated artifact makes A ≠ B first at a spike of the
/// hidden layer at `step`.
fn assert_hidden_differs(what: &str, after: &nmc::pipeline::ExactCheck, step: usize, neuron: usize) {
    assert!(!after.equal, "corrupting {what} must make A ≠ B: {after}");
    let m = after.mismatch.as_ref().unwrap_or_else(|| panic!("{what}: {after}"));
    assert_eq!(
        (m.layer.as_str(), m.step, m.neuron, m.a_spiked, m.b_spiked),
        (HIDDEN, step, neuron, true, false),
        "{what}: {after}"
    );
}

/// A weight: one synapse of the read-out, on the route of the first hidden
/// neuron to spike, negated. That neuron's first spike is the first event
/// through the synapse, so the read-out neuron's `q`, then `v`, differ one
/// step later.
#[test]
fn corrupting_one_weight_makes_a_differ_from_b() {
    let mut ch = chain();
    let &(_, h) = ch.hidden_spikes.first().expect("the hidden layer spikes");
    let (hc, hk) = ch.loc(HIDDEN, h);
    let (rc, _) = ch.loc(READOUT, 0);
    let a = &mut ch.c.artifact;
    let r = *a.cores[hc].routes[hk].iter().find(|r| r.core as usize == rc).unwrap();
    let table = match a.cores[rc].axons[r.axon as usize] {
        nmc_artifact::InAxon::Discrete { table } | nmc_artifact::InAxon::Population { table, .. } => table as usize,
    };
    let s = a.cores[rc].tables[table]
        .syns
        .iter_mut()
        .find(|s| s.atom == r.atom && s.mant != 0)
        .expect("the hidden neuron reaches the read-out");
    s.mant = -s.mant;
    assert_readout_differs("a weight", &ch.check());
}

/// A route: the first hidden neuron to spike sends its read-out event with
/// another atom (or to another axon) whose synapses differ.
#[test]
fn corrupting_one_route_makes_a_differ_from_b() {
    let mut ch = chain();
    let &(_, h) = ch.hidden_spikes.first().expect("the hidden layer spikes");
    let (hc, hk) = ch.loc(HIDDEN, h);
    let (rc, _) = ch.loc(READOUT, 0);
    let a = &ch.c.artifact;
    let ri = a.cores[hc].routes[hk]
        .iter()
        .position(|r| r.core as usize == rc)
        .unwrap();
    let r = a.cores[hc].routes[hk][ri];
    let now = delivered(a, rc, r.axon as usize, r.atom);
    assert!(!now.is_empty());
    let (axon, atom) = (0..a.cores[rc].axons.len())
        .flat_map(|x| {
            let atoms = match a.cores[rc].axons[x] {
                nmc_artifact::InAxon::Discrete { table } | nmc_artifact::InAxon::Population { table, .. } => {
                    a.cores[rc].tables[table as usize].atoms
                }
            };
            (0..atoms).map(move |t| (x, t))
        })
        .find(|&(x, t)| delivered(a, rc, x, t) != now)
        .expect("another axon or atom with other synapses");
    let r = &mut ch.c.artifact.cores[hc].routes[hk][ri];
    (r.axon, r.atom) = (axon as u32, atom);
    assert_readout_differs("a route", &ch.check());
}

/// A bias: one read-out compartment's bias mantissa, raised by 1000 (it is
/// added to `u` from the first step on).
#[test]
fn corrupting_one_bias_makes_a_differ_from_b() {
    let mut ch = chain();
    let (rc, rk) = ch.loc(READOUT, 3);
    let cx = &mut ch.c.artifact.cores[rc].cx[rk];
    let was = cx.bias_mant;
    cx.bias_mant += 1000;
    assert!(cx.bias_mant.unsigned_abs() <= 4095 && was != cx.bias_mant);
    let after = ch.check();
    assert_readout_differs("a bias", &after);
    let m = after.voltage_mismatch.unwrap();
    assert_eq!((m.step, m.neuron), (0, 3), "the biased neuron, from the first step");
}

/// A threshold: the profile of the first hidden neuron to spike raised to
/// the largest mantissa. No hidden neuron can reach it within the run (the
/// bound below), so that first spike is missing in B.
#[test]
fn corrupting_one_threshold_makes_a_differ_from_b() {
    let mut ch = chain();
    let &(t0, h) = ch.hidden_spikes.first().expect("the hidden layer spikes");
    let (hc, hk) = ch.loc(HIDDEN, h);
    let f = ch.t.formats();
    let top = f.threshold().mantissa_max() as i32;
    // |v| ≤ steps · 16 inputs · max |w_int| · 1 event: far below the new threshold.
    let reach = ch.steps as i64 * 16 * 254 * (1 << f.weight().scale_shift());
    assert!(reach < f.threshold().value(i64::from(top)).unwrap());
    let p = ch.c.artifact.cores[hc].cx[hk].profile as usize;
    let prof = &mut ch.c.artifact.cores[hc].profiles[p];
    assert!(prof.spiking && prof.vth_mant != top);
    prof.vth_mant = top;
    assert_hidden_differs("a threshold", &ch.check(), t0, h);
}

/// A refractory delay: the profile of a hidden neuron that spikes twice
/// within the run, set to the target's largest delay. Nothing differs
/// until the earliest second spike of a neuron of that profile, which B
/// suppresses (its `v` is held at 0).
#[test]
fn corrupting_one_refractory_delay_makes_a_differ_from_b() {
    let mut ch = chain();
    let longest = ch.t.formats().refractory().max_steps() as u8;
    assert!(longest as usize >= ch.steps, "held for the whole run");
    // The earliest second spike, over the neurons of one profile.
    let profile_of = |ch: &Chain, i: usize| {
        let (c, k) = ch.loc(HIDDEN, i);
        (c, ch.c.artifact.cores[c].cx[k].profile as usize)
    };
    let mut seen = std::collections::BTreeSet::new();
    let second = ch
        .hidden_spikes
        .iter()
        .find(|&&(_, i)| !seen.insert(i))
        .copied()
        .expect("a hidden neuron spikes twice");
    let (c, p) = profile_of(&ch, second.1);
    let (t1, n1) = ch
        .hidden_spikes
        .iter()
        .filter(|&&(_, i)| profile_of(&ch, i) == (c, p))
        .scan(std::collections::BTreeSet::new(), |seen, &(t, i)| {
            Some((t, i, !seen.insert(i)))
        })
        .find(|&(_, _, again)| again)
        .map(|(t, i, _)| (t, i))
        .unwrap();
    let prof = &mut ch.c.artifact.cores[c].profiles[p];
    assert!(prof.spiking && prof.refractory < longest);
    prof.refractory = longest;
    assert_hidden_differs("a refractory delay", &ch.check(), t1, n1);
}

/// A read-out `decay_v` (the field of the experiment above), through the
/// same harness.
#[test]
fn corrupting_the_readout_decay_makes_a_differ_from_b() {
    let mut ch = chain();
    let (rc, rk) = ch.loc(READOUT, 0);
    let p = ch.c.artifact.cores[rc].cx[rk].profile as usize;
    let prof = &mut ch.c.artifact.cores[rc].profiles[p];
    assert!(!prof.spiking);
    prof.decay_v = (prof.decay_v + 1500) % 4096;
    assert_readout_differs("a read-out decay_v", &ch.check());
}
