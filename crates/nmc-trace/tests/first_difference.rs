//! `Trace::first_difference` finds each kind of difference, in the order
//! its documentation gives, and is `None` exactly when the traces are `==`.
#![allow(clippy::unwrap_used)]

use bitvec::vec::BitVec;
use nmc_trace::{
    Difference, LayerTrace, OverflowCounts, OverflowEvent, ReadoutTrace, Register, StructureDifference as S, Trace,
};

const BATCH: usize = 2;
const STEPS: usize = 4;

/// A spiking layer of `n` neurons with a pattern of spikes seeded by `seed`.
fn spiking(name: &str, shape: Vec<usize>, seed: usize) -> LayerTrace {
    let n: usize = shape.iter().product();
    LayerTrace {
        name: name.into(),
        shape,
        spikes: (0..BATCH * STEPS * n)
            .map(|k| (k * 7 + seed).is_multiple_of(5))
            .collect(),
        voltages: None,
        overflows: OverflowCounts::default(),
    }
}

/// A read-out layer of `n` neurons.
fn readout(name: &str, n: usize) -> LayerTrace {
    LayerTrace {
        name: name.into(),
        shape: vec![n],
        spikes: BitVec::repeat(false, BATCH * STEPS * n),
        voltages: Some((0..BATCH * STEPS * n).map(|k| k as i64 * 3 - 20).collect()),
        overflows: OverflowCounts::default(),
    }
}

fn event(step: usize, register: Register) -> OverflowEvent {
    OverflowEvent {
        layer: "h".into(),
        neuron: 2,
        step,
        batch: 1,
        register,
        exact: 1 << 21,
        stored: -(1 << 21),
    }
}

/// Three layers (conv-shaped, dense, read-out), some overflows.
fn trace() -> Trace {
    let mut h = spiking("h", vec![2, 3], 1);
    h.overflows = OverflowCounts {
        q: 3,
        u: 1,
        u_bias: 0,
        v: 2,
    };
    Trace {
        batch: BATCH,
        steps: STEPS,
        layers: vec![h, spiking("g", vec![5], 2), readout("out", 3)],
        readouts: vec![host_readout("logits", 2)],
        first_overflow: Some(event(1, Register::Accumulator)),
    }
}

/// A host readout of `n` elements.
fn host_readout(name: &str, n: usize) -> ReadoutTrace {
    ReadoutTrace {
        name: name.into(),
        shape: vec![n],
        values: (0..BATCH * STEPS * n).map(|k| k as f64 * 0.1 - 0.3).collect(),
    }
}

/// `b`'s first difference from `a`, checking it agrees with `==`.
fn first(a: &Trace, b: &Trace) -> Option<Difference> {
    let d = a.first_difference(b);
    assert_eq!(d.is_none(), a == b, "first_difference and == disagree: {d:?}");
    assert_eq!(a.compare(b).is_equal(), a == b);
    d
}

fn structure(b: &Trace) -> S {
    match first(&trace(), b) {
        Some(Difference::Structure(s)) => s,
        d => panic!("expected a structure difference, got {d:?}"),
    }
}

#[test]
fn equal_traces_have_no_difference() {
    assert_eq!(first(&trace(), &trace()), None);
    let c = trace().compare(&trace());
    assert_eq!(c.bits, (BATCH * STEPS * (6 + 5 + 3)) as u64);
    assert_eq!(c.voltages, (BATCH * STEPS * 3) as u64);
}

#[test]
fn a_flipped_spike_is_found_with_its_place_and_count() {
    let mut b = trace();
    // Layer g (5 neurons): item 1, step 2, neuron 3; and item 0, step 3, neuron 0.
    for at in [(STEPS + 2) * 5 + 3, 3 * 5] {
        let bit = b.layers[1].spikes[at];
        b.layers[1].spikes.set(at, !bit);
    }
    let Some(Difference::Spike(d)) = first(&trace(), &b) else {
        panic!("a spike difference")
    };
    // The earliest step wins, although item 0's difference comes later in memory.
    assert_eq!((d.layer.as_str(), d.batch_item, d.step, d.neuron), ("g", 1, 2, 3));
    assert_eq!(d.a_spiked, trace().layers[1].spikes[(STEPS + 2) * 5 + 3]);
    assert_ne!(d.a_spiked, d.b_spiked);
    assert_eq!(d.differing_bits, 2);
}

#[test]
fn among_equal_steps_the_earlier_layer_is_first() {
    let mut b = trace();
    for (k, n) in [(0, 6), (1, 5)] {
        let at = 2 * n + 1; // item 0, step 2, neuron 1
        let bit = b.layers[k].spikes[at];
        b.layers[k].spikes.set(at, !bit);
    }
    let Some(Difference::Spike(d)) = first(&trace(), &b) else {
        panic!("a spike difference")
    };
    assert_eq!((d.layer.as_str(), d.step, d.neuron, d.differing_bits), ("h", 2, 1, 2));
}

