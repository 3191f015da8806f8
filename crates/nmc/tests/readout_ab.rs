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

/// Compiles the 16 → 30 → 10 chain for `tiny` (read-out last), runs A and B
/// on 20 steps, applies `mutate` to the emitted artifact and returns the
/// check before and after.
fn mutated(
    mutate: impl Fn(&mut nmc_artifact::Artifact) -> bool,
) -> (nmc::pipeline::ExactCheck, nmc::pipeline::ExactCheck) {
    let t = nmc_target::Target::builtin("tiny").unwrap();
    let mut q = dense_chain(&[16, 30, 10], 7);
    let last = q.populations.len() - 1;
    q.populations[last].compartment.spiking = false;
    let steps = 20;
    let stim = stimulus(steps);
    let mut c = compile_quantized(q, &t, &Default::default()).unwrap();
    let (fixed, _, before) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    assert!(
        fixed.trace.layers.iter().map(|l| l.total()).sum::<u64>() > 0,
        "the chain spikes: the test means something"
    );
    assert!(mutate(&mut c.artifact), "the mutation found its field");
    let (_, _, after) = run_a_and_b(&c, &t, &stim, steps, false).unwrap();
    (before, after)
}

/// Every behaviour-changing field of an emitted artifact is covered by A = B:
/// corrupting one makes the emulator differ from the fixed reference.
#[test]
fn corrupting_any_one_behavioural_field_makes_a_differ_from_b() {
    type Mutation = (&'static str, fn(&mut nmc_artifact::Artifact) -> bool);
    let cases: [Mutation; 6] = [
        ("a read-out decay_v", |a| {
            let p = a.cores.iter_mut().flat_map(|c| &mut c.profiles).find(|p| !p.spiking);
            p.map(|p| p.decay_v = p.decay_v.wrapping_add(1500) % 4096).is_some()
        }),
        ("a weight", |a| {
            // One synapse of every table: its weight negated (a format may keep
            // fewer bits than the mantissa, so small changes can be no change).
            let mut found = false;
            for t in a.cores.iter_mut().flat_map(|c| &mut c.tables) {
                if let Some(s) = t.syns.iter_mut().find(|s| s.mant != 0) {
                    s.mant = -s.mant;
                    found = true;
                }
            }
            found
        }),
        ("a threshold", |a| {
            let p = a
                .cores
                .iter_mut()
                .flat_map(|c| &mut c.profiles)
                .find(|p| p.spiking && p.vth_mant > 1);
            p.map(|p| p.vth_mant /= 2).is_some()
        }),
        ("a bias", |a| {
            let c = a.cores.iter_mut().flat_map(|c| &mut c.cx).next();
            c.map(|c| c.bias_mant += 1000).is_some()
        }),
        ("a refractory delay", |a| {
            let p = a.cores.iter_mut().flat_map(|c| &mut c.profiles).find(|p| p.spiking);
            p.map(|p| p.refractory = p.refractory.saturating_add(4)).is_some()
        }),
        ("a route", |a| {
            // Send the input's first channel to another axon of the same core.
            let r = a.inputs.iter_mut().flat_map(|i| &mut i.routes).flatten().next();
            r.map(|r| r.axon = if r.axon == 0 { 1 } else { 0 }).is_some()
        }),
    ];
    for (what, m) in cases {
        let (before, after) = mutated(m);
        assert!(before.equal, "{what}: the unmutated artifact agrees: {before}");
        assert!(!after.equal, "corrupting {what} must make A ≠ B: {after}");
    }
}