#[test]
fn a_readout_voltage_is_found() {
    let mut b = trace();
    let v = b.layers[2].voltages.as_mut().unwrap();
    v[(STEPS + 1) * 3 + 2] += 1; // item 1, step 1, neuron 2
    v[3 * 3] -= 5; // item 0, step 3, neuron 0
    let Some(Difference::Voltage(d)) = first(&trace(), &b) else {
        panic!("a voltage difference")
    };
    assert_eq!((d.layer.as_str(), d.batch_item, d.step, d.neuron), ("out", 1, 1, 2));
    assert_eq!((d.b - d.a, d.differing), (1, 2));
}

#[test]
fn a_host_readout_value_is_found_by_bits() {
    let mut b = trace();
    let v = &mut b.readouts[0].values;
    v[(STEPS + 2) * 2 + 1] = f64::from_bits(v[(STEPS + 2) * 2 + 1].to_bits() + 1); // item 1, step 2, element 1: one ulp
    v[3 * 2] += 1.0; // item 0, step 3, element 0
    let Some(Difference::Readout(d)) = first(&trace(), &b) else {
        panic!("a readout difference")
    };
    assert_eq!(
        (d.readout.as_str(), d.batch_item, d.step, d.element, d.differing),
        ("logits", 1, 2, 1, 2)
    );
    assert!(d.a != d.b);
    // 0.0 and -0.0 differ by bits; the same NaN bits are equal.
    let mut z = trace();
    z.readouts[0].values[0] = 0.0;
    let mut nz = z.clone();
    nz.readouts[0].values[0] = -0.0;
    assert!(matches!(first(&z, &nz), Some(Difference::Readout(_))));
    let mut n1 = trace();
    n1.readouts[0].values[0] = f64::NAN;
    assert_eq!(first(&n1, &n1.clone()), None);
    // A missing, renamed or reshaped readout is a structure difference.
    let mut b = trace();
    b.readouts.clear();
    assert!(matches!(structure(&b), S::Readouts { index: 0, b: None, .. }));
    let mut b = trace();
    b.readouts[0].shape = vec![1, 2];
    assert!(matches!(structure(&b), S::Readouts { index: 0, .. }));
    let mut b = trace();
    b.readouts[0].values.pop();
    assert!(matches!(
        structure(&b),
        S::Length {
            field: "readout values",
            ..
        }
    ));
    // A readout difference comes after a spike of the same step.
    let mut b = trace();
    b.readouts[0].values[2 * 2] += 1.0; // item 0, step 2
    let at = 2 * 6; // layer h: item 0, step 2, neuron 0
    let bit = b.layers[0].spikes[at];
    b.layers[0].spikes.set(at, !bit);
    assert!(matches!(first(&trace(), &b), Some(Difference::Spike(_))));
}

#[test]
fn each_register_count_is_compared() {
    for r in Register::ALL {
        let mut b = trace();
        b.layers[0].overflows.count(r);
        let Some(Difference::OverflowCount(d)) = first(&trace(), &b) else {
            panic!("{r}: a count difference")
        };
        assert_eq!((d.layer.as_str(), d.register, d.b, d.differing), ("h", r, d.a + 1, 1));
    }
    // u and u + bias are told apart although the reports sum them as "u wraps".
    let mut b = trace();
    b.layers[0].overflows.u -= 1;
    b.layers[0].overflows.u_bias += 1;
    assert_eq!(b.layers[0].overflows.u_wraps(), trace().layers[0].overflows.u_wraps());
    let Some(Difference::OverflowCount(d)) = first(&trace(), &b) else {
        panic!("a count difference")
    };
    assert_eq!((d.register, d.differing), (Register::Current, 2));
}

#[test]
fn the_first_overflow_is_compared_field_by_field() {
    let variants: [fn(&mut OverflowEvent); 5] = [
        |e| e.register = Register::Current,
        |e| e.step += 1,
        |e| e.neuron += 1,
        |e| e.batch = 0,
        |e| e.stored += 1,
    ];
    for change in variants {
        let mut b = trace();
        change(b.first_overflow.as_mut().unwrap());
        let Some(Difference::FirstOverflow(d)) = first(&trace(), &b) else {
            panic!("a first-overflow difference")
        };
        assert_eq!(d.a, trace().first_overflow);
        assert_eq!(d.b, b.first_overflow);
    }
    let mut b = trace();
    b.first_overflow = None;
    let Some(Difference::FirstOverflow(d)) = first(&trace(), &b) else {
        panic!("a first-overflow difference")
    };
    assert_eq!((d.step(), d.b), (1, None));
}

#[test]
fn differences_are_ordered_by_step_then_kind_counts_last() {
    // A spike at step 3, a voltage at step 0, a count: the voltage is first.
    let mut b = trace();
    let bit = b.layers[0].spikes[3 * 6];
    b.layers[0].spikes.set(3 * 6, !bit);
    b.layers[2].voltages.as_mut().unwrap()[0] += 1;
    b.layers[1].overflows.count(Register::Voltage);
    assert!(matches!(first(&trace(), &b), Some(Difference::Voltage(_))));
    // The first overflow's step 1 precedes a spike at step 1 of the same step.
    let mut b = trace();
    let bit = b.layers[0].spikes[6];
    b.layers[0].spikes.set(6, !bit);
    b.first_overflow.as_mut().unwrap().register = Register::Voltage;
    assert!(matches!(first(&trace(), &b), Some(Difference::FirstOverflow(_))));
    let c = trace().compare(&b);
    assert!(
        c.spikes.is_some() && c.first_overflow.is_some(),
        "the comparison keeps both"
    );
    // Counts only when nothing else differs.
    let mut b = trace();
    b.layers[2].overflows.count(Register::Accumulator);
    b.layers[2].voltages.as_mut().unwrap()[BATCH * STEPS * 3 - 1] += 1;
    assert!(matches!(first(&trace(), &b), Some(Difference::Voltage(_))));
}

#[test]
fn structure_missing_extra_reordered_layers() {
    let mut b = trace();
    b.layers.remove(1);
    assert_eq!(
        structure(&b),
        S::MissingLayer {
            layer: "g".into(),
            index: 1
        }
    );
    let mut b = trace();
    b.layers.insert(2, spiking("x", vec![4], 0));
    assert_eq!(
        structure(&b),
        S::ExtraLayer {
            layer: "x".into(),
            index: 2
        }
    );
    let mut b = trace();
    b.layers.push(spiking("tail", vec![1], 0));
    assert!(matches!(structure(&b), S::ExtraLayer { index: 3, .. }));
    let mut b = trace();
    b.layers.swap(0, 1);
    assert_eq!(
        structure(&b),
        S::LayerOrder {
            index: 0,
            a: "h".into(),
            b: "g".into()
        }
    );
    let mut b = trace();
    b.layers.push(spiking("h", vec![2, 3], 1));
    assert!(matches!(structure(&b), S::ExtraLayer { index: 3, .. }), "a duplicate");
}

#[test]
fn structure_shape_kind_batch_steps_lengths() {
    let mut b = trace();
    b.layers[0].shape = vec![3, 2]; // same neurons, another shape
    assert_eq!(
        structure(&b),
        S::Shape {
            layer: "h".into(),
            a: vec![2, 3],
            b: vec![3, 2]
        }
    );
    let mut b = trace();
    b.layers[2].voltages = None;
    assert_eq!(
        structure(&b),
        S::Readout {
            layer: "out".into(),
            a: true,
            b: false
        }
    );
    let mut b = trace();
    b.batch = 1;
    assert_eq!(structure(&b), S::Batch { a: 2, b: 1 });
    let mut b = trace();
    b.steps = 5;
    assert_eq!(structure(&b), S::Steps { a: 4, b: 5 });
    let mut b = trace();
    b.layers[1].spikes.pop();
    assert!(matches!(
        structure(&b),
        S::Length {
            field: "spikes",
            side: "B",
            len: 39,
            expected: 40,
            ..
        }
    ));
    let mut b = trace();
    b.layers[2].voltages.as_mut().unwrap().push(0);
    assert!(matches!(structure(&b), S::Length { field: "voltages", .. }));
    // A structure difference comes before everything else, and stops the comparison.
    let mut b = trace();
    b.layers[0].overflows.count(Register::Voltage);
    b.layers[1].shape = vec![6];
    assert!(matches!(structure(&b), S::Shape { .. }));
    assert_eq!(trace().compare(&b).bits, 0);
}

#[test]
fn reports_name_registers_and_events_as_the_text_does() {
    let e = event(3, Register::CurrentBias);
    assert_eq!(
        e.to_string(),
        "overflow in layer `h`, neuron 2, step 3, batch item 1: register u+bias would be 2097152, the target \
         stores -2097152"
    );
    let j = serde_json::to_value(&e).unwrap();
    assert_eq!(j["register"], "u+bias");
    assert_eq!(j["exact"], 2_097_152);
    let names: Vec<&str> = Register::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names, ["q", "u", "u+bias", "v"]);
}

#[test]
fn trace_accessors_stay_in_range() {
    let t = trace();
    assert_eq!(t.position("out"), Some(2));
    let k = 1;
    let n = 5;
    for (b, s, i) in [(0, 0, 0), (1, 3, 4), (0, 2, 3)] {
        assert_eq!(t.spiked(k, b, s, i), t.layers[k].spikes[(b * STEPS + s) * n + i]);
    }
    assert!(!t.spiked(k, BATCH, 0, 0) && !t.spiked(9, 0, 0, 0) && !t.spiked(k, 0, 0, n));
    assert_eq!(t.voltage(2, 1, 0, 1), Some(((STEPS * 3 + 1) * 3 - 20) as i64));
    assert_eq!(t.voltage(1, 0, 0, 0), None, "a spiking layer has no voltages");
    assert_eq!(t.total_overflows(), 6);
    assert_eq!(t.layers[0].overflows.u_wraps(), 1);
    let listing = t.spike_listing(0);
    let ones: usize = (0..STEPS)
        .map(|s| (0..5).filter(|&i| t.spiked(1, 0, s, i)).count())
        .sum();
    let listed: usize = listing
        .lines()
        .filter(|l| l.contains(": g: "))
        .map(|l| l.rsplit(": ").next().unwrap().split(' ').count())
        .sum();
    assert_eq!(listed, ones);
}
